// Crash test: a child process (log_crash_child) appends with each fsync
// policy and is killed with SIGKILL at a random moment; after reopening, every
// acknowledged record must be present exactly once and in order, and the log
// must accept new appends. PINPIPE_CRASH_TRIALS sets the number of trials
// (default 51, 17 per policy); a longer run can ask for thousands.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"
#include "pinpipe/log/log.h"

namespace pinpipe::log {
namespace {

namespace fs = std::filesystem;
using pinpipe::testing::Process;
using pinpipe::testing::ProcessOptions;
using pinpipe::testing::TempDir;

struct Ack {
  int32_t partition;
  int64_t base;
  int count;
  std::string trial;
  int thread;
  int64_t seq;
};

std::vector<Ack> ReadAcks(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::vector<Ack> acks;
  size_t start = 0;
  while (true) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;  // a line cut by the kill was never acknowledged
    std::istringstream line(text.substr(start, nl - start));
    Ack a;
    line >> a.partition >> a.base >> a.count >> a.trial >> a.thread >> a.seq;
    if (line) acks.push_back(a);
    start = nl + 1;
  }
  return acks;
}

// Splits "trial-thread-seq-filler".
std::tuple<std::string, int, int64_t> ParseValue(const std::string& v) {
  const size_t a = v.find('-');
  const size_t b = v.find('-', a + 1);
  const size_t c = v.find('-', b + 1);
  return {v.substr(0, a), std::stoi(v.substr(a + 1, b - a - 1)),
          std::stoll(v.substr(b + 1, c - b - 1))};
}

TEST(LogCrashTest, AcknowledgedRecordsSurviveSigkill) {
  int trials = 51;
  if (const char* env = std::getenv("PINPIPE_CRASH_TRIALS")) trials = std::atoi(env);
  TempDir tmp;
  const std::string dir = tmp / "log";
  const std::vector<std::string> policies = {"always", "interval:3", "never"};
  {
    LogOptions o;
    o.dir = dir;
    auto log = Log::Open(o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (size_t i = 0; i < policies.size(); ++i) {
      TopicSettings s;
      s.partitions = 2;
      s.fsync = policies[i];
      ASSERT_TRUE((*log)->CreateTopic("t" + std::to_string(i), s).ok());
    }
  }
  std::mt19937 rng(2026);
  std::map<std::string, std::vector<Ack>> acked;  // topic -> all acks so far
  int total_acked_records = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::string topic = "t" + std::to_string(trial % policies.size());
    ProcessOptions po;
    po.argv = {PINPIPE_LOG_CRASH_CHILD, dir, topic, std::to_string(trial),
               std::to_string(1 + rng() % 3)};
    po.log_file = tmp / ("child-" + std::to_string(trial) + ".txt");
    {
      Process child(po);
      // Wait for the child to open the log, then let it run a random while.
      for (int i = 0; i < 500 && child.Output().find("ready") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ASSERT_NE(child.Output().find("ready"), std::string::npos) << child.Output();
      std::this_thread::sleep_for(std::chrono::milliseconds(2 + rng() % 60));
      child.Signal(SIGKILL);
      const int code = child.Wait(std::chrono::seconds(10));
      ASSERT_EQ(code, 128 + SIGKILL) << child.Output();
    }
    for (const Ack& a : ReadAcks(tmp / ("acks-" + std::to_string(trial)))) {
      acked[topic].push_back(a);
      total_acked_records += a.count;
    }

    LogOptions o;
    o.dir = dir;
    auto log = Log::Open(o);
    ASSERT_TRUE(log.ok()) << "trial " << trial << ": " << log.status().ToString();
    EXPECT_TRUE((*log)->RecoveryLosses().empty()) << "trial " << trial;
    auto t = *(*log)->GetTopic(topic);
    std::map<int32_t, std::vector<LogRecord>> contents;
    for (int32_t p = 0; p < t->partition_count(); ++p) {
      auto* part = t->partition(p);
      int64_t offset = 0;
      while (offset < part->high_watermark()) {
        auto recs = part->Read(offset, 100000, 64 << 20);
        ASSERT_TRUE(recs.ok()) << "trial " << trial << ": " << recs.status().ToString();
        ASSERT_FALSE(recs->empty());
        for (auto& r : *recs) {
          ASSERT_EQ(r.offset, offset);
          ++offset;
          contents[p].push_back(std::move(r));
        }
      }
      // Exactly once and in order: each (trial, thread) sequence appears
      // once, increasing within the partition.
      std::set<std::string> seen;
      std::map<std::pair<std::string, int>, int64_t> last_seq;
      for (const auto& r : contents[p]) {
        const auto [tr, th, seq] = ParseValue(*r.value);
        ASSERT_TRUE(seen.insert(tr + "-" + std::to_string(th) + "-" + std::to_string(seq)).second)
            << "duplicate record " << *r.value;
        auto key = std::make_pair(tr, th);
        if (auto it = last_seq.find(key); it != last_seq.end()) {
          ASSERT_GT(seq, it->second);
        }
        last_seq[key] = seq;
      }
    }
    for (const Ack& a : acked[topic]) {
      const auto& recs = contents[a.partition];
      for (int i = 0; i < a.count; ++i) {
        const size_t off = static_cast<size_t>(a.base + i);
        ASSERT_LT(off, recs.size()) << "trial " << trial << ": acknowledged offset " << off
                                    << " of partition " << a.partition << " lost";
        const auto [tr, th, seq] = ParseValue(*recs[off].value);
        ASSERT_EQ(tr, a.trial);
        ASSERT_EQ(th, a.thread);
        ASSERT_EQ(seq, a.seq + i);
      }
    }
    // The log accepts new appends after recovery.
    std::string v = "parent-0-" + std::to_string(trial);
    std::vector<RecordView> one(1);
    one[0].value = v;
    auto info = t->partition(0)->AppendAndWait(one);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->base_offset, static_cast<int64_t>(contents[0].size()));
  }
  EXPECT_GT(total_acked_records, trials * 5) << "children barely appended; the test proves little";
  std::printf("%d trials, %d acknowledged records verified\n", trials, total_acked_records);
}

}  // namespace
}  // namespace pinpipe::log
