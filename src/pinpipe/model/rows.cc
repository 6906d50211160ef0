#include "pinpipe/model/rows.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "pinpipe/base/datetime.h"
#include "pinpipe/base/json_escape.h"

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

std::span<const Column> Columns(Table table) {
  using enum ColumnType;
  static constexpr Column kPin[] = {
      {"index", kInt},        {"unique_id", kText},         {"title", kText},
      {"description", kText}, {"poster_name", kText},       {"follower_count", kText},
      {"tag_list", kText},    {"is_image_or_video", kText}, {"image_src", kText},
      {"downloaded", kInt},   {"save_location", kText},     {"category", kText}};
  static constexpr Column kGeo[] = {{"ind", kInt},
                                    {"timestamp", kDatetime},
                                    {"latitude", kDouble},
                                    {"longitude", kDouble},
                                    {"country", kText}};
  static constexpr Column kUser[] = {{"ind", kInt},
                                     {"first_name", kText},
                                     {"last_name", kText},
                                     {"age", kInt},
                                     {"date_joined", kDatetime}};
  switch (table) {
    case Table::kPin:
      return kPin;
    case Table::kGeo:
      return kGeo;
    case Table::kUser:
      return kUser;
  }
  return kPin;
}

void AppendDatetime(int64_t epoch_seconds, std::string* out) {
  AppendTimestampMicros(epoch_seconds * 1'000'000, out);
}

std::string FormatDatetime(int64_t epoch_seconds) {
  std::string out;
  AppendDatetime(epoch_seconds, &out);
  return out;
}

Result<int64_t> ParseDatetime(std::string_view text) {
  auto micros = ParseTimestampMicros(text, {.date_alone = true, .short_offsets = true});
  if (!micros) {
    return InvalidArgumentError("not a datetime (want YYYY-MM-DD HH:MM:SS): '" +
                                std::string(text.substr(0, 40)) + "'");
  }
  // Whole seconds, rounded down (a fraction is dropped).
  return *micros / 1'000'000 - (*micros % 1'000'000 < 0);
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
