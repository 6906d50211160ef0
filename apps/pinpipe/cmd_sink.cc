// `pinpipe sink [--config sink.properties] [--once]` and `pinpipe sink status`:
// the object-store sink with the Confluent S3 sink connector's semantics
// (runtime/sink_worker.h). Without --once it runs until SIGINT/SIGTERM; then
// it leaves the group and exits 0 (open, uncommitted files are consumed again
// by the next run). With --once it drains every partition to its high
// watermark, commits the open files and exits. Status is written to
// <general.data_dir>/sink/<name>.status.json.
#include <iostream>
#include <memory>

#include "cli.h"
#include "pinpipe/runtime/sink_worker.h"

namespace pinpipe::app {
namespace {

Status ShowStatus(const Config& config, bool json) {
  PINPIPE_ASSIGN_OR_RETURN(sink::SinkStatus status, runtime::ReadSinkStatus(config));
  std::cout << (json ? status.ToJson() : status.ToTable());
  return Status::Ok();
}

}  // namespace

void RegisterSinkCommands(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand(
      "sink",
      "Write topics to the object store with the Confluent S3 sink connector's semantics.\n"
      "Example: pinpipe sink --config sink.properties --once");
  cmd->require_subcommand(0, 1);
  ctx.BindFlag(cmd, "--config", "sink.config",
               "Connector .properties file (topics/topics.regex, flush.size, partitioner.class, "
               "...)");
  ctx.BindFlag(cmd, "--store", "lake.url", "Object store URL: file:///path or s3://bucket/prefix");
  ctx.BindFlag(cmd, "--data-dir", "general.data_dir", "Folder of the embedded log and status");
  ctx.BindFlag(cmd, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  auto once = std::make_shared<bool>(false);
  cmd->add_flag("--once", *once, "Drain every partition, commit open files, and exit");
  auto* status = cmd->add_subcommand(
      "status", "Per topic-partition committed offset, lag, objects, bytes and last error");
  ctx.BindFlag(status, "--config", "sink.config", "Connector .properties file");
  ctx.BindFlag(status, "--data-dir", "general.data_dir", "Folder of the embedded log and status");
  ctx.BindFlag(status, "--bootstrap", "broker.bootstrap", kBootstrapHelp);
  auto json = std::make_shared<bool>(false);
  status->add_flag("--json", *json, "Print JSON instead of a table");
  ctx.SetAction(cmd, [once, json, status](const Config& config) -> Status {
    if (status->parsed()) return ShowStatus(config, *json);
    // With --once a stop signal ends the process, as it always has.
    if (*once) return runtime::RunSinkOnce(config);
    runtime::SignalWaiter signals;  // before any thread starts
    return runtime::RunSink(config, signals);
  });
}

}  // namespace pinpipe::app
