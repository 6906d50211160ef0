#include "wiring.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pinpipe/broker/embedded_broker.h"
#include "pinpipe/kafka/kafka_broker.h"
#include "pinpipe/stream/delta_writer.h"
#include "pinpipe/stream/source.h"

namespace pinpipe::app {

std::string KafkaAddressFile(const Config& config) {
  return config.Get("general.data_dir") + "/kafka_api.address";
}

Result<std::pair<std::string, std::string>> RunningServer(const Config& config) {
  std::ifstream in(KafkaAddressFile(config));
  std::string address, pid;
  if (!(in >> address >> pid)) return NotFoundError("no running server");
  return std::make_pair(address, pid);
}

Result<std::unique_ptr<broker::Broker>> OpenBroker(const Config& config) {
  const std::string& type = config.Get("broker.type");
  if (type == "embedded") {
    auto broker = broker::EmbeddedBroker::Open(config);
    if (broker.ok()) return std::unique_ptr<broker::Broker>(std::move(*broker));
    // The log is locked by a running `serve`/`up`: go through its Kafka
    // protocol instead, with the same topics and group offsets.
    auto running = RunningServer(config);
    if (broker.status().code() != StatusCode::kUnavailable || !running.ok()) {
      return broker.status();
    }
    spdlog::info("the log is in use by pinpipe (pid {}): going through its Kafka protocol at {}",
                 running->second, running->first);
    Config through = config;
    PINPIPE_RETURN_IF_ERROR(through.Set("broker.type", "kafka"));
    PINPIPE_RETURN_IF_ERROR(through.Set("kafka.bootstrap.servers", running->first));
    return kafka::NewKafkaBroker(through);
  }
  if (type == "kafka") return kafka::NewKafkaBroker(config);
  return InvalidArgumentError("broker.type must be 'embedded' or 'kafka', not '" + type + "'");
}

std::string StreamStatusPath(const Config& config) {
  return config.Get("general.data_dir") + "/stream/" + config.Get("general.prefix") +
         ".status.json";
}

Result<std::unique_ptr<stream::StreamJob>> BuildStreamJob(const Config& config,
                                                          broker::Broker* broker,
                                                          objstore::ObjectStore* tables,
                                                          Clock& clock) {
  const std::string& prefix = config.Get("general.prefix");
  PINPIPE_ASSIGN_OR_RETURN(int64_t trigger_ms, config.GetMillis("stream.trigger_ms"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t max_records, config.GetInt("stream.max_records_per_batch"));
  const std::string& initial = config.Get("stream.initial_position");
  if (initial != "earliest" && initial != "latest") {
    return InvalidArgumentError("stream.initial_position must be earliest or latest");
  }
  const std::string& source_kind = config.Get("stream.source");
  if (source_kind != "broker" && source_kind != "kinesis") {
    return InvalidArgumentError("stream.source must be broker or kinesis");
  }
  if (max_records < 1) return InvalidArgumentError("stream.max_records_per_batch must be >= 1");
  std::vector<std::unique_ptr<stream::StreamQuery>> queries;
  for (clean::TableKind kind : clean::kAllTables) {
    const std::string name(clean::TableKindName(kind));
    const std::string stream_name = "streaming-" + prefix + "-" + name;
    std::unique_ptr<stream::StreamSource> source;
    if (source_kind == "kinesis") {
      stream::KinesisOptions k;
      k.endpoint = config.Get("stream.kinesis_endpoint");
      k.region = config.Get("s3.region");
      if (const char* r = std::getenv("AWS_REGION")) k.region = r;
      if (const char* a = std::getenv("AWS_ACCESS_KEY_ID")) k.access_key = a;
      if (const char* s = std::getenv("AWS_SECRET_ACCESS_KEY")) k.secret_key = s;
      if (const char* t = std::getenv("AWS_SESSION_TOKEN")) k.session_token = t;
      PINPIPE_ASSIGN_OR_RETURN(source, stream::NewKinesisStreamSource(k, stream_name));
    } else {
      if (!broker) return FailedPreconditionError("stream.source=broker needs a broker");
      source = stream::NewBrokerStreamSource(*broker, stream_name);
    }
    const std::string table_root = prefix + "_" + name + "_table/";
    PINPIPE_ASSIGN_OR_RETURN(auto writer,
                             stream::NewDeltaTableWriter(tables, table_root, kind, &clock));
    stream::QueryOptions options;
    options.app_id = "pinpipe-stream-" + prefix + "-" + name;
    options.kind = kind;
    options.initial =
        initial == "latest" ? stream::InitialPosition::kLatest : stream::InitialPosition::kEarliest;
    options.max_records_per_batch = static_cast<int>(max_records);
    options.checkpoint_prefix = "_checkpoints/" + options.app_id + "/";
    queries.push_back(std::make_unique<stream::StreamQuery>(std::move(options), std::move(source),
                                                            std::move(writer), *tables, clock));
  }
  auto job = std::make_unique<stream::StreamJob>(std::move(queries), trigger_ms, clock);
  job->SetStatusFile(StreamStatusPath(config));
  return job;
}

namespace {
sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

StopSignals::StopSignals() {
  sigset_t set = StopSet();
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Result<std::shared_ptr<const auth::TenantSet>> LoadTenants(const Config& config) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return auth::TenantSet::Load(config.file(), env);
}

void WatchTenantReloads(const Config& config, auth::Registry* registry,
                        std::function<void()> on_reload) {
  std::thread([config, registry, on_reload = std::move(on_reload)] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) return;
      auto tenants = LoadTenants(config);
      if (!tenants.ok()) {
        spdlog::error("tenants: reload of {} failed, keeping the tenants in force: {}",
                      config.file(), tenants.status().ToString());
      } else {
        registry->Swap(*tenants);
        spdlog::info("tenants: reloaded {} tenants from {}", (*tenants)->tenants().size(),
                     config.file());
      }
      if (on_reload) on_reload();
    }
  }).detach();
}

int StopSignals::Wait() {
  sigset_t set = StopSet();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

bool StopSignals::WaitAgain(int64_t ms) {
  sigset_t set = StopSet();
  timespec timeout{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  return sigtimedwait(&set, nullptr, &timeout) > 0;
}

void ReloadTls(http::Server* http_server, kafka_api::Server* kafka_server) {
  if (http_server) {
    if (Status s = http_server->ReloadTls(); !s.ok()) {
      spdlog::error("tls: reload of the HTTP certificate failed, keeping the one in force: {}",
                    s.ToString());
    }
  }
  if (kafka_server) {
    if (Status s = kafka_server->ReloadTls(); !s.ok()) {
      spdlog::error("tls: reload of the Kafka certificate failed, keeping the one in force: {}",
                    s.ToString());
    }
  }
}

void RemoveKafkaAddressFile(const Config& config) {
  std::error_code ec;
  std::filesystem::remove(KafkaAddressFile(config), ec);
}

Result<std::unique_ptr<kafka_api::Server>> StartKafkaApi(const Config& config,
                                                         broker::Broker& broker,
                                                         auth::Registry* tenants,
                                                         auth::QuotaLimiter* quotas) {
  kafka_api::ServerOptions o;
  o.listen = config.Get("kafka_api.listen");
  if (o.listen.empty()) return std::unique_ptr<kafka_api::Server>();
  o.advertised = config.Get("kafka_api.advertised");
  PINPIPE_ASSIGN_OR_RETURN(o.max_request_bytes, config.GetBytes("kafka_api.max_request_bytes"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t threads, config.GetInt("kafka_api.threads"));
  PINPIPE_ASSIGN_OR_RETURN(o.auto_create_topics, config.GetBool("api.auto_create_topics"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t partitions, config.GetInt("api.default_partitions"));
  if (threads < 1 || threads > 256) {
    return InvalidArgumentError("kafka_api.threads must be between 1 and 256");
  }
  if (o.max_request_bytes < 1024) {
    return InvalidArgumentError("kafka_api.max_request_bytes must be at least 1KiB");
  }
  o.io_threads = static_cast<int>(threads);
  o.tls_cert_file = config.Get("kafka_api.tls_cert");
  o.tls_key_file = config.Get("kafka_api.tls_key");
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    o.tls_cert_file = config.Get("api.tls_cert");
    o.tls_key_file = config.Get("api.tls_key");
  }
  o.tenants = tenants;
  o.quotas = quotas;
  o.default_partitions = static_cast<int32_t>(std::max<int64_t>(1, partitions));
  auto server = std::make_unique<kafka_api::Server>(o, broker);
  if (Status s = server->Start(); !s.ok()) {
    // A busy port (often the default 9092 taken by a Kafka broker or a
    // second pinpipe) leaves the REST and Kinesis APIs running.
    if (s.code() != StatusCode::kUnavailable) return s;
    spdlog::warn("{}; the Kafka protocol is off (set kafka_api.listen or --kafka-listen)",
                 s.message());
    return std::unique_ptr<kafka_api::Server>();
  }
  if (broker.Kind() == "embedded") {
    // Lets CLI commands started beside this process find it (OpenBroker).
    std::ofstream out(KafkaAddressFile(config), std::ios::trunc);
    out << server->advertised() << " " << getpid() << "\n";
  }
  return server;
}

}  // namespace pinpipe::app
