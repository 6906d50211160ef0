// Corruption test: flip bytes in and truncate segment files and the offsets
// file at random; opening must never crash, must report where data is gone
// (recovery losses, a truncated tail, or DataLoss from Read), and must keep
// every record stored before the damaged spot.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "harness.h"
#include "pinpipe/log/log.h"
#include "pinpipe/log/record_batch.h"
#include "pinpipe/log/segment.h"

namespace pinpipe::log {
namespace {

namespace fs = std::filesystem;
using pinpipe::testing::TempDir;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void Spit(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// The first offset of the batch containing file position `pos` (or the
// segment's end offset when pos is past the last batch).
int64_t FirstOffsetAt(const std::string& seg, int64_t base, size_t pos) {
  size_t at = 0;
  int64_t offset = base;
  while (at + kBatchHeaderSize <= seg.size()) {
    auto h = DecodeBatchHeader(std::string_view(seg).substr(at));
    if (!h.ok()) break;
    if (pos < at + h->TotalSize()) return h->base_offset;
    at += h->TotalSize();
    offset = h->NextOffset();
  }
  return offset;
}

TEST(LogCorruptionTest, RandomDamageIsReportedAndThePrefixSurvives) {
  TempDir tmp;
  const fs::path pristine = tmp / "pristine";
  const int kRecords = 400;
  {
    LogOptions o;
    o.dir = pristine;
    o.segment_bytes = 2 << 10;
    o.fsync = *FsyncPolicy::Parse("never");
    auto log = std::move(*Log::Open(o));
    ASSERT_TRUE(log->CreateTopic("t", TopicSettings{}).ok());
    auto* p = (*log->GetTopic("t"))->partition(0);
    for (int i = 0; i < kRecords; i += 4) {
      std::vector<std::string> values;
      for (int k = i; k < i + 4; ++k) values.push_back("value-" + std::to_string(k));
      std::vector<RecordView> views(4);
      for (int k = 0; k < 4; ++k) views[k].value = values[k];
      ASSERT_TRUE(p->AppendAndWait(views).ok());
    }
    ASSERT_GT(p->segment_count(), 4u);
    ASSERT_TRUE(log->offsets().Commit("g", {{"t", 0, 123}}).ok());
  }
  std::vector<fs::path> segments;
  std::vector<fs::path> index_files;
  for (const auto& e : fs::directory_iterator(pristine / "topics" / "t" / "0")) {
    if (Segment::ParseFileName(e.path().filename().string())) {
      segments.push_back(e.path().filename());
    } else {
      index_files.push_back(e.path().filename());
    }
  }
  // Every segment has its two index files (the active one's written at close).
  ASSERT_EQ(index_files.size(), 2 * segments.size());
  std::sort(index_files.begin(), index_files.end());
  std::sort(segments.begin(), segments.end());

  std::mt19937 rng(99);
  for (int trial = 0; trial < 60; ++trial) {
    const fs::path dir = tmp / ("trial-" + std::to_string(trial));
    fs::copy(pristine, dir, fs::copy_options::recursive);
    const size_t seg_index = rng() % segments.size();
    const fs::path seg_path = dir / "topics" / "t" / "0" / segments[seg_index];
    const int64_t seg_base = std::stoll(segments[seg_index].string().substr(0, 20));
    std::string data = Slurp(seg_path);
    const std::string original = data;
    size_t damage = rng() % data.size();
    const int kind = static_cast<int>(rng() % 3);
    if (kind == 0) {
      data[damage] = static_cast<char>(data[damage] ^ (1 + rng() % 255));
    } else if (kind == 1) {
      data.resize(damage);
    } else {
      for (int k = 0; k < 8 && damage + k < data.size(); ++k) data[damage + k] = '\0';
    }
    Spit(seg_path, data);
    if (trial % 5 == 0) {  // damage the offsets file too
      auto offs = dir / "consumer_offsets.log";
      std::string od = Slurp(offs);
      od.resize(rng() % (od.size() + 1));
      Spit(offs, od);
    }
    if (trial % 3 == 1) {  // damage an index file too: it must be rebuilt, never trusted
      const fs::path idx = dir / "topics" / "t" / "0" / index_files[rng() % index_files.size()];
      std::string id = Slurp(idx);
      if (rng() % 2 == 0) {
        id.resize(rng() % (id.size() + 1));
      } else {
        const size_t at = rng() % id.size();
        id[at] = static_cast<char>(id[at] ^ (1 + rng() % 255));
      }
      Spit(idx, id);
    }
    const int64_t safe_end = FirstOffsetAt(original, seg_base, damage);

    LogOptions o;
    o.dir = dir;
    o.fsync = *FsyncPolicy::Parse("never");
    auto log = Log::Open(o);
    ASSERT_TRUE(log.ok()) << "trial " << trial << ": " << log.status().ToString();
    auto* p = (*(*log)->GetTopic("t"))->partition(0);
    const bool reported = p->recovery().truncated_bytes > 0 || !p->recovery().losses.empty();
    int64_t offset = 0;
    Status stop;
    while (offset < p->high_watermark()) {
      auto recs = p->Read(offset, 1000, 1 << 20);
      if (!recs.ok()) {
        stop = recs.status();
        break;
      }
      ASSERT_FALSE(recs->empty());
      for (const auto& r : *recs) {
        ASSERT_EQ(r.offset, offset);
        ASSERT_EQ(r.value, "value-" + std::to_string(offset)) << "trial " << trial;
        ++offset;
      }
    }
    // Everything before the damaged batch is still there.
    EXPECT_GE(offset, safe_end) << "trial " << trial << " kind " << kind << " at " << damage;
    if (offset < kRecords) {
      // Data is gone: that must have been said, never skipped silently.
      EXPECT_TRUE(reported || stop.code() == StatusCode::kDataLoss)
          << "trial " << trial << ": silent loss at offset " << offset;
    }
    if (!stop.ok()) {
      EXPECT_EQ(stop.code(), StatusCode::kDataLoss) << stop.ToString();
    }
    // A damaged older segment does not cost the segments after it.
    if (seg_index + 1 < segments.size()) {
      EXPECT_EQ(p->high_watermark(), kRecords);
    }
    // And the log still takes appends.
    std::string v = "value-new";
    std::vector<RecordView> one(1);
    one[0].value = v;
    EXPECT_TRUE(p->AppendAndWait(one).ok());
    auto committed = (*log)->offsets().Get("g", "t", 0);
    if (committed) {
      EXPECT_EQ(*committed, 123);
    }
  }
}

}  // namespace
}  // namespace pinpipe::log
