// `pinpipe stream`: the streaming job on its own (it also runs inside `pinpipe up`).
#include <iostream>

#include "cli.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/runtime/stream_job.h"
#include "pinpipe/stream/status.h"

namespace pinpipe::app {
namespace {

struct StreamFlags {
  bool once = false;
};

Status ShowStreamStatus(const Config& config, bool json) {
  PINPIPE_ASSIGN_OR_RETURN(runtime::StreamStatusFile file, runtime::ReadStreamStatus(config));
  if (json) {
    std::cout << file.text;
    return Status::Ok();
  }
  const int64_t age_s = (Clock::Real().NowMillis() - file.updated_ms) / 1000;
  std::cout << stream::StatusesToTable(file.statuses) << "(written " << age_s
            << " s ago by the running or last job)\n";
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
  ctx.BindFlag(cmd, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  ctx.BindFlag(cmd, "--source", "stream.source", "broker or kinesis");
  ctx.BindFlag(cmd, "--kinesis-endpoint", "stream.kinesis_endpoint", "Kinesis endpoint URL");
  ctx.BindFlag(cmd, "--initial-position", "stream.initial_position", "earliest or latest");
  ctx.BindFlag(cmd, "--trigger", "stream.trigger_ms", "Micro-batch interval, e.g. 200ms");
  cmd->add_flag("--once", flags->once, "Process what the streams hold now, then exit");
  cmd->require_subcommand(0, 1);
  auto* status = cmd->add_subcommand(
      "status",
      "Per stream: table version, commits, rows, rejects, duplicates dropped, lag "
      "(MillisBehindLatest), arrival-to-commit p99 latency, shard positions and last error");
  ctx.BindFlag(status, "--prefix", "general.prefix", "User prefix naming streams and tables");
  ctx.BindFlag(status, "--data-dir", "general.data_dir", "Folder of the embedded log and status");
  auto json = std::make_shared<bool>(false);
  status->add_flag("--json", *json, "Print JSON instead of a table");
  ctx.SetAction(cmd, [flags, json, status](const Config& config) -> Status {
    if (status->parsed()) return ShowStreamStatus(config, *json);
    runtime::SignalWaiter signals;  // before any thread starts
    return runtime::RunStreamJob(config, flags->once, signals, std::cout);
  });
}

}  // namespace pinpipe::app
