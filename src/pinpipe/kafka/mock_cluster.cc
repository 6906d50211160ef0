#include "pinpipe/kafka/mock_cluster.h"

#include <string>

#include "pinpipe/kafka/kafka_errors.h"

namespace pinpipe::kafka {

Result<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1) return InvalidArgumentError("mock cluster needs at least one broker");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The hosting handle never talks to a cluster itself; silence its warning
  // about the missing bootstrap.servers.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InternalError(std::string("mock cluster: ") + err);
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    rd_kafka_destroy(rk);
    return InternalError("mock cluster: rd_kafka_mock_cluster_new failed");
  }
  std::unique_ptr<MockCluster> mock(new MockCluster());
  mock->owner_ = rk;
  mock->cluster_ = cluster;
  mock->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster);
  mock->brokers_ = brokers;
  return mock;
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (owner_ != nullptr) rd_kafka_destroy(owner_);
}

Status MockCluster::CreateTopic(std::string_view topic, int partitions, int replication_factor) {
  if (topic.empty()) return InvalidArgumentError("topic name is empty");
  if (partitions < 1) return InvalidArgumentError("partitions must be >= 1");
  if (replication_factor <= 0) replication_factor = brokers_ < 3 ? brokers_ : 3;
  std::string name(topic);
  return KafkaStatus(
      rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, replication_factor),
      "mock create topic " + name);
}

void MockCluster::PushRequestErrors(int16_t api_key,
                                    const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
}

void MockCluster::ClearRequestErrors(int16_t api_key) {
  rd_kafka_mock_clear_request_errors(cluster_, api_key);
}

void MockCluster::SetTopicError(std::string_view topic, rd_kafka_resp_err_t err) {
  std::string name(topic);
  rd_kafka_mock_topic_set_error(cluster_, name.c_str(), err);
}

Status MockCluster::SetPartitionLeader(std::string_view topic, int32_t partition,
                                       int32_t broker_id) {
  std::string name(topic);
  return KafkaStatus(
      rd_kafka_mock_partition_set_leader(cluster_, name.c_str(), partition, broker_id),
      "mock set leader");
}

Status MockCluster::SetBrokerDown(int32_t broker_id) {
  return KafkaStatus(rd_kafka_mock_broker_set_down(cluster_, broker_id), "mock broker down");
}

Status MockCluster::SetBrokerUp(int32_t broker_id) {
  return KafkaStatus(rd_kafka_mock_broker_set_up(cluster_, broker_id), "mock broker up");
}

}  // namespace pinpipe::kafka
