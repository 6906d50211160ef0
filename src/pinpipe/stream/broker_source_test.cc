#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "pinpipe/base/config.h"
#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/stream/source.h"

namespace pinpipe::stream {
namespace {

class BrokerSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pinpipe-bsrc-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    Config config;
    ASSERT_TRUE(config.Set("general.data_dir", dir_.string()).ok());
    ASSERT_TRUE(config.Set("log.fsync", "never").ok());
    auto broker = embedded::EmbeddedBroker::Open(config);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    broker::TopicConfig topic;
    topic.partitions = 2;
    ASSERT_TRUE(broker_->CreateTopic("streaming-x-geo", topic).ok());
  }
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Put(int partition, std::string value, int64_t timestamp_ms = -1) {
    broker::Record r;
    r.value = std::move(value);
    r.partition = partition;
    if (timestamp_ms >= 0) r.timestamp_ms = timestamp_ms;
    auto acks = broker_->Produce("streaming-x-geo", std::span<const broker::Record>(&r, 1));
    ASSERT_TRUE(acks.ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<embedded::EmbeddedBroker> broker_;
};

TEST_F(BrokerSourceTest, ReadsByPositionAndStopsAtUntil) {
  for (int i = 0; i < 5; ++i) Put(1, "r" + std::to_string(i));
  auto source = NewBrokerStreamSource(*broker_, "streaming-x-geo");
  auto shards = source->Shards();
  ASSERT_TRUE(shards.ok());
  EXPECT_EQ(*shards, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(*source->StartPosition("1", InitialPosition::kEarliest), "0");
  EXPECT_EQ(*source->StartPosition("1", InitialPosition::kLatest), "5");
  auto read = source->Read("1", "1", "4", 100, 0);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 3u);
  EXPECT_EQ(read->records[0].data, "r1");
  EXPECT_EQ(read->records[2].data, "r3");
  EXPECT_EQ(read->next_position, "4");
  EXPECT_GT(read->records[0].arrival_ms, 0);
  EXPECT_FALSE(source->Read("1", "abc", "", 1, 0).ok());
  EXPECT_FALSE(source->Read("7", "0", "", 1, 0).ok());
}

// The lag is measured against the injected clock, not the system's.
TEST_F(BrokerSourceTest, LagIsMeasuredWithTheInjectedClock) {
  const int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < 3; ++i) Put(0, "r" + std::to_string(i), t0 + i);
  ManualClock clock(/*start_micros=*/(t0 + 5'000) * 1000);
  auto source = NewBrokerStreamSource(*broker_, "streaming-x-geo", &clock);
  auto read = source->Read("0", "0", "", 1, 0);  // two records stay behind
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->records.size(), 1u);
  EXPECT_EQ(read->records[0].arrival_ms, t0);
  EXPECT_EQ(read->millis_behind, 5'000);
  clock.AdvanceMicros(60'000'000);
  read = source->Read("0", "1", "", 1, 0);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->millis_behind, 65'000 - 1);
}

TEST_F(BrokerSourceTest, LongPollWakesOnNewRecord) {
  auto source = NewBrokerStreamSource(*broker_, "streaming-x-geo");
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Put(0, "late");
  });
  const auto start = std::chrono::steady_clock::now();
  auto read = source->Read("0", "0", "", 10, 5000);
  producer.join();
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

}  // namespace
}  // namespace pinpipe::stream
