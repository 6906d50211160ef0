// End to end: the README's demo (`scripts/demo --once`) on a private folder and
// port, and `pinpipe up` as a user drives it: status API, trigger, shutdown.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

namespace pinpipe::testing {
namespace {

TEST(DemoTest, RunsTheWholePipelineAndPrintsTheEightAnswers) {
  TempDir dir;
  const std::string listen = "127.0.0.1:" + std::to_string(PickFreePort());
  auto r =
      RunCommand({SourceDir() + "/scripts/demo", "--once", "--count", "400"}, "",
                 {{"DEMO_DIR", dir / "demo"}, {"DEMO_LISTEN", listen}}, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* q : {"q1:", "q2:", "q3a:", "q3b:", "q4:", "q5:", "q6:", "q7:", "q8:"}) {
    EXPECT_NE(r.out.find(q), std::string::npos) << q << "\n" << r.out;
  }
  for (const char* t :
       {"0a60b9a8a831_pin_table", "0a60b9a8a831_geo_table", "0a60b9a8a831_user_table"}) {
    EXPECT_NE(r.out.find(t), std::string::npos) << t;
  }
  EXPECT_NE(r.out.find("stopped cleanly"), std::string::npos);
  // The sink wrote objects with the connector's key layout.
  auto ls = RunCommand({"find", dir / "demo/lake/topics/0a60b9a8a831.pin/partition=0", "-name",
                        "0a60b9a8a831.pin+0+*.json"});
  EXPECT_NE(ls.out.find(".json"), std::string::npos);
}

std::string Curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"curl", "-s", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv).out;
}

TEST(UpTest, StatusApiTriggerAndGracefulShutdown) {
  TempDir dir;
  const int port = PickFreePort();
  const std::string api = "http://127.0.0.1:" + std::to_string(port);
  std::map<std::string, std::string> env = {
      {"PINPIPE_GENERAL_DATA_DIR", dir / "data"},
      {"PINPIPE_LAKE_URL", "file://" + (dir / "lake")},
      {"PINPIPE_STREAM_TABLES", "file://" + (dir / "tables")},
      {"PINPIPE_BATCH_OUT", dir / "results"},
      {"PINPIPE_SINK_ROTATE_SCHEDULE_INTERVAL_MS", "500"},
      // Slow group commits, so that a produce is still waiting when SIGTERM comes.
      {"PINPIPE_LOG_FSYNC", "interval:1500"},
      {"PINPIPE_API_LISTEN", "127.0.0.1:" + std::to_string(port)}};
  Process up({{PinpipeBinary(), "up"}, env});
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << up.Output();

  auto status = nlohmann::json::parse(Curl({api + "/api/status"}), nullptr, false);
  ASSERT_TRUE(status.is_object()) << up.Output();
  for (const char* key : {"time_ms", "prefix", "api", "topics", "streams", "sink", "stream_job",
                          "lake", "scheduler", "errors"}) {
    EXPECT_TRUE(status.contains(key)) << key;
  }
  EXPECT_EQ(status["topics"].size(), 3u);  // created on first start

  // A post through each API.
  Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json", "--data",
        R"({"records":[{"value":{"index":1,"unique_id":"u","title":"t","category":"art"}}]})",
        api + "/topics/0a60b9a8a831.pin"});
  Curl(
      {"-X", "PUT", "-H", "Content-Type: application/json", "--data",
       R"({"StreamName":"streaming-0a60b9a8a831-user","Data":{"ind":1,"first_name":"A","last_name":"B","age":30,"date_joined":"2016-03-08 13:38:37"},"PartitionKey":"p"})",
       api + "/streams/streaming-0a60b9a8a831-user/record"});

  // The stream job appends the user row; the dashboard's status shows it.
  bool appended = false;
  for (int i = 0; i < 100 && !appended; ++i) {
    auto s = nlohmann::json::parse(Curl({api + "/api/status"}), nullptr, false);
    for (const auto& t : s["stream_job"]["tables"]) {
      if (t.value("name", "") == "0a60b9a8a831_user_table" && t.value("rows", 0) == 1)
        appended = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(appended) << up.Output();
  // The sink's and the streaming job's status are on /metrics too.
  const std::string metrics = Curl({api + "/metrics"});
  EXPECT_NE(metrics.find(R"(pinpipe_stream_rows{stream="streaming-0a60b9a8a831-user"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(pinpipe_sink_lag_records{sink=)"), std::string::npos) << metrics;

  // Triggering an unknown DAG is a 404; the batch DAG is accepted.
  EXPECT_NE(Curl({"-X", "POST", "-o", "/dev/null", "-w", "%{http_code}", api + "/api/runs/nope"})
                .find("404"),
            std::string::npos);
  EXPECT_NE(Curl({"-X", "POST", "-w", "%{http_code}", api + "/api/runs/batch"}).find("202"),
            std::string::npos);
  // The dashboard page is served from the binary.
  EXPECT_NE(Curl({api + "/ui/"}).find("<title>pinpipe</title>"), std::string::npos);

  // SIGTERM while a produce waits for its group commit: it is answered first.
  std::string in_flight;
  std::thread client([&] {
    in_flight =
        Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json", "--data",
              R"({"records":[{"value":{"index":2}}]})", api + "/topics/0a60b9a8a831.pin"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(up.Stop(std::chrono::seconds(30)), 0) << up.Output();
  client.join();
  EXPECT_NE(in_flight.find(R"("offset":1,"error_code":null)"), std::string::npos) << in_flight;
  EXPECT_NE(up.Output().find("stopped cleanly"), std::string::npos) << up.Output();

  // The streaming job left its status behind for `pinpipe stream status`.
  auto st = RunCommand({PinpipeBinary(), "stream", "status", "--json"}, "", env);
  ASSERT_EQ(st.exit_code, 0) << st.err;
  auto doc = nlohmann::json::parse(st.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << st.out;
  int64_t user_rows = -1;
  for (const auto& q : doc["streams"]) {
    if (q.value("stream", "") == "streaming-0a60b9a8a831-user") user_rows = q.value("rows", -1);
  }
  EXPECT_EQ(user_rows, 1) << st.out;
  auto table = RunCommand({PinpipeBinary(), "stream", "status"}, "", env);
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("streaming-0a60b9a8a831-user"), std::string::npos) << table.out;
}

TEST(DashboardTest, RealBrowserSeesLiveNumbersAndResultCharts) {
  TempDir dir;
  const int port = PickFreePort();
  const std::string api = "http://127.0.0.1:" + std::to_string(port);
  std::map<std::string, std::string> env = {
      {"PINPIPE_GENERAL_DATA_DIR", dir / "data"},
      {"PINPIPE_SOURCE_URL", "sqlite://" + (dir / "source.db")},
      {"PINPIPE_LAKE_URL", "file://" + (dir / "lake")},
      {"PINPIPE_STREAM_TABLES", "file://" + (dir / "tables")},
      {"PINPIPE_BATCH_OUT", dir / "results"},
      {"PINPIPE_SINK_ROTATE_SCHEDULE_INTERVAL_MS", "300"},
      {"PINPIPE_API_LISTEN", "127.0.0.1:" + std::to_string(port)}};
  auto seed = RunCommand({PinpipeBinary(), "seed", "--rows", "2000"}, "", env);
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  Process up({{PinpipeBinary(), "up"}, env});
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << up.Output();
  for (const char* mode : {"batch", "stream"}) {
    auto e = RunCommand({PinpipeBinary(), "emulate", "--mode", mode, "--api", api, "--count", "300",
                         "--batch-size", "20"},
                        "", env);
    ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  }
  // Let the sink commit (lag 0, then one scheduled rotation), then run the batch.
  for (int i = 0; i < 100; ++i) {
    auto s = nlohmann::json::parse(Curl({api + "/api/status"}), nullptr, false);
    if (s.is_object() && s["sink"].value("lag", -1) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ASSERT_NE(Curl({"-X", "POST", "-w", "%{http_code}", api + "/api/runs/batch"}).find("202"),
            std::string::npos);
  std::string state;
  for (int i = 0; i < 300 && state != "success" && state != "failed"; ++i) {
    auto runs = nlohmann::json::parse(Curl({api + "/api/runs?limit=1"}), nullptr, false);
    if (runs.is_array() && !runs.empty()) state = runs[0].value("state", "");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(state, "success") << up.Output();

  const std::string shots = SourceDir() + "/build/screenshots";
  RunCommand({"mkdir", "-p", shots});
  auto browser =
      RunCommand({"node", SourceDir() + "/tests/e2e/dashboard.cjs", api, shots}, "",
                 {{"NODE_PATH", PeersDir() + "/node_modules"}}, std::chrono::seconds(120));
  EXPECT_EQ(browser.exit_code, 0) << browser.out << browser.err;
  EXPECT_NE(browser.out.find("dashboard ok"), std::string::npos) << browser.out << browser.err;
}

}  // namespace
}  // namespace pinpipe::testing
