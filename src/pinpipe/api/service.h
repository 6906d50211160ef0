// Service: the whole ingestion API behind one http handler. It checks API
// keys (or, with [[tenants]] configured, who the caller is, whether the name
// it touches is in the caller's scope and whether it is within its quota), routes a request to the
// Kafka REST v2 handlers (/topics, /consumers), the Kinesis API Gateway routes (/streams), the
// native Kinesis protocol (POST / with X-Amz-Target) or the operational routes (/healthz,
// /metrics), and counts every request (including unreadable ones) in the metrics.
//
// Owned by the program that serves (runtime/serve.cc, runtime/pipeline.cc); it borrows the
// Broker and the options' Clock, which must outlive it.
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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/api/deferral.h"
#include "pinpipe/api/kafka_rest.h"
#include "pinpipe/api/kinesis.h"
#include "pinpipe/api/metrics.h"
#include "pinpipe/auth/tenants.h"
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
  // The tenants (from the config file's [[tenants]]); an empty set means
  // single-user mode (api_keys above, or no auth). Never null.
  std::shared_ptr<auth::Registry> tenants = std::make_shared<auth::Registry>();
  // nullptr: Clock::Real(). The Kafka REST and Kinesis handlers run on it too
  // (it replaces kafka.clock and kinesis.clock).
  Clock* clock = nullptr;
};

// Reads the api.* keys (and general.data_dir) into ServiceOptions, and the
// [[tenants]] of the config file (with secrets from files and the environment).
Result<ServiceOptions> ServiceOptionsFromConfig(const Config& config);

class Service {
 public:
  Service(broker::Broker& broker, ServiceOptions options);

  // Sets up the Kinesis iterator key and moves an older stream catalog into the broker.
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
  // The tenants in force; Swap a new snapshot in to reload (SIGHUP).
  auth::Registry& tenants() { return *options_.tenants; }
  // The per-tenant ingest quotas (shared with the Kafka protocol server).
  auth::QuotaLimiter& quotas() { return quotas_; }

  // Who sent a request, for routes served beside the API (the dashboard).
  struct Caller {
    std::shared_ptr<const auth::TenantSet> snapshot;  // keeps `tenant` alive
    const auth::Tenant* tenant = nullptr;             // nullptr: tenants are off
  };
  // With tenants on: the caller's tenant by API key, or nullopt after writing
  // the refusal (401/403) into `response`. With tenants off: a Caller without
  // a tenant when api_keys allow the request (everything is visible).
  std::optional<Caller> Identify(const http::Request& request, http::Response& response);
  // Adds pinpipe_http_open_connections from `source` to /metrics.
  void SetConnectionGauge(std::function<int64_t()> source);

 private:
  // "" when allowed; else writes the 401/403 response and returns the route.
  bool Authorized(const http::Request& request, http::Response& response);
  // Routes `request` and answers through `respond` (now or, for a deferred
  // produce, from the broker's callback).
  void Dispatch(http::Request& request, http::Responder respond);
  std::string_view Route(http::Request& request, http::Response& response, Deferral& later);
  // The tenant of `request` (API key, or SigV4 for native Kinesis), or
  // nullptr after writing the API's own refusal.
  const auth::Tenant* Authenticate(const auth::TenantSet& set, const http::Request& request,
                                   http::Response& response);
  // Whether every name `request` touches is in the tenant's scope; else
  // writes the API's access-denied answer. Nothing has been read or stored.
  bool Permitted(const auth::Tenant& tenant, const http::Request& request,
                 http::Response& response);
  // Whether an ingest request fits the tenant's quota; else writes the API's
  // throttling answer (REST 429 + Retry-After, Kinesis
  // ProvisionedThroughputExceededException).
  bool WithinQuota(const auth::Tenant& tenant, const http::Request& request,
                   http::Response& response);

  broker::Broker& broker_;
  ServiceOptions options_;
  Clock* clock_;  // options_.clock resolved
  std::function<void(std::function<void()>)> offload_;
  Metrics metrics_;
  auth::QuotaLimiter quotas_;
  KafkaRest kafka_;
  Kinesis kinesis_;
};

// Which API a path belongs to, for error bodies: kafka, kinesis or plain.
enum class ApiKind { kKafka, kKinesis, kPlain };
ApiKind ApiKindFor(const http::Request& request);

}  // namespace pinpipe::api
