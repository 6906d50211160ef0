#include "pinpipe/runtime/pipeline.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "pinpipe/base/names.h"
#include "pinpipe/batch/answers.h"
#include "pinpipe/http/client.h"
#include "pinpipe/runtime/batch_dag.h"
#include "pinpipe/runtime/serve.h"
#include "pinpipe/runtime/sink_worker.h"
#include "pinpipe/runtime/stream_job.h"
#include "pinpipe/runtime/wiring.h"

namespace pinpipe::runtime {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("pinpipe-runtime-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A port nothing listens on: bound, then closed.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A small pipeline on 127.0.0.1 with only the API, under `dir`.
Config SmallPipeline(const fs::path& dir) {
  Config c;
  auto set = [&](const char* key, std::string value) {
    EXPECT_TRUE(c.Set(key, std::move(value)).ok()) << key;
  };
  set("general.data_dir", (dir / "data").string());
  set("general.prefix", "rt");
  set("api.listen", "127.0.0.1:0");
  set("kafka_api.listen", "");
  set("lake.url", "file://" + (dir / "lake").string());
  set("stream.tables", "file://" + (dir / "tables").string());
  set("batch.out", (dir / "results").string());
  set("sink.enabled", "false");
  set("stream.enabled", "false");
  set("schedule.enabled", "false");
  return c;
}

TEST(PipelineTest, UpAndServeRefuseTheSameApiThreads) {
  TempDir dir;
  Config config = SmallPipeline(dir.path());
  ASSERT_TRUE(config.Set("api.threads", "0").ok());
  Pipeline pipeline(config);
  Status up = pipeline.Start();
  EXPECT_EQ(up.code(), StatusCode::kInvalidArgument) << up.ToString();
  EXPECT_NE(up.message().find("api.threads must be between 1 and 256"), std::string::npos);
  // Refused before anything opened: no log, no run history.
  EXPECT_FALSE(fs::exists(dir.path() / "data"));
  SignalWaiter signals;
  Status serve = RunServe(config, ServeOptions{}, signals);
  EXPECT_EQ(serve.code(), StatusCode::kInvalidArgument) << serve.ToString();
  EXPECT_EQ(serve.message(), up.message());
}

TEST(PipelineTest, StatusReadsTheApiMetricsAndTopicsDirectly) {
  TempDir dir;
  Pipeline pipeline(SmallPipeline(dir.path()));
  ASSERT_TRUE(pipeline.Start().ok());
  auto client = http::Client::Create(pipeline.BaseUrl());
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Send("POST", "/topics/" + TopicName("rt", "pin"),
                             {{"Content-Type", "application/vnd.kafka.json.v2+json"}},
                             R"({"records":[{"value":{"index":1}},{"value":{"index":2}}]})");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->status, 200) << res->body;
  // The request is counted as its answer goes out: read until it shows.
  PipelineStatus s = pipeline.GetStatus();
  for (int i = 0; i < 200 && s.api->produce_latency.total < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    s = pipeline.GetStatus();
  }
  ASSERT_TRUE(s.api.has_value());
  EXPECT_EQ(s.api->records, 2);
  EXPECT_GE(s.api->requests, 1);
  EXPECT_EQ(s.api->produce_latency.total, 1);  // one produce request
  EXPECT_EQ(s.api->produce_latency.counts.size(), api::Metrics::kBuckets.size());
  int found = 0;
  for (const auto& t : s.topics) {
    for (auto kind : kTableKindNames) {
      if (t.name != TopicName("rt", kind)) continue;
      ++found;  // created by Start
      EXPECT_EQ(t.records, kind == "pin" ? 2 : 0) << t.name;
    }
  }
  EXPECT_EQ(found, 3);
  EXPECT_TRUE(s.streams.empty());
  EXPECT_EQ(StatusToJson(s)["api"]["produce_latency"]["counts"].back(), 1);
  pipeline.Stop();
}

TEST(PipelineTest, AStreamErrorIsRecordedOnceNotByEveryStatusRead) {
  TempDir dir;
  Config config = SmallPipeline(dir.path());
  ASSERT_TRUE(config.Set("stream.enabled", "true").ok());
  ASSERT_TRUE(config.Set("stream.source", "kinesis").ok());
  // Nothing listens there: every micro-batch fails the same way, and retries.
  ASSERT_TRUE(
      config.Set("stream.kinesis_endpoint", "http://127.0.0.1:" + std::to_string(ClosedPort()))
          .ok());
  Pipeline pipeline(config);
  ASSERT_TRUE(pipeline.Start().ok());
  // One error per query (pin, geo, user) once each has failed.
  for (int i = 0; i < 500 && pipeline.GetStatus().errors.size() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto errors = pipeline.GetStatus().errors;
  ASSERT_EQ(errors.size(), 3u);
  // Polling the status (the dashboard does it every second) adds nothing,
  // although the queries stay failed and keep retrying.
  for (int i = 0; i < 40; ++i) {
    const PipelineStatus s = pipeline.GetStatus();
    for (const auto& t : s.stream_job.tables) EXPECT_FALSE(t.query.last_error.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  errors = pipeline.GetStatus().errors;
  EXPECT_EQ(errors.size(), 3u);
  for (const auto& e : errors) {
    EXPECT_EQ(e.component, "stream");
    EXPECT_NE(e.message.find("pinpipe-stream-rt-"), std::string::npos) << e.message;
  }
  pipeline.Stop();
}

TEST(WiringTest, TheStreamJobIsNamedByTheNamingScheme) {
  TempDir dir;
  Config config = SmallPipeline(dir.path());
  ASSERT_TRUE(config.Set("stream.source", "kinesis").ok());
  ASSERT_TRUE(config.Set("stream.kinesis_endpoint", "http://127.0.0.1:1").ok());
  auto tables = objstore::OpenObjectStore(config.Get("stream.tables"), config);
  ASSERT_TRUE(tables.ok());
  auto job = BuildStreamJob(config, nullptr, tables->get());
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_EQ((*job)->queries().size(), kTableKindNames.size());
  for (size_t i = 0; i < kTableKindNames.size(); ++i) {
    const auto& q = *(*job)->queries()[i];
    EXPECT_EQ(q.options().app_id, StreamQueryId("rt", kTableKindNames[i]));
    EXPECT_EQ(q.options().checkpoint_prefix, StreamCheckpointPrefix("rt", kTableKindNames[i]));
    EXPECT_EQ(q.status().stream, StreamName("rt", kTableKindNames[i]));
  }
  EXPECT_EQ(StreamStatusPath(config), (dir.path() / "data" / "stream" / "rt.status.json").string());
}

TEST(BatchDagTest, LatestResultsReadWhatTheBatchJobWrote) {
  TempDir dir;
  const fs::path run_dir = dir.path() / "run-1";
  fs::create_directories(run_dir);
  frame::Table table;
  frame::Column country(frame::DataType::kString), count(frame::DataType::kInt64);
  country.AppendString("Chad");
  count.AppendInt64(3);
  country.AppendString("Peru");
  count.AppendInt64(2);
  table.AddColumn("country", std::move(country));
  table.AddColumn("category_count", std::move(count));
  {
    std::ofstream out(batch::AnswerFile(run_dir, "q1"));
    batch::WriteAnswer(table, out);
  }
  auto runs = schedule::RunStore::Open(":memory:");
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(LatestBatchResults(**runs).status().code(), StatusCode::kNotFound);
  auto id = (*runs)->CreateRun("batch", 0, "manual", 1);
  ASSERT_TRUE(id.ok());
  auto run = (*runs)->GetRun(*id);
  ASSERT_TRUE(run.ok());
  run->state = schedule::State::kSuccess;
  run->end_ms = 5;
  run->results_location = run_dir.string();
  ASSERT_TRUE((*runs)->UpdateRun(*run).ok());
  auto latest = LatestBatchResults(**runs);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ((*latest)["run_id"], *id);
  EXPECT_EQ((*latest)["location"], run_dir.string());
  const auto& q1 = (*latest)["questions"][0];
  EXPECT_EQ(q1["id"], "q1");
  EXPECT_EQ(q1["columns"], nlohmann::json({"country", "category_count"}));
  EXPECT_EQ(q1["rows"], nlohmann::json::parse(R"([["Chad", 3], ["Peru", 2]])"));
  // A question without an answer file shows no rows; a damaged one is an error.
  EXPECT_TRUE((*latest)["questions"][1]["rows"].empty());
  {
    std::ofstream out(batch::AnswerFile(run_dir, "q2"));
    out << "{not json";
  }
  EXPECT_EQ(LatestBatchResults(**runs).status().code(), StatusCode::kDataLoss);
}

TEST(BatchDagTest, TenantDagsAreNamedAfterTheirPrefix) {
  EXPECT_EQ(BatchDagName("p", "p"), "batch");
  EXPECT_EQ(BatchDagName("p", "q"), "batch-q");
  Config config;
  ASSERT_TRUE(config.Set("general.prefix", "p").ok());
  const auto dag = BuildBatchDag(config, nullptr, 0);
  EXPECT_EQ(dag.name, "batch");
  ASSERT_EQ(dag.tasks.size(), 2u);
  EXPECT_EQ(dag.tasks[0].id, "check_input");
  EXPECT_EQ(dag.tasks[1].id, "clean_and_query");
}

TEST(SinkWorkerTest, StatusIsNotFoundBeforeARunAndShowsTheDrainedRunAfter) {
  TempDir dir;
  Config config = SmallPipeline(dir.path());
  ASSERT_TRUE(config.Set("sink.flush_size", "1").ok());
  auto before = ReadSinkStatus(config);
  ASSERT_EQ(before.status().code(), StatusCode::kNotFound);
  EXPECT_NE(before.status().message().find("has it run?"), std::string::npos);
  {
    auto broker = OpenBroker(config);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    ASSERT_TRUE((*broker)->CreateTopic("rt.pin", broker::TopicConfig{}).ok());
    std::vector<broker::Record> records(2);
    records[0].value = R"({"index":1})";
    records[1].value = R"({"index":2})";
    auto acks = (*broker)->Produce("rt.pin", records);
    ASSERT_TRUE(acks.ok()) << acks.status().ToString();
  }
  ASSERT_TRUE(RunSinkOnce(config).ok());
  EXPECT_TRUE(fs::exists(SinkStatusPath(config, "pinpipe-sink")));
  EXPECT_TRUE(fs::exists(dir.path() / "lake" / "topics" / "rt.pin" / "partition=0" /
                         "rt.pin+0+0000000001.json"));
  auto after = ReadSinkStatus(config);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->partitions.size(), 1u);
  EXPECT_EQ(after->partitions[0].topic, "rt.pin");
  EXPECT_EQ(after->partitions[0].committed_offset, 2);
  EXPECT_EQ(after->partitions[0].high_watermark, 2);
  EXPECT_EQ(after->partitions[0].lag, 0);
}

TEST(StreamJobTest, StatusIsNotFoundBeforeTheJobWroteOne) {
  TempDir dir;
  auto status = ReadStreamStatus(SmallPipeline(dir.path()));
  ASSERT_EQ(status.status().code(), StatusCode::kNotFound);
  EXPECT_NE(status.status().message().find("prefix 'rt'"), std::string::npos);
}

TEST(BatchDagTest, RunBatchOnceDoesNotCreateAMissingLocalLake) {
  TempDir dir;
  Config config = SmallPipeline(dir.path());
  auto report = RunBatchOnce(config, batch::JobOptions{});
  ASSERT_EQ(report.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(report.status().message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "lake"));
}

}  // namespace
}  // namespace pinpipe::runtime
