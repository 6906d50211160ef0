// The sink against golden expectations: object keys and bytes for every
// partitioner and rotation option, bad records under each errors.tolerance,
// null values, and exactly-once across store failures and restarts. Runs on
// the real EmbeddedBroker and LocalObjectStore in a temporary folder.
#include "pinpipe/sink/sink.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <random>

#include "pinpipe/base/gzip.h"
#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/sink/json_lines.h"
#include "pinpipe/sink/partitioner.h"
#include "pinpipe/sink/properties.h"

namespace pinpipe::sink {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'704'164'645'000;  // 2024-01-02T03:04:05Z

// Fails every put whose sequence number the predicate picks; delegates otherwise.
class FlakyStore final : public objstore::ObjectStore {
 public:
  explicit FlakyStore(objstore::ObjectStore* inner) : inner_(inner) {}
  // Called under a lock: the sink writes from background threads.
  std::function<bool(int)> fail_put = [](int) { return false; };
  int puts = 0;

  std::string Url() const override { return inner_->Url(); }
  Status Put(std::string_view key, std::string_view data,
             const objstore::PutOptions& options) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fail_put(puts++)) return UnavailableError("injected failure");
    }
    return inner_->Put(key, data, options);
  }
  Result<std::string> Get(std::string_view key, std::optional<objstore::ByteRange> r) override {
    return inner_->Get(key, r);
  }
  Result<objstore::ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<objstore::ListPage> List(std::string_view prefix, std::string_view token,
                                  int max_keys) override {
    return inner_->List(prefix, token, max_keys);
  }
  Result<std::unique_ptr<objstore::Upload>> StartUpload(
      std::string_view key, const objstore::PutOptions& options) override {
    return inner_->StartUpload(key, options);
  }

 private:
  objstore::ObjectStore* inner_;
  std::mutex mu_;
};

class SinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sink-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    embedded::EmbeddedBrokerOptions options;
    options.log.dir = dir_ / "log";
    options.log.fsync.mode = log::FsyncMode::kNever;
    options.log.retention_ms = -1;
    auto b = embedded::EmbeddedBroker::Open(options);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
    auto s = objstore::LocalObjectStore::Open(dir_ / "lake");
    ASSERT_TRUE(s.ok());
    local_ = std::move(*s);
    local_->set_sync(false);
    flaky_ = std::make_unique<FlakyStore>(local_.get());
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }

  void CreateTopic(const std::string& name, int partitions = 1) {
    broker::TopicConfig c;
    c.partitions = partitions;
    ASSERT_TRUE(broker_->CreateTopic(name, c).ok());
  }

  void Produce(const std::string& topic, std::optional<std::string> value, int64_t ts = kT0,
               int32_t partition = 0) {
    broker::Record r;
    r.value = std::move(value);
    r.timestamp_ms = ts;
    r.partition = partition;
    auto acks = broker_->Produce(topic, std::span<const broker::Record>(&r, 1));
    ASSERT_TRUE(acks.ok()) << acks.status().ToString();
    ASSERT_TRUE((*acks)[0].error.ok());
  }

  SinkConfig Config(std::string props) {
    auto p = ParseProperties(props);
    EXPECT_TRUE(p.ok());
    auto c = SinkConfig::FromProperties(*p);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }

  std::unique_ptr<Sink> MakeSink(const SinkConfig& config) {
    auto sink = Sink::Create(config, *broker_, *flaky_, &clock_);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    EXPECT_TRUE((*sink)->Start().ok());
    return std::move(*sink);
  }

  // Runs with `props` into a reference store, then with failing puts and
  // restarts: the final objects must equal the reference.
  void ExpectFaultyRunsToEqualACleanRun(const std::string& props);

  // Every object as key -> bytes.
  std::map<std::string, std::string> Objects() {
    std::map<std::string, std::string> out;
    auto all = local_->ListAll("");
    EXPECT_TRUE(all.ok());
    for (const auto& o : *all) out[o.key] = *local_->Get(o.key);
    return out;
  }

  fs::path dir_;
  std::unique_ptr<embedded::EmbeddedBroker> broker_;
  std::unique_ptr<objstore::LocalObjectStore> local_;
  std::unique_ptr<FlakyStore> flaky_;
  ManualClock clock_{kT0 * 1000};
};

TEST_F(SinkTest, SeedConfigWritesOneMinifiedObjectPerRecord) {
  CreateTopic("0a60b9a8a831.pin");
  CreateTopic("0a60b9a8a831.geo");
  CreateTopic("other.pin");
  Produce("0a60b9a8a831.pin", R"({"index": 7528, "title": "a b"})");
  Produce("0a60b9a8a831.pin", R"( {"index":2} )");
  Produce("0a60b9a8a831.geo", R"({"ind":1,"latitude":-5.5})");
  Produce("other.pin", R"({"x":1})");
  auto sink = MakeSink(
      Config("name=pinterest-sink\nconnector.class=io.confluent.connect.s3.S3SinkConnector\n"
             "tasks.max=3\ntopics.regex=0a60b9a8a831.*\nflush.size=1\n"
             "partitioner.class=io.confluent.connect.storage.partitioner.DefaultPartitioner\n"
             "format.class=io.confluent.connect.s3.format.json.JsonFormat\n"
             "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
             "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
             "value.converter.schemas.enable=false\ns3.bucket.name=user-0a60b9a8a831-bucket\n"
             "storage.class=io.confluent.connect.s3.storage.S3Storage\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  std::map<std::string, std::string> expected = {
      {"topics/0a60b9a8a831.geo/partition=0/0a60b9a8a831.geo+0+0000000000.json",
       "{\"ind\":1,\"latitude\":-5.5}\n"},
      {"topics/0a60b9a8a831.pin/partition=0/0a60b9a8a831.pin+0+0000000000.json",
       "{\"index\":7528,\"title\":\"a b\"}\n"},
      {"topics/0a60b9a8a831.pin/partition=0/0a60b9a8a831.pin+0+0000000001.json", "{\"index\":2}\n"},
  };
  EXPECT_EQ(Objects(), expected);
  auto committed = broker_->FetchCommittedOffsets("connect-pinterest-sink", "0a60b9a8a831.pin");
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_EQ((*committed)[0].offset, 2);
  auto status = sink->GetStatus();
  int64_t objects = 0;
  for (const auto& p : status.partitions) {
    objects += p.objects;
    EXPECT_EQ(p.lag, 0) << p.topic;
  }
  EXPECT_EQ(objects, 3);
}

TEST_F(SinkTest, FlushSizeGroupsRecordsAndOpenFilesWaitUntilFlushed) {
  CreateTopic("t", 2);
  for (int i = 0; i < 5; ++i) Produce("t", "{\"i\":" + std::to_string(i) + "}", kT0, 1);
  Produce("t", "{\"p\":0}", kT0, 0);
  auto sink =
      MakeSink(Config("topics=t\nflush.size=2\nfilename.offset.zero.pad.width=4\n"
                      "topics.dir=lake/raw/\n"));
  ASSERT_TRUE(sink->Drain(false).ok());
  std::map<std::string, std::string> expected = {
      {"lake/raw/t/partition=1/t+1+0000.json", "{\"i\":0}\n{\"i\":1}\n"},
      {"lake/raw/t/partition=1/t+1+0002.json", "{\"i\":2}\n{\"i\":3}\n"},
  };
  EXPECT_EQ(Objects(), expected);
  auto committed = broker_->FetchCommittedOffsets("connect-pinpipe-sink", "t");
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ(committed->size(), 1u);  // partition 0 has only an open file
  EXPECT_EQ((*committed)[0].partition, 1);
  EXPECT_EQ((*committed)[0].offset, 4);
  ASSERT_TRUE(sink->FlushAll().ok());
  expected["lake/raw/t/partition=1/t+1+0004.json"] = "{\"i\":4}\n";
  expected["lake/raw/t/partition=0/t+0+0000.json"] = "{\"p\":0}\n";
  EXPECT_EQ(Objects(), expected);
}

TEST_F(SinkTest, GzipCompressionWritesJsonGz) {
  CreateTopic("t");
  Produce("t", "{\"a\": 1}");
  Produce("t", "[1, 2]");
  auto sink = MakeSink(Config("topics=t\nflush.size=2\ns3.compression.type=gzip\n"));
  ASSERT_TRUE(sink->Drain(false).ok());
  auto objects = Objects();
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.begin()->first, "topics/t/partition=0/t+0+0000000000.json.gz");
  EXPECT_EQ(objects.begin()->second.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(*Gunzip(objects.begin()->second), "{\"a\":1}\n[1,2]\n");
}

TEST_F(SinkTest, TimeBasedPartitionerUsesRecordTimeAndRotatesAllWritersOnSize) {
  CreateTopic("t");
  const int64_t hour = 3'600'000;
  Produce("t", "{\"n\":0}", kT0);             // 2024-01-02 03:04
  Produce("t", "{\"n\":1}", kT0 + hour);      // 04:04
  Produce("t", "{\"n\":2}", kT0 + 60'000);    // 03:05
  Produce("t", "{\"n\":3}", kT0 + 2 * hour);  // 05:04, after the size rotation
  auto sink = MakeSink(Config(
      "topics=t\nflush.size=3\n"
      "partitioner.class=io.confluent.connect.storage.partitioner.TimeBasedPartitioner\n"
      "path.format='year'=YYYY/'month'=MM/'day'=dd/'hour'=HH\npartition.duration.ms=3600000\n"
      "locale=en-US\ntimezone=UTC\ntimestamp.extractor=Record\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  std::map<std::string, std::string> expected = {
      {"topics/t/year=2024/month=01/day=02/hour=03/t+0+0000000000.json", "{\"n\":0}\n{\"n\":2}\n"},
      {"topics/t/year=2024/month=01/day=02/hour=04/t+0+0000000001.json", "{\"n\":1}\n"},
      {"topics/t/year=2024/month=01/day=02/hour=05/t+0+0000000003.json", "{\"n\":3}\n"},
  };
  EXPECT_EQ(Objects(), expected);
}

TEST_F(SinkTest, TimeBasedWithOffsetTimezoneAndDailyBuckets) {
  CreateTopic("t");
  Produce("t", "{\"n\":0}", kT0);  // 03:04Z = 2024-01-01 22:04 at -05:00
  auto sink =
      MakeSink(Config("topics=t\nflush.size=1\npartitioner.class=TimeBasedPartitioner\n"
                      "path.format=YYYY-MM-dd\npartition.duration.ms=86400000\ntimezone=-05:00\n"
                      "timestamp.extractor=Record\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  EXPECT_EQ(Objects().begin()->first, "topics/t/2024-01-01/t+0+0000000000.json");
}

TEST_F(SinkTest, TimeBasedWithANamedZoneFollowsDaylightSaving) {
  CreateTopic("t");
  auto at = [](int y, int mo, int d, int h, int mi) {
    return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
  };
  // America/New_York in 2024: EST (-5) until 03-10 07:00Z, EDT (-4) until 11-03 06:00Z.
  Produce("t", "{\"n\":0}", at(2024, 3, 10, 6, 30));  // 01:30 EST
  Produce("t", "{\"n\":1}", at(2024, 3, 10, 7, 30));  // 03:30 EDT (02:xx is skipped)
  Produce("t", "{\"n\":2}", at(2024, 7, 1, 3, 30));   // 06-30 23:30 EDT (-05:00 would say 22:30)
  Produce("t", "{\"n\":3}", at(2024, 11, 3, 5, 30));  // 01:30 EDT
  Produce("t", "{\"n\":4}", at(2024, 11, 3, 6, 30));  // 01:30 EST, the same local hour again
  Produce("t", "{\"n\":5}", at(2024, 11, 3, 7, 30));  // 02:30 EST
  auto sink =
      MakeSink(Config("topics=t\nflush.size=100\npartitioner.class=TimeBasedPartitioner\n"
                      "path.format='dt'=YYYY-MM-dd/'hr'=HH\npartition.duration.ms=3600000\n"
                      "timezone=America/New_York\ntimestamp.extractor=Record\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  std::map<std::string, std::string> expected = {
      {"topics/t/dt=2024-03-10/hr=01/t+0+0000000000.json", "{\"n\":0}\n"},
      {"topics/t/dt=2024-03-10/hr=03/t+0+0000000001.json", "{\"n\":1}\n"},
      {"topics/t/dt=2024-06-30/hr=23/t+0+0000000002.json", "{\"n\":2}\n"},
      {"topics/t/dt=2024-11-03/hr=01/t+0+0000000003.json", "{\"n\":3}\n{\"n\":4}\n"},
      {"topics/t/dt=2024-11-03/hr=02/t+0+0000000005.json", "{\"n\":5}\n"},
  };
  EXPECT_EQ(Objects(), expected);
}

TEST(TimeBucketTest, DailyBucketsAndScheduledRotationFollowTheLocalDay) {
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok()) << ny.status().ToString();
  auto ms = [](int y, int mo, int d, int h, int mi = 0) {
    return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
  };
  // A day bucket starts at local midnight: 05:00Z in winter, 04:00Z in summer.
  EXPECT_EQ(TimeBucket(ms(2024, 1, 15, 12), 86'400'000, *ny), ms(2024, 1, 15, 5));
  EXPECT_EQ(TimeBucket(ms(2024, 7, 15, 12), 86'400'000, *ny), ms(2024, 7, 15, 4));
  EXPECT_EQ(TimeBucket(ms(2024, 7, 15, 3), 86'400'000, *ny), ms(2024, 7, 14, 4));
  // Two-hour buckets on the spring-forward day: 03:30 EDT floors to 02:00,
  // which does not exist; the bucket is the end of the gap (03:00 EDT).
  EXPECT_EQ(TimeBucket(ms(2024, 3, 10, 7, 30), 7'200'000, *ny), ms(2024, 3, 10, 7));
  // rotate.schedule.interval.ms counts from local midnight, as the connector does:
  // 10-hour intervals from 04:00Z (00:00 EDT) end at 14:00Z, then 00:00Z (20:00 EDT).
  EXPECT_EQ(NextScheduledRotation(ms(2024, 7, 15, 12), 36'000'000, *ny), ms(2024, 7, 15, 14));
  EXPECT_EQ(NextScheduledRotation(ms(2024, 7, 15, 14), 36'000'000, *ny), ms(2024, 7, 16, 0));
  EXPECT_EQ(NextScheduledRotation(ms(2024, 1, 15, 12), 60'000, TimeZone::Utc()),
            ms(2024, 1, 15, 12, 1));
}

TEST_F(SinkTest, RecordFieldExtractorReadsTimestampStrings) {
  CreateTopic("t");
  Produce("t", R"({"ind":1,"timestamp":"2018-06-26 02:40:43"})");
  Produce("t", R"({"ind":2,"timestamp":1530000000000})");
  auto sink =
      MakeSink(Config("topics=t\nflush.size=1\npartitioner.class=HourlyPartitioner\ntimezone=UTC\n"
                      "timestamp.extractor=RecordField\ntimestamp.field=timestamp\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  auto objects = Objects();
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_TRUE(objects.count("topics/t/year=2018/month=06/day=26/hour=02/t+0+0000000000.json"));
  EXPECT_TRUE(objects.count("topics/t/year=2018/month=06/day=26/hour=08/t+0+0000000001.json"));
}

TEST_F(SinkTest, FieldPartitionerAndBadFieldValues) {
  CreateTopic("t");
  Produce("t", R"({"country":"US","n":1})");
  Produce("t", R"({"country":"FR","n":2})");
  Produce("t", R"({"country":"US","n":3})");
  Produce("t", R"({"n":4})");                      // missing field
  Produce("t", R"({"country":"x/../..","n":5})");  // would escape
  auto sink =
      MakeSink(Config("topics=t\nflush.size=3\npartitioner.class=FieldPartitioner\n"
                      "partition.field.name=country\nerrors.tolerance=all\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  std::map<std::string, std::string> expected = {
      {"topics/t/country=FR/t+0+0000000001.json", "{\"country\":\"FR\",\"n\":2}\n"},
      {"topics/t/country=US/t+0+0000000000.json",
       "{\"country\":\"US\",\"n\":1}\n{\"country\":\"US\",\"n\":3}\n"},
  };
  EXPECT_EQ(Objects(), expected);
  auto status = sink->GetStatus();
  ASSERT_EQ(status.partitions.size(), 1u);
  EXPECT_EQ(status.partitions[0].skipped, 2);
}

TEST_F(SinkTest, RotateIntervalUsesRecordTimeFromTheFilesFirstRecord) {
  CreateTopic("t");
  for (int64_t dt : {0, 400, 999, 1000, 1500, 2100})
    Produce("t", "{\"dt\":" + std::to_string(dt) + "}", kT0 + dt);
  auto sink = MakeSink(Config("topics=t\nflush.size=100\nrotate.interval.ms=1000\n"));
  ASSERT_TRUE(sink->Drain(false).ok());
  std::map<std::string, std::string> expected = {
      {"topics/t/partition=0/t+0+0000000000.json", "{\"dt\":0}\n{\"dt\":400}\n{\"dt\":999}\n"},
      {"topics/t/partition=0/t+0+0000000003.json", "{\"dt\":1000}\n{\"dt\":1500}\n"},
  };
  EXPECT_EQ(Objects(), expected);  // {"dt":2100} waits for the next boundary
}

TEST_F(SinkTest, RotateScheduleIntervalUsesTheWallClock) {
  CreateTopic("t");
  Produce("t", "{\"a\":1}");
  Produce("t", "{\"a\":2}");
  auto sink = MakeSink(
      Config("topics=t\nflush.size=100\nrotate.schedule.interval.ms=60000\ntimezone=UTC\n"));
  ASSERT_TRUE(sink->Drain(false).ok());
  EXPECT_TRUE(Objects().empty());
  clock_.AdvanceMicros(60'000'000);
  ASSERT_TRUE(sink->Step(10).ok());
  std::map<std::string, std::string> expected = {
      {"topics/t/partition=0/t+0+0000000000.json", "{\"a\":1}\n{\"a\":2}\n"}};
  EXPECT_EQ(Objects(), expected);
}

TEST_F(SinkTest, InvalidJsonWithToleranceNoneStopsOnlyThatPartition) {
  CreateTopic("t", 2);
  Produce("t", "{\"ok\":1}", kT0, 0);
  Produce("t", "{not json", kT0, 0);
  Produce("t", "{\"ok\":3}", kT0, 0);
  Produce("t", "{\"other\":1}", kT0, 1);
  auto sink = MakeSink(Config("topics=t\nflush.size=1\n"));
  Status drained = sink->Drain(true);
  EXPECT_EQ(drained.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(drained.message().find("t[0]@1"), std::string::npos) << drained.ToString();
  std::map<std::string, std::string> expected = {
      {"topics/t/partition=0/t+0+0000000000.json", "{\"ok\":1}\n"},
      {"topics/t/partition=1/t+1+0000000000.json", "{\"other\":1}\n"},
  };
  EXPECT_EQ(Objects(), expected);
  auto committed = broker_->FetchCommittedOffsets("connect-pinpipe-sink", "t");
  for (const auto& c : *committed) EXPECT_EQ(c.offset, 1) << c.partition;  // not past the bad one
  bool found = false;
  for (const auto& p : sink->GetStatus().partitions) {
    if (p.partition == 0) {
      found = true;
      EXPECT_TRUE(p.failed);
      EXPECT_NE(p.last_error.find("not valid JSON"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(SinkTest, InvalidJsonWithToleranceAllGoesToTheDeadLetterTopic) {
  CreateTopic("p.pin");
  Produce("p.pin", "{\"ok\":1}");
  Produce("p.pin", "oops");
  Produce("p.pin", std::nullopt);
  Produce("p.pin", "{\"ok\":2}");
  auto sink =
      MakeSink(Config("topics.regex=p\\..*\nflush.size=1\nerrors.tolerance=all\n"
                      "errors.deadletterqueue.topic.name=p.dlq\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  std::map<std::string, std::string> expected = {
      {"topics/p.pin/partition=0/p.pin+0+0000000000.json", "{\"ok\":1}\n"},
      {"topics/p.pin/partition=0/p.pin+0+0000000003.json", "{\"ok\":2}\n"},
  };
  EXPECT_EQ(Objects(), expected);  // and nothing from the DLQ, though the regex matches it
  auto dlq = broker_->Fetch("p.dlq", 0, 0, {});
  ASSERT_TRUE(dlq.ok()) << dlq.status().ToString();
  ASSERT_EQ(dlq->records.size(), 2u);
  EXPECT_EQ(dlq->records[0].value, "oops");
  EXPECT_FALSE(dlq->records[1].value.has_value());
  std::map<std::string, std::string> headers;
  for (const auto& h : dlq->records[0].headers) headers[h.key] = h.value;
  EXPECT_EQ(headers["__connect.errors.topic"], "p.pin");
  EXPECT_EQ(headers["__connect.errors.offset"], "1");
  EXPECT_NE(headers["__connect.errors.exception.message"].find("not valid JSON"),
            std::string::npos);
  auto committed = broker_->FetchCommittedOffsets("connect-pinpipe-sink", "p.pin");
  EXPECT_EQ((*committed)[0].offset, 4);
}

TEST_F(SinkTest, NullValuesAreIgnoredWhenConfigured) {
  CreateTopic("t");
  Produce("t", std::nullopt);
  Produce("t", "{\"a\":1}");
  Produce("t", std::nullopt);
  auto sink = MakeSink(Config("topics=t\nflush.size=1\nbehavior.on.null.values=ignore\n"));
  ASSERT_TRUE(sink->Drain(true).ok());
  std::map<std::string, std::string> expected = {
      {"topics/t/partition=0/t+0+0000000001.json", "{\"a\":1}\n"}};
  EXPECT_EQ(Objects(), expected);
  EXPECT_EQ((*broker_->FetchCommittedOffsets("connect-pinpipe-sink", "t"))[0].offset, 3);
}

TEST_F(SinkTest, NullValuesFailByDefault) {
  CreateTopic("t");
  Produce("t", std::nullopt);
  auto sink = MakeSink(Config("topics=t\nflush.size=1\n"));
  EXPECT_EQ(sink->Drain(true).code(), StatusCode::kFailedPrecondition);
}

void SinkTest::ExpectFaultyRunsToEqualACleanRun(const std::string& props) {
  CreateTopic("t", 2);
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    Produce("t",
            "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(rng() % 40, 'x') + "\"}",
            kT0 + i * 1000, static_cast<int32_t>(rng() % 2));
  }
  // Clean run into a second store, as the reference.
  std::map<std::string, std::string> reference;
  {
    auto other = objstore::LocalObjectStore::Open(dir_ / "reference");
    ASSERT_TRUE(other.ok());
    SinkConfig c = Config(props);
    c.name = "reference";
    auto sink = Sink::Create(c, *broker_, **other, &clock_);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Start().ok());
    ASSERT_TRUE((*sink)->Drain(true).ok());
    auto listed = (*other)->ListAll("");
    ASSERT_TRUE(listed.ok());
    for (const auto& o : *listed) reference[o.key] = *(*other)->Get(o.key);
  }
  ASSERT_GT(reference.size(), 40u);
  // Faulty runs: puts fail at random and the sink is "killed" (dropped
  // without flushing) several times part-way.
  std::mt19937 faults(11);
  flaky_->fail_put = [&](int) { return faults() % 5 == 0; };
  for (int run = 0; run < 4; ++run) {
    auto sink = MakeSink(Config(props));
    for (int steps = 0; steps < 3; ++steps) ASSERT_TRUE(sink->Step(50).ok());
  }
  auto sink = MakeSink(Config(props));
  ASSERT_TRUE(sink->Drain(true).ok());
  EXPECT_EQ(Objects(), reference);
}

TEST_F(SinkTest, StoreFailuresAndRestartsGiveTheSameObjectsAsACleanRun) {
  ExpectFaultyRunsToEqualACleanRun("topics=t\nflush.size=7\nrotate.interval.ms=20000\n");
}

TEST_F(SinkTest, StoreFailuresWithManyWritesInFlightGiveTheSameObjectsAsACleanRun) {
  // Polls of 4 records: objects of several polls are being written when a
  // put fails; the later writes of that partition must commit nothing.
  ExpectFaultyRunsToEqualACleanRun(
      "topics=t\nflush.size=3\nconsumer.override.max.poll.records=4\n");
}

// ------------------------------------------------------- pieces alone ---

TEST(PropertiesTest, ParsesJavaPropertiesSyntax) {
  auto p = ParseProperties(
      "# comment\n! also comment\n  name = my-sink  \nflush.size:5\ntopics a,b\n"
      "path.format='year'=YYYY/\\\n    'month'=MM\nkey\\=with\\:seps=v\\u00e9\n"
      "empty=\nwin=dows\r\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)["name"], "my-sink  ");
  EXPECT_EQ((*p)["flush.size"], "5");
  EXPECT_EQ((*p)["topics"], "a,b");
  EXPECT_EQ((*p)["path.format"], "'year'=YYYY/'month'=MM");
  EXPECT_EQ((*p)["key=with:seps"], "v\xc3\xa9");
  EXPECT_EQ((*p)["empty"], "");
  EXPECT_EQ((*p)["win"], "dows");
  EXPECT_FALSE(ParseProperties("a=\\u12").ok());
}

TEST(SinkConfigTest, RejectsWhatTheConnectorWouldReject) {
  auto parse = [](std::string text) {
    return SinkConfig::FromProperties(*ParseProperties(text)).status();
  };
  EXPECT_TRUE(parse("topics=a\nflush.size=1\n").ok());
  EXPECT_EQ(parse("flush.size=1\n").code(), StatusCode::kInvalidArgument);  // no topics
  EXPECT_EQ(parse("topics=a\ntopics.regex=a.*\nflush.size=1\n").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parse("topics=a\n").code(), StatusCode::kInvalidArgument);  // no flush.size
  EXPECT_EQ(parse("topics=a\nflush.size=0\n").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse("topics.regex=([\nflush.size=1\n").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse("topics=a\nflush.size=1\nformat.class=x.AvroFormat\n").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parse("topics=a\nflush.size=1\ns3.compression.type=zstd\n").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parse("topics=a\nflush.size=1\nrotate.schedule.interval.ms=10\n").code(),
            StatusCode::kInvalidArgument);  // needs timezone
  EXPECT_EQ(parse("topics=a\nflush.size=1\npartitioner.class=TimeBasedPartitioner\n").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parse("topics=a\nflush.size=1\npartitioner.class=TimeBasedPartitioner\n"
                  "path.format=YYYY\npartition.duration.ms=1000\ntimezone=Mars/Base\n")
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parse("topics=a\nflush.size=1\npartitioner.class=TimeBasedPartitioner\n"
                  "path.format=EEE\npartition.duration.ms=1000\n")
                .code(),
            StatusCode::kOk);  // checked when the partitioner is built
  EXPECT_FALSE(PathFormat::Compile("EEE").ok());
  EXPECT_EQ(parse("topics=a\nflush.size=1\nerrors.tolerance=some\n").code(),
            StatusCode::kInvalidArgument);
}

TEST(PathFormatTest, FormatsJodaPatterns) {
  auto f = PathFormat::Compile("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH/mm-ss.SSS/D/yy/'it''s'");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->Format(kT0 + 678, 0), "year=2024/month=01/day=02/hour=03/04-05.678/2/24/it's");
  EXPECT_EQ(PathFormat::Compile("YYYY-MM-dd")->Format(0, -3'600'000), "1969-12-31");
}

TEST(TimestampTest, ParsesCommonTimestampTexts) {
  EXPECT_EQ(*ParseTimestampText("2024-01-02T03:04:05Z"), kT0);
  EXPECT_EQ(*ParseTimestampText("2024-01-02 03:04:05"), kT0);
  EXPECT_EQ(*ParseTimestampText("2024-01-02T03:04:05.25+01:00"), kT0 + 250 - 3'600'000);
  EXPECT_EQ(*ParseTimestampText("2024-01-02"), kT0 - (3 * 3600 + 4 * 60 + 5) * 1000);
  EXPECT_FALSE(ParseTimestampText("yesterday").ok());
  EXPECT_FALSE(ParseTimestampText("2024-13-02 00:00:00").ok());
}

TEST(ObjectKeyTest, MatchesTheConnectorsNames) {
  SinkConfig c;
  EXPECT_EQ(ObjectKey(c, "0a60b9a8a831.pin", 0, "partition=0", 42),
            "topics/0a60b9a8a831.pin/partition=0/0a60b9a8a831.pin+0+0000000042.json");
  c.offset_zero_pad_width = 3;
  c.compression = Compression::kGzip;
  EXPECT_EQ(ObjectKey(c, "t", 12, "partition=12", 12345),
            "topics/t/partition=12/t+12+12345.json.gz");
}

TEST(SinkStatusTest, RoundTripsThroughJson) {
  SinkStatus s;
  s.name = "n";
  s.group = "connect-n";
  s.store = "file:///x";
  PartitionStatus p;
  p.topic = "t";
  p.partition = 3;
  p.committed_offset = 10;
  p.high_watermark = 12;
  p.lag = 2;
  p.objects = 4;
  p.bytes = 99;
  p.failed = true;
  p.last_error = "bad \"json\"";
  s.partitions.push_back(p);
  auto back = SinkStatus::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->partitions.at(0).last_error, "bad \"json\"");
  EXPECT_EQ(back->partitions.at(0).lag, 2);
  EXPECT_TRUE(back->partitions.at(0).failed);
  EXPECT_NE(s.ToTable().find("FAILED"), std::string::npos);
  EXPECT_FALSE(SinkStatus::FromJson("nope").ok());

  std::map<std::string, std::pair<std::string, double>> metrics;
  for (const auto& family : s.ToMetrics()) {
    ASSERT_EQ(family.samples.size(), 1u) << family.name;
    EXPECT_FALSE(family.help.empty());
    metrics[family.name] = family.samples[0];
  }
  EXPECT_EQ(metrics.size(), 8u);
  EXPECT_EQ(metrics["pinpipe_sink_lag_records"].first, "sink=\"n\",topic=\"t\",partition=\"3\"");
  EXPECT_EQ(metrics["pinpipe_sink_lag_records"].second, 2);
  EXPECT_EQ(metrics["pinpipe_sink_committed_offset"].second, 10);
  EXPECT_EQ(metrics["pinpipe_sink_bytes_written"].second, 99);
  EXPECT_EQ(metrics["pinpipe_sink_partition_failed"].second, 1);
}

}  // namespace
}  // namespace pinpipe::sink
