// Fuzz target over the segment reader: the input is taken as the bytes of a
// partition's only segment file. Opening (recovery scan), reading every
// offset, looking up timestamps and appending afterwards must never crash,
// and whatever Read returns must have dense offsets.
//
// Inputs whose first byte is 0xI1 (low nibble 1) fuzz the index files of a
// closed segment instead: a valid partition of several segments is written
// once, and each input damages one index file of its first segment with
// (position, xor) triplets, optionally fixing the CRC up afterwards so the
// structural checks are reached. Opening must never crash, and every record
// a read returns must be the one stored at its offset.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "pinpipe/base/clock.h"
#include "pinpipe/log/crc32c.h"
#include "pinpipe/log/partition.h"
#include "pinpipe/log/record_batch.h"
#include "pinpipe/log/segment.h"

namespace {

namespace fs = std::filesystem;
using namespace pinpipe::log;  // NOLINT

const fs::path& Dir() {
  static const fs::path dir = [] {
    // tmpfs when available: recovery fsyncs, which would dominate on a disk.
    const fs::path base =
        fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("pinpipe-segfuzz-" + std::to_string(::getpid()));
    spdlog::set_level(spdlog::level::off);
    fs::create_directories(d);
    std::atexit([] { fs::remove_all(Dir()); });
    return d;
  }();
  return dir;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The files of a valid partition of several segments, written once.
const std::map<std::string, std::string>& Template() {
  static const std::map<std::string, std::string> files = [] {
    const fs::path dir = Dir() / "template";
    pinpipe::ManualClock clock;
    DataNotifier notifier;
    PartitionOptions options;
    options.fsync.mode = FsyncMode::kNever;
    options.index_interval_bytes = 64;
    options.segment_bytes = 700;
    {
      auto p = Partition::Open(dir, 0, options, &clock, notifier);
      if (!p.ok()) std::abort();
      for (int i = 0; i < 40; ++i) {
        std::string v = "value-" + std::to_string(i);
        std::vector<RecordView> one(1);
        one[0].value = v;
        one[0].timestamp_ms = 1000 + 3 * i + (i * 7) % 5;
        if (!(*p)->Append(one).ok()) std::abort();
      }
    }
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
      out[e.path().filename().string()] = Slurp(e.path());
    }
    fs::remove_all(dir);
    if (!out.count(Segment::IndexFileName(0))) std::abort();
    return out;
  }();
  return files;
}

int FuzzIndexFile(const uint8_t* data, size_t size) {
  const fs::path dir = Dir() / "idx";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string target =
      (data[0] & 0x10) ? Segment::TimeIndexFileName(0) : Segment::IndexFileName(0);
  for (const auto& [name, bytes] : Template()) {
    std::string b = bytes;
    if (name == target) {
      for (size_t i = 1; i + 2 < size; i += 3) {
        const size_t pos = (static_cast<size_t>(data[i]) | static_cast<size_t>(data[i + 1]) << 8);
        if (pos < b.size()) b[pos] = static_cast<char>(b[pos] ^ data[i + 2]);
      }
      if ((data[0] & 0x20) && size % 3 == 2) b.resize(b.size() - data[size - 1] % (b.size() + 1));
      if ((data[0] & 0x40) && b.size() >= 4) {  // fix the CRC up
        const uint32_t crc = Crc32cExtend(0, b.data(), b.size() - 4);
        std::memcpy(b.data() + b.size() - 4, &crc, 4);
      }
    }
    std::ofstream out(dir / name, std::ios::binary);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
  }
  static pinpipe::ManualClock clock;
  static DataNotifier notifier;
  PartitionOptions options;
  options.fsync.mode = FsyncMode::kNever;
  options.index_interval_bytes = 64;
  options.segment_bytes = 700;
  auto p = Partition::Open(dir, 0, options, &clock, notifier);
  if (!p.ok()) return 0;
  for (int64_t o = 0; o < (*p)->high_watermark(); ++o) {
    auto recs = (*p)->Read(o, 3, 1 << 20);
    if (!recs.ok()) continue;
    int64_t want = o;
    for (const auto& r : *recs) {
      if (r.offset != want || r.value != "value-" + std::to_string(want)) std::abort();
      ++want;
    }
  }
  for (int64_t ts = 990; ts < 1130; ts += 4) (void)(*p)->OffsetForTimestamp(ts);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0 && (data[0] & 0x0f) == 1) return FuzzIndexFile(data, size);
  const fs::path dir = Dir() / "p";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream out(dir / Segment::FileName(0), std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  // The pure decoder too, on the same bytes.
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto h = DecodeBatchHeader(bytes); h.ok() && h->TotalSize() <= size) {
    std::vector<LogRecord> recs;
    (void)DecodeBatch(bytes.substr(0, h->TotalSize()), *h, 0, &recs);
  }
  static pinpipe::ManualClock clock;
  static DataNotifier notifier;
  PartitionOptions options;
  options.fsync.mode = FsyncMode::kNever;
  options.index_interval_bytes = 64;
  auto p = Partition::Open(dir, 0, options, &clock, notifier);
  if (!p.ok()) return 0;
  int64_t offset = (*p)->log_start_offset();
  while (offset < (*p)->high_watermark()) {
    auto recs = (*p)->Read(offset, 1000, 1 << 20);
    if (!recs.ok() || recs->empty()) break;
    for (const auto& r : *recs) {
      if (r.offset != offset) std::abort();
      ++offset;
    }
  }
  (void)(*p)->OffsetForTimestamp(0);
  (void)(*p)->OffsetForTimestamp(INT64_MAX);
  std::string v = "after";
  std::vector<RecordView> one(1);
  one[0].value = v;
  auto info = (*p)->Append(one);
  if (info.ok()) {
    auto back = (*p)->Read(info->base_offset, 1, 1 << 20);
    if (!back.ok() || back->size() != 1 || (*back)[0].value != "after") std::abort();
  }
  return 0;
}
