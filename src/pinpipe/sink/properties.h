// Java .properties files, the format Kafka Connect connector configs come in.
//
// Supports what java.util.Properties.load accepts in practice: `key=value`,
// `key: value` and `key value`; `#` and `!` comment lines; leading
// whitespace; backslash line continuations; escapes \t \n \r \f \\ \uXXXX.
// Later duplicates win.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe::sink {

using Properties = std::map<std::string, std::string, std::less<>>;

// InvalidArgument (with the line number) for a malformed \u escape.
Result<Properties> ParseProperties(std::string_view text);

}  // namespace pinpipe::sink
