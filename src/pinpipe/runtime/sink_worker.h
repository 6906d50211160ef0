// `pinpipe sink`: the object-store sink on its own (inside `pinpipe up` it is
// part of the Pipeline), with the Confluent S3 sink connector's semantics, and
// the status file it leaves for `pinpipe sink status`:
// <general.data_dir>/sink/<name>.status.json (sink::SinkStatus::ToJson),
// replaced durably and atomically, so a reader sees the old file or the new.
#pragma once

#include <filesystem>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"
#include "pinpipe/runtime/signals.h"
#include "pinpipe/sink/sink.h"

namespace pinpipe::runtime {

// Runs the sink configured by `config` (sink.config, lake.url, the broker)
// until `signals` is stopping, writing the status file about once a second;
// then it leaves the group and returns Ok (open, uncommitted files are
// consumed again by the next run). A failing step is returned after a last
// status write. `signals` must have been constructed before any thread started.
Status RunSink(const Config& config, SignalWaiter& signals);

// `pinpipe sink --once`: drains every partition to its high watermark,
// commits the open files, writes the status file and returns. Installs no
// signal handling (a stop signal ends the process).
Status RunSinkOnce(const Config& config);

// <general.data_dir>/sink/<name>.status.json.
std::filesystem::path SinkStatusPath(const Config& config, const std::string& name);

// The status file of the sink configured by `config`, with committed offsets,
// high watermarks and lag refreshed from the broker when it can be opened
// (the embedded log is exclusive to one process: a running sink holds it).
// NotFound when the sink has not written one yet.
Result<sink::SinkStatus> ReadSinkStatus(const Config& config);

}  // namespace pinpipe::runtime
