// JSON string literals (RFC 8259 §7) for output built without a DOM: API
// response bodies, model rows, batch answers and reports. One rule for every
// writer, so the same text gives the same bytes everywhere:
//   - `"` and `\` are escaped; U+0008, U+0009, U+000A, U+000C and U+000D as
//     \b \t \n \f \r; the other characters below U+0020 as \u00xx with
//     lower-case hex (what simdjson's minify and Python's json module write).
//   - Nothing else is escaped: not '/', not DEL, not non-ASCII (UTF-8 passes
//     through byte for byte).
//   - Input that is not UTF-8 is repaired, never passed on: each maximal
//     ill-formed subsequence (Unicode §3.9, "U+FFFD substitution of maximal
//     subparts", which Python's errors="replace", Java's decoder and the
//     WHATWG Encoding Standard follow) becomes one U+FFFD. Overlong forms,
//     surrogates (ED A0..BF) and code points past U+10FFFF are ill-formed.
//     So the output is always valid UTF-8 and valid JSON, which simdjson and
//     nlohmann::json (both refuse invalid UTF-8) can read back.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace pinpipe {

// Appends `text` as a JSON string literal, quotes included, to `*out`.
void AppendJsonString(std::string_view text, std::string* out);

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

// The length of the well-formed UTF-8 sequence at the start of `text` (1-4),
// or 0 when `text` is empty or starts with an ill-formed one; then
// `*ill_formed` (if not null) is the length of its maximal subpart (>= 1).
size_t Utf8SequenceLength(std::string_view text, size_t* ill_formed = nullptr);

}  // namespace pinpipe
