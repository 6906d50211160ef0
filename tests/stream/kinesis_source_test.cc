// The streaming job's Kinesis source against kinesalite, a real third-party
// implementation of the Kinesis API, started by the test on 127.0.0.1.
#include <gtest/gtest.h>

#include <thread>

#include "harness.h"
#include "pinpipe/stream/kinesis_client.h"
#include "pinpipe/stream/source.h"

namespace pinpipe::stream {
namespace {

using pinpipe::testing::PeersDir;
using pinpipe::testing::PickFreePort;
using pinpipe::testing::Process;
using pinpipe::testing::WaitForPort;

class KinesaliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = PickFreePort();
    kinesalite_ = std::make_unique<Process>(pinpipe::testing::ProcessOptions{
        {"node", PeersDir() + "/node_modules/kinesalite/cli.js", "--port", std::to_string(port_),
         "--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0"}});
    ASSERT_TRUE(WaitForPort(port_, std::chrono::seconds(20))) << kinesalite_->Output();
    options_.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    options_.access_key = "AKIDEXAMPLE";
    options_.secret_key = "secret";
  }

  void WaitActive(KinesisClient& client, const std::string& stream) {
    for (int i = 0; i < 100; ++i) {
      if (client.ListShards(stream).ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  int port_ = 0;
  std::unique_ptr<Process> kinesalite_;
  KinesisOptions options_;
};

TEST_F(KinesaliteTest, ReadsEveryRecordInOrderAndReplaysARange) {
  KinesisClient client(options_);
  ASSERT_TRUE(client.CreateStream("streaming-abc-pin", 1).ok());
  WaitActive(client, "streaming-abc-pin");
  std::vector<std::string> sent;
  for (int i = 0; i < 25; ++i) {
    sent.push_back("{\"index\":" + std::to_string(i) + ",\"title\":\"t\\u00e9\"}");
    ASSERT_TRUE(client.PutRecord("streaming-abc-pin", sent.back(), "partition-1").ok());
  }
  auto source = NewKinesisStreamSource(options_, "streaming-abc-pin");
  ASSERT_TRUE(source.ok());
  auto shards = (*source)->Shards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 1u);
  const std::string shard = (*shards)[0];
  auto start = (*source)->StartPosition(shard, InitialPosition::kEarliest);
  ASSERT_TRUE(start.ok());

  // Read in two micro-batches of at most 10 and 100 records.
  auto first = (*source)->Read(shard, *start, "", 10, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->records.size(), 10u);
  auto second = (*source)->Read(shard, first->next_position, "", 100, 0);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->records.size(), 15u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(first->records[i].data, sent[i]);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(second->records[i].data, sent[10 + i]);

  // Replaying the first batch's range with a fresh source returns the same records.
  auto again = NewKinesisStreamSource(options_, "streaming-abc-pin");
  auto replay = (*again)->Read(shard, *start, first->next_position, 1000, 0);
  ASSERT_TRUE(replay.ok());
  ASSERT_EQ(replay->records.size(), 10u);
  EXPECT_EQ(replay->records.back().data, sent[9]);
  EXPECT_EQ(replay->next_position, first->next_position);

  // Nothing new: an empty read after waiting.
  auto empty = (*source)->Read(shard, second->next_position, "", 100, 250);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
  EXPECT_EQ(empty->next_position, second->next_position);
}

TEST_F(KinesaliteTest, MissingStreamIsNotFound) {
  auto source = NewKinesisStreamSource(options_, "nope");
  ASSERT_TRUE(source.ok());
  auto shards = (*source)->Shards();
  ASSERT_FALSE(shards.ok());
  EXPECT_EQ(shards.status().code(), StatusCode::kNotFound) << shards.status().ToString();
}

TEST(KinesisClientTest, UnreachableEndpointIsUnavailable) {
  KinesisOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(PickFreePort());
  KinesisClient client(options);
  auto shards = client.ListShards("x");
  ASSERT_FALSE(shards.ok());
  EXPECT_EQ(shards.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pinpipe::stream
