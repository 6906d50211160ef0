#include "pinpipe/api/json_util.h"

#include <charconv>

#include "pinpipe/base/json_escape.h"

namespace pinpipe::api {

simdjson::error_code ParseJson(std::string_view body, simdjson::dom::element& root) {
  thread_local simdjson::dom::parser parser;
  auto result = parser.parse(body.data(), body.size(), true);
  if (result.error()) return result.error();
  root = result.value_unsafe();
  return simdjson::SUCCESS;
}

namespace {

// simdjson::minify's output, written straight into `out` (minify builds a
// vector and copies it twice, which was a tenth of a 500-record produce).
void Serialize(std::string& out, simdjson::dom::element value, int depth) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::OBJECT: {
      if (depth > 64) break;  // deep values are rare: leave them to simdjson
      out += '{';
      bool first = true;
      const simdjson::dom::object object = value.get_object().value_unsafe();
      for (auto field : object) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(field.key, &out);
        out += ':';
        Serialize(out, field.value, depth + 1);
      }
      out += '}';
      return;
    }
    case element_type::ARRAY: {
      if (depth > 64) break;
      out += '[';
      bool first = true;
      const simdjson::dom::array array = value.get_array().value_unsafe();
      for (simdjson::dom::element e : array) {
        if (!first) out += ',';
        first = false;
        Serialize(out, e, depth + 1);
      }
      out += ']';
      return;
    }
    case element_type::STRING:
      return AppendJsonString(value.get_string().value_unsafe(), &out);
    case element_type::INT64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof(buf), value.get_int64().value_unsafe());
      out.append(buf, r.ptr);
      return;
    }
    case element_type::UINT64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof(buf), value.get_uint64().value_unsafe());
      out.append(buf, r.ptr);
      return;
    }
    case element_type::BOOL:
      out += value.get_bool().value_unsafe() ? "true" : "false";
      return;
    case element_type::NULL_VALUE:
      out += "null";
      return;
    case element_type::DOUBLE:
      break;  // simdjson's own shortest round-trip form
  }
  out += simdjson::minify(value);
}

}  // namespace

void AppendMinified(std::string& out, simdjson::dom::element value) {
  // Built in a per-thread buffer, so that `out` is allocated once at its size.
  thread_local std::string scratch;
  scratch.clear();
  Serialize(scratch, value, 0);
  out += scratch;
  if (scratch.capacity() > (1u << 20)) std::string().swap(scratch);
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
