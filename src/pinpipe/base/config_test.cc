#include "pinpipe/base/config.h"

#include <gtest/gtest.h>

namespace pinpipe {
namespace {

TEST(ConfigTest, DefaultsAreKnownKeys) {
  Config c;
  EXPECT_EQ(c.Get("general.data_dir"), "./data");
  EXPECT_EQ(c.Get("no.such_key"), "");
}

TEST(ConfigTest, PrecedenceFileEnvFlag) {
  Config c;
  ASSERT_TRUE(c.MergeToml("[general]\nprefix = \"fromfile\"\ndata_dir = \"/f\"\n", "t.toml").ok());
  EXPECT_EQ(c.Get("general.prefix"), "fromfile");

  auto loaded = Config::Load("", {"PINPIPE_GENERAL_PREFIX=fromenv", "HOME=/root"},
                             {"general.data_dir=/flag"});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->Get("general.prefix"), "fromenv");
  EXPECT_EQ(loaded->Get("general.data_dir"), "/flag");
}

TEST(ConfigTest, UnknownKeysAreRejected) {
  Config c;
  Status s = c.MergeToml("[general]\nprefx = \"x\"\n", "t.toml");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("prefx"), std::string::npos);
  auto loaded = Config::Load("", {}, {"general.nope=1"});
  EXPECT_FALSE(loaded.ok());
}

TEST(ConfigTest, TomlSyntaxErrorNamesLine) {
  Config c;
  Status s = c.MergeToml("[general]\nprefix = \n", "bad.toml");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bad.toml:2"), std::string::npos) << s.message();
}

TEST(ConfigTest, KafkaSectionPassesThrough) {
  Config c;
  ASSERT_TRUE(
      c.MergeToml("[kafka]\nbootstrap.servers = \"a:9092\"\n\"sasl.password\" = \"pw\"\n", "k.toml")
          .ok());
  auto loaded = Config::Load("", {"PINPIPE_KAFKA_SECURITY_PROTOCOL=SASL_SSL"}, {});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Get("kafka.security.protocol"), "SASL_SSL");
  EXPECT_EQ(c.Section("kafka").at("bootstrap.servers"), "a:9092");
  const std::string shown = c.Show();
  EXPECT_EQ(shown.find("pw"), std::string::npos) << shown;
  EXPECT_NE(shown.find("a:9092"), std::string::npos);
}

TEST(ConfigTest, SecretsAreMasked) {
  auto loaded = Config::Load("", {"PINPIPE_SOURCE_PASSWORD=hunter2"}, {});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Get("source.password"), "hunter2");
  EXPECT_EQ(loaded->Show().find("hunter2"), std::string::npos);
}

TEST(ConfigTest, ParsesUnits) {
  EXPECT_EQ(*ParseMillis("250ms"), 250);
  EXPECT_EQ(*ParseMillis("5s"), 5000);
  EXPECT_EQ(*ParseMillis("7d"), 7 * 86'400'000LL);
  EXPECT_EQ(*ParseBytes("10MiB"), 10 << 20);
  EXPECT_EQ(*ParseBytes("1000"), 1000);
  EXPECT_FALSE(ParseBytes("10 parsecs").ok());
  // Beyond int64 after scaling: an error, not a wrapped (or, in C++, undefined) value.
  EXPECT_EQ(ParseMillis("9999999999999d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMillis("-9999999999999999s").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBytes("9999999999999GiB").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBytes("9999999999999GB").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseBytes("8589934591GiB"), int64_t{8589934591} << 30);
  EXPECT_FALSE(ParseInt("12x").ok());
  EXPECT_TRUE(*ParseBool("on"));
  EXPECT_FALSE(ParseBool("maybe").ok());
}

TEST(ConfigTest, MissingExplicitFileIsAnError) {
  auto loaded = Config::Load("/nonexistent/pinpipe.toml", {}, {});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinpipe
