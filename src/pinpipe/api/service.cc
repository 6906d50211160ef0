#include "pinpipe/api/service.h"

#include <openssl/crypto.h>

#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>

#include "pinpipe/api/errors.h"
#include "pinpipe/api/json_util.h"
#include "pinpipe/base/encoding.h"
#include "pinpipe/base/uri.h"

extern char** environ;

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

// The API key of a request: x-api-key (as API Gateway) or a bearer token.
std::string_view ApiKeyOf(const http::Request& request) {
  std::string_view key = request.Header("x-api-key");
  if (key.empty()) {
    std::string_view auth = request.Header("authorization");
    if (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ") key = auth.substr(7);
  }
  return key;
}

// The access key in "AWS4-HMAC-SHA256 Credential=<key>/<date>/...", or "".
std::string_view SigV4AccessKey(const http::Request& request) {
  std::string_view auth = request.Header("authorization");
  const auto at = auth.find("Credential=");
  if (at == std::string_view::npos) return {};
  std::string_view rest = auth.substr(at + 11);
  return rest.substr(0, rest.find('/'));
}

bool IsNativeKinesis(const http::Request& request) {
  return request.path == "/" && request.method == "POST" && request.HasHeader("x-amz-target");
}

// Path segment `index` (after the first "/<root>/"), percent-decoded; "" when absent.
std::string PathSegment(std::string_view path, size_t root_len, size_t index = 0) {
  std::string_view rest = path.substr(std::min(root_len, path.size()));
  for (size_t i = 0; i < index; ++i) {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return {};
    rest.remove_prefix(slash + 1);
  }
  auto decoded = PercentDecode(rest.substr(0, rest.find('/')));
  return decoded.ok() ? *decoded : std::string();
}

// Every topic a consumer request body names ("topic" fields and "topics"
// arrays, at any depth); false when it uses a topic_pattern, which a scope
// check cannot bound.
bool CollectTopics(simdjson::dom::element e, std::vector<std::string>& out) {
  if (simdjson::dom::object o; !e.get_object().get(o)) {
    for (auto field : o) {
      if (field.key == "topic_pattern") return false;
      std::string_view s;
      if (field.key == "topic" && !field.value.get_string().get(s)) out.emplace_back(s);
      if (!CollectTopics(field.value, out)) return false;
    }
  } else if (simdjson::dom::array a; !e.get_array().get(a)) {
    for (auto item : a) {
      std::string_view s;
      if (!item.get_string().get(s)) out.emplace_back(s);  // "topics": ["a", "b"]
      if (!CollectTopics(item, out)) return false;
    }
  }
  return true;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The stream a shard iterator was issued for (its payload is "1\n<stream>\n...";
// its MAC is checked later by Kinesis, so an altered name is refused there).
std::string IteratorStream(std::string_view token) {
  if (token.size() > 1024) return {};
  auto raw = Base64Decode(token);
  if (!raw || raw->size() < 3 || raw->substr(0, 2) != "1\n") return {};
  return raw->substr(2, raw->find('\n', 2) - 2);
}

}  // namespace

ApiKind ApiKindFor(const http::Request& request) {
  std::string_view p = request.path;
  if (p.substr(0, 7) == "/topics" || p.substr(0, 10) == "/consumers") return ApiKind::kKafka;
  if (p.substr(0, 8) == "/streams" || request.HasHeader("x-amz-target")) return ApiKind::kKinesis;
  if (p == "/healthz" || p == "/metrics") return ApiKind::kPlain;
  return ApiKind::kKafka;
}

namespace {

// A missing (401) or unknown (403) API key, answered in the dialect of the route.
void RefuseApiKey(const http::Request& request, bool missing, http::Response& response) {
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
}

}  // namespace

namespace {

// api.kinesis_iterator_key, or the contents of api.kinesis_iterator_key_file;
// "" when neither is set.
Result<std::string> IteratorKeyFromConfig(const Config& config) {
  std::string key = config.Get("api.kinesis_iterator_key");
  const std::string& file = config.Get("api.kinesis_iterator_key_file");
  if (!key.empty() && !file.empty()) {
    return InvalidArgumentError(
        "set api.kinesis_iterator_key or api.kinesis_iterator_key_file, not both");
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return InvalidArgumentError("api.kinesis_iterator_key_file: cannot read " + file);
    std::stringstream text;
    text << in.rdbuf();
    key = text.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  }
  if (!key.empty() && key.size() < 16) {
    return InvalidArgumentError("api.kinesis_iterator_key must be at least 16 bytes long");
  }
  return key;
}

// `o` with its clock resolved and handed to both handlers.
ServiceOptions WithResolvedClock(ServiceOptions o) {
  if (o.clock == nullptr) o.clock = &Clock::Real();
  o.kafka.clock = o.clock;
  o.kinesis.clock = o.clock;
  return o;
}

}  // namespace

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
  PINPIPE_ASSIGN_OR_RETURN(o.kinesis.iterator_key, IteratorKeyFromConfig(config));
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  PINPIPE_ASSIGN_OR_RETURN(auto tenants, auth::TenantSet::Load(config.file(), env));
  if (!tenants->empty() && (!o.api_keys.empty() || o.kinesis.credentials)) {
    return InvalidArgumentError(
        "api.keys and api.kinesis_access_key are single-user settings: with [[tenants]] give "
        "each tenant its credentials (and an admin tenant for everything)");
  }
  o.tenants = std::make_shared<auth::Registry>(std::move(tenants));
  return o;
}

Service::Service(broker::Broker& broker, ServiceOptions options)
    : broker_(broker),
      options_(WithResolvedClock(std::move(options))),
      clock_(options_.clock),
      kafka_(broker, metrics_, options_.kafka),
      kinesis_(broker, metrics_, options_.kinesis) {
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
  std::string_view key = ApiKeyOf(request);
  bool ok = false;
  for (const auto& k : options_.api_keys) ok |= ConstantTimeEquals(k, key);
  if (ok) return true;
  const bool missing = key.empty();
  RefuseApiKey(request, missing, response);
  return false;
}

std::optional<Service::Caller> Service::Identify(const http::Request& request,
                                                 http::Response& response) {
  Caller caller;
  caller.snapshot = options_.tenants->Current();
  if (caller.snapshot->empty()) {
    if (!Authorized(request, response)) return std::nullopt;
    return caller;
  }
  caller.tenant = Authenticate(*caller.snapshot, request, response);
  if (!caller.tenant) return std::nullopt;
  return caller;
}

const auth::Tenant* Service::Authenticate(const auth::TenantSet& set, const http::Request& request,
                                          http::Response& response) {
  if (IsNativeKinesis(request)) {
    // AWS SDKs sign; the access key names the tenant, its secret checks the signature.
    const auth::SigV4Key* key = nullptr;
    const auth::Tenant* tenant = set.BySigV4(SigV4AccessKey(request), &key);
    SigV4Credentials credentials;
    if (tenant) credentials = SigV4Credentials{key->access_key, key->secret_key};
    // Unknown keys still go through VerifySigV4 (with a key nobody has), so a
    // missing or malformed header gets the same answer as in single-user mode.
    if (!tenant) credentials.access_key = std::string(1, '\0');
    if (auto failure = VerifySigV4(request, credentials, clock_->NowMillis())) {
      KinesisError(response, failure->type, failure->message);
      return nullptr;
    }
    if (!tenant) {
      KinesisError(response, "UnrecognizedClientException",
                   "The security token included in the request is invalid.");
    }
    return tenant;
  }
  std::string_view key = ApiKeyOf(request);
  if (const auth::Tenant* tenant = set.ByApiKey(key)) return tenant;
  const bool missing = key.empty();
  RefuseApiKey(request, missing, response);
  return nullptr;
}

bool Service::Permitted(const auth::Tenant& tenant, const http::Request& request,
                        http::Response& response) {
  if (tenant.admin) return true;
  std::string_view path = request.path;
  auto kinesis_denied = [&](std::string_view action, std::string_view stream) {
    KinesisError(response, "AccessDeniedException",
                 "User: arn:aws:iam::" + options_.kinesis.account_id + ":user/" + tenant.name +
                     " is not authorized to perform: kinesis:" + std::string(action) +
                     " on resource: arn:aws:kinesis:" + options_.kinesis.region + ":" +
                     options_.kinesis.account_id + ":stream/" + std::string(stream));
    return false;
  };
  if (path == "/metrics") {
    PlainResponse(response, 403, "Forbidden: /metrics needs the admin credential\n");
    return false;
  }
  if (path.starts_with("/topics/")) {
    const std::string topic = PathSegment(path, 8);
    if (tenant.OwnsTopic(topic)) return true;
    KafkaError(response, kKafkaUnauthorized, "Not authorized to access topics: [" + topic + "]");
    return false;
  }
  if (path.starts_with("/consumers/")) {
    const std::string group = PathSegment(path, 11);
    if (!tenant.OwnsGroup(group)) {
      KafkaError(response, kKafkaUnauthorized, "Not authorized to access group: " + group);
      return false;
    }
    if (request.method == "POST" && !request.body.empty()) {
      simdjson::dom::element root;
      std::vector<std::string> topics;
      if (ParseJson(request.body, root) == simdjson::SUCCESS) {
        if (!CollectTopics(root, topics)) {
          KafkaError(response, kKafkaUnauthorized,
                     "Not authorized to subscribe by topic_pattern: list the topics instead");
          return false;
        }
        std::vector<std::string> foreign;
        for (const auto& t : topics) {
          if (!tenant.OwnsTopic(t)) foreign.push_back(t);
        }
        if (!foreign.empty()) {
          KafkaError(response, kKafkaUnauthorized,
                     "Not authorized to access topics: [" + Joined(foreign) + "]");
          return false;
        }
      }
    }
    // POST /consumers/<group> creates an instance: the tenant's cap applies.
    const bool create = request.method == "POST" && path.find('/', 11) == std::string_view::npos;
    if (create && tenant.quota.max_consumer_instances > 0) {
      const int64_t open =
          kafka_.CountInstances([&tenant](std::string_view g) { return tenant.OwnsGroup(g); });
      if (open >= tenant.quota.max_consumer_instances) {
        KafkaError(response, kKafkaTooManyRequests,
                   "Tenant " + tenant.name + " has " + std::to_string(open) +
                       " open consumer instances (max_consumer_instances); delete one first");
        response.status = 429;
        return false;
      }
    }
    return true;
  }
  if (path.starts_with("/streams/")) {
    const std::string stream = PathSegment(path, 9);
    if (tenant.OwnsStream(stream)) return true;
    return kinesis_denied(request.method == "GET" ? "DescribeStream" : "PutRecord", stream);
  }
  if (IsNativeKinesis(request)) {
    std::string_view target = request.Header("x-amz-target");
    std::string_view action = target.substr(target.find('.') + 1);
    simdjson::dom::element root;
    simdjson::dom::object o;
    if (ParseJson(request.body.empty() ? "{}" : request.body, root) != simdjson::SUCCESS ||
        root.get_object().get(o)) {
      return true;  // Kinesis answers SerializationException
    }
    std::vector<std::string> names;
    std::string_view s;
    if (GetString(o, "StreamName", s) == FieldState::kOk) names.emplace_back(s);
    if (GetString(o, "StreamARN", s) == FieldState::kOk) {
      const auto pos = s.rfind(":stream/");
      names.emplace_back(pos == std::string_view::npos ? s : s.substr(pos + 8));
    }
    if (GetString(o, "ShardIterator", s) == FieldState::kOk) names.push_back(IteratorStream(s));
    for (const auto& name : names) {
      if (!tenant.OwnsStream(name)) return kinesis_denied(action, name);
    }
    return true;
  }
  return true;  // /topics (filtered), /streams (filtered), unknown routes (404)
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

// How many records an ingest request carries (its array's length; 1 for a
// single-record route). Malformed bodies count 1: the route refuses them.
int64_t RecordCount(const http::Request& request) {
  std::string_view p = request.path;
  std::string_view field;
  if (p.starts_with("/topics/")) {
    field = "records";
  } else if (p.starts_with("/streams/")) {
    if (!p.ends_with("/records")) return 1;
    field = "records";
  } else if (request.Header("x-amz-target").ends_with(".PutRecords")) {
    field = "Records";
  } else {
    return 1;
  }
  simdjson::dom::element root, el;
  simdjson::dom::object o;
  simdjson::dom::array a;
  if (ParseJson(request.body, root) != simdjson::SUCCESS || root.get_object().get(o)) return 1;
  if (GetField(o, field, el) != FieldState::kOk &&
      GetField(o, field == "records" ? "Records" : "records", el) != FieldState::kOk) {
    return 1;
  }
  if (el.get_array().get(a)) return 1;
  return std::max<int64_t>(1, static_cast<int64_t>(a.size()));
}

}  // namespace

bool Service::WithinQuota(const auth::Tenant& tenant, const http::Request& request,
                          http::Response& response) {
  if (!IsProduce(request)) return true;
  if (tenant.quota.records_per_s <= 0 && tenant.quota.bytes_per_s <= 0) return true;
  const int64_t wait_ms =
      quotas_.Admit(tenant, RecordCount(request), static_cast<int64_t>(request.body.size()),
                    clock_->MonotonicMicros() / 1000);
  if (wait_ms == 0) return true;
  const std::string message =
      "Rate exceeded for tenant " + tenant.name + ": retry in " + std::to_string(wait_ms) + " ms";
  if (ApiKindFor(request) == ApiKind::kKafka) {
    KafkaError(response, kKafkaTooManyRequests, message);
    response.status = 429;
    response.headers.emplace_back("Retry-After", std::to_string((wait_ms + 999) / 1000));
  } else {
    KinesisError(response, "ProvisionedThroughputExceededException", message);
  }
  return false;
}

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
  ex->start = clock_->MonotonicMicros();
  auto send = [this](Exchange& e) {
    metrics_.RecordRequest(e.route, e.response.status, clock_->MonotonicMicros() - e.start);
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
  // One snapshot for the whole request, however a reload races with it.
  const auto tenants = options_.tenants->Current();
  const auth::Tenant* tenant = nullptr;
  NameFilter topics_visible, streams_visible;
  if (!tenants->empty() && request.path != "/healthz") {
    tenant = Authenticate(*tenants, request, response);
    if (!tenant) return "auth";
    if (!Permitted(*tenant, request, response)) return "auth.denied";
    if (!WithinQuota(*tenant, request, response)) return "quota";
    if (!tenant->admin) {
      topics_visible = [tenant](std::string_view n) { return tenant->OwnsTopic(n); };
      streams_visible = [tenant](std::string_view n) { return tenant->OwnsStream(n); };
    }
  }
  if (tenants->empty() && !Authorized(request, response)) {
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
    route = kinesis_.HandleNative(request, response, later, streams_visible);
  } else {
    route = kafka_.Handle(request, response, later, topics_visible);
    if (route.empty()) route = kinesis_.HandleGateway(request, response, later, streams_visible);
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
