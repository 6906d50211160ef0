// The field-level cleaning rules of spec/cleaning.md as pure functions:
// placeholders, follower_count coercion, strict integer/double coercion,
// the year of a timestamp, save_location's path and user_name; and the one
// wording of every reject reason.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pinpipe/base/datetime.h"

namespace pinpipe::clean {

// True when `value` is the placeholder text of pin column `column` (title,
// description, poster_name, follower_count, tag_list, image_src).
bool IsPlaceholder(std::string_view column, std::string_view value);

// `437` -> 437, `5k` -> 5000, `892k` -> 892000, `1M` -> 1000000. Digits only,
// then nothing, a lowercase `k` or an uppercase `M`; nullopt for anything else
// (including overflow of int64).
std::optional<int64_t> ParseFollowerCount(std::string_view text);

// An optional '-' then decimal digits, nothing else, fitting int64.
std::optional<int64_t> ParseInteger(std::string_view text);

// A finite decimal number (JSON number syntax, also with a leading '+'
// omitted); nullopt for anything else, including inf and nan.
std::optional<double> ParseDouble(std::string_view text);

// Timestamps are parsed and printed by ParseTimestampMicros and
// FormatTimestampMicros (pinpipe/base/datetime.h) with the default syntax.

// The UTC calendar year of a timestamp.
int YearOfMicros(int64_t micros);

// `Local save in /data/mens-fashion` -> `/data/mens-fashion`; a value without
// the `Local save in ` prefix is returned unchanged.
std::string_view SaveLocationPath(std::string_view value);

// first + " " + last; one part alone when the other is missing or empty;
// nullopt when both are. Written into `*buffer`, which the view points into.
std::optional<std::string_view> UserName(std::optional<std::string_view> first,
                                         std::optional<std::string_view> last, std::string* buffer);

// The reasons a record is rejected (the `reason` of a rejects.jsonl line and
// of the streaming job's rejects): one wording for `pinpipe batch` and
// `pinpipe stream`, which deploy/spark/pinpipe_clean.py and sql/clean.sql
// match byte for byte.
namespace reasons {

inline constexpr std::string_view kNotValidJson = "not valid JSON";
inline constexpr std::string_view kNotJsonObject = "not a JSON object";
// Not a rejection of the row: it is kept with a null follower_count.
inline constexpr std::string_view kFollowerCount = "field 'follower_count' is not a follower count";

// "missing field 'ind'": a required field is missing or null.
std::string MissingField(std::string_view field);
// "field 'age' is a boolean, not an integer": a JSON value of a kind the
// column cannot take; `kind` and `wanted` are "a string", "an integer", ...
std::string WrongKind(std::string_view field, std::string_view kind, std::string_view wanted);
// "field 'ind' is not an integer: \"x1\"": a value that does not parse; at
// most the first 40 bytes of `text` are shown.
std::string NotA(std::string_view field, std::string_view text, std::string_view wanted);
// "unreadable object: <why>": a whole object that cannot be read (corrupt gzip).
std::string UnreadableObject(std::string_view why);

}  // namespace reasons

}  // namespace pinpipe::clean
