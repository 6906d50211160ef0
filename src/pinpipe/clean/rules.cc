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

int YearOfMicros(int64_t micros) {
  int y, m, d;
  CivilFromDays(FloorDiv(micros, kMicrosPerDay), &y, &m, &d);
  return y;
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

namespace reasons {

std::string MissingField(std::string_view field) {
  return "missing field '" + std::string(field) + "'";
}

std::string WrongKind(std::string_view field, std::string_view kind, std::string_view wanted) {
  return "field '" + std::string(field) + "' is " + std::string(kind) + ", not " +
         std::string(wanted);
}

std::string NotA(std::string_view field, std::string_view text, std::string_view wanted) {
  return "field '" + std::string(field) + "' is not " + std::string(wanted) + ": \"" +
         std::string(text.substr(0, 40)) + "\"";
}

std::string UnreadableObject(std::string_view why) {
  return "unreadable object: " + std::string(why);
}

}  // namespace reasons

}  // namespace pinpipe::clean
