// Helpers for reading request bodies with simdjson's DOM parser (which fully
// validates the document, so nothing malformed is ever stored) from many
// threads: one parser per thread, typed field access that distinguishes
// absent, null and wrong-typed fields, and compact re-serialisation of a value.
//
// Thread-safety: the parser is thread_local; an element is valid until the
// same thread parses again.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pinpipe::api {

enum class FieldState { kAbsent, kNull, kOk, kWrongType };

// Parses `body` with this thread's parser. On failure returns the error and
// leaves `root` unset.
simdjson::error_code ParseJson(std::string_view body, simdjson::dom::element& root);

// Compact JSON text of `value` (like Jackson or API Gateway's $input.json()).
void AppendMinified(std::string& out, simdjson::dom::element value);

FieldState GetField(simdjson::dom::object object, std::string_view name,
                    simdjson::dom::element& out);
FieldState GetString(simdjson::dom::object object, std::string_view name, std::string_view& out);
FieldState GetInt(simdjson::dom::object object, std::string_view name, int64_t& out);

// Number of Unicode code points in UTF-8 text (continuation bytes skipped).
size_t Utf8Length(std::string_view text);

}  // namespace pinpipe::api
