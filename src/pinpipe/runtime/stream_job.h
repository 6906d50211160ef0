// `pinpipe stream`: the streaming job of general.prefix on its own (inside
// `pinpipe up` it is part of the Pipeline).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"
#include "pinpipe/runtime/signals.h"
#include "pinpipe/stream/status.h"

namespace pinpipe::runtime {

// `pinpipe stream`: the streaming job of general.prefix on its own. With
// `once`, until the streams are drained; else until a stop signal (the
// micro-batch in hand is committed). Prints the per-stream table to `out`.
Status RunStreamJob(const Config& config, bool once, SignalWaiter& signals, std::ostream& out);

// The status file the streaming job of general.prefix leaves
// (StreamStatusPath, wiring.h), for `pinpipe stream status`.
struct StreamStatusFile {
  std::string text;  // the file as written (stream/status.h's JSON)
  std::vector<stream::QueryStatus> statuses;
  int64_t updated_ms = 0;  // when the job wrote it
};
// NotFound when no job of general.prefix has written one yet.
Result<StreamStatusFile> ReadStreamStatus(const Config& config);

}  // namespace pinpipe::runtime
