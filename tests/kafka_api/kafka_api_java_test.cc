// Apache Kafka 4.4's own console tools (the Java client, scripts/kafka-peer)
// and confluent-kafka (Python) against pinpipe's Kafka protocol: `pinpipe
// serve --kafka-listen` on the embedded log. kafka-topics --create / --list /
// --describe / --alter --partitions, kafka-configs --describe / --alter (topic settings),
// kafka-console-producer, kafka-console-consumer showing a record posted over REST,
// kafka-consumer-groups --describe of its group (with a live member and after it
// left), --list / --describe --all-groups showing a REST consumer's group, console
// producer compression, and confluent-kafka producing and consuming. One server
// for the binary's tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "kafka_peer.h"

namespace pinpipe::testing {
namespace {
using namespace std::chrono_literals;

class KafkaApiJavaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    rest_port_ = PickFreePort();
    kafka_port_ = PickFreePort();
    serve_ = new Process(
        ProcessOptions{{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                        "127.0.0.1:" + std::to_string(rest_port_), "--kafka-listen",
                        "127.0.0.1:" + std::to_string(kafka_port_), "--data-dir", *dir_ / "data"},
                       {}});
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(WaitForPort(kafka_port_, 30s)) << serve_->Output();
    ASSERT_TRUE(WaitForPort(rest_port_, 30s)) << serve_->Output();
    auto libs = RunCommand({KafkaPeer::Script(), "--libs"});
    ASSERT_EQ(libs.exit_code, 0) << "Apache Kafka peer missing: " << libs.err;
  }

  static std::string Bootstrap() { return "127.0.0.1:" + std::to_string(kafka_port_); }

  CommandResult Tool(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), KafkaPeer::Script());
    return RunCommand(args, input, {}, 120s);
  }

  static TempDir* dir_;
  static Process* serve_;
  static int rest_port_, kafka_port_;
};
TempDir* KafkaApiJavaTest::dir_ = nullptr;
Process* KafkaApiJavaTest::serve_ = nullptr;
int KafkaApiJavaTest::rest_port_ = 0;
int KafkaApiJavaTest::kafka_port_ = 0;

TEST_F(KafkaApiJavaTest, KafkaTopicsCreateAndList) {
  auto c = Tool({"topics", "--bootstrap-server", Bootstrap(), "--create", "--topic", "java.made",
                 "--partitions", "3"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err << serve_->Output();
  auto l = Tool({"topics", "--bootstrap-server", Bootstrap(), "--list"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_NE(l.out.find("java.made\n"), std::string::npos) << l.out;
  // --describe: Metadata (or DescribeTopicPartitions), DescribeConfigs, DescribeCluster.
  auto d =
      Tool({"topics", "--bootstrap-server", Bootstrap(), "--describe", "--topic", "java.made"});
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err << serve_->Output();
  EXPECT_NE(d.out.find("PartitionCount: 3"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("ReplicationFactor: 1"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("Partition: 2\tLeader: 0\tReplicas: 0\tIsr: 0"), std::string::npos) << d.out;
  // --alter --partitions is CreatePartitions: 3 -> 5; the new ones take records.
  auto a = Tool({"topics", "--bootstrap-server", Bootstrap(), "--alter", "--topic", "java.made",
                 "--partitions", "5"});
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err << serve_->Output();
  d = Tool({"topics", "--bootstrap-server", Bootstrap(), "--describe", "--topic", "java.made"});
  EXPECT_NE(d.out.find("PartitionCount: 5"), std::string::npos) << d.out << d.err;
  auto parts = RunCommand(
      {"curl", "-s",
       "http://127.0.0.1:" + std::to_string(rest_port_) + "/topics/java.made/partitions"});
  EXPECT_NE(parts.out.find(R"("partition":4)"), std::string::npos) << parts.out;
  auto post = RunCommand({"curl", "-s", "-X", "POST", "-H",
                          "Content-Type: application/vnd.kafka.json.v2+json", "--data",
                          R"({"records":[{"value":"p4","partition":4}]})",
                          "http://127.0.0.1:" + std::to_string(rest_port_) + "/topics/java.made"});
  EXPECT_NE(post.out.find(R"("partition":4,"offset":0)"), std::string::npos) << post.out;
  // Fewer partitions is Kafka's INVALID_PARTITIONS, and nothing changes.
  a = Tool({"topics", "--bootstrap-server", Bootstrap(), "--alter", "--topic", "java.made",
            "--partitions", "2"});
  EXPECT_NE(a.exit_code, 0);
  EXPECT_NE((a.out + a.err).find("InvalidPartitionsException"), std::string::npos)
      << a.out << a.err;
  d = Tool({"topics", "--bootstrap-server", Bootstrap(), "--describe", "--topic", "java.made"});
  EXPECT_NE(d.out.find("PartitionCount: 5"), std::string::npos) << d.out;
}

TEST_F(KafkaApiJavaTest, KafkaConfigsDescribesTopicAndBrokerSettings) {
  auto c = Tool({"topics", "--bootstrap-server", Bootstrap(), "--create", "--topic", "java.conf",
                 "--config", "retention.ms=3600000"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  auto d = Tool({"configs", "--bootstrap-server", Bootstrap(), "--describe", "--entity-type",
                 "topics", "--entity-name", "java.conf"});
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err << serve_->Output();
  EXPECT_NE(d.out.find("Dynamic configs for topic java.conf are:"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("retention.ms=3600000 sensitive=false "
                       "synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000"),
            std::string::npos)
      << d.out;
  // Settings at their defaults are shown with --all only.
  EXPECT_EQ(d.out.find("segment.bytes"), std::string::npos) << d.out;
  d = Tool({"configs", "--bootstrap-server", Bootstrap(), "--describe", "--all", "--entity-type",
            "topics", "--entity-name", "java.conf"});
  EXPECT_NE(d.out.find("segment.bytes=134217728"), std::string::npos) << d.out << d.err;
  EXPECT_NE(d.out.find("cleanup.policy=delete"), std::string::npos) << d.out;
  d = Tool({"configs", "--bootstrap-server", Bootstrap(), "--describe", "--all", "--entity-type",
            "brokers", "--entity-name", "0"});
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  EXPECT_NE(d.out.find("advertised.listeners=PLAINTEXT://" + Bootstrap()), std::string::npos)
      << d.out;
  d = Tool({"configs", "--bootstrap-server", Bootstrap(), "--describe", "--entity-type", "topics",
            "--entity-name", "java.none"});
  // Kafka 4.4's tool checks the topic list first and says so (exit 0, as against Kafka).
  EXPECT_NE((d.out + d.err).find("The topic 'java.none' doesn't exist"), std::string::npos)
      << d.out << d.err;
}

TEST_F(KafkaApiJavaTest, KafkaConfigsAltersTopicSettings) {
  auto c = Tool({"topics", "--bootstrap-server", Bootstrap(), "--create", "--topic", "java.alter",
                 "--config", "retention.ms=3600000"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  auto configs = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {"configs", "--bootstrap-server", Bootstrap()};
    all.insert(all.end(), args.begin(), args.end());
    return Tool(all);
  };
  auto describe = [&] {
    auto d = configs({"--describe", "--entity-type", "topics", "--entity-name", "java.alter"});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    return d.out;
  };
  // --add-config is IncrementalAlterConfigs SET.
  auto a = configs({"--alter", "--entity-type", "topics", "--entity-name", "java.alter",
                    "--add-config", "retention.ms=60000,segment.ms=7200000"});
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err << serve_->Output();
  EXPECT_NE(a.out.find("Completed updating config for topic java.alter."), std::string::npos)
      << a.out;
  std::string d = describe();
  EXPECT_NE(d.find("retention.ms=60000 sensitive=false "
                   "synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("segment.ms=7200000"), std::string::npos) << d;
  // --delete-config is DELETE: back to the log's default, no longer a topic setting.
  a = configs({"--alter", "--entity-type", "topics", "--entity-name", "java.alter",
               "--delete-config", "segment.ms"});
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  d = describe();
  EXPECT_EQ(d.find("segment.ms"), std::string::npos) << d;
  EXPECT_NE(d.find("retention.ms=60000"), std::string::npos) << d;
  // The REST API's topic shows the same settings.
  auto rest = RunCommand(
      {"curl", "-s", "http://127.0.0.1:" + std::to_string(rest_port_) + "/topics/java.alter"});
  EXPECT_NE(rest.out.find(R"("retention.ms":"60000")"), std::string::npos) << rest.out;
  EXPECT_NE(rest.out.find(R"("segment.ms":"604800000")"), std::string::npos) << rest.out;
  // What pinpipe's log cannot do is refused with Kafka's InvalidConfigurationException,
  // and nothing changes.
  for (const char* bad :
       {"cleanup.policy=compact", "retention.ms=soon", "no.such.setting=1", "flush.messages=1"}) {
    a = configs(
        {"--alter", "--entity-type", "topics", "--entity-name", "java.alter", "--add-config", bad});
    EXPECT_NE(a.exit_code, 0) << bad << a.out;
    EXPECT_NE((a.out + a.err).find("InvalidConfigurationException"), std::string::npos)
        << bad << a.out << a.err;
  }
  EXPECT_NE(describe().find("retention.ms=60000 "), std::string::npos);
  // Broker settings are static.
  a = configs({"--alter", "--entity-type", "brokers", "--entity-name", "0", "--add-config",
               "log.retention.ms=1000"});
  EXPECT_NE(a.exit_code, 0) << a.out;
  EXPECT_NE((a.out + a.err).find("static"), std::string::npos) << a.out << a.err;
  // An unknown topic.
  a = configs({"--alter", "--entity-type", "topics", "--entity-name", "java.nothere",
               "--add-config", "retention.ms=1000"});
  EXPECT_NE(a.exit_code, 0) << a.out;
}

TEST_F(KafkaApiJavaTest, ConsumerGroupsListsGroupsWithOnlyCommittedOffsets) {
  // A REST v2 consumer's group commits through the broker's group offsets and has
  // no Kafka-protocol member: Kafka lists such a group as Empty.
  const std::string rest = "http://127.0.0.1:" + std::to_string(rest_port_);
  auto post = RunCommand(
      {"curl", "-s", "-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json",
       "--data", R"({"records":[{"value":"r0"},{"value":"r1"}]})", rest + "/topics/java.rest"});
  ASSERT_NE(post.out.find(R"("offset":1)"), std::string::npos) << post.out;
  const std::string json = "Content-Type: application/vnd.kafka.v2+json";
  auto created = RunCommand({"curl", "-s", "-X", "POST", "-H", json, "--data",
                             R"({"name":"c1","format":"json","auto.offset.reset":"earliest",)"
                             R"("auto.commit.enable":"true"})",
                             rest + "/consumers/rest-group"});
  ASSERT_NE(created.out.find("base_uri"), std::string::npos) << created.out;
  const std::string base = rest + "/consumers/rest-group/instances/c1";
  auto sub = RunCommand({"curl", "-s", "-X", "POST", "-H", json, "--data",
                         R"({"topics":["java.rest"]})", base + "/subscription"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  std::string got;
  for (int i = 0; i < 20 && got.find("r1") == std::string::npos; ++i) {
    got += RunCommand({"curl", "-s", "-H", "Accept: application/vnd.kafka.json.v2+json",
                       base + "/records?timeout=1000"})
               .out;
  }
  ASSERT_NE(got.find("r1"), std::string::npos) << got;
  (void)RunCommand({"curl", "-s", "-X", "POST", "-H", json, base + "/offsets"});
  auto l = Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--list"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_NE(l.out.find("rest-group\n"), std::string::npos) << l.out;
  auto s = Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--list", "--state"});
  EXPECT_TRUE(std::regex_search(s.out, std::regex(R"(rest-group\s+Empty)"))) << s.out << s.err;
  auto all =
      Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--describe", "--all-groups"});
  ASSERT_EQ(all.exit_code, 0) << all.out << all.err << serve_->Output();
  EXPECT_TRUE(std::regex_search(all.out, std::regex(R"(rest-group\s+java\.rest\s+0\s+2\s+2\s+0)")))
      << all.out;
  (void)RunCommand({"curl", "-s", "-X", "DELETE", "-H", json, base});
}

TEST_F(KafkaApiJavaTest, ConsoleProducerConsumerAndGroupList) {
  auto c = Tool({"topics", "--bootstrap-server", Bootstrap(), "--create", "--topic", "java.io",
                 "--partitions", "1"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto p = Tool({"console-producer", "--bootstrap-server", Bootstrap(), "--topic", "java.io"},
                "one\ntwo\n");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  // A record posted over REST is shown by the console consumer too.
  auto post = RunCommand({"curl", "-s", "-X", "POST", "-H",
                          "Content-Type: application/vnd.kafka.json.v2+json", "--data",
                          R"({"records":[{"value":{"via":"rest"}}]})",
                          "http://127.0.0.1:" + std::to_string(rest_port_) + "/topics/java.io"});
  ASSERT_EQ(post.exit_code, 0) << post.err;
  ASSERT_NE(post.out.find(R"("offset":2)"), std::string::npos) << post.out;
  auto k = Tool({"console-consumer", "--bootstrap-server", Bootstrap(), "--topic", "java.io",
                 "--from-beginning", "--max-messages", "3", "--timeout-ms", "30000", "--group",
                 "java-group"});
  ASSERT_EQ(k.exit_code, 0) << k.err << serve_->Output();
  EXPECT_EQ(k.out, "one\ntwo\n{\"via\":\"rest\"}\n");
  auto g = Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--list"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.out.find("java-group"), std::string::npos) << g.out;
  // --describe (DescribeGroups, OffsetFetch, ListOffsets) after the member left: its
  // committed offset 3 at the end of the log, lag 0.
  g = Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--describe", "--group",
            "java-group"});
  ASSERT_EQ(g.exit_code, 0) << g.out << g.err << serve_->Output();
  EXPECT_NE(g.err.find("has no active members"), std::string::npos) << g.err;
  EXPECT_TRUE(std::regex_search(g.out, std::regex(R"(java-group\s+java\.io\s+0\s+3\s+3\s+0)")))
      << g.out;
}

TEST_F(KafkaApiJavaTest, ConsumerGroupsDescribeShowsALiveMemberAndItsPartitions) {
  auto c = Tool({"topics", "--bootstrap-server", Bootstrap(), "--create", "--topic", "java.live",
                 "--partitions", "2"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  Process consumer(ProcessOptions{{KafkaPeer::Script(), "console-consumer", "--bootstrap-server",
                                   Bootstrap(), "--topic", "java.live", "--group", "java-live"},
                                  {}});
  // The member shows once it joined and got its assignment (the JVM takes a while).
  std::string out;
  for (int i = 0; i < 40; ++i) {
    auto g = Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--describe", "--group",
                   "java-live", "--members", "--verbose"});
    out = g.out + g.err;
    if (g.exit_code == 0 && out.find("java.live:0,1") != std::string::npos) break;
    std::this_thread::sleep_for(1s);
  }
  EXPECT_NE(out.find("java.live:0,1"), std::string::npos) << out << serve_->Output();
  EXPECT_NE(out.find("/127.0.0.1"), std::string::npos) << out;
  auto state = Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--describe", "--group",
                     "java-live", "--state"});
  EXPECT_NE(state.out.find("Stable"), std::string::npos) << state.out << state.err;
  EXPECT_NE(state.out.find("range"), std::string::npos) << state.out;  // the assignor in use
  consumer.Stop();
}

TEST_F(KafkaApiJavaTest, ConsoleProducerCompressionCodecsRoundTrip) {
  const std::vector<std::string> codecs = {"gzip", "snappy", "lz4", "zstd"};
  std::string expected;
  for (const std::string& codec : codecs) {
    auto p = Tool({"console-producer", "--bootstrap-server", Bootstrap(), "--topic", "java.packed",
                   "--compression-codec", codec},
                  codec + "-" + std::string(2000, 'z') + "\n");
    ASSERT_EQ(p.exit_code, 0) << codec << p.err << serve_->Output();
    expected += codec + "-" + std::string(2000, 'z') + "\n";
  }
  auto k = Tool({"console-consumer", "--bootstrap-server", Bootstrap(), "--topic", "java.packed",
                 "--from-beginning", "--max-messages", "4", "--timeout-ms", "30000"});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  EXPECT_EQ(k.out, expected);
}

TEST_F(KafkaApiJavaTest, KafkajsAdminProducerAndConsumerGroup) {
  const std::string modules = SourceDir() + "/tests/peers/node_modules";
  ASSERT_TRUE(std::filesystem::exists(modules + "/kafkajs"))
      << "kafkajs missing: run (cd tests/peers && npm ci)";
  auto js = RunCommand(
      {"node", SourceDir() + "/tests/kafka_api/kafkajs_client.js", Bootstrap(), "js.topic"}, "",
      {{"NODE_PATH", modules}}, 120s);
  EXPECT_EQ(js.exit_code, 0) << js.out << js.err << serve_->Output();
  EXPECT_EQ(js.out, "ok\n");
}

TEST_F(KafkaApiJavaTest, ConfluentKafkaPython) {
  const char* dir = std::getenv("PINPIPE_PEERS_DIR");
  const char* home = std::getenv("HOME");
  const std::string python =
      (dir ? dir : std::string(home ? home : "/root") + "/.cache/pinpipe/peers") +
      "/venv/bin/python";
  const std::string script = R"PY(
import sys
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
b = sys.argv[1]
admin = AdminClient({"bootstrap.servers": b})
fs = admin.create_topics([NewTopic("py.api", num_partitions=2)])
for f in fs.values(): f.result(30)
p = Producer({"bootstrap.servers": b, "acks": "all"})
for i in range(10): p.produce("py.api", key=b"k%d" % i, value=b"v%d" % i)
assert p.flush(30) == 0
c = Consumer({"bootstrap.servers": b, "group.id": "py", "auto.offset.reset": "earliest"})
c.subscribe(["py.api"])
got = set()
while len(got) < 10:
    m = c.poll(20)
    if m is None: sys.exit("timed out after %d" % len(got))
    if m.error(): sys.exit(str(m.error()))
    got.add((m.key(), m.value()))
c.close()
assert got == {(b"k%d" % i, b"v%d" % i) for i in range(10)}, got
print("ok")
)PY";
  auto py = RunCommand({python, "-c", script, Bootstrap()}, "", {}, 120s);
  EXPECT_EQ(py.exit_code, 0) << "(confluent-kafka from scripts/install-peers) " << py.out << py.err
                             << serve_->Output();
  EXPECT_EQ(py.out, "ok\n");
}

// confluent-kafka's IncrementalAlterConfigs: a smaller retention.bytes deletes old
// segments at once (the log start moves), and the setting survives a restart.
// Restarts the suite's server, so it comes last.
TEST_F(KafkaApiJavaTest, ConfluentKafkaAlterConfigsTakesEffectAndSurvivesRestart) {
  const char* dir = std::getenv("PINPIPE_PEERS_DIR");
  const char* home = std::getenv("HOME");
  const std::string python =
      (dir ? dir : std::string(home ? home : "/root") + "/.cache/pinpipe/peers") +
      "/venv/bin/python";
  const std::string script = R"PY(
import json, sys
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   NewTopic, ResourceType)
b, step = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": b})
c = Consumer({"bootstrap.servers": b, "group.id": "py-retain"})
def low(): return c.get_watermark_offsets(TopicPartition("py.retain", 0), timeout=10)
if step == "alter":
    fs = admin.create_topics([NewTopic("py.retain", 1, config={"segment.bytes": "4096"})])
    for f in fs.values(): f.result(30)
    p = Producer({"bootstrap.servers": b, "acks": "all"})
    for i in range(40):  # one batch each: about seven per 4 KiB segment
        p.produce("py.retain", value=b"x" * 500)
        assert p.flush(30) == 0
    before = low()
    res = ConfigResource(ResourceType.TOPIC, "py.retain", incremental_configs=[
        ConfigEntry("retention.bytes", "4096", incremental_operation=AlterConfigOpType.SET)])
    for f in admin.incremental_alter_configs([res]).values(): f.result(30)
    print(json.dumps({"before": before, "after": low()}))
else:
    print(json.dumps({"after": low()}))
c.close()
)PY";
  auto run = [&](const std::string& step) {
    auto py = RunCommand({python, "-c", script, Bootstrap(), step}, "", {}, 120s);
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err << serve_->Output();
    return py.out;
  };
  const std::string altered = run("alter");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(altered, m,
                                std::regex(R"(\{"before": \[0, 40\], "after": \[(\d+), 40\]\})")))
      << altered;
  const int low = std::stoi(m[1]);
  EXPECT_GT(low, 20) << altered;  // at most about 8 KiB of the 20 KB kept
  // Restart the server on the same folder and ports: the setting and the log start stay.
  delete serve_;
  serve_ = new Process(
      ProcessOptions{{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                      "127.0.0.1:" + std::to_string(rest_port_), "--kafka-listen",
                      "127.0.0.1:" + std::to_string(kafka_port_), "--data-dir", *dir_ / "data"},
                     {}});
  ASSERT_TRUE(WaitForPort(kafka_port_, 30s)) << serve_->Output();
  auto d = Tool({"configs", "--bootstrap-server", Bootstrap(), "--describe", "--entity-type",
                 "topics", "--entity-name", "py.retain"});
  EXPECT_NE(d.out.find("retention.bytes=4096 sensitive=false "
                       "synonyms={DYNAMIC_TOPIC_CONFIG:retention.bytes=4096"),
            std::string::npos)
      << d.out << d.err;
  EXPECT_NE(d.out.find("segment.bytes=4096"), std::string::npos) << d.out;
  EXPECT_EQ(run("check"), "{\"after\": [" + std::to_string(low) + ", 40]}\n");
}

}  // namespace
}  // namespace pinpipe::testing
