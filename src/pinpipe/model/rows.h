// Row types of the three source tables (spec/data.md) and their JSON form.
//
// One post is one PinRow, one GeoRow and one UserRow with the same index. The
// structs hold the columns in table order with the types the emulator sends:
// integers and doubles as numbers, follower_count as the text it is, datetimes
// as seconds since the Unix epoch (UTC) that serialise as `YYYY-MM-DD HH:MM:SS`.
//
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::model {

// The three tables, in the order posts are sent.
enum class Table { kPin = 0, kGeo = 1, kUser = 2 };
inline constexpr std::array<Table, 3> kAllTables = {Table::kPin, Table::kGeo, Table::kUser};

// "pinterest_data", "geolocation_data", "user_data".
std::string_view TableName(Table table);
// "pin", "geo", "user": the suffix of topic and stream names.
std::string_view TableSuffix(Table table);
// The type of a source column, as the source databases store it.
enum class ColumnType { kInt, kText, kDouble, kDatetime };
struct Column {
  std::string_view name;
  ColumnType type;
};
// The columns of a table in table order ({"index", kInt}, {"unique_id",
// kText}, ...): the one list every source database and codec uses.
std::span<const Column> Columns(Table table);

// pinterest_data: one row per post.
struct PinRow {
  int64_t index = 0;
  std::string unique_id;
  std::string title;
  std::string description;
  std::string poster_name;
  std::string follower_count;  // text: "437", "5k", "1M" or "User Info Error"
  std::string tag_list;
  std::string is_image_or_video;
  std::string image_src;
  int64_t downloaded = 0;
  std::string save_location;
  std::string category;
  bool operator==(const PinRow&) const = default;
};

// geolocation_data.
struct GeoRow {
  int64_t ind = 0;
  int64_t timestamp = 0;  // seconds since the epoch, UTC
  double latitude = 0;
  double longitude = 0;
  std::string country;
  bool operator==(const GeoRow&) const = default;
};

// user_data: one row per post, not per person.
struct UserRow {
  int64_t ind = 0;
  std::string first_name;
  std::string last_name;
  int64_t age = 0;
  int64_t date_joined = 0;  // seconds since the epoch, UTC
  bool operator==(const UserRow&) const = default;
};

// Placeholders of the original data, exactly as they occur.
inline constexpr std::string_view kNoTitle = "No Title Data Available";
inline constexpr std::string_view kNoDescriptionStory = "No description available Story format";
inline constexpr std::string_view kNoDescription = "No description available";
inline constexpr std::string_view kUserInfoError = "User Info Error";
inline constexpr std::string_view kNoTags = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e";
inline constexpr std::string_view kImageSrcError = "Image src error.";
inline constexpr std::string_view kMultiVideo = "multi-video(story page format)";

// Datetimes in whole seconds, in the text of pinpipe/base/datetime.h:
// `YYYY-MM-DD HH:MM:SS` for `epoch_seconds` (UTC; years 0000-9999).
void AppendDatetime(int64_t epoch_seconds, std::string* out);
std::string FormatDatetime(int64_t epoch_seconds);
// ParseTimestampMicros with a date alone and short offsets allowed, rounded
// down to seconds; InvalidArgument for anything else (also 2021-02-31).
Result<int64_t> ParseDatetime(std::string_view text);
// JSON strings are written with AppendJsonString (pinpipe/base/json_escape.h).
// Appends a double the way Python's json module prints it for these values
// (shortest round-trip, always with a fraction: 5.0, -173.293).
void AppendJsonDouble(double value, std::string* out);
void AppendJsonInt(int64_t value, std::string* out);

// The row as one compact JSON object with the columns in table order, e.g.
// {"ind":7528,"timestamp":"2020-08-28 03:52:47","latitude":-89.9787,...}.
void AppendJson(const PinRow& row, std::string* out);
void AppendJson(const GeoRow& row, std::string* out);
void AppendJson(const UserRow& row, std::string* out);
template <typename Row>
std::string ToJson(const Row& row) {
  std::string out;
  AppendJson(row, &out);
  return out;
}

}  // namespace pinpipe::model
