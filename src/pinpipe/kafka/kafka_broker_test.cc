#include "pinpipe/kafka/kafka_broker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "pinpipe/kafka/kafka_errors.h"
#include "pinpipe/kafka/mock_cluster.h"

namespace pinpipe::kafka {
namespace {

using broker::FetchOptions;
using broker::Header;
using broker::Record;

Record MakeRecord(std::optional<std::string> key, std::optional<std::string> value,
                  int32_t partition = broker::kAnyPartition, int64_t ts = -1,
                  std::vector<Header> headers = {}) {
  Record r;
  r.key = std::move(key);
  r.value = std::move(value);
  r.partition = partition;
  r.timestamp_ms = ts;
  r.headers = std::move(headers);
  return r;
}

class KafkaBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mock = MockCluster::Start(3);
    ASSERT_TRUE(mock.ok()) << mock.status().ToString();
    mock_ = std::move(*mock);
    ASSERT_TRUE(mock_->CreateTopic("events", 3).ok());
    broker_ = Connect();
  }

  std::unique_ptr<broker::Broker> Connect(Properties extra = {}) {
    Properties props = {{"bootstrap.servers", mock_->bootstrap_servers()},
                        {"pinpipe.timeout.ms", "10000"}};
    for (auto& [k, v] : extra) props[k] = v;
    auto b = NewKafkaBroker(props);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(*b) : nullptr;
  }

  std::unique_ptr<MockCluster> mock_;
  std::unique_ptr<broker::Broker> broker_;
};

TEST_F(KafkaBrokerTest, TopicMetadataIsSharedByEveryClientOfTheCluster) {
  auto none = broker_->GetTopicMetadata("events");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(broker_->SetTopicMetadata("missing", {{"a", "1"}}).code(), StatusCode::kNotFound);
  // librdkafka's mock cluster has no CreateTopics: the metadata topic is made here, as a
  // cluster whose ACLs forbid creating topics needs it made by its admin.
  Status refused = broker_->SetTopicMetadata("events", {{"a", "1"}});
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.ToString().find("__pinpipe_topic_metadata"), std::string::npos)
      << refused.ToString();
  ASSERT_TRUE(mock_->CreateTopic("__pinpipe_topic_metadata", 1).ok());
  Status set = broker_->SetTopicMetadata("events", {{"a", "1"}, {"b", "two"}});
  ASSERT_TRUE(set.ok()) << set.ToString();
  ASSERT_TRUE(broker_->SetTopicMetadata("events", {{"a", "3"}}).ok());  // replaces
  auto other = Connect();  // another node on the same cluster
  ASSERT_NE(other, nullptr);
  auto got = other->GetTopicMetadata("events");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (broker::TopicMetadata{{"a", "3"}}));
  // The metadata topic is internal: not listed.
  auto topics = other->ListTopics();
  ASSERT_TRUE(topics.ok());
  EXPECT_EQ(*topics, std::vector<std::string>{"events"});
}

TEST_F(KafkaBrokerTest, ProduceFetchRoundTripKeepsKeysHeadersAndTimestamps) {
  std::vector<Record> records = {
      MakeRecord("k1", "{\"a\":1}", 0, 1'700'000'000'000, {{"h1", "v1"}, {"h2", ""}}),
      MakeRecord(std::nullopt, "no key", 0, 1'700'000'000'001),
      MakeRecord("tomb", std::nullopt, 0, 1'700'000'000'002),
      MakeRecord("", "", 0, 1'700'000'000'003),
  };
  auto acks = broker_->Produce("events", records);
  ASSERT_TRUE(acks.ok()) << acks.status().ToString();
  ASSERT_EQ(acks->size(), 4u);
  for (size_t i = 0; i < acks->size(); ++i) {
    EXPECT_TRUE((*acks)[i].error.ok()) << (*acks)[i].error.ToString();
    EXPECT_EQ((*acks)[i].partition, 0);
    EXPECT_EQ((*acks)[i].offset, static_cast<int64_t>(i));
  }
  auto fetched = broker_->Fetch("events", 0, 0, FetchOptions{});
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  ASSERT_EQ(fetched->records.size(), 4u);
  EXPECT_EQ(fetched->high_watermark, 4);
  EXPECT_EQ(fetched->log_start_offset, 0);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& got = fetched->records[i];
    EXPECT_EQ(got.topic, "events");
    EXPECT_EQ(got.partition, 0);
    EXPECT_EQ(got.offset, static_cast<int64_t>(i));
    EXPECT_EQ(got.key, records[i].key) << i;
    EXPECT_EQ(got.value, records[i].value) << i;
    EXPECT_EQ(got.timestamp_ms, records[i].timestamp_ms) << i;
    EXPECT_EQ(got.headers, records[i].headers) << i;
  }
}

TEST_F(KafkaBrokerTest, AcksCarryRealPartitionsAndOffsets) {
  std::vector<Record> batch;
  for (int i = 0; i < 30; ++i) {
    batch.push_back(MakeRecord("user-" + std::to_string(i % 5), "v" + std::to_string(i)));
  }
  auto first = broker_->Produce("events", batch);
  auto second = broker_->Produce("events", batch);
  ASSERT_TRUE(first.ok() && second.ok());
  std::map<std::string, int32_t> partition_of_key;
  std::map<int32_t, std::set<int64_t>> offsets;
  for (const auto* acks : {&*first, &*second}) {
    for (size_t i = 0; i < acks->size(); ++i) {
      const auto& ack = (*acks)[i];
      ASSERT_TRUE(ack.error.ok()) << ack.error.ToString();
      ASSERT_GE(ack.partition, 0);
      ASSERT_LT(ack.partition, 3);
      // Same key, same partition.
      auto [it, fresh] = partition_of_key.emplace(*batch[i].key, ack.partition);
      EXPECT_EQ(it->second, ack.partition);
      EXPECT_TRUE(offsets[ack.partition].insert(ack.offset).second) << "offset given twice";
      // The ack's offset is where the record really is.
      auto got = broker_->Fetch("events", ack.partition, ack.offset, {.max_records = 1});
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->records.size(), 1u);
      EXPECT_EQ(got->records[0].value, batch[i].value);
    }
  }
  auto desc = broker_->DescribeTopic("events");
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  int64_t total = 0;
  for (const auto& p : desc->partitions) {
    EXPECT_EQ(p.high_watermark, static_cast<int64_t>(offsets[p.partition].size()));
    total += p.high_watermark;
  }
  EXPECT_EQ(total, 60);
}

TEST_F(KafkaBrokerTest, UnknownTopicsAndPartitionsAreNotFound) {
  std::vector<Record> one = {MakeRecord("k", "v")};
  // Asking about unknown topics must not create them (the mock auto-creates
  // on single-topic metadata requests, as brokers may).
  EXPECT_EQ(broker_->Produce("nope", one).status().code(), StatusCode::kNotFound);
  std::vector<Record> bad_partition = {MakeRecord("k", "v", 7)};
  EXPECT_EQ(broker_->Produce("events", bad_partition).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->Fetch("nope", 0, 0, {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->Fetch("events", 3, 0, {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->DescribeTopic("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->Produce("bad name!", one).status().code(), StatusCode::kInvalidArgument);
  auto topics = broker_->ListTopics();
  ASSERT_TRUE(topics.ok());
  EXPECT_EQ(*topics, std::vector<std::string>{"events"});
  // A topic that appears later is found without waiting for the cache.
  ASSERT_TRUE(mock_->CreateTopic("later", 1).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(broker_->Produce("later", one).ok());
}

TEST_F(KafkaBrokerTest, FetchBoundsAndLongPoll) {
  std::vector<Record> two = {MakeRecord("a", "1", 1), MakeRecord("b", "2", 1)};
  ASSERT_TRUE(broker_->Produce("events", two).ok());
  EXPECT_EQ(broker_->Fetch("events", 1, 3, {}).status().code(), StatusCode::kOutOfRange);
  auto at_end = broker_->Fetch("events", 1, 2, {});
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->records.empty());
  EXPECT_EQ(at_end->high_watermark, 2);

  // A long poll at the end returns as soon as a record arrives.
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::vector<Record> late = {MakeRecord("c", "late", 1)};
    EXPECT_TRUE(broker_->Produce("events", late).ok());
  });
  auto start = std::chrono::steady_clock::now();
  auto waited = broker_->Fetch("events", 1, 2, {.wait_ms = 8000});
  auto elapsed = std::chrono::steady_clock::now() - start;
  producer.join();
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  ASSERT_EQ(waited->records.size(), 1u);
  EXPECT_EQ(waited->records[0].value, "late");
  EXPECT_EQ(waited->records[0].offset, 2);
  EXPECT_LT(elapsed, std::chrono::seconds(6));

  // Nothing arrives: the long poll ends empty after about wait_ms.
  start = std::chrono::steady_clock::now();
  auto empty = broker_->Fetch("events", 1, 3, {.wait_ms = 400});
  elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
  EXPECT_GE(elapsed, std::chrono::milliseconds(350));
}

TEST_F(KafkaBrokerTest, PagedFetchesAreContiguousWithoutDuplicates) {
  std::vector<Record> records;
  for (int i = 0; i < 250; ++i) records.push_back(MakeRecord(std::nullopt, std::to_string(i), 2));
  ASSERT_TRUE(broker_->Produce("events", records).ok());
  int64_t offset = 0;
  int calls = 0;
  while (offset < 250) {
    auto page = broker_->Fetch("events", 2, offset, {.max_records = 40});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_FALSE(page->records.empty());
    ASSERT_LE(page->records.size(), 40u);
    for (const auto& r : page->records) {
      ASSERT_EQ(r.offset, offset);
      ASSERT_EQ(r.value, std::to_string(offset));
      ++offset;
    }
    ++calls;
  }
  EXPECT_GE(calls, 7);
  // max_bytes: at least one record, never more bytes than asked beyond the first.
  auto small = broker_->Fetch("events", 2, 100, {.max_bytes = 7});
  ASSERT_TRUE(small.ok());
  ASSERT_GE(small->records.size(), 1u);
  EXPECT_LE(small->records.size(), 2u);
  EXPECT_EQ(small->records[0].offset, 100);
  // Jumping back re-reads from there.
  auto back = broker_->Fetch("events", 2, 5, {.max_records = 1});
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->records.size(), 1u);
  EXPECT_EQ(back->records[0].value, "5");
}

// librdkafka 2.0.2's mock answers ListOffsets only for earliest/latest, never
// by timestamp, so only the "no record that late" answer is checked here.
TEST_F(KafkaBrokerTest, OffsetForTimestampPastTheEndIsTheHighWatermark) {
  std::vector<Record> records = {MakeRecord("a", "1", 0, 1000), MakeRecord("b", "2", 0, 2000),
                                 MakeRecord("c", "3", 0, 3000)};
  ASSERT_TRUE(broker_->Produce("events", records).ok());
  EXPECT_EQ(broker_->OffsetForTimestamp("events", 0, 9000).value_or(-1), 3);
  EXPECT_EQ(broker_->OffsetForTimestamp("events", 1, 9000).value_or(-1), 0);
  EXPECT_EQ(broker_->OffsetForTimestamp("events", 9, 0).status().code(), StatusCode::kNotFound);
}

TEST_F(KafkaBrokerTest, GroupOffsetsWithoutMembershipAreDurable) {
  ASSERT_TRUE(broker_->CommitOffsets("sink", {{"events", 0, 5}, {"events", 2, 7}}).ok());
  auto committed = broker_->FetchCommittedOffsets("sink", "events");
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  std::vector<broker::TopicPartitionOffset> want = {{"events", 0, 5}, {"events", 2, 7}};
  EXPECT_EQ(*committed, want);
  // Another client (a restarted process) sees them; other groups do not.
  auto other = Connect();
  auto again = other->FetchCommittedOffsets("sink", "events");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, want);
  auto none = other->FetchCommittedOffsets("other-group", "events");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(other->FetchCommittedOffsets("sink", "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(KafkaBrokerTest, TopicMetadataAndAdminOnTheMock) {
  ASSERT_TRUE(mock_->CreateTopic("pins", 6).ok());
  auto topics = broker_->ListTopics();
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(*topics, (std::vector<std::string>{"events", "pins"}));
  auto desc = broker_->DescribeTopic("pins");
  ASSERT_TRUE(desc.ok());
  EXPECT_EQ(desc->config.partitions, 6);
  ASSERT_EQ(desc->partitions.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(desc->partitions[i].partition, i);
    EXPECT_EQ(desc->partitions[i].replicas.size(), 3u);
    EXPECT_GE(desc->partitions[i].leader, 1);
  }
  // The mock has no controller: admin says so at once instead of timing out.
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(broker_->CreateTopic("new", {.partitions = 2}).code(), StatusCode::kUnimplemented);
  EXPECT_EQ(broker_->DeleteTopic("pins").code(), StatusCode::kUnimplemented);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(broker_->CreateTopic("bad/name", {}).code(), StatusCode::kInvalidArgument);
}

TEST(KafkaBrokerMockModeTest, InProcessMockCreatesTopicsAndSharesOneCluster) {
  auto b = NewKafkaBroker(Properties{{"test.mock.num.brokers", "3"}});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto& broker = **b;
  ASSERT_TRUE(broker.CreateTopic("t", {.partitions = 4}).ok());
  EXPECT_EQ(broker.CreateTopic("t", {.partitions = 4}).code(), StatusCode::kAlreadyExists);
  std::vector<Record> recs = {MakeRecord("k", "v", 3)};
  auto acks = broker.Produce("t", recs);
  ASSERT_TRUE(acks.ok()) << acks.status().ToString();
  EXPECT_EQ((*acks)[0].offset, 0);
  // Fetch and group handles are other clients: they must see the same cluster.
  auto got = broker.Fetch("t", 3, 0, {});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->records.size(), 1u);
  EXPECT_EQ(got->records[0].value, "v");
  ASSERT_TRUE(broker.CommitOffsets("g", {{"t", 3, 1}}).ok());
  auto committed = broker.FetchCommittedOffsets("g", "t");
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->size(), 1u);
}

TEST_F(KafkaBrokerTest, NonRetriableProduceErrorIsPerRecordAndNotRetriable) {
  mock_->PushRequestErrors(kProduceApiKey, {RD_KAFKA_RESP_ERR_INVALID_RECORD});
  std::vector<Record> one = {MakeRecord("k", "v", 0)};
  auto acks = broker_->Produce("events", one);
  ASSERT_TRUE(acks.ok()) << acks.status().ToString();
  const Status& err = (*acks)[0].error;
  EXPECT_EQ(err.code(), StatusCode::kInvalidArgument) << err.ToString();
  EXPECT_FALSE(IsRetriable(err));
  EXPECT_NE(err.message().find("INVALID_RECORD"), std::string::npos) << err.message();
  // The producer keeps working.
  auto next = broker_->Produce("events", one);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE((*next)[0].error.ok()) << (*next)[0].error.ToString();
}

TEST_F(KafkaBrokerTest, TransientProduceErrorsAreRetriedWithoutDuplicates) {
  mock_->PushRequestErrors(kProduceApiKey, {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT});
  std::vector<Record> recs;
  for (int i = 0; i < 5; ++i) recs.push_back(MakeRecord(std::nullopt, std::to_string(i), 1));
  auto acks = broker_->Produce("events", recs);
  ASSERT_TRUE(acks.ok());
  for (const auto& a : *acks) EXPECT_TRUE(a.error.ok()) << a.error.ToString();
  auto got = broker_->Fetch("events", 1, 0, {});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->records.size(), 5u);  // idempotence: no duplicate from the retries
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got->records[i].value, std::to_string(i));
}

TEST_F(KafkaBrokerTest, PersistentTransientErrorSurfacesAsRetriable) {
  auto impatient = Connect({{"message.timeout.ms", "1500"}, {"retry.backoff.ms", "50"}});
  std::vector<rd_kafka_resp_err_t> errors(200, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  mock_->PushRequestErrors(kProduceApiKey, errors);
  std::vector<Record> one = {MakeRecord("k", "v", 0)};
  auto acks = impatient->Produce("events", one);
  ASSERT_TRUE(acks.ok());
  const Status& err = (*acks)[0].error;
  EXPECT_FALSE(err.ok());
  EXPECT_TRUE(IsRetriable(err)) << err.ToString();
  EXPECT_EQ((*acks)[0].offset, -1);
  mock_->ClearRequestErrors(kProduceApiKey);
}

TEST_F(KafkaBrokerTest, TopicErrorsMapToStatusCodes) {
  mock_->SetTopicError("events", RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  std::vector<Record> one = {MakeRecord("k", "v")};
  EXPECT_EQ(broker_->Produce("events", one).status().code(), StatusCode::kPermissionDenied);
  auto other = Connect();
  mock_->SetTopicError("events", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  EXPECT_EQ(other->Produce("events", one).status().code(), StatusCode::kNotFound);
  mock_->SetTopicError("events", RD_KAFKA_RESP_ERR_NO_ERROR);
}

TEST(KafkaErrorsTest, MappingDrivesRetryDecisions) {
  EXPECT_EQ(KafkaErrorCode(RD_KAFKA_RESP_ERR_NO_ERROR), StatusCode::kOk);
  EXPECT_EQ(KafkaErrorCode(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), StatusCode::kNotFound);
  EXPECT_EQ(KafkaErrorCode(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS), StatusCode::kAlreadyExists);
  EXPECT_EQ(KafkaErrorCode(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(IsRetriable(KafkaStatus(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)));
  EXPECT_TRUE(IsRetriable(KafkaStatus(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)));
  EXPECT_TRUE(IsRetriable(KafkaStatus(RD_KAFKA_RESP_ERR__QUEUE_FULL)));
  EXPECT_FALSE(IsRetriable(KafkaStatus(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)));
  EXPECT_FALSE(IsRetriable(KafkaStatus(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER)));
  Status s = KafkaStatus(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "produce");
  EXPECT_EQ(s.message().rfind("produce: Kafka error: MSG_SIZE_TOO_LARGE", 0), 0u) << s.message();
}

TEST(KafkaBrokerConfigTest, BuildsFromConfigAndRejectsBadProperties) {
  Config config;
  EXPECT_EQ(NewKafkaBroker(config).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(config.Set("kafka.bootstrap.servers", "127.0.0.1:1").ok());
  ASSERT_TRUE(config.Set("kafka.compression.type", "zstd").ok());
  auto b = NewKafkaBroker(config);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*b)->Kind(), "kafka");
  ASSERT_TRUE(config.Set("kafka.no.such.property", "1").ok());
  auto bad = NewKafkaBroker(config);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("no.such.property"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::kafka
