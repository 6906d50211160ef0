#include "pinpipe/log/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <thread>
#include <vector>

namespace pinpipe::log {
namespace {

namespace fs = std::filesystem;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pinpipe-log-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.dir = dir_;
    options_.fsync = *FsyncPolicy::Parse("interval:2");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Log> OpenOrDie() {
    auto log = Log::Open(options_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  fs::path dir_;
  LogOptions options_;
};

TEST(TopicNameTest, FollowsKafkaRules) {
  for (const std::string& ok : {std::string("a"), std::string("abc.pin"), std::string("A-b_c.1"),
                                std::string("...x"), std::string(249, 'x')}) {
    EXPECT_TRUE(ValidateTopicName(ok).ok()) << ok;
  }
  for (std::string bad : {std::string(), std::string("."), std::string(".."), std::string(250, 'x'),
                          std::string("a/b"), std::string("../etc"), std::string("a b"),
                          std::string("a\0b", 3), std::string("é"), std::string("a\\b")}) {
    EXPECT_EQ(ValidateTopicName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

// Appends one record to partition 0 of `topic` and waits (up to 5 s) for
// its OnDurable callback; returns the callback's status and how long it took.
std::pair<Status, std::chrono::milliseconds> AppendAndAwait(Topic& topic) {
  RecordView v;
  v.value = "payload";
  v.timestamp_ms = 1;
  auto info = topic.partition(0)->Append(std::span<const RecordView>(&v, 1));
  if (!info.ok()) return {info.status(), {}};
  auto done = std::make_shared<std::promise<Status>>();
  auto future = done->get_future();
  const auto start = std::chrono::steady_clock::now();
  topic.partition(0)->OnDurable(info->next_offset, [done](Status s) { done->set_value(s); });
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    return {DeadlineExceededError("OnDurable never called back"), std::chrono::seconds(5)};
  }
  Status s = future.get();
  if (s.ok() && topic.partition(0)->high_watermark() < info->next_offset) {
    s = InternalError("called back before the record was visible");
  }
  return {s, std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - start)};
}

TEST_F(LogTest, OnDurableCallsBackOnceTheRecordIsDurableUnderEveryPolicy) {
  auto log = OpenOrDie();
  for (const std::string policy : {"interval:2", "always", "never"}) {
    TopicSettings s;
    s.fsync = policy;
    const std::string name = "t-" + std::to_string(policy.size());
    ASSERT_TRUE(log->CreateTopic(name, s).ok());
    auto topic = log->GetTopic(name);
    ASSERT_TRUE(topic.ok());
    auto [status, took] = AppendAndAwait(**topic);
    EXPECT_TRUE(status.ok()) << policy << ": " << status.ToString();
    EXPECT_LT(took.count(), 1000) << policy;
  }
}

// Regression: a sync that started just before an append covered it but left
// the partition's dirty flag set, so the next append never woke the flusher
// and waited for its 1 s backstop tick.
TEST_F(LogTest, OnDurableNeverWaitsForTheFlushersBackstopTick) {
  auto log = OpenOrDie();
  ASSERT_TRUE(log->CreateTopic("t", TopicSettings{}).ok());
  auto topic = log->GetTopic("t");
  ASSERT_TRUE(topic.ok());
  std::atomic<int64_t> worst_ms{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < 150; ++i) {
        auto [status, took] = AppendAndAwait(**topic);
        if (!status.ok()) ++failures;
        int64_t ms = took.count();
        int64_t seen = worst_ms.load();
        while (ms > seen && !worst_ms.compare_exchange_weak(seen, ms)) {
        }
      }
    });
  }
  for (auto& p : producers) p.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LT(worst_ms.load(), 500) << "an append waited for the flusher's backstop";
}

// The partitions due together are synced together (the flusher and its sync
// threads); every one of them is answered.
TEST_F(LogTest, OnDurableAcrossManyPartitionsAnswersEveryOne) {
  auto log = OpenOrDie();
  TopicSettings s;
  s.partitions = 12;
  ASSERT_TRUE(log->CreateTopic("wide", s).ok());
  auto topic = log->GetTopic("wide");
  ASSERT_TRUE(topic.ok());
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> answered{0}, ok{0};
    RecordView v;
    v.value = "x";
    for (int32_t p = 0; p < 12; ++p) {
      auto info = (*topic)->partition(p)->Append(std::span<const RecordView>(&v, 1));
      ASSERT_TRUE(info.ok());
      (*topic)->partition(p)->OnDurable(info->next_offset, [&](Status st) {
        ok += st.ok();
        ++answered;
      });
    }
    for (int i = 0; i < 200 && answered.load() < 12; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(answered.load(), 12) << "round " << round;
    EXPECT_EQ(ok.load(), 12);
    for (int32_t p = 0; p < 12; ++p) EXPECT_EQ((*topic)->partition(p)->high_watermark(), round + 1);
  }
}

TEST_F(LogTest, ClosingTheLogAnswersEveryPendingOnDurable) {
  options_.fsync = *FsyncPolicy::Parse("interval:60000");  // the flusher would wait a minute
  auto log = OpenOrDie();
  ASSERT_TRUE(log->CreateTopic("t", TopicSettings{}).ok());
  auto topic = log->GetTopic("t");
  ASSERT_TRUE(topic.ok());
  std::atomic<int> ok{0};
  RecordView v;
  v.value = "x";
  for (int i = 0; i < 10; ++i) {
    auto info = (*topic)->partition(0)->Append(std::span<const RecordView>(&v, 1));
    ASSERT_TRUE(info.ok());
    (*topic)->partition(0)->OnDurable(info->next_offset, [&ok](Status s) { ok += s.ok(); });
  }
  EXPECT_EQ(ok.load(), 0);
  topic->reset();
  log.reset();  // Close syncs, then answers
  EXPECT_EQ(ok.load(), 10);
}

// The fsync interval is timed by the injected clock (the flusher and
// WaitDurable used to read the real one): data appended after a sync
// becomes durable, and visible, only once the clock has moved on by the
// interval.
TEST_F(LogTest, TheInjectedClockTimesTheFsyncInterval) {
  ManualClock clock(1'600'000'000'000'000, /*auto_advance=*/false);
  options_.clock = &clock;
  options_.fsync = *FsyncPolicy::Parse("interval:60000");
  auto log = OpenOrDie();
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->CreateTopic("t", {}).ok());
  Partition* p = (*log->GetTopic("t"))->partition(0);
  auto append = [&] {
    RecordView v;
    v.value = "x";
    v.timestamp_ms = 1;
    ASSERT_TRUE(p->Append(std::span<const RecordView>(&v, 1)).ok());
  };
  auto wait_for_watermark = [&](int64_t want) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (p->high_watermark() < want && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return p->high_watermark();
  };
  append();  // nothing synced yet: due at once
  EXPECT_EQ(wait_for_watermark(1), 1);
  append();  // the interval has not passed on the injected clock
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(p->high_watermark(), 1);
  clock.AdvanceMicros(61'000'000);
  EXPECT_EQ(wait_for_watermark(2), 2);
}

TEST_F(LogTest, TopicsPersistWithTheirSettings) {
  {
    auto log = OpenOrDie();
    TopicSettings s;
    s.partitions = 3;
    s.fsync = "never";
    s.retention_ms = 1000;
    ASSERT_TRUE(log->CreateTopic("t1", s).ok());
    ASSERT_TRUE(log->CreateTopic("t0", TopicSettings{}).ok());
    EXPECT_EQ(log->CreateTopic("t1", s).code(), StatusCode::kAlreadyExists);
    s.partitions = 0;
    EXPECT_EQ(log->CreateTopic("t2", s).code(), StatusCode::kInvalidArgument);
    s.partitions = 1;
    s.fsync = "bogus";
    EXPECT_EQ(log->CreateTopic("t2", s).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(log->CreateTopic("../escape", TopicSettings{}).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(dir_.parent_path() / "escape"));
  auto log = OpenOrDie();
  EXPECT_EQ(log->ListTopics(), (std::vector<std::string>{"t0", "t1"}));
  auto t1 = log->GetTopic("t1");
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ((*t1)->partition_count(), 3);
  EXPECT_EQ((*t1)->effective().fsync.mode, FsyncMode::kNever);
  EXPECT_EQ((*t1)->effective().retention_ms, 1000);
  EXPECT_EQ((*log->GetTopic("t0"))->effective().fsync.interval_ms, 2);
  EXPECT_EQ(log->GetTopic("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(LogTest, AddPartitionsKeepsDataAndSurvivesReopen) {
  {
    auto log = OpenOrDie();
    TopicSettings s;
    s.partitions = 2;
    s.retention_ms = 5000;
    ASSERT_TRUE(log->CreateTopic("grow", s).ok());
    auto before = *log->GetTopic("grow");
    ASSERT_TRUE(AppendAndAwait(*before).first.ok());
    const uint64_t v = log->topics_version();
    EXPECT_EQ(log->AddPartitions("grow", 2).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(log->AddPartitions("grow", 1).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(log->AddPartitions("grow", 10001).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(log->AddPartitions("nope", 3).code(), StatusCode::kNotFound);
    ASSERT_TRUE(log->AddPartitions("grow", 5).ok());
    EXPECT_NE(log->topics_version(), v);
    EXPECT_EQ(before->partition_count(), 2);  // a reader's old view is unchanged
    auto after = *log->GetTopic("grow");
    EXPECT_EQ(after->partition_count(), 5);
    EXPECT_EQ(after->partition(0), before->partition(0));  // the same partition, not a copy
    EXPECT_EQ(after->partition(0)->high_watermark(), 1);
    EXPECT_EQ(after->partition(4)->high_watermark(), 0);
  }
  auto log = OpenOrDie();
  auto t = *log->GetTopic("grow");
  EXPECT_EQ(t->partition_count(), 5);
  EXPECT_EQ(t->effective().retention_ms, 5000);
  EXPECT_EQ(t->partition(0)->high_watermark(), 1);
  EXPECT_FALSE(fs::exists(dir_ / "topics" / "grow" / "topic.json.tmp"));
}

TEST_F(LogTest, SetTopicSettingsAppliesToTheLiveTopicAndSurvivesReopen) {
  std::string big(1000, 'v');
  auto append = [&](Partition* p, int n) {
    RecordView v;
    v.value = big;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(p->AppendAndWait(std::span(&v, 1)).ok());
  };
  {
    auto log = OpenOrDie();
    TopicSettings s;
    s.retention_ms = -1;
    s.retention_bytes = -1;
    s.segment_bytes = 4096;
    ASSERT_TRUE(log->CreateTopic("cfg", s).ok());
    auto before = *log->GetTopic("cfg");
    Partition* p = before->partition(0);
    append(p, 20);
    const size_t segments = p->segment_count();
    ASSERT_GE(segments, 5u);
    EXPECT_EQ(log->RunRetention(), 0);  // kept forever

    // Refused: unknown topic, bad values, another fsync policy; validate_only changes nothing.
    TopicSettings bad = s;
    bad.retention_bytes = -5;
    EXPECT_EQ(log->SetTopicSettings("nope", s).code(), StatusCode::kNotFound);
    EXPECT_EQ(log->SetTopicSettings("cfg", bad).code(), StatusCode::kInvalidArgument);
    TopicSettings other_fsync = s;
    other_fsync.fsync = "always";
    Status refused = log->SetTopicSettings("cfg", other_fsync);
    EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.message().find("fsync"), std::string::npos) << refused.ToString();
    TopicSettings same_fsync = s;
    same_fsync.fsync = "interval:2";  // the log's default, named: the same policy
    EXPECT_TRUE(log->SetTopicSettings("cfg", same_fsync, /*validate_only=*/true).ok());
    TopicSettings shrink = s;
    shrink.retention_bytes = 4096;
    shrink.segment_bytes = 1 << 20;
    ASSERT_TRUE(log->SetTopicSettings("cfg", shrink, /*validate_only=*/true).ok());
    EXPECT_EQ((*log->GetTopic("cfg"))->settings().retention_bytes, -1);
    EXPECT_EQ(p->limits().retention_bytes, -1);

    // Applied to the live partition: retention deletes by the new size at once,
    // appends roll by the new segment size.
    ASSERT_TRUE(log->SetTopicSettings("cfg", shrink).ok());
    auto after = *log->GetTopic("cfg");
    EXPECT_EQ(after->settings().retention_bytes, 4096);
    EXPECT_EQ(after->effective().segment_bytes, 1 << 20);
    EXPECT_EQ(after->partition(0), p);                  // the same partition: readers keep reading
    EXPECT_EQ(before->settings().retention_bytes, -1);  // an old view is unchanged
    EXPECT_GT(p->log_start_offset(), 0);  // retention ran before SetTopicSettings returned
    EXPECT_LE(p->segment_count(), 2u);
    EXPECT_EQ(log->RunRetention(), 0);
    const size_t kept = p->segment_count();
    append(p, 20);
    EXPECT_LE(p->segment_count(), kept + 1);
    EXPECT_EQ(p->high_watermark(), 40);
  }
  auto log = OpenOrDie();
  auto t = *log->GetTopic("cfg");
  EXPECT_EQ(t->settings().retention_bytes, 4096);
  EXPECT_EQ(t->settings().segment_bytes, 1 << 20);
  EXPECT_EQ(t->settings().retention_ms, -1);
  EXPECT_EQ(t->partition(0)->limits().retention_bytes, 4096);
  EXPECT_EQ(t->partition(0)->high_watermark(), 40);
  EXPECT_FALSE(fs::exists(dir_ / "topics" / "cfg" / "topic.json.tmp"));
}

// For the tsan preset: settings changing under appenders and retention.
TEST_F(LogTest, SetTopicSettingsWhileAppendingAndRetaining) {
  options_.retention_check_ms = 3'600'000;  // retention runs on the test's own thread
  auto log = OpenOrDie();
  TopicSettings s;
  s.partitions = 2;
  s.segment_bytes = 4096;
  s.retention_ms = -1;
  s.retention_bytes = -1;
  ASSERT_TRUE(log->CreateTopic("busy", s).ok());
  auto topic = *log->GetTopic("busy");
  constexpr int kPerWriter = 300;
  std::atomic<int> errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      std::string value(200, static_cast<char>('a' + w));
      RecordView v;
      v.value = value;
      for (int i = 0; i < kPerWriter; ++i) {
        if (!topic->partition(w)->AppendAndWait(std::span(&v, 1)).ok()) ++errors;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    TopicSettings next = s;
    next.segment_bytes = i % 2 == 0 ? 8192 : 4096;
    next.retention_bytes = i % 2 == 0 ? 16384 : -1;
    ASSERT_TRUE(log->SetTopicSettings("busy", next).ok());
    log->RunRetention();
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(errors.load(), 0);
  for (int p = 0; p < 2; ++p) EXPECT_EQ(topic->partition(p)->high_watermark(), kPerWriter);
}

TEST_F(LogTest, SecondOpenOfSameDirectoryIsRefused) {
  auto log = OpenOrDie();
  auto second = Log::Open(options_);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

TEST_F(LogTest, DeleteTopicRemovesFilesAndOffsets) {
  auto log = OpenOrDie();
  ASSERT_TRUE(log->CreateTopic("gone", TopicSettings{}).ok());
  ASSERT_TRUE(log->offsets().Commit("g", {{"gone", 0, 5}}).ok());
  const uint64_t v = log->topics_version();
  ASSERT_TRUE(log->DeleteTopic("gone").ok());
  EXPECT_NE(log->topics_version(), v);
  EXPECT_FALSE(fs::exists(dir_ / "topics" / "gone"));
  EXPECT_FALSE(log->offsets().Get("g", "gone", 0).has_value());
  EXPECT_EQ(log->DeleteTopic("gone").code(), StatusCode::kNotFound);
  ASSERT_TRUE(log->CreateTopic("gone", TopicSettings{}).ok());
  EXPECT_EQ((*log->GetTopic("gone"))->partition(0)->high_watermark(), 0);
}

TEST_F(LogTest, GroupCommitAcksAfterFsync) {
  auto log = OpenOrDie();
  ASSERT_TRUE(log->CreateTopic("t", TopicSettings{}).ok());
  auto* p = (*log->GetTopic("t"))->partition(0);
  std::string value = "x";
  std::vector<RecordView> recs(1);
  recs[0].value = value;
  for (int i = 0; i < 20; ++i) {
    auto info = p->AppendAndWait(recs);
    ASSERT_TRUE(info.ok());
    EXPECT_GE(p->high_watermark(), info->next_offset);
    EXPECT_FALSE(p->Dirty() && p->high_watermark() < info->next_offset);
  }
}

// Everything at once, for the tsan preset: producers (blocking and
// OnDurable) on several partitions under group commit, long-polling
// consumers, timestamp lookups, segment rolls with their index files being
// written while readers read, and retention deleting segments (and their
// index files) under a reader. Then a reopen from the index files.
TEST_F(LogTest, ProducersConsumersRollsAndRetentionAtOnce) {
  options_.fsync = *FsyncPolicy::Parse("interval:1");
  options_.segment_bytes = 4096;
  options_.index_interval_bytes = 256;
  options_.retention_check_ms = 3'600'000;  // retention runs on the test's own thread
  auto log = OpenOrDie();
  TopicSettings a;
  a.partitions = 3;
  a.retention_ms = -1;
  a.retention_bytes = -1;
  ASSERT_TRUE(log->CreateTopic("a", a).ok());
  TopicSettings b;
  b.fsync = "always";
  b.retention_ms = -1;
  b.retention_bytes = 8192;
  ASSERT_TRUE(log->CreateTopic("b", b).ok());
  auto ta = *log->GetTopic("a");
  auto tb = *log->GetTopic("b");
  constexpr int kProducers = 6;
  constexpr int kPerProducer = 200;
  constexpr int kB = 600;
  std::atomic<int> errors{0};
  std::atomic<int> callbacks{0};
  std::atomic<bool> producing{true};
  auto value = [](int producer, int i) {
    return "p" + std::to_string(producer) + "-" + std::to_string(i) + std::string(40, 'x');
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kProducers; ++t) {
    threads.emplace_back([&, t] {
      Partition* p = ta->partition(t % 3);
      for (int i = 0; i < kPerProducer; ++i) {
        const std::string v = value(t, i);
        RecordView r;
        r.value = v;
        r.timestamp_ms = 1000 + i;
        if (i % 2 == 0) {
          if (!p->AppendAndWait(std::span<const RecordView>(&r, 1)).ok()) ++errors;
        } else {
          auto info = p->Append(std::span<const RecordView>(&r, 1));
          if (!info.ok()) {
            ++errors;
            continue;
          }
          const int64_t end = info->next_offset;
          p->OnDurable(end, [&, p, end](Status s) {
            if (!s.ok() || p->high_watermark() < end) ++errors;
            ++callbacks;
          });
        }
      }
    });
  }
  threads.emplace_back([&] {  // topic b: one producer, values name their offset
    Partition* p = tb->partition(0);
    for (int i = 0; i < kB; ++i) {
      const std::string v = "b-" + std::to_string(i) + std::string(60, 'y');
      RecordView r;
      r.value = v;
      if (!p->AppendAndWait(std::span<const RecordView>(&r, 1)).ok()) ++errors;
    }
  });
  std::atomic<int64_t> consumed{0};
  for (int part = 0; part < 3; ++part) {
    threads.emplace_back([&, part] {
      Partition* p = ta->partition(part);
      const int expected = kPerProducer * (kProducers / 3);
      std::map<int, int> next;  // producer -> next sequence number
      int64_t offset = 0;
      int seen = 0;
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (seen < expected && std::chrono::steady_clock::now() < give_up) {
        const uint64_t seq = log->notifier().sequence();
        auto recs = p->Read(offset, 50, 4096);
        if (!recs.ok()) {
          ++errors;
          break;
        }
        if (recs->empty()) {
          log->notifier().WaitChange(
              seq, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
          continue;
        }
        for (const auto& r : *recs) {
          if (r.offset != offset) ++errors;
          const std::string& v = r.value.value_or("");
          const int producer = std::stoi(v.substr(1));
          const int i = std::stoi(v.substr(v.find('-') + 1));
          if (producer % 3 != part || i != next[producer] || v != value(producer, i)) ++errors;
          next[producer] = i + 1;
          ++offset;
          ++seen;
        }
      }
      consumed += seen;
    });
  }
  threads.emplace_back([&] {  // lookups by timestamp and random reads on a
    while (producing.load()) {
      for (int part = 0; part < 3; ++part) {
        Partition* p = ta->partition(part);
        auto o = p->OffsetForTimestamp(1000 + kPerProducer / 2);
        if (!o.ok()) ++errors;
        const int64_t hw = p->high_watermark();
        if (hw > 0) {
          auto r = p->Read(hw / 2, 1, 1);
          if (!r.ok() || r->empty() || r->front().offset != hw / 2) ++errors;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  threads.emplace_back([&] {  // retention and a reader of b racing it
    Partition* p = tb->partition(0);
    while (producing.load()) {
      log->RunRetention();
      const int64_t start = p->log_start_offset();
      auto recs = p->Read(start, 20, 1 << 20);
      if (recs.ok()) {
        for (const auto& r : *recs) {
          if (r.value.value_or("").rfind("b-" + std::to_string(r.offset) + "y", 0) != 0) ++errors;
        }
      } else if (recs.status().code() != StatusCode::kOutOfRange) {
        ++errors;  // deleted under the reader: OutOfRange, never anything else
      }
    }
  });
  const size_t background = 2;
  for (size_t i = 0; i + background < threads.size(); ++i) threads[i].join();
  producing = false;
  for (size_t i = threads.size() - background; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(consumed.load(), kProducers * kPerProducer);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (callbacks.load() < kProducers * kPerProducer / 2 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(callbacks.load(), kProducers * kPerProducer / 2);
  log->RunRetention();
  EXPECT_GT(tb->partition(0)->log_start_offset(), 0);
  std::vector<int64_t> hws;
  for (int part = 0; part < 3; ++part) hws.push_back(ta->partition(part)->high_watermark());
  ta.reset();
  tb.reset();
  log.reset();

  // Reopen: every segment comes from its index files (the active ones were
  // written at close), nothing is scanned, and retention left no index file
  // without its segment.
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "topics")) {
    const fs::path& f = e.path();
    if (f.extension() == ".index" || f.extension() == ".timeindex") {
      fs::path seg = f;
      seg.replace_extension(".log");
      EXPECT_TRUE(fs::exists(seg)) << f;
    }
  }
  log = OpenOrDie();
  ta = *log->GetTopic("a");
  int64_t total = 0;
  for (int part = 0; part < 3; ++part) {
    Partition* p = ta->partition(part);
    const auto& rec = p->recovery();
    EXPECT_TRUE(rec.clean());
    EXPECT_TRUE(rec.index_rebuilds.empty()) << rec.index_rebuilds.front();
    EXPECT_EQ(rec.segments_from_index, static_cast<int64_t>(p->segment_count()));
    EXPECT_EQ(rec.scanned_bytes, 0);
    EXPECT_GT(rec.segments_from_index, 3);
    EXPECT_EQ(p->high_watermark(), hws[part]);
    total += p->high_watermark();
  }
  EXPECT_EQ(total, kProducers * kPerProducer);
}

class OffsetStoreTest : public LogTest {};

TEST_F(OffsetStoreTest, CommitsSurviveReopenAndTornTail) {
  fs::create_directories(dir_);
  const auto file = dir_ / "offsets";
  {
    auto store = OffsetStore::Open(file);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Commit("g1", {{"a", 0, 10}, {"a", 1, 20}, {"b", 0, 5}}).ok());
    ASSERT_TRUE((*store)->Commit("g1", {{"a", 0, 11}}).ok());
    ASSERT_TRUE((*store)->Commit("g2", {{"a", 0, 1}}).ok());
    EXPECT_EQ((*store)->Commit("", {{"a", 0, 1}}).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*store)->Commit("g", {{"a", 0, -5}}).code(), StatusCode::kInvalidArgument);
  }
  {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    out << "\x20\x00\x00\x00garbage";  // a torn entry
  }
  auto store = OffsetStore::Open(file);
  ASSERT_TRUE(store.ok());
  EXPECT_GT((*store)->truncated_bytes(), 0);
  EXPECT_EQ((*store)->Get("g1", "a", 0), 11);
  EXPECT_EQ((*store)->Get("g1", "a", 1), 20);
  EXPECT_EQ((*store)->Get("g2", "a", 0), 1);
  EXPECT_FALSE((*store)->Get("g2", "b", 0).has_value());
  auto all = (*store)->Get("g1", "");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].topic, "b");
  EXPECT_EQ((*store)->Get("g1", "a").size(), 2u);
  EXPECT_EQ((*store)->Groups(), (std::vector<std::string>{"g1", "g2"}));
  ASSERT_TRUE((*store)->RemoveTopic("a").ok());
  EXPECT_EQ((*store)->Groups(), (std::vector<std::string>{"g1"}));  // g2 had only topic a
}

TEST_F(OffsetStoreTest, CompactsWithoutLosingOffsets) {
  fs::create_directories(dir_);
  const auto file = dir_ / "offsets";
  {
    auto store = std::move(*OffsetStore::Open(file));
    for (int c = 0; c < 40; ++c) {
      std::vector<OffsetEntry> entries;
      for (int i = c * 1000; i < (c + 1) * 1000; ++i) entries.push_back({"topic", i % 4, i});
      ASSERT_TRUE(store->Commit("group", entries).ok());
    }
    EXPECT_LT(fs::file_size(file), 1u << 21);
  }
  auto store = std::move(*OffsetStore::Open(file));
  for (int p = 0; p < 4; ++p) EXPECT_EQ(store->Get("group", "topic", p), 39996 + p);
}

}  // namespace
}  // namespace pinpipe::log
