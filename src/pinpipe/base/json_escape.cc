#include "pinpipe/base/json_escape.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pinpipe {
namespace {

constexpr std::string_view kControlEscapes[32] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Bytes the plain copy loop stops at: controls, '"', '\\' and every non-ASCII
// byte (checked as UTF-8 by the slow path).
constexpr bool Special(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

// Index of the first special byte of s[from..], or s.size().
size_t FindSpecial(std::string_view s, size_t from) {
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
    // movemask of `v` itself is the top bit: the bytes >= 0x80.
    const int mask = _mm_movemask_epi8(hit) | _mm_movemask_epi8(v);
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < s.size(); ++i) {
    if (Special(static_cast<unsigned char>(s[i]))) return i;
  }
  return s.size();
}

}  // namespace

size_t Utf8SequenceLength(std::string_view text, size_t* ill_formed) {
  size_t bad = 1;
  size_t n = 0;
  if (!text.empty()) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const unsigned char c = p[0];
    // Unicode Table 3-7: the range of the second byte depends on the first;
    // the third and fourth are always 80..BF.
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    // n == 0: 80..C1 and F5..FF never start a sequence.
    for (size_t i = 1; i < n; ++i) {
      if (i >= text.size() || p[i] < lo || p[i] > hi) {
        n = 0;
        break;
      }
      bad = i + 1;
      lo = 0x80;
      hi = 0xBF;
    }
  }
  if (n == 0 && ill_formed != nullptr) *ill_formed = bad;
  return n;
}

void AppendJsonString(std::string_view text, std::string* out) {
  out->reserve(out->size() + text.size() + 2);
  out->push_back('"');
  size_t run = 0;  // start of the bytes not copied yet
  size_t i = FindSpecial(text, 0);
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t bad = 0;
      if (size_t len = Utf8SequenceLength(text.substr(i), &bad); len > 0) {
        i = FindSpecial(text, i + len);
        continue;
      }
      out->append(text.data() + run, i - run);
      out->append(kReplacement);
      i += bad;
    } else {
      out->append(text.data() + run, i - run);
      if (c == '"') {
        out->append("\\\"");
      } else if (c == '\\') {
        out->append("\\\\");
      } else {
        out->append(kControlEscapes[c]);
      }
      ++i;
    }
    run = i;
    i = FindSpecial(text, i);
  }
  out->append(text.data() + run, text.size() - run);
  out->push_back('"');
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

}  // namespace pinpipe
