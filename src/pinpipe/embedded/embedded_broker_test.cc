#include "pinpipe/embedded/embedded_broker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

namespace pinpipe::embedded {

using broker::Record;
using broker::StoredRecord;
using broker::TopicConfig;
using broker::TopicPartition;

namespace {

namespace fs = std::filesystem;

TEST(Murmur2Test, MatchesKafka) {
  // Values from Kafka's UtilsTest.testMurmur2.
  EXPECT_EQ(Murmur2("21"), -973932308);
  EXPECT_EQ(Murmur2("foobar"), -790332482);
  EXPECT_EQ(Murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(Murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(Murmur2("abc"), 479470107);
}

class EmbeddedBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pinpipe-broker-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    broker_.reset();
    EmbeddedBrokerOptions o;
    o.log.dir = dir_;
    o.log.fsync = *log::FsyncPolicy::Parse("interval:1");
    o.rebalance_timeout_ms = 60'000;
    auto b = EmbeddedBroker::Open(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
  }
  static Record Rec(std::string value, std::optional<std::string> key = std::nullopt,
                    int32_t partition = broker::kAnyPartition) {
    Record r;
    r.value = std::move(value);
    r.key = std::move(key);
    r.partition = partition;
    return r;
  }
  void ProduceValues(const std::string& topic, int n, int32_t partition = broker::kAnyPartition) {
    std::vector<Record> recs;
    for (int i = 0; i < n; ++i) recs.push_back(Rec("v" + std::to_string(i), {}, partition));
    auto acks = broker_->Produce(topic, recs);
    ASSERT_TRUE(acks.ok()) << acks.status().ToString();
    for (const auto& a : *acks) ASSERT_TRUE(a.error.ok());
  }

  fs::path dir_;
  std::unique_ptr<EmbeddedBroker> broker_;
};

TEST_F(EmbeddedBrokerTest, TopicAdminAndPersistence) {
  TopicConfig c;
  c.partitions = 4;
  c.fsync = "always";
  c.retention_ms = -1;
  ASSERT_TRUE(broker_->CreateTopic("abc.pin", c).ok());
  EXPECT_EQ(broker_->CreateTopic("abc.pin", c).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(broker_->CreateTopic("a/b", c).code(), StatusCode::kInvalidArgument);
  ProduceValues("abc.pin", 10, 2);
  Reopen();
  auto d = broker_->DescribeTopic("abc.pin");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.partitions, 4);
  EXPECT_EQ(d->config.fsync, "always");
  EXPECT_EQ(d->config.retention_ms, -1);
  ASSERT_EQ(d->partitions.size(), 4u);
  EXPECT_EQ(d->partitions[2].high_watermark, 10);
  EXPECT_GT(d->partitions[2].size_bytes, 0);
  EXPECT_EQ(d->partitions[1].high_watermark, 0);
  EXPECT_EQ(*broker_->ListTopics(), std::vector<std::string>{"abc.pin"});
  EXPECT_EQ(broker_->DescribeTopic("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(broker_->DeleteTopic("abc.pin").ok());
  EXPECT_TRUE(broker_->ListTopics()->empty());
}

TEST_F(EmbeddedBrokerTest, AlterTopicConfigChangesTheLiveTopicDurably) {
  TopicConfig c;
  c.partitions = 2;
  c.retention_ms = 3'600'000;
  ASSERT_TRUE(broker_->CreateTopic("alt", c).ok());
  TopicConfig next;
  next.partitions = 99;  // ignored
  next.retention_bytes = 1 << 20;
  next.segment_ms = 60'000;
  EXPECT_EQ(broker_->AlterTopicConfig("nope", next, false).code(), StatusCode::kNotFound);
  TopicConfig small = next;
  small.segment_bytes = 100;
  EXPECT_EQ(broker_->AlterTopicConfig("alt", small, false).code(), StatusCode::kInvalidArgument);
  TopicConfig fsync = next;
  fsync.fsync = "never";
  EXPECT_EQ(broker_->AlterTopicConfig("alt", fsync, false).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(broker_->AlterTopicConfig("alt", next, true).ok());
  EXPECT_EQ(broker_->DescribeTopic("alt")->config.retention_ms, 3'600'000);  // validate only
  ASSERT_TRUE(broker_->AlterTopicConfig("alt", next, false).ok());
  ProduceValues("alt", 3, 1);
  Reopen();
  auto d = broker_->DescribeTopic("alt");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->config.partitions, 2);
  EXPECT_EQ(d->config.retention_bytes, 1 << 20);
  EXPECT_EQ(d->config.segment_ms, 60'000);
  // retention.ms went back to the log's default: not named in the new config.
  EXPECT_EQ(d->config.retention_ms, 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(d->partitions[1].high_watermark, 3);
}

TEST_F(EmbeddedBrokerTest, ListGroupsNamesEveryGroupWithCommittedOffsets) {
  ASSERT_TRUE(broker_->CreateTopic("t", TopicConfig{}).ok());
  EXPECT_TRUE(broker_->ListGroups()->empty());
  ProduceValues("t", 2);
  ASSERT_TRUE(broker_->CommitOffsets("simple", {{"t", 0, 1}}).ok());
  {
    auto c = std::move(*broker_->CreateConsumer({.group = "connect-sink"}));
    ASSERT_TRUE(c->Subscribe({"t"}).ok());
    ASSERT_TRUE(c->Poll(10, 2000).ok());
    ASSERT_TRUE(c->Commit({{"t", 0, 2}}).ok());
  }
  Reopen();
  EXPECT_EQ(*broker_->ListGroups(), (std::vector<std::string>{"connect-sink", "simple"}));
  ASSERT_TRUE(broker_->DeleteTopic("t").ok());
  EXPECT_TRUE(broker_->ListGroups()->empty());
}

TEST_F(EmbeddedBrokerTest, TopicMetadataIsDurableAndGoesWithTheTopic) {
  TopicConfig config;
  ASSERT_TRUE(broker_->CreateTopic("t", config).ok());
  auto none = broker_->GetTopicMetadata("t");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(broker_->SetTopicMetadata("missing", {{"a", "1"}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->GetTopicMetadata("missing").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(broker_->SetTopicMetadata("t", {{"a", "1"}, {"b", "x\ny"}}).ok());
  ASSERT_TRUE(broker_->SetTopicMetadata("t", {{"a", "2"}}).ok());  // replaces, not merges
  Reopen();
  auto got = broker_->GetTopicMetadata("t");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (broker::TopicMetadata{{"a", "2"}}));
  ASSERT_TRUE(broker_->DeleteTopic("t").ok());
  ASSERT_TRUE(broker_->CreateTopic("t", config).ok());
  got = broker_->GetTopicMetadata("t");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty()) << "a new topic of the same name starts without metadata";
}

TEST_F(EmbeddedBrokerTest, ProducePartitionsByKeyHashAndStickyWithoutKey) {
  TopicConfig c;
  c.partitions = 3;
  ASSERT_TRUE(broker_->CreateTopic("t", c).ok());
  std::vector<Record> recs = {Rec("a", "21"), Rec("b", "foobar"), Rec("c", "21"), Rec("d"),
                              Rec("e")};
  auto acks = broker_->Produce("t", recs);
  ASSERT_TRUE(acks.ok());
  EXPECT_EQ((*acks)[0].partition, PartitionForKey("21", 3));
  EXPECT_EQ((*acks)[0].partition, (*acks)[2].partition);
  EXPECT_GT((*acks)[2].offset, (*acks)[0].offset);        // order kept within a partition
  EXPECT_EQ((*acks)[3].partition, (*acks)[4].partition);  // sticky within a call
  auto next = broker_->Produce("t", std::vector<Record>{Rec("f")});
  EXPECT_NE((*next)[0].partition, (*acks)[3].partition);  // moves on between calls
  EXPECT_EQ(broker_->Produce("t", std::vector<Record>{Rec("x", {}, 3)}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(broker_->Produce("missing", recs).status().code(), StatusCode::kNotFound);
}

TEST_F(EmbeddedBrokerTest, FetchReturnsRecordsAndLongPolls) {
  ASSERT_TRUE(broker_->CreateTopic("t", TopicConfig{}).ok());
  Record r = Rec("hello", "k");
  r.timestamp_ms = 1234;
  r.headers = {{"h1", "v1"}};
  ASSERT_TRUE(broker_->Produce("t", std::span<const Record>(&r, 1)).ok());
  auto f = broker_->Fetch("t", 0, 0, broker::FetchOptions{});
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->records.size(), 1u);
  EXPECT_EQ(f->records[0].value, "hello");
  EXPECT_EQ(f->records[0].key, "k");
  EXPECT_EQ(f->records[0].timestamp_ms, 1234);
  EXPECT_EQ(f->records[0].headers, (std::vector<broker::Header>{{"h1", "v1"}}));
  EXPECT_EQ(f->high_watermark, 1);
  EXPECT_EQ(broker_->Fetch("t", 0, 5, broker::FetchOptions{}).status().code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(*broker_->OffsetForTimestamp("t", 0, 1000), 0);
  EXPECT_EQ(*broker_->OffsetForTimestamp("t", 0, 2000), 1);

  broker::FetchOptions wait;
  wait.wait_ms = 5000;
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::vector<Record> more = {Rec("later")};
    (void)broker_->Produce("t", more);
  });
  const auto start = std::chrono::steady_clock::now();
  auto waited = broker_->Fetch("t", 0, 1, wait);
  const auto took = std::chrono::steady_clock::now() - start;
  producer.join();
  ASSERT_TRUE(waited.ok());
  ASSERT_EQ(waited->records.size(), 1u);
  EXPECT_EQ(waited->records[0].value, "later");
  EXPECT_LT(took, std::chrono::seconds(3));

  wait.wait_ms = 200;
  const auto t0 = std::chrono::steady_clock::now();
  auto empty = broker_->Fetch("t", 0, 2, wait);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
}

TEST_F(EmbeddedBrokerTest, CommittedOffsetsAreDurable) {
  TopicConfig c;
  c.partitions = 2;
  ASSERT_TRUE(broker_->CreateTopic("t", c).ok());
  ASSERT_TRUE(broker_->CommitOffsets("g", {{"t", 0, 7}, {"t", 1, 3}}).ok());
  EXPECT_EQ(broker_->CommitOffsets("g", {{"t", 9, 7}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->CommitOffsets("", {{"t", 0, 7}}).code(), StatusCode::kInvalidArgument);
  Reopen();
  auto got = broker_->FetchCommittedOffsets("g", "t");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (std::vector<broker::TopicPartitionOffset>{{"t", 0, 7}, {"t", 1, 3}}));
  EXPECT_TRUE(broker_->FetchCommittedOffsets("other", "t")->empty());
}

TEST_F(EmbeddedBrokerTest, ConsumerResumesFromCommittedOffset) {
  ASSERT_TRUE(broker_->CreateTopic("t", TopicConfig{}).ok());
  ProduceValues("t", 10);
  {
    auto c = std::move(*broker_->CreateConsumer({.group = "g"}));
    ASSERT_TRUE(c->Subscribe({"t"}).ok());
    auto recs = c->Poll(4, 2000);
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), 4u);
    EXPECT_EQ((*recs)[0].value, "v0");
    ASSERT_TRUE(c->Commit({{"t", 0, 4}}).ok());
  }
  auto c = std::move(*broker_->CreateConsumer({.group = "g"}));
  ASSERT_TRUE(c->Subscribe({"t"}).ok());
  auto recs = c->Poll(100, 2000);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 6u);
  EXPECT_EQ((*recs)[0].offset, 4);
  auto latest =
      std::move(*broker_->CreateConsumer({.group = "h", .reset = broker::OffsetReset::kLatest}));
  ASSERT_TRUE(latest->Subscribe({"t"}).ok());
  EXPECT_TRUE(latest->Poll(100, 100)->empty());
  ProduceValues("t", 1);
  auto one = latest->Poll(100, 2000);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].offset, 10);
}

TEST_F(EmbeddedBrokerTest, PollRefsMatchesPollAcrossPartitionsAndPolls) {
  TopicConfig config;
  config.partitions = 3;
  ASSERT_TRUE(broker_->CreateTopic("t", config).ok());
  for (int32_t p = 0; p < 3; ++p) ProduceValues("t", 50 + p, p);
  Record with_headers = Rec("h", "key", 1);
  with_headers.headers = {{"a", "1"}, {"b", ""}};
  ASSERT_TRUE(broker_->Produce("t", std::span<const Record>(&with_headers, 1)).ok());
  // Two groups read the same records: one copying, one by views, in polls
  // of 20 that cut through batches and partitions.
  auto copying = std::move(*broker_->CreateConsumer({.group = "copy"}));
  auto viewing = std::move(*broker_->CreateConsumer({.group = "view"}));
  ASSERT_TRUE(copying->Subscribe({"t"}).ok());
  ASSERT_TRUE(viewing->Subscribe({"t"}).ok());
  std::vector<StoredRecord> want;
  std::vector<StoredRecord> got;
  for (int i = 0; i < 20 && want.size() < 154; ++i) {
    auto polled = copying->Poll(20, 500);
    ASSERT_TRUE(polled.ok());
    want.insert(want.end(), polled->begin(), polled->end());
  }
  for (int i = 0; i < 20 && got.size() < 154; ++i) {
    auto refs = viewing->PollRefs(20, 500);
    ASSERT_TRUE(refs.ok());
    EXPECT_LE(refs->size(), 20u);
    for (const broker::RecordRef& r : *refs) got.push_back(ToStoredRecord(r));
  }
  ASSERT_EQ(want.size(), 154u);
  ASSERT_EQ(got.size(), want.size());
  auto key = [](const StoredRecord& r) { return std::make_pair(r.partition, r.offset); };
  auto by_position = [&](const StoredRecord& a, const StoredRecord& b) { return key(a) < key(b); };
  std::sort(want.begin(), want.end(), by_position);
  std::sort(got.begin(), got.end(), by_position);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].topic, "t");
    EXPECT_EQ(key(got[i]), key(want[i]));
    EXPECT_EQ(got[i].timestamp_ms, want[i].timestamp_ms);
    EXPECT_EQ(got[i].key, want[i].key);
    EXPECT_EQ(got[i].value, want[i].value);
    EXPECT_EQ(got[i].headers, want[i].headers);
  }
  auto h = std::find_if(got.begin(), got.end(), [](const auto& r) { return r.value == "h"; });
  ASSERT_NE(h, got.end());
  EXPECT_EQ(h->key, "key");
  EXPECT_EQ(h->headers, with_headers.headers);
}

TEST_F(EmbeddedBrokerTest, GroupMembersSharePartitionsAndRebalance) {
  TopicConfig c;
  c.partitions = 4;
  ASSERT_TRUE(broker_->CreateTopic("t", c).ok());
  for (int p = 0; p < 4; ++p) ProduceValues("t", 5, p);
  // Declared before the consumers: Close (in their destructors) calls on_revoke.
  std::vector<TopicPartition> c1_revoked;
  std::vector<TopicPartition> c2_assigned;
  auto c1 = std::move(*broker_->CreateConsumer({.group = "g"}));
  c1->SetRebalanceListener(
      {.on_assign = {}, .on_revoke = [&](const std::vector<TopicPartition>& tps) {
         c1_revoked.insert(c1_revoked.end(), tps.begin(), tps.end());
       }});
  ASSERT_TRUE(c1->Subscribe({"t"}).ok());
  auto all = c1->Poll(100, 2000);
  EXPECT_EQ(c1->Assignment().size(), 4u);
  auto c2 = std::move(*broker_->CreateConsumer({.group = "g"}));
  c2->SetRebalanceListener({.on_assign =
                                [&](const std::vector<TopicPartition>& tps) {
                                  c2_assigned.insert(c2_assigned.end(), tps.begin(), tps.end());
                                },
                            .on_revoke = {}});
  ASSERT_TRUE(c2->Subscribe({"t"}).ok());
  EXPECT_TRUE(c2->Poll(100, 10)->empty());  // c1 still holds everything
  (void)c1->Poll(100, 10);                  // c1 revokes two partitions
  EXPECT_EQ(c1_revoked, (std::vector<TopicPartition>{{"t", 2}, {"t", 3}}));
  auto got = c2->Poll(100, 2000);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(c2_assigned, (std::vector<TopicPartition>{{"t", 2}, {"t", 3}}));
  EXPECT_EQ(c1->Assignment(), (std::vector<TopicPartition>{{"t", 0}, {"t", 1}}));
  ASSERT_TRUE(c2->Close().ok());
  (void)c1->Poll(1, 10);
  EXPECT_EQ(c1->Assignment().size(), 4u);
}

TEST_F(EmbeddedBrokerTest, PatternSubscriptionPicksUpNewTopics) {
  ASSERT_TRUE(broker_->CreateTopic("x.pin", TopicConfig{}).ok());
  auto c = std::move(*broker_->CreateConsumer({.group = "g"}));
  ASSERT_TRUE(c->Subscribe({R"(x\..*)"}, true).ok());
  EXPECT_EQ(c->Subscribe({"("}, true).code(), StatusCode::kInvalidArgument);
  ProduceValues("x.pin", 1);
  ASSERT_EQ(c->Poll(10, 2000)->size(), 1u);
  ASSERT_TRUE(broker_->CreateTopic("x.geo", TopicConfig{}).ok());
  ASSERT_TRUE(broker_->CreateTopic("y.geo", TopicConfig{}).ok());
  ProduceValues("x.geo", 2);
  ProduceValues("y.geo", 2);
  auto recs = c->Poll(10, 2000);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].topic, "x.geo");
}

TEST_F(EmbeddedBrokerTest, ConcurrentProducersKeepPerPartitionOrder) {
  TopicConfig c;
  c.partitions = 4;
  ASSERT_TRUE(broker_->CreateTopic("t", c).ok());
  constexpr int kThreads = 6;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i += 3) {
        std::vector<Record> recs;
        for (int k = i; k < i + 3; ++k) {
          recs.push_back(
              Rec(std::to_string(t) + ":" + std::to_string(k), "key" + std::to_string(t)));
        }
        auto acks = broker_->Produce("t", recs);
        if (!acks.ok()) ++failures;
      }
    });
  }
  auto consumer = std::move(*broker_->CreateConsumer({.group = "g"}));
  ASSERT_TRUE(consumer->Subscribe({"t"}).ok());
  std::map<int, int> last;  // thread -> last sequence seen
  int seen = 0;
  while (seen < kThreads * kPerThread) {
    auto recs = consumer->Poll(500, 5000);
    ASSERT_TRUE(recs.ok());
    ASSERT_FALSE(recs->empty()) << "stalled after " << seen;
    for (const auto& r : *recs) {
      const auto colon = r.value->find(':');
      const int t = std::stoi(r.value->substr(0, colon));
      const int k = std::stoi(r.value->substr(colon + 1));
      auto it = last.find(t);
      EXPECT_EQ(k, it == last.end() ? 0 : it->second + 1);
      last[t] = k;
      ++seen;
    }
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace pinpipe::embedded
