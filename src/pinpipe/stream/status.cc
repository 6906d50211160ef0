#include "pinpipe/stream/status.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace pinpipe::stream {

std::string StatusesToJson(const std::vector<QueryStatus>& statuses, int64_t updated_ms) {
  nlohmann::json streams = nlohmann::json::array();
  for (const auto& s : statuses) {
    streams.push_back({{"stream", s.stream},
                       {"next_batch", s.next_batch},
                       {"batches", s.batches},
                       {"rows", s.rows},
                       {"rejected", s.rejected},
                       {"duplicates", s.duplicates},
                       {"table_version", s.table_version},
                       {"lag_ms", s.lag_ms},
                       {"latency_p50_ms", s.last_latency_p50_ms},
                       {"latency_p99_ms", s.last_latency_p99_ms},
                       {"positions", s.positions},
                       {"last_error", s.last_error}});
  }
  return nlohmann::json{{"updated_ms", updated_ms}, {"streams", streams}}.dump(1) + "\n";
}

Result<std::vector<QueryStatus>> StatusesFromJson(std::string_view text, int64_t* updated_ms) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("streams") ||
      !doc["streams"].is_array()) {
    return InvalidArgumentError("not a stream status document");
  }
  if (updated_ms != nullptr) *updated_ms = doc.value("updated_ms", int64_t{0});
  std::vector<QueryStatus> out;
  try {
    for (const auto& j : doc["streams"]) {
      QueryStatus s;
      s.stream = j.value("stream", "");
      s.next_batch = j.value("next_batch", int64_t{0});
      s.batches = j.value("batches", int64_t{0});
      s.rows = j.value("rows", int64_t{0});
      s.rejected = j.value("rejected", int64_t{0});
      s.duplicates = j.value("duplicates", int64_t{0});
      s.table_version = j.value("table_version", int64_t{-1});
      s.lag_ms = j.value("lag_ms", int64_t{0});
      s.last_latency_p50_ms = j.value("latency_p50_ms", int64_t{0});
      s.last_latency_p99_ms = j.value("latency_p99_ms", int64_t{0});
      if (j.contains("positions") && j["positions"].is_object()) {
        s.positions = j["positions"].get<std::map<std::string, std::string>>();
      }
      s.last_error = j.value("last_error", "");
      out.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("stream status: ") + e.what());
  }
  return out;
}

std::string StatusesToTable(const std::vector<QueryStatus>& statuses) {
  std::string out = fmt::format("{:<32} {:>8} {:>9} {:>10} {:>8} {:>6} {:>8} {:>8}  {}\n", "stream",
                                "version", "commits", "rows", "rejected", "dups", "lag ms",
                                "p99 ms", "positions / last error");
  for (const auto& s : statuses) {
    std::string where;
    for (const auto& [shard, pos] : s.positions) {
      if (!where.empty()) where += ' ';
      where += shard + "@" + pos;
    }
    if (!s.last_error.empty()) where += (where.empty() ? "" : " ") + ("error: " + s.last_error);
    out += fmt::format("{:<32} {:>8} {:>9} {:>10} {:>8} {:>6} {:>8} {:>8}  {}\n", s.stream,
                       s.table_version, s.batches, s.rows, s.rejected, s.duplicates, s.lag_ms,
                       s.last_latency_p99_ms, where);
  }
  return out;
}

std::vector<MetricFamily> StatusesToMetrics(const std::vector<QueryStatus>& statuses) {
  std::vector<MetricFamily> out = {
      {"pinpipe_stream_rows", "Rows appended to the Delta table by this process.", {}},
      {"pinpipe_stream_commits", "Micro-batches committed by this process.", {}},
      {"pinpipe_stream_rejected_records", "Records the cleaning rejected.", {}},
      {"pinpipe_stream_duplicates_dropped", "Records dropped as repeated inds.", {}},
      {"pinpipe_stream_table_version", "Latest Delta table version.", {}},
      {"pinpipe_stream_lag_ms", "MillisBehindLatest of the last read.", {}},
      {"pinpipe_stream_latency_p99_ms", "Arrival-to-commit p99 of the last micro-batch.", {}},
      {"pinpipe_stream_failed", "1 while the last micro-batch failed.", {}},
  };
  for (const auto& s : statuses) {
    const std::string labels = "stream=\"" + EscapeLabelValue(s.stream) + "\"";
    const double values[] = {static_cast<double>(s.rows),
                             static_cast<double>(s.batches),
                             static_cast<double>(s.rejected),
                             static_cast<double>(s.duplicates),
                             static_cast<double>(s.table_version),
                             static_cast<double>(s.lag_ms),
                             static_cast<double>(s.last_latency_p99_ms),
                             s.last_error.empty() ? 0.0 : 1.0};
    for (size_t i = 0; i < out.size(); ++i) out[i].samples.emplace_back(labels, values[i]);
  }
  return out;
}

}  // namespace pinpipe::stream
