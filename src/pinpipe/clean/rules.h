// The field-level cleaning rules of spec/cleaning.md as pure functions:
// placeholders, follower_count coercion, strict integer/double coercion,
// the year of a timestamp, save_location's path and user_name.
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

}  // namespace pinpipe::clean
