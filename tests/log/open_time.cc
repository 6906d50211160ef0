// log_open_time: measures how long opening a partition takes (a manual
// benchmark for docs/formats/log.md's index files, not a CTest test).
//
//   log_open_time write DIR TOTAL_MIB SEGMENT_MIB   fills DIR with 1 KiB records
//   log_open_time open DIR [cold] [noindex]         opens DIR and reports the time
//
// `cold` drops DIR's files from the page cache first (fdatasync +
// posix_fadvise DONTNEED); `noindex` deletes the index files first, so every
// segment is scanned as it was before index files existed.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/log/partition.h"
#include "pinpipe/log/segment.h"

namespace fs = std::filesystem;
using namespace pinpipe::log;  // NOLINT
using pinpipe::Status;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s write DIR TOTAL_MIB SEGMENT_MIB | open DIR [cold] [noindex]\n",
                 argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string mode = argv[1];
  const fs::path dir = argv[2];
  pinpipe::ManualClock clock;
  DataNotifier notifier;
  PartitionOptions options;
  options.fsync.mode = FsyncMode::kNever;
  if (mode == "write") {
    if (argc < 5) return 2;
    const int64_t total = std::stoll(argv[3]) << 20;
    options.segment_bytes = std::stoll(argv[4]) << 20;
    auto p = Partition::Open(dir, 0, options, &clock, notifier);
    if (!p.ok()) return std::fprintf(stderr, "%s\n", p.status().ToString().c_str()), 1;
    std::string value(1000, 'v');
    std::vector<RecordView> views(1000);
    for (size_t i = 0; i < views.size(); ++i) {
      views[i].value = value;
      views[i].timestamp_ms = 1'700'000'000'000 + static_cast<int64_t>(i);
    }
    while ((*p)->size_bytes() < total) {
      if (auto r = (*p)->Append(views); !r.ok()) {
        return std::fprintf(stderr, "%s\n", r.status().ToString().c_str()), 1;
      }
    }
    if (Status s = (*p)->WriteActiveIndexFiles(); !s.ok()) {  // as the Log does at close
      return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
    }
    std::printf("wrote %lld bytes, %zu segments, %lld records\n",
                static_cast<long long>((*p)->size_bytes()), (*p)->segment_count(),
                static_cast<long long>((*p)->high_watermark()));
    return 0;
  }
  bool cold = false;
  bool noindex = false;
  for (int i = 3; i < argc; ++i) {
    cold |= std::string(argv[i]) == "cold";
    noindex |= std::string(argv[i]) == "noindex";
  }
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (noindex && (name.ends_with(".index") || name.ends_with(".timeindex"))) {
      fs::remove(e.path());
      continue;
    }
    if (cold) {
      int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      ::fdatasync(fd);
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto p = Partition::Open(dir, 0, options, &clock, notifier);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!p.ok()) return std::fprintf(stderr, "%s\n", p.status().ToString().c_str()), 1;
  const auto& r = (*p)->recovery();
  std::printf(
      "open %.1f ms: %zu segments (%lld from index files, %lld scanned, %lld bytes scanned, "
      "%zu indexes rebuilt), %lld records, %lld bytes\n",
      ms, (*p)->segment_count(), static_cast<long long>(r.segments_from_index),
      static_cast<long long>(r.segments_scanned), static_cast<long long>(r.scanned_bytes),
      r.index_rebuilds.size(), static_cast<long long>((*p)->high_watermark()),
      static_cast<long long>((*p)->size_bytes()));
  return 0;
}
