// The posting emulator against a small in-test HTTP server that records
// requests: exact paths, headers and bodies in both modes, retries on 503,
// clear failures on 4xx, rate limiting, and the `pinpipe emulate` command.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "pinpipe/emulate/emulator.h"
#include "pinpipe/source/generator.h"
#include "recording_server.h"

namespace pinpipe::emulate {
namespace {

using testing::Recorded;
using testing::RecordingServer;
using testing::Reply;

// A Kafka REST / API Gateway stand-in that accepts everything.
Reply Accept(const Recorded& r, int) {
  if (r.method == "POST") {
    auto j = nlohmann::json::parse(r.body);
    nlohmann::json offsets = nlohmann::json::array();
    for (size_t i = 0; i < j["records"].size(); ++i) {
      offsets.push_back(
          {{"partition", 0}, {"offset", i}, {"error_code", nullptr}, {"error", nullptr}});
    }
    return {200, "application/vnd.kafka.v2+json",
            nlohmann::json{
                {"key_schema_id", nullptr}, {"value_schema_id", nullptr}, {"offsets", offsets}}
                .dump()};
  }
  if (r.target.ends_with("/records")) {
    auto j = nlohmann::json::parse(r.body);
    nlohmann::json recs = nlohmann::json::array();
    for (size_t i = 0; i < j["records"].size(); ++i) {
      recs.push_back({{"SequenceNumber", std::to_string(i)}, {"ShardId", "shardId-000000000000"}});
    }
    return {200, "application/json",
            nlohmann::json{{"FailedRecordCount", 0}, {"Records", recs}}.dump()};
  }
  return {200, "application/json", R"({"SequenceNumber":"1","ShardId":"shardId-000000000000"})"};
}

class EmulateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source::Generator gen(100, 50);
    pins_.resize(50);
    geos_.resize(50);
    users_.resize(50);
    for (int i = 0; i < 50; ++i) gen.Post(i, &pins_[i], &geos_[i], &users_[i]);
    cache_ = PostCache::FromRows(pins_, geos_, users_);
  }

  Options Base(const std::string& api) {
    Options o;
    o.api = api;
    o.prefix = "0a60b9a8a831";
    o.sequential = true;
    o.backoff_ms = 5;
    return o;
  }

  std::string Json(model::Table t, size_t i) { return cache_.json(t, i); }

  std::vector<model::PinRow> pins_;
  std::vector<model::GeoRow> geos_;
  std::vector<model::UserRow> users_;
  PostCache cache_;
};

TEST_F(EmulateTest, BatchModeSendsExactRequests) {
  RecordingServer server(Accept);
  Options o = Base(server.url());
  o.count = 3;
  o.api_key = "k-123";
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->records_sent, 9);
  EXPECT_EQ(s->records_failed, 0);
  EXPECT_EQ(s->requests, 9);
  EXPECT_EQ(s->connects, 1);  // one keep-alive connection
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 9u);
  const char* suffix[] = {"pin", "geo", "user"};
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, std::string("/topics/0a60b9a8a831.") + suffix[i % 3]);
    EXPECT_EQ(r.headers.at("content-type"), "application/vnd.kafka.json.v2+json");
    EXPECT_EQ(r.headers.at("x-api-key"), "k-123");
    EXPECT_EQ(r.body, "{\"records\":[{\"value\":" + Json(model::kAllTables[i % 3], i / 3) + "}]}");
  }
  // Values keep their JSON types: numbers as numbers, follower_count as text.
  auto pin = nlohmann::json::parse(reqs[0].body)["records"][0]["value"];
  EXPECT_TRUE(pin["index"].is_number_integer());
  EXPECT_TRUE(pin["downloaded"].is_number_integer());
  EXPECT_TRUE(pin["follower_count"].is_string());
  auto geo = nlohmann::json::parse(reqs[1].body)["records"][0]["value"];
  EXPECT_TRUE(geo["latitude"].is_number_float());
  EXPECT_EQ(geo["timestamp"].get<std::string>().size(), 19u);
  EXPECT_EQ(geo["timestamp"].get<std::string>()[10], ' ');
}

TEST_F(EmulateTest, BatchSizeGroupsRecordsAndBasePathIsKept) {
  RecordingServer server(Accept);
  Options o = Base(server.url() + "/prod/");
  o.count = 10;
  o.batch_size = 4;
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 30);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 9u);  // 4 + 4 + 2 posts, three tables each
  EXPECT_EQ(reqs[0].target, "/prod/topics/0a60b9a8a831.pin");
  EXPECT_EQ(nlohmann::json::parse(reqs[0].body)["records"].size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(reqs[8].body)["records"].size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(reqs[8].body)["records"][1]["value"]["ind"], 9);
}

TEST_F(EmulateTest, StreamModeSendsExactRequests) {
  RecordingServer server(Accept);
  Options o = Base(server.url());
  o.mode = Mode::kStream;
  o.count = 2;
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 6);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].target, "/streams/streaming-0a60b9a8a831-geo/record");
  EXPECT_EQ(reqs[1].headers.at("content-type"), "application/json");
  EXPECT_EQ(reqs[1].headers.count("x-api-key"), 0u);
  EXPECT_EQ(reqs[1].body, "{\"StreamName\":\"streaming-0a60b9a8a831-geo\",\"Data\":" +
                              Json(model::Table::kGeo, 0) + ",\"PartitionKey\":\"partition-1\"}");
}

TEST_F(EmulateTest, StreamModeBatchesUsePutRecords) {
  RecordingServer server(Accept);
  Options o = Base(server.url());
  o.mode = Mode::kStream;
  o.count = 3;
  o.batch_size = 3;
  o.partition_key = "index";
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 9);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].target, "/streams/streaming-0a60b9a8a831-user/records");
  auto body = nlohmann::json::parse(reqs[2].body);
  ASSERT_EQ(body["records"].size(), 3u);
  EXPECT_EQ(body["records"][2]["data"].get<std::string>(), Json(model::Table::kUser, 2));
  EXPECT_EQ(body["records"][2]["partition-key"], "2");
}

TEST_F(EmulateTest, RetriesOn503ThenSucceeds) {
  RecordingServer server([](const Recorded& r, int n) {
    if (n < 2) return Reply{503, "application/json", R"({"message":"busy"})"};
    return Accept(r, n);
  });
  Options o = Base(server.url());
  o.count = 2;
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 6);
  EXPECT_EQ(s->records_failed, 0);
  EXPECT_EQ(s->retried, 2);
  EXPECT_EQ(s->requests, 8);
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].body, reqs[2].body);  // the same request again
}

TEST_F(EmulateTest, GivesUpAfterRetryLimit) {
  RecordingServer server([](const Recorded&, int) {
    return Reply{500, "application/vnd.kafka.v2+json",
                 R"({"error_code":50002,"message":"Kafka error: broker down"})"};
  });
  Options o = Base(server.url());
  o.count = 1;
  o.max_retries = 2;
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 0);
  EXPECT_EQ(s->records_failed, 3);
  EXPECT_EQ(s->requests, 9);
  EXPECT_EQ(s->retried, 6);
  ASSERT_FALSE(s->errors.empty());
  EXPECT_NE(s->errors.begin()->first.find("Kafka error: broker down"), std::string::npos);
  EXPECT_NE(s->errors.begin()->first.find("gave up after 2 retries"), std::string::npos);
}

TEST_F(EmulateTest, ClientErrorFailsWithServerMessageAndNoRetry) {
  RecordingServer server([](const Recorded& r, int n) {
    if (r.target.ends_with(".geo")) {
      return Reply{404, "application/vnd.kafka.v2+json",
                   R"({"error_code":40401,"message":"Topic not found."})"};
    }
    return Accept(r, n);
  });
  Options o = Base(server.url());
  o.count = 2;
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 4);
  EXPECT_EQ(s->records_failed, 2);
  EXPECT_EQ(s->retried, 0);
  ASSERT_EQ(s->errors.size(), 1u);
  EXPECT_EQ(s->errors.begin()->first,
            "POST /topics/0a60b9a8a831.geo: HTTP 404: Topic not found. (error_code 40401)");
  EXPECT_NE(s->ToString().find("Topic not found."), std::string::npos);
}

TEST_F(EmulateTest, RetriesOnlyRetriableRecordsOfAPartialFailure) {
  std::atomic<int> calls{0};
  RecordingServer server([&](const Recorded& r, int n) {
    if (calls++ == 0) {
      return Reply{200, "application/vnd.kafka.v2+json",
                   R"({"offsets":[{"partition":0,"offset":1,"error_code":null,"error":null},)"
                   R"({"partition":null,"offset":null,"error_code":50003,"error":"retriable"}]})"};
    }
    return Accept(r, n);
  });
  Options o = Base(server.url());
  o.count = 2;
  o.batch_size = 2;
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 6);
  EXPECT_EQ(s->records_failed, 0);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  auto again = nlohmann::json::parse(reqs[1].body)["records"];
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["value"]["index"], 1);  // only the failed record
}

TEST_F(EmulateTest, ConnectionRefusedIsRetriedThenReported) {
  int port = testing::PickFreePort();  // nothing listens there
  Options o = Base("http://127.0.0.1:" + std::to_string(port));
  o.count = 1;
  o.max_retries = 1;
  auto s = emulate::Run(cache_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_failed, 3);
  EXPECT_EQ(s->retried, 3);
  ASSERT_FALSE(s->errors.empty());
  EXPECT_NE(s->errors.begin()->first.find("cannot connect"), std::string::npos);
}

TEST_F(EmulateTest, RateIsRoughlyHonoured) {
  RecordingServer server(Accept);
  Options o = Base(server.url());
  o.count = 100;  // 300 records
  o.rate = 300;   // records/s -> about one second
  o.concurrency = 3;
  o.sequential = false;
  auto t0 = std::chrono::steady_clock::now();
  auto s = emulate::Run(cache_, o);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->records_sent, 300);
  EXPECT_GT(secs, 0.9);  // the last record may leave at 299/300 s
  EXPECT_LT(secs, 4.0);  // generous: CI machines are shared
  EXPECT_EQ(server.connections(), 3);
}

TEST_F(EmulateTest, DurationStopsTheRun) {
  RecordingServer server(Accept);
  Options o = Base(server.url());
  o.duration_ms = 300;
  o.rate = 1000;
  auto t0 = std::chrono::steady_clock::now();
  auto s = emulate::Run(cache_, o);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(s.ok());
  EXPECT_GT(s->records_sent, 0);
  EXPECT_LE(s->records_sent, 330);  // the rate caps it at ~300 in 0.3 s
  EXPECT_LT(secs, 3.0);
}

TEST_F(EmulateTest, RandomDrawsAreSeededWithReplacement) {
  auto indexes = [&](uint64_t seed) {
    RecordingServer server(Accept);
    Options o = Base(server.url());
    o.sequential = false;
    o.seed = seed;
    o.count = 40;
    EXPECT_TRUE(emulate::Run(cache_, o).ok());
    std::vector<int> out;
    for (const auto& r : server.requests()) {
      if (r.target.ends_with(".pin")) {
        out.push_back(nlohmann::json::parse(r.body)["records"][0]["value"]["index"]);
      }
    }
    return out;
  };
  auto a = indexes(100);
  EXPECT_EQ(a, indexes(100));
  EXPECT_NE(a, indexes(7));
  std::set<int> distinct(a.begin(), a.end());
  EXPECT_LT(distinct.size(), a.size());  // 40 draws from 50 posts repeat some
}

// The command end to end: seed a SQLite source, emulate against the server.
TEST_F(EmulateTest, CommandPrintsSummaryAndExitCodes) {
  testing::TempDir dir;
  std::string url = "sqlite://" + (dir / "source.db");
  auto seed =
      testing::RunCommand({testing::PinpipeBinary(), "seed", "--rows", "200", "--source", url});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  RecordingServer server(Accept);
  auto ok = testing::RunCommand({testing::PinpipeBinary(), "emulate", "--source", url, "--api",
                                 server.url(), "--count", "20", "--batch-size", "5",
                                 "--concurrency", "2", "--prefix", "abc"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("sent 60 records"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("p99"), std::string::npos) << ok.out;
  EXPECT_EQ(server.requests()[0].target.rfind("/topics/abc.", 0), 0u);

  RecordingServer refusing([](const Recorded&, int) {
    return Reply{403, "application/json", R"({"message":"Forbidden"})"};
  });
  auto bad = testing::RunCommand({testing::PinpipeBinary(), "emulate", "--source", url, "--api",
                                  refusing.url(), "--count", "2", "--mode", "stream"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("HTTP 403: Forbidden"), std::string::npos) << bad.out;
  EXPECT_NE(bad.err.find("failed"), std::string::npos) << bad.err;

  auto usage = testing::RunCommand(
      {testing::PinpipeBinary(), "emulate", "--source", url, "--mode", "carrier-pigeon"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  EXPECT_NE(usage.err.find("--mode"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::emulate
