// `pinpipe sink` and `pinpipe lake` as a user runs them: the seed's connector
// config end to end, kill -9 at random moments against an uninterrupted run,
// bad records under each errors.tolerance, and the sink writing to s3rver.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "harness.h"
#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/objstore/s3_object_store.h"

namespace pinpipe::testing {
namespace {
namespace fs = std::filesystem;

// Produces into the embedded log under `data_dir` (the sink must not be running).
void ProduceRecords(const std::string& data_dir, const std::string& topic, int partitions,
                    int first, int count, bool bad_every_50 = false) {
  embedded::EmbeddedBrokerOptions options;
  options.log.dir = fs::path(data_dir) / "log";
  options.log.retention_ms = -1;
  auto b = embedded::EmbeddedBroker::Open(options);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  broker::TopicConfig tc;
  tc.partitions = partitions;
  Status created = (*b)->CreateTopic(topic, tc);
  ASSERT_TRUE(created.ok() || created.code() == StatusCode::kAlreadyExists);
  std::vector<broker::Record> records;
  for (int i = first; i < first + count; ++i) {
    broker::Record r;
    r.key = "k" + std::to_string(i);  // keyed: the partition follows the key
    r.timestamp_ms = 1'704'164'645'000 + int64_t{i} * 997;
    if (bad_every_50 && i % 50 == 49) {
      r.value = "{broken " + std::to_string(i);
    } else {
      r.value = "{\"index\": " + std::to_string(i) + ", \"title\": \"pin " + std::to_string(i) +
                "\", \"tags\": [1, 2, 3]}";
    }
    records.push_back(std::move(r));
  }
  auto acks = (*b)->Produce(topic, records);
  ASSERT_TRUE(acks.ok()) << acks.status().ToString();
}

std::vector<std::string> SinkArgs(const TempDir& dir, const std::string& props,
                                  const std::string& store) {
  return {PinpipeBinary(), "--log-level", "warn",       "sink",    "--config",
          dir / props,     "--data-dir",  dir / "data", "--store", store};
}

TEST(SinkCliTest, SeedConfigEndToEndWithLakeCommandsAndStatus) {
  TempDir dir;
  ProduceRecords(dir / "data", "0a60b9a8a831.pin", 1, 0, 3);
  ProduceRecords(dir / "data", "0a60b9a8a831.geo", 1, 0, 2);
  WriteFile(dir / "sink.properties",
            "connector.class=io.confluent.connect.s3.S3SinkConnector\n"
            "name=pinterest-sink\n"
            "s3.bucket.name=user-0a60b9a8a831-bucket\n"
            "topics.regex=0a60b9a8a831.*\n"
            "flush.size=1\n"
            "format.class=io.confluent.connect.s3.format.json.JsonFormat\n"
            "partitioner.class=io.confluent.connect.storage.partitioner.DefaultPartitioner\n"
            "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
            "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
            "value.converter.schemas.enable=false\n"
            "storage.class=io.confluent.connect.s3.storage.S3Storage\n"
            "s3.region=us-east-1\n");
  const std::string store = "file://" + (dir / "lake");
  auto args = SinkArgs(dir, "sink.properties", store);
  args.push_back("--once");
  auto run = RunCommand(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;

  auto ls = RunCommand({PinpipeBinary(), "lake", "ls", "--store", store, "topics/"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out,
            "topics/0a60b9a8a831.geo/partition=0/0a60b9a8a831.geo+0+0000000000.json\n"
            "topics/0a60b9a8a831.geo/partition=0/0a60b9a8a831.geo+0+0000000001.json\n"
            "topics/0a60b9a8a831.pin/partition=0/0a60b9a8a831.pin+0+0000000000.json\n"
            "topics/0a60b9a8a831.pin/partition=0/0a60b9a8a831.pin+0+0000000001.json\n"
            "topics/0a60b9a8a831.pin/partition=0/0a60b9a8a831.pin+0+0000000002.json\n");
  auto cat = RunCommand({PinpipeBinary(), "lake", "cat", "--store", store,
                         "topics/0a60b9a8a831.pin/partition=0/0a60b9a8a831.pin+0+0000000002.json"});
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, "{\"index\":2,\"title\":\"pin 2\",\"tags\":[1,2,3]}\n");

  auto status = RunCommand({PinpipeBinary(), "sink", "status", "--config", dir / "sink.properties",
                            "--data-dir", dir / "data", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"group\": \"connect-pinterest-sink\""), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("\"committed_offset\": 3"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"lag\": 0"), std::string::npos);
  auto table = RunCommand({PinpipeBinary(), "sink", "status", "--config", dir / "sink.properties",
                           "--data-dir", dir / "data"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("0a60b9a8a831.pin"), std::string::npos);

  auto rm = RunCommand({PinpipeBinary(), "lake", "rm", "--store", store, "--prefix",
                        "topics/0a60b9a8a831.geo/", "--recursive"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(ReadTree(dir / "lake").size(), 3u);
  EXPECT_EQ(
      RunCommand({PinpipeBinary(), "lake", "cat", "--store", store, "../etc/passwd"}).exit_code, 2);
}

TEST(SinkCliTest, KillNineAtRandomMomentsThenRestartGivesIdenticalObjects) {
  TempDir dir;
  const std::string topic = "0a60b9a8a831.pin";
  WriteFile(dir / "crash.properties",
            "name=crashy\ntopics.regex=0a60b9a8a831\\..*\nflush.size=9\n"
            "rotate.interval.ms=60000\ns3.compression.type=gzip\n");
  WriteFile(dir / "reference.properties",
            "name=reference\ntopics.regex=0a60b9a8a831\\..*\nflush.size=9\n"
            "rotate.interval.ms=60000\ns3.compression.type=gzip\n");
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed() + 5);
  int produced = 0;
  int kills = 0;
  for (int round = 0; round < 6; ++round) {
    // Records flow in between runs (the embedded log has one owner at a time).
    const int batch = 300 + static_cast<int>(rng() % 500);
    ProduceRecords(dir / "data", topic, 3, produced, batch);
    produced += batch;
    ProcessOptions po;
    po.argv = SinkArgs(dir, "crash.properties", "file://" + (dir / "crashed"));
    Process sink(po);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 400));
    if (sink.running()) {
      sink.Signal(SIGKILL);
      ++kills;
    }
    sink.Wait();
  }
  // Finish the crashy run, then an uninterrupted reference run over the same log.
  auto finish = SinkArgs(dir, "crash.properties", "file://" + (dir / "crashed"));
  finish.push_back("--once");
  auto done = RunCommand(finish);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  auto reference = SinkArgs(dir, "reference.properties", "file://" + (dir / "reference"));
  reference.push_back("--once");
  auto ref = RunCommand(reference);
  ASSERT_EQ(ref.exit_code, 0) << ref.err;

  auto crashed = ReadTree(dir / "crashed");
  auto expected = ReadTree(dir / "reference");
  EXPECT_GT(kills, 0);
  ASSERT_GT(expected.size(), static_cast<size_t>(produced / 9 / 2));
  EXPECT_EQ(crashed.size(), expected.size());
  for (const auto& [key, bytes] : expected) {
    auto it = crashed.find(key);
    ASSERT_NE(it, crashed.end()) << "missing " << key;
    EXPECT_TRUE(it->second == bytes) << "different bytes in " << key;
  }
  for (const auto& [key, bytes] : crashed) EXPECT_TRUE(expected.count(key)) << "extra " << key;
}

TEST(SinkCliTest, BadRecordsStopThePartitionOrGoToTheDeadLetterTopic) {
  TempDir dir;
  ProduceRecords(dir / "data", "p.pin", 1, 0, 120, /*bad_every_50=*/true);
  WriteFile(dir / "strict.properties", "name=strict\ntopics=p.pin\nflush.size=10\n");
  auto strict = SinkArgs(dir, "strict.properties", "file://" + (dir / "strict"));
  strict.push_back("--once");
  auto r1 = RunCommand(strict);
  EXPECT_EQ(r1.exit_code, 1);
  EXPECT_NE(r1.err.find("p.pin[0]@49"), std::string::npos) << r1.err;
  EXPECT_NE(r1.err.find("not valid JSON"), std::string::npos) << r1.err;
  EXPECT_EQ(ReadTree(dir / "strict").size(), 4u);  // offsets 0..39; 40..48 stay uncommitted

  WriteFile(dir / "lenient.properties",
            "name=lenient\ntopics=p.pin\nflush.size=10\nerrors.tolerance=all\n"
            "errors.deadletterqueue.topic.name=p.dlq\n");
  auto lenient = SinkArgs(dir, "lenient.properties", "file://" + (dir / "lenient"));
  lenient.push_back("--once");
  auto r2 = RunCommand(lenient);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  auto objects = ReadTree(dir / "lenient");
  size_t lines = 0;
  for (const auto& [k, v] : objects)
    lines += static_cast<size_t>(std::count(v.begin(), v.end(), '\n'));
  EXPECT_EQ(lines, 118u);  // 120 minus the two bad ones

  embedded::EmbeddedBrokerOptions options;
  options.log.dir = fs::path(dir / "data") / "log";
  auto b = embedded::EmbeddedBroker::Open(options);
  ASSERT_TRUE(b.ok());
  auto dlq = (*b)->Fetch("p.dlq", 0, 0, {});
  ASSERT_TRUE(dlq.ok()) << dlq.status().ToString();
  ASSERT_EQ(dlq->records.size(), 2u);
  EXPECT_EQ(*dlq->records[0].value, "{broken 49");
  EXPECT_EQ(*dlq->records[1].value, "{broken 99");
}

TEST(SinkCliTest, WritesToS3rver) {
  TempDir dir;
  const int port = PickFreePort();
  ProcessOptions po;
  po.argv = {"node",
             "--openssl-legacy-provider",
             PeersDir() + "/node_modules/s3rver/bin/s3rver.js",
             "-d",
             dir / "s3",
             "-a",
             "127.0.0.1",
             "-p",
             std::to_string(port),
             "-s",
             "--configure-bucket",
             "user-0a60b9a8a831-bucket"};
  fs::create_directories(dir / "s3");
  Process s3rver(po);
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(20)));
  ProduceRecords(dir / "data", "0a60b9a8a831.user", 1, 0, 25);
  WriteFile(dir / "s3.properties",
            "name=s3\ntopics=0a60b9a8a831.user\nflush.size=10\n"
            "s3.bucket.name=user-0a60b9a8a831-bucket\nstore.url=http://127.0.0.1:" +
                std::to_string(port) + "\n");
  auto args = SinkArgs(dir, "s3.properties", "s3://");
  args.push_back("--once");
  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "S3RVER"},
                                            {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
                                            {"PINPIPE_S3_PATH_STYLE", "true"},
                                            {"PINPIPE_S3_CONDITIONAL_PUT", "check"}};
  auto run = RunCommand(args, "", env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto ls =
      RunCommand({PinpipeBinary(), "--set", "s3.endpoint=http://127.0.0.1:" + std::to_string(port),
                  "lake", "ls", "--store", "s3://user-0a60b9a8a831-bucket"},
                 "", env);
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out,
            "topics/0a60b9a8a831.user/partition=0/0a60b9a8a831.user+0+0000000000.json\n"
            "topics/0a60b9a8a831.user/partition=0/0a60b9a8a831.user+0+0000000010.json\n"
            "topics/0a60b9a8a831.user/partition=0/0a60b9a8a831.user+0+0000000020.json\n");
}

}  // namespace
}  // namespace pinpipe::testing
