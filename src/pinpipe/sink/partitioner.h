// Partitioners and timestamp extractors: where in the lake a record's file goes.
//
// Mirrors the S3 sink connector: DefaultPartitioner ("partition=<p>"),
// FieldPartitioner ("<field>=<value>[/<field>=<value>...]") and
// TimeBasedPartitioner (a Joda-style path.format applied to the record's
// timestamp floored to partition.duration.ms in the configured timezone).
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/base/timezone.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/sink/sink_config.h"

namespace simdjson::dom {
class element;
}

namespace pinpipe::sink {

// A compiled Joda-style format: 'literal' text, y/Y (year), M (month),
// d (day of month), H (hour), m (minute), s (second), S (millisecond),
// D (day of year); a run of letters pads to its length (yy = 2-digit year).
class PathFormat {
 public:
  static Result<PathFormat> Compile(std::string_view pattern);
  // Formats `epoch_ms` shifted by `offset_ms` (the timezone).
  std::string Format(int64_t epoch_ms, int64_t offset_ms) const;

 private:
  struct Token {
    char field = 0;  // 0 = literal
    int width = 0;
    std::string literal;
  };
  std::vector<Token> tokens_;
};

// Parses the timestamps found in record fields as text: ParseTimestampMicros
// (pinpipe/base/datetime.h) with a date alone and short offsets allowed, in
// milliseconds (rounded down). InvalidArgument for anything else.
Result<int64_t> ParseTimestampText(std::string_view text);

class Partitioner {
 public:
  // Validates the configuration (path.format etc.).
  static Result<std::unique_ptr<Partitioner>> Create(const SinkConfig& config);

  // The timestamp used for time-based partitioning and rotate.interval.ms.
  // `value` is the parsed record value (may be null for a null record).
  Result<int64_t> ExtractTimestamp(const broker::RecordRef& record,
                                   const simdjson::dom::element* value, int64_t now_ms) const;

  // The encoded partition, e.g. "partition=0" or "year=2024/month=01".
  Result<std::string> Encode(const broker::RecordRef& record, const simdjson::dom::element* value,
                             int64_t now_ms) const;

  bool uses_timestamp() const { return config_.partitioner == PartitionerKind::kTimeBased; }

 private:
  explicit Partitioner(const SinkConfig& config) : config_(config) {}
  SinkConfig config_;
  std::optional<PathFormat> format_;
};

// Offset of `zone` from UTC at `utc_ms`, in milliseconds.
int64_t ZoneOffsetMs(const TimeZone& zone, int64_t utc_ms);
// The connector's TimeBasedPartitioner.getPartition: `ts_ms` floored to
// `duration_ms` in local time of `zone`, returned as a UTC instant. A floored
// local time that does not exist (a daylight-saving gap) maps to the end of
// the gap; a repeated one to its first occurrence.
int64_t TimeBucket(int64_t ts_ms, int64_t duration_ms, const TimeZone& zone);
// The connector's next rotate.schedule.interval.ms boundary after `now_ms`:
// whole intervals counted from the start of the local day in `zone`.
int64_t NextScheduledRotation(int64_t now_ms, int64_t interval_ms, const TimeZone& zone);

// "<topics.dir>/<topic>/<encoded>/<topic>+<partition>+<zero-padded offset><ext>"
std::string ObjectKey(const SinkConfig& config, std::string_view topic, int32_t partition,
                      std::string_view encoded_partition, int64_t start_offset);

}  // namespace pinpipe::sink
