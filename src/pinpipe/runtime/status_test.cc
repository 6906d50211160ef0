#include "pinpipe/runtime/status.h"

#include <gtest/gtest.h>

namespace pinpipe::runtime {
namespace {

using nlohmann::json;

// Every field of the model set to a distinct value.
PipelineStatus FullStatus() {
  PipelineStatus s;
  s.time_ms = 2000;
  s.started_ms = 1000;
  s.prefix = "p";
  s.broker = "embedded";
  ApiStatus api;
  api.requests = 12;
  api.records = 34;
  api.produce_latency.upper_bounds = {0.001, 0.01};
  api.produce_latency.counts = {1, 3};
  api.produce_latency.total = 4;
  s.api = api;
  s.topics = {{"p.pin", 1, 10, 100}, {"q.pin", 2, 20, 200}};
  s.streams = {{"streaming-p-pin", 1, 5, 50}};
  s.sink.enabled = true;
  sink::PartitionStatus part;
  part.topic = "p.pin";
  part.partition = 0;
  part.committed_offset = 8;
  part.high_watermark = 10;
  part.lag = 2;
  part.objects = 3;
  part.bytes = 300;
  part.records = 8;
  part.dead_lettered = 1;
  part.skipped = 1;
  part.failed = false;
  part.last_error = "";
  sink::PartitionStatus other = part;
  other.topic = "q.pin";
  other.lag = 5;
  other.failed = true;
  other.last_error = "bad record";
  s.sink.partitions = {part, other};
  s.stream_job.enabled = true;
  stream::QueryStatus q;
  q.stream = "streaming-p-pin";
  q.table_version = 7;
  q.rows = 40;
  q.batches = 4;
  q.rejected = 2;
  q.duplicates = 3;
  q.lag_ms = 9;
  q.last_latency_p50_ms = 11;
  q.last_latency_p99_ms = 22;
  q.last_error = "";
  stream::QueryStatus q2 = q;
  q2.stream = "streaming-q-geo";
  s.stream_job.tables = {{"p_pin_table", q}, {"q_geo_table", q2}};
  s.lake = LakeStatus{6, 600};
  s.scheduler.dags = {{"batch", "@daily", 86'400'000}, {"batch-q", "", 0}};
  schedule::RunRecord run;
  run.id = 5;
  run.dag = "batch";
  run.trigger = "manual";
  run.state = schedule::State::kSuccess;
  run.logical_date_s = 86'400;
  run.queued_ms = 1;
  run.start_ms = 2;
  run.end_ms = 3;
  run.results_location = "/r/run-5";
  run.error = "";
  schedule::RunRecord run_q = run;
  run_q.id = 6;
  run_q.dag = "batch-q";
  s.scheduler.runs = {run, run_q};
  s.errors = {{1500, "sink", "store down"}};
  return s;
}

TEST(StatusModelTest, SerializesEveryFieldInTheDocumentedShape) {
  const json expected = json::parse(R"({
    "time_ms": 2000, "started_ms": 1000, "prefix": "p", "broker": "embedded",
    "api": {"requests": 12, "records": 34,
            "produce_latency": {"le": [0.001, 0.01, -1], "counts": [1, 3, 4]}},
    "topics": [{"name": "p.pin", "partitions": 1, "records": 10, "bytes": 100},
               {"name": "q.pin", "partitions": 2, "records": 20, "bytes": 200}],
    "streams": [{"name": "streaming-p-pin", "partitions": 1, "records": 5, "bytes": 50}],
    "sink": {"enabled": true, "lag": 7, "partitions": [
      {"topic": "p.pin", "partition": 0, "committed_offset": 8, "high_watermark": 10, "lag": 2,
       "objects": 3, "bytes": 300, "records": 8, "dead_lettered": 1, "skipped": 1,
       "failed": false, "last_error": ""},
      {"topic": "q.pin", "partition": 0, "committed_offset": 8, "high_watermark": 10, "lag": 5,
       "objects": 3, "bytes": 300, "records": 8, "dead_lettered": 1, "skipped": 1,
       "failed": true, "last_error": "bad record"}]},
    "stream_job": {"enabled": true, "tables": [
      {"name": "p_pin_table", "stream": "streaming-p-pin", "version": 7, "rows": 40,
       "batches": 4, "rejected": 2, "duplicates": 3, "lag_ms": 9, "latency_p50_ms": 11,
       "latency_p99_ms": 22, "last_error": ""},
      {"name": "q_geo_table", "stream": "streaming-q-geo", "version": 7, "rows": 40,
       "batches": 4, "rejected": 2, "duplicates": 3, "lag_ms": 9, "latency_p50_ms": 11,
       "latency_p99_ms": 22, "last_error": ""}]},
    "lake": {"objects": 6, "bytes": 600},
    "scheduler": {
      "dags": [{"name": "batch", "schedule": "@daily", "next_fire_ms": 86400000},
               {"name": "batch-q", "schedule": "", "next_fire_ms": 0}],
      "runs": [{"id": 5, "dag": "batch", "trigger": "manual", "state": "success",
                "logical_date_s": 86400, "start_ms": 2, "end_ms": 3, "results": "/r/run-5",
                "error": ""},
               {"id": 6, "dag": "batch-q", "trigger": "manual", "state": "success",
                "logical_date_s": 86400, "start_ms": 2, "end_ms": 3, "results": "/r/run-5",
                "error": ""}]},
    "errors": [{"time_ms": 1500, "component": "sink", "message": "store down"}]
  })");
  const json actual = StatusToJson(FullStatus());
  EXPECT_EQ(actual, expected) << actual.dump(2);
  // Stable: the same model gives the same bytes.
  EXPECT_EQ(StatusToJson(FullStatus()).dump(), actual.dump());
}

TEST(StatusModelTest, AnEmptyPipelineStillHasEverySection) {
  PipelineStatus s;
  s.api = ApiStatus{};
  const json j = StatusToJson(s);
  for (const char* key : {"time_ms", "started_ms", "prefix", "broker", "api", "topics", "streams",
                          "sink", "stream_job", "scheduler", "errors"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["sink"], json::parse(R"({"enabled": false, "lag": 0, "partitions": []})"));
  EXPECT_EQ(j["api"]["produce_latency"], json::parse(R"({"le": [-1], "counts": [0]})"));
  EXPECT_FALSE(j.contains("tenant"));
}

TEST(StatusModelTest, UnknownLagDoesNotLowerTheSinkLag) {
  SinkSection sink;
  sink.partitions.resize(2);
  sink.partitions[0].lag = -1;  // unknown
  sink.partitions[1].lag = 4;
  EXPECT_EQ(sink.Lag(), 4);
}

TEST(StatusModelTest, TenantViewKeepsOnlyWhatTheTenantOwns) {
  auth::Tenant tenant;
  tenant.name = "team-q";
  tenant.prefixes = {"q"};
  const json j = StatusToJson(ForTenant(FullStatus(), tenant, {"batch-q"}));
  EXPECT_EQ(j["tenant"], "team-q");
  EXPECT_EQ(j["prefix"], "q");
  ASSERT_EQ(j["topics"].size(), 1u);
  EXPECT_EQ(j["topics"][0]["name"], "q.pin");
  EXPECT_TRUE(j["streams"].empty());
  ASSERT_EQ(j["sink"]["partitions"].size(), 1u);
  EXPECT_EQ(j["sink"]["lag"], 5);  // its partitions' lag only
  ASSERT_EQ(j["stream_job"]["tables"].size(), 1u);
  EXPECT_EQ(j["stream_job"]["tables"][0]["name"], "q_geo_table");
  ASSERT_EQ(j["scheduler"]["dags"].size(), 1u);
  EXPECT_EQ(j["scheduler"]["dags"][0]["name"], "batch-q");
  ASSERT_EQ(j["scheduler"]["runs"].size(), 1u);
  EXPECT_EQ(j["scheduler"]["runs"][0]["id"], 6);
  // Pipeline-wide figures and errors would tell about the others.
  EXPECT_FALSE(j.contains("api"));
  EXPECT_FALSE(j.contains("lake"));
  EXPECT_TRUE(j["errors"].empty());
}

TEST(ErrorLogTest, KeepsTheNewestInOrder) {
  ErrorLog log(2);
  log.Record(1, "sink", "a");
  log.Record(2, "stream", "b");
  log.Record(3, "sink", "c");
  const auto newest = log.Newest();
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].message, "b");
  EXPECT_EQ(newest[1].message, "c");
  EXPECT_EQ(newest[1].time_ms, 3);
}

}  // namespace
}  // namespace pinpipe::runtime
