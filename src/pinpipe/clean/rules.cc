#include "pinpipe/clean/rules.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "pinpipe/base/timezone.h"

namespace pinpipe::clean {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Unsigned decimal digits (at least one) to int64 without overflow.
std::optional<int64_t> ParseDigits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    if (value > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Reads exactly `n` digits at text[*pos].
bool Fixed(std::string_view text, size_t* pos, int n, int* out) {
  if (*pos + n > text.size()) return false;
  int value = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// The calendar arithmetic is base's (timezone.h), in this file's types.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  return ::pinpipe::DaysFromCivil(static_cast<int>(y), m, d);
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  int year = 0;
  ::pinpipe::CivilFromDays(z, &year, m, d);
  *y = year;
}

constexpr int64_t kMicrosPerDay = 86'400'000'000LL;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

bool IsPlaceholder(std::string_view column, std::string_view value) {
  if (column == "title") return value == "No Title Data Available";
  if (column == "description") {
    return value == "No description available Story format" || value == "No description available";
  }
  if (column == "poster_name" || column == "follower_count") return value == "User Info Error";
  if (column == "tag_list") return value == "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e";
  if (column == "image_src") return value == "Image src error.";
  return false;
}

std::optional<int64_t> ParseFollowerCount(std::string_view text) {
  int64_t multiplier = 1;
  if (!text.empty() && text.back() == 'k') {
    multiplier = 1000;
    text.remove_suffix(1);
  } else if (!text.empty() && text.back() == 'M') {
    multiplier = 1000000;
    text.remove_suffix(1);
  }
  auto digits = ParseDigits(text);
  if (!digits || *digits > INT64_MAX / multiplier) return std::nullopt;
  return *digits * multiplier;
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  // Accumulate negatively so that INT64_MIN parses.
  int64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    int digit = c - '0';
    if (value < (INT64_MIN + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == INT64_MIN) return std::nullopt;
    value = -value;
  }
  return value;
}

std::optional<double> ParseDouble(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::general);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  // from_chars accepts "inf" and "nan", which are not numbers here.
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseTimestampMicros(std::string_view text) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Fixed(text, &pos, 4, &year) || pos >= text.size() || text[pos++] != '-' ||
      !Fixed(text, &pos, 2, &month) || pos >= text.size() || text[pos++] != '-' ||
      !Fixed(text, &pos, 2, &day) || pos >= text.size() || (text[pos] != ' ' && text[pos] != 'T')) {
    return std::nullopt;
  }
  ++pos;
  if (!Fixed(text, &pos, 2, &hour) || pos >= text.size() || text[pos++] != ':' ||
      !Fixed(text, &pos, 2, &minute) || pos >= text.size() || text[pos++] != ':' ||
      !Fixed(text, &pos, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  int64_t offset_minutes = 0;
  if (pos < text.size()) {
    char c = text[pos];
    if (c == 'Z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh, om;
      if (!Fixed(text, &pos, 2, &oh) || pos >= text.size() || text[pos++] != ':' ||
          !Fixed(text, &pos, 2, &om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_minutes = (oh * 60 + om) * (c == '-' ? -1 : 1);
    }
  }
  if (pos != text.size()) return std::nullopt;
  int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    offset_minutes * 60;
  return seconds * 1'000'000 + micros;
}

std::string FormatTimestampMicros(int64_t micros) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rest = micros - days * kMicrosPerDay;
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t secs = rest / 1'000'000;
  int64_t frac = rest % 1'000'000;
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02d %02lld:%02lld:%02lld",
                        static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                        static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out(buf, n);
  if (frac != 0) {
    n = std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    std::string f(buf, n);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out;
}

int YearOfMicros(int64_t micros) {
  int64_t y;
  int m, d;
  CivilFromDays(FloorDiv(micros, kMicrosPerDay), &y, &m, &d);
  return static_cast<int>(y);
}

std::string_view SaveLocationPath(std::string_view value) {
  constexpr std::string_view kPrefix = "Local save in ";
  if (value.starts_with(kPrefix)) value.remove_prefix(kPrefix.size());
  return value;
}

std::optional<std::string_view> UserName(std::optional<std::string_view> first,
                                         std::optional<std::string_view> last,
                                         std::string* buffer) {
  bool has_first = first && !first->empty();
  bool has_last = last && !last->empty();
  if (!has_first && !has_last) return std::nullopt;
  buffer->clear();
  if (has_first) buffer->append(*first);
  if (has_first && has_last) buffer->push_back(' ');
  if (has_last) buffer->append(*last);
  return std::string_view(*buffer);
}

}  // namespace pinpipe::clean
