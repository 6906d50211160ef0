#include "pinpipe/web/dashboard.h"

#include <charconv>

#include "pinpipe/web/assets.h"

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
    if (!runs.ok())
      Error(response, runs.status());
    else
      Json(response, 200, *runs);
    return true;
  }
  if (path.rfind("/api/runs/", 0) == 0) {
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
