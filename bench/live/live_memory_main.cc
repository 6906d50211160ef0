// live_memory: the live engine's memory and CPU per row at 10M posts, on a
// synthetic feed (the generator's posts, fields cleaned by the clean rules;
// no HTTP, no streams), with geo rows arriving `--lag` posts after their pin
// and user rows 2 x lag after (late arrivals keep the join buffer busy).
// Prints one JSON object.
//
//   live_memory [--posts 10000000] [--lag 100000]
#include <sys/resource.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "pinpipe/clean/rules.h"
#include "pinpipe/live/engine.h"
#include "pinpipe/model/rows.h"
#include "pinpipe/source/generator.h"

namespace {

using namespace pinpipe;

int64_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, rss = 0;
  in >> size >> rss;
  return rss * 4096;
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::optional<std::string_view> Text(const std::string& s, std::string_view placeholder = {}) {
  if (s.empty() || (!placeholder.empty() && s == placeholder)) return std::nullopt;
  return std::string_view(s);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t posts = 10'000'000, lag = 100'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--posts")
      posts = std::atoll(argv[i + 1]);
    else if (k == "--lag")
      lag = std::atoll(argv[i + 1]);
  }
  source::Generator gen(source::kDefaultSeed, posts);
  model::PinRow pin;
  model::GeoRow geo;
  model::UserRow user;
  live::Engine engine;
  const int64_t rss0 = RssBytes();
  double cpu_engine = 0;
  int64_t peak_pending = 0;
  auto timed = [&](auto&& f) {
    const double c0 = CpuSeconds();
    f();
    cpu_engine += CpuSeconds() - c0;
  };
  // Rows are cleaned into a chunk first, then folded in under one timer, so
  // the CPU figure is the engine's alone.
  struct PinIn {
    int64_t ind;
    std::string category, poster;
    bool has_category, has_poster;
    std::optional<int64_t> followers;
  };
  struct GeoIn {
    int64_t ind, ts;
    std::string country;
  };
  struct UserIn {
    int64_t ind, age, joined;
  };
  constexpr int64_t kChunk = 65536;
  std::vector<PinIn> pins;
  std::vector<GeoIn> geos;
  std::vector<UserIn> users;
  for (int64_t base = 0; base < posts + 2 * lag; base += kChunk) {
    pins.clear();
    geos.clear();
    users.clear();
    for (int64_t i = base; i < std::min(base + kChunk, posts + 2 * lag); ++i) {
      if (i < posts) {
        gen.Post(i, &pin, &geo, &user);
        pins.push_back({pin.index, pin.category, pin.poster_name, !pin.category.empty(),
                        Text(pin.poster_name, model::kUserInfoError).has_value(),
                        clean::ParseFollowerCount(pin.follower_count)});
      }
      if (i - lag >= 0 && i - lag < posts) {
        gen.Post(i - lag, &pin, &geo, &user);
        geos.push_back({geo.ind, geo.timestamp * 1'000'000, geo.country});
      }
      if (i - 2 * lag >= 0 && i - 2 * lag < posts) {
        gen.Post(i - 2 * lag, &pin, &geo, &user);
        users.push_back({user.ind, user.age, user.date_joined * 1'000'000});
      }
    }
    timed([&] {
      for (const auto& p : pins) {
        engine.AddPin(
            p.ind, p.has_category ? std::optional<std::string_view>(p.category) : std::nullopt,
            p.followers, p.has_poster ? std::optional<std::string_view>(p.poster) : std::nullopt);
      }
      for (const auto& g : geos) engine.AddGeo(g.ind, Text(g.country), g.ts);
      for (const auto& u : users) engine.AddUser(u.ind, u.age, u.joined);
    });
    peak_pending = std::max(peak_pending, engine.stats().pending_inds);
  }
  const auto s = engine.stats();
  const int64_t rss1 = RssBytes();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double rows = static_cast<double>(posts) * 3;
  std::printf(
      "{\"posts\":%lld,\"lag\":%lld,\"rss_growth_bytes\":%lld,\"peak_rss_bytes\":%lld,"
      "\"engine_approx_bytes\":%lld,\"peak_pending_inds\":%lld,\"pending_inds\":%lld,"
      "\"groups\":%lld,\"distinct_values\":%lld,\"engine_ns_per_row\":%.0f,"
      "\"engine_cpu_pct_at_10k_records_s\":%.3f}\n",
      static_cast<long long>(posts), static_cast<long long>(lag),
      static_cast<long long>(rss1 - rss0), static_cast<long long>(ru.ru_maxrss) * 1024,
      static_cast<long long>(s.approx_bytes), static_cast<long long>(peak_pending),
      static_cast<long long>(s.pending_inds), static_cast<long long>(s.groups),
      static_cast<long long>(s.distinct_values), cpu_engine * 1e9 / rows,
      100.0 * cpu_engine / rows * 10'000);
  return 0;
}
