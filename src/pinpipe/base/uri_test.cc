#include "pinpipe/base/uri.h"

#include <gtest/gtest.h>

namespace pinpipe {
namespace {

// Cases from AWS's SigV4 test suite (get-vanilla-query-unreserved, get-utf8,
// get-space) and S3's object key rules.
TEST(UriEncodeTest, AwsRules) {
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  EXPECT_EQ(UriEncode(unreserved, false), unreserved);
  EXPECT_EQ(UriEncode("/\xE1\x88\xB4", true), "/%E1%88%B4");
  EXPECT_EQ(UriEncode("/example space/", true), "/example%20space/");
  EXPECT_EQ(UriEncode("a+b=c&d*e", false), "a%2Bb%3Dc%26d%2Ae");
  EXPECT_EQ(UriEncode("topics/p.pin/partition=0/x+0+0000000000.json", true),
            "topics/p.pin/partition%3D0/x%2B0%2B0000000000.json");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode(std::string("\x00\xff", 2), false), "%00%FF");
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(PercentDecodeTest, DecodesEscapesAndKeepsPlus) {
  EXPECT_EQ(*PercentDecode("a%2Bb%3dc+d"), "a+b=c+d");
  EXPECT_EQ(*PercentDecode("p%40ss%3Aw%2Fd"), "p@ss:w/d");
  EXPECT_EQ(*PercentDecode("%E1%88%B4"), "\xE1\x88\xB4");
  EXPECT_EQ(*PercentDecode(""), "");
  for (std::string text : {"%", "%4", "a%4", "%zz", "%4g", "%%41"}) {
    auto r = PercentDecode(text);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
  }
  for (std::string text : {"/a b/\xE1\x88\xB4", "x+y=z&w", "~-._"}) {
    EXPECT_EQ(*PercentDecode(UriEncode(text, false)), text);
  }
}

}  // namespace
}  // namespace pinpipe
