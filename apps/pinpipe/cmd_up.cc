// `pinpipe up`: the whole pipeline in one process (runtime/pipeline.h).
#include <iostream>

#include "cli.h"
#include "pinpipe/runtime/pipeline.h"

namespace pinpipe::app {

void RegisterUpCommands(CLI::App& app, CommandContext& ctx) {
  auto* up = app.add_subcommand(
      "up",
      "Run the whole pipeline in one process: the HTTP API (Kafka REST v2, Kinesis), the log, "
      "the object-store sink, the streaming job, the scheduler with the daily batch DAG, and the "
      "dashboard at /ui/. Each part can be switched off (sink.enabled, stream.enabled, "
      "schedule.enabled).\n"
      "Example: pinpipe up --listen 127.0.0.1:8082 --data-dir ./data --prefix 0a60b9a8a831");
  ctx.BindFlag(up, "--listen", "api.listen", "Address of the API and dashboard, host:port");
  ctx.BindFlag(up, "--kafka-listen", "kafka_api.listen",
               "Address of the Kafka protocol, host:port (\"\" = off)");
  ctx.BindFlag(up, "--data-dir", "general.data_dir", "Folder for the log and local state");
  ctx.BindFlag(up, "--prefix", "general.prefix", "User prefix naming topics, streams and tables");
  ctx.SetAction(up, [](const Config& config) {
    runtime::SignalWaiter signals;  // before any thread starts
    return runtime::RunUp(config, signals, std::cout);
  });
}

}  // namespace pinpipe::app
