// Metrics: the API server's counters and latency histograms, rendered in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
// Families:
//   pinpipe_http_requests_total{route,status}            counter
//   pinpipe_http_request_duration_seconds{route}          histogram
//   pinpipe_api_records_in_total{api}                     counter
//   pinpipe_api_bytes_in_total{api}                       counter
//   pinpipe_http_open_connections                         gauge (from a callback)
//   pinpipe_log_size_bytes{topic}                         gauge (from a callback)
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pinpipe::api {

// True for the routes that accept records (Kafka REST produce, Kinesis
// PutRecord(s), the API Gateway's record routes): their latency is what a
// producer waits for.
bool IsProduceRoute(std::string_view route);

class Metrics {
 public:
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  // One finished request. `route` is a fixed route name such as "kafka.produce".
  void RecordRequest(std::string_view route, int status, int64_t micros);
  // Records and payload bytes accepted by `api` ("kafka" or "kinesis").
  void AddRecords(std::string_view api, int64_t records, int64_t bytes);

  // Extra gauges computed at scrape time: name -> list of (labels, value);
  // labels is already formatted, e.g. `topic="a"` (may be empty).
  using GaugeSource = std::function<std::vector<std::pair<std::string, double>>()>;
  void AddGauge(std::string name, std::string help, GaugeSource source);

  // The whole exposition.
  std::string Render() const;

  // Requests counted so far for (route, status); for tests.
  int64_t RequestCount(std::string_view route, int status) const;

  // Typed reads of the same counters /metrics renders, for the status API
  // (which must not parse the text it would render).
  // Every request counted so far, over all routes and statuses.
  int64_t TotalRequests() const;
  // Records accepted so far, over every API.
  int64_t TotalRecordsIn() const;
  // A cumulative latency histogram: counts[i] requests took <= upper_bounds[i]
  // seconds (kBuckets); `total` is the +Inf bucket.
  struct LatencyHistogram {
    std::vector<double> upper_bounds;
    std::vector<int64_t> counts;
    int64_t total = 0;
  };
  // The summed histogram of every produce route (IsProduceRoute).
  LatencyHistogram ProduceLatency() const;

 private:
  struct Histogram {
    std::array<int64_t, kBuckets.size()> buckets{};
    int64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string name;
    std::string help;
    GaugeSource source;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t, std::less<>> requests_;
  std::map<std::string, Histogram, std::less<>> latency_;
  std::map<std::string, std::pair<int64_t, int64_t>, std::less<>> records_;  // records, bytes
  std::vector<Gauge> gauges_;
};

}  // namespace pinpipe::api
