// JSON Lines encoding of record values, as the connector's JsonFormat writes
// them with schemas off: each value is validated and re-emitted in compact
// form (insignificant whitespace removed), followed by '\n'.
//
// Thread-safety: JsonLineEncoder is used by one thread at a time.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe::sink {

class JsonLineEncoder {
 public:
  // Parses `value`; InvalidArgument (with simdjson's reason) when it is not
  // one valid JSON document. The returned element stays valid until the next
  // call.
  Result<simdjson::dom::element> Parse(std::string_view value);

  // Appends the compact form of the last parsed `value` and '\n' to `out`.
  void AppendLine(std::string_view value, std::string& out);

 private:
  simdjson::dom::parser parser_;
  std::string scratch_;
};

}  // namespace pinpipe::sink
