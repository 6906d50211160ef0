// The live answers of a running `pinpipe up`, through its HTTP API and
// `pinpipe answers --live`:
//  - kill -9 at random moments while posts stream in (>= 50 kills): after a
//    restart catches up, the live answers equal the batch job's query code
//    over the same records, every question, row for row;
//  - a post that changes an answer shows in /api/answers/live;
//  - `pinpipe answers --live` with no pipeline running fails with one line.
// `pinpipe serve` holds the streams (the Kinesis API, as Amazon Kinesis
// would); `pinpipe up` reads them with stream.source=kinesis, so killing it
// loses nothing that was put.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "harness.h"
#include "pinpipe/batch/queries.h"
#include "pinpipe/batch/render.h"
#include "pinpipe/clean/cleaner.h"
#include "pinpipe/stream/kinesis_client.h"

namespace pinpipe::testing {
namespace {

using clean::TableKind;

const char* kStreams[] = {"streaming-live-pin", "streaming-live-geo", "streaming-live-user"};

// Post `ind` as the emulator sends it; a few are rejected or placeholders.
std::string Record(TableKind kind, int ind, std::mt19937& rng) {
  static const char* categories[] = {"art", "beauty", "travel", "diy", "quotes"};
  static const char* countries[] = {"France", "Chad", "Peru", "Benin", "Aruba"};
  static const char* followers[] = {"10k", "5k", "1M", "3", "7", "User Info Error", "892k", "2k"};
  const std::string i = std::to_string(ind);
  switch (kind) {
    case TableKind::kPin:
      return "{\"index\":" + i + ",\"category\":\"" + categories[rng() % 5] +
             "\",\"poster_name\":\"P" + std::to_string(rng() % 30) + "\",\"follower_count\":\"" +
             followers[rng() % 8] + "\",\"title\":\"t\"}";
    case TableKind::kGeo:
      return "{\"ind\":" + i + ",\"country\":\"" + countries[rng() % 5] + "\",\"timestamp\":\"20" +
             std::to_string(17 + rng() % 6) +
             "-05-01 10:00:00\",\"latitude\":1.5,\"longitude\":-2}";
    case TableKind::kUser:
      return "{\"ind\":" + i + ",\"first_name\":\"A\",\"last_name\":\"B\",\"age\":" +
             std::to_string(15 + rng() % 60) + ",\"date_joined\":\"20" +
             std::to_string(14 + rng() % 8) + "-02-03 04:05:06\"}";
  }
  return "";
}

// The batch job's answers over `records` (per stream, in put order) as the
// rows arrays of the answers JSON.
nlohmann::json BatchRows(const std::vector<std::string> records[3]) {
  clean::BatchCleaner cleaner(clean::ColumnSet::kQueryOnly);
  for (int k = 0; k < 3; ++k) {
    for (size_t i = 0; i < records[k].size(); ++i)
      cleaner.AddRecord(static_cast<TableKind>(k), records[k][i], "test", static_cast<int64_t>(i));
  }
  auto cleaned = cleaner.Take();
  batch::CleanTables t{std::move(cleaned.tables[0]), std::move(cleaned.tables[1]),
                       std::move(cleaned.tables[2])};
  clean::DropDuplicates(&t.pin);
  clean::DropDuplicates(&t.geo);
  clean::DropDuplicates(&t.user);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& q : batch::Questions()) {
    auto table = batch::RunQuestion(q.id, t);
    EXPECT_TRUE(table.ok());
    std::ostringstream text;
    batch::WriteJson(*table, text);
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : nlohmann::ordered_json::parse(text.str())) {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& item : row.items())
        values.push_back(nlohmann::json::parse(item.value().dump()));
      rows.push_back(std::move(values));
    }
    out[std::string(q.id)] = std::move(rows);
  }
  return out;
}

nlohmann::json LiveRows(const nlohmann::json& answers) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& q : answers["questions"]) out[q["id"].get<std::string>()] = q["rows"];
  return out;
}

// `pinpipe answers --live --json` against the pipeline at `url`.
CommandResult AnswersLive(const std::string& url, bool json = true) {
  std::vector<std::string> argv = {PinpipeBinary(), "answers", "--live", "--url", url};
  if (json) argv.push_back("--json");
  return RunCommand(argv, "", {}, std::chrono::seconds(20));
}

// Polls until the live answers equal `expected` (or `deadline` passes);
// returns the last answers document.
nlohmann::json WaitForAnswers(const std::string& url, const nlohmann::json& expected,
                              std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < until) {
    auto r = AnswersLive(url);
    if (r.exit_code == 0) {
      last = nlohmann::json::parse(r.out, nullptr, false);
      if (last.is_object() && LiveRows(last) == expected) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

class LiveAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    serve_port_ = PickFreePort();
    endpoint_ = "http://127.0.0.1:" + std::to_string(serve_port_);
    serve_ = std::make_unique<Process>(
        ProcessOptions{{PinpipeBinary(), "serve", "--listen",
                        "127.0.0.1:" + std::to_string(serve_port_), "--data-dir", dir_ / "serve"}});
    ASSERT_TRUE(WaitForPort(serve_port_, std::chrono::seconds(30))) << serve_->Output();
    options_.endpoint = endpoint_;
    client_ = std::make_unique<stream::KinesisClient>(options_);
    for (const char* s : kStreams) ASSERT_TRUE(client_->CreateStream(s, 2).ok());
    up_port_ = PickFreePort();
    url_ = "http://127.0.0.1:" + std::to_string(up_port_);
  }

  std::unique_ptr<Process> StartUp() {
    auto up = std::make_unique<Process>(ProcessOptions{{PinpipeBinary(),
                                                        "--log-level",
                                                        "warn",
                                                        "--set",
                                                        "sink.enabled=false",
                                                        "--set",
                                                        "schedule.enabled=false",
                                                        "--set",
                                                        "stream.source=kinesis",
                                                        "--set",
                                                        "stream.kinesis_endpoint=" + endpoint_,
                                                        "--set",
                                                        "stream.trigger_ms=50",
                                                        "--set",
                                                        "stream.tables=file://" + (dir_ / "tables"),
                                                        "up",
                                                        "--listen",
                                                        "127.0.0.1:" + std::to_string(up_port_),
                                                        "--data-dir",
                                                        dir_ / "up",
                                                        "--prefix",
                                                        "live"}});
    return up;
  }

  void Put(TableKind kind, const std::string& record) {
    const int k = static_cast<int>(kind);
    auto r = client_->PutRecord(kStreams[k], record, "pk" + std::to_string(puts_++));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    records_[k].push_back(record);
  }

  TempDir dir_;
  int serve_port_ = 0, up_port_ = 0;
  std::string endpoint_, url_;
  std::unique_ptr<Process> serve_;
  stream::KinesisOptions options_;
  std::unique_ptr<stream::KinesisClient> client_;
  std::vector<std::string> records_[3];
  int64_t puts_ = 0;
};

TEST_F(LiveAnswersTest, KillNineAtRandomMomentsThenLiveEqualsBatch) {
  std::mt19937 rng(2026);
  int kills = 0, checks = 0, next_ind = 0;
  for (int phase = 0; phase < 5; ++phase) {
    // Posts stream in while `pinpipe up` is killed ten times at random moments.
    std::atomic<bool> stop{false};
    std::thread producer([&] {
      stream::KinesisClient c(options_);
      std::mt19937 prng(static_cast<unsigned>(phase));
      while (!stop) {
        const int ind =
            prng() % 8 == 0 && next_ind > 0 ? static_cast<int>(prng() % next_ind) : next_ind++;
        // The three rows of a post come in any order; a resent post is the
        // same post (the emulator's duplicates); now and then a reject.
        int order[3] = {0, 1, 2};
        std::shuffle(order, order + 3, prng);
        for (int k : order) {
          const auto kind = static_cast<TableKind>(k);
          std::mt19937 content(static_cast<unsigned>(ind * 3 + k));
          std::string rec =
              prng() % 50 == 0 ? std::string("{\"index\":\"x\"}") : Record(kind, ind, content);
          auto r = c.PutRecord(kStreams[k], rec, "pk" + std::to_string(prng()));
          if (!r.ok()) ADD_FAILURE() << r.status().ToString();
          records_[k].push_back(rec);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    for (int i = 0; i < 10; ++i) {
      auto up = StartUp();
      std::this_thread::sleep_for(std::chrono::milliseconds(60 + rng() % 400));
      up->Signal(SIGKILL);
      up->Wait();
      ++kills;
    }
    stop = true;
    producer.join();
    // Restart and catch up: the live answers equal the batch over every record put.
    auto up = StartUp();
    ASSERT_TRUE(WaitForPort(up_port_, std::chrono::seconds(30))) << up->Output();
    const nlohmann::json expected = BatchRows(records_);
    const nlohmann::json got = WaitForAnswers(url_, expected, std::chrono::seconds(30));
    ASSERT_TRUE(got.is_object()) << up->Output();
    ASSERT_EQ(LiveRows(got), expected) << "phase " << phase << " after " << kills << " kills";
    ++checks;
    up->Signal(SIGKILL);
    up->Wait();
  }
  EXPECT_GE(kills, 50);
  std::cout << "pinpipe up killed " << kills << " times; live == batch at " << checks
            << " catch-ups over " << records_[0].size() << " pin records\n";
}

TEST_F(LiveAnswersTest, APostThatChangesAnAnswerShowsInTheLiveEndpoint) {
  std::mt19937 rng(1);
  for (int ind = 0; ind < 20; ++ind) {
    for (int k = 0; k < 3; ++k)
      Put(static_cast<TableKind>(k), Record(static_cast<TableKind>(k), ind, rng));
  }
  auto up = StartUp();
  ASSERT_TRUE(WaitForPort(up_port_, std::chrono::seconds(30))) << up->Output();
  nlohmann::json before = WaitForAnswers(url_, BatchRows(records_), std::chrono::seconds(30));
  ASSERT_EQ(LiveRows(before), BatchRows(records_)) << up->Output();
  EXPECT_TRUE(before.contains("as_of"));
  EXPECT_TRUE(before["as_of"].contains("pin"));
  EXPECT_TRUE(before["freshness_ms"].is_number());
  // A post from a new country changes q1: geo first, its pin a moment later.
  Put(TableKind::kGeo,
      "{\"ind\":1000,\"country\":\"Zanzibar\",\"timestamp\":\"2020-01-01 "
      "00:00:00\",\"latitude\":1,\"longitude\":2}");
  Put(TableKind::kPin,
      "{\"index\":1000,\"category\":\"zebras\",\"poster_name\":\"Z\","
      "\"follower_count\":\"9M\"}");
  const auto sent = std::chrono::steady_clock::now();
  nlohmann::json after = WaitForAnswers(url_, BatchRows(records_), std::chrono::seconds(10));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - sent);
  ASSERT_EQ(LiveRows(after), BatchRows(records_));
  const nlohmann::json live = LiveRows(after);
  bool found = false;
  for (const auto& row : live["q1"]) found |= row[0] == "Zanzibar" && row[1] == "zebras";
  EXPECT_TRUE(found) << live["q1"].dump();
  EXPECT_EQ(live["q3b"], nlohmann::json::parse(R"([["Zanzibar", 9000000]])"));
  std::cout << "the post showed in /api/answers/live within " << took.count() << " ms\n";
  // The CLI prints the batch's tables.
  auto text = AnswersLive(url_, false);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("q1: The most popular category people post to, per country"),
            std::string::npos);
  EXPECT_NE(text.out.find("Zanzibar"), std::string::npos);
  EXPECT_NE(text.out.find("as of:"), std::string::npos);
}

TEST(LiveAnswersCliTest, NoPipelineRunningIsAClearError) {
  const std::string url = "http://127.0.0.1:" + std::to_string(PickFreePort());
  auto r = AnswersLive(url, false);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pinpipe: error: no running pipeline answers at " + url, 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

}  // namespace
}  // namespace pinpipe::testing
