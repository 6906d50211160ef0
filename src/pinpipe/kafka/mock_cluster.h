// MockCluster: librdkafka's built-in mock Kafka cluster, started in this
// process and reachable by any client (other processes, kcat) through its
// bootstrap address on 127.0.0.1.
//
// For tests, benchmarks and the `kafka_mock_cluster` helper: the mock speaks
// the Kafka protocol (produce, fetch, list offsets, consumer groups, offset
// commits, idempotence) but is not a real broker. It has no controller, so the
// admin API (CreateTopics, DeleteTopics, DescribeConfigs) does not work
// against it: create topics with CreateTopic below.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::kafka {

// Kafka protocol API keys, for injecting errors into a request type.
inline constexpr int16_t kProduceApiKey = 0;
inline constexpr int16_t kFetchApiKey = 1;
inline constexpr int16_t kListOffsetsApiKey = 2;
inline constexpr int16_t kMetadataApiKey = 3;
inline constexpr int16_t kOffsetCommitApiKey = 8;
inline constexpr int16_t kOffsetFetchApiKey = 9;
inline constexpr int16_t kJoinGroupApiKey = 11;
inline constexpr int16_t kHeartbeatApiKey = 12;
inline constexpr int16_t kSyncGroupApiKey = 14;

class MockCluster {
 public:
  // Starts a cluster of `brokers` brokers (ids 1..brokers) on loopback ports.
  static Result<std::unique_ptr<MockCluster>> Start(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..."
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  int brokers() const { return brokers_; }

  // replication_factor 0 = min(3, brokers).
  Status CreateTopic(std::string_view topic, int partitions, int replication_factor = 0);
  // The next `errors.size()` requests of `api_key` (any broker) fail with these errors.
  void PushRequestErrors(int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors);
  void ClearRequestErrors(int16_t api_key);
  // Every request about `topic` fails with `err` until reset with NO_ERROR.
  void SetTopicError(std::string_view topic, rd_kafka_resp_err_t err);
  Status SetPartitionLeader(std::string_view topic, int32_t partition, int32_t broker_id);
  Status SetBrokerDown(int32_t broker_id);
  Status SetBrokerUp(int32_t broker_id);

  // For the rest of rdkafka_mock.h.
  rd_kafka_mock_cluster_t* handle() const { return cluster_; }

 private:
  MockCluster() = default;
  rd_kafka_t* owner_ = nullptr;  // the client handle that hosts the cluster
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_servers_;
  int brokers_ = 0;
};

}  // namespace pinpipe::kafka
