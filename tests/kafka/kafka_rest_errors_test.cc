// Kafka broker errors as REST clients see them: `pinpipe serve` with
// broker.type=kafka against librdkafka's mock cluster hosted by this test,
// errors injected through the mock's error API
// (rd_kafka_mock_push_request_errors, rd_kafka_mock_topic_set_error), and the
// answers checked against the Kafka REST v2 codes of docs/kafka.md (the Kafka-to-REST error table):
// 40401 / 40402 / 40301 as error envelopes, 50002 / 50003 per record, transient
// errors retried (inside librdkafka, then by the emulator on 50003) without
// loss or duplicates.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "pinpipe/kafka/kafka_broker.h"
#include "pinpipe/kafka/mock_cluster.h"

namespace pinpipe::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kJson = "Content-Type: application/vnd.kafka.json.v2+json";

struct Http {
  int status = 0;
  json body;
  std::string raw;
};

class KafkaRestErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mock = kafka::MockCluster::Start(3);
    ASSERT_TRUE(mock.ok()) << mock.status().ToString();
    mock_ = std::move(*mock);
    for (const char* t : {"events", "0a60b9a8a831.pin", "0a60b9a8a831.geo", "0a60b9a8a831.user"}) {
      ASSERT_TRUE(mock_->CreateTopic(t, 3).ok());
    }
    auto b = kafka::NewKafkaBroker(kafka::Properties{{"bootstrap.servers", Bootstrap()}});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
    port_ = PickFreePort();
    env_ = {{"PINPIPE_BROKER_TYPE", "kafka"},
            {"PINPIPE_KAFKA_BOOTSTRAP_SERVERS", Bootstrap()},
            // Give up on a record after 2 s of transient errors (default 30 s).
            {"PINPIPE_KAFKA_MESSAGE_TIMEOUT_MS", "2000"},
            {"PINPIPE_KAFKA_RETRY_BACKOFF_MS", "50"},
            // Unknown topics are 40401, not created (the mock cannot create them anyway).
            {"PINPIPE_API_AUTO_CREATE_TOPICS", "false"}};
    serve_ = std::make_unique<Process>(
        ProcessOptions{{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                        "127.0.0.1:" + std::to_string(port_), "--data-dir", dir_ / "data"},
                       env_});
    ASSERT_TRUE(WaitForPort(port_, 30s)) << serve_->Output();
  }

  void TearDown() override {
    if (serve_) {
      EXPECT_EQ(serve_->Stop(20s), 0) << serve_->Output();
    }
  }

  std::string Bootstrap() const { return mock_->bootstrap_servers(); }
  std::string Api() const { return "http://127.0.0.1:" + std::to_string(port_); }

  Http Post(const std::string& path, const std::string& body) {
    auto r = RunCommand({"curl", "-s", "--max-time", "30", "-X", "POST", "-H", kJson, "--data",
                         body, "-w", "\n%{http_code}", Api() + path});
    Http out;
    auto nl = r.out.rfind('\n');
    EXPECT_NE(nl, std::string::npos) << r.out << r.err;
    if (nl == std::string::npos) return out;
    out.raw = r.out.substr(0, nl);
    out.status = std::atoi(r.out.c_str() + nl + 1);
    out.body = json::parse(out.raw, nullptr, false);
    return out;
  }

  // {"records":[{"value":{"n":first}}, ... n records]}
  static std::string Records(int first, int n) {
    json records = json::array();
    for (int i = first; i < first + n; ++i) records.push_back({{"value", {{"n", i}}}});
    return json{{"records", records}}.dump();
  }

  int64_t Stored(const std::string& topic) {
    auto desc = broker_->DescribeTopic(topic);
    EXPECT_TRUE(desc.ok()) << desc.status().ToString();
    int64_t n = 0;
    if (desc.ok()) {
      for (const auto& p : desc->partitions) n += p.high_watermark;
    }
    return n;
  }

  // Every value stored in `topic`, across partitions.
  std::multiset<std::string> Values(const std::string& topic) {
    std::multiset<std::string> out;
    auto desc = broker_->DescribeTopic(topic);
    EXPECT_TRUE(desc.ok());
    if (!desc.ok()) return out;
    for (const auto& p : desc->partitions) {
      int64_t at = 0;
      while (at < p.high_watermark) {
        auto got = broker_->Fetch(topic, p.partition, at, {});
        EXPECT_TRUE(got.ok()) << got.status().ToString();
        if (!got.ok() || got->records.empty()) break;
        for (const auto& r : got->records) out.insert(r.value.value_or(""));
        at = got->records.back().offset + 1;
      }
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<kafka::MockCluster> mock_;
  std::unique_ptr<broker::Broker> broker_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Process> serve_;
};

TEST_F(KafkaRestErrorsTest, UnknownTopicAndPartitionAreErrorEnvelopes) {
  auto topic = Post("/topics/nope", Records(0, 1));
  EXPECT_EQ(topic.status, 404) << topic.raw;
  EXPECT_EQ(topic.raw, R"({"error_code":40401,"message":"Topic not found."})");
  auto partition = Post("/topics/events/partitions/7", Records(0, 1));
  EXPECT_EQ(partition.status, 404) << partition.raw;
  EXPECT_EQ(partition.raw, R"({"error_code":40402,"message":"Partition not found."})");
  // A good request still works and gets real offsets.
  auto ok = Post("/topics/events/partitions/2", Records(0, 3));
  ASSERT_EQ(ok.status, 200) << ok.raw;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ok.body["offsets"][i]["partition"], 2);
    EXPECT_EQ(ok.body["offsets"][i]["offset"], i);
    EXPECT_TRUE(ok.body["offsets"][i]["error_code"].is_null());
  }
}

TEST_F(KafkaRestErrorsTest, TransientBrokerErrorsAreRetriedWithoutDuplicates) {
  mock_->PushRequestErrors(
      kafka::kProduceApiKey,
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
       RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE});
  auto r = Post("/topics/events/partitions/1", Records(0, 20));
  ASSERT_EQ(r.status, 200) << r.raw;
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(r.body["offsets"][i]["error_code"].is_null()) << r.raw;
    EXPECT_EQ(r.body["offsets"][i]["offset"], i) << r.raw;  // one copy each, in order
  }
  EXPECT_EQ(Stored("events"), 20);
}

TEST_F(KafkaRestErrorsTest, NonRetriableRecordErrorIs50002PerRecord) {
  mock_->PushRequestErrors(kafka::kProduceApiKey, {RD_KAFKA_RESP_ERR_INVALID_RECORD});
  auto r = Post("/topics/events/partitions/0", Records(0, 2));
  ASSERT_EQ(r.status, 200) << r.raw;
  for (int i = 0; i < 2; ++i) {
    const auto& e = r.body["offsets"][i];
    EXPECT_EQ(e["error_code"], 50002) << r.raw;
    EXPECT_TRUE(e["partition"].is_null()) << r.raw;
    EXPECT_TRUE(e["offset"].is_null()) << r.raw;
    EXPECT_NE(e["error"].get<std::string>().find("INVALID_RECORD"), std::string::npos) << r.raw;
  }
  EXPECT_EQ(Stored("events"), 0);
  auto next = Post("/topics/events/partitions/0", Records(0, 2));
  ASSERT_EQ(next.status, 200) << next.raw;
  EXPECT_EQ(next.body["offsets"][1]["offset"], 1) << next.raw;
}

TEST_F(KafkaRestErrorsTest, PersistentTransientErrorIs50003PerRecord) {
  // More errors than 2 s of retries at 50 ms can use up.
  mock_->PushRequestErrors(kafka::kProduceApiKey, std::vector<rd_kafka_resp_err_t>(
                                                      1000, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS));
  auto start = std::chrono::steady_clock::now();
  auto r = Post("/topics/events/partitions/0", Records(0, 3));
  const auto took = std::chrono::steady_clock::now() - start;
  mock_->ClearRequestErrors(kafka::kProduceApiKey);
  ASSERT_EQ(r.status, 200) << r.raw;
  for (int i = 0; i < 3; ++i) {
    const auto& e = r.body["offsets"][i];
    EXPECT_EQ(e["error_code"], 50003) << r.raw;
    EXPECT_TRUE(e["offset"].is_null()) << r.raw;
  }
  // Answered after message.timeout.ms of retrying, not at once and not after 30 s.
  EXPECT_GE(took, 1500ms);
  EXPECT_LT(took, 15s);
  EXPECT_EQ(Stored("events"), 0);
}

// A topic error in the metadata (what the API asks first about a topic it has
// not seen) is the request's error envelope.
TEST_F(KafkaRestErrorsTest, TopicErrorsInMetadataAreErrorEnvelopes) {
  mock_->SetTopicError("events", RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  mock_->SetTopicError("0a60b9a8a831.geo", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  auto denied = Post("/topics/events", Records(0, 1));
  EXPECT_EQ(denied.status, 403) << denied.raw;
  EXPECT_EQ(denied.body["error_code"], 40301) << denied.raw;
  auto gone = Post("/topics/0a60b9a8a831.geo", Records(0, 1));
  EXPECT_EQ(gone.status, 404) << gone.raw;
  EXPECT_EQ(gone.raw, R"({"error_code":40401,"message":"Topic not found."})");
  mock_->SetTopicError("events", RD_KAFKA_RESP_ERR_NO_ERROR);
  mock_->SetTopicError("0a60b9a8a831.geo", RD_KAFKA_RESP_ERR_NO_ERROR);
  // Once the errors are gone the topics are back (metadata is cached for 5 s).
  for (const char* t : {"events", "0a60b9a8a831.geo"}) {
    Http back;
    for (int i = 0; i < 100 && back.status != 200; ++i) {
      back = Post(std::string("/topics/") + t, Records(1, 1));
      if (back.status != 200) std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(back.status, 200) << t << " " << back.raw;
    EXPECT_EQ(Stored(t), 1) << t;  // the refused requests stored nothing
  }
}

// The same error on the produce request itself fails the records, like
// Confluent's proxy: a non-retriable Kafka error is 50002 per record.
TEST_F(KafkaRestErrorsTest, AuthorizationFailureOnProduceIs50002PerRecord) {
  ASSERT_EQ(Post("/topics/events/partitions/0", Records(0, 1)).status, 200);
  mock_->PushRequestErrors(kafka::kProduceApiKey, {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
  auto r = Post("/topics/events/partitions/0", Records(1, 2));
  ASSERT_EQ(r.status, 200) << r.raw;
  for (int i = 0; i < 2; ++i) {
    const auto& e = r.body["offsets"][i];
    EXPECT_EQ(e["error_code"], 50002) << r.raw;
    EXPECT_NE(e["error"].get<std::string>().find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos)
        << r.raw;
  }
  EXPECT_EQ(Stored("events"), 1);
}

// The emulator retries the records answered 50003; in the end each is stored once.
TEST_F(KafkaRestErrorsTest, EmulatorRetries50003AndNothingIsLostOrDoubled) {
  auto seed = RunCommand({PinpipeBinary(), "--log-level", "warn", "seed", "--rows", "100",
                          "--source", "sqlite://" + (dir_ / "source.db")});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  // Enough for the first request(s) to time out after 2 s of retries, then all clear.
  mock_->PushRequestErrors(kafka::kProduceApiKey, std::vector<rd_kafka_resp_err_t>(
                                                      60, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS));
  auto e = RunCommand({PinpipeBinary(), "emulate", "--api", Api(), "--source",
                       "sqlite://" + (dir_ / "source.db"), "--count", "60", "--sequential",
                       "--batch-size", "10", "--concurrency", "1", "--max-retries", "10"},
                      "", env_, 120s);
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  EXPECT_NE(e.out.find("sent 180 records"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("failed 0"), std::string::npos) << e.out;
  EXPECT_EQ(e.out.find("retried 0"), std::string::npos) << e.out;  // some were retried
  for (const char* t : {"0a60b9a8a831.pin", "0a60b9a8a831.geo", "0a60b9a8a831.user"}) {
    auto values = Values(t);
    EXPECT_EQ(values.size(), 60u) << t;
    EXPECT_EQ(std::set<std::string>(values.begin(), values.end()).size(), 60u) << t;
  }
}

}  // namespace
}  // namespace pinpipe::testing
