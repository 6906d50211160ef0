// KafkaRest: the Confluent Kafka REST Proxy v2 API on top of the Broker:
// produce (json and binary embedded formats, to a topic or one partition),
// topic and partition metadata, and the v2 consumer API (instances,
// subscriptions, records, offsets). Response bodies, content types and error
// codes follow kafka-rest (see spec/apis.md §1).
//
// A produce request is validated completely before anything is appended, all
// its records go to the broker in one Produce call, and the response is sent
// only once the broker reports them durable.
//
// Thread-safety: Handle may be called from many threads at once. One consumer
// instance serves one request at a time (its own mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pinpipe/api/deferral.h"
#include "pinpipe/api/metrics.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/http/server.h"

namespace pinpipe::api {

struct KafkaRestOptions {
  bool auto_create_topics = true;
  int32_t default_partitions = 1;
  // Consumer instances idle longer than this are closed.
  int64_t consumer_instance_timeout_ms = 5 * 60 * 1000;
  // Default and ceiling of GET .../records?timeout=.
  int64_t consumer_request_timeout_ms = 1000;
  int64_t consumer_max_timeout_ms = 30'000;
  Clock* clock = nullptr;  // nullptr: Clock::Real(); instance expiry and timestamps
};

class KafkaRest {
 public:
  KafkaRest(broker::Broker& broker, Metrics& metrics, KafkaRestOptions options);
  ~KafkaRest();

  // Handles /topics... and /consumers... ; returns the route name for
  // metrics, or "" when the path is not one of these routes. GET /topics
  // lists only the names `visible` accepts (all when it is empty).
  std::string_view Handle(http::Request& request, http::Response& response, Deferral& later,
                          const NameFilter& visible = {});

  // Open consumer instances whose group `in_scope` accepts (per-tenant caps).
  int64_t CountInstances(const NameFilter& in_scope);

  // Forgets the cached partition count of `topic` (after it was deleted).
  void Forget(std::string_view topic);

 private:
  struct Instance;

  // Validates and produces; answers later through `later` once the records
  // are durable (or now, into `response`, when the request is refused).
  void Produce(http::Request& request, std::string_view topic, int32_t partition,
               http::Response& response, Deferral& later);
  // The produce answer for the broker's acks.
  void ProduceResponse(std::string_view topic, const Result<std::vector<broker::ProduceAck>>& acks,
                       int64_t bytes, http::Response& response);
  void ListTopics(http::Response& response, const NameFilter& visible);
  // The topic's description, or nullopt after answering 40401 (or the
  // broker's error) into `response`.
  std::optional<broker::TopicDescription> DescribeOrAnswer(std::string_view topic,
                                                           http::Response& response);
  void DescribeTopic(std::string_view topic, http::Response& response);
  void ListPartitions(std::string_view topic, http::Response& response);
  void DescribePartition(std::string_view topic, std::string_view partition,
                         http::Response& response);
  std::string_view Consumers(http::Request& request, std::string_view rest,
                             http::Response& response);

  // Partition count of `topic`, creating it when allowed. NotFound otherwise.
  Result<int32_t> Partitions(std::string_view topic, bool create);
  std::shared_ptr<Instance> FindInstance(std::string_view group, std::string_view name);
  void ExpireInstances();

  broker::Broker& broker_;
  Metrics& metrics_;
  KafkaRestOptions options_;
  Clock* clock_;  // options_.clock resolved

  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, int32_t> partitions_;

  std::mutex instances_mu_;
  std::map<std::string, std::shared_ptr<Instance>, std::less<>> instances_;  // "group/name"
  int64_t next_instance_ = 0;
};

// Kafka's legal topic names: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
bool ValidTopicName(std::string_view name);

}  // namespace pinpipe::api
