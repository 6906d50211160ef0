#include "pinpipe/sink/json_lines.h"

namespace pinpipe::sink {

Result<simdjson::dom::element> JsonLineEncoder::Parse(std::string_view value) {
  simdjson::dom::element element;
  auto error = parser_.parse(value.data(), value.size(), true).get(element);
  if (error != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string("record value is not valid JSON: ") +
                                simdjson::error_message(error));
  }
  return element;
}

void JsonLineEncoder::AppendLine(std::string_view value, std::string& out) {
  const size_t start = out.size();
  out.resize(start + value.size() + 1);
  size_t written = 0;
  if (simdjson::minify(value.data(), value.size(), out.data() + start, written) !=
      simdjson::SUCCESS) {
    // Cannot happen for a value that parsed; keep the original bytes.
    std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(start));
    written = value.size();
  }
  out.resize(start + written);
  out.push_back('\n');
}

}  // namespace pinpipe::sink
