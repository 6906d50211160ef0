#include "pinpipe/web/browse.h"

#include <algorithm>

#include "pinpipe/table/delta_table.h"
#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::web {
namespace {

using nlohmann::json;

constexpr int32_t kChunk = 500;  // records per Fetch while filtering

json OptionalString(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

json RecordJson(const broker::StoredRecord& r) {
  json headers = json::array();
  for (const auto& h : r.headers) headers.push_back({{"key", h.key}, {"value", h.value}});
  return {{"offset", r.offset},
          {"timestamp_ms", r.timestamp_ms},
          {"key", OptionalString(r.key)},
          {"headers", std::move(headers)},
          {"value", OptionalString(r.value)}};
}

bool Matches(const broker::StoredRecord& r, const std::string& filter) {
  if (filter.empty()) return true;
  if (r.key && r.key->find(filter) != std::string::npos) return true;
  if (r.value && r.value->find(filter) != std::string::npos) return true;
  return std::any_of(r.headers.begin(), r.headers.end(), [&](const broker::Header& h) {
    return h.value.find(filter) != std::string::npos || h.key.find(filter) != std::string::npos;
  });
}

Result<broker::PartitionInfo> FindPartition(broker::Broker& broker, const std::string& topic,
                                            int32_t partition) {
  PINPIPE_ASSIGN_OR_RETURN(auto d, broker.DescribeTopic(topic));
  for (const auto& p : d.partitions) {
    if (p.partition == partition) return p;
  }
  return NotFoundError("topic '" + topic + "' has no partition " + std::to_string(partition));
}

// Records [from, to) of one partition (fewer if the log has gaps), in order.
Result<std::vector<broker::StoredRecord>> ReadRange(broker::Broker& broker,
                                                    const std::string& topic, int32_t partition,
                                                    int64_t from, int64_t to) {
  std::vector<broker::StoredRecord> out;
  while (from < to) {
    broker::FetchOptions options;
    options.max_records = static_cast<int32_t>(std::min<int64_t>(to - from, kChunk));
    PINPIPE_ASSIGN_OR_RETURN(auto page, broker.Fetch(topic, partition, from, options));
    if (page.records.empty()) break;
    for (auto& r : page.records) {
      if (r.offset >= to) break;
      from = r.offset + 1;
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

Result<json> DescribeTopicJson(broker::Broker& broker, const std::string& topic) {
  PINPIPE_ASSIGN_OR_RETURN(auto d, broker.DescribeTopic(topic));
  json partitions = json::array();
  for (const auto& p : d.partitions) {
    json first = nullptr, last = nullptr;
    if (p.high_watermark > p.log_start_offset) {
      broker::FetchOptions one;
      one.max_records = 1;
      auto a = broker.Fetch(topic, p.partition, p.log_start_offset, one);
      if (a.ok() && !a->records.empty()) first = a->records[0].timestamp_ms;
      auto b = broker.Fetch(topic, p.partition, p.high_watermark - 1, one);
      if (b.ok() && !b->records.empty()) last = b->records[0].timestamp_ms;
    }
    partitions.push_back({{"partition", p.partition},
                          {"log_start_offset", p.log_start_offset},
                          {"high_watermark", p.high_watermark},
                          {"records", p.high_watermark - p.log_start_offset},
                          {"bytes", p.size_bytes},
                          {"first_timestamp_ms", first},
                          {"last_timestamp_ms", last}});
  }
  return json{{"name", d.name}, {"partitions", std::move(partitions)}};
}

Result<json> BrowseRecords(broker::Broker& broker, const RecordQuery& q) {
  if (q.limit < 1 || q.limit > 500) return InvalidArgumentError("limit must be 1..500");
  PINPIPE_ASSIGN_OR_RETURN(auto p, FindPartition(broker, q.topic, q.partition));
  const int64_t lso = p.log_start_offset, hwm = p.high_watermark;
  int64_t start = -1;
  if (q.offset >= 0) {
    start = std::clamp(q.offset, lso, hwm);
  } else if (q.time_ms >= 0) {
    PINPIPE_ASSIGN_OR_RETURN(start, broker.OffsetForTimestamp(q.topic, q.partition, q.time_ms));
    start = std::clamp(start, lso, hwm);
  }
  std::vector<broker::StoredRecord> records;
  int64_t end = 0, scanned = 0;
  if (start >= 0) {
    // Forward from `start`: the first `limit` (matching) records.
    int64_t at = start;
    while (at < hwm && static_cast<int32_t>(records.size()) < q.limit && scanned < q.max_scan) {
      const int64_t want =
          q.filter.empty() ? q.limit - static_cast<int64_t>(records.size()) : kChunk;
      PINPIPE_ASSIGN_OR_RETURN(
          auto chunk, ReadRange(broker, q.topic, q.partition, at, std::min(hwm, at + want)));
      if (chunk.empty()) break;
      for (auto& r : chunk) {
        if (static_cast<int32_t>(records.size()) >= q.limit) break;
        ++scanned;
        at = r.offset + 1;
        if (Matches(r, q.filter)) records.push_back(std::move(r));
      }
    }
    end = at;
  } else {
    // Backward from the high watermark: the newest `limit` (matching) records.
    end = q.before >= 0 ? std::clamp(q.before, lso, hwm) : hwm;
    int64_t hi = end;
    start = end;
    while (hi > lso && static_cast<int32_t>(records.size()) < q.limit && scanned < q.max_scan) {
      const int64_t lo =
          std::max(lso, hi - (q.filter.empty() ? q.limit - static_cast<int64_t>(records.size())
                                               : int64_t{kChunk}));
      PINPIPE_ASSIGN_OR_RETURN(auto chunk, ReadRange(broker, q.topic, q.partition, lo, hi));
      std::vector<broker::StoredRecord> matched;
      scanned += static_cast<int64_t>(chunk.size());
      for (auto& r : chunk) {
        if (Matches(r, q.filter)) matched.push_back(std::move(r));
      }
      records.insert(records.begin(), std::make_move_iterator(matched.begin()),
                     std::make_move_iterator(matched.end()));
      start = lo;
      hi = lo;
    }
    if (static_cast<int32_t>(records.size()) > q.limit) {
      records.erase(records.begin(), records.end() - q.limit);
      start = records.front().offset;
    }
  }
  json out_records = json::array();
  for (const auto& r : records) out_records.push_back(RecordJson(r));
  return json{
      {"topic", q.topic},      {"partition", q.partition}, {"log_start_offset", lso},
      {"high_watermark", hwm}, {"start", start},           {"end", end},
      {"scanned", scanned},    {"filter", q.filter},       {"records", std::move(out_records)}};
}

Result<json> DescribeTableJson(objstore::ObjectStore& store, const std::string& name,
                               int history_limit, int preview_rows) {
  table::DeltaTable t(store, name + "/");
  PINPIPE_ASSIGN_OR_RETURN(bool exists, t.Exists());
  if (!exists) return NotFoundError("no Delta table '" + name + "' yet");
  PINPIPE_ASSIGN_OR_RETURN(table::Snapshot s, t.Load());
  json schema = json::array();
  for (const auto& f : s.schema.fields) {
    schema.push_back(
        {{"name", f.name}, {"type", table::ColumnTypeName(f.type)}, {"nullable", f.nullable}});
  }
  json history = json::array();
  PINPIPE_ASSIGN_OR_RETURN(auto commits, t.History(history_limit));
  for (const auto& c : commits) {
    // Delta writes operationMetrics values as strings.
    auto metric = [&](const char* key) -> json {
      if (!c.contains("operationMetrics") || !c["operationMetrics"].is_object()) return nullptr;
      const auto& m = c["operationMetrics"];
      if (!m.contains(key)) return nullptr;
      if (m[key].is_number()) return m[key];
      if (m[key].is_string()) {
        const std::string v = m[key].get<std::string>();
        char* end = nullptr;
        const long long n = std::strtoll(v.c_str(), &end, 10);
        if (end && *end == 0 && !v.empty()) return n;
      }
      return nullptr;
    };
    json files = metric("numFiles");
    if (files.is_null()) files = metric("numAddedFiles");
    history.push_back({{"version", c.value("version", int64_t{-1})},
                       {"timestamp", c.value("timestamp", int64_t{0})},
                       {"operation", c.value("operation", std::string())},
                       {"rows_added", metric("numOutputRows")},
                       {"files_added", files}});
  }
  // The newest rows: read data files newest first until there are enough.
  std::vector<const table::AddFile*> files;
  for (const auto& [path, f] : s.files) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](const auto* a, const auto* b) {
    return a->modification_time != b->modification_time
               ? a->modification_time > b->modification_time
               : a->path > b->path;
  });
  std::vector<json> preview;
  for (const auto* f : files) {
    if (static_cast<int>(preview.size()) >= preview_rows) break;
    PINPIPE_ASSIGN_OR_RETURN(std::string data, store.Get(t.Key(f->path)));
    PINPIPE_ASSIGN_OR_RETURN(auto file, table::ParquetFile::Open(std::move(data)));
    PINPIPE_ASSIGN_OR_RETURN(auto rows, file.ReadJsonRows());
    const size_t want = static_cast<size_t>(preview_rows) - preview.size();
    const size_t from = rows.size() > want ? rows.size() - want : 0;
    preview.insert(preview.begin(), rows.begin() + static_cast<std::ptrdiff_t>(from), rows.end());
  }
  return json{{"name", name},
              {"version", s.version},
              {"files", s.files.size()},
              {"rows", s.NumRecords()},
              {"bytes", s.NumBytes()},
              {"schema", std::move(schema)},
              {"history", std::move(history)},
              {"preview", std::move(preview)}};
}

json RunJson(const schedule::RunRecord& r) {
  json out = {{"id", r.id},
              {"dag", r.dag},
              {"trigger", r.trigger},
              {"state", schedule::StateName(r.state)},
              {"logical_date_s", r.logical_date_s},
              {"queued_ms", r.queued_ms},
              {"start_ms", r.start_ms},
              {"end_ms", r.end_ms},
              {"results", r.results_location},
              {"error", r.error}};
  if (!r.tasks.empty()) {
    json tasks = json::array();
    for (const auto& t : r.tasks) {
      tasks.push_back({{"task", t.task},
                       {"state", schedule::StateName(t.state)},
                       {"attempts", t.attempts},
                       {"start_ms", t.start_ms},
                       {"end_ms", t.end_ms},
                       {"log", t.log}});
    }
    out["tasks"] = std::move(tasks);
  }
  return out;
}

}  // namespace pinpipe::web
