#include "pinpipe/api/json_util.h"

namespace pinpipe::api {

simdjson::error_code ParseJson(std::string_view body, simdjson::dom::element& root) {
  thread_local simdjson::dom::parser parser;
  auto result = parser.parse(body.data(), body.size(), true);
  if (result.error()) return result.error();
  root = result.value_unsafe();
  return simdjson::SUCCESS;
}

void AppendMinified(std::string& out, simdjson::dom::element value) {
  out += simdjson::minify(value);
}

FieldState GetField(simdjson::dom::object object, std::string_view name,
                    simdjson::dom::element& out) {
  auto r = object.at_key(name);
  if (r.error()) return FieldState::kAbsent;
  out = r.value_unsafe();
  return out.is_null() ? FieldState::kNull : FieldState::kOk;
}

FieldState GetString(simdjson::dom::object object, std::string_view name, std::string_view& out) {
  simdjson::dom::element e;
  FieldState s = GetField(object, name, e);
  if (s != FieldState::kOk) return s;
  if (!e.is_string()) return FieldState::kWrongType;
  out = e.get_string().value_unsafe();
  return FieldState::kOk;
}

FieldState GetInt(simdjson::dom::object object, std::string_view name, int64_t& out) {
  simdjson::dom::element e;
  FieldState s = GetField(object, name, e);
  if (s != FieldState::kOk) return s;
  if (e.is_int64()) {
    out = e.get_int64().value_unsafe();
    return FieldState::kOk;
  }
  return FieldState::kWrongType;
}

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace pinpipe::api
