#include "pinpipe/api/metrics.h"

#include <fmt/format.h>

namespace pinpipe::api {

void Metrics::RecordRequest(std::string_view route, int status, int64_t micros) {
  const double seconds = static_cast<double>(micros) / 1e6;
  std::lock_guard lock(mu_);
  auto key = std::make_pair(std::string(route), status);
  ++requests_[key];
  auto it = latency_.find(route);
  if (it == latency_.end()) it = latency_.emplace(std::string(route), Histogram{}).first;
  Histogram& h = it->second;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::AddRecords(std::string_view api, int64_t records, int64_t bytes) {
  std::lock_guard lock(mu_);
  auto it = records_.find(api);
  if (it == records_.end()) it = records_.emplace(std::string(api), std::make_pair(0, 0)).first;
  it->second.first += records;
  it->second.second += bytes;
}

void Metrics::AddGauge(std::string name, std::string help, GaugeSource source) {
  std::lock_guard lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(source)});
}

int64_t Metrics::RequestCount(std::string_view route, int status) const {
  std::lock_guard lock(mu_);
  auto it = requests_.find(std::make_pair(std::string(route), status));
  return it == requests_.end() ? 0 : it->second;
}

bool IsProduceRoute(std::string_view route) {
  return route.starts_with("kafka.produce") || route == "kinesis.PutRecord" ||
         route == "kinesis.PutRecords" || route.starts_with("gateway.put_record");
}

int64_t Metrics::TotalRequests() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const auto& [key, n] : requests_) total += n;
  return total;
}

int64_t Metrics::TotalRecordsIn() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const auto& [api, v] : records_) total += v.first;
  return total;
}

Metrics::LatencyHistogram Metrics::ProduceLatency() const {
  LatencyHistogram out;
  out.upper_bounds.assign(kBuckets.begin(), kBuckets.end());
  out.counts.assign(kBuckets.size(), 0);
  std::lock_guard lock(mu_);
  for (const auto& [route, h] : latency_) {
    if (!IsProduceRoute(route)) continue;
    int64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out.counts[i] += cumulative;
    }
    out.total += h.count;
  }
  return out;
}

std::string Metrics::Render() const {
  std::vector<Gauge> gauges;
  std::string out;
  {
    std::lock_guard lock(mu_);
    gauges = gauges_;
    out += "# HELP pinpipe_http_requests_total HTTP requests by route and status.\n";
    out += "# TYPE pinpipe_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      out += fmt::format("pinpipe_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                         key.first, key.second, n);
    }
    out += "# HELP pinpipe_http_request_duration_seconds Time from request read to response.\n";
    out += "# TYPE pinpipe_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      int64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out += fmt::format(
            "pinpipe_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
            kBuckets[i], cumulative);
      }
      out += fmt::format(
          "pinpipe_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route,
          h.count);
      out += fmt::format("pinpipe_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                         h.sum);
      out += fmt::format("pinpipe_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                         h.count);
    }
    out += "# HELP pinpipe_api_records_in_total Records accepted through the API.\n";
    out += "# TYPE pinpipe_api_records_in_total counter\n";
    for (const auto& [api, v] : records_) {
      out += fmt::format("pinpipe_api_records_in_total{{api=\"{}\"}} {}\n", api, v.first);
    }
    out += "# HELP pinpipe_api_bytes_in_total Record payload bytes accepted through the API.\n";
    out += "# TYPE pinpipe_api_bytes_in_total counter\n";
    for (const auto& [api, v] : records_) {
      out += fmt::format("pinpipe_api_bytes_in_total{{api=\"{}\"}} {}\n", api, v.second);
    }
  }
  // Gauge sources may be slow (they ask the broker); run them unlocked.
  for (const auto& g : gauges) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", g.name, g.help, g.name);
    for (const auto& [labels, value] : g.source()) {
      if (labels.empty()) {
        out += fmt::format("{} {}\n", g.name, value);
      } else {
        out += fmt::format("{}{{{}}} {}\n", g.name, labels, value);
      }
    }
  }
  return out;
}

}  // namespace pinpipe::api
