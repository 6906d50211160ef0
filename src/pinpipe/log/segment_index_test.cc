// Index files of closed segments: written when a segment is rolled, used by
// open instead of a scan, rebuilt (and rewritten) when missing, damaged or
// inconsistent, deleted with their segment.
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "pinpipe/log/partition.h"
#include "pinpipe/log/segment.h"

namespace pinpipe::log {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void Spit(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// What a partition answers: every record by offset, and OffsetForTimestamp
// over a grid of timestamps.
struct Answers {
  std::vector<std::string> by_offset;  // "offset/timestamp/value" or the error
  std::vector<int64_t> by_timestamp;
  bool operator==(const Answers&) const = default;
};

class SegmentIndexTest : public ::testing::Test {
 protected:
  static constexpr int kRecords = 600;

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pinpipe-segidx-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.fsync.mode = FsyncMode::kNever;
    options_.index_interval_bytes = 200;
    options_.segment_bytes = 4000;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<Partition> OpenOrDie() {
    auto p = Partition::Open(dir_, 0, options_, &clock_, notifier_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : nullptr;
  }

  // Timestamps that go mostly up with jitter, so the time index's running
  // maximum matters.
  static int64_t Ts(int i) { return 10'000 + 3 * i + (i * 7919) % 40; }

  // Writes kRecords in batches of 1..3 records; returns the answers seen
  // before the partition is closed.
  Answers Fill() {
    auto p = OpenOrDie();
    std::deque<std::string> storage;
    int i = 0;
    while (i < kRecords) {
      const int n = std::min(1 + i % 3, kRecords - i);
      std::vector<RecordView> views;
      for (int k = i; k < i + n; ++k) {
        storage.push_back("value-" + std::to_string(k));
        RecordView v;
        v.value = storage.back();
        v.timestamp_ms = Ts(k);
        views.push_back(v);
      }
      EXPECT_TRUE(p->AppendAndWait(views).ok());
      i += n;
    }
    EXPECT_GT(p->segment_count(), 8u);
    return Collect(*p);
  }

  static Answers Collect(Partition& p) {
    Answers a;
    for (int64_t o = 0; o < p.high_watermark(); ++o) {
      auto r = p.Read(o, 1, 1);
      if (!r.ok()) {
        a.by_offset.push_back(std::to_string(o) + ": " +
                              std::string(StatusCodeName(r.status().code())));
      } else if (r->empty()) {
        a.by_offset.push_back(std::to_string(o) + ": empty");
      } else {
        const LogRecord& rec = r->front();
        a.by_offset.push_back(std::to_string(rec.offset) + "/" + std::to_string(rec.timestamp_ms) +
                              "/" + rec.value.value_or("null"));
      }
    }
    for (int64_t ts = Ts(0) - 5; ts <= Ts(kRecords - 1) + 5; ts += 7) {
      auto o = p.OffsetForTimestamp(ts);
      a.by_timestamp.push_back(o.ok() ? *o : -1000 - static_cast<int>(o.status().code()));
    }
    return a;
  }

  std::vector<int64_t> Bases() const {
    std::vector<int64_t> bases;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (auto b = Segment::ParseFileName(e.path().filename().string())) bases.push_back(*b);
    }
    std::sort(bases.begin(), bases.end());
    return bases;
  }

  fs::path dir_;
  PartitionOptions options_;
  ManualClock clock_;
  DataNotifier notifier_;
};

TEST_F(SegmentIndexTest, ClosedSegmentsOpenFromTheirIndexFilesWithoutAScan) {
  const Answers before = Fill();
  const auto bases = Bases();
  // Every closed segment has both files; the active one has none.
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool closed = i + 1 < bases.size();
    EXPECT_EQ(fs::exists(dir_ / Segment::IndexFileName(bases[i])), closed) << bases[i];
    EXPECT_EQ(fs::exists(dir_ / Segment::TimeIndexFileName(bases[i])), closed) << bases[i];
  }
  auto p = OpenOrDie();
  const auto& rec = p->recovery();
  EXPECT_TRUE(rec.clean());
  EXPECT_TRUE(rec.index_rebuilds.empty());
  EXPECT_EQ(rec.segments_from_index, static_cast<int64_t>(bases.size()) - 1);
  EXPECT_EQ(rec.segments_scanned, 1);
  // Only the active segment was read batch by batch.
  EXPECT_EQ(rec.scanned_bytes,
            static_cast<int64_t>(fs::file_size(dir_ / Segment::FileName(bases.back()))));
  EXPECT_EQ(Collect(*p), before);

  // The same answers from indexes rebuilt by scanning (no index files).
  p.reset();
  for (int64_t b : bases) {
    fs::remove(dir_ / Segment::IndexFileName(b));
    fs::remove(dir_ / Segment::TimeIndexFileName(b));
  }
  p = OpenOrDie();
  EXPECT_EQ(p->recovery().segments_from_index, 0);
  EXPECT_EQ(p->recovery().index_rebuilds.size(), bases.size() - 1);
  EXPECT_EQ(Collect(*p), before);
  // ...and they were rewritten: the next open uses them again.
  p.reset();
  p = OpenOrDie();
  EXPECT_EQ(p->recovery().segments_from_index, static_cast<int64_t>(bases.size()) - 1);
  EXPECT_TRUE(p->recovery().index_rebuilds.empty());
  // New appends after an open from index files roll and index as before.
  std::string v = "value-new";
  std::vector<RecordView> one(1);
  one[0].value = v;
  one[0].timestamp_ms = Ts(kRecords);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p->AppendAndWait(one).ok());
  EXPECT_GT(p->segment_count(), bases.size());
  EXPECT_TRUE(fs::exists(dir_ / Segment::IndexFileName(bases.back())));
  auto r = p->Read(kRecords + 99, 1, 1);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().value, "value-new");
}

TEST_F(SegmentIndexTest, DamagedMissingOrInconsistentIndexFilesAreRebuilt) {
  const Answers before = Fill();
  const auto bases = Bases();
  ASSERT_GE(bases.size(), 4u);
  const fs::path index = dir_ / Segment::IndexFileName(bases[1]);
  const fs::path time_index = dir_ / Segment::TimeIndexFileName(bases[2]);
  const std::string good_index = Slurp(index);
  const std::string good_time = Slurp(time_index);
  struct Damage {
    std::string name;
    std::function<void()> apply;
    std::string reason;  // expected in the rebuild report
  };
  std::vector<Damage> damages = {
      {"index missing", [&] { fs::remove(index); }, "missing"},
      {"time index missing", [&] { fs::remove(time_index); }, "missing"},
      {"index truncated", [&] { Spit(index, good_index.substr(0, good_index.size() - 5)); },
       "bad CRC"},
      {"index cut to half a header", [&] { Spit(index, good_index.substr(0, 30)); }, "truncated"},
      {"index empty", [&] { Spit(index, ""); }, "truncated"},
      {"time index byte flipped",
       [&] {
         std::string d = good_time;
         d[d.size() / 2] ^= 0x10;
         Spit(time_index, d);
       },
       "bad CRC"},
      {"index of another segment",
       [&] {
         fs::copy_file(dir_ / Segment::IndexFileName(bases[0]), index,
                       fs::copy_options::overwrite_existing);
       },
       "base offset"},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    d.apply();
    {
      auto p = OpenOrDie();
      const auto& rec = p->recovery();
      EXPECT_TRUE(rec.clean());
      ASSERT_EQ(rec.index_rebuilds.size(), 1u);
      EXPECT_NE(rec.index_rebuilds[0].find(d.reason), std::string::npos) << rec.index_rebuilds[0];
      EXPECT_EQ(rec.segments_from_index, static_cast<int64_t>(bases.size()) - 2);
      EXPECT_EQ(Collect(*p), before);
    }
    // Rewritten, byte for byte as written at the roll.
    EXPECT_EQ(Slurp(index), good_index);
    EXPECT_EQ(Slurp(time_index), good_time);
    auto p = OpenOrDie();
    EXPECT_TRUE(p->recovery().index_rebuilds.empty());
  }
}

TEST_F(SegmentIndexTest, IndexFilesThatDoNotMatchTheSegmentAreNotTrusted) {
  const Answers before = Fill();
  const auto bases = Bases();
  const fs::path seg = dir_ / Segment::FileName(bases[1]);
  const std::string data = Slurp(seg);
  {
    // Same size, but the last batch's base offset is wrong (the field is not
    // under the batch CRC): the check of the batches after the last index
    // entry finds it, so the segment is scanned and the loss reported.
    std::string bad = data;
    size_t pos = 0;
    size_t last = 0;
    while (pos < bad.size()) {
      last = pos;
      pos += DecodeBatchHeader(std::string_view(bad).substr(pos))->TotalSize();
    }
    bad[last] ^= 0x01;
    Spit(seg, bad);
    auto p = OpenOrDie();
    ASSERT_EQ(p->recovery().index_rebuilds.size(), 1u);
    EXPECT_NE(p->recovery().index_rebuilds[0].find("do not match"), std::string::npos);
    EXPECT_FALSE(p->recovery().losses.empty());
    // A segment with lost data keeps no index files, so every open reports it.
    EXPECT_FALSE(fs::exists(dir_ / Segment::IndexFileName(bases[1])));
    EXPECT_EQ(p->Read(bases[2] - 1, 1, 1).status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(p->Read(bases[2], 1, 1)->front().offset, bases[2]);
  }
  {
    auto p = OpenOrDie();
    EXPECT_FALSE(p->recovery().losses.empty());
    EXPECT_EQ(p->recovery().index_rebuilds.size(), 1u);
  }
  // Restored data: indexed again, and the same answers as before.
  Spit(seg, data);
  {
    auto p = OpenOrDie();
    EXPECT_TRUE(p->recovery().clean());
    EXPECT_EQ(Collect(*p), before);
  }
  // A segment that grew (garbage appended) does not match its index's size.
  Spit(seg, data + std::string(100, 'x'));
  auto p = OpenOrDie();
  ASSERT_EQ(p->recovery().index_rebuilds.size(), 1u);
  EXPECT_NE(p->recovery().index_rebuilds[0].find("segment size"), std::string::npos);
  EXPECT_EQ(p->recovery().losses.size(), 1u);
  EXPECT_EQ(Collect(*p), before);
}

TEST_F(SegmentIndexTest, MidSegmentCorruptionBehindValidIndexFilesIsDataLossOnRead) {
  const Answers before = Fill();
  const auto bases = Bases();
  // Flip a record byte of the second batch of the first segment: the index
  // files still match (size, tail), so open trusts them; the read verifies
  // the batch CRC and reports the loss, and the records around it stay
  // readable.
  const fs::path seg = dir_ / Segment::FileName(0);
  std::string data = Slurp(seg);
  const size_t first = DecodeBatchHeader(data)->TotalSize();
  auto second = DecodeBatchHeader(std::string_view(data).substr(first));
  data[first + kBatchHeaderSize + 5] ^= 0x01;
  Spit(seg, data);
  auto p = OpenOrDie();
  EXPECT_EQ(p->recovery().segments_from_index, static_cast<int64_t>(bases.size()) - 1);
  EXPECT_EQ(p->Read(second->base_offset, 1, 1).status().code(), StatusCode::kDataLoss);
  auto head = p->Read(0, 100, 1 << 20);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size(), static_cast<size_t>(second->base_offset));
  const Answers after = Collect(*p);
  for (int64_t o = 0; o < kRecords; ++o) {
    if (o >= second->base_offset && o < second->NextOffset()) {
      EXPECT_EQ(after.by_offset[o], std::to_string(o) + ": DataLoss");
    } else {
      EXPECT_EQ(after.by_offset[o], before.by_offset[o]);
    }
  }
}

TEST_F(SegmentIndexTest, ActiveSegmentScanResumesAfterItsIndexedPrefix) {
  options_.segment_bytes = 1 << 20;  // one segment
  std::deque<std::string> storage;
  auto append = [&](Partition& p, int from, int n) {
    for (int i = from; i < from + n; ++i) {
      storage.push_back("value-" + std::to_string(i));
      RecordView v;
      v.value = storage.back();
      v.timestamp_ms = Ts(i);
      ASSERT_TRUE(p.AppendAndWait(std::span<const RecordView>(&v, 1)).ok());
    }
  };
  Answers before;
  int64_t prefix = 0;
  {
    auto p = OpenOrDie();
    append(*p, 0, 300);
    ASSERT_TRUE(p->WriteActiveIndexFiles().ok());  // what the Log does at close
    prefix = p->size_bytes();
    append(*p, 300, 100);  // then a crash: these are not in the index files
    before = Collect(*p);
  }
  const fs::path seg = dir_ / Segment::FileName(0);
  const int64_t full = static_cast<int64_t>(fs::file_size(seg));
  {
    auto p = OpenOrDie();
    EXPECT_EQ(p->recovery().segments_from_index, 1);
    EXPECT_EQ(p->recovery().segments_scanned, 0);
    EXPECT_EQ(p->recovery().scanned_bytes, full - prefix);
    EXPECT_EQ(p->high_watermark(), 400);
    EXPECT_EQ(Collect(*p), before);
  }
  // A torn tail after the prefix is cut as before; the prefix is still used.
  fs::resize_file(seg, full - 7);
  {
    auto p = OpenOrDie();
    EXPECT_GT(p->recovery().truncated_bytes, 0);
    EXPECT_EQ(p->recovery().segments_from_index, 1);
    EXPECT_EQ(p->high_watermark(), 399);
    append(*p, 399, 1);
    EXPECT_EQ(Collect(*p), before);
  }
  // A segment shorter than its indexed prefix is scanned from the start and
  // its stale index files deleted.
  fs::resize_file(seg, prefix - 7);
  auto p = OpenOrDie();
  EXPECT_EQ(p->recovery().segments_from_index, 0);
  EXPECT_EQ(p->recovery().segments_scanned, 1);
  EXPECT_GT(p->recovery().truncated_bytes, 0);
  EXPECT_FALSE(fs::exists(dir_ / Segment::IndexFileName(0)));
  EXPECT_EQ(p->high_watermark(), 299);
  Answers now = Collect(*p);
  for (size_t o = 0; o < 299; ++o) EXPECT_EQ(now.by_offset[o], before.by_offset[o]);
}

TEST_F(SegmentIndexTest, DeletingSegmentsDeletesTheirIndexFilesAndOpenSweepsStrays) {
  Fill();
  const auto bases = Bases();
  fs::path stray_index = dir_ / Segment::IndexFileName(999'999);
  Spit(stray_index, "x");
  Spit(dir_ / (Segment::IndexFileName(bases[0]) + ".tmp"), "partial");
  options_.retention_bytes = 8000;
  options_.retention_ms = -1;
  auto p = OpenOrDie();
  EXPECT_FALSE(fs::exists(stray_index));
  EXPECT_FALSE(fs::exists(dir_ / (Segment::IndexFileName(bases[0]) + ".tmp")));
  auto deleted = p->ApplyRetention();
  ASSERT_TRUE(deleted.ok());
  ASSERT_GT(*deleted, 0);
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.insert(e.path().filename().string());
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool kept = bases[i] >= p->log_start_offset();
    EXPECT_EQ(names.count(Segment::FileName(bases[i])), kept ? 1u : 0u);
    EXPECT_EQ(names.count(Segment::IndexFileName(bases[i])),
              kept && i + 1 < bases.size() ? 1u : 0u);
    EXPECT_EQ(names.count(Segment::TimeIndexFileName(bases[i])),
              kept && i + 1 < bases.size() ? 1u : 0u);
  }
}

}  // namespace
}  // namespace pinpipe::log
