// `pinpipe up`: the whole pipeline in one process (see pipeline.h).
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli.h"
#include "pipeline.h"
#include "wiring.h"

namespace pinpipe::app {
namespace {

Status Up(const Config& config) {
  StopSignals signals;  // before any thread starts
  Pipeline pipeline(config);
  if (Status s = pipeline.Start(); !s.ok()) {
    pipeline.Stop();
    return s;
  }
  WatchTenantReloads(config, pipeline.tenants(), [&pipeline] { pipeline.ReloadTls(); });
  const std::string url = pipeline.BaseUrl();
  std::cout << "pinpipe up: prefix " << config.Get("general.prefix") << ", data in "
            << config.Get("general.data_dir") << "\n"
            << "  Kafka REST v2:   " << url << "/topics/" << config.Get("general.prefix")
            << ".pin\n"
            << "  Kafka protocol:  "
            << (pipeline.KafkaAddress().empty() ? std::string("off") : pipeline.KafkaAddress())
            << "\n"
            << "  Kinesis:         " << url << "/streams/streaming-" << config.Get("general.prefix")
            << "-pin/record  (and POST / with X-Amz-Target)\n"
            << "  lake (sink):     " << config.Get("lake.url") << "\n"
            << "  Delta tables:    " << config.Get("stream.tables") << "\n"
            << "  batch schedule:  " << config.Get("schedule.batch_cron") << " ("
            << config.Get("schedule.timezone") << ")\n"
            << "  metrics:         " << url << "/metrics\n"
            << "  dashboard:       " << url << "/ui/\n"
            << "Ctrl-C stops cleanly; a second Ctrl-C exits at once." << std::endl;
  const int sig = signals.Wait();
  spdlog::info("up: signal {}: stopping (finishing requests, flushing the sink and the stream)",
               sig);
  // A second signal during shutdown exits at once; recovery on the next start
  // still loses nothing that was acknowledged.
  std::thread second([&signals] {
    if (signals.WaitAgain(3'600'000)) {
      std::cerr << "pinpipe: second signal, exiting now" << std::endl;
      std::_Exit(130);
    }
  });
  second.detach();
  pipeline.Stop();
  spdlog::info("up: stopped cleanly");
  return Status::Ok();
}

}  // namespace

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
  ctx.SetAction(up, [](const Config& config) { return Up(config); });
}

}  // namespace pinpipe::app
