// The Kinesis stream catalog lives in the broker (topic metadata) and shard
// iterators are signed with a configured key: several API nodes on one broker
// see the same streams and accept each other's iterators. On the real
// EmbeddedBroker in a temporary folder; also the migration of the catalog
// files older versions kept under <data_dir>/kinesis/streams/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pinpipe/api/service.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/base/config.h"
#include "pinpipe/base/encoding.h"
#include "pinpipe/embedded/embedded_broker.h"

namespace pinpipe::api {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr char kSharedKey[] = "a key all nodes share, 16+ bytes";

// One API node: a Service of its own (own cache, own iterator key unless set).
class Node {
 public:
  Node(broker::Broker& broker, Clock* clock, const std::string& key, const std::string& data_dir) {
    ServiceOptions options;
    options.clock = clock;
    options.kinesis.iterator_key = key;
    options.kinesis.data_dir = data_dir;
    service_ = std::make_unique<Service>(broker, options);
    open_ = service_->Open();
  }
  const Status& open() const { return open_; }

  http::Response Native(const std::string& action, const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.target = req.path = "/";
    req.headers = {{"content-type", "application/x-amz-json-1.1"},
                   {"x-amz-target", "Kinesis_20131202." + action}};
    req.body = body;
    http::Response res;
    service_->Handle(req, res);
    return res;
  }
  // The TRIM_HORIZON iterator of shard 0 of `stream`; "" (and a failure) if refused.
  std::string Iterator(const std::string& stream) {
    auto res = Native("GetShardIterator", R"({"StreamName":")" + stream +
                                              R"(","ShardId":"shardId-000000000000",)"
                                              R"("ShardIteratorType":"TRIM_HORIZON"})");
    EXPECT_EQ(res.status, 200) << res.body;
    return res.status == 200 ? json::parse(res.body)["ShardIterator"].get<std::string>() : "";
  }

 private:
  std::unique_ptr<Service> service_;
  Status open_;
};

class KinesisCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pinpipe-kinesis-catalog-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    OpenBroker();
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }
  void OpenBroker() {
    broker_.reset();
    embedded::EmbeddedBrokerOptions o;
    o.log.dir = dir_ / "log";
    auto b = embedded::EmbeddedBroker::Open(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
  }

  fs::path dir_;
  ManualClock clock_{1'700'000'000'000'000};
  std::unique_ptr<embedded::EmbeddedBroker> broker_;
};

TEST_F(KinesisCatalogTest, TwoNodesOnOneBrokerShareStreamsAndAcceptEachOthersIterators) {
  Node a(*broker_, &clock_, kSharedKey, (dir_ / "a").string());
  Node b(*broker_, &clock_, kSharedKey, (dir_ / "b").string());
  ASSERT_TRUE(a.open().ok()) << a.open().ToString();
  ASSERT_TRUE(b.open().ok()) << b.open().ToString();

  auto res = a.Native("CreateStream", R"({"StreamName":"s1","ShardCount":1})");
  ASSERT_EQ(res.status, 200) << res.body;
  res = a.Native("PutRecord", R"({"StreamName":"s1","Data":")" + Base64Encode("hello") +
                                  R"(","PartitionKey":"k"})");
  ASSERT_EQ(res.status, 200) << res.body;
  clock_.AdvanceMicros(5'000'000);

  // B sees the stream A created, with A's creation time.
  res = b.Native("ListStreams", "{}");
  EXPECT_EQ(json::parse(res.body)["StreamNames"], json::array({"s1"})) << res.body;
  auto da = json::parse(a.Native("DescribeStreamSummary", R"({"StreamName":"s1"})").body);
  auto db = json::parse(b.Native("DescribeStreamSummary", R"({"StreamName":"s1"})").body);
  EXPECT_EQ(db["StreamDescriptionSummary"]["StreamCreationTimestamp"],
            da["StreamDescriptionSummary"]["StreamCreationTimestamp"]);

  // An iterator from B reads on A, and A's next iterator reads on B.
  std::string it = b.Iterator("s1");
  res = a.Native("GetRecords", R"({"ShardIterator":")" + it + R"("})");
  ASSERT_EQ(res.status, 200) << res.body;
  auto got = json::parse(res.body);
  ASSERT_EQ(got["Records"].size(), 1u) << res.body;
  EXPECT_EQ(got["Records"][0]["Data"], Base64Encode("hello"));
  res = a.Native("PutRecord", R"({"StreamName":"s1","Data":")" + Base64Encode("again") +
                                  R"(","PartitionKey":"k"})");
  ASSERT_EQ(res.status, 200) << res.body;
  res = b.Native("GetRecords",
                 R"({"ShardIterator":")" + got["NextShardIterator"].get<std::string>() + R"("})");
  ASSERT_EQ(res.status, 200) << res.body;
  got = json::parse(res.body);
  ASSERT_EQ(got["Records"].size(), 1u) << res.body;
  EXPECT_EQ(got["Records"][0]["Data"], Base64Encode("again"));

  // The stream deleted through B and created again through A: B's old
  // iterator is refused on both nodes, a fresh one from B reads on A.
  std::string old = b.Iterator("s1");
  ASSERT_EQ(b.Native("DeleteStream", R"({"StreamName":"s1"})").status, 200);
  clock_.AdvanceMicros(1'000'000);
  ASSERT_EQ(a.Native("CreateStream", R"({"StreamName":"s1","ShardCount":1})").status, 200);
  EXPECT_EQ(a.Native("GetRecords", R"({"ShardIterator":")" + old + R"("})").status, 400);
  EXPECT_EQ(b.Native("GetRecords", R"({"ShardIterator":")" + old + R"("})").status, 400);
  res = a.Native("GetRecords", R"({"ShardIterator":")" + b.Iterator("s1") + R"("})");
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(KinesisCatalogTest, NodesWithoutASharedKeyRefuseEachOthersIterators) {
  // Each node generates its own key in its own data folder: the single-node default.
  Node a(*broker_, &clock_, "", (dir_ / "a").string());
  Node b(*broker_, &clock_, "", (dir_ / "b").string());
  ASSERT_TRUE(a.open().ok() && b.open().ok());
  ASSERT_EQ(a.Native("CreateStream", R"({"StreamName":"s1","ShardCount":1})").status, 200);
  auto res = a.Native("GetRecords", R"({"ShardIterator":")" + b.Iterator("s1") + R"("})");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("Invalid ShardIterator"), std::string::npos) << res.body;
  // The generated key stays with the data folder across restarts.
  std::string it = a.Iterator("s1");
  Node a_again(*broker_, &clock_, "", (dir_ / "a").string());
  ASSERT_TRUE(a_again.open().ok());
  EXPECT_EQ(a_again.Native("GetRecords", R"({"ShardIterator":")" + it + R"("})").status, 200);
}

TEST_F(KinesisCatalogTest, CatalogFilesOfAnOlderVersionMoveIntoTheBroker) {
  // What an older version left: topics in the log, one JSON file per stream.
  broker::TopicConfig config;
  config.partitions = 2;
  ASSERT_TRUE(broker_->CreateTopic("old", config).ok());
  const fs::path streams = dir_ / "kinesis" / "streams";
  fs::create_directories(streams);
  std::ofstream(streams / "old.json")
      << R"({"name":"old","shards":2,"created_ms":1600000000123,"status":"ACTIVE",)"
         R"("retention_hours":48,"hash_key_ranges":[]})";
  std::ofstream(streams / "gone.json")  // its topic was deleted meanwhile
      << R"({"name":"gone","shards":1,"created_ms":1600000000000})";

  {
    Node node(*broker_, &clock_, "", dir_.string());
    ASSERT_TRUE(node.open().ok()) << node.open().ToString();
    auto res = node.Native("DescribeStreamSummary", R"({"StreamName":"old"})");
    ASSERT_EQ(res.status, 200) << res.body;
    auto d = json::parse(res.body)["StreamDescriptionSummary"];
    EXPECT_DOUBLE_EQ(d["StreamCreationTimestamp"].get<double>(), 1600000000.123);
    EXPECT_EQ(d["RetentionPeriodHours"], 48);
    EXPECT_EQ(d["OpenShardCount"], 2);
  }
  EXPECT_FALSE(fs::exists(streams)) << "migrated files are removed";
  auto metadata = broker_->GetTopicMetadata("old");
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  EXPECT_EQ((*metadata)["kinesis.created_ms"], "1600000000123");

  // After a restart of the broker too, the stream keeps what was migrated.
  OpenBroker();
  Node node(*broker_, &clock_, "", dir_.string());
  ASSERT_TRUE(node.open().ok());
  auto res = node.Native("ListStreams", "{}");
  auto listed = json::parse(res.body);
  EXPECT_EQ(listed["StreamNames"], json::array({"old"})) << res.body;
  EXPECT_DOUBLE_EQ(listed["StreamSummaries"][0]["StreamCreationTimestamp"].get<double>(),
                   1600000000.123);
}

TEST(IteratorKeyConfigTest, ComesFromTheKeyOrItsFileAndMustBeLongEnough) {
  const fs::path file =
      fs::temp_directory_path() / ("pinpipe-iterator-key-" + std::to_string(::getpid()));
  std::ofstream(file) << "0123456789abcdef0123\n";
  auto from_file = Config::Load("", {}, {"api.kinesis_iterator_key_file=" + file.string()});
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  auto options = ServiceOptionsFromConfig(*from_file);
  fs::remove(file);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->kinesis.iterator_key, "0123456789abcdef0123");

  auto short_key = Config::Load("", {}, {"api.kinesis_iterator_key=short"});
  ASSERT_TRUE(short_key.ok());
  auto refused = ServiceOptionsFromConfig(*short_key);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("at least 16 bytes"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::api
