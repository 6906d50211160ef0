// StatusHistory: the last N seconds of the pipeline's throughput, lag and
// latency, sampled from /api/status once a second and kept in memory, so a
// dashboard opened late still draws the last 15 minutes (GET /api/status/history).
//
// Each sample turns the status's counters into rates against the previous
// sample (records/s in per topic and stream, records/s out of the sink and the
// stream job), copies its gauges (sink lag, stream lag) and derives produce
// latency quantiles from the change of the produce histogram since the
// previous sample. Series are named "<kind>:<name>" (see docs/status-api.md).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pinpipe::web {

// The q-quantile (0..1) of the observations between two cumulative histograms
// {"le": [seconds...], "counts": [...]} (le ascending, the last is +Inf written
// as -1; the status API's api.produce_latency), interpolated linearly inside the bucket as
// Prometheus' histogram_quantile does; nullopt when nothing was observed.
std::optional<double> QuantileBetween(const nlohmann::json& before, const nlohmann::json& after,
                                      double q);

class StatusHistory {
 public:
  explicit StatusHistory(size_t capacity = 900) : capacity_(capacity) {}
  ~StatusHistory() { Stop(); }
  StatusHistory(const StatusHistory&) = delete;
  StatusHistory& operator=(const StatusHistory&) = delete;

  // Adds one sample taken from a /api/status document.
  void Add(const nlohmann::json& status);

  // {"period_ms", "capacity", "time_ms": [...], "series": {"in:topic": [v|null, ...]}}:
  // samples with time_ms > since_ms, oldest first; every series has one value
  // per time (null where it had none).
  nlohmann::json ToJson(int64_t since_ms = 0) const;
  size_t size() const;

  // Calls `status` every period_ms on a thread of its own and adds the result,
  // until Stop (which the destructor calls).
  void Start(std::function<nlohmann::json()> status, int64_t period_ms = 1000);
  void Stop();

 private:
  void Push(int64_t time_ms, const std::map<std::string, double>& values);

  const size_t capacity_;
  mutable std::mutex mu_;
  int64_t period_ms_ = 1000;
  std::deque<int64_t> times_;
  std::map<std::string, std::deque<std::optional<double>>> series_;
  // The previous sample's counters, to turn them into rates.
  int64_t prev_time_ms_ = -1;
  std::map<std::string, double> prev_counters_;
  nlohmann::json prev_histogram_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pinpipe::web
