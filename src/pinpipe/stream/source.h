// StreamSource: where the streaming job reads a stream's records from, shard
// by shard, by position. Implementations: BrokerStreamSource (a topic of the
// embedded log or Kafka, shards = partitions) and KinesisStreamSource (Amazon
// Kinesis or any Kinesis-compatible endpoint, through the JSON 1.1 API).
//
// A Position is an opaque, serialisable cursor: "everything up to here has
// been consumed". Reading from the same position twice returns the same
// records (the log is immutable), which is what lets a micro-batch be
// replayed exactly after a crash.
//
// Thread-safety: one source is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/status.h"

namespace pinpipe::broker {
class Broker;
}

namespace pinpipe::stream {

enum class InitialPosition { kEarliest, kLatest };

struct SourceRecord {
  std::string data;        // the record's bytes (JSON text of the post)
  int64_t arrival_ms = 0;  // when the stream accepted it
  std::string position;    // the position just after this record
};

struct ShardRead {
  std::vector<SourceRecord> records;
  std::string next_position;  // position after the last record returned
  int64_t millis_behind = 0;  // how far the newest returned record is from the tip
};

class StreamSource {
 public:
  virtual ~StreamSource() = default;
  virtual const std::string& stream() const = 0;
  virtual Result<std::vector<std::string>> Shards() = 0;
  // The concrete position a new reader of `shard` starts at, resolving the
  // initial position (earliest / latest) against the stream as it is now.
  virtual Result<std::string> StartPosition(const std::string& shard, InitialPosition initial) = 0;
  // Up to `max_records` after `position`, stopping early at `until` (a
  // position; "" = no limit). Waits up to wait_ms when nothing is there yet.
  virtual Result<ShardRead> Read(const std::string& shard, const std::string& position,
                                 const std::string& until, int max_records, int64_t wait_ms) = 0;
};

// Shards are partitions named "0", "1", ...; positions are next offsets.
// `clock` (nullptr: Clock::Real(); must outlive the source) is what a read's
// millis_behind is measured against.
std::unique_ptr<StreamSource> NewBrokerStreamSource(broker::Broker& broker, std::string topic,
                                                    Clock* clock = nullptr);

struct KinesisOptions {
  std::string endpoint;  // e.g. https://kinesis.us-east-1.amazonaws.com or http://127.0.0.1:4567
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string session_token;
};

// Shards are Kinesis shard ids; positions are "trim", "at:<ms>" or
// "after:<sequence number>". `clock` (nullptr: Clock::Real(); must outlive
// the source) pins `latest` to "at:<now>" and times a read's wait and polls.
Result<std::unique_ptr<StreamSource>> NewKinesisStreamSource(const KinesisOptions& options,
                                                             std::string stream,
                                                             Clock* clock = nullptr);

}  // namespace pinpipe::stream
