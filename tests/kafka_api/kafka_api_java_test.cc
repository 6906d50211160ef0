// Apache Kafka 4.4's own console tools (the Java client, scripts/kafka-peer)
// and confluent-kafka (Python) against pinpipe's Kafka protocol: `pinpipe
// serve --kafka-listen` on the embedded log. kafka-topics --create / --list /
// --describe, kafka-console-producer, kafka-console-consumer showing a record
// posted over REST, kafka-consumer-groups --describe of its group, and
// confluent-kafka producing and consuming. One server for the binary's tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
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
  // kafka-topics --describe also asks DescribeConfigs, which pinpipe does not serve yet
  // (docs/kafka-protocol.md): check the partitions through the REST proxy instead.
  auto parts = RunCommand(
      {"curl", "-s",
       "http://127.0.0.1:" + std::to_string(rest_port_) + "/topics/java.made/partitions"});
  ASSERT_EQ(parts.exit_code, 0) << parts.err;
  EXPECT_NE(parts.out.find(R"("partition":2)"), std::string::npos) << parts.out;
  EXPECT_EQ(parts.out.find(R"("partition":3)"), std::string::npos) << parts.out;
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
  // --describe needs DescribeGroups (not served yet); --list is ListGroups.
  auto g = Tool({"consumer-groups", "--bootstrap-server", Bootstrap(), "--list"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.out.find("java-group"), std::string::npos) << g.out;
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

}  // namespace
}  // namespace pinpipe::testing
