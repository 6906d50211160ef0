// `pinpipe stream`: the streaming job on its own (it also runs inside `pinpipe up`).
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli.h"
#include "pinpipe/objstore/object_store.h"
#include "wiring.h"

namespace pinpipe::app {
namespace {

struct StreamFlags {
  bool once = false;
};

Status RunStream(const Config& config, const StreamFlags& flags) {
  StopSignals signals;
  PINPIPE_ASSIGN_OR_RETURN(auto tables,
                           objstore::OpenObjectStore(config.Get("stream.tables"), config));
  std::unique_ptr<broker::Broker> broker;
  if (config.Get("stream.source") == "broker") {
    PINPIPE_ASSIGN_OR_RETURN(broker, OpenBroker(config));
  }
  PINPIPE_ASSIGN_OR_RETURN(auto job,
                           BuildStreamJob(config, broker.get(), tables.get(), Clock::Real()));
  PINPIPE_RETURN_IF_ERROR(job->Recover());
  if (flags.once) {
    PINPIPE_RETURN_IF_ERROR(job->RunUntilDrained());
  } else {
    job->Start();
    spdlog::info("stream: running (prefix {}, tables {}); SIGTERM stops after the batch in hand",
                 config.Get("general.prefix"), tables->Url());
    signals.Wait();
    spdlog::info("stream: stopping");
    job->Stop();
  }
  for (const auto& s : job->Statuses()) {
    std::cout << s.stream << ": table version " << s.table_version << ", next batch "
              << s.next_batch << ", rows " << s.rows << ", rejected " << s.rejected
              << ", duplicates dropped " << s.duplicates
              << (s.last_error.empty() ? "" : ", last error: " + s.last_error) << "\n";
  }
  return Status::Ok();
}

}  // namespace

void RegisterStreamCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<StreamFlags>();
  auto* cmd = app.add_subcommand(
      "stream",
      "Run the streaming job: read streaming-<prefix>-{pin,geo,user}, clean every record, and "
      "append to the Delta tables <prefix>_{pin,geo,user}_table, exactly once. Runs until "
      "SIGINT/SIGTERM (the micro-batch in hand is committed), or with --once until the streams "
      "are drained.\n"
      "Example: pinpipe stream --prefix 0a60b9a8a831 --tables file://./data/tables --once");
  ctx.BindFlag(cmd, "--prefix", "general.prefix", "User prefix naming streams and tables");
  ctx.BindFlag(cmd, "--tables", "stream.tables", "Root of the Delta tables (file:// or s3://)");
  ctx.BindFlag(cmd, "--data-dir", "general.data_dir", "Folder of the embedded log");
  ctx.BindFlag(cmd, "--source", "stream.source", "broker or kinesis");
  ctx.BindFlag(cmd, "--kinesis-endpoint", "stream.kinesis_endpoint", "Kinesis endpoint URL");
  ctx.BindFlag(cmd, "--initial-position", "stream.initial_position", "earliest or latest");
  ctx.BindFlag(cmd, "--trigger", "stream.trigger_ms", "Micro-batch interval, e.g. 200ms");
  cmd->add_flag("--once", flags->once, "Process what the streams hold now, then exit");
  ctx.SetAction(cmd, [flags](const Config& config) { return RunStream(config, *flags); });
}

}  // namespace pinpipe::app
