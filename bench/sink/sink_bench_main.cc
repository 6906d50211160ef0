// sink_bench DIR RECORDS SMALL_RECORDS [FLUSH_SIZES]: produces RECORDS ~1 KiB JSON records
// (and SMALL_RECORDS for flush.size=1) into an embedded log under DIR, runs
// the sink to a local folder under DIR (fsync on) for each flush.size, then
// copies the same bytes with read/write + fsync (like `cat a > b; sync`).
// Prints one JSON object per case on stdout. FLUSH_SIZES (e.g. "10000", for
// profiling one case) defaults to "1,100,10000"; the copy needs 10000.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/sink/sink.h"

namespace fs = std::filesystem;
using namespace pinpipe;  // NOLINT: a benchmark driver

namespace {

// CPU seconds of the whole process (every thread), to compare runs on a
// busy machine where wall time mostly measures the other load.
double CpuNow() {
  timespec ts;
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::string Value(int64_t i) {
  // Shaped like a pin record, ~1 KiB.
  std::string desc(820, 'd');
  return "{\"index\": " + std::to_string(i) + ", \"unique_id\": \"5b6f8c2e-1d3a-4f5e-9a7b-" +
         std::to_string(100000000000 + i) + "\", \"title\": \"a pin title\", \"description\": \"" +
         desc +
         "\", \"follower_count\": \"12k\", \"tag_list\": \"a,b,c\", \"is_image_or_video\": "
         "\"image\", \"downloaded\": 1, \"category\": \"diy-and-crafts\"}";
}

void Produce(broker::Broker& b, const std::string& topic, int64_t n) {
  Status created = b.CreateTopic(topic, broker::TopicConfig{});
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) Check(created, "create");
  std::vector<broker::Record> batch;
  for (int64_t i = 0; i < n; ++i) {
    broker::Record r;
    r.value = Value(i);
    batch.push_back(std::move(r));
    if (batch.size() == 5000 || i + 1 == n) {
      auto acks = b.Produce(topic, batch);
      Check(acks.status(), "produce");
      batch.clear();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: sink_bench DIR RECORDS SMALL_RECORDS [FLUSH_SIZES]\n");
    return 2;
  }
  std::vector<int64_t> flush_sizes;
  {
    std::string list = argc == 5 ? argv[4] : "1,100,10000";
    size_t start = 0;
    while (start < list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      flush_sizes.push_back(std::stoll(list.substr(start, comma - start)));
      start = comma + 1;
    }
  }
  const fs::path dir = argv[1];
  const int64_t records = std::stoll(argv[2]);
  const int64_t small = std::stoll(argv[3]);
  fs::remove_all(dir);
  fs::create_directories(dir);
  embedded::EmbeddedBrokerOptions bo;
  bo.log.dir = dir / "log";
  bo.log.retention_ms = -1;
  auto broker = embedded::EmbeddedBroker::Open(bo);
  Check(broker.status(), "open log");
  Produce(**broker, "bench.pin", records);
  Produce(**broker, "small.pin", small);

  fs::path copy_source;
  for (int64_t flush : flush_sizes) {
    const std::string topic = flush == 1 ? "small.pin" : "bench.pin";
    const fs::path lake = dir / ("lake-" + std::to_string(flush));
    auto store = objstore::LocalObjectStore::Open(lake);
    Check(store.status(), "open store");
    auto props = sink::ParseProperties("name=bench-" + std::to_string(flush) + "\ntopics=" + topic +
                                       "\nflush.size=" + std::to_string(flush) + "\n");
    auto config = sink::SinkConfig::FromProperties(*props);
    Check(config.status(), "config");
    auto sink = sink::Sink::Create(*config, **broker, **store, &Clock::Real());
    Check(sink.status(), "sink");
    Check((*sink)->Start(), "start");
    const double t0 = Now();
    const double cpu0 = CpuNow();
    Check((*sink)->Drain(true, 5000), "drain");
    const double elapsed = Now() - t0;
    const double cpu = CpuNow() - cpu0;
    int64_t bytes = 0, objects = 0, n = 0;
    for (const auto& p : (*sink)->GetStatus().partitions) {
      bytes += p.bytes;
      objects += p.objects;
      n += p.records;
    }
    std::printf(
        "{\"case\":\"sink\",\"flush_size\":%lld,\"records\":%lld,\"objects\":%lld,"
        "\"bytes\":%lld,\"seconds\":%.4f,\"records_per_s\":%.0f,\"mb_per_s\":%.2f,"
        "\"files_per_s\":%.1f,\"cpu_seconds\":%.4f,\"mb_per_cpu_s\":%.2f}\n",
        static_cast<long long>(flush), static_cast<long long>(n), static_cast<long long>(objects),
        static_cast<long long>(bytes), elapsed, n / elapsed, bytes / elapsed / 1e6,
        objects / elapsed, cpu, bytes / cpu / 1e6);
    std::fflush(stdout);
    (void)(*sink)->Close();
    if (flush == 10000) {
      // The same bytes in one file, the source of the copy.
      copy_source = dir / "copy-source";
      int out = ::open(copy_source.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      auto listed = (*store)->ListAll("");
      Check(listed.status(), "list");
      for (const auto& o : *listed) {
        std::string data = *(*store)->Get(o.key);
        if (::write(out, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return 1;
      }
      ::fsync(out);
      ::close(out);
    }
  }
  if (copy_source.empty()) {
    broker->reset();
    fs::remove_all(dir);
    return 0;
  }
  // cat-style copy: read 128 KiB, write 128 KiB, fsync at the end.
  const fs::path target = dir / "copy-target";
  const double t0 = Now();
  int in = ::open(copy_source.c_str(), O_RDONLY);
  int out = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string buf(128 << 10, '\0');
  int64_t copied = 0;
  while (true) {
    ssize_t r = ::read(in, buf.data(), buf.size());
    if (r <= 0) break;
    if (::write(out, buf.data(), static_cast<size_t>(r)) != r) return 1;
    copied += r;
  }
  ::fsync(out);
  ::close(out);
  ::close(in);
  const double elapsed = Now() - t0;
  std::printf("{\"case\":\"copy\",\"bytes\":%lld,\"seconds\":%.4f,\"mb_per_s\":%.2f}\n",
              static_cast<long long>(copied), elapsed, copied / elapsed / 1e6);
  broker->reset();
  fs::remove_all(dir);
  return 0;
}
