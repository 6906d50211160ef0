// Broker: the seam between the pipeline and its partitioned log.
//
// The API, sink and stream modules speak only this interface (library
// pinpipe_broker: this header and broker.cc, no implementation). Two
// implementations, each a module of its own: the embedded log
// (embedded::EmbeddedBroker, src/pinpipe/embedded) and Apache Kafka through
// librdkafka (kafka::KafkaBroker, src/pinpipe/kafka). Only attach/ and
// runtime/ (wiring.h) pick one.
//
// Thread-safety: every method of Broker and the Consumer it creates is safe to
// call from many threads at once, except that one Consumer is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::broker {

// Partition chosen by the broker: by key hash when the record has a key,
// else sticky/round-robin.
inline constexpr int32_t kAnyPartition = -1;

struct Header {
  std::string key;
  std::string value;
  bool operator==(const Header&) const = default;
};

// A record to produce.
struct Record {
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: a null value (Kafka tombstone)
  int64_t timestamp_ms = -1;         // -1: the broker stamps the append time
  std::vector<Header> headers;
  int32_t partition = kAnyPartition;
};

// A record as stored and read back.
struct StoredRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
};

// A record read without copying (Consumer::PollRefs): views into memory the
// consumer owns until its next poll.
struct RecordRef {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::span<const std::pair<std::string_view, std::string_view>> headers;
};

// A copy of `ref` that owns its bytes.
StoredRecord ToStoredRecord(const RecordRef& ref);

// Where one produced record went, or why it alone failed.
struct ProduceAck {
  int32_t partition = -1;
  int64_t offset = -1;
  Status error;  // OK when stored
};

struct TopicConfig {
  int32_t partitions = 1;
  // "" = the broker's default. Embedded log: always | interval:<ms> | never.
  std::string fsync;
  int64_t retention_ms = 0;     // 0 = default, -1 = forever
  int64_t retention_bytes = 0;  // 0 = default, -1 = unlimited
  int64_t segment_bytes = 0;    // 0 = default
  int64_t segment_ms = 0;       // 0 = default
};

struct PartitionInfo {
  int32_t partition = 0;
  int64_t log_start_offset = 0;  // first offset still stored
  int64_t high_watermark = 0;    // next offset to be written
  int64_t size_bytes = 0;
  int32_t leader = 0;  // broker id (always 0 for the embedded log)
  std::vector<int32_t> replicas;
};

struct TopicDescription {
  std::string name;
  TopicConfig config;
  std::vector<PartitionInfo> partitions;
};

struct FetchOptions {
  int32_t max_records = 10'000;
  int64_t max_bytes = 10 << 20;
  // Block up to this long when no record at `offset` exists yet (long poll).
  int64_t wait_ms = 0;
};

struct FetchResult {
  std::vector<StoredRecord> records;
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// `offset` is the next offset to consume (Kafka's convention).
struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  bool operator==(const TopicPartitionOffset&) const = default;
};

enum class OffsetReset { kEarliest, kLatest };

struct ConsumerOptions {
  std::string group;                           // consumer group id; offsets are committed under it
  OffsetReset reset = OffsetReset::kEarliest;  // where to start without a committed offset
  std::string client_id;
};

// Called around partition (re)assignment. on_revoke runs before the consumer
// loses partitions, so the owner can flush and commit what it has done.
struct RebalanceListener {
  std::function<void(const std::vector<TopicPartition>&)> on_assign;
  std::function<void(const std::vector<TopicPartition>&)> on_revoke;
};

// Metadata that a user of the broker keeps with a topic (e.g. the Kinesis
// API's stream status and creation time): a few small string pairs, seen by
// every process that shares the broker, deleted with the topic.
using TopicMetadata = std::map<std::string, std::string>;

// A member of a consumer group: the group's partitions of the subscribed
// topics are shared among its members.
class Consumer {
 public:
  virtual ~Consumer() = default;
  // Topics by name, or a regular expression (ECMAScript) over topic names when
  // `is_pattern`; topics created later that match are picked up.
  virtual Status Subscribe(const std::vector<std::string>& topics, bool is_pattern = false) = 0;
  virtual void SetRebalanceListener(RebalanceListener listener) = 0;
  // Up to max_records from the assigned partitions, waiting up to timeout_ms
  // when none are ready. Records of one partition come in offset order.
  virtual Result<std::vector<StoredRecord>> Poll(int32_t max_records, int64_t timeout_ms) = 0;
  // Poll without copying the records: the views stay valid until the next
  // Poll, PollRefs or Close of this consumer. The embedded log's consumer
  // hands out views of the batches it read; a consumer whose Poll copies
  // anyway can answer with a PolledRecords (below).
  virtual Result<std::span<const RecordRef>> PollRefs(int32_t max_records, int64_t timeout_ms) = 0;
  // Commits next-offsets for the group (synchronously, durably).
  virtual Status Commit(const std::vector<TopicPartitionOffset>& offsets) = 0;
  virtual Result<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions) = 0;
  // Moves the read position of an assigned partition.
  virtual Status Seek(const TopicPartition& tp, int64_t offset) = 0;
  virtual std::vector<TopicPartition> Assignment() = 0;
  // Leaves the group; partitions move to the remaining members.
  virtual Status Close() = 0;
};

// Records one Poll returned, kept so that RecordRefs can point into them: what
// a Consumer whose Poll copies returns from PollRefs. Not thread-safe.
class PolledRecords {
 public:
  // Takes `records` (dropping the previous ones, invalidating their views) and
  // returns views of them, in order.
  std::span<const RecordRef> Hold(std::vector<StoredRecord> records);

 private:
  std::vector<StoredRecord> records_;
  std::vector<std::pair<std::string_view, std::string_view>> headers_;
  std::vector<RecordRef> refs_;
};

class Broker {
 public:
  virtual ~Broker() = default;

  // "embedded" or "kafka".
  virtual std::string_view Kind() const = 0;

  // AlreadyExists if present; InvalidArgument for a bad name or config.
  virtual Status CreateTopic(std::string_view topic, const TopicConfig& config) = 0;
  virtual Status DeleteTopic(std::string_view topic) = 0;
  // Grows `topic` to `partitions` partitions; existing ones keep their data.
  // NotFound; InvalidArgument unless it has fewer now. Unimplemented by
  // default (a broker that cannot add partitions).
  virtual Status CreatePartitions(std::string_view topic, int32_t partitions) {
    (void)topic;
    (void)partitions;
    return UnimplementedError("this broker cannot add partitions");
  }
  // Replaces the per-topic settings of `topic` with `config` (0 / "" = the
  // broker's default; `partitions` is ignored), durably, applied to the live
  // topic (Kafka's AlterConfigs). NotFound; InvalidArgument for a bad value
  // or a setting this broker cannot change on a live topic (the message says
  // which). `validate_only`: checks and changes nothing. Unimplemented by
  // default (a broker that cannot alter topic settings).
  virtual Status AlterTopicConfig(std::string_view topic, const TopicConfig& config,
                                  bool validate_only) {
    (void)topic;
    (void)config;
    (void)validate_only;
    return UnimplementedError("this broker cannot alter topic settings");
  }
  virtual Result<std::vector<std::string>> ListTopics() = 0;
  // NotFound for an unknown topic.
  virtual Result<TopicDescription> DescribeTopic(std::string_view topic) = 0;

  // Replaces the metadata of `topic`, durably (NotFound for an unknown topic).
  // Writers of one topic's metadata are expected not to race (last one wins).
  virtual Status SetTopicMetadata(std::string_view topic, const TopicMetadata& metadata) = 0;
  // The metadata of `topic`, empty when it has none; NotFound for an unknown topic.
  virtual Result<TopicMetadata> GetTopicMetadata(std::string_view topic) = 0;

  // Appends `records` (each to its `partition`, or kAnyPartition) and returns
  // once they are durable under the topic's policy. One ack per record, in
  // order. Records for one partition keep their relative order. A Status is
  // returned only when nothing was stored (unknown topic, bad partition, ...).
  virtual Result<std::vector<ProduceAck>> Produce(std::string_view topic,
                                                  std::span<const Record> records) = 0;

  // Produce for callers that must not block (the HTTP API's I/O threads):
  // takes `records` before it returns and calls `done` exactly once with what
  // Produce would have returned, inline or later on another thread. The
  // default runs Produce inline; brokers whose ProduceAsync never blocks on
  // durability say so with NonBlockingProduce().
  using ProduceCallback = std::function<void(Result<std::vector<ProduceAck>>)>;
  virtual void ProduceAsync(std::string_view topic, std::span<const Record> records,
                            ProduceCallback done) {
    done(Produce(topic, records));
  }
  virtual bool NonBlockingProduce() const { return false; }

  // Reads records of one partition starting at `offset`. OutOfRange when
  // offset is below log_start_offset or above the high watermark.
  virtual Result<FetchResult> Fetch(std::string_view topic, int32_t partition, int64_t offset,
                                    const FetchOptions& options) = 0;

  // The first offset whose timestamp is >= timestamp_ms (the high watermark if none).
  virtual Result<int64_t> OffsetForTimestamp(std::string_view topic, int32_t partition,
                                             int64_t timestamp_ms) = 0;

  // Group offsets without group membership (admin / simple consumers).
  virtual Status CommitOffsets(std::string_view group,
                               const std::vector<TopicPartitionOffset>& offsets) = 0;
  // Committed offsets of `group` for `topic` (partitions without one are absent).
  virtual Result<std::vector<TopicPartitionOffset>> FetchCommittedOffsets(
      std::string_view group, std::string_view topic) = 0;

  // The consumer groups with committed offsets, sorted (Kafka lists such
  // groups as Empty when no member is joined). Unimplemented by default.
  virtual Result<std::vector<std::string>> ListGroups() {
    return UnimplementedError("this broker cannot list consumer groups");
  }

  virtual Result<std::unique_ptr<Consumer>> CreateConsumer(const ConsumerOptions& options) = 0;
};

}  // namespace pinpipe::broker
