#include "pinpipe/base/timezone.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace pinpipe {

// Howard Hinnant's public-domain civil-date algorithms.
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* year, int* month, int* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int>(y + (m <= 2));
  *month = static_cast<int>(m);
  *day = static_cast<int>(d);
}

int Weekday(int64_t days) {
  int64_t w = (days + 4) % 7;  // 1970-01-01 was a Thursday
  return static_cast<int>(w < 0 ? w + 7 : w);
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

namespace {

int64_t ReadBigEndian(const std::string& data, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[pos + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Parses "+05:30", "-0800", "+5".
bool ParseFixedOffset(std::string_view s, int64_t* offset) {
  if (s.size() < 2 || (s[0] != '+' && s[0] != '-')) return false;
  const int sign = s[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : s.substr(1)) {
    if (c == ':') continue;
    if (c < '0' || c > '9') return false;
    digits += c;
  }
  if (digits.empty() || digits.size() > 4) return false;
  int hours = 0, minutes = 0;
  if (digits.size() <= 2) {
    hours = std::atoi(digits.c_str());
  } else {
    hours = std::atoi(digits.substr(0, digits.size() - 2).c_str());
    minutes = std::atoi(digits.substr(digits.size() - 2).c_str());
  }
  if (hours > 14 || minutes > 59) return false;
  *offset = sign * (hours * 3600 + minutes * 60);
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

bool IsLeapYear(int year) { return DaysInMonth(year, 2) == 29; }

// Reads a POSIX TZ string (POSIX.1-2017 §8.3, RFC 8536 §3.3) left to right.
// Each method consumes what it recognizes and returns false, leaving the
// position where the problem is, when the text does not match.
class PosixReader {
 public:
  explicit PosixReader(std::string_view text) : text_(text) {}

  size_t pos() const { return pos_; }
  bool AtEnd() const { return pos_ == text_.size(); }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }

  // A zone abbreviation: 3+ letters, or 3+ letters, digits, '+' or '-' in <>.
  bool Name() {
    const bool quoted = Consume('<');
    size_t n = 0;
    while (pos_ < text_.size()) {
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (!std::isalpha(c) && !(quoted && (std::isdigit(c) || c == '+' || c == '-'))) break;
      ++pos_;
      ++n;
    }
    return n >= 3 && (!quoted || Consume('>'));
  }

  // [+-]hh[:mm[:ss]] in seconds, hh at most `max_hours`.
  bool Time(int max_hours, int64_t* seconds) {
    int sign = 1;
    if (Consume('-')) {
      sign = -1;
    } else {
      Consume('+');
    }
    int h = 0, m = 0, s = 0;
    if (!Number(max_hours > 99 ? 3 : 2, 0, max_hours, &h)) return false;
    if (Consume(':')) {
      if (!Number(2, 0, 59, &m)) return false;
      if (Consume(':') && !Number(2, 0, 59, &s)) return false;
    }
    *seconds = sign * (h * int64_t{3600} + m * 60 + s);
    return true;
  }

  // 1 to `max_digits` decimal digits with a value in [lo, hi].
  bool Number(int max_digits, int lo, int hi, int* out) {
    int value = 0, digits = 0;
    while (digits < max_digits && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + (text_[pos_++] - '0');
      ++digits;
    }
    if (digits == 0 || value < lo || value > hi) return false;
    *out = value;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<TimeZone::Rule> TimeZone::ParseRule(std::string_view text) {
  PosixReader r(text);
  auto bad = [&](std::string_view expected) {
    return InvalidArgumentError("invalid POSIX TZ rule '" + std::string(text) + "': expected " +
                                std::string(expected) + " at offset " + std::to_string(r.pos()));
  };
  // Jn, n or Mm.w.d, then an optional /time.
  auto date = [&](RuleDate* d) {
    if (r.Consume('J')) {
      d->kind = RuleDate::kJulian1;
      if (!r.Number(3, 1, 365, &d->day)) return false;
    } else if (r.Consume('M')) {
      d->kind = RuleDate::kMonthWeekDay;
      if (!r.Number(2, 1, 12, &d->month) || !r.Consume('.') || !r.Number(1, 1, 5, &d->week) ||
          !r.Consume('.') || !r.Number(1, 0, 6, &d->day)) {
        return false;
      }
    } else {
      d->kind = RuleDate::kJulian0;
      if (!r.Number(3, 0, 365, &d->day)) return false;
    }
    return !r.Consume('/') || r.Time(167, &d->time);
  };
  Rule rule;
  int64_t west = 0;  // POSIX offsets count hours west of UTC
  if (!r.Name()) return bad("a zone name (3+ letters, or <quoted>)");
  if (!r.Time(24, &west)) return bad("an offset [+-]hh[:mm[:ss]] with hh <= 24");
  rule.std_offset = -west;
  if (r.AtEnd()) return rule;
  if (!r.Name()) return bad("a daylight saving time name (3+ letters, or <quoted>)");
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (!r.AtEnd() && !r.Peek(',')) {
    if (!r.Time(24, &west)) return bad("a daylight saving offset [+-]hh[:mm[:ss]] with hh <= 24");
    rule.dst_offset = -west;
  }
  if (r.AtEnd()) {
    // No dates: tzcode's default, the US rules since 2007.
    rule.start = {RuleDate::kMonthWeekDay, 0, 3, 2, 7200};
    rule.end = {RuleDate::kMonthWeekDay, 0, 11, 1, 7200};
    return rule;
  }
  if (!r.Consume(',') || !date(&rule.start)) {
    return bad("',' and the start of daylight saving time (Jn, n or Mm.w.d, then /time)");
  }
  if (!r.Consume(',') || !date(&rule.end)) {
    return bad("',' and the end of daylight saving time (Jn, n or Mm.w.d, then /time)");
  }
  if (!r.AtEnd()) return bad("the end of the rule");
  return rule;
}

int64_t TimeZone::RuleInstant(const RuleDate& date, int year, int64_t offset_before) {
  int64_t day = 0;
  switch (date.kind) {
    case RuleDate::kJulian1:  // Feb 29 is never counted
      day = DaysFromCivil(year, 1, 1) + date.day - 1 + (date.day >= 60 && IsLeapYear(year));
      break;
    case RuleDate::kJulian0:
      day = DaysFromCivil(year, 1, 1) + date.day;
      break;
    case RuleDate::kMonthWeekDay: {
      const int64_t first = DaysFromCivil(year, date.month, 1);
      day = first + (date.day - Weekday(first) + 7) % 7 + (date.week - 1) * 7;
      // Week 5 means the last such weekday, which may be in week 4.
      while (day >= first + DaysInMonth(year, date.month)) day -= 7;
      break;
    }
  }
  return day * 86400 + date.time - offset_before;
}

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  return tz;
}

Result<TimeZone> TimeZone::Load(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "Z") return Utc();
  TimeZone tz;
  tz.name_ = std::string(name);
  if (ParseFixedOffset(name, &tz.initial_offset_)) return tz;
  if (name.find("..") != std::string_view::npos || name.front() == '/') {
    return InvalidArgumentError("invalid time zone name '" + std::string(name) + "'");
  }
  const char* dir = std::getenv("TZDIR");
  const std::string path =
      std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("unknown time zone '" + std::string(name) + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  auto bad = [&] { return InvalidArgumentError("'" + path + "' is not a TZif file"); };
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) return bad();

  // Header: magic(4) version(1) reserved(15) then six 4-byte counts.
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = ReadBigEndian(data, at + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t pos = 44;
  int time_size = 4;
  auto block_size = [&](int ts) {
    return c[3] * ts + c[3] + c[4] * 6 + c[5] + c[2] * (ts + 4) + c[1] + c[0];
  };
  if (data[4] >= '2') {
    // Skip the v1 block and use the 64-bit v2 block.
    pos += static_cast<size_t>(block_size(4));
    if (data.size() < pos + 44) return bad();
    counts(pos, c);
    pos += 44;
    time_size = 8;
  }
  if (data.size() < pos + static_cast<size_t>(block_size(time_size)) || c[4] <= 0) return bad();
  const size_t times_at = pos;
  const size_t idx_at = times_at + c[3] * time_size;
  const size_t types_at = idx_at + c[3];
  auto type_offset = [&](int64_t type) { return ReadBigEndian(data, types_at + type * 6, 4); };
  // The initial offset: the first non-DST type (RFC 8536 §3.2 leaves it to type 0).
  tz.initial_offset_ = type_offset(0);
  for (int64_t i = 0; i < c[3]; ++i) {
    const int64_t at = ReadBigEndian(data, times_at + i * time_size, time_size);
    const int64_t type = static_cast<unsigned char>(data[idx_at + i]);
    if (type >= c[4]) return bad();
    tz.transitions_.push_back({at, type_offset(type)});
  }
  if (time_size == 8) {
    // The footer (RFC 8536 §3.3): "\n" TZ-string "\n"; an empty string means
    // no rule is known past the last transition.
    const size_t footer_at = pos + static_cast<size_t>(block_size(time_size));
    const size_t footer_end = data.find('\n', footer_at + 1);
    if (footer_at >= data.size() || data[footer_at] != '\n' || footer_end == std::string::npos) {
      return bad();
    }
    const std::string_view footer =
        std::string_view(data).substr(footer_at + 1, footer_end - footer_at - 1);
    if (!footer.empty()) {
      auto rule = ParseRule(footer);
      if (!rule.ok()) {
        return InvalidArgumentError("'" + path + "' has a bad footer: " + rule.status().message());
      }
      tz.rule_ = *rule;
      if (tz.transitions_.empty()) tz.initial_offset_ = rule->std_offset;
    }
  }
  return tz;
}

Result<TimeZone> TimeZone::FromPosixRule(std::string_view text) {
  PINPIPE_ASSIGN_OR_RETURN(Rule rule, ParseRule(text));
  TimeZone tz;
  tz.name_ = std::string(text);
  tz.initial_offset_ = rule.std_offset;
  tz.rule_ = rule;
  return tz;
}

std::optional<TimeZone::Transition> TimeZone::TransitionAtOrBefore(int64_t utc_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds,
                             [](int64_t t, const Transition& tr) { return t < tr.at; });
  std::optional<Transition> listed;
  if (it != transitions_.begin()) listed = *std::prev(it);
  // The rule governs only after the last listed transition.
  if (!rule_ || it != transitions_.end()) return listed;
  if (!rule_->has_dst) {
    return listed ? std::optional<Transition>({listed->at, rule_->std_offset}) : listed;
  }
  // The rule repeats every 400 Gregorian years (146097 days, a whole number of
  // weeks): evaluate it in the cycle starting in 2000 and shift the result
  // back, so any instant (clamped to +-2^62 s) keeps the years small.
  constexpr int64_t kCycle = int64_t{146097} * 86400;
  constexpr int64_t kYear2000 = 946684800;
  constexpr int64_t kLimit = int64_t{1} << 62;
  const int64_t t = std::clamp(utc_seconds, -kLimit, kLimit);
  const int64_t shift = FloorDiv(t - kYear2000, kCycle) * kCycle;
  int year, month, day;
  CivilFromDays(FloorDiv(t - shift, 86400), &year, &month, &day);
  // A rule date is within 167 hours (plus the offset) of its day, so the
  // latest change at or before `t` is one of years year-2 .. year+1. On a tie
  // the later one wins: with DST all year, a year's start coincides with the
  // previous year's end.
  std::optional<Transition> best;
  for (int y = year - 2; y <= year + 1; ++y) {
    const Transition start{RuleInstant(rule_->start, y, rule_->std_offset) + shift,
                           rule_->dst_offset};
    const Transition end{RuleInstant(rule_->end, y, rule_->dst_offset) + shift, rule_->std_offset};
    for (const Transition& tr :
         start.at <= end.at ? std::array{start, end} : std::array{end, start}) {
      if (tr.at > t || (listed && tr.at <= listed->at)) continue;
      if (!best || tr.at >= best->at) best = tr;
    }
  }
  return best ? best : listed;
}

int64_t TimeZone::OffsetAt(int64_t utc_seconds) const {
  const std::optional<Transition> tr = TransitionAtOrBefore(utc_seconds);
  return tr ? tr->offset : initial_offset_;
}

CivilTime TimeZone::ToCivil(int64_t utc_seconds) const {
  const int64_t local = utc_seconds + OffsetAt(utc_seconds);
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t secs = local - days * 86400;
  CivilTime ct;
  CivilFromDays(days, &ct.year, &ct.month, &ct.day);
  ct.hour = static_cast<int>(secs / 3600);
  ct.minute = static_cast<int>(secs / 60 % 60);
  ct.second = static_cast<int>(secs % 60);
  return ct;
}

int64_t TimeZone::FromCivil(const CivilTime& civil, bool* existed) const {
  const int64_t local = DaysFromCivil(civil.year, civil.month, civil.day) * 86400 +
                        civil.hour * 3600 + civil.minute * 60 + civil.second;
  // Candidates: the offsets in force around this local time. Take the
  // earliest UTC instant that maps back to the same local time.
  int64_t best = INT64_MAX;
  for (int64_t probe : {local - 86400, local, local + 86400}) {
    const int64_t utc = local - OffsetAt(probe);
    if (utc + OffsetAt(utc) == local) best = std::min(best, utc);
  }
  if (existed) *existed = best != INT64_MAX;
  if (best != INT64_MAX) return best;
  // In a gap: reading the civil time with the earlier offset lands just
  // after the transition that opened the gap; the gap ends at that transition.
  const int64_t before = local - OffsetAt(local - 86400);
  const std::optional<Transition> tr = TransitionAtOrBefore(before);
  return tr ? tr->at : before;
}

}  // namespace pinpipe
