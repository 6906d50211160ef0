#include "pinpipe/model/rows.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "pinpipe/base/timezone.h"

namespace pinpipe::model {

std::string_view TableName(Table table) {
  switch (table) {
    case Table::kPin:
      return "pinterest_data";
    case Table::kGeo:
      return "geolocation_data";
    case Table::kUser:
      return "user_data";
  }
  return "";
}

std::string_view TableSuffix(Table table) {
  switch (table) {
    case Table::kPin:
      return "pin";
    case Table::kGeo:
      return "geo";
    case Table::kUser:
      return "user";
  }
  return "";
}

const std::vector<std::string_view>& ColumnNames(Table table) {
  static const std::vector<std::string_view> pin = {
      "index",       "unique_id",      "title",         "description",
      "poster_name", "follower_count", "tag_list",      "is_image_or_video",
      "image_src",   "downloaded",     "save_location", "category"};
  static const std::vector<std::string_view> geo = {"ind", "timestamp", "latitude", "longitude",
                                                    "country"};
  static const std::vector<std::string_view> user = {"ind", "first_name", "last_name", "age",
                                                     "date_joined"};
  switch (table) {
    case Table::kPin:
      return pin;
    case Table::kGeo:
      return geo;
    case Table::kUser:
      return user;
  }
  return pin;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  return ::pinpipe::DaysFromCivil(static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
}

namespace {

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  int y = 0, m = 0, d = 0;
  ::pinpipe::CivilFromDays(z, &y, &m, &d);
  *year = y;
  *month = static_cast<unsigned>(m);
  *day = static_cast<unsigned>(d);
}

inline void Put2(unsigned v, char* p) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

bool ReadDigits(std::string_view text, size_t pos, size_t n, unsigned* value) {
  if (pos + n > text.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *value = v;
  return true;
}

}  // namespace

void AppendDatetime(int64_t epoch_seconds, std::string* out) {
  int64_t days = epoch_seconds >= 0 ? epoch_seconds / 86400 : -((-epoch_seconds + 86399) / 86400);
  int64_t secs = epoch_seconds - days * 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0) year = 0;
  if (year > 9999) year = 9999;
  char buf[19];
  Put2(static_cast<unsigned>(year / 100), buf);
  Put2(static_cast<unsigned>(year % 100), buf + 2);
  buf[4] = '-';
  Put2(month, buf + 5);
  buf[7] = '-';
  Put2(day, buf + 8);
  buf[10] = ' ';
  Put2(static_cast<unsigned>(secs / 3600), buf + 11);
  buf[13] = ':';
  Put2(static_cast<unsigned>(secs / 60 % 60), buf + 14);
  buf[16] = ':';
  Put2(static_cast<unsigned>(secs % 60), buf + 17);
  out->append(buf, sizeof(buf));
}

std::string FormatDatetime(int64_t epoch_seconds) {
  std::string out;
  AppendDatetime(epoch_seconds, &out);
  return out;
}

Result<int64_t> ParseDatetime(std::string_view text) {
  unsigned y, mo, d, h = 0, mi = 0, s = 0;
  bool ok = ReadDigits(text, 0, 4, &y) && text.size() >= 10 && text[4] == '-' &&
            ReadDigits(text, 5, 2, &mo) && text[7] == '-' && ReadDigits(text, 8, 2, &d);
  if (ok && text.size() > 10) {
    ok = (text[10] == ' ' || text[10] == 'T') && ReadDigits(text, 11, 2, &h) && text.size() >= 19 &&
         text[13] == ':' && ReadDigits(text, 14, 2, &mi) && text[16] == ':' &&
         ReadDigits(text, 17, 2, &s);
    if (ok && text.size() > 19) {
      // Accept a fraction (.123456), a Z and a +00:00 offset of zero.
      std::string_view rest = text.substr(19);
      size_t i = 0;
      if (rest[0] == '.') {
        i = 1;
        while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
      }
      rest = rest.substr(i);
      ok = rest.empty() || rest == "Z" || rest == "+00:00" || rest == "+00";
    }
  }
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return InvalidArgumentError("not a datetime (want YYYY-MM-DD HH:MM:SS): '" +
                                std::string(text.substr(0, 40)) + "'");
  }
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

namespace {

// Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid.
size_t Utf8SequenceLength(const unsigned char* p, size_t avail) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (avail < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  // Reject overlong forms, surrogates and values beyond U+10FFFF.
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + text.size() + 2);
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(p + i, n - i);
      if (len > 0) {
        i += len;
        continue;
      }
    }
    out->append(text.data() + run, i - run);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out->append(esc, 6);
        } else {
          out->append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not UTF-8
        }
    }
    ++i;
    run = i;
  }
  out->append(text.data() + run, n - run);
  out->push_back('"');
}

void AppendJsonDouble(double value, std::string* out) {
  if (!std::isfinite(value)) {
    out->append("null");  // JSON has no NaN/Infinity
    return;
  }
  char buf[64];
  // Fixed notation with the shortest round-trip digits: what Python prints
  // for coordinates (it switches to exponents only below 1e-4 / above 1e16).
  auto fmt = (std::fabs(value) >= 1e16 || (value != 0 && std::fabs(value) < 1e-4))
                 ? std::chars_format::general
                 : std::chars_format::fixed;
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, fmt);
  if (ec != std::errc()) {
    out->append("null");
    return;
  }
  out->append(buf, end);
  if (std::memchr(buf, '.', end - buf) == nullptr && std::memchr(buf, 'e', end - buf) == nullptr) {
    out->append(".0");
  }
}

void AppendJsonInt(int64_t value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;
  out->append(buf, end);
}

namespace {

inline void Key(std::string_view key_with_quotes_and_colon, std::string* out) {
  out->append(key_with_quotes_and_colon);
}

}  // namespace

void AppendJson(const PinRow& r, std::string* out) {
  Key("{\"index\":", out);
  AppendJsonInt(r.index, out);
  Key(",\"unique_id\":", out);
  AppendJsonString(r.unique_id, out);
  Key(",\"title\":", out);
  AppendJsonString(r.title, out);
  Key(",\"description\":", out);
  AppendJsonString(r.description, out);
  Key(",\"poster_name\":", out);
  AppendJsonString(r.poster_name, out);
  Key(",\"follower_count\":", out);
  AppendJsonString(r.follower_count, out);
  Key(",\"tag_list\":", out);
  AppendJsonString(r.tag_list, out);
  Key(",\"is_image_or_video\":", out);
  AppendJsonString(r.is_image_or_video, out);
  Key(",\"image_src\":", out);
  AppendJsonString(r.image_src, out);
  Key(",\"downloaded\":", out);
  AppendJsonInt(r.downloaded, out);
  Key(",\"save_location\":", out);
  AppendJsonString(r.save_location, out);
  Key(",\"category\":", out);
  AppendJsonString(r.category, out);
  out->push_back('}');
}

void AppendJson(const GeoRow& r, std::string* out) {
  Key("{\"ind\":", out);
  AppendJsonInt(r.ind, out);
  Key(",\"timestamp\":\"", out);
  AppendDatetime(r.timestamp, out);
  Key("\",\"latitude\":", out);
  AppendJsonDouble(r.latitude, out);
  Key(",\"longitude\":", out);
  AppendJsonDouble(r.longitude, out);
  Key(",\"country\":", out);
  AppendJsonString(r.country, out);
  out->push_back('}');
}

void AppendJson(const UserRow& r, std::string* out) {
  Key("{\"ind\":", out);
  AppendJsonInt(r.ind, out);
  Key(",\"first_name\":", out);
  AppendJsonString(r.first_name, out);
  Key(",\"last_name\":", out);
  AppendJsonString(r.last_name, out);
  Key(",\"age\":", out);
  AppendJsonInt(r.age, out);
  Key(",\"date_joined\":\"", out);
  AppendDatetime(r.date_joined, out);
  out->append("\"}");
}

}  // namespace pinpipe::model
