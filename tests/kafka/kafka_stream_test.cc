// The streaming path on Kafka: `pinpipe emulate --mode stream` -> `pinpipe
// serve` (Kinesis API Gateway routes, broker.type=kafka) -> librdkafka's mock
// cluster -> `pinpipe stream --once` reading the streams from Kafka -> Delta
// tables. The same load through the embedded log is the reference: every
// table holds the same inds, each once.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "pinpipe/kafka/mock_cluster.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/table/delta_table.h"
#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kPrefix = "0a60b9a8a831";
constexpr int kPosts = 150;

// The inds of a Delta table, sorted (duplicates kept, so a test can see them).
std::vector<int64_t> TableInds(const fs::path& tables, const std::string& table) {
  std::vector<int64_t> inds;
  auto store = objstore::LocalObjectStore::Open(tables / table);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return inds;
  table::DeltaTable t(**store, "");
  auto snap = t.Load();
  EXPECT_TRUE(snap.ok()) << table << ": " << snap.status().ToString();
  if (!snap.ok()) return inds;
  for (const auto& [path, add] : snap->files) {
    auto bytes = (*store)->Get(path);
    EXPECT_TRUE(bytes.ok()) << path;
    if (!bytes.ok()) continue;
    auto file = table::ParquetFile::Open(std::move(*bytes));
    EXPECT_TRUE(file.ok()) << path;
    if (!file.ok()) continue;
    for (int rg = 0; rg < file->num_row_groups(); ++rg) {
      auto leaf = file->ReadLeaf(rg, 0);
      EXPECT_TRUE(leaf.ok());
      if (leaf.ok()) inds.insert(inds.end(), leaf->i64.begin(), leaf->i64.end());
    }
  }
  std::sort(inds.begin(), inds.end());
  return inds;
}

class KafkaStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto seed = RunCommand({PinpipeBinary(), "--log-level", "warn", "seed", "--rows", "400",
                            "--source", "sqlite://" + (dir_ / "source.db")});
    ASSERT_EQ(seed.exit_code, 0) << seed.err;
  }

  // emulate (stream mode) -> serve -> broker of `env` -> stream --once; table -> inds.
  std::map<std::string, std::vector<int64_t>> Run(const std::string& name,
                                                  const std::map<std::string, std::string>& env) {
    const std::string data = dir_ / (name + "-data");
    const fs::path tables = dir_ / (name + "-tables");
    const int port = PickFreePort();
    {
      Process serve({{PinpipeBinary(), "--log-level", "warn", "serve", "--listen",
                      "127.0.0.1:" + std::to_string(port), "--data-dir", data},
                     env});
      EXPECT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << serve.Output();
      auto e = RunCommand({PinpipeBinary(), "emulate", "--mode", "stream", "--api",
                           "http://127.0.0.1:" + std::to_string(port), "--source",
                           "sqlite://" + (dir_ / "source.db"), "--count", std::to_string(kPosts),
                           "--sequential", "--concurrency", "2", "--max-retries", "0"},
                          "", env);
      EXPECT_EQ(e.exit_code, 0) << e.out << e.err << serve.Output();
      EXPECT_NE(e.out.find("failed 0"), std::string::npos) << e.out;
      EXPECT_EQ(serve.Stop(std::chrono::seconds(20)), 0) << serve.Output();
    }
    auto stream =
        RunCommand({PinpipeBinary(), "--log-level", "warn", "stream", "--once", "--source",
                    "broker", "--data-dir", data, "--tables", "file://" + tables.string()},
                   "", env, std::chrono::seconds(120));
    EXPECT_EQ(stream.exit_code, 0) << stream.out << stream.err;
    std::map<std::string, std::vector<int64_t>> out;
    for (const char* kind : {"pin", "geo", "user"}) {
      const std::string table = std::string(kPrefix) + "_" + kind + "_table";
      out[table] = TableInds(tables, table);
    }
    return out;
  }

  TempDir dir_;
};

TEST_F(KafkaStreamTest, StreamingJobOnKafkaWritesWhatItWritesOnTheEmbeddedLog) {
  auto embedded = Run("embedded", {{"PINPIPE_BROKER_TYPE", "embedded"}});
  auto mock = kafka::MockCluster::Start(3);
  ASSERT_TRUE(mock.ok()) << mock.status().ToString();
  // The mock never answers CreateTopics: the streams exist before the API starts.
  for (const char* kind : {"pin", "geo", "user"}) {
    ASSERT_TRUE((*mock)->CreateTopic(std::string("streaming-") + kPrefix + "-" + kind, 2).ok());
  }
  auto on_kafka = Run("kafka", {{"PINPIPE_BROKER_TYPE", "kafka"},
                                {"PINPIPE_KAFKA_BOOTSTRAP_SERVERS", (*mock)->bootstrap_servers()}});
  ASSERT_EQ(on_kafka.size(), 3u);
  for (const auto& [table, inds] : embedded) {
    SCOPED_TRACE(table);
    EXPECT_GT(inds.size(), kPosts / 2) << "most posts survive cleaning";
    EXPECT_TRUE(std::adjacent_find(inds.begin(), inds.end()) == inds.end()) << "duplicate ind";
    EXPECT_EQ(on_kafka[table], inds);
  }
}

}  // namespace
}  // namespace pinpipe::testing
