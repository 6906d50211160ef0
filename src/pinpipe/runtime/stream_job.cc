#include "pinpipe/runtime/stream_job.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "pinpipe/base/file.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/runtime/wiring.h"
#include "pinpipe/stream/status.h"

namespace pinpipe::runtime {

Status RunStreamJob(const Config& config, bool once, SignalWaiter& signals, std::ostream& out) {
  PINPIPE_ASSIGN_OR_RETURN(auto tables,
                           objstore::OpenObjectStore(config.Get("stream.tables"), config));
  std::unique_ptr<broker::Broker> broker;
  if (config.Get("stream.source") == "broker") {
    PINPIPE_ASSIGN_OR_RETURN(broker, OpenBroker(config));
  }
  PINPIPE_ASSIGN_OR_RETURN(auto job, BuildStreamJob(config, broker.get(), tables.get()));
  PINPIPE_RETURN_IF_ERROR(job->Recover());
  if (once) {
    PINPIPE_RETURN_IF_ERROR(job->RunUntilDrained());
  } else {
    job->Start();
    spdlog::info("stream: running (prefix {}, tables {}); SIGTERM stops after the batch in hand",
                 config.Get("general.prefix"), tables->Url());
    signals.Wait();
    spdlog::info("stream: stopping");
    job->Stop();
  }
  out << stream::StatusesToTable(job->Statuses());
  return Status::Ok();
}

Result<StreamStatusFile> ReadStreamStatus(const Config& config) {
  const std::string path = StreamStatusPath(config);
  auto text = FileSystem::Default().ReadFile(path);
  if (!text.ok()) {
    return NotFoundError("no status for the streaming job of prefix '" +
                         config.Get("general.prefix") + "' (" + path + "); has it run?");
  }
  StreamStatusFile out;
  out.text = std::move(text).value();
  PINPIPE_ASSIGN_OR_RETURN(out.statuses, stream::StatusesFromJson(out.text, &out.updated_ms));
  return out;
}

}  // namespace pinpipe::runtime
