#include "pinpipe/runtime/wiring.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pinpipe/attach/attach.h"
#include "pinpipe/base/names.h"
#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/kafka/kafka_broker.h"
#include "pinpipe/runtime/checks.h"
#include "pinpipe/stream/delta_writer.h"
#include "pinpipe/stream/source.h"

extern char** environ;

namespace pinpipe::runtime {

std::string KafkaAddressFile(const Config& config) { return attach::AddressFile(config); }

Result<std::pair<std::string, std::string>> RunningServer(const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(auto running, attach::ReadAddressFile(config));
  return std::make_pair(running.address, std::to_string(running.pid));
}

Result<std::unique_ptr<broker::Broker>> OpenBroker(const Config& config) {
  return attach::OpenCommandBroker(config);
}

std::string StreamStatusPath(const Config& config) {
  return config.Get("general.data_dir") + "/stream/" + config.Get("general.prefix") +
         ".status.json";
}

Result<std::unique_ptr<stream::StreamJob>> BuildStreamJob(const Config& config,
                                                          broker::Broker* broker,
                                                          objstore::ObjectStore* tables,
                                                          Clock* clock) {
  const std::string& prefix = config.Get("general.prefix");
  PINPIPE_ASSIGN_OR_RETURN(StreamSettings settings, CheckedStreamSettings(config));
  std::vector<std::unique_ptr<stream::StreamQuery>> queries;
  for (clean::TableKind kind : clean::kAllTables) {
    const std::string_view name = clean::TableKindName(kind);
    const std::string stream_name = StreamName(prefix, name);
    std::unique_ptr<stream::StreamSource> source;
    if (settings.from_kinesis) {
      PINPIPE_ASSIGN_OR_RETURN(
          source, stream::NewKinesisStreamSource(KinesisFromConfig(config), stream_name));
    } else {
      if (!broker) return FailedPreconditionError("stream.source=broker needs a broker");
      source = stream::NewBrokerStreamSource(*broker, stream_name);
    }
    PINPIPE_ASSIGN_OR_RETURN(
        auto writer, stream::NewDeltaTableWriter(*tables, TableRoot(prefix, name), kind, clock));
    stream::QueryOptions options;
    options.app_id = StreamQueryId(prefix, name);
    options.kind = kind;
    options.initial = settings.initial;
    options.max_records_per_batch = settings.max_records_per_batch;
    options.checkpoint_prefix = StreamCheckpointPrefix(prefix, name);
    options.clock = clock;
    queries.push_back(std::make_unique<stream::StreamQuery>(std::move(options), std::move(source),
                                                            std::move(writer), *tables));
  }
  auto job = std::make_unique<stream::StreamJob>(std::move(queries), settings.trigger_ms, clock);
  job->SetStatusFile(StreamStatusPath(config));
  return job;
}

Result<std::shared_ptr<const auth::TenantSet>> LoadTenants(const Config& config) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return auth::TenantSet::Load(config.file(), env);
}

void WatchTenantReloads(SignalWaiter& signals, const Config& config, auth::Registry* registry,
                        std::function<void()> on_reload) {
  signals.OnHangup([config, registry, on_reload = std::move(on_reload)] {
    auto tenants = LoadTenants(config);
    if (!tenants.ok()) {
      spdlog::error("tenants: reload of {} failed, keeping the tenants in force: {}", config.file(),
                    tenants.status().ToString());
    } else {
      registry->Swap(*tenants);
      spdlog::info("tenants: reloaded {} tenants from {}", (*tenants)->tenants().size(),
                   config.file());
    }
    if (on_reload) on_reload();
  });
}

void RemoveKafkaAddressFile(const Config& config) { attach::RemoveAddressFile(config); }

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

Result<std::unique_ptr<kafka_api::Server>> StartKafkaApi(const Config& config,
                                                         broker::Broker& broker,
                                                         auth::Registry* tenants,
                                                         auth::QuotaLimiter* quotas) {
  PINPIPE_ASSIGN_OR_RETURN(auto options, CheckedKafkaApiOptions(config));
  if (!options) return std::unique_ptr<kafka_api::Server>();
  options->tenants = tenants;
  options->quotas = quotas;
  auto server = std::make_unique<kafka_api::Server>(*options, broker);
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
    if (Status s = attach::WriteAddressFile(config, server->advertised()); !s.ok()) {
      spdlog::warn("{}: CLI commands beside this server will not find it", s.message());
    }
  }
  return server;
}

}  // namespace pinpipe::runtime
