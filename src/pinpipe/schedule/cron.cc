#include "pinpipe/schedule/cron.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace pinpipe::schedule {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

constexpr std::string_view kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::string_view kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

bool ParseValue(std::string_view text, int names_base, const std::string_view* names,
                int name_count, int* out) {
  if (text.empty()) return false;
  if (names && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (int i = 0; i < name_count; ++i) {
      if (lower == names[i]) {
        *out = names_base + i;
        return true;
      }
    }
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Parses one field into `bits` (values lo..hi). Returns false on bad syntax.
template <size_t N>
bool ParseField(std::string_view field, int lo, int hi, const std::string_view* names,
                int name_count, std::bitset<N>* bits, bool* restricted) {
  *restricted = field != "*" && field != "?";
  for (std::string_view item : Split(field, ',')) {
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      if (!ParseValue(item.substr(slash + 1), 0, nullptr, 0, &step) || step <= 0) return false;
      item = item.substr(0, slash);
    }
    int first = lo, last = hi;
    if (item == "*" || item == "?") {
      // whole range
    } else if (auto dash = item.find('-'); dash != std::string_view::npos) {
      if (!ParseValue(item.substr(0, dash), lo, names, name_count, &first) ||
          !ParseValue(item.substr(dash + 1), lo, names, name_count, &last)) {
        return false;
      }
    } else {
      if (!ParseValue(item, lo, names, name_count, &first)) return false;
      // "5/15" means 5, 20, 35, 50 (from 5 to the end by 15).
      last = step > 1 ? hi : first;
    }
    // Day-of-week 7 is also Sunday.
    if (N == 7 && last == 7) {
      if (first == 7) {
        first = last = 0;
      } else {
        bits->set(0);
        last = 6;
      }
    }
    if (first < lo || last > hi || first > last) return false;
    for (int v = first; v <= last; v += step) bits->set(static_cast<size_t>(v));
  }
  return true;
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view expression) {
  std::string expr(expression);
  // Trim and collapse whitespace.
  std::vector<std::string_view> fields;
  {
    std::string_view rest = expr;
    while (!rest.empty()) {
      while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front())))
        rest.remove_prefix(1);
      size_t n = 0;
      while (n < rest.size() && !std::isspace(static_cast<unsigned char>(rest[n]))) ++n;
      if (n > 0) fields.push_back(rest.substr(0, n));
      rest.remove_prefix(n);
    }
  }
  if (fields.size() == 1 && fields[0].front() == '@') {
    const std::string_view shorthand = fields[0];
    std::string_view expanded;
    if (shorthand == "@yearly" || shorthand == "@annually")
      expanded = "0 0 1 1 *";
    else if (shorthand == "@monthly")
      expanded = "0 0 1 * *";
    else if (shorthand == "@weekly")
      expanded = "0 0 * * 0";
    else if (shorthand == "@daily" || shorthand == "@midnight")
      expanded = "0 0 * * *";
    else if (shorthand == "@hourly")
      expanded = "0 * * * *";
    else
      return InvalidArgumentError("unknown schedule shorthand '" + std::string(shorthand) + "'");
    auto parsed = Parse(expanded);
    if (parsed.ok()) parsed->expression_ = std::string(shorthand);
    return parsed;
  }
  if (fields.size() != 5) {
    return InvalidArgumentError("cron expression '" + expr +
                                "' must have 5 fields (minute hour day month weekday) or be "
                                "@daily/@hourly/@weekly/@monthly/@yearly");
  }
  CronSchedule s;
  s.expression_ = expr;
  bool unused = false;
  struct Spec {
    const char* name;
    bool ok;
  };
  const Spec specs[] = {
      {"minute", ParseField(fields[0], 0, 59, nullptr, 0, &s.minutes_, &unused)},
      {"hour", ParseField(fields[1], 0, 23, nullptr, 0, &s.hours_, &unused)},
      {"day of month", ParseField(fields[2], 1, 31, nullptr, 0, &s.days_, &s.days_restricted_)},
      {"month", ParseField(fields[3], 1, 12, kMonthNames, 12, &s.months_, &unused)},
      {"day of week",
       ParseField(fields[4], 0, 7, kDayNames, 7, &s.weekdays_, &s.weekdays_restricted_)},
  };
  for (size_t i = 0; i < 5; ++i) {
    if (!specs[i].ok) {
      return InvalidArgumentError("cron expression '" + expr + "': bad " + specs[i].name +
                                  " field '" + std::string(fields[i]) + "'");
    }
  }
  return s;
}

bool CronSchedule::DayMatches(int year, int month, int day) const {
  const bool dom = days_.test(static_cast<size_t>(day));
  const bool dow = weekdays_.test(static_cast<size_t>(Weekday(DaysFromCivil(year, month, day))));
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

int64_t CronSchedule::Next(int64_t after_utc_seconds, const TimeZone& tz) const {
  // Walk wall-clock minutes, skipping whole months, days and hours that
  // cannot match. Each candidate wall time is converted back to UTC; it must
  // be strictly later than `after`.
  CivilTime t = tz.ToCivil(after_utc_seconds);
  t.second = 0;
  const int last_year = t.year + 8;
  auto add_minute = [&] {
    if (++t.minute < 60) return;
    t.minute = 0;
    if (++t.hour < 24) return;
    t.hour = 0;
    if (++t.day <= DaysInMonth(t.year, t.month)) return;
    t.day = 1;
    if (++t.month <= 12) return;
    t.month = 1;
    ++t.year;
  };
  add_minute();
  while (t.year <= last_year) {
    if (!months_.test(static_cast<size_t>(t.month))) {
      t.minute = 0, t.hour = 0, t.day = 1;
      if (++t.month > 12) t.month = 1, ++t.year;
      continue;
    }
    if (!DayMatches(t.year, t.month, t.day)) {
      t.minute = 0, t.hour = 0;
      if (++t.day > DaysInMonth(t.year, t.month)) {
        t.day = 1;
        if (++t.month > 12) t.month = 1, ++t.year;
      }
      continue;
    }
    if (!hours_.test(static_cast<size_t>(t.hour))) {
      t.minute = 59;
      add_minute();
      continue;
    }
    if (!minutes_.test(static_cast<size_t>(t.minute))) {
      add_minute();
      continue;
    }
    const int64_t utc = tz.FromCivil(t);
    if (utc > after_utc_seconds) return utc;
    add_minute();
  }
  return -1;
}

}  // namespace pinpipe::schedule
