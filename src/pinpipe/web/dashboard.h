// The dashboard's HTTP surface, served by the API server next to the Kafka
// REST and Kinesis routes:
//   GET  /ui, /ui/*               the embedded single-page dashboard
//   GET  /api/status              live status of every part (docs/status-api.md)
//   GET  /api/results/latest      the latest successful batch run's answers
//   GET  /api/answers/live        the same answers kept live from the streams
//   GET  /api/runs                recent scheduler runs
//   POST /api/runs/<dag>          trigger a DAG run (202 with the run id)
// The web module reads the rest of the pipeline only through these hooks,
// which apps/ fills in; it never changes pipeline state except by triggering.
//
// Thread-safety: HandleDashboard may be called concurrently; the hooks must be
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "pinpipe/base/status.h"
#include "pinpipe/http/server.h"

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
};

// Serves the request if its path belongs to the dashboard; returns false
// (leaving `response` untouched) otherwise.
bool HandleDashboard(const DashboardHooks& hooks, const http::Request& request,
                     http::Response& response);

}  // namespace pinpipe::web
