#include "pinpipe/base/timezone.h"

#include <algorithm>
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

}  // namespace

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
  return tz;
}

int64_t TimeZone::OffsetAt(int64_t utc_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds,
                             [](int64_t t, const Transition& tr) { return t < tr.at; });
  if (it == transitions_.begin()) return initial_offset_;
  return std::prev(it)->offset;
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
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), before,
                             [](int64_t t, const Transition& tr) { return t < tr.at; });
  return it == transitions_.begin() ? before : std::prev(it)->at;
}

}  // namespace pinpipe
