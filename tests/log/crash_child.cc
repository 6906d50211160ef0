// log_crash_child DIR TOPIC TRIAL THREADS: appends records to every partition
// of TOPIC in the log at DIR from THREADS threads until killed. After each
// append is acknowledged (AppendAndWait returned) it writes one line to
// DIR/../acks-TRIAL:
//   <partition> <base_offset> <count> <trial> <thread> <first_seq>
// Record values are "<trial>-<thread>-<seq>" padded with random filler, so
// the parent can check every acknowledged record survives a SIGKILL.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pinpipe/log/log.h"

using namespace pinpipe::log;  // NOLINT

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: log_crash_child DIR TOPIC TRIAL THREADS\n");
    return 2;
  }
  LogOptions options;
  options.dir = argv[1];
  options.segment_bytes = 64 << 10;
  const std::string topic_name = argv[2];
  const std::string trial = argv[3];
  const int threads = std::atoi(argv[4]);
  auto log = Log::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return 1;
  }
  auto topic = (*log)->GetTopic(topic_name);
  if (!topic.ok()) {
    std::fprintf(stderr, "topic: %s\n", topic.status().ToString().c_str());
    return 1;
  }
  const std::string ack_path = std::string(argv[1]) + "/../acks-" + trial;
  const int ack_fd = ::open(ack_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (ack_fd < 0) return 1;
  std::fprintf(stderr, "ready\n");
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t * 7919 + std::atoi(trial.c_str())));
      int64_t seq = 0;
      while (true) {
        const int32_t p = static_cast<int32_t>(rng() % (*topic)->partition_count());
        const int count = 1 + static_cast<int>(rng() % 20);
        std::deque<std::string> values;
        std::vector<RecordView> views;
        for (int i = 0; i < count; ++i) {
          values.push_back(trial + "-" + std::to_string(t) + "-" + std::to_string(seq + i) + "-" +
                           std::string(rng() % 200, 'x'));
          RecordView v;
          v.value = values.back();
          v.timestamp_ms = 1'700'000'000'000 + seq;
          views.push_back(std::move(v));
        }
        auto info = (*topic)->partition(p)->AppendAndWait(views);
        if (!info.ok()) {
          std::fprintf(stderr, "append: %s\n", info.status().ToString().c_str());
          std::_Exit(1);
        }
        char line[128];
        const int n = std::snprintf(line, sizeof(line), "%d %lld %d %s %d %lld\n", p,
                                    static_cast<long long>(info->base_offset), count, trial.c_str(),
                                    t, static_cast<long long>(seq));
        if (::write(ack_fd, line, static_cast<size_t>(n)) != n) std::_Exit(1);
        seq += count;
      }
    });
  }
  for (auto& w : workers) w.join();
  return 0;
}
