// `pinpipe sink [--config sink.properties] [--once]` and `pinpipe sink status`:
// the object-store sink with the Confluent S3 sink connector's semantics.
// Without --once it runs until SIGINT/SIGTERM; then it leaves the group and
// exits 0 (open, uncommitted files are consumed again by the next run). With
// --once it drains every partition to its high watermark, commits the open
// files and exits. Status is written to <general.data_dir>/sink/<name>.status.json.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "cli.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/base/file.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/runtime/wiring.h"
#include "pinpipe/sink/sink.h"

namespace pinpipe::app {
namespace {
namespace fs = std::filesystem;

bool IsDefault(const Config& config, std::string_view key) {
  auto it = config.entries().find(key);
  return it == config.entries().end() || it->second.origin == Config::Origin::kDefault;
}

// The lake for the sink: lake.url, completed from the connector's own
// s3.bucket.name / s3.region / store.url when lake.url is a bare "s3://".
Result<std::unique_ptr<objstore::ObjectStore>> OpenSinkStore(const Config& config,
                                                             const sink::SinkConfig& sc) {
  std::string url = config.Get("lake.url");
  Config effective = config;
  if (url == "s3://" || url == "s3:") {
    if (sc.s3_bucket.empty()) {
      return InvalidArgumentError("lake.url is s3:// but the properties name no s3.bucket.name");
    }
    url = "s3://" + sc.s3_bucket;
  }
  if (url.starts_with("s3://")) {
    if (!sc.store_url.empty() && IsDefault(config, "s3.endpoint")) {
      PINPIPE_RETURN_IF_ERROR(effective.Set("s3.endpoint", sc.store_url));
    }
    if (!sc.s3_region.empty() && IsDefault(config, "s3.region")) {
      PINPIPE_RETURN_IF_ERROR(effective.Set("s3.region", sc.s3_region));
    }
  }
  return objstore::OpenObjectStore(url, effective);
}

fs::path StatusPath(const Config& config, const std::string& name) {
  return fs::path(config.Get("general.data_dir")) / "sink" / (name + ".status.json");
}

// Durably and atomically: `pinpipe sink status` sees the old file or the new.
Status WriteStatusFile(const fs::path& path, const sink::SinkStatus& status) {
  FileSystem& files = FileSystem::Default();
  PINPIPE_RETURN_IF_ERROR(files.CreateDirs(path.parent_path()));
  return files.WriteFileAtomically(path, status.ToJson());
}

// Logs a failed status write once per distinct error (not every second).
void ReportStatusWrite(const Status& s, Status* last) {
  if (!s.ok() && s != *last) spdlog::warn("sink: status file: {}", s.ToString());
  *last = s;
}

Status RunSink(const Config& config, bool once) {
  // Without --once, SIGINT/SIGTERM stop the loop below (before the broker
  // starts threads); with --once they end the process, as before.
  std::optional<runtime::SignalWaiter> signals;
  if (!once) signals.emplace();
  PINPIPE_ASSIGN_OR_RETURN(sink::SinkConfig sc, sink::SinkConfig::FromPinpipeConfig(config));
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenSinkStore(config, sc));
  PINPIPE_ASSIGN_OR_RETURN(auto broker, runtime::OpenBroker(config));
  PINPIPE_ASSIGN_OR_RETURN(auto sink,
                           sink::Sink::Create(sc, broker.get(), store.get(), &Clock::Real()));
  PINPIPE_RETURN_IF_ERROR(sink->Start());
  const fs::path status_path = StatusPath(config, sc.name);
  spdlog::info("sink {}: group {} -> {}", sc.name, sc.group(), store->Url());
  if (once) {
    Status drained = sink->Drain(true);
    Status written = WriteStatusFile(status_path, sink->GetStatus());
    Status closed = sink->Close();
    PINPIPE_RETURN_IF_ERROR(drained);
    PINPIPE_RETURN_IF_ERROR(closed);
    return written;
  }
  auto last_status = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  Status last_write;
  while (!signals->stopping()) {
    auto stepped = sink->Step(200);
    if (!stepped.ok()) {
      ReportStatusWrite(WriteStatusFile(status_path, sink->GetStatus()), &last_write);
      (void)sink->Close();
      return stepped.status();
    }
    if (std::chrono::steady_clock::now() - last_status > std::chrono::seconds(1)) {
      ReportStatusWrite(WriteStatusFile(status_path, sink->GetStatus()), &last_write);
      last_status = std::chrono::steady_clock::now();
    }
  }
  spdlog::info("sink {}: stopping", sc.name);
  Status written = WriteStatusFile(status_path, sink->GetStatus());
  PINPIPE_RETURN_IF_ERROR(sink->Close());
  return written;
}

Status ShowStatus(const Config& config, bool json) {
  PINPIPE_ASSIGN_OR_RETURN(sink::SinkConfig sc, sink::SinkConfig::FromPinpipeConfig(config));
  const fs::path path = StatusPath(config, sc.name);
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("no status for sink " + sc.name + " (" + path.string() + "); has it run?");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  PINPIPE_ASSIGN_OR_RETURN(sink::SinkStatus status, sink::SinkStatus::FromJson(buf.str()));
  // Refresh committed offsets and lag from the broker when it can be opened
  // (the embedded log is exclusive to one process: a running sink holds it).
  auto broker = runtime::OpenBroker(config);
  if (broker.ok()) {
    for (auto& p : status.partitions) {
      auto desc = (*broker)->DescribeTopic(p.topic);
      auto committed = (*broker)->FetchCommittedOffsets(sc.group(), p.topic);
      if (!desc.ok() || !committed.ok()) continue;
      for (const auto& d : desc->partitions) {
        if (d.partition == p.partition) p.high_watermark = d.high_watermark;
      }
      for (const auto& c : *committed) {
        if (c.partition == p.partition) p.committed_offset = c.offset;
      }
      if (p.high_watermark >= 0) {
        p.lag = std::max<int64_t>(0, p.high_watermark - std::max<int64_t>(0, p.committed_offset));
      }
    }
  }
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
    return RunSink(config, *once);
  });
}

}  // namespace pinpipe::app
