// Timestamps as text: the one parser and printer of the ISO 8601 / SQL forms
// the sources, the cleaning rules (spec/cleaning.md), the sink's
// TimestampExtractor and S3's LastModified use. Calendar-correct: 2023-02-29,
// 2024-02-30 and 2024-04-31 are rejected, as are 24:00:00 and leap seconds
// (:60), which Python, Spark, Java and MySQL also refuse. The calendar is the
// proleptic Gregorian one of DaysFromCivil (timezone.h).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pinpipe {

// What ParseTimestampMicros accepts beyond the form the cleaning rules use
// (RFC 3339's, with ' ' allowed for 'T' and the offset optional).
struct TimestampSyntax {
  // `2024-05-27` alone, as midnight UTC.
  bool date_alone = false;
  // Also the offsets `±HHMM` and `±HH` (ISO 8601's basic and hour-only
  // forms, which Joda's ISODateTimeFormat and SQL databases read).
  bool short_offsets = false;
};

// Parses `YYYY-MM-DD`, then `T` or ' ' and `HH:MM:SS`, then an optional
// fraction of 1 to 9 digits (kept to microseconds, truncated), then an
// optional offset `Z` or `±HH:MM` (hours 0-23, minutes 0-59; none means UTC).
// Nothing may follow. Returns microseconds since 1970-01-01T00:00:00Z, or
// nullopt when `text` is not such a valid instant.
std::optional<int64_t> ParseTimestampMicros(std::string_view text, TimestampSyntax syntax = {});

// Appends `YYYY-MM-DD HH:MM:SS` in UTC, then `.` and the fraction of the
// second with trailing zeros removed when it is not whole. Instants outside
// the years 0000-9999 are clamped to that range.
void AppendTimestampMicros(int64_t micros, std::string* out);
std::string FormatTimestampMicros(int64_t micros);

}  // namespace pinpipe
