// Pipeline: everything `pinpipe up` runs in one process — the HTTP API (Kafka
// REST + Kinesis + dashboard), the broker, the sink, the streaming job and the
// scheduler with the daily batch DAG — each switchable off by configuration.
// It owns all of them and stops them in dependency order. RunUp is the whole
// `pinpipe up` command: start, print where everything is, wait for a stop
// signal, stop.
//
// Thread-safety: Start and Stop from one thread; Status and the accessors
// from any once Start returned.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "pinpipe/api/service.h"
#include "pinpipe/base/config.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/http/server.h"
#include "pinpipe/kafka_api/server.h"
#include "pinpipe/live/answers.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/runtime/signals.h"
#include "pinpipe/runtime/status.h"
#include "pinpipe/schedule/scheduler.h"
#include "pinpipe/sink/sink.h"
#include "pinpipe/stream/job.h"
#include "pinpipe/web/dashboard.h"

namespace pinpipe::runtime {

class Pipeline {
 public:
  explicit Pipeline(Config config);
  ~Pipeline();

  // Checks the configuration (checks.h), then opens and starts every enabled
  // part; creates missing topics, the store folder and tables. On error,
  // whatever started is stopped again.
  Status Start();
  // Stops accepting requests, finishes those in flight, flushes and commits
  // the sink and the streaming job, stops the scheduler, closes the log.
  void Stop();

  int port() const;
  // The tenants the API and the dashboard check (swap to reload).
  auth::Registry* tenants() { return &service_->tenants(); }
  // Re-reads the TLS certificates of the HTTP and Kafka listeners (SIGHUP).
  void ReloadTls();
  std::string BaseUrl() const;
  // host:port of the Kafka protocol server, "" when off.
  std::string KafkaAddress() const;
  // The whole pipeline's status, read from each part's typed getters.
  PipelineStatus GetStatus();
  // The errors the parts met, each once.
  ErrorLog& errors() { return errors_; }
  Result<nlohmann::json> LatestResults();

 private:
  // What a tenant's dashboard shows: only its topics, streams, tables, runs
  // and results (its own batch DAG, "batch-<tenant>").
  web::DashboardHooks TenantHooks(const auth::Tenant& tenant);
  // One tenant's part of a shared pipeline: its stream job and batch DAG.
  struct TenantPart {
    std::string tenant;
    std::string prefix;
    std::unique_ptr<stream::StreamJob> stream;
  };

  Config config_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<objstore::ObjectStore> lake_;
  std::unique_ptr<objstore::ObjectStore> tables_;
  std::unique_ptr<api::Service> service_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<kafka_api::Server> kafka_server_;
  std::unique_ptr<sink::Sink> sink_;
  std::thread sink_thread_;
  std::atomic<bool> sink_stop_{false};
  std::unique_ptr<stream::StreamJob> stream_;
  std::unique_ptr<live::LiveAnswers> live_;  // fed by stream_'s commits
  std::vector<TenantPart> tenant_parts_;     // with [[tenants]]: one per tenant prefix
  std::unique_ptr<schedule::RunStore> runs_;
  std::unique_ptr<schedule::Scheduler> scheduler_;
  web::DashboardHooks hooks_;
  std::unique_ptr<web::StatusHistory> history_;
  int64_t started_ms_ = 0;

  ErrorLog errors_;
  std::mutex lake_mu_;
  int64_t lake_scanned_ms_ = 0;
  LakeStatus lake_cache_;
};

// `pinpipe up`: starts a Pipeline from `config`, prints its addresses to
// `out`, reloads tenants on SIGHUP, and on the first SIGINT/SIGTERM stops it
// cleanly (a second signal exits at once with 130). `signals` must have been
// constructed before any thread started.
Status RunUp(const Config& config, SignalWaiter& signals, std::ostream& out);

}  // namespace pinpipe::runtime
