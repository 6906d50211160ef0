// NOT_ENOUGH_REPLICAS from a real 3-broker Apache Kafka cluster (KRaft,
// min.insync.replicas=3) through pinpipe's REST API (docs/kafka.md's error
// table): with one broker stopped, a produce is answered 200 with error_code
// 50003 (retriable) for each record and nothing of it is stored; accepted
// records stay; once the broker is back, the client's retry is stored once.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness.h"
#include "kafka_peer.h"

namespace pinpipe::testing {
namespace {
using nlohmann::json;
using namespace std::chrono_literals;

// POST /topics/<topic>; returns (HTTP status, body).
std::pair<int, std::string> Post(int port, const std::string& topic, const std::string& body) {
  auto r = RunCommand(
      {"curl", "-s", "--max-time", "90", "-X", "POST", "-H",
       "Content-Type: application/vnd.kafka.json.v2+json", "--data-binary", "@-", "-w",
       "\n%{http_code}", "http://127.0.0.1:" + std::to_string(port) + "/topics/" + topic},
      body);
  auto nl = r.out.rfind('\n');
  if (nl == std::string::npos) return {0, r.out + r.err};
  return {std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl)};
}

std::string Records(int first, int n) {
  json records = json::array();
  for (int i = first; i < first + n; ++i) records.push_back({{"value", {{"n", i}}}});
  return json{{"records", records}}.dump();
}

// The partition's in-sync replicas as kafka-topics --describe prints them.
size_t IsrSize(KafkaPeer& peer, const std::string& topic) {
  auto d =
      peer.Tool({"topics", "--bootstrap-server", peer.bootstrap(), "--describe", "--topic", topic});
  auto at = d.out.find("Isr: ");
  if (d.exit_code != 0 || at == std::string::npos) return 0;
  std::string isr = d.out.substr(at + 5, d.out.find_first_of("\t \n", at + 5) - at - 5);
  return static_cast<size_t>(std::count(isr.begin(), isr.end(), ',') + 1);
}

bool WaitIsr(KafkaPeer& peer, const std::string& topic, size_t want) {
  for (int i = 0; i < 60; ++i) {
    if (IsrSize(peer, topic) == want) return true;
    std::this_thread::sleep_for(1s);
  }
  return false;
}

TEST(KafkaReplicasPeerTest, NotEnoughReplicasIs50003AndLosesNothing) {
  std::string error;
  auto peer = KafkaPeer::Start({.nodes = 3, .sets = {"min.insync.replicas=3"}}, &error);
  ASSERT_NE(peer, nullptr) << error;
  const std::string topic = "replicas.three";
  auto c = peer->Tool({"topics", "--bootstrap-server", peer->bootstrap(), "--create", "--topic",
                       topic, "--partitions", "1", "--replication-factor", "3"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  ASSERT_TRUE(WaitIsr(*peer, topic, 3));

  TempDir dir;
  auto env = peer->Env();
  env["PINPIPE_API_AUTO_CREATE_TOPICS"] = "false";
  env["PINPIPE_KAFKA_MESSAGE_TIMEOUT_MS"] = "5000";
  const int port = PickFreePort();
  Process serve({{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                  "127.0.0.1:" + std::to_string(port), "--data-dir", dir / "data"},
                 env});
  ASSERT_TRUE(WaitForPort(port, 30s)) << serve.Output();

  auto [s1, b1] = Post(port, topic, Records(0, 5));
  ASSERT_EQ(s1, 200) << b1;
  EXPECT_NE(b1.find(R"("offset":4)"), std::string::npos) << b1;

  // Node 3 stops (controlled shutdown): the ISR shrinks to 2 < min.insync.replicas.
  const int stopped = peer->StopNode(2);
  EXPECT_TRUE(stopped == 0 || stopped == 128 + SIGTERM) << stopped;
  ASSERT_TRUE(WaitIsr(*peer, topic, 2));
  auto [s2, b2] = Post(port, topic, Records(5, 3));
  EXPECT_EQ(s2, 200) << b2;
  auto j = json::parse(b2, nullptr, false);
  ASSERT_TRUE(j.is_object() && j["offsets"].is_array()) << b2;
  ASSERT_EQ(j["offsets"].size(), 3u) << b2;
  for (const auto& o : j["offsets"]) {
    // Retriable: librdkafka retried the broker's NOT_ENOUGH_REPLICAS until
    // message.timeout.ms, then the record is 50003 and the client retries.
    EXPECT_EQ(o["error_code"], 50003) << b2;
    EXPECT_TRUE(o["offset"].is_null()) << b2;
  }
  std::cout << "answer with one of three brokers stopped: " << b2 << "\n";

  // The broker is back: the client's retry of the same records is stored.
  ASSERT_TRUE(peer->RestartNode(2));
  ASSERT_TRUE(WaitIsr(*peer, topic, 3));
  auto [s3, b3] = Post(port, topic, Records(5, 3));
  ASSERT_EQ(s3, 200) << b3;
  auto j3 = json::parse(b3, nullptr, false);
  ASSERT_TRUE(j3.is_object() && j3["offsets"].is_array()) << b3;
  for (size_t i = 0; i < j3["offsets"].size(); ++i) {
    EXPECT_EQ(j3["offsets"][i]["offset"], 5 + static_cast<int>(i)) << b3;
    EXPECT_TRUE(j3["offsets"][i]["error_code"].is_null()) << b3;
  }
  EXPECT_EQ(serve.Stop(20s), 0) << serve.Output();

  // Kafka's own consumer: every accepted record once, the refused ones only as retried.
  auto r = peer->Tool({"console-consumer", "--bootstrap-server", peer->bootstrap(), "--topic",
                       topic, "--from-beginning", "--max-messages", "9", "--timeout-ms", "15000"});
  std::vector<std::string> got;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) got.push_back(line);
  std::vector<std::string> want;
  for (int i = 0; i < 8; ++i) want.push_back(R"({"n":)" + std::to_string(i) + "}");
  EXPECT_EQ(got, want) << r.err;
}

}  // namespace
}  // namespace pinpipe::testing
