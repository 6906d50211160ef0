// The typed status model behind GET /api/status (docs/status-api.md): one
// struct tree filled from the components' typed getters (api::Metrics,
// Broker::DescribeTopic, sink::Sink::GetStatus, stream::StreamJob::Statuses,
// the scheduler and the run store), serialized to JSON in one place
// (StatusToJson). Nothing here reads the Prometheus text /metrics renders.
//
// ErrorLog is the "errors" list: components record an error once, when it
// happens (the sink's run loop, the stream job's error listener), never from
// inside a status read.
//
// Thread-safety: the structs are values; ErrorLog may be used from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pinpipe/api/metrics.h"
#include "pinpipe/auth/tenants.h"
#include "pinpipe/schedule/run_store.h"
#include "pinpipe/sink/sink.h"
#include "pinpipe/stream/query.h"

namespace pinpipe::runtime {

// The summed produce-route histogram (api/metrics.h).
using LatencyHistogram = api::Metrics::LatencyHistogram;

struct ApiStatus {
  int64_t requests = 0;  // every request answered, all routes
  int64_t records = 0;   // records accepted, every API
  LatencyHistogram produce_latency;
};

// A topic or a stream (streams are topics named by StreamName).
struct TopicStatus {
  std::string name;
  int64_t partitions = 0;
  int64_t records = 0;  // high watermark - log start, summed over partitions
  int64_t bytes = 0;
};

struct SinkSection {
  bool enabled = false;
  std::vector<sink::PartitionStatus> partitions;
  // Records not yet committed: the sum of the partitions' known lags.
  int64_t Lag() const;
};

struct StreamTableStatus {
  std::string table;  // TableName(prefix, kind)
  stream::QueryStatus query;
};

struct StreamJobSection {
  bool enabled = false;
  std::vector<StreamTableStatus> tables;
};

struct LakeStatus {
  int64_t objects = 0;
  int64_t bytes = 0;
};

struct DagStatus {
  std::string name;
  std::string schedule;  // "" for DAGs without a configured cron
  int64_t next_fire_ms = 0;
};

struct SchedulerSection {
  std::vector<DagStatus> dags;
  std::vector<schedule::RunRecord> runs;  // newest first
};

struct ErrorEntry {
  int64_t time_ms = 0;
  std::string component;  // "sink", "stream"
  std::string message;
};

struct PipelineStatus {
  int64_t time_ms = 0;
  int64_t started_ms = 0;
  std::string prefix;
  std::string broker;                 // Broker::Kind()
  std::optional<std::string> tenant;  // set in a tenant's view
  std::optional<ApiStatus> api;       // pipeline-wide: not in a tenant's view
  std::vector<TopicStatus> topics;
  std::vector<TopicStatus> streams;
  SinkSection sink;
  StreamJobSection stream_job;
  std::optional<LakeStatus> lake;  // pipeline-wide: not in a tenant's view
  SchedulerSection scheduler;
  std::vector<ErrorEntry> errors;
};

// The /api/status document (docs/status-api.md); every field of the struct
// tree, always in the same order.
nlohmann::json StatusToJson(const PipelineStatus& status);
// One scheduler run as /api/status and /api/runs show it (without tasks).
nlohmann::json RunToJson(const schedule::RunRecord& run);

// What `tenant` may see of `status`: its topics, streams, sink partitions,
// tables and the DAGs (and their runs) in `dags`; without the pipeline-wide
// figures (api, lake) and errors, which would tell about the others.
PipelineStatus ForTenant(PipelineStatus status, const auth::Tenant& tenant,
                         const std::vector<std::string>& dags);

// The newest `capacity` errors, each recorded once by the component that met it.
class ErrorLog {
 public:
  explicit ErrorLog(size_t capacity = 50) : capacity_(capacity) {}
  void Record(int64_t time_ms, std::string component, std::string message);
  std::vector<ErrorEntry> Newest() const;  // oldest first

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<ErrorEntry> entries_;
};

}  // namespace pinpipe::runtime
