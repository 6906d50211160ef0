// The dashboard's HTTP surface, served by the API server next to the Kafka
// REST and Kinesis routes:
//   GET  /ui, /ui/*               the embedded single-page dashboard
//   GET  /api/status              live status of every part (docs/status-api.md)
//   GET  /api/results/latest      the latest successful batch run's answers
//   GET  /api/answers/live        the same answers kept live from the streams
//   GET  /api/status/history      the last 15 minutes of rates, lags, latencies
//   GET  /api/topics/<t>          partitions with offsets (topic browser)
//   GET  /api/topics/<t>/records  one page of records (offset, time, filter)
//   GET  /api/tables/<name>       a Delta table's versions, schema, newest rows
//   GET  /api/runs                recent scheduler runs (?tasks=1: with task logs)
//   GET  /api/runs/<id>           one run with its tasks and their logs
//   POST /api/runs/<dag>          trigger a DAG run (202 with the run id)
// The web module reads the rest of the pipeline only through these hooks,
// which runtime/ fills in; it never changes pipeline state except by triggering.
//
// Thread-safety: HandleDashboard may be called concurrently; the hooks must be
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "pinpipe/base/status.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/http/server.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/schedule/run_store.h"
#include "pinpipe/web/history.h"

namespace pinpipe::web {

struct DashboardHooks {
  std::function<nlohmann::json()> status;
  // NotFound when no batch run has finished yet.
  std::function<Result<nlohmann::json>()> latest_results;
  // FailedPrecondition when no streaming job runs in this process.
  std::function<Result<nlohmann::json>()> live_answers;
  std::function<Result<nlohmann::json>(int limit)> runs;
  // NotFound for an unknown DAG.
  std::function<Result<int64_t>(const std::string& dag)> trigger;
  // Read-only sources of the browser pages; a null one answers 503. Owned by
  // the caller and must outlive the hooks.
  broker::Broker* broker = nullptr;
  objstore::ObjectStore* tables = nullptr;  // the stream job's Delta tables
  schedule::RunStore* run_store = nullptr;
  StatusHistory* history = nullptr;
};

// Serves the request if its path belongs to the dashboard; returns false
// (leaving `response` untouched) otherwise.
bool HandleDashboard(const DashboardHooks& hooks, const http::Request& request,
                     http::Response& response);

}  // namespace pinpipe::web
