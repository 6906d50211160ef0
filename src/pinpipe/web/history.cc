#include "pinpipe/web/history.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

namespace pinpipe::web {
namespace {

double Number(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0;
}

}  // namespace

std::optional<double> QuantileBetween(const nlohmann::json& before, const nlohmann::json& after,
                                      double q) {
  if (!after.is_object() || !after.contains("le") || !after.contains("counts")) return std::nullopt;
  const auto& le = after["le"];
  const auto& counts = after["counts"];
  if (!le.is_array() || !counts.is_array() || le.size() != counts.size() || le.empty())
    return std::nullopt;
  const bool have_before = before.is_object() && before.contains("counts") &&
                           before["counts"].is_array() && before["counts"].size() == counts.size();
  std::vector<double> delta(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    delta[i] = counts[i].get<double>() - (have_before ? before["counts"][i].get<double>() : 0.0);
  }
  const double total = delta.back();
  if (total <= 0) return std::nullopt;
  const double rank = q * total;
  double lower_bound = 0, lower_count = 0;
  for (size_t i = 0; i < delta.size(); ++i) {
    double upper = le[i].get<double>();
    if (upper < 0) return lower_bound;  // in +Inf: the highest finite bound, as Prometheus does
    if (delta[i] >= rank) {
      const double in_bucket = delta[i] - lower_count;
      if (in_bucket <= 0) return upper;
      return lower_bound + (upper - lower_bound) * (rank - lower_count) / in_bucket;
    }
    lower_bound = upper;
    lower_count = delta[i];
  }
  return lower_bound;
}

void StatusHistory::Add(const nlohmann::json& s) {
  if (!s.is_object()) return;
  const int64_t now = s.value("time_ms", int64_t{0});
  std::map<std::string, double> counters, values;
  auto each = [&](const char* list, auto fn) {
    if (s.contains(list) && s[list].is_array())
      for (const auto& x : s[list]) fn(x);
  };
  each("topics", [&](const nlohmann::json& t) {
    counters["in:" + t.value("name", "")] = Number(t, "records");
  });
  each("streams", [&](const nlohmann::json& t) {
    counters["in:" + t.value("name", "")] = Number(t, "records");
  });
  if (s.contains("sink") && s["sink"].is_object() && s["sink"].value("enabled", false)) {
    const auto& sink = s["sink"];
    values["sink_lag"] = Number(sink, "lag");
    if (sink.contains("partitions") && sink["partitions"].is_array()) {
      for (const auto& p : sink["partitions"]) {
        counters["out:" + p.value("topic", "")] += Number(p, "records");
      }
    }
  }
  if (s.contains("stream_job") && s["stream_job"].is_object() &&
      s["stream_job"].contains("tables") && s["stream_job"]["tables"].is_array()) {
    for (const auto& t : s["stream_job"]["tables"]) {
      const std::string stream = t.value("stream", "");
      counters["out:" + stream] = Number(t, "rows");
      values["stream_lag_ms:" + stream] = Number(t, "lag_ms");
      if (t.contains("latency_p50_ms"))
        values["commit_p50_ms:" + stream] = Number(t, "latency_p50_ms");
      if (t.contains("latency_p99_ms"))
        values["commit_p99_ms:" + stream] = Number(t, "latency_p99_ms");
    }
  }
  nlohmann::json histogram;
  if (s.contains("api") && s["api"].is_object() && s["api"].contains("produce_latency"))
    histogram = s["api"]["produce_latency"];

  std::lock_guard lock(mu_);
  if (prev_time_ms_ >= 0 && now > prev_time_ms_) {
    const double dt = static_cast<double>(now - prev_time_ms_) / 1000.0;
    for (const auto& [name, v] : counters) {
      auto it = prev_counters_.find(name);
      // A counter seen for the first time (a new topic) has no rate yet.
      if (it != prev_counters_.end()) values[name] = std::max(0.0, (v - it->second) / dt);
    }
    if (!histogram.is_null()) {
      if (auto p50 = QuantileBetween(prev_histogram_, histogram, 0.5))
        values["produce_p50_ms"] = *p50 * 1000;
      if (auto p99 = QuantileBetween(prev_histogram_, histogram, 0.99))
        values["produce_p99_ms"] = *p99 * 1000;
    }
  }
  if (prev_time_ms_ < 0 || now > prev_time_ms_) {
    prev_time_ms_ = now;
    prev_counters_ = std::move(counters);
    prev_histogram_ = std::move(histogram);
    Push(now, values);
  }
}

void StatusHistory::Push(int64_t time_ms, const std::map<std::string, double>& values) {
  const size_t before = times_.size();
  times_.push_back(time_ms);
  for (auto& [name, list] : series_) {
    auto it = values.find(name);
    list.push_back(it == values.end() ? std::nullopt : std::optional<double>(it->second));
  }
  for (const auto& [name, v] : values) {
    if (series_.count(name)) continue;
    auto& list = series_[name];
    list.assign(before, std::nullopt);
    list.push_back(v);
  }
  while (times_.size() > capacity_) {
    times_.pop_front();
    for (auto& [name, list] : series_) list.pop_front();
  }
  // A series with no value left in the window (a deleted topic) goes.
  for (auto it = series_.begin(); it != series_.end();) {
    const bool empty = std::none_of(it->second.begin(), it->second.end(),
                                    [](const auto& v) { return v.has_value(); });
    it = empty ? series_.erase(it) : std::next(it);
  }
}

nlohmann::json StatusHistory::ToJson(int64_t since_ms) const {
  std::lock_guard lock(mu_);
  const size_t first = static_cast<size_t>(
      std::upper_bound(times_.begin(), times_.end(), since_ms) - times_.begin());
  nlohmann::json times = nlohmann::json::array();
  for (size_t i = first; i < times_.size(); ++i) times.push_back(times_[i]);
  nlohmann::json series = nlohmann::json::object();
  for (const auto& [name, list] : series_) {
    nlohmann::json values = nlohmann::json::array();
    for (size_t i = first; i < list.size(); ++i) {
      if (list[i])
        values.push_back(std::round(*list[i] * 1000) / 1000);
      else
        values.push_back(nullptr);
    }
    series[name] = std::move(values);
  }
  return {{"period_ms", period_ms_},
          {"capacity", capacity_},
          {"time_ms", std::move(times)},
          {"series", std::move(series)}};
}

size_t StatusHistory::size() const {
  std::lock_guard lock(mu_);
  return times_.size();
}

void StatusHistory::Start(std::function<nlohmann::json()> status, int64_t period_ms) {
  {
    std::lock_guard lock(mu_);
    period_ms_ = period_ms;
  }
  thread_ = std::thread([this, status = std::move(status), period_ms] {
    auto next = std::chrono::steady_clock::now();
    std::unique_lock lock(run_mu_);
    while (!stop_) {
      lock.unlock();
      Add(status());
      lock.lock();
      // Fixed-rate ticks: a slow status call does not drift the samples apart.
      next += std::chrono::milliseconds(period_ms);
      run_cv_.wait_until(lock, next, [this] { return stop_; });
    }
  });
}

void StatusHistory::Stop() {
  {
    std::lock_guard lock(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pinpipe::web
