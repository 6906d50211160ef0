#include "pinpipe/log/partition.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "pinpipe/log/segment.h"

namespace pinpipe::log {
namespace {

namespace fs = std::filesystem;

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pinpipe-partition-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.fsync.mode = FsyncMode::kNever;
    options_.index_interval_bytes = 256;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<Partition> OpenOrDie() {
    auto p = Partition::Open(dir_, 0, options_, &clock_, notifier_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : nullptr;
  }

  static std::vector<RecordView> Values(int from, int count, int64_t ts = 1000) {
    static std::deque<std::string> storage;  // views stay valid as it grows
    std::vector<RecordView> out;
    for (int i = from; i < from + count; ++i) {
      storage.push_back("value-" + std::to_string(i));
      RecordView v;
      v.value = storage.back();
      v.timestamp_ms = ts + i;
      out.push_back(v);
    }
    return out;
  }

  static void ExpectValues(const std::vector<LogRecord>& recs, int64_t first) {
    for (size_t i = 0; i < recs.size(); ++i) {
      EXPECT_EQ(recs[i].offset, first + static_cast<int64_t>(i));
      EXPECT_EQ(recs[i].value, "value-" + std::to_string(first + static_cast<int64_t>(i)));
    }
  }

  fs::path dir_;
  PartitionOptions options_;
  ManualClock clock_;
  DataNotifier notifier_;
};

TEST_F(PartitionTest, OffsetsAreDenseAndReadBackAfterReopen) {
  {
    auto p = OpenOrDie();
    for (int i = 0; i < 10; ++i) {
      auto info = p->AppendAndWait(Values(i * 10, 10));
      ASSERT_TRUE(info.ok());
      EXPECT_EQ(info->base_offset, i * 10);
    }
    EXPECT_EQ(p->high_watermark(), 100);
  }
  auto p = OpenOrDie();
  EXPECT_TRUE(p->recovery().clean());
  EXPECT_EQ(p->high_watermark(), 100);
  auto recs = p->Read(37, 1000, 1 << 20);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 63u);
  ExpectValues(*recs, 37);
  EXPECT_EQ(p->Read(101, 1, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(p->Read(100, 10, 100)->empty());
}

TEST_F(PartitionTest, RollsWhenSizeLimitReachedAndReadsAcrossSegments) {
  options_.segment_bytes = 1000;
  auto p = OpenOrDie();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(p->AppendAndWait(Values(i * 4, 4)).ok());
  EXPECT_GT(p->segment_count(), 5u);
  auto recs = p->Read(0, 1000, 1 << 20);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 200u);
  ExpectValues(*recs, 0);
  // max_bytes bounds a read but at least one batch comes back.
  auto small = p->Read(5, 1000, 1);
  ASSERT_TRUE(small.ok());
  EXPECT_GE(small->size(), 1u);
  EXPECT_LE(small->size(), 4u);
  EXPECT_EQ(small->front().offset, 5);
}

TEST_F(PartitionTest, ReadIntoGivesViewsOfTheSameRecordsReadAfterReadIntoOneBuffer) {
  options_.segment_bytes = 2000;
  auto p = OpenOrDie();
  for (int i = 0; i < 40; ++i) {
    auto batch = Values(i * 5, 5);
    batch[1].key = "k";
    batch[2].value.reset();
    batch[3].headers = {{"h", "v"}, {"", ""}};
    ASSERT_TRUE(p->AppendAndWait(batch).ok());
  }
  ASSERT_GT(p->segment_count(), 3u);
  ReadBuffer buffer;
  // Several starts (mid-batch, across segments) and record limits: the views
  // equal what Read copies, read after read into the same buffer.
  for (int64_t from : {0, 3, 77, 151, 199}) {
    for (size_t max : {1u, 7u, 1000u}) {
      auto copied = p->Read(from, max, 1 << 20);
      ASSERT_TRUE(copied.ok());
      ASSERT_TRUE(p->ReadInto(from, max, 1 << 20, &buffer).ok());
      const auto& refs = buffer.records();
      ASSERT_EQ(refs.size(), copied->size()) << from << " " << max;
      ASSERT_EQ(refs.size(), std::min<size_t>(max, static_cast<size_t>(200 - from)));
      for (size_t i = 0; i < refs.size(); ++i) {
        const LogRecord& want = (*copied)[i];
        const LogRecord got = ToLogRecord(refs[i]);
        EXPECT_EQ(got.offset, from + static_cast<int64_t>(i));
        EXPECT_EQ(got.offset, want.offset);
        EXPECT_EQ(got.timestamp_ms, want.timestamp_ms);
        EXPECT_EQ(got.key, want.key);
        EXPECT_EQ(got.value, want.value);
        EXPECT_EQ(got.headers, want.headers);
      }
    }
  }
  // A read past the end leaves the buffer empty; a bad offset is OutOfRange.
  ASSERT_TRUE(p->ReadInto(200, 10, 1 << 20, &buffer).ok());
  EXPECT_TRUE(buffer.records().empty());
  EXPECT_EQ(p->ReadInto(201, 10, 1 << 20, &buffer).code(), StatusCode::kOutOfRange);
}

TEST_F(PartitionTest, RollsWhenSegmentAgeReached) {
  options_.segment_ms = 1000;
  auto p = OpenOrDie();
  ASSERT_TRUE(p->AppendAndWait(Values(0, 1)).ok());
  ASSERT_TRUE(p->AppendAndWait(Values(1, 1)).ok());
  EXPECT_EQ(p->segment_count(), 1u);
  clock_.AdvanceMicros(2'000'000);
  ASSERT_TRUE(p->AppendAndWait(Values(2, 1)).ok());
  EXPECT_EQ(p->segment_count(), 2u);
}

TEST_F(PartitionTest, SparseIndexHasFewerEntriesThanBatches) {
  auto p = OpenOrDie();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(p->AppendAndWait(Values(i, 1)).ok());
  auto segs = fs::directory_iterator(dir_);
  SegmentScan scan;
  auto seg = Segment::Open(dir_ / Segment::FileName(0), 0, false, 256, &scan);
  ASSERT_TRUE(seg.ok());
  EXPECT_GT(seg->get()->IndexEntries(), 5u);
  EXPECT_LT(seg->get()->IndexEntries(), 100u);
  for (int64_t o : {0, 1, 57, 133, 199}) {
    auto r = p->Read(o, 1, 1);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(r->front().offset, o);
  }
}

TEST_F(PartitionTest, OffsetForTimestampFindsFirstAtOrAfter) {
  options_.segment_bytes = 600;
  auto p = OpenOrDie();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p->AppendAndWait(Values(i, 1, 1000 + i)).ok());
  // Value i has timestamp 1000 + 2i.
  EXPECT_EQ(*p->OffsetForTimestamp(0), 0);
  EXPECT_EQ(*p->OffsetForTimestamp(1000), 0);
  EXPECT_EQ(*p->OffsetForTimestamp(1001), 1);
  EXPECT_EQ(*p->OffsetForTimestamp(1100), 50);
  EXPECT_EQ(*p->OffsetForTimestamp(1198), 99);
  EXPECT_EQ(*p->OffsetForTimestamp(1199), 100);  // none: the high watermark
}

TEST_F(PartitionTest, TruncatesTornTailAndAcceptsNewAppends) {
  {
    auto p = OpenOrDie();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->AppendAndWait(Values(i * 2, 2)).ok());
  }
  const auto seg = dir_ / Segment::FileName(0);
  const auto full = fs::file_size(seg);
  fs::resize_file(seg, full - 7);  // a torn last batch
  {
    auto p = OpenOrDie();
    EXPECT_GT(p->recovery().truncated_bytes, 0);
    EXPECT_TRUE(p->recovery().losses.empty());
    EXPECT_EQ(p->high_watermark(), 8);
    ASSERT_TRUE(p->AppendAndWait(Values(8, 2)).ok());
  }
  auto p = OpenOrDie();
  EXPECT_TRUE(p->recovery().clean());
  auto recs = p->Read(0, 100, 1 << 20);
  ASSERT_EQ(recs->size(), 10u);
  ExpectValues(*recs, 0);
}

TEST_F(PartitionTest, MidLogCorruptionIsDataLossAndPrefixStaysReadable) {
  options_.segment_bytes = 500;
  {
    auto p = OpenOrDie();
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(p->AppendAndWait(Values(i, 1)).ok());
    ASSERT_GT(p->segment_count(), 3u);
  }
  // Flip a byte inside the third batch of the first segment.
  const auto seg = dir_ / Segment::FileName(0);
  std::string data;
  {
    std::ifstream in(seg, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto h = DecodeBatchHeader(data);
  const size_t batch = h->TotalSize();
  data[2 * batch + kBatchHeaderSize + 5] ^= 0x01;
  {
    std::ofstream out(seg, std::ios::binary | std::ios::trunc);
    out << data;
  }
  // Without index files the segment is scanned, which finds the loss at open
  // (segment_index_test covers the damage behind valid index files).
  fs::remove(dir_ / Segment::IndexFileName(0));
  auto p = OpenOrDie();
  ASSERT_EQ(p->recovery().losses.size(), 1u);
  EXPECT_EQ(p->high_watermark(), 40);
  auto before = p->Read(0, 100, 1 << 20);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 2u);  // stops at the corruption
  ExpectValues(*before, 0);
  EXPECT_EQ(p->Read(2, 100, 1 << 20).status().code(), StatusCode::kDataLoss);
  auto after = p->Read(3, 100, 1 << 20);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), 37u);
  ExpectValues(*after, 3);
  ASSERT_TRUE(p->AppendAndWait(Values(40, 1)).ok());
}

TEST_F(PartitionTest, RetentionDeletesWholeOldSegments) {
  options_.segment_bytes = 500;
  options_.retention_bytes = 1200;
  options_.retention_ms = -1;
  auto p = OpenOrDie();
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(p->AppendAndWait(Values(i, 1)).ok());
  const size_t before = p->segment_count();
  auto deleted = p->ApplyRetention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0);
  EXPECT_EQ(p->segment_count(), before - static_cast<size_t>(*deleted));
  EXPECT_LE(p->size_bytes(), 1200 + 500);
  EXPECT_GT(p->log_start_offset(), 0);
  EXPECT_EQ(p->Read(0, 1, 100).status().code(), StatusCode::kOutOfRange);
  auto recs = p->Read(p->log_start_offset(), 1000, 1 << 20);
  ASSERT_TRUE(recs.ok());
  ExpectValues(*recs, p->log_start_offset());
  EXPECT_EQ(recs->back().offset, 59);
}

TEST_F(PartitionTest, RetentionByTimeKeepsActiveSegment) {
  options_.segment_bytes = 500;
  options_.retention_ms = 60'000;
  auto p = OpenOrDie();
  const int64_t now = clock_.NowMillis();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(p->AppendAndWait(Values(i, 1, now - 120'000)).ok());
  ASSERT_TRUE(p->AppendAndWait(Values(30, 1, now)).ok());
  ASSERT_TRUE(p->ApplyRetention().ok());
  EXPECT_EQ(p->segment_count(), 1u);
  EXPECT_EQ(p->high_watermark(), 31);
}

TEST_F(PartitionTest, AlwaysAndIntervalPoliciesAckOnlyDurableData) {
  options_.fsync = *FsyncPolicy::Parse("always");
  auto p = OpenOrDie();
  auto info = p->Append(Values(0, 3));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(p->high_watermark(), 0);  // written, not yet durable: invisible
  ASSERT_TRUE(p->WaitDurable(info->next_offset).ok());
  EXPECT_EQ(p->high_watermark(), 3);
}

// A roll under interval|always does no fsync on the appender's thread: the
// rolled segments wait for the next Sync, which covers them (and the folder)
// before the durable end moves, and then writes their index files.
TEST_F(PartitionTest, RollsLeaveTheirSyncAndIndexFilesToTheNextSync) {
  for (const char* policy : {"interval:5", "always"}) {
    SCOPED_TRACE(policy);
    fs::remove_all(dir_);
    options_.fsync = *FsyncPolicy::Parse(policy);
    options_.segment_bytes = 1000;
    auto p = OpenOrDie();
    int64_t end = 0;
    for (int i = 0; i < 30; ++i) {
      auto info = p->Append(Values(i * 4, 4));
      ASSERT_TRUE(info.ok());
      end = info->next_offset;
    }
    ASSERT_GT(p->segment_count(), 3u);
    // Nothing is durable (visible) yet, rolls included, and no rolled segment
    // has index files.
    EXPECT_EQ(p->high_watermark(), 0);
    EXPECT_TRUE(p->Dirty());
    auto index_files = [&] {
      int n = 0;
      for (const auto& e : fs::directory_iterator(dir_)) {
        n += e.path().extension() == ".index" ? 1 : 0;
      }
      return n;
    };
    EXPECT_EQ(index_files(), 0);
    int answered = 0;
    p->OnDurable(end, [&](Status s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++answered;
    });
    EXPECT_EQ(answered, 0);
    ASSERT_TRUE(p->Sync().ok());
    EXPECT_EQ(answered, 1);
    EXPECT_EQ(p->high_watermark(), end);
    EXPECT_FALSE(p->Dirty());
    EXPECT_EQ(index_files(), static_cast<int>(p->segment_count()) - 1);
    auto recs = p->Read(0, 1000, 1 << 20);
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), static_cast<size_t>(end));
    ExpectValues(*recs, 0);
    ASSERT_TRUE(p->Close().ok());
    p.reset();
    // The next open uses those index files.
    auto q = OpenOrDie();
    EXPECT_TRUE(q->recovery().clean());
    EXPECT_TRUE(q->recovery().index_rebuilds.empty());
    EXPECT_EQ(q->recovery().segments_from_index, static_cast<int64_t>(q->segment_count()) - 1);
    EXPECT_EQ(q->high_watermark(), end);
  }
}

TEST(FsyncPolicyTest, ParsesAndRejects) {
  EXPECT_EQ(FsyncPolicy::Parse("interval:20")->interval_ms, 20);
  EXPECT_EQ(FsyncPolicy::Parse("always")->mode, FsyncMode::kAlways);
  EXPECT_EQ(FsyncPolicy::Parse("interval:5")->ToString(), "interval:5");
  for (const char* bad : {"", "sometimes", "interval:", "interval:0", "interval:-1",
                          "interval:99999999", "interval:5ms"}) {
    EXPECT_EQ(FsyncPolicy::Parse(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace pinpipe::log
