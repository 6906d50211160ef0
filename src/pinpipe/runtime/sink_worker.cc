#include "pinpipe/runtime/sink_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/file.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/runtime/wiring.h"

namespace pinpipe::runtime {
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

// A started sink with what it needs kept alive.
struct OpenedSink {
  sink::SinkConfig config;
  std::unique_ptr<objstore::ObjectStore> store;
  std::unique_ptr<broker::Broker> broker;
  std::unique_ptr<sink::Sink> sink;
  fs::path status_path;
};

Result<OpenedSink> StartSink(const Config& config) {
  OpenedSink s;
  PINPIPE_ASSIGN_OR_RETURN(s.config, sink::SinkConfig::FromPinpipeConfig(config));
  PINPIPE_ASSIGN_OR_RETURN(s.store, OpenSinkStore(config, s.config));
  PINPIPE_ASSIGN_OR_RETURN(s.broker, OpenBroker(config));
  PINPIPE_ASSIGN_OR_RETURN(s.sink,
                           sink::Sink::Create(s.config, *s.broker, *s.store, &Clock::Real()));
  PINPIPE_RETURN_IF_ERROR(s.sink->Start());
  s.status_path = SinkStatusPath(config, s.config.name);
  spdlog::info("sink {}: group {} -> {}", s.config.name, s.config.group(), s.store->Url());
  return s;
}

}  // namespace

fs::path SinkStatusPath(const Config& config, const std::string& name) {
  return fs::path(config.Get("general.data_dir")) / "sink" / (name + ".status.json");
}

Status RunSinkOnce(const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(OpenedSink s, StartSink(config));
  Status drained = s.sink->Drain(true);
  Status written = WriteStatusFile(s.status_path, s.sink->GetStatus());
  Status closed = s.sink->Close();
  PINPIPE_RETURN_IF_ERROR(drained);
  PINPIPE_RETURN_IF_ERROR(closed);
  return written;
}

Status RunSink(const Config& config, SignalWaiter& signals) {
  PINPIPE_ASSIGN_OR_RETURN(OpenedSink s, StartSink(config));
  auto last_status = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  Status last_write;
  while (!signals.stopping()) {
    auto stepped = s.sink->Step(200);
    if (!stepped.ok()) {
      ReportStatusWrite(WriteStatusFile(s.status_path, s.sink->GetStatus()), &last_write);
      (void)s.sink->Close();
      return stepped.status();
    }
    if (std::chrono::steady_clock::now() - last_status > std::chrono::seconds(1)) {
      ReportStatusWrite(WriteStatusFile(s.status_path, s.sink->GetStatus()), &last_write);
      last_status = std::chrono::steady_clock::now();
    }
  }
  spdlog::info("sink {}: stopping", s.config.name);
  Status written = WriteStatusFile(s.status_path, s.sink->GetStatus());
  PINPIPE_RETURN_IF_ERROR(s.sink->Close());
  return written;
}

Result<sink::SinkStatus> ReadSinkStatus(const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(sink::SinkConfig sc, sink::SinkConfig::FromPinpipeConfig(config));
  const fs::path path = SinkStatusPath(config, sc.name);
  auto text = FileSystem::Default().ReadFile(path);
  if (!text.ok()) {
    return NotFoundError("no status for sink " + sc.name + " (" + path.string() + "); has it run?");
  }
  PINPIPE_ASSIGN_OR_RETURN(sink::SinkStatus status, sink::SinkStatus::FromJson(*text));
  auto broker = OpenBroker(config);
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
  return status;
}

}  // namespace pinpipe::runtime
