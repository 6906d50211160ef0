// Byte encodings shared by the wire protocols: base64 (RFC 4648, standard
// alphabet with padding, as Kinesis and Kafka REST use) and lowercase hex.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pinpipe {

std::string Base64Encode(std::string_view data);
void AppendBase64(std::string& out, std::string_view data);
// nullopt for text that is not padded base64 (length a multiple of 4, padding
// only at the end). Whitespace is not allowed; bits hidden by padding are ignored.
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view data);

}  // namespace pinpipe
