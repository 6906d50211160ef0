// Exactly once under kill -9: `pinpipe stream` reads a Kinesis stream served
// by `pinpipe serve` (through the Kinesis JSON API, as it would read Amazon
// Kinesis) and is SIGKILLed at random moments while records are being put.
// After a final drain, each Delta table holds every posted ind exactly once;
// DuckDB, reading exactly the files the Delta log lists, is the judge.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "harness.h"
#include "pinpipe/stream/kinesis_client.h"

namespace pinpipe::testing {
namespace {

std::string User(int ind) {
  return "{\"ind\":" + std::to_string(ind) + ",\"first_name\":\"Ann\",\"last_name\":\"Lee" +
         std::to_string(ind) + "\",\"age\":" + std::to_string(20 + ind % 40) +
         ",\"date_joined\":\"2016-03-08 13:38:37\"}";
}

// The data files of a Delta table: every add minus every remove in the JSON log.
std::vector<std::string> ActiveFiles(const std::filesystem::path& table) {
  std::set<std::string> files;
  std::vector<std::filesystem::path> commits;
  for (const auto& e : std::filesystem::directory_iterator(table / "_delta_log")) {
    if (e.path().extension() == ".json") commits.push_back(e.path());
  }
  std::sort(commits.begin(), commits.end());
  for (const auto& c : commits) {
    std::istringstream in(ReadFile(c.string()));
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.contains("add")) files.insert(j["add"]["path"].get<std::string>());
      if (j.contains("remove")) files.erase(j["remove"]["path"].get<std::string>());
    }
  }
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back((table / f).string());
  return out;
}

TEST(StreamCrashTest, KillNineAtRandomMomentsLosesAndDuplicatesNothing) {
  TempDir dir;
  const int port = PickFreePort();
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  Process serve({{PinpipeBinary(), "serve", "--listen", "127.0.0.1:" + std::to_string(port),
                  "--data-dir", dir / "serve"}});
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << serve.Output();

  stream::KinesisOptions options;
  options.endpoint = endpoint;
  stream::KinesisClient client(options);
  ASSERT_TRUE(client.CreateStream("streaming-crash-user", 2).ok());

  // 700 puts of 500 distinct posts (the emulator's duplicates), spread over ~3 s.
  constexpr int kPuts = 700, kDistinct = 500;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    stream::KinesisClient c(options);
    for (int i = 0; i < kPuts; ++i) {
      ASSERT_TRUE(
          c.PutRecord("streaming-crash-user", User(i % kDistinct), "k" + std::to_string(i)).ok());
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    done = true;
  });

  const std::vector<std::string> stream_cmd = {PinpipeBinary(),      "stream",
                                               "--prefix",           "crash",
                                               "--source",           "kinesis",
                                               "--kinesis-endpoint", endpoint,
                                               "--tables",           "file://" + (dir / "tables"),
                                               "--data-dir",         dir / "stream",
                                               "--trigger",          "30ms"};
  std::mt19937 rng(42);
  int kills = 0;
  while (!done || kills < 4) {
    Process job({stream_cmd});
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 600));
    job.Signal(SIGKILL);
    job.Wait();
    ++kills;
    if (kills > 40) break;
  }
  producer.join();
  std::vector<std::string> drain = stream_cmd;
  drain.push_back("--once");
  auto drained = RunCommand(drain, "", {}, std::chrono::seconds(120));
  ASSERT_EQ(drained.exit_code, 0) << drained.out << drained.err;

  const auto files = ActiveFiles(std::filesystem::path(dir / "tables") / "crash_user_table");
  ASSERT_FALSE(files.empty());
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "'" : ",'") + f + "'";
  const std::string sql =
      "SELECT count(*) AS n, count(DISTINCT ind) AS d, min(ind) AS lo, "
      "max(ind) AS hi FROM read_parquet([" +
      list + "])";
  const std::string script =
      "const d=require('@duckdb/node-api');(async()=>{const i=await "
      "d.DuckDBInstance.create(':memory:');"
      "const c=await i.connect();const r=await c.runAndReadAll(process.argv[1]);"
      "console.log(JSON.stringify(r.getRowObjectsJson()));})().catch(e=>{console.error(e);process."
      "exit(1)})";
  auto duck =
      RunCommand({"node", "-e", script, sql}, "", {{"NODE_PATH", PeersDir() + "/node_modules"}});
  ASSERT_EQ(duck.exit_code, 0) << duck.err;
  auto rows = nlohmann::json::parse(duck.out, nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1) << duck.out;
  auto num = [&](const char* k) {
    return std::stoll(rows[0][k].is_string() ? rows[0][k].get<std::string>() : rows[0][k].dump());
  };
  EXPECT_EQ(num("n"), kDistinct) << "kills: " << kills;  // no duplicates
  EXPECT_EQ(num("d"), kDistinct);                        // no loss
  EXPECT_EQ(num("lo"), 0);
  EXPECT_EQ(num("hi"), kDistinct - 1);
  std::cout << "stream job killed " << kills << " times; " << files.size() << " data files\n";
}

}  // namespace
}  // namespace pinpipe::testing
