// Service: the whole ingestion API behind one http handler. It checks API
// keys, routes a request to the Kafka REST v2 handlers (/topics, /consumers),
// the Kinesis API Gateway routes (/streams), the native Kinesis protocol
// (POST / with X-Amz-Target) or the operational routes (/healthz, /metrics),
// and counts every request (including unreadable ones) in the metrics.
//
// Owned by the program that serves (apps/pinpipe/cmd_serve.cc); it borrows the
// Broker and Clock, which must outlive it.
//
// Two ways in: Handle answers before it returns (blocking while a produce
// waits for durability); HandleAsync never blocks its caller when the broker
// produces without blocking: produce requests wait for their group commit in
// the broker's callback, every other request runs through the offloader.
//
// Thread-safety: Handle, HandleAsync and HandleError may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/api/deferral.h"
#include "pinpipe/api/kafka_rest.h"
#include "pinpipe/api/kinesis.h"
#include "pinpipe/api/metrics.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/base/config.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/http/server.h"

namespace pinpipe::api {

struct ServiceOptions {
  // When non-empty, every request except GET /healthz needs one of these in
  // `x-api-key` or `Authorization: Bearer <key>`.
  std::vector<std::string> api_keys;
  KafkaRestOptions kafka;
  KinesisOptions kinesis;
};

// Reads the api.* keys (and general.data_dir) into ServiceOptions.
Result<ServiceOptions> ServiceOptionsFromConfig(const Config& config);

class Service {
 public:
  Service(broker::Broker& broker, Clock& clock, ServiceOptions options);

  // Loads persisted state (stream metadata, iterator key).
  Status Open();

  // The http::Handler.
  void Handle(http::Request& request, http::Response& response);
  // The http::AsyncHandler, for an I/O thread.
  void HandleAsync(http::Request request, http::Responder respond);
  // Where HandleAsync runs requests that may block (e.g. http::Server::Offload);
  // unset, it runs them inline. Set before serving.
  void SetOffloader(std::function<void(std::function<void()>)> offload);
  // The http::ErrorHandler: unreadable requests get the API's own error body.
  void HandleError(int status, std::string_view reason, const http::Request& request,
                   http::Response& response);

  Metrics& metrics() { return metrics_; }
  // Adds pinpipe_http_open_connections from `source` to /metrics.
  void SetConnectionGauge(std::function<int64_t()> source);

 private:
  // "" when allowed; else writes the 401/403 response and returns the route.
  bool Authorized(const http::Request& request, http::Response& response);
  // Routes `request` and answers through `respond` (now or, for a deferred
  // produce, from the broker's callback).
  void Dispatch(http::Request& request, http::Responder respond);
  std::string_view Route(http::Request& request, http::Response& response, Deferral& later);

  broker::Broker& broker_;
  Clock& clock_;
  ServiceOptions options_;
  std::function<void(std::function<void()>)> offload_;
  Metrics metrics_;
  KafkaRest kafka_;
  Kinesis kinesis_;
};

// Which API a path belongs to, for error bodies: kafka, kinesis or plain.
enum class ApiKind { kKafka, kKinesis, kPlain };
ApiKind ApiKindFor(const http::Request& request);

}  // namespace pinpipe::api
