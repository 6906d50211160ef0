// EmbeddedBroker: the broker::Broker interface on the embedded log (src/pinpipe/log),
// the default broker on one machine. Data lives in <general.data_dir>/log.
//
// Produce: records go to their partition, or with kAnyPartition to
// murmur2(key) % partitions like Kafka's default partitioner, and keyless
// records of one Produce call stick to one partition, the next call moving
// on round-robin. Produce returns once the records are durable under the
// topic's fsync policy.
//
// Consumer groups live inside this process: the members of a group share the
// partitions of their subscribed topics by range assignment (Kafka's
// RangeAssignor, per topic, members in join order). Membership changes and
// new topics matching a pattern trigger a rebalance that each member applies
// in its next Poll: first on_revoke for partitions it loses, then on_assign
// for partitions it gains. A gained partition is handed over only once its
// previous owner has revoked it (or has not polled for
// rebalance_timeout_ms), so two members never consume one partition at once.
// A consumer without a group id is alone in a private group and cannot commit.
//
// Ownership: the caller owns the broker; consumers must be destroyed (or
// Closed) before it. Thread-safety: see broker.h.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pinpipe/base/config.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/log/log.h"

namespace pinpipe::embedded {

// Kafka's murmur2 hash (org.apache.kafka.common.utils.Utils.murmur2).
int32_t Murmur2(std::string_view data);
// The partition Kafka's default partitioner picks for `key`.
int32_t PartitionForKey(std::string_view key, int32_t partitions);

// LogOptions from the configuration: dir = <general.data_dir>/log, fsync,
// segment and retention defaults from log.*.
Result<log::LogOptions> LogOptionsFromConfig(const Config& config);

struct EmbeddedBrokerOptions {
  log::LogOptions log;
  int64_t rebalance_timeout_ms = 30'000;
};

class GroupCoordinator;

class EmbeddedBroker final : public broker::Broker {
 public:
  // Opens the log (see log::Log::Open for errors, e.g. Unavailable when
  // another process has the data directory open).
  static Result<std::unique_ptr<EmbeddedBroker>> Open(EmbeddedBrokerOptions options);
  static Result<std::unique_ptr<EmbeddedBroker>> Open(const Config& config);
  ~EmbeddedBroker() override;

  std::string_view Kind() const override { return "embedded"; }
  Status CreateTopic(std::string_view topic, const broker::TopicConfig& config) override;
  Status DeleteTopic(std::string_view topic) override;
  Status CreatePartitions(std::string_view topic, int32_t partitions) override;
  // log::Log::SetTopicSettings: retention and segment limits change live; the
  // fsync policy is fixed while the topic exists.
  Status AlterTopicConfig(std::string_view topic, const broker::TopicConfig& config,
                          bool validate_only) override;
  Result<std::vector<std::string>> ListTopics() override;
  Result<broker::TopicDescription> DescribeTopic(std::string_view topic) override;
  // Metadata is a JSON object in the topic's folder of the log (log::Log::WriteTopicMetadata).
  Status SetTopicMetadata(std::string_view topic, const broker::TopicMetadata& metadata) override;
  Result<broker::TopicMetadata> GetTopicMetadata(std::string_view topic) override;
  Result<std::vector<broker::ProduceAck>> Produce(std::string_view topic,
                                                  std::span<const broker::Record> records) override;
  void ProduceAsync(std::string_view topic, std::span<const broker::Record> records,
                    ProduceCallback done) override;
  bool NonBlockingProduce() const override { return true; }
  Result<broker::FetchResult> Fetch(std::string_view topic, int32_t partition, int64_t offset,
                                    const broker::FetchOptions& options) override;
  // Fetch without the wait and without copying: the records of one
  // partition from `offset` as views into `out` (see log::ReadBuffer).
  Status ReadInto(std::string_view topic, int32_t partition, int64_t offset,
                  const broker::FetchOptions& options, log::ReadBuffer* out);
  Result<int64_t> OffsetForTimestamp(std::string_view topic, int32_t partition,
                                     int64_t timestamp_ms) override;
  Status CommitOffsets(std::string_view group,
                       const std::vector<broker::TopicPartitionOffset>& offsets) override;
  Result<std::vector<broker::TopicPartitionOffset>> FetchCommittedOffsets(
      std::string_view group, std::string_view topic) override;
  // The groups in the log's offset store.
  Result<std::vector<std::string>> ListGroups() override;
  Result<std::unique_ptr<broker::Consumer>> CreateConsumer(
      const broker::ConsumerOptions& options) override;

  log::Log& log() { return *log_; }

 private:
  EmbeddedBroker(std::unique_ptr<log::Log> log, int64_t rebalance_timeout_ms);
  Result<std::shared_ptr<log::Partition>> GetPartition(std::string_view topic, int32_t partition);
  struct Appended;  // what Produce wrote, before durability
  Result<Appended> Append(std::string_view topic, std::span<const broker::Record> records);

  std::unique_ptr<log::Log> log_;
  std::unique_ptr<GroupCoordinator> coordinator_;
  std::mutex sticky_mu_;
  std::map<std::string, int32_t, std::less<>> sticky_;  // next keyless partition per topic
};

}  // namespace pinpipe::embedded
