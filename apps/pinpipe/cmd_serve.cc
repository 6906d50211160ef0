// `pinpipe serve`: the HTTP ingestion API (Kafka REST v2 + Kinesis) on the
// configured broker, until SIGINT or SIGTERM; then it stops accepting,
// finishes the requests in flight and exits 0 (runtime/serve.h).
#include <memory>

#include "cli.h"
#include "pinpipe/runtime/serve.h"

namespace pinpipe::app {

void RegisterServeCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<runtime::ServeOptions>();
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
  ctx.SetAction(serve, [flags](const Config& config) {
    runtime::SignalWaiter signals;  // before any thread starts
    return runtime::RunServe(config, *flags, signals);
  });
}

}  // namespace pinpipe::app
