// `pinpipe serve`: the HTTP ingestion API (Kafka REST v2 + Kinesis) on the
// configured broker, until SIGINT or SIGTERM; then it stops accepting,
// finishes the requests in flight and exits 0.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "cli.h"
#include "pinpipe/api/memory_broker.h"
#include "pinpipe/api/service.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/broker/embedded_broker.h"
#include "pinpipe/http/server.h"
#include "pinpipe/kafka/kafka_broker.h"
#include "wiring.h"

namespace pinpipe::app {
namespace {

struct ServeFlags {
  int handler_threads = 64;
  int64_t grace_ms = 10'000;
};

// broker.type: embedded (the log under general.data_dir), kafka (librdkafka) or
// memory (nothing persisted; for experiments).
Result<std::unique_ptr<broker::Broker>> OpenServeBroker(const Config& config) {
  const std::string& type = config.Get("broker.type");
  if (type == "embedded") {
    auto broker = broker::EmbeddedBroker::Open(config);
    if (!broker.ok()) {
      if (auto running = RunningServer(config); running.ok()) {
        return broker.status().WithContext("held by pinpipe pid " + running->second +
                                           " serving Kafka at " + running->first);
      }
      return broker.status();
    }
    return std::unique_ptr<broker::Broker>(std::move(*broker));
  }
  if (type == "kafka") return kafka::NewKafkaBroker(config);
  if (type == "memory") return std::unique_ptr<broker::Broker>(new api::MemoryBroker());
  return InvalidArgumentError("broker.type must be embedded, kafka or memory, not '" + type + "'");
}

Status Serve(const Config& config, const ServeFlags& flags) {
  // Block the stop signals (and SIGHUP, the reload) before any thread starts
  // (the broker starts some), so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  sigdelset(&signals, SIGHUP);  // the reload watcher waits for it, not the stop below
  PINPIPE_ASSIGN_OR_RETURN(auto options, api::ServiceOptionsFromConfig(config));
  PINPIPE_ASSIGN_OR_RETURN(int64_t io_threads, config.GetInt("api.threads"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t body_limit, config.GetBytes("api.body_limit"));
  if (io_threads < 1 || io_threads > 256) {
    return InvalidArgumentError("api.threads must be between 1 and 256");
  }
  if (body_limit < 1) return InvalidArgumentError("api.body_limit must be positive");
  if (flags.handler_threads < 1 || flags.handler_threads > 4096) {
    return InvalidArgumentError("--handler-threads must be between 1 and 4096");
  }
  PINPIPE_ASSIGN_OR_RETURN(auto broker, OpenServeBroker(config));
  api::Service service(*broker, Clock::Real(), std::move(options));
  PINPIPE_RETURN_IF_ERROR(service.Open());

  http::ServerOptions so;
  so.listen = config.Get("api.listen");
  so.io_threads = static_cast<int>(io_threads);
  so.worker_threads = flags.handler_threads;
  so.body_limit = static_cast<uint64_t>(body_limit);
  so.tls_cert_file = config.Get("api.tls_cert");
  so.tls_key_file = config.Get("api.tls_key");
  http::Server server(
      so,
      [&service](http::Request req, http::Responder respond) {
        service.HandleAsync(std::move(req), std::move(respond));
      },
      [&service](int status, std::string_view reason, const http::Request& req,
                 http::Response& res) { service.HandleError(status, reason, req, res); });
  service.SetOffloader([&server](std::function<void()> work) { server.Offload(std::move(work)); });
  service.SetConnectionGauge([&server] { return server.open_connections(); });

  PINPIPE_RETURN_IF_ERROR(server.Start());
  spdlog::info("serve: listening on {} (port {}{}), broker {}", so.listen, server.port(),
               so.tls_cert_file.empty() ? "" : ", TLS", broker->Kind());
  auto kafka_server = StartKafkaApi(config, *broker, &service.tenants(), &service.quotas());
  if (!kafka_server.ok()) {
    server.Stop(flags.grace_ms);
    return kafka_server.status();
  }
  if (*kafka_server) {
    spdlog::info("serve: Kafka protocol on {} (advertised {})", config.Get("kafka_api.listen"),
                 (*kafka_server)->advertised());
  }
  // SIGHUP was blocked since the start, so one sent before this waits for the watcher.
  WatchTenantReloads(config, &service.tenants(),
                     [&server, kafka = kafka_server->get()] { ReloadTls(&server, kafka); });
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("serve: signal {}, finishing requests in flight", sig);
  server.Stop(flags.grace_ms);
  if (*kafka_server) {
    (*kafka_server)->Stop();
    if (broker->Kind() == "embedded") RemoveKafkaAddressFile(config);
  }
  spdlog::info("serve: stopped");
  return Status::Ok();
}

}  // namespace

void RegisterServeCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<ServeFlags>();
  auto* serve = app.add_subcommand(
      "serve",
      "Serve the ingestion API: Kafka REST Proxy v2 (/topics, /consumers), Kinesis through the "
      "API Gateway routes (/streams) and the native Kinesis protocol (POST /), plus /healthz and "
      "/metrics. Stops gracefully on SIGINT/SIGTERM.\n"
      "Example: pinpipe serve --listen 127.0.0.1:8082 --data-dir ./data");
  ctx.BindFlag(serve, "--listen", "api.listen", "Address to listen on, host:port");
  ctx.BindFlag(serve, "--kafka-listen", "kafka_api.listen",
               "Address of the Kafka protocol, host:port (\"\" = off)");
  ctx.BindFlag(serve, "--data-dir", "general.data_dir", "Folder for the log and local state");
  serve->add_option(
      "--handler-threads", flags->handler_threads,
      "Threads for requests that may block (metadata, consumers); produce requests wait "
      "for durability without a thread");
  serve->add_option("--grace-ms", flags->grace_ms,
                    "How long shutdown waits for requests in flight");
  ctx.SetAction(serve, [flags](const Config& config) { return Serve(config, *flags); });
}

}  // namespace pinpipe::app
