// `pinpipe stream`: the streaming job of general.prefix on its own (inside
// `pinpipe up` it is part of the Pipeline).
#pragma once

#include <ostream>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"
#include "pinpipe/runtime/signals.h"

namespace pinpipe::runtime {

// `pinpipe stream`: the streaming job of general.prefix on its own. With
// `once`, until the streams are drained; else until a stop signal (the
// micro-batch in hand is committed). Prints the per-stream table to `out`.
Status RunStreamJob(const Config& config, bool once, SignalWaiter& signals, std::ostream& out);

}  // namespace pinpipe::runtime
