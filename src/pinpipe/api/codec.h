// Small encoders shared by the API handlers: JSON string escaping for
// responses built without a DOM. Base64 (Kafka binary records, Kinesis blobs)
// and hex come from pinpipe/base/encoding.h.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pinpipe/base/encoding.h"

namespace pinpipe::api {

// Appends `text` as a JSON string literal (with quotes) to `out`. Invalid
// UTF-8 is passed through byte for byte; control characters are escaped.
void AppendJsonString(std::string& out, std::string_view text);

// Appends a decimal integer.
void AppendInt(std::string& out, int64_t value);

}  // namespace pinpipe::api
