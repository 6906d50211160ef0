// Small encoders shared by the API handlers. JSON string escaping for
// responses built without a DOM comes from pinpipe/base/json_escape.h, base64
// (Kafka binary records, Kinesis blobs) and hex from pinpipe/base/encoding.h.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pinpipe/base/encoding.h"
#include "pinpipe/base/json_escape.h"

namespace pinpipe::api {

// Appends a decimal integer.
void AppendInt(std::string& out, int64_t value);

}  // namespace pinpipe::api
