#include "pinpipe/runtime/status.h"

#include <algorithm>

#include "pinpipe/base/names.h"
#include "pinpipe/schedule/run_store.h"

namespace pinpipe::runtime {
namespace {

using nlohmann::json;

json HistogramToJson(const LatencyHistogram& h) {
  // le ascending, the last (+Inf) written as -1: what StatusHistory reads.
  json le = json::array(), counts = json::array();
  for (size_t i = 0; i < h.upper_bounds.size() && i < h.counts.size(); ++i) {
    le.push_back(h.upper_bounds[i]);
    counts.push_back(h.counts[i]);
  }
  le.push_back(-1);
  counts.push_back(h.total);
  return {{"le", std::move(le)}, {"counts", std::move(counts)}};
}

json TopicToJson(const TopicStatus& t) {
  return {
      {"name", t.name}, {"partitions", t.partitions}, {"records", t.records}, {"bytes", t.bytes}};
}

json TableToJson(const StreamTableStatus& t) {
  const stream::QueryStatus& q = t.query;
  return {{"name", t.table},
          {"stream", q.stream},
          {"version", q.table_version},
          {"rows", q.rows},
          {"batches", q.batches},
          {"rejected", q.rejected},
          {"duplicates", q.duplicates},
          {"lag_ms", q.lag_ms},
          {"latency_p50_ms", q.last_latency_p50_ms},
          {"latency_p99_ms", q.last_latency_p99_ms},
          {"last_error", q.last_error}};
}

template <typename T, typename Pred>
void KeepIf(std::vector<T>& items, Pred keep) {
  items.erase(std::remove_if(items.begin(), items.end(), [&](const T& t) { return !keep(t); }),
              items.end());
}

}  // namespace

int64_t SinkSection::Lag() const {
  int64_t lag = 0;
  for (const auto& p : partitions) lag += std::max<int64_t>(0, p.lag);
  return lag;
}

json RunToJson(const schedule::RunRecord& r) {
  return {{"id", r.id},
          {"dag", r.dag},
          {"trigger", r.trigger},
          {"state", schedule::StateName(r.state)},
          {"logical_date_s", r.logical_date_s},
          {"start_ms", r.start_ms},
          {"end_ms", r.end_ms},
          {"results", r.results_location},
          {"error", r.error}};
}

json StatusToJson(const PipelineStatus& s) {
  json out = {{"time_ms", s.time_ms},
              {"started_ms", s.started_ms},
              {"prefix", s.prefix},
              {"broker", s.broker}};
  if (s.tenant) out["tenant"] = *s.tenant;
  if (s.api) {
    out["api"] = {{"requests", s.api->requests},
                  {"records", s.api->records},
                  {"produce_latency", HistogramToJson(s.api->produce_latency)}};
  }
  json topics = json::array(), streams = json::array();
  for (const auto& t : s.topics) topics.push_back(TopicToJson(t));
  for (const auto& t : s.streams) streams.push_back(TopicToJson(t));
  out["topics"] = std::move(topics);
  out["streams"] = std::move(streams);

  json partitions = json::array();
  for (const auto& p : s.sink.partitions) partitions.push_back(sink::PartitionStatusToJson(p));
  out["sink"] = {
      {"enabled", s.sink.enabled}, {"lag", s.sink.Lag()}, {"partitions", std::move(partitions)}};

  json tables = json::array();
  for (const auto& t : s.stream_job.tables) tables.push_back(TableToJson(t));
  out["stream_job"] = {{"enabled", s.stream_job.enabled}, {"tables", std::move(tables)}};

  if (s.lake) out["lake"] = {{"objects", s.lake->objects}, {"bytes", s.lake->bytes}};

  json dags = json::array(), runs = json::array();
  for (const auto& d : s.scheduler.dags) {
    dags.push_back({{"name", d.name}, {"schedule", d.schedule}, {"next_fire_ms", d.next_fire_ms}});
  }
  for (const auto& r : s.scheduler.runs) runs.push_back(RunToJson(r));
  out["scheduler"] = {{"dags", std::move(dags)}, {"runs", std::move(runs)}};

  json errors = json::array();
  for (const auto& e : s.errors) {
    errors.push_back({{"time_ms", e.time_ms}, {"component", e.component}, {"message", e.message}});
  }
  out["errors"] = std::move(errors);
  return out;
}

PipelineStatus ForTenant(PipelineStatus s, const auth::Tenant& tenant,
                         const std::vector<std::string>& dags) {
  auto owns_dag = [&](const std::string& d) {
    return std::find(dags.begin(), dags.end(), d) != dags.end();
  };
  s.tenant = tenant.name;
  s.prefix = tenant.prefixes.empty() ? "" : tenant.prefixes.front();
  KeepIf(s.topics, [&](const TopicStatus& t) { return tenant.OwnsTopic(t.name); });
  KeepIf(s.streams, [&](const TopicStatus& t) { return tenant.OwnsStream(t.name); });
  KeepIf(s.sink.partitions,
         [&](const sink::PartitionStatus& p) { return tenant.OwnsTopic(p.topic); });
  KeepIf(s.stream_job.tables,
         [&](const StreamTableStatus& t) { return tenant.OwnsTable(t.table); });
  KeepIf(s.scheduler.dags, [&](const DagStatus& d) { return owns_dag(d.name); });
  KeepIf(s.scheduler.runs, [&](const schedule::RunRecord& r) { return owns_dag(r.dag); });
  s.api.reset();
  s.lake.reset();
  s.errors.clear();
  return s;
}

void ErrorLog::Record(int64_t time_ms, std::string component, std::string message) {
  std::lock_guard lock(mu_);
  entries_.push_back({time_ms, std::move(component), std::move(message)});
  while (entries_.size() > capacity_) entries_.pop_front();
}

std::vector<ErrorEntry> ErrorLog::Newest() const {
  std::lock_guard lock(mu_);
  return {entries_.begin(), entries_.end()};
}

}  // namespace pinpipe::runtime
