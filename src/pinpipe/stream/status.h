// The streaming job's status as a file: the job writes it while it runs
// (`pinpipe stream`, `pinpipe up`), `pinpipe stream status` reads it, since
// the running job holds the embedded log and cannot be asked directly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/metric_family.h"
#include "pinpipe/base/status.h"
#include "pinpipe/stream/query.h"

namespace pinpipe::stream {

// {"updated_ms":..., "streams":[{...QueryStatus...}]}
std::string StatusesToJson(const std::vector<QueryStatus>& statuses, int64_t updated_ms);
// InvalidArgument for text that is not such a document.
Result<std::vector<QueryStatus>> StatusesFromJson(std::string_view text,
                                                  int64_t* updated_ms = nullptr);
// One row per stream: position, lag, rows, commits, latency, last error.
std::string StatusesToTable(const std::vector<QueryStatus>& statuses);
// Per-stream gauges for /metrics (label stream="...").
std::vector<MetricFamily> StatusesToMetrics(const std::vector<QueryStatus>& statuses);

}  // namespace pinpipe::stream
