#include "pinpipe/base/json_escape.h"

#include <gtest/gtest.h>
#include <iconv.h>

#include <random>

namespace pinpipe {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string Quote(std::string_view text) { return JsonQuote(text); }

TEST(JsonEscapeTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  // Short forms for the five that have one (batch/render.cc used to write
  // \u0008 and \u000c), lower-case \u00xx for the rest, as simdjson writes.
  EXPECT_EQ(Quote("\b\t\n\f\r"), "\"\\b\\t\\n\\f\\r\"");
  EXPECT_EQ(Quote(std::string("\x00\x01\x0b\x1f", 4)), "\"\\u0000\\u0001\\u000b\\u001f\"");
  // Not escaped: '/', DEL, space.
  EXPECT_EQ(Quote("a/b \x7f"), "\"a/b \x7f\"");
}

TEST(JsonEscapeTest, PassesValidUtf8Through) {
  const std::string text = "48ｘ18cm 🎄 Ísland 日本 \xEF\xBF\xBD \xF4\x8F\xBF\xBF";
  EXPECT_EQ(Quote(text), "\"" + text + "\"");
  // Long enough for the 16-byte scan, with specials at every position.
  std::string long_text(40, 'x');
  for (size_t i = 0; i < long_text.size(); ++i) {
    std::string t = long_text;
    t[i] = '"';
    EXPECT_EQ(Quote(t), "\"" + t.substr(0, i) + "\\\"" + t.substr(i + 1) + "\"") << i;
  }
}

// api/codec.cc passed these through (invalid JSON out), model/rows.cc gave
// one U+FFFD per byte, batch/render.cc kept overlongs and surrogates. Now:
// one U+FFFD per maximal subpart, byte for byte what Python's
// bytes.decode("utf-8", "replace") gives.
TEST(JsonEscapeTest, ReplacesEachMaximalIllFormedSubpartWithOneFffd) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"x\xff y", "x" + kFffd + " y"},
      {"\xE2\x82"
       "A",
       kFffd + "A"},                // truncated 3-byte sequence: one
      {"\xF0\x9F\x8E", kFffd},      // truncated 4-byte sequence at the end
      {"\xC0\xAF", kFffd + kFffd},  // overlong '/'
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},              // a surrogate
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // past U+10FFFF
      {"\x80\xBF", kFffd + kFffd},                          // lone continuations
      // Unicode §3.9, Table 3-8.
      {"a\xF1\x80\x80\xE1\x80\xC2"
       "b\x80"
       "c\x80\xBF"
       "d",
       "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d"},
  };
  for (const auto& c : cases) EXPECT_EQ(Quote(c.in), "\"" + c.out + "\"") << c.out;
}

TEST(JsonEscapeTest, Utf8SequenceLength) {
  size_t bad = 0;
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9"), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xE6\x97\xA5"), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x8E\x84"), 4u);
  EXPECT_EQ(Utf8SequenceLength("", &bad), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x8E", &bad), 0u);
  EXPECT_EQ(bad, 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x8F", &bad), 0u);
  EXPECT_EQ(bad, 1u);
}

// Whatever the bytes, the output is UTF-8 that glibc's decoder accepts.
TEST(JsonEscapeTest, OutputIsAlwaysValidUtf8) {
  iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
  ASSERT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::mt19937 rng(14);
  for (int round = 0; round < 2000; ++round) {
    std::string in(rng() % 40, '\0');
    for (char& c : in) c = static_cast<char>(rng() % 4 == 0 ? 'a' : rng());
    std::string out = Quote(in);
    std::string wide(out.size() * 4, '\0');
    char* src = out.data();
    char* dst = wide.data();
    size_t src_left = out.size(), dst_left = wide.size();
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    ASSERT_NE(iconv(cd, &src, &src_left, &dst, &dst_left), static_cast<size_t>(-1))
        << "invalid UTF-8 written for round " << round;
    ASSERT_EQ(src_left, 0u);
  }
  iconv_close(cd);
}

}  // namespace
}  // namespace pinpipe
