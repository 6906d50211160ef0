// The whole batch path on Kafka, as a user runs it: `pinpipe emulate` ->
// `pinpipe serve` (Kafka REST v2, broker.type=kafka) -> librdkafka's mock
// cluster (3 brokers, hosted by this test) -> `pinpipe sink --once` (a
// consumer group on Kafka) -> objects in a local lake. The same load through
// the embedded log is the reference: on one partition per topic with one
// emulator connection the two lakes are byte-identical (same object keys, same
// record bytes); on three partitions with four connections the records'
// spread over partitions legitimately differs (the embedded log and
// librdkafka's partitioner choose differently), so each topic's records are
// compared as a multiset and every partition's objects must tile its offsets.
// The same path with another pinpipe as the Kafka cluster (its Kafka protocol
// listener on its embedded log) gives the embedded run's lake too.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "pinpipe/kafka/kafka_broker.h"
#include "pinpipe/kafka/mock_cluster.h"

namespace pinpipe::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kPrefix = "0a60b9a8a831";
constexpr int kPosts = 300;

std::vector<std::string> Topics() {
  return {std::string(kPrefix) + ".pin", std::string(kPrefix) + ".geo",
          std::string(kPrefix) + ".user"};
}

// Every object under `root`, relative key -> bytes.
std::map<std::string, std::string> ReadLake(const fs::path& root) { return ReadTree(root); }

// The same object keys, each with the same bytes.
void ExpectSameLake(const std::map<std::string, std::string>& got,
                    const std::map<std::string, std::string>& want) {
  std::vector<std::string> got_keys, want_keys;
  for (const auto& [k, v] : got) got_keys.push_back(k);
  for (const auto& [k, v] : want) want_keys.push_back(k);
  EXPECT_EQ(got_keys, want_keys);
  for (const auto& [key, bytes] : want) {
    auto it = got.find(key);
    if (it != got.end()) {
      EXPECT_EQ(it->second, bytes) << key;
    }
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

struct Load {
  int partitions = 1;
  int concurrency = 1;
  int batch_size = 7;  // not a divisor of flush.size: objects span requests
};

class WholePathTest : public ::testing::Test {
 protected:
  // The environment that points pinpipe at `mock`.
  static std::map<std::string, std::string> KafkaEnv(kafka::MockCluster& mock) {
    return {{"PINPIPE_BROKER_TYPE", "kafka"},
            {"PINPIPE_KAFKA_BOOTSTRAP_SERVERS", mock.bootstrap_servers()},
            // The mock delays a group's first join by 3 s; sessions must outlast it.
            {"PINPIPE_KAFKA_SESSION_TIMEOUT_MS", "4500"},
            {"PINPIPE_KAFKA_HEARTBEAT_INTERVAL_MS", "300"}};
  }

  void SetUp() override {
    auto seed = RunCommand({PinpipeBinary(), "--log-level", "warn", "seed", "--rows", "400",
                            "--source", "sqlite://" + (dir_ / "source.db")});
    ASSERT_EQ(seed.exit_code, 0) << seed.err;
    // Fixed-size objects only (no wall-clock rotation), so both runs cut the
    // same files from the same offsets.
    WriteFile(dir_ / "sink.properties",
              "connector.class=io.confluent.connect.s3.S3SinkConnector\n"
              "name=whole-path\n"
              "topics.regex=0a60b9a8a831\\..*\n"
              "flush.size=40\n"
              "format.class=io.confluent.connect.s3.format.json.JsonFormat\n"
              "partitioner.class=io.confluent.connect.storage.partitioner.DefaultPartitioner\n"
              "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
              "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
              "value.converter.schemas.enable=false\n");
  }

  // emulate -> serve -> (env's broker) -> sink --once -> lake `name`.
  std::map<std::string, std::string> Run(const std::string& name,
                                         const std::map<std::string, std::string>& env,
                                         const Load& load) {
    return Run(name, env, load, {});
  }
  // `serve_flags` go after `serve` (e.g. --kafka-listen "").
  std::map<std::string, std::string> Run(const std::string& name,
                                         const std::map<std::string, std::string>& env,
                                         const Load& load,
                                         const std::vector<std::string>& serve_flags) {
    const std::string data = dir_ / (name + "-data");
    const std::string lake = dir_ / (name + "-lake");
    const int port = PickFreePort();
    const std::string api = "http://127.0.0.1:" + std::to_string(port);
    {
      std::vector<std::string> argv = {PinpipeBinary(), "--log-level",
                                       "warn",          "serve",
                                       "--listen",      "127.0.0.1:" + std::to_string(port),
                                       "--data-dir",    data};
      argv.insert(argv.end(), serve_flags.begin(), serve_flags.end());
      Process serve({argv, env});
      EXPECT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << serve.Output();
      auto e = RunCommand({PinpipeBinary(), "emulate", "--api", api, "--source",
                           "sqlite://" + (dir_ / "source.db"), "--count", std::to_string(kPosts),
                           "--sequential", "--batch-size", std::to_string(load.batch_size),
                           "--concurrency", std::to_string(load.concurrency), "--max-retries", "0"},
                          "", env);
      EXPECT_EQ(e.exit_code, 0) << e.out << e.err << serve.Output();
      EXPECT_NE(e.out.find("sent " + std::to_string(3 * kPosts) + " records"), std::string::npos)
          << e.out;
      EXPECT_NE(e.out.find("failed 0"), std::string::npos) << e.out;
      EXPECT_EQ(serve.Stop(std::chrono::seconds(20)), 0) << serve.Output();
    }
    auto sink = RunCommand(
        {PinpipeBinary(), "--log-level", "warn", "sink", "--config", dir_ / "sink.properties",
         "--data-dir", data, "--store", "file://" + lake, "--once"},
        "", env, std::chrono::seconds(90));
    EXPECT_EQ(sink.exit_code, 0) << sink.out << sink.err;
    return ReadLake(lake);
  }

  std::map<std::string, std::string> RunEmbedded(const Load& load) {
    const std::string data = dir_ / "embedded-data";
    for (const auto& t : Topics()) {
      auto c = RunCommand({PinpipeBinary(), "--log-level", "warn", "topics", "create", "--data-dir",
                           data, "--topic", t, "--partitions", std::to_string(load.partitions)});
      EXPECT_EQ(c.exit_code, 0) << c.err;
    }
    return Run("embedded", {{"PINPIPE_BROKER_TYPE", "embedded"}}, load);
  }

  std::map<std::string, std::string> RunKafka(const Load& load) {
    auto mock = kafka::MockCluster::Start(3);
    EXPECT_TRUE(mock.ok()) << mock.status().ToString();
    if (!mock.ok()) return {};
    // The mock never answers CreateTopics: the topics exist before the API starts.
    for (const auto& t : Topics()) EXPECT_TRUE((*mock)->CreateTopic(t, load.partitions).ok());
    auto lake = Run("kafka", KafkaEnv(**mock), load);
    // The records went through the cluster (not a log under the data dir), and
    // the sink's group committed every one of them.
    EXPECT_FALSE(fs::exists(dir_ / "kafka-data/log"));
    auto b = kafka::NewKafkaBroker(
        kafka::Properties{{"bootstrap.servers", (*mock)->bootstrap_servers()}});
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok()) return lake;
    for (const auto& t : Topics()) {
      auto desc = (*b)->DescribeTopic(t);
      EXPECT_TRUE(desc.ok()) << desc.status().ToString();
      if (!desc.ok()) continue;
      auto committed = (*b)->FetchCommittedOffsets("connect-whole-path", t);
      EXPECT_TRUE(committed.ok()) << committed.status().ToString();
      int64_t written = 0, done = 0;
      for (const auto& p : desc->partitions) written += p.high_watermark;
      for (const auto& c : committed.value_or({})) done += c.offset;
      EXPECT_EQ(written, kPosts) << t;
      EXPECT_EQ(done, kPosts) << t;
    }
    return lake;
  }

  TempDir dir_;
};

// key -> (topic, partition, start offset) of the connector's layout
// topics/<t>/partition=<p>/<t>+<p>+<offset, 10 digits>.json.
struct ObjectKey {
  std::string topic;
  int partition = -1;
  int64_t offset = -1;
};
std::optional<ObjectKey> ParseKey(const std::string& key) {
  static const std::regex re(R"(topics/([^/]+)/partition=(\d+)/\1\+\2\+(\d{10})\.json)");
  std::smatch m;
  if (!std::regex_match(key, m, re)) return std::nullopt;
  return ObjectKey{m[1], std::stoi(m[2]), std::stoll(m[3])};
}

TEST_F(WholePathTest, OnePartitionTheKafkaLakeIsByteIdenticalToTheEmbeddedOne) {
  const Load load{.partitions = 1, .concurrency = 1, .batch_size = 7};
  auto embedded = RunEmbedded(load);
  auto kafka = RunKafka(load);
  ASSERT_FALSE(embedded.empty());
  // 300 records per topic in objects of 40: 8 objects per topic.
  EXPECT_EQ(embedded.size(), 3u * 8u);
  size_t lines = 0;
  for (const auto& [key, bytes] : embedded) {
    EXPECT_TRUE(ParseKey(key)) << key;
    lines += Lines(bytes).size();
  }
  EXPECT_EQ(lines, 3u * kPosts);
  ExpectSameLake(kafka, embedded);  // same keys, same bytes
}

// broker.type=kafka (pinpipe's librdkafka KafkaBroker) pointed at another
// pinpipe's Kafka protocol: emulate -> serve (REST) -> Kafka protocol -> the
// broker pinpipe's embedded log -> sink --once in a separate process (a consumer
// group over the protocol). The lake is byte-identical to the embedded run's.
TEST_F(WholePathTest, OnePartitionThroughAnotherPinpipesKafkaProtocolEqualsTheEmbeddedRun) {
  const Load load{.partitions = 1, .concurrency = 1, .batch_size = 7};
  auto embedded = RunEmbedded(load);
  ASSERT_EQ(embedded.size(), 3u * 8u);
  const int broker_port = PickFreePort();
  const std::string bootstrap = "127.0.0.1:" + std::to_string(broker_port);
  const std::string broker_data = dir_ / "broker-data";
  Process broker({{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                   "127.0.0.1:" + std::to_string(PickFreePort()), "--kafka-listen", bootstrap,
                   "--data-dir", broker_data},
                  {}});
  ASSERT_TRUE(WaitForPort(broker_port, std::chrono::seconds(30))) << broker.Output();
  // Topics created over the protocol (CreateTopics) with --bootstrap.
  for (const auto& t : Topics()) {
    auto c = RunCommand({PinpipeBinary(), "--log-level", "warn", "topics", "create", "--topic", t,
                         "--partitions", "1", "--bootstrap", bootstrap, "--data-dir",
                         dir_ / "cli-data"});
    ASSERT_EQ(c.exit_code, 0) << c.err << broker.Output();
  }
  const std::map<std::string, std::string> env = {{"PINPIPE_BROKER_TYPE", "kafka"},
                                                  {"PINPIPE_KAFKA_BOOTSTRAP_SERVERS", bootstrap}};
  auto lake = Run("pinpipe", env, load, {"--kafka-listen", ""});
  ExpectSameLake(lake, embedded);  // same keys, same bytes
  // The records are in the broker pinpipe's log, and the sink's group committed them all.
  EXPECT_FALSE(fs::exists(dir_ / "pinpipe-data/log"));
  auto b = kafka::NewKafkaBroker(kafka::Properties{{"bootstrap.servers", bootstrap}});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  for (const auto& t : Topics()) {
    auto desc = (*b)->DescribeTopic(t);
    ASSERT_TRUE(desc.ok()) << desc.status().ToString();
    EXPECT_EQ(desc->partitions.at(0).high_watermark, kPosts) << t;
    auto committed = (*b)->FetchCommittedOffsets("connect-whole-path", t);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    ASSERT_EQ(committed->size(), 1u) << t;
    EXPECT_EQ(committed->at(0).offset, kPosts) << t;
  }
  // KafkaBroker's ListGroups (ListConsumerGroups) and AlterTopicConfig (AlterConfigs)
  // through the other pinpipe's Kafka protocol.
  auto groups = (*b)->ListGroups();
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_NE(std::find(groups->begin(), groups->end(), "connect-whole-path"), groups->end());
  broker::TopicConfig bad;
  bad.segment_bytes = 100;
  EXPECT_EQ((*b)->AlterTopicConfig(Topics()[0], bad, true).code(), StatusCode::kInvalidArgument);
  broker::TopicConfig longer;
  longer.retention_ms = 86'400'000;
  ASSERT_TRUE((*b)->AlterTopicConfig(Topics()[0], longer, false).ok()) << broker.Output();
  auto altered = (*b)->DescribeTopic(Topics()[0]);
  ASSERT_TRUE(altered.ok()) << altered.status().ToString();
  EXPECT_EQ(altered->config.retention_ms, 86'400'000);
  b->reset();
  EXPECT_EQ(broker.Stop(std::chrono::seconds(20)), 0) << broker.Output();
  EXPECT_TRUE(fs::exists(broker_data + "/log/topics/" + Topics()[0]));
}

TEST_F(WholePathTest, ThreePartitionsFourConnectionsSameRecordsNoLossNoDuplicates) {
  const Load load{.partitions = 3, .concurrency = 4, .batch_size = 10};
  auto embedded = RunEmbedded(load);
  auto kafka = RunKafka(load);
  ASSERT_FALSE(embedded.empty());
  ASSERT_FALSE(kafka.empty());
  for (const auto* lake : {&embedded, &kafka}) {
    const char* which = lake == &embedded ? "embedded" : "kafka";
    // Per topic: the sorted record lines; per partition: objects tile 0..end.
    std::map<std::string, std::vector<std::string>> records;
    std::map<std::pair<std::string, int>, std::vector<std::pair<int64_t, size_t>>> tiles;
    for (const auto& [key, bytes] : *lake) {
      auto k = ParseKey(key);
      ASSERT_TRUE(k) << which << ": " << key;
      auto l = Lines(bytes);
      EXPECT_LE(l.size(), 40u) << key;
      tiles[{k->topic, k->partition}].push_back({k->offset, l.size()});
      auto& r = records[k->topic];
      r.insert(r.end(), l.begin(), l.end());
    }
    EXPECT_EQ(records.size(), 3u) << which;
    for (auto& [tp, objects] : tiles) {
      std::sort(objects.begin(), objects.end());
      int64_t next = 0;
      for (const auto& [offset, n] : objects) {
        EXPECT_EQ(offset, next) << which << " " << tp.first << "/" << tp.second;
        next = offset + static_cast<int64_t>(n);
      }
    }
    for (auto& [topic, r] : records) {
      EXPECT_EQ(r.size(), static_cast<size_t>(kPosts)) << which << " " << topic;
      std::sort(r.begin(), r.end());
      EXPECT_EQ(std::adjacent_find(r.begin(), r.end()), r.end()) << which << " duplicate";
    }
    if (lake == &kafka) {
      // Kafka spread the keyless records over more than one partition.
      std::set<int> used;
      for (const auto& [tp, objects] : tiles) used.insert(tp.second);
      EXPECT_GT(used.size(), 1u);
    }
  }
  // Same records, byte for byte, per topic.
  auto bag = [](const std::map<std::string, std::string>& lake) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [key, bytes] : lake) {
      auto l = Lines(bytes);
      auto& r = out[ParseKey(key)->topic];
      r.insert(r.end(), l.begin(), l.end());
    }
    for (auto& [t, r] : out) std::sort(r.begin(), r.end());
    return out;
  };
  EXPECT_EQ(bag(kafka), bag(embedded));
}

// Objects one worker's status file says it wrote, per "topic/partition".
std::map<std::string, int64_t> ObjectsByPartition(const std::string& status_file) {
  std::map<std::string, int64_t> out;
  if (!fs::exists(status_file)) return out;
  auto j = nlohmann::json::parse(ReadFile(status_file), nullptr, false);
  if (!j.is_object() || !j.contains("partitions")) return out;
  for (const auto& p : j["partitions"]) {
    out[p.value("topic", "") + "/" + std::to_string(p.value("partition", -1))] =
        p.value("objects", int64_t{0});
  }
  return out;
}

int64_t ObjectsWritten(const std::string& status_file) {
  int64_t n = 0;
  for (const auto& [tp, objects] : ObjectsByPartition(status_file)) n += objects;
  return n;
}

// Two `pinpipe sink` workers in one group share 6-partition topics; one is
// killed with SIGKILL mid-run; the survivor takes over; a last `sink --once`
// of the same group drains the rest. The lake equals a single worker's run
// over the same topics: same keys, same bytes (flush.size rotation only), so
// nothing was lost or written twice.
TEST_F(WholePathTest, TwoSinkWorkersOneKilledEqualASingleWorkerRun) {
  auto mock = kafka::MockCluster::Start(3);
  ASSERT_TRUE(mock.ok()) << mock.status().ToString();
  for (const auto& t : Topics()) ASSERT_TRUE((*mock)->CreateTopic(t, 6).ok());
  const std::map<std::string, std::string> env = KafkaEnv(**mock);
  auto props = [&](const std::string& name) {
    const std::string file = dir_ / (name + ".properties");
    WriteFile(file, "name=" + name + "\ntopics.regex=0a60b9a8a831\\..*\nflush.size=20\n");
    return file;
  };
  const std::string group = props("pair");
  const std::string reference = props("reference");
  const std::string lake = "file://" + (dir_ / "pair-lake");
  auto worker = [&](const std::string& name) {
    return std::make_unique<Process>(
        ProcessOptions{{PinpipeBinary(), "--log-level", "warn", "sink", "--config", group,
                        "--data-dir", dir_ / name, "--store", lake},
                       env});
  };
  const int port = PickFreePort();
  const std::string api = "http://127.0.0.1:" + std::to_string(port);
  Process serve({{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                  "127.0.0.1:" + std::to_string(port), "--data-dir", dir_ / "serve"},
                 env});
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << serve.Output();
  auto emulate = [&](const std::string& seed) {
    auto e = RunCommand(
        {PinpipeBinary(), "emulate", "--api", api, "--source", "sqlite://" + (dir_ / "source.db"),
         "--count", "150", "--seed", seed, "--batch-size", "5", "--concurrency", "2"},
        "", env);
    EXPECT_EQ(e.exit_code, 0) << e.out << e.err;
    EXPECT_NE(e.out.find("sent 450 records"), std::string::npos) << e.out;
  };

  auto a = worker("a");
  auto b = worker("b");
  emulate("1");
  // Both workers own partitions and have written objects.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((ObjectsWritten(dir_ / "a/sink/pair.status.json") == 0 ||
          ObjectsWritten(dir_ / "b/sink/pair.status.json") == 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_GT(ObjectsWritten(dir_ / "a/sink/pair.status.json"), 0) << a->Output();
  ASSERT_GT(ObjectsWritten(dir_ / "b/sink/pair.status.json"), 0) << b->Output();

  a->Signal(SIGKILL);
  EXPECT_EQ(a->Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  // Partitions only a had written to.
  const auto by_a = ObjectsByPartition(dir_ / "a/sink/pair.status.json");
  const auto by_b = ObjectsByPartition(dir_ / "b/sink/pair.status.json");
  std::set<std::string> only_a;
  for (const auto& [tp, n] : by_a) {
    if (n > 0 && by_b.count(tp) && by_b.at(tp) == 0) only_a.insert(tp);
  }
  ASSERT_FALSE(only_a.empty());
  emulate("2");
  // The survivor takes over a's partitions (after the session timeout) and
  // writes objects in them.
  auto took_over = [&] {
    for (const auto& [tp, n] : ObjectsByPartition(dir_ / "b/sink/pair.status.json")) {
      if (only_a.count(tp) && n > 0) return true;
    }
    return false;
  };
  const auto later = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!took_over() && std::chrono::steady_clock::now() < later) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(took_over()) << b->Output();
  EXPECT_EQ(b->Stop(std::chrono::seconds(30)), 0) << b->Output();
  // The rest (files below flush.size) is drained by one more member of the group.
  auto drain = RunCommand({PinpipeBinary(), "--log-level", "warn", "sink", "--config", group,
                           "--data-dir", dir_ / "c", "--store", lake, "--once"},
                          "", env, std::chrono::seconds(90));
  ASSERT_EQ(drain.exit_code, 0) << drain.err;
  auto single =
      RunCommand({PinpipeBinary(), "--log-level", "warn", "sink", "--config", reference,
                  "--data-dir", dir_ / "r", "--store", "file://" + (dir_ / "ref-lake"), "--once"},
                 "", env, std::chrono::seconds(90));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  EXPECT_EQ(serve.Stop(std::chrono::seconds(20)), 0) << serve.Output();

  auto pair = ReadLake(dir_ / "pair-lake");
  auto ref = ReadLake(dir_ / "ref-lake");
  size_t lines = 0;
  for (const auto& [key, bytes] : ref) lines += Lines(bytes).size();
  EXPECT_EQ(lines, 900u);
  ExpectSameLake(pair, ref);
}

// The mock refuses offset commits while its group rebalances; a real broker
// answers ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID to a member that fell out of
// the group. A sink worker whose commits are refused keeps running, and the
// lake still equals a run without refusals.
TEST_F(WholePathTest, RefusedCommitsDoNotStopTheSink) {
  auto mock = kafka::MockCluster::Start(3);
  ASSERT_TRUE(mock.ok()) << mock.status().ToString();
  for (const auto& t : Topics()) ASSERT_TRUE((*mock)->CreateTopic(t, 2).ok());
  const std::map<std::string, std::string> env = KafkaEnv(**mock);
  const int port = PickFreePort();
  const std::string api = "http://127.0.0.1:" + std::to_string(port);
  Process serve({{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                  "127.0.0.1:" + std::to_string(port), "--data-dir", dir_ / "serve"},
                 env});
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << serve.Output();
  WriteFile(dir_ / "w.properties", "name=w\ntopics.regex=0a60b9a8a831\\..*\nflush.size=10\n");
  Process worker(
      {{PinpipeBinary(), "--log-level", "warn", "sink", "--config", dir_ / "w.properties",
        "--data-dir", dir_ / "w", "--store", "file://" + (dir_ / "w-lake")},
       env});
  std::this_thread::sleep_for(std::chrono::seconds(4));  // the mock's first join takes 3 s
  (*mock)->PushRequestErrors(kafka::kOffsetCommitApiKey, {RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
                                                          RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
                                                          RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID});
  auto e = RunCommand({PinpipeBinary(), "emulate", "--api", api, "--source",
                       "sqlite://" + (dir_ / "source.db"), "--count", "100", "--batch-size", "5"},
                      "", env);
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  // A worker of another group, never refused, is the reference: the refused
  // worker must end with exactly its full (flush.size) objects.
  WriteFile(dir_ / "r.properties", "name=r\ntopics.regex=0a60b9a8a831\\..*\nflush.size=10\n");
  auto reference =
      RunCommand({PinpipeBinary(), "--log-level", "warn", "sink", "--config", dir_ / "r.properties",
                  "--data-dir", dir_ / "r", "--store", "file://" + (dir_ / "r-lake"), "--once"},
                 "", env, std::chrono::seconds(90));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  std::map<std::string, std::string> full;
  for (const auto& [key, bytes] : ReadLake(dir_ / "r-lake")) {
    if (Lines(bytes).size() == 10) full[key] = bytes;
  }
  ASSERT_GE(full.size(), 20u);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ReadLake(dir_ / "w-lake") != full && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(ReadLake(dir_ / "w-lake") == full) << worker.Output();
  EXPECT_TRUE(worker.running()) << worker.Output();
  EXPECT_EQ(worker.Stop(std::chrono::seconds(30)), 0) << worker.Output();
  // The refusals reached the sink, which went back to the committed offsets.
  EXPECT_NE(worker.Output().find("REBALANCE_IN_PROGRESS"), std::string::npos) << worker.Output();
  EXPECT_NE(worker.Output().find("retrying from the committed offset"), std::string::npos);
  EXPECT_EQ(serve.Stop(std::chrono::seconds(20)), 0) << serve.Output();
}

}  // namespace
}  // namespace pinpipe::testing
