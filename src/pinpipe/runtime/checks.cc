#include "pinpipe/runtime/checks.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace pinpipe::runtime {
namespace {

Status InRange(int64_t value, int64_t low, int64_t high, const std::string& name) {
  if (value < low || value > high) {
    return InvalidArgumentError(name + " must be between " + std::to_string(low) + " and " +
                                std::to_string(high) + ", not " + std::to_string(value));
  }
  return Status::Ok();
}

bool SetByUser(const Config& config, std::string_view key) {
  auto it = config.entries().find(key);
  return it != config.entries().end() && it->second.origin != Config::Origin::kDefault;
}

}  // namespace

Result<http::ServerOptions> CheckedHttpOptions(const Config& config, int handler_threads) {
  PINPIPE_ASSIGN_OR_RETURN(int64_t io_threads, config.GetInt("api.threads"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t body_limit, config.GetBytes("api.body_limit"));
  PINPIPE_RETURN_IF_ERROR(InRange(io_threads, 1, 256, "api.threads"));
  if (body_limit < 1) return InvalidArgumentError("api.body_limit must be positive");
  PINPIPE_RETURN_IF_ERROR(InRange(handler_threads, 1, 4096, "--handler-threads"));
  http::ServerOptions so;
  so.listen = config.Get("api.listen");
  so.io_threads = static_cast<int>(io_threads);
  so.worker_threads = handler_threads;
  so.body_limit = static_cast<uint64_t>(body_limit);
  so.tls_cert_file = config.Get("api.tls_cert");
  so.tls_key_file = config.Get("api.tls_key");
  return so;
}

Result<std::optional<kafka_api::ServerOptions>> CheckedKafkaApiOptions(const Config& config) {
  kafka_api::ServerOptions o;
  o.listen = config.Get("kafka_api.listen");
  if (o.listen.empty()) return std::optional<kafka_api::ServerOptions>();
  o.advertised = config.Get("kafka_api.advertised");
  PINPIPE_ASSIGN_OR_RETURN(o.max_request_bytes, config.GetBytes("kafka_api.max_request_bytes"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t threads, config.GetInt("kafka_api.threads"));
  PINPIPE_ASSIGN_OR_RETURN(o.auto_create_topics, config.GetBool("api.auto_create_topics"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t partitions, config.GetInt("api.default_partitions"));
  PINPIPE_RETURN_IF_ERROR(InRange(threads, 1, 256, "kafka_api.threads"));
  if (o.max_request_bytes < 1024) {
    return InvalidArgumentError("kafka_api.max_request_bytes must be at least 1KiB");
  }
  o.io_threads = static_cast<int>(threads);
  o.default_partitions = static_cast<int32_t>(std::max<int64_t>(1, partitions));
  // The Kafka listener's own certificate, else the HTTP API's.
  o.tls_cert_file = config.Get("kafka_api.tls_cert");
  o.tls_key_file = config.Get("kafka_api.tls_key");
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    o.tls_cert_file = config.Get("api.tls_cert");
    o.tls_key_file = config.Get("api.tls_key");
  }
  return std::optional<kafka_api::ServerOptions>(std::move(o));
}

Result<StreamSettings> CheckedStreamSettings(const Config& config) {
  StreamSettings s;
  PINPIPE_ASSIGN_OR_RETURN(s.trigger_ms, config.GetMillis("stream.trigger_ms"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t max_records, config.GetInt("stream.max_records_per_batch"));
  const std::string& initial = config.Get("stream.initial_position");
  if (initial != "earliest" && initial != "latest") {
    return InvalidArgumentError("stream.initial_position must be earliest or latest");
  }
  const std::string& source = config.Get("stream.source");
  if (source != "broker" && source != "kinesis") {
    return InvalidArgumentError("stream.source must be broker or kinesis");
  }
  if (max_records < 1) return InvalidArgumentError("stream.max_records_per_batch must be >= 1");
  s.max_records_per_batch = static_cast<int>(std::min<int64_t>(max_records, INT32_MAX));
  s.initial =
      initial == "latest" ? stream::InitialPosition::kLatest : stream::InitialPosition::kEarliest;
  s.from_kinesis = source == "kinesis";
  return s;
}

stream::KinesisOptions KinesisFromConfig(const Config& config, const EnvLookup& env_lookup) {
  auto env = [&](const char* name) -> std::optional<std::string> {
    if (env_lookup) return env_lookup(name);
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  stream::KinesisOptions k;
  k.endpoint = config.Get("stream.kinesis_endpoint");
  k.region = config.Get("kinesis.region");
  if (!SetByUser(config, "kinesis.region") || k.region.empty()) {
    if (auto r = env("AWS_REGION"); r && !r->empty()) {
      k.region = *r;
    } else if (auto d = env("AWS_DEFAULT_REGION"); d && !d->empty()) {
      k.region = *d;
    }
  }
  if (k.region.empty()) k.region = "us-east-1";
  if (auto a = env("AWS_ACCESS_KEY_ID")) k.access_key = *a;
  if (auto s = env("AWS_SECRET_ACCESS_KEY")) k.secret_key = *s;
  if (auto t = env("AWS_SESSION_TOKEN")) k.session_token = *t;
  return k;
}

}  // namespace pinpipe::runtime
