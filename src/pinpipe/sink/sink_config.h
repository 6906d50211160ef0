// SinkConfig: the S3 sink connector's configuration, by its own property names.
//
// A user can paste their Confluent S3 sink connector properties; keys the
// sink does not need (connector.class, tasks.max, key.converter, ...) are
// accepted and ignored, keys it does need are validated. Without a
// properties file, FromPinpipeConfig builds the same from the sink.* keys.
//
// Thread-safety: a value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/base/timezone.h"
#include "pinpipe/sink/properties.h"

namespace pinpipe {
class Config;
}

namespace pinpipe::sink {

enum class PartitionerKind { kDefault, kTimeBased, kField };
enum class TimestampExtractorKind { kWallclock, kRecord, kRecordField };
enum class Compression { kNone, kGzip };
enum class ErrorTolerance { kNone, kAll };
enum class NullValues { kFail, kIgnore };

struct SinkConfig {
  std::string name = "pinpipe-sink";  // consumer group connect-<name>
  std::vector<std::string> topics;    // either topics ...
  std::string topics_regex;           // ... or topics.regex
  std::string topics_dir = "topics";
  int64_t flush_size = 1000;
  int64_t rotate_interval_ms = -1;           // record time; -1 = off
  int64_t rotate_schedule_interval_ms = -1;  // wall clock; -1 = off
  // Records per poll: Kafka Connect's per-connector consumer override
  // `consumer.override.max.poll.records`. A poll's objects are written
  // together, while the next polls are processed.
  int32_t max_poll_records = 10'000;

  PartitionerKind partitioner = PartitionerKind::kDefault;
  std::string path_format;  // Joda-style, e.g. 'year'=YYYY/'month'=MM
  int64_t partition_duration_ms = -1;
  // `timezone`: UTC, a fixed offset ("+05:30", "UTC-03:00") or an IANA name
  // ("America/New_York", with its daylight-saving rules).
  std::string timezone = "UTC";
  TimeZone zone = TimeZone::Utc();
  TimestampExtractorKind timestamp_extractor = TimestampExtractorKind::kWallclock;
  std::string timestamp_field;                // for RecordField (dotted path)
  std::vector<std::string> partition_fields;  // for FieldPartitioner

  Compression compression = Compression::kNone;
  int compression_level = -1;  // zlib default
  int offset_zero_pad_width = 10;

  // Where objects go when pinpipe's lake.url is an s3:// URL without a bucket.
  std::string s3_bucket;
  std::string s3_region;
  std::string store_url;  // endpoint override

  ErrorTolerance errors_tolerance = ErrorTolerance::kNone;
  std::string dead_letter_topic;
  NullValues null_values = NullValues::kFail;

  std::string group() const { return "connect-" + name; }
  std::string extension() const { return compression == Compression::kGzip ? ".json.gz" : ".json"; }

  // From connector properties. InvalidArgument names the offending key.
  static Result<SinkConfig> FromProperties(const Properties& props);
  // From pinpipe's own config (sink.* keys, general.prefix), or from the
  // properties file named by sink.config when set. `more_prefixes` (the
  // tenants' prefixes of a shared pipeline) are sunk beside general.prefix.
  static Result<SinkConfig> FromPinpipeConfig(const Config& config,
                                              const std::vector<std::string>& more_prefixes = {});
};

// Parses "UTC", "GMT", "Z", "Etc/UTC", "+05:30", "UTC-03:00" into an offset.
Result<int64_t> ParseTimezoneOffsetMs(std::string_view tz);
// The `timezone` property: a fixed offset as ParseTimezoneOffsetMs reads
// it, or an IANA zone name. InvalidArgument for anything else.
Result<TimeZone> LoadSinkTimeZone(std::string_view tz);

}  // namespace pinpipe::sink
