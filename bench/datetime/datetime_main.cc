// bench/datetime: timestamps parsed per second by the cleaning rules' parser
// (pinpipe/base/datetime.h; clean/rules.h before issue 14) beside two peers
// that parse the same `YYYY-MM-DD HH:MM:SS[.f][Z]` text and reject the same
// invalid dates: C++20 <chrono> (from_chars + year_month_day::ok + sys_days)
// and sscanf + timegm with a round-trip check. Then RecordCleaner's geo and
// user records per second. Prints a table and writes
// bench/results/datetime.json (or $BENCH_OUT).
//
// Usage: datetime_bench [millions of timestamps, default 4]
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pinpipe/clean/cleaner.h"
#include "pinpipe/clean/rules.h"
#if __has_include("pinpipe/base/datetime.h")
#include "pinpipe/base/datetime.h"
#define PARSER_NAME "base/datetime.h"
#else
#define PARSER_NAME "clean/rules.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;

std::optional<int64_t> PinpipeParse(std::string_view text) {
#if __has_include("pinpipe/base/datetime.h")
  return pinpipe::ParseTimestampMicros(text);
#else
  return pinpipe::clean::ParseTimestampMicros(text);
#endif
}

template <typename T>
bool Field(std::string_view text, size_t pos, size_t n, T* out) {
  auto r = std::from_chars(text.data() + pos, text.data() + pos + n, *out);
  return r.ec == std::errc() && r.ptr == text.data() + pos + n;
}

// The same syntax (fraction, 'Z' or nothing after it) on <chrono>'s calendar.
std::optional<int64_t> ChronoParse(std::string_view text) {
  using namespace std::chrono;
  int y;
  unsigned mo, d, h, mi, s;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':' ||
      !Field(text, 0, 4, &y) || !Field(text, 5, 2, &mo) || !Field(text, 8, 2, &d) ||
      !Field(text, 11, 2, &h) || !Field(text, 14, 2, &mi) || !Field(text, 17, 2, &s)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  int64_t micros = 0;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    size_t end = text.find_first_not_of("0123456789", pos + 1);
    if (end == std::string_view::npos) end = text.size();
    int64_t frac = 0;
    size_t digits = std::min<size_t>(end - pos - 1, 6);
    if (digits == 0 || !Field(text, pos + 1, digits, &frac)) return std::nullopt;
    for (size_t i = digits; i < 6; ++i) frac *= 10;
    micros = frac;
    pos = end;
  }
  if (pos < text.size() && !(text[pos] == 'Z' && pos + 1 == text.size())) return std::nullopt;
  const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
  return duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() + micros;
}

// sscanf + timegm, rejecting dates timegm normalises (2021-02-31).
std::optional<int64_t> LibcParse(std::string_view text) {
  char buf[40];
  if (text.size() >= sizeof(buf)) return std::nullopt;
  std::copy(text.begin(), text.end(), buf);
  buf[text.size()] = '\0';
  std::tm tm{};
  int n = 0;
  char sep = 0;
  if (std::sscanf(buf, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 7) {
    return std::nullopt;
  }
  const std::tm want = tm;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const int64_t secs = timegm(&tm);
  if (tm.tm_mday != want.tm_mday || tm.tm_hour != want.tm_hour || tm.tm_sec != want.tm_sec) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (buf[n] == '.') {
    int digits = 0;
    for (++n; buf[n] >= '0' && buf[n] <= '9'; ++n, ++digits) {
      if (digits < 6) micros = micros * 10 + (buf[n] - '0');
    }
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  return secs * 1'000'000 + micros;
}

template <typename F>
double Rate(const std::vector<std::string>& texts, size_t total, F parse, int64_t* check) {
  int64_t sum = 0;
  const auto start = Clock::now();
  for (size_t i = 0; i < total; ++i) {
    auto v = parse(texts[i % texts.size()]);
    sum += v ? *v : 1;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  *check = sum;
  return static_cast<double>(total) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t total = static_cast<size_t>((argc > 1 ? std::atof(argv[1]) : 4.0) * 1e6);
  std::mt19937 rng(14);
  std::vector<std::string> texts;
  std::vector<std::string> geo, user;
  for (int i = 0; i < 4096; ++i) {
    char buf[64];
    const int y = 2015 + static_cast<int>(rng() % 8), mo = 1 + static_cast<int>(rng() % 12);
    const int d = 1 + static_cast<int>(rng() % 28);
    const int h = static_cast<int>(rng() % 24), mi = static_cast<int>(rng() % 60);
    const int s = static_cast<int>(rng() % 60);
    switch (i % 4) {
      case 0:
      case 1:  // the generator's and the course data's form
        std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s);
        break;
      case 2:
        std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, mo, d, h, mi, s,
                      static_cast<int>(rng() % 1000000));
        break;
      default:  // invalid: 31 of a short month
        std::snprintf(buf, sizeof(buf), "%04d-%02d-31 %02d:%02d:%02d", y, (i / 4) % 2 ? 2 : 4, h,
                      mi, s);
    }
    texts.emplace_back(buf);
    geo.push_back(std::string("{\"ind\": ") + std::to_string(i) + ", \"timestamp\": \"" + buf +
                  "\", \"latitude\": -5.34445, \"longitude\": -177.924, \"country\": \"Fiji\"}");
    user.push_back(std::string("{\"ind\": ") + std::to_string(i) +
                   ", \"first_name\": \"Abigail\", \"last_name\": \"Ali\", \"age\": 20, "
                   "\"date_joined\": \"" +
                   buf + "\"}");
  }
  int64_t a = 0, b = 0, c = 0;
  const double pinpipe_rate = Rate(texts, total, PinpipeParse, &a);
  const double chrono_rate = Rate(texts, total, ChronoParse, &b);
  const double libc_rate = Rate(texts, total / 4, LibcParse, &c);
  if (a != b) {
    std::fprintf(stderr, "pinpipe and <chrono> disagree (%lld vs %lld)\n",
                 static_cast<long long>(a), static_cast<long long>(b));
    return 1;
  }

  pinpipe::clean::RecordCleaner cleaner;
  pinpipe::clean::GeoRow g;
  pinpipe::clean::UserRow u;
  size_t kept = 0;
  const size_t records = total / 4;
  auto start = Clock::now();
  for (size_t i = 0; i < records; ++i) {
    kept += cleaner.CleanGeo(geo[i % geo.size()], &g).ok() && g.timestamp;
    kept += cleaner.CleanUser(user[i % user.size()], &u).ok() && u.date_joined;
  }
  const double clean_rate =
      2.0 * records / std::chrono::duration<double>(Clock::now() - start).count();

  std::printf("| timestamps parsed (%zu, 1/4 invalid) | per second | vs pinpipe |\n", total);
  std::printf("| --- | --- | --- |\n");
  std::printf("| pinpipe (%s) | %.1f M | 1.00 |\n", PARSER_NAME, pinpipe_rate / 1e6);
  std::printf("| C++20 <chrono> | %.1f M | %.2f |\n", chrono_rate / 1e6,
              chrono_rate / pinpipe_rate);
  std::printf("| sscanf + timegm | %.1f M | %.2f |\n", libc_rate / 1e6, libc_rate / pinpipe_rate);
  std::printf("| RecordCleaner geo+user records | %.2f M | (%zu kept) |\n", clean_rate / 1e6, kept);

  const char* out_path = std::getenv("BENCH_OUT");
  std::ofstream out(out_path ? out_path : "bench/results/datetime.json");
  out << "{\"parser\": \"" << PARSER_NAME << "\", \"timestamps\": " << total
      << ", \"pinpipe_per_s\": " << pinpipe_rate << ", \"chrono_per_s\": " << chrono_rate
      << ", \"libc_per_s\": " << libc_rate << ", \"clean_records_per_s\": " << clean_rate << "}\n";
  return 0;
}
