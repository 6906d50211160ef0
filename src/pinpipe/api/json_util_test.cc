#include "pinpipe/api/json_util.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pinpipe::api {
namespace {

// AppendMinified writes the value itself instead of through simdjson::minify;
// the stored bytes must stay exactly what simdjson::minify gives.
void ExpectSameAsSimdjson(const std::string& json) {
  simdjson::dom::element root;
  ASSERT_EQ(ParseJson(json, root), simdjson::SUCCESS) << json;
  const std::string want = simdjson::minify(root);
  std::string got = "prefix:";  // appends, never replaces
  AppendMinified(got, root);
  EXPECT_EQ(got, "prefix:" + want) << json;
}

TEST(JsonUtilTest, MinifiedBytesAreSimdjsonsOnEveryKindOfValue) {
  const std::vector<std::string> cases = {
      // Whitespace outside strings, and inside strings (kept).
      " { \"a\" : 1 ,\n\t\"b\" : [ 1 , 2 , { } , [ ] ] , \"c d\" : \"x  y\\n z\" } ",
      "{\"index\":7,\"title\":\"No Title Data Available\",\"downloaded\":1}",
      // Every escape, in keys and values: short forms, \u forms of control
      // characters (upper- and lower-case hex in the input), \/ and escaped
      // non-ASCII (written raw), surrogate pairs.
      R"({"q\"k\\":"a\"b\\c\/d\b\f\n\r\t\u0000\u0001\u001F\u001f\u000B\u007f"})",
      R"(["\u00e9\u00E9", "é", "\u20ac€", "\ud83d\ude00😀", "\u2028\u2029", ""])",
      // Numbers: ints at the edges, uint64 beyond int64, doubles of all forms.
      "[0, -0, 1, -1, 9223372036854775807, -9223372036854775808, 9223372036854775808, "
      "18446744073709551615]",
      "[0.0, -0.0, 1.5, 1e2, 1E-7, 2.5e+300, 0.1, 123456789.123456789, -1.0e-320, "
      "1.7976931348623157e308]",
      // Atoms, top-level scalars.
      "[true, false, null]",
      "\"top\"",
      "42",
      "-3.25",
      "true",
      "null",
      "{}",
      "[]",
      // Empty containers inside containers, duplicate keys (kept in order).
      R"({"a":{},"b":[],"c":[{}],"a":[[]]})",
  };
  for (const auto& c : cases) ExpectSameAsSimdjson(c);
}

TEST(JsonUtilTest, MinifiedBytesAreSimdjsonsForDeepValues) {
  // Deeper than simdjson's own iteration (16) and than the writer's (64).
  for (int depth : {15, 16, 17, 63, 64, 65, 66, 200}) {
    std::string json;
    for (int i = 0; i < depth; ++i) json += i % 2 ? "{ \"k\" : " : "[ 1 , ";
    json += "\"leaf \\\" \"";
    for (int i = depth - 1; i >= 0; --i) json += i % 2 ? " }" : " ]";
    ExpectSameAsSimdjson(json);
  }
}

TEST(JsonUtilTest, MinifiedBytesAreSimdjsonsForEveryControlAndAsciiCharacter) {
  std::string json = "\"";
  for (int c = 0; c < 128; ++c) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\u%04x", c);
    json += buf;
    if (c >= 0x20 && c != '"' && c != '\\') json += static_cast<char>(c);
  }
  json += "\"";
  ExpectSameAsSimdjson(json);
  ExpectSameAsSimdjson("{\"" + json.substr(1, json.size() - 2) + "\":" + json + "}");
}

TEST(JsonUtilTest, MinifiedBytesAreSimdjsonsWhereverTheEscapeFallsInALongString) {
  // The writer scans 16 bytes at a time: escapes and non-ASCII bytes before,
  // on and after every block boundary, alone and in runs.
  for (const std::string special : {"\\\"", "\\\\", "\\n", "\\u0001", "\\u001f", "\u00e9", "\u20ac",
                                    "\\u00ff", "\\/", "\\\"\\\"", "\\n\\t\\r"}) {
    for (size_t pos = 0; pos <= 40; ++pos) {
      std::string text(pos, 'a');
      text += special;
      text += std::string(40 - pos, 'b');
      ExpectSameAsSimdjson("{\"k\":\"" + text + "\",\"" + text + "\":[\"" + text + "\"]}");
    }
  }
}

}  // namespace
}  // namespace pinpipe::api
