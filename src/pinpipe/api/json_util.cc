#include "pinpipe/api/json_util.h"

#include <charconv>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pinpipe::api {

simdjson::error_code ParseJson(std::string_view body, simdjson::dom::element& root) {
  thread_local simdjson::dom::parser parser;
  auto result = parser.parse(body.data(), body.size(), true);
  if (result.error()) return result.error();
  root = result.value_unsafe();
  return simdjson::SUCCESS;
}

namespace {

// The escapes of simdjson's mini_formatter, so that the bytes stay what
// simdjson::minify writes: \" and \\, the short forms \b \t \n \f \r, and
// \u00xx (lower-case hex) for the other control characters; nothing else
// (not '/', not non-ASCII) is escaped.
constexpr std::string_view kControlEscapes[32] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};

constexpr bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Index of the first byte of s[from..] that needs an escape, or s.size().
size_t FindEscape(std::string_view s, size_t from) {
  size_t i = from;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1F);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max);
    const __m128i hit =
        _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (const int mask = _mm_movemask_epi8(hit); mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
  }
#endif
  for (; i < s.size(); ++i) {
    if (NeedsEscape(static_cast<unsigned char>(s[i]))) return i;
  }
  return s.size();
}

void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // start of the bytes not copied yet
  for (size_t i = FindEscape(s, 0); i < s.size(); i = FindEscape(s, run)) {
    out.append(s.data() + run, i - run);
    run = i + 1;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += kControlEscapes[c];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

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
        AppendQuoted(out, field.key);
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
      return AppendQuoted(out, value.get_string().value_unsafe());
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
