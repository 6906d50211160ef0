// log_bench DIR SECONDS: appends to the embedded log in DIR for SECONDS per
// case (record size x partitions x fsync policy) from producer threads, and
// prints one JSON object per line:
//   {"case":"append","record_bytes":..,"partitions":..,"fsync":..,"records_per_s":..,
//    "mb_per_s":..,"p50_ms":..,"p99_ms":..}
// Latency is per acknowledged append call (one call carries `batch` records).
// A final "latency" case appends single 1 KiB records from 8 threads under
// fsync=interval:5 to show the ack latency of group commit itself.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pinpipe/log/log.h"

namespace fs = std::filesystem;
using namespace pinpipe::log;  // NOLINT
using Clock = std::chrono::steady_clock;

struct CaseResult {
  double records_per_s = 0;
  double mb_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// `window` > 1: each producer keeps up to that many appends in flight,
// acknowledged through Partition::OnDurable (as the HTTP API does), like a
// Kafka producer's in-flight requests; 1: AppendAndWait, one at a time.
CaseResult RunCase(const fs::path& dir, int record_bytes, int partitions, const std::string& fsync,
                   int threads_per_partition, int batch, double seconds, int window = 1) {
  fs::remove_all(dir);
  LogOptions o;
  o.dir = dir;
  o.segment_bytes = 256 << 20;
  auto log = Log::Open(o);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  TopicSettings s;
  s.partitions = partitions;
  s.fsync = fsync;
  if (pinpipe::Status st = (*log)->CreateTopic("bench", s); !st.ok()) std::exit(1);
  auto topic = *(*log)->GetTopic("bench");
  const std::string value(static_cast<size_t>(record_bytes), 'v');
  std::atomic<bool> stop{false};
  std::atomic<int64_t> records{0};
  std::mutex lat_mu;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  for (int p = 0; p < partitions; ++p) {
    for (int t = 0; t < threads_per_partition; ++t) {
      threads.emplace_back([&, p] {
        std::vector<RecordView> views(static_cast<size_t>(batch));
        for (auto& v : views) {
          v.value = value;
          v.timestamp_ms = 1'700'000'000'000;
        }
        std::vector<double> local;
        auto* part = topic->partition(p);
        if (window <= 1) {
          while (!stop.load(std::memory_order_relaxed)) {
            const auto t0 = Clock::now();
            if (!part->AppendAndWait(views).ok()) std::exit(1);
            local.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            records.fetch_add(batch, std::memory_order_relaxed);
          }
        } else {
          std::mutex mu;
          std::condition_variable cv;
          int in_flight = 0;
          while (!stop.load(std::memory_order_relaxed)) {
            {
              std::unique_lock lock(mu);
              cv.wait(lock, [&] { return in_flight < window; });
              ++in_flight;
            }
            const auto t0 = Clock::now();
            auto info = part->Append(views);
            if (!info.ok()) std::exit(1);
            part->OnDurable(info->next_offset, [&, t0](pinpipe::Status st) {
              if (!st.ok()) std::exit(1);
              records.fetch_add(batch, std::memory_order_relaxed);
              std::lock_guard lock(mu);
              local.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
              --in_flight;
              cv.notify_one();
            });
          }
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return in_flight == 0; });
        }
        std::lock_guard lock(lat_mu);
        latencies.insert(latencies.end(), local.begin(), local.end());
      });
    }
  }
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  log->reset();
  fs::remove_all(dir);
  CaseResult r;
  r.records_per_s = static_cast<double>(records.load()) / elapsed;
  r.mb_per_s = r.records_per_s * record_bytes / 1e6;
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    r.p50_ms = latencies[latencies.size() / 2];
    r.p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return r;
}

// The physical floor of an acknowledgement: write 4 KiB + fdatasync, in a loop.
CaseResult RawFdatasync(const fs::path& dir, double seconds) {
  fs::create_directories(dir);
  const fs::path file = dir / "fdatasync.tmp";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) std::exit(1);
  const std::string block(4096, 'x');
  std::vector<double> lat;
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::duration<double>(seconds)) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) std::exit(1);
    const auto t0 = Clock::now();
    if (::fdatasync(fd) != 0) std::exit(1);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  fs::remove(file);
  std::sort(lat.begin(), lat.end());
  CaseResult r;
  r.records_per_s = static_cast<double>(lat.size()) / elapsed;
  r.mb_per_s = r.records_per_s * 4096 / 1e6;
  r.p50_ms = lat[lat.size() / 2];
  r.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  return r;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: log_bench DIR SECONDS\n");
    return 2;
  }
  const fs::path dir = fs::path(argv[1]) / "log-bench";
  const double seconds = std::atof(argv[2]);
  for (int bytes : {100, 1024}) {
    for (int partitions : {1, 8}) {
      for (const std::string fsync : {"always", "interval:5", "never"}) {
        // About 64 KiB per append call, like a producer's batch; enough
        // producers per partition that group commit has company.
        const int batch = std::max(1, (64 << 10) / bytes);
        const int threads = partitions == 1 ? 4 : 1;
        // Under interval a producer pipelines (16 appends in flight), as
        // the API's requests do: the log's throughput, not one thread's
        // round trip, is what group commit should deliver.
        const int window = fsync.starts_with("interval") ? 16 : 1;
        auto r = RunCase(dir, bytes, partitions, fsync, threads, batch, seconds, window);
        std::printf(
            "{\"case\":\"append\",\"record_bytes\":%d,\"partitions\":%d,\"fsync\":\"%s\","
            "\"batch\":%d,\"producers\":%d,\"in_flight\":%d,\"records_per_s\":%.0f,"
            "\"mb_per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
            bytes, partitions, fsync.c_str(), batch, threads * partitions, window, r.records_per_s,
            r.mb_per_s, r.p50_ms, r.p99_ms);
        std::fflush(stdout);
      }
    }
  }
  auto f = RawFdatasync(dir, seconds);
  std::printf(
      "{\"case\":\"fdatasync\",\"record_bytes\":4096,\"partitions\":1,\"fsync\":\"raw\","
      "\"batch\":1,\"producers\":1,\"records_per_s\":%.0f,\"mb_per_s\":%.1f,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f}\n",
      f.records_per_s, f.mb_per_s, f.p50_ms, f.p99_ms);
  std::fflush(stdout);
  auto r = RunCase(dir, 1024, 1, "interval:5", 8, 1, seconds);
  std::printf(
      "{\"case\":\"latency\",\"record_bytes\":1024,\"partitions\":1,\"fsync\":\"interval:5\","
      "\"batch\":1,\"producers\":8,\"records_per_s\":%.0f,\"mb_per_s\":%.1f,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f}\n",
      r.records_per_s, r.mb_per_s, r.p50_ms, r.p99_ms);
  return 0;
}
