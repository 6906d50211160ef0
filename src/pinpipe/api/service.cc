#include "pinpipe/api/service.h"

#include <openssl/crypto.h>

#include <chrono>
#include <future>
#include <mutex>

#include "pinpipe/api/errors.h"

namespace pinpipe::api {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void GatewayMessage(http::Response& response, int status, std::string_view message) {
  response.status = status;
  response.content_type = std::string(kJsonContentType);
  response.body = "{\"message\":\"" + std::string(message) + "\"}";
}

}  // namespace

ApiKind ApiKindFor(const http::Request& request) {
  std::string_view p = request.path;
  if (p.substr(0, 7) == "/topics" || p.substr(0, 10) == "/consumers") return ApiKind::kKafka;
  if (p.substr(0, 8) == "/streams" || request.HasHeader("x-amz-target")) return ApiKind::kKinesis;
  if (p == "/healthz" || p == "/metrics") return ApiKind::kPlain;
  return ApiKind::kKafka;
}

Result<ServiceOptions> ServiceOptionsFromConfig(const Config& config) {
  ServiceOptions o;
  o.api_keys = config.GetList("api.keys");
  PINPIPE_ASSIGN_OR_RETURN(o.kafka.auto_create_topics, config.GetBool("api.auto_create_topics"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t partitions, config.GetInt("api.default_partitions"));
  PINPIPE_ASSIGN_OR_RETURN(o.kinesis.auto_create_streams,
                           config.GetBool("api.auto_create_streams"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t shards, config.GetInt("api.default_shards"));
  if (partitions < 1 || partitions > 10000) {
    return InvalidArgumentError("api.default_partitions must be between 1 and 10000");
  }
  if (shards < 1 || shards > 500) {
    return InvalidArgumentError("api.default_shards must be between 1 and 500");
  }
  o.kafka.default_partitions = static_cast<int32_t>(partitions);
  o.kinesis.default_shards = static_cast<int32_t>(shards);
  o.kinesis.data_dir = config.Get("general.data_dir");
  const std::string& access = config.Get("api.kinesis_access_key");
  const std::string& secret = config.Get("api.kinesis_secret_key");
  if (access.empty() != secret.empty()) {
    return InvalidArgumentError(
        "api.kinesis_access_key and api.kinesis_secret_key must be set together");
  }
  if (!access.empty()) o.kinesis.credentials = SigV4Credentials{access, secret};
  return o;
}

Service::Service(broker::Broker& broker, Clock& clock, ServiceOptions options)
    : broker_(broker),
      clock_(clock),
      options_(std::move(options)),
      kafka_(broker, metrics_, clock, options_.kafka),
      kinesis_(broker, metrics_, clock, options_.kinesis) {
  metrics_.AddGauge("pinpipe_log_size_bytes", "Bytes stored per topic in the broker.", [this] {
    std::vector<std::pair<std::string, double>> out;
    auto topics = broker_.ListTopics();
    if (!topics.ok()) return out;
    for (const auto& t : *topics) {
      auto desc = broker_.DescribeTopic(t);
      if (!desc.ok()) continue;
      double bytes = 0;
      for (const auto& p : desc->partitions) bytes += static_cast<double>(p.size_bytes);
      out.emplace_back("topic=\"" + t + "\"", bytes);
    }
    return out;
  });
}

Status Service::Open() { return kinesis_.Open(); }

void Service::SetConnectionGauge(std::function<int64_t()> source) {
  metrics_.AddGauge(
      "pinpipe_http_open_connections", "Open HTTP connections.", [source = std::move(source)] {
        return std::vector<std::pair<std::string, double>>{{"", static_cast<double>(source())}};
      });
}

bool Service::Authorized(const http::Request& request, http::Response& response) {
  if (options_.api_keys.empty()) return true;
  if (request.path == "/healthz") return true;
  std::string_view key = request.Header("x-api-key");
  if (key.empty()) {
    std::string_view auth = request.Header("authorization");
    if (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ") key = auth.substr(7);
  }
  bool ok = false;
  for (const auto& k : options_.api_keys) ok |= ConstantTimeEquals(k, key);
  if (ok) return true;
  const bool missing = key.empty();
  switch (ApiKindFor(request)) {
    case ApiKind::kKafka:
      if (missing) {
        KafkaError(response, kKafkaUnauthenticated, "Authentication failed: API key required.");
      } else {
        KafkaError(response, kKafkaUnauthorized, "Authorization failed: invalid API key.");
      }
      break;
    case ApiKind::kKinesis:
    case ApiKind::kPlain:
      // API Gateway's own answer for API-key failures.
      GatewayMessage(response, missing ? 401 : 403, missing ? "Unauthorized" : "Forbidden");
      break;
  }
  return false;
}

namespace {

// Routes that append to the broker, the ones that can wait without a thread.
bool IsProduce(const http::Request& request) {
  std::string_view p = request.path;
  if (request.method == "POST" && p.substr(0, 8) == "/topics/") return true;
  if (request.method == "PUT" && p.substr(0, 9) == "/streams/") return true;
  if (request.method == "POST" && p == "/") {
    std::string_view target = request.Header("x-amz-target");
    return target.ends_with(".PutRecord") || target.ends_with(".PutRecords");
  }
  return false;
}

}  // namespace

void Service::SetOffloader(std::function<void(std::function<void()>)> offload) {
  offload_ = std::move(offload);
}

void Service::Handle(http::Request& request, http::Response& response) {
  std::promise<http::Response> answer;
  auto future = answer.get_future();
  Dispatch(request, [&answer](http::Response r) { answer.set_value(std::move(r)); });
  response = future.get();
}

void Service::HandleAsync(http::Request request, http::Responder respond) {
  if ((broker_.NonBlockingProduce() && IsProduce(request)) || !offload_) {
    return Dispatch(request, std::move(respond));
  }
  offload_([this, request = std::move(request), respond = std::move(respond)]() mutable {
    Dispatch(request, std::move(respond));
  });
}

void Service::Dispatch(http::Request& request, http::Responder respond) {
  // The response goes out once the route has returned and, if it deferred,
  // once it has finished, in whichever order those two happen.
  struct Exchange {
    std::mutex mu;
    bool returned = false;
    bool finished = false;
    std::string_view route;
    http::Response response;
    http::Responder respond;
    int64_t start = 0;
  };
  auto ex = std::make_shared<Exchange>();
  ex->respond = std::move(respond);
  ex->start = clock_.MonotonicMicros();
  auto send = [this](Exchange& e) {
    metrics_.RecordRequest(e.route, e.response.status, clock_.MonotonicMicros() - e.start);
    e.respond(std::move(e.response));
  };
  Deferral later([ex, send](http::Response r) {
    std::unique_lock lock(ex->mu);
    ex->response = std::move(r);
    ex->finished = true;
    if (!ex->returned) return;  // Dispatch sends it when the route returns
    lock.unlock();
    send(*ex);
  });
  http::Response response;
  std::string_view route = Route(request, response, later);
  std::unique_lock lock(ex->mu);
  ex->returned = true;
  ex->route = route;
  if (!later.deferred()) {
    ex->response = std::move(response);
  } else if (!ex->finished) {
    return;  // the Finish sends it
  }
  lock.unlock();
  send(*ex);
}

std::string_view Service::Route(http::Request& request, http::Response& response, Deferral& later) {
  std::string_view route;
  if (!Authorized(request, response)) {
    route = "auth";
  } else if (request.path == "/healthz") {
    route = "healthz";
    if (request.method == "GET" || request.method == "HEAD") {
      PlainResponse(response, 200, "ok\n");
    } else {
      PlainResponse(response, 405, "method not allowed\n");
    }
  } else if (request.path == "/metrics") {
    route = "metrics";
    PlainResponse(response, 200, metrics_.Render());
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (request.path == "/" && request.method == "POST" && request.HasHeader("x-amz-target")) {
    route = kinesis_.HandleNative(request, response, later);
  } else {
    route = kafka_.Handle(request, response, later);
    if (route.empty()) route = kinesis_.HandleGateway(request, response, later);
    if (route.empty()) {
      route = "unknown";
      KafkaError(response, 404, "HTTP 404 Not Found");
    }
  }
  // A deleted stream must not leave a stale partition count behind.
  if (route == "kinesis.DeleteStream" || route == "gateway.delete_stream") {
    if (response.status == 200) {
      std::string_view p = request.path;
      if (p.substr(0, 9) == "/streams/") {
        kafka_.Forget(p.substr(9));
      } else {
        // Native: the name is in the body; forgetting everything is cheap and safe.
        for (const auto& s : kinesis_.ListStreams()) kafka_.Forget(s.name);
      }
    }
  }
  return route;
}

void Service::HandleError(int status, std::string_view reason, const http::Request& request,
                          http::Response& response) {
  switch (ApiKindFor(request)) {
    case ApiKind::kKafka:
      KafkaError(response, status, std::string(reason));
      break;
    case ApiKind::kKinesis:
      KinesisError(response, status == 413 ? "ValidationException" : "SerializationException",
                   std::string(reason), status);
      break;
    case ApiKind::kPlain:
      PlainResponse(response, status, std::string(reason) + "\n");
      break;
  }
  metrics_.RecordRequest("http.protocol_error", status, 0);
}

}  // namespace pinpipe::api
