#include "pinpipe/web/dashboard.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "memory_broker.h"
#include "memory_object_store.h"
#include "pinpipe/table/delta_table.h"
#include "pinpipe/web/assets.h"
#include "pinpipe/web/browse.h"
#include "pinpipe/web/history.h"

namespace pinpipe::web {
namespace {

http::Request Get(std::string path) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.target = r.path;
  return r;
}

TEST(AssetsTest, PageScriptAndStylesAreEmbedded) {
  auto page = FindAsset("/ui/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->data.find("/ui/app.js"), std::string_view::npos);
  auto js = FindAsset("/ui/app.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_NE(js->data.find("/api/status"), std::string_view::npos);
  EXPECT_TRUE(FindAsset("/ui/app.css").has_value());
  EXPECT_FALSE(FindAsset("/ui/../CMakeLists.txt").has_value());
  EXPECT_FALSE(FindAsset("/other").has_value());
}

TEST(DashboardTest, ServesStatusFromHook) {
  DashboardHooks hooks;
  hooks.status = [] { return nlohmann::json{{"prefix", "abc"}}; };
  http::Response response;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/status"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body)["prefix"], "abc");
}

TEST(DashboardTest, ResultsNotFoundUntilABatchRunFinished) {
  DashboardHooks hooks;
  hooks.latest_results = []() -> Result<nlohmann::json> { return NotFoundError("no run yet"); };
  http::Response response;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/results/latest"), response));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(nlohmann::json::parse(response.body)["message"], "no run yet");
}

TEST(DashboardTest, LiveAnswersFromHookAnd409WithoutAStreamingJob) {
  DashboardHooks hooks;
  http::Response none;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/answers/live"), none));
  EXPECT_EQ(none.status, 409);
  hooks.live_answers = []() -> Result<nlohmann::json> {
    return nlohmann::json{{"questions", nlohmann::json::array()}, {"freshness_ms", 12}};
  };
  http::Response live;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/answers/live"), live));
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(nlohmann::json::parse(live.body)["freshness_ms"], 12);
  // The dashboard's panel reads the same endpoint.
  auto js = FindAsset("/ui/live-answers.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_NE(js->data.find("/api/answers/live"), std::string_view::npos);
  EXPECT_NE(FindAsset("/ui/")->data.find("/ui/live-answers.js"), std::string_view::npos);
}

TEST(DashboardTest, TriggerNeedsPostAndKnownDag) {
  DashboardHooks hooks;
  hooks.trigger = [](const std::string& dag) -> Result<int64_t> {
    if (dag != "batch") return NotFoundError("no DAG named '" + dag + "'");
    return 7;
  };
  http::Response get;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/runs/batch"), get));
  EXPECT_EQ(get.status, 405);
  auto post = Get("/api/runs/batch");
  post.method = "POST";
  http::Response ok;
  ASSERT_TRUE(HandleDashboard(hooks, post, ok));
  EXPECT_EQ(ok.status, 202);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["run_id"], 7);
  post.path = "/api/runs/nope";
  http::Response missing;
  ASSERT_TRUE(HandleDashboard(hooks, post, missing));
  EXPECT_EQ(missing.status, 404);
}

TEST(DashboardTest, LeavesOtherRoutesAlone) {
  DashboardHooks hooks;
  http::Response response;
  EXPECT_FALSE(HandleDashboard(hooks, Get("/topics/x"), response));
  EXPECT_FALSE(HandleDashboard(hooks, Get("/api/unknown"), response));
}

nlohmann::json StatusAt(int64_t time_ms, int64_t topic_records, int64_t sink_records, int64_t lag,
                        const nlohmann::json& histogram) {
  return {{"time_ms", time_ms},
          {"api", {{"produce_latency", histogram}}},
          {"topics", {{{"name", "p.pin"}, {"records", topic_records}}}},
          {"streams", nlohmann::json::array()},
          {"sink",
           {{"enabled", true},
            {"lag", lag},
            {"partitions", {{{"topic", "p.pin"}, {"partition", 0}, {"records", sink_records}}}}}},
          {"stream_job",
           {{"enabled", true},
            {"tables",
             {{{"stream", "s-pin"},
               {"rows", sink_records},
               {"lag_ms", 7},
               {"latency_p50_ms", 3},
               {"latency_p99_ms", 9}}}}}}};
}

TEST(HistoryTest, QuantileInterpolatesInsideTheBucketOfTheDelta) {
  nlohmann::json before = {{"le", {0.01, 0.1, -1}}, {"counts", {10, 10, 10}}};
  // Since `before`: 50 in (0, 0.01], 50 in (0.01, 0.1].
  nlohmann::json after = {{"le", {0.01, 0.1, -1}}, {"counts", {60, 110, 110}}};
  EXPECT_NEAR(*QuantileBetween(before, after, 0.5), 0.01, 1e-9);
  EXPECT_NEAR(*QuantileBetween(before, after, 0.99), 0.01 + 0.09 * 49.0 / 50.0, 1e-9);
  EXPECT_FALSE(QuantileBetween(after, after, 0.5).has_value());  // nothing new observed
}

TEST(HistoryTest, TurnsCountersIntoRatesAndKeepsTheNewestSamples) {
  StatusHistory history(3);
  nlohmann::json h0 = {{"le", {0.001, 0.01, -1}}, {"counts", {0, 0, 0}}};
  nlohmann::json h1 = {{"le", {0.001, 0.01, -1}}, {"counts", {0, 10, 10}}};
  history.Add(StatusAt(1000, 100, 0, 100, h0));
  history.Add(StatusAt(3000, 300, 50, 250, h1));  // 2 s later: 100/s in, 25/s out
  auto j = history.ToJson();
  EXPECT_EQ(j["time_ms"], nlohmann::json({1000, 3000}));
  EXPECT_EQ(j["series"]["in:p.pin"], nlohmann::json({nullptr, 100.0}));
  EXPECT_EQ(j["series"]["out:p.pin"], nlohmann::json({nullptr, 25.0}));
  EXPECT_EQ(j["series"]["out:s-pin"], nlohmann::json({nullptr, 25.0}));
  EXPECT_EQ(j["series"]["sink_lag"], nlohmann::json({100.0, 250.0}));
  EXPECT_EQ(j["series"]["stream_lag_ms:s-pin"], nlohmann::json({7.0, 7.0}));
  EXPECT_EQ(j["series"]["commit_p99_ms:s-pin"], nlohmann::json({9.0, 9.0}));
  EXPECT_EQ(j["series"]["produce_p50_ms"], nlohmann::json({nullptr, 5.5}));
  // A repeated or older time adds nothing; the ring keeps the newest 3.
  history.Add(StatusAt(3000, 400, 50, 0, h1));
  EXPECT_EQ(history.size(), 2u);
  history.Add(StatusAt(4000, 400, 50, 0, h1));
  history.Add(StatusAt(5000, 400, 50, 0, h1));
  j = history.ToJson();
  EXPECT_EQ(j["time_ms"], nlohmann::json({3000, 4000, 5000}));
  EXPECT_EQ(j["series"]["in:p.pin"], nlohmann::json({100.0, 100.0, 0.0}));
  // A page that has samples up to 4000 asks only for the newer ones.
  EXPECT_EQ(history.ToJson(4000)["time_ms"], nlohmann::json({5000}));
}

TEST(HistoryTest, SamplesOnItsOwnThreadUntilStopped) {
  StatusHistory history;
  std::atomic<int64_t> t{0};
  history.Start([&] { return StatusAt(t += 1000, t, 0, 0, nullptr); }, 10);
  for (int i = 0; i < 500 && history.size() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  history.Stop();
  EXPECT_GE(history.size(), 3u);
}

class BrowseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker::TopicConfig c;
    c.partitions = 1;
    ASSERT_TRUE(broker_.CreateTopic("t", c).ok());
    std::vector<broker::Record> records;
    for (int i = 0; i < 1000; ++i) {
      broker::Record r;
      r.key = "k" + std::to_string(i);
      r.value = R"({"index":)" + std::to_string(i) + (i % 100 == 7 ? R"(,"tag":"rare"})" : "}");
      r.timestamp_ms = 1'000'000 + i * 10;
      r.headers = {{"h", "v" + std::to_string(i)}};
      records.push_back(std::move(r));
    }
    ASSERT_TRUE(broker_.Produce("t", records).ok());
  }
  Result<nlohmann::json> Browse(RecordQuery q) {
    q.topic = "t";
    return BrowseRecords(broker_, q);
  }
  testing::MemoryBroker broker_;
};

TEST_F(BrowseTest, DescribesPartitionsWithOffsetsAndTimes) {
  auto d = DescribeTopicJson(broker_, "t");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto& p = (*d)["partitions"][0];
  EXPECT_EQ(p["high_watermark"], 1000);
  EXPECT_EQ(p["records"], 1000);
  EXPECT_EQ(p["first_timestamp_ms"], 1'000'000);
  EXPECT_EQ(p["last_timestamp_ms"], 1'009'990);
  EXPECT_EQ(DescribeTopicJson(broker_, "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(BrowseTest, NewestPageThenOlderPagesThenJumpToOffsetAndTime) {
  auto newest = Browse({.limit = 10});
  ASSERT_TRUE(newest.ok()) << newest.status().ToString();
  EXPECT_EQ((*newest)["start"], 990);
  EXPECT_EQ((*newest)["end"], 1000);
  ASSERT_EQ((*newest)["records"].size(), 10u);
  const auto& last = (*newest)["records"][9];
  EXPECT_EQ(last["offset"], 999);
  EXPECT_EQ(last["key"], "k999");
  EXPECT_EQ(last["value"], R"({"index":999})");
  EXPECT_EQ(last["headers"][0]["value"], "v999");
  EXPECT_EQ(last["timestamp_ms"], 1'009'990);

  auto older = Browse({.before = 990, .limit = 10});
  ASSERT_TRUE(older.ok());
  EXPECT_EQ((*older)["start"], 980);
  EXPECT_EQ((*older)["end"], 990);
  EXPECT_EQ((*older)["records"][9]["offset"], 989);
  auto older_rare = Browse({.before = 707, .limit = 1, .filter = "rare"});
  ASSERT_TRUE(older_rare.ok());
  EXPECT_EQ((*older_rare)["records"][0]["offset"], 607);

  auto at = Browse({.offset = 500, .limit = 3});
  ASSERT_TRUE(at.ok());
  EXPECT_EQ((*at)["records"][0]["offset"], 500);
  EXPECT_EQ((*at)["end"], 503);
  auto by_time = Browse({.time_ms = 1'000'105, .limit = 2});
  ASSERT_TRUE(by_time.ok());
  EXPECT_EQ((*by_time)["records"][0]["offset"], 11);  // the first at or after the time
  auto past_end = Browse({.offset = 5000, .limit = 3});
  ASSERT_TRUE(past_end.ok());
  EXPECT_TRUE((*past_end)["records"].empty());
  EXPECT_EQ(Browse({.limit = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Browse({.partition = 3}).status().code(), StatusCode::kNotFound);
}

TEST_F(BrowseTest, FilterFindsTheNewestMatchesAcrossChunks) {
  auto rare = Browse({.limit = 3, .filter = "rare"});
  ASSERT_TRUE(rare.ok());
  ASSERT_EQ((*rare)["records"].size(), 3u);
  EXPECT_EQ((*rare)["records"][0]["offset"], 707);
  EXPECT_EQ((*rare)["records"][2]["offset"], 907);
  EXPECT_EQ((*rare)["start"], 707);
  // Forward from an offset; a header value matches too.
  auto forward = Browse({.offset = 0, .limit = 2, .filter = "rare"});
  ASSERT_TRUE(forward.ok());
  EXPECT_EQ((*forward)["records"][1]["offset"], 107);
  auto header = Browse({.limit = 5, .filter = "v123"});
  ASSERT_TRUE(header.ok());
  ASSERT_EQ((*header)["records"].size(), 1u);
  EXPECT_EQ((*header)["records"][0]["offset"], 123);
  // The scan is bounded: a filter nothing matches reads at most max_scan records.
  auto none = Browse({.limit = 5, .filter = "zzz", .max_scan = 600});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["records"].empty());
  EXPECT_LE((*none)["scanned"].get<int64_t>(), 1000);
  EXPECT_GE((*none)["start"].get<int64_t>(), 0);
}

TEST(TableViewTest, VersionsSchemaAndNewestRows) {
  testing::MemoryObjectStore store;
  ManualClock clock;
  table::DeltaTable t(store, "p_pin_table/", &clock);
  table::Schema schema{{{"ind", table::ColumnType::kInt64}, {"title", table::ColumnType::kString}}};
  ASSERT_TRUE(t.CreateIfAbsent(schema).ok());
  for (int batch = 0; batch < 3; ++batch) {
    table::RecordBatch b(schema);
    for (int i = 0; i < 10; ++i) {
      b.columns[0].AppendInt64(batch * 10 + i);
      b.columns[1].AppendString("t" + std::to_string(batch * 10 + i));
    }
    ASSERT_TRUE(t.Append(b, {"q", batch, "STREAMING UPDATE"}).ok());
    clock.AdvanceMicros(1'000'000);  // files are ordered by their modification time
  }
  auto j = DescribeTableJson(store, "p_pin_table", 30, 15);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["version"], 3);
  EXPECT_EQ((*j)["files"], 3);
  EXPECT_EQ((*j)["rows"], 30);
  EXPECT_EQ((*j)["schema"][1]["name"], "title");
  ASSERT_EQ((*j)["history"].size(), 4u);
  EXPECT_EQ((*j)["history"][0]["version"], 3);
  EXPECT_EQ((*j)["history"][0]["operation"], "STREAMING UPDATE");
  EXPECT_EQ((*j)["history"][0]["rows_added"], 10);
  EXPECT_EQ((*j)["history"][0]["files_added"], 1);
  ASSERT_EQ((*j)["preview"].size(), 15u);
  EXPECT_EQ((*j)["preview"][14]["ind"], 29);  // newest last
  EXPECT_EQ((*j)["preview"][0]["ind"], 15);
  EXPECT_EQ(DescribeTableJson(store, "nope").status().code(), StatusCode::kNotFound);
}

TEST(DashboardTest, BrowserRoutesAnswerAndRejectBadInput) {
  testing::MemoryBroker broker;
  ASSERT_TRUE(broker.CreateTopic("a.pin", broker::TopicConfig{}).ok());
  broker::Record r;
  r.value = R"({"x":1})";
  ASSERT_TRUE(broker.Produce("a.pin", std::span<const broker::Record>(&r, 1)).ok());
  auto runs = schedule::RunStore::Open(":memory:");
  ASSERT_TRUE(runs.ok());
  auto id = (*runs)->CreateRun("batch", 0, "manual", 1);
  ASSERT_TRUE(id.ok());
  schedule::TaskRecord task;
  task.task = "check_input";
  task.state = schedule::State::kSuccess;
  task.log = "input present\n";
  ASSERT_TRUE((*runs)->UpsertTask(*id, task).ok());
  StatusHistory history;
  DashboardHooks hooks;
  hooks.broker = &broker;
  hooks.run_store = runs->get();
  hooks.history = &history;
  auto get = [&](const std::string& target) {
    http::Request req = Get(target.substr(0, target.find('?')));
    if (target.find('?') != std::string::npos) req.query = target.substr(target.find('?') + 1);
    http::Response res;
    EXPECT_TRUE(HandleDashboard(hooks, req, res)) << target;
    return res;
  };
  auto page = get("/api/topics/a.pin/records?limit=5");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(nlohmann::json::parse(page.body)["records"][0]["value"], R"({"x":1})");
  EXPECT_EQ(get("/api/topics/a.pin").status, 200);
  EXPECT_EQ(get("/api/topics/a.pin/records?limit=abc").status, 400);
  EXPECT_EQ(get("/api/topics/a.pin/records?limit=501").status, 400);
  EXPECT_EQ(get("/api/topics/..%2Fx").status, 400);
  EXPECT_EQ(get("/api/topics/missing").status, 404);
  EXPECT_EQ(get("/api/tables/x").status, 503);  // no tables store given
  auto run = get("/api/runs/" + std::to_string(*id));
  ASSERT_EQ(run.status, 200) << run.body;
  EXPECT_EQ(nlohmann::json::parse(run.body)["tasks"][0]["log"], "input present\n");
  EXPECT_EQ(get("/api/runs/999").status, 404);
  auto with_tasks = nlohmann::json::parse(get("/api/runs?limit=5&tasks=1").body);
  EXPECT_EQ(with_tasks[0]["tasks"][0]["task"], "check_input");
  EXPECT_EQ(get("/api/status/history").status, 200);
  EXPECT_EQ(get("/api/status/history?since_ms=x").status, 400);
}

}  // namespace
}  // namespace pinpipe::web
