// `pinpipe serve`: the HTTP ingestion API (Kafka REST v2 + Kinesis, /healthz,
// /metrics) and the Kafka protocol on the configured broker, without the
// sink, the streaming job or the scheduler; until a stop signal, then it stops
// accepting, finishes the requests in flight and returns.
#pragma once

#include <cstdint>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"
#include "pinpipe/runtime/signals.h"

namespace pinpipe::runtime {

struct ServeOptions {
  int handler_threads = 64;   // for requests that may block (CheckedHttpOptions: 1..4096)
  int64_t grace_ms = 10'000;  // how long stopping waits for requests in flight
};

// The settings are checked (checks.h) before the broker opens. `signals` must
// have been constructed before any thread started; SIGHUP reloads tenants.
Status RunServe(const Config& config, const ServeOptions& options, SignalWaiter& signals);

}  // namespace pinpipe::runtime
