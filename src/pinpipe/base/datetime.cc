#include "pinpipe/base/datetime.h"

#include "pinpipe/base/timezone.h"

namespace pinpipe {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
constexpr int64_t kMinMicros = -719'528 * kMicrosPerDay;
constexpr int64_t kMaxMicros = 2'932'897 * kMicrosPerDay - 1;

inline unsigned Digit(char c) { return static_cast<unsigned>(static_cast<unsigned char>(c) - '0'); }

// The value of the `n` digits at text[pos], or -1 if one of them is not a digit.
inline int Digits(std::string_view text, size_t pos, size_t n) {
  int value = 0;
  for (size_t i = 0; i < n; ++i) {
    const unsigned d = Digit(text[pos + i]);
    if (d > 9) return -1;
    value = value * 10 + static_cast<int>(d);
  }
  return value;
}

inline void Put2(int v, char* p) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::optional<int64_t> ParseTimestampMicros(std::string_view text, TimestampSyntax syntax) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const int year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(year, month, day);
  if (text.size() == 10) {
    if (!syntax.date_alone) return std::nullopt;
    return days * kMicrosPerDay;
  }
  if (text.size() < 19 || (text[10] != ' ' && text[10] != 'T') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const int hour = Digits(text, 11, 2), minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    const size_t first = ++pos;
    while (pos < text.size() && Digit(text[pos]) <= 9) {
      if (pos - first < 6) micros = micros * 10 + Digit(text[pos]);
      ++pos;
    }
    const size_t digits = pos - first;
    if (digits == 0 || digits > 9) return std::nullopt;
    for (size_t i = digits; i < 6; ++i) micros *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    const char sign = text[pos++];
    const std::string_view rest = text.substr(pos);
    if (sign == 'Z') {
      if (!rest.empty()) return std::nullopt;
    } else if (sign == '+' || sign == '-') {
      int oh = -1, om = 0;
      if (rest.size() == 5 && rest[2] == ':') {
        oh = Digits(rest, 0, 2);
        om = Digits(rest, 3, 2);
      } else if (!syntax.short_offsets) {
        return std::nullopt;
      } else if (rest.size() == 2) {
        oh = Digits(rest, 0, 2);
      } else if (rest.size() == 4) {
        oh = Digits(rest, 0, 2);
        om = Digits(rest, 2, 2);
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
      offset_seconds = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  const int64_t seconds = days * 86'400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * kMicrosPerSecond + micros;
}

void AppendTimestampMicros(int64_t micros, std::string* out) {
  if (micros < kMinMicros) micros = kMinMicros;
  if (micros > kMaxMicros) micros = kMaxMicros;
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  int year = 0, month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  const int secs = static_cast<int>(rest / kMicrosPerSecond);
  int frac = static_cast<int>(rest % kMicrosPerSecond);
  char buf[26];
  Put2(year / 100, buf);
  Put2(year % 100, buf + 2);
  buf[4] = '-';
  Put2(month, buf + 5);
  buf[7] = '-';
  Put2(day, buf + 8);
  buf[10] = ' ';
  Put2(secs / 3600, buf + 11);
  buf[13] = ':';
  Put2(secs / 60 % 60, buf + 14);
  buf[16] = ':';
  Put2(secs % 60, buf + 17);
  size_t n = 19;
  if (frac != 0) {
    buf[n++] = '.';
    for (int scale = 100'000; frac != 0; scale /= 10) {
      buf[n++] = static_cast<char>('0' + frac / scale);
      frac %= scale;
    }
  }
  out->append(buf, n);
}

std::string FormatTimestampMicros(int64_t micros) {
  std::string out;
  AppendTimestampMicros(micros, &out);
  return out;
}

}  // namespace pinpipe
