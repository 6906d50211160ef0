// MemoryBroker: a broker::Broker held entirely in memory, for unit tests and
// fuzzing (test-only: library pinpipe_testing, never in the binary). It keeps
// the records of each partition in a vector; nothing is persisted. Consumers
// see every partition of their subscribed topics (no group sharing) and
// commit into the broker's group offset table. Produce can be made to fail.
//
// Thread-safety: all methods are safe to call concurrently (one mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/broker/broker.h"

namespace pinpipe::testing {

class MemoryBroker final : public broker::Broker {
 public:
  // Record timestamps come from `clock` (nullptr: Clock::Real()), which must outlive the broker.
  explicit MemoryBroker(Clock* clock = nullptr)
      : clock_(clock != nullptr ? clock : &Clock::Real()) {}

  std::string_view Kind() const override { return "memory"; }
  Status CreateTopic(std::string_view topic, const broker::TopicConfig& config) override;
  Status DeleteTopic(std::string_view topic) override;
  // Replaces the stored config (partitions kept); negative values other than
  // -1 for retention are InvalidArgument.
  Status AlterTopicConfig(std::string_view topic, const broker::TopicConfig& config,
                          bool validate_only) override;
  Result<std::vector<std::string>> ListTopics() override;
  Result<broker::TopicDescription> DescribeTopic(std::string_view topic) override;
  Status SetTopicMetadata(std::string_view topic, const broker::TopicMetadata& metadata) override;
  Result<broker::TopicMetadata> GetTopicMetadata(std::string_view topic) override;
  Result<std::vector<broker::ProduceAck>> Produce(std::string_view topic,
                                                  std::span<const broker::Record> records) override;
  Result<broker::FetchResult> Fetch(std::string_view topic, int32_t partition, int64_t offset,
                                    const broker::FetchOptions& options) override;
  Result<int64_t> OffsetForTimestamp(std::string_view topic, int32_t partition,
                                     int64_t timestamp_ms) override;
  Status CommitOffsets(std::string_view group,
                       const std::vector<broker::TopicPartitionOffset>& offsets) override;
  Result<std::vector<broker::TopicPartitionOffset>> FetchCommittedOffsets(
      std::string_view group, std::string_view topic) override;
  // Groups with a committed offset, sorted.
  Result<std::vector<std::string>> ListGroups() override;
  Result<std::unique_ptr<broker::Consumer>> CreateConsumer(
      const broker::ConsumerOptions& options) override;

  // Fault injection: while set (not OK), Produce fails with it and stores nothing.
  void SetProduceError(Status status);
  // Number of Produce calls that stored something.
  int64_t produce_calls() const;

 private:
  struct Topic {
    broker::TopicConfig config;
    broker::TopicMetadata metadata;
    std::vector<std::vector<broker::StoredRecord>> partitions;
    int64_t round_robin = 0;
  };
  Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, Topic, std::less<>> topics_;
  std::map<std::pair<std::string, std::string>, std::map<int32_t, int64_t>> committed_;
  Status produce_error_;
  int64_t produce_calls_ = 0;
};

}  // namespace pinpipe::testing
