// live_freshness: posts whole posts (a pin, a geo and a user record each) at
// a fixed record rate (open loop) through the API Gateway Kinesis routes
// (PUT /streams/<stream>/records), and polls GET /api/answers/live. A PUT's
// freshness is the time from its answer to the first poll whose `as_of`
// source positions cover every record of it (the shard's next offset is past
// the record's offset, decoded from its sequence number). Also reports the
// engine's CPU (apply + serve, from the endpoint's own thread-CPU counters)
// and the server process's CPU and RSS. Prints one JSON object.
//
//   live_freshness --url http://127.0.0.1:8082 --prefix b --rate 10000 --seconds 30
//                  [--senders 4] [--poll-ms 20] [--pid N] [--wait-seconds 30]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pinpipe/http/client.h"
#include "pinpipe/model/rows.h"
#include "pinpipe/source/generator.h"

namespace {

using namespace pinpipe;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string url = "http://127.0.0.1:8082";
  std::string prefix = "b";
  double rate = 10000;  // records/s over the three streams
  double seconds = 30;
  int senders = 4;
  int poll_ms = 20;
  int pid = 0;
  double wait_seconds = 30;
};

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "live_freshness: %s\n", what.c_str());
  std::exit(1);
}

// One PUT: when it was answered and the highest offset it got per shard.
struct Put {
  int stream = 0;
  int64_t records = 0;
  int64_t acked_ms = 0;
  std::map<int, int64_t> max_offset;
};

// One poll: when, and the next offset per (stream, shard).
struct Poll {
  int64_t ms = 0;
  std::map<int, int64_t> next[3];
  int64_t apply_cpu_ms = 0, serve_cpu_ms = 0, approx_bytes = 0, pending = 0;
};

// utime + stime of `pid` in ms, and its RSS in bytes.
std::pair<double, int64_t> ProcessUsage(int pid) {
  if (pid <= 0) return {0, 0};
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return {0, 0};
  std::istringstream in(text.substr(close + 2));
  std::vector<std::string> f;
  std::string s;
  while (in >> s) f.push_back(s);
  if (f.size() < 22) return {0, 0};
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double cpu_ms = (std::stod(f[11]) + std::stod(f[12])) * 1000.0 / ticks;
  const int64_t rss = std::stoll(f[21]) * sysconf(_SC_PAGESIZE);
  return {cpu_ms, rss};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      o.url = v;
    else if (k == "--prefix")
      o.prefix = v;
    else if (k == "--rate")
      o.rate = std::atof(v.c_str());
    else if (k == "--seconds")
      o.seconds = std::atof(v.c_str());
    else if (k == "--senders")
      o.senders = std::atoi(v.c_str());
    else if (k == "--poll-ms")
      o.poll_ms = std::atoi(v.c_str());
    else if (k == "--pid")
      o.pid = std::atoi(v.c_str());
    else if (k == "--wait-seconds")
      o.wait_seconds = std::atof(v.c_str());
    else
      Die("unknown flag " + k);
  }
  const std::string streams[3] = {"streaming-" + o.prefix + "-pin",
                                  "streaming-" + o.prefix + "-geo",
                                  "streaming-" + o.prefix + "-user"};
  // Each sender posts `per_batch` posts (3 PUTs) every tick.
  const double tick_s = 0.01 * o.senders;
  const int64_t per_batch =
      std::max<int64_t>(1, static_cast<int64_t>(o.rate / 3 * tick_s / o.senders));
  const int64_t ticks = static_cast<int64_t>(o.seconds / tick_s);
  const int64_t posts = ticks * per_batch * o.senders;
  source::Generator gen(source::kDefaultSeed, posts);

  std::mutex puts_mu;
  std::vector<Put> puts;
  puts.reserve(static_cast<size_t>(ticks * o.senders * 3));
  std::mutex polls_mu;
  std::vector<Poll> polls;
  std::atomic<bool> polling{true};
  std::atomic<int64_t> failed{0}, late_ticks{0};

  auto poll_once = [&](http::Client& c) -> bool {
    auto res = c.Send("GET", "/api/answers/live", {}, "");
    if (!res.ok() || res->status != 200) return false;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (!j.is_object()) return false;
    Poll p;
    p.ms = WallMillis();
    const char* kinds[3] = {"pin", "geo", "user"};
    for (int k = 0; k < 3; ++k) {
      for (const auto& [shard, pos] : j["as_of"][kinds[k]]["positions"].items()) {
        p.next[k][std::atoi(shard.c_str())] = std::atoll(pos.get<std::string>().c_str());
      }
    }
    p.apply_cpu_ms = j["engine"].value("apply_cpu_ms", int64_t{0});
    p.serve_cpu_ms = j["engine"].value("serve_cpu_ms", int64_t{0});
    p.approx_bytes = j["engine"].value("approx_bytes", int64_t{0});
    p.pending = j["engine"].value("pending_inds", int64_t{0});
    std::lock_guard lock(polls_mu);
    polls.push_back(std::move(p));
    return true;
  };
  std::thread poller([&] {
    auto client = http::Client::Create(o.url);
    if (!client.ok()) Die("client: " + client.status().ToString());
    while (polling) {
      poll_once(**client);
      std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
    }
  });

  const auto usage0 = ProcessUsage(o.pid);
  const auto t0 = SteadyClock::now();
  std::vector<std::thread> senders;
  for (int s = 0; s < o.senders; ++s) {
    senders.emplace_back([&, s] {
      auto client = http::Client::Create(o.url);
      if (!client.ok()) Die("client: " + client.status().ToString());
      model::PinRow pin;
      model::GeoRow geo;
      model::UserRow user;
      for (int64_t k = 0; k < ticks; ++k) {
        const auto due =
            t0 + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(
                     (static_cast<double>(k) + static_cast<double>(s) / o.senders) * tick_s));
        if (SteadyClock::now() > due + std::chrono::milliseconds(50)) ++late_ticks;
        std::this_thread::sleep_until(due);
        nlohmann::json records[3] = {nlohmann::json::array(), nlohmann::json::array(),
                                     nlohmann::json::array()};
        const int64_t first = (k * o.senders + s) * per_batch;
        for (int64_t r = 0; r < per_batch; ++r) {
          gen.Post(first + r, &pin, &geo, &user);
          const std::string key = std::to_string(pin.index);
          records[0].push_back({{"data", model::ToJson(pin)}, {"partition-key", key}});
          records[1].push_back({{"data", model::ToJson(geo)}, {"partition-key", key}});
          records[2].push_back({{"data", model::ToJson(user)}, {"partition-key", key}});
        }
        for (int st = 0; st < 3; ++st) {
          auto res = (*client)->Send("PUT", "/streams/" + streams[st] + "/records",
                                     {{"Content-Type", "application/json"}},
                                     nlohmann::json{{"records", records[st]}}.dump());
          Put put;
          put.stream = st;
          put.records = per_batch;
          put.acked_ms = WallMillis();
          if (!res.ok() || res->status != 200 ||
              res->body.find("\"FailedRecordCount\":0") == std::string::npos) {
            failed += per_batch;
            continue;
          }
          // "SequenceNumber":"49" + shard (10 digits) + offset (26 digits).
          const std::string& b = res->body;
          for (size_t at = b.find("\"SequenceNumber\":\""); at != std::string::npos;
               at = b.find("\"SequenceNumber\":\"", at + 1)) {
            const size_t v = at + 18;
            if (v + 38 > b.size()) break;
            const int shard = std::atoi(b.substr(v + 2, 10).c_str());
            const int64_t offset = std::atoll(b.substr(v + 12, 26).c_str());
            auto& m = put.max_offset[shard];
            m = std::max(m, offset);
          }
          std::lock_guard lock(puts_mu);
          puts.push_back(std::move(put));
        }
      }
    });
  }
  for (auto& t : senders) t.join();
  const double send_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const auto usage1 = ProcessUsage(o.pid);
  Poll at_end;
  {
    std::lock_guard lock(polls_mu);
    if (!polls.empty()) at_end = polls.back();
  }
  // Wait until a poll covers every PUT (or the wait runs out).
  auto covers = [](const Poll& p, const Put& put) {
    for (const auto& [shard, off] : put.max_offset) {
      auto it = p.next[put.stream].find(shard);
      if (it == p.next[put.stream].end() || it->second <= off) return false;
    }
    return true;
  };
  const auto wait_until = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                   std::chrono::duration<double>(o.wait_seconds));
  while (SteadyClock::now() < wait_until) {
    bool all = true;
    {
      std::lock_guard lock(polls_mu);
      if (polls.empty()) {
        all = false;
      } else {
        for (const auto& put : puts) all = all && covers(polls.back(), put);
      }
    }
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  polling = false;
  poller.join();

  // Freshness per record: first covering poll - PUT answer (polls are in time order).
  std::vector<std::pair<double, int64_t>> fresh;
  int64_t missing = 0;
  for (const auto& put : puts) {
    auto it = std::partition_point(polls.begin(), polls.end(),
                                   [&](const Poll& p) { return !covers(p, put); });
    // Coverage only grows, so the first covering poll is a partition point.
    if (it == polls.end()) {
      missing += put.records;
      continue;
    }
    fresh.emplace_back(std::max<double>(0, static_cast<double>(it->ms - put.acked_ms)),
                       put.records);
  }
  std::sort(fresh.begin(), fresh.end());
  int64_t total = 0;
  for (const auto& f : fresh) total += f.second;
  auto pct = [&](double p) {
    int64_t want = static_cast<int64_t>(p * static_cast<double>(total)), seen = 0;
    for (const auto& f : fresh) {
      seen += f.second;
      if (seen > want) return f.first;
    }
    return fresh.empty() ? 0.0 : fresh.back().first;
  };
  const Poll& first_poll = polls.empty() ? at_end : polls.front();
  const double engine_cpu_ms = static_cast<double>((at_end.apply_cpu_ms - first_poll.apply_cpu_ms) +
                                                   (at_end.serve_cpu_ms - first_poll.serve_cpu_ms));
  const int64_t sent = posts * 3;
  std::printf(
      "{\"rate\":%.0f,\"achieved_rate\":%.0f,\"seconds\":%.1f,\"sent\":%lld,\"failed\":%lld,"
      "\"late_ticks\":%lld,\"missing\":%lld,\"polls\":%zu,\"p50_ms\":%.0f,\"p99_ms\":%.0f,"
      "\"max_ms\":%.0f,\"engine_cpu_pct\":%.2f,\"engine_apply_cpu_ms\":%lld,"
      "\"engine_serve_cpu_ms\":%lld,\"engine_approx_bytes\":%lld,\"pending_inds\":%lld,"
      "\"process_cpu_pct\":%.1f,\"process_rss_bytes\":%lld}\n",
      o.rate, static_cast<double>(sent) / send_s, send_s, static_cast<long long>(sent),
      static_cast<long long>(failed.load()), static_cast<long long>(late_ticks.load()),
      static_cast<long long>(missing), polls.size(), pct(0.5), pct(0.99),
      fresh.empty() ? 0.0 : fresh.back().first, 100.0 * engine_cpu_ms / (send_s * 1000.0),
      static_cast<long long>(at_end.apply_cpu_ms - first_poll.apply_cpu_ms),
      static_cast<long long>(at_end.serve_cpu_ms - first_poll.serve_cpu_ms),
      static_cast<long long>(at_end.approx_bytes), static_cast<long long>(at_end.pending),
      100.0 * (usage1.first - usage0.first) / (send_s * 1000.0),
      static_cast<long long>(usage1.second));
  return missing == 0 && failed.load() == 0 ? 0 : 2;
}
