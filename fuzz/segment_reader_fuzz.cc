// Fuzz target over the segment reader: the input is taken as the bytes of a
// partition's only segment file. Opening (recovery scan), reading every
// offset, looking up timestamps and appending afterwards must never crash,
// and whatever Read returns must have dense offsets.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "pinpipe/base/clock.h"
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
  auto p = Partition::Open(dir, 0, options, &clock, &notifier);
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
