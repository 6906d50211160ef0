#include "pinpipe/web/dashboard.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdint>

#include "pinpipe/web/assets.h"
#include "pinpipe/web/browse.h"

namespace pinpipe::web {
namespace {

void Json(http::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.content_type = "application/json";
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.headers.emplace_back("Cache-Control", "no-store");
}

void Error(http::Response& response, const Status& status) {
  int code = 500;
  switch (status.code()) {
    case StatusCode::kNotFound:
      code = 404;
      break;
    case StatusCode::kInvalidArgument:
      code = 400;
      break;
    case StatusCode::kFailedPrecondition:
      code = 409;
      break;
    case StatusCode::kUnavailable:
      code = 503;
      break;
    default:
      break;
  }
  Json(response, code, {{"error_code", code}, {"message", status.message()}});
}

// A decimal integer query parameter; `fallback` when absent.
Result<int64_t> IntParam(const http::Request& request, const char* name, int64_t fallback) {
  const std::string param = request.QueryParam(name);
  if (param.empty()) return fallback;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(param.data(), param.data() + param.size(), v);
  if (ec != std::errc() || end != param.data() + param.size())
    return InvalidArgumentError(std::string(name) + " must be an integer");
  return v;
}

// Topic and table names as the pipeline makes them; never a path.
bool SafeName(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

void Reply(http::Response& response, const Result<nlohmann::json>& result) {
  if (result.ok())
    Json(response, 200, *result);
  else
    Error(response, result.status());
}

Result<nlohmann::json> Records(broker::Broker& broker, const std::string& topic,
                               const http::Request& request) {
  RecordQuery q;
  q.topic = topic;
  PINPIPE_ASSIGN_OR_RETURN(int64_t partition, IntParam(request, "partition", 0));
  PINPIPE_ASSIGN_OR_RETURN(q.offset, IntParam(request, "offset", -1));
  PINPIPE_ASSIGN_OR_RETURN(q.time_ms, IntParam(request, "time_ms", -1));
  PINPIPE_ASSIGN_OR_RETURN(q.before, IntParam(request, "before", -1));
  PINPIPE_ASSIGN_OR_RETURN(int64_t limit, IntParam(request, "limit", 50));
  if (partition < 0 || partition > INT32_MAX) return InvalidArgumentError("bad partition");
  if (limit < 1 || limit > 500) return InvalidArgumentError("limit must be 1..500");
  q.partition = static_cast<int32_t>(partition);
  q.limit = static_cast<int32_t>(limit);
  q.filter = request.QueryParam("filter");
  return BrowseRecords(broker, q);
}

Result<nlohmann::json> RunsWithTasks(schedule::RunStore& store, int limit) {
  PINPIPE_ASSIGN_OR_RETURN(auto runs, store.ListRuns("", limit));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : runs) {
    PINPIPE_ASSIGN_OR_RETURN(auto full, store.GetRun(r.id));
    out.push_back(RunJson(full));
  }
  return out;
}

}  // namespace

std::optional<Asset> FindAsset(std::string_view path) {
  if (path == "/ui" || path == "/ui/") path = "/ui/index.html";
  if (path.rfind("/ui/", 0) != 0) return std::nullopt;
  const std::string_view name = path.substr(4);
  for (const auto& file : EmbeddedFiles()) {
    if (file.path != name) continue;
    std::string_view type = "application/octet-stream";
    if (name.ends_with(".html"))
      type = "text/html; charset=utf-8";
    else if (name.ends_with(".js"))
      type = "text/javascript; charset=utf-8";
    else if (name.ends_with(".css"))
      type = "text/css; charset=utf-8";
    else if (name.ends_with(".txt") || name.ends_with("LICENSE"))
      type = "text/plain; charset=utf-8";
    else if (name.ends_with(".svg"))
      type = "image/svg+xml";
    return Asset{type, file.data};
  }
  return std::nullopt;
}

bool HandleDashboard(const DashboardHooks& hooks, const http::Request& request,
                     http::Response& response) {
  const std::string& path = request.path;
  if (path == "/" && request.method == "GET") {
    response.status = 302;
    response.headers.emplace_back("Location", "/ui/");
    return true;
  }
  if (path == "/ui" || path.rfind("/ui/", 0) == 0) {
    if (request.method != "GET" && request.method != "HEAD") {
      Json(response, 405, {{"error_code", 405}, {"message", "method not allowed"}});
      return true;
    }
    auto asset = FindAsset(path);
    if (!asset) {
      Json(response, 404, {{"error_code", 404}, {"message", "no such dashboard file"}});
      return true;
    }
    response.status = 200;
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->data);
    return true;
  }
  if (path.rfind("/api/", 0) != 0) return false;

  if (path == "/api/status" && request.method == "GET") {
    Json(response, 200, hooks.status ? hooks.status() : nlohmann::json::object());
    return true;
  }
  if (path == "/api/status/history" && request.method == "GET") {
    if (!hooks.history) {
      Error(response, UnavailableError("no status history in this process"));
      return true;
    }
    auto since = IntParam(request, "since_ms", 0);
    if (!since.ok())
      Error(response, since.status());
    else
      Json(response, 200, hooks.history->ToJson(*since));
    return true;
  }
  if (path.rfind("/api/topics/", 0) == 0 && request.method == "GET") {
    std::string rest = path.substr(12);
    const bool records = rest.ends_with("/records");
    if (records) rest.resize(rest.size() - 8);
    if (!SafeName(rest)) {
      Error(response, InvalidArgumentError("bad topic name"));
    } else if (!hooks.broker) {
      Error(response, UnavailableError("no broker in this process"));
    } else {
      Reply(response, records ? Records(*hooks.broker, rest, request)
                              : DescribeTopicJson(*hooks.broker, rest));
    }
    return true;
  }
  if (path.rfind("/api/tables/", 0) == 0 && request.method == "GET") {
    const std::string name = path.substr(12);
    if (!SafeName(name)) {
      Error(response, InvalidArgumentError("bad table name"));
    } else if (!hooks.tables) {
      Error(response, UnavailableError("the stream job's tables are not open in this process"));
    } else {
      auto rows = IntParam(request, "preview", 20);
      if (!rows.ok() || *rows < 0 || *rows > 500)
        Error(response, InvalidArgumentError("preview must be 0..500"));
      else
        Reply(response, DescribeTableJson(*hooks.tables, name, 30, static_cast<int>(*rows)));
    }
    return true;
  }
  if (path == "/api/results/latest" && request.method == "GET") {
    if (!hooks.latest_results) {
      Error(response, NotFoundError("no batch results"));
      return true;
    }
    auto results = hooks.latest_results();
    if (!results.ok())
      Error(response, results.status());
    else
      Json(response, 200, *results);
    return true;
  }
  if (path == "/api/answers/live" && request.method == "GET") {
    if (!hooks.live_answers) {
      Error(response, FailedPreconditionError("no streaming job runs in this process"));
      return true;
    }
    auto answers = hooks.live_answers();
    if (!answers.ok())
      Error(response, answers.status());
    else
      Json(response, 200, *answers);
    return true;
  }
  if (path == "/api/runs" && request.method == "GET") {
    int limit = 20;
    const std::string param = request.QueryParam("limit");
    if (!param.empty()) {
      auto [end, ec] = std::from_chars(param.data(), param.data() + param.size(), limit);
      if (ec != std::errc() || end != param.data() + param.size() || limit < 1 || limit > 1000) {
        Error(response, InvalidArgumentError("limit must be 1..1000"));
        return true;
      }
    }
    auto runs = hooks.runs ? hooks.runs(limit) : Result<nlohmann::json>(nlohmann::json::array());
    if (!request.QueryParam("tasks").empty() && request.QueryParam("tasks") != "0" &&
        hooks.run_store)
      runs = RunsWithTasks(*hooks.run_store, limit);
    if (!runs.ok())
      Error(response, runs.status());
    else
      Json(response, 200, *runs);
    return true;
  }
  if (path.rfind("/api/runs/", 0) == 0) {
    const std::string rest = path.substr(10);
    if (request.method == "GET" && !rest.empty() &&
        std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      if (!hooks.run_store) {
        Error(response, UnavailableError("no run history in this process"));
        return true;
      }
      int64_t id = 0;
      std::from_chars(rest.data(), rest.data() + rest.size(), id);
      auto run = hooks.run_store->GetRun(id);
      if (!run.ok())
        Error(response, run.status());
      else
        Json(response, 200, RunJson(*run));
      return true;
    }
    if (request.method != "POST") {
      Json(response, 405, {{"error_code", 405}, {"message", "use POST to trigger a run"}});
      return true;
    }
    const std::string dag = path.substr(10);
    if (!hooks.trigger) {
      Error(response, FailedPreconditionError("the scheduler is not running in this process"));
      return true;
    }
    auto id = hooks.trigger(dag);
    if (!id.ok())
      Error(response, id.status());
    else
      Json(response, 202, {{"run_id", *id}, {"dag", dag}, {"state", "queued"}});
    return true;
  }
  return false;
}

}  // namespace pinpipe::web
