// Small encoders shared by the API handlers: JSON string escaping for
// responses built without a DOM, base64 (standard alphabet, strict decoding)
// for Kafka binary records and Kinesis blobs, and hex.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pinpipe::api {

// Appends `text` as a JSON string literal (with quotes) to `out`. Invalid
// UTF-8 is passed through byte for byte; control characters are escaped.
void AppendJsonString(std::string& out, std::string_view text);

// Appends a decimal integer.
void AppendInt(std::string& out, int64_t value);

std::string Base64Encode(std::string_view data);
// Appends the base64 form of `data` to `out`.
void AppendBase64(std::string& out, std::string_view data);
// Strict RFC 4648 decoding (padding required when the length is not a
// multiple of 4; whitespace rejected). nullopt on malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view data);

}  // namespace pinpipe::api
