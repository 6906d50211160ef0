#include "pinpipe/clean/rules.h"

#include <gtest/gtest.h>

namespace pinpipe::clean {
namespace {

TEST(RulesTest, PlaceholdersPerColumn) {
  EXPECT_TRUE(IsPlaceholder("title", "No Title Data Available"));
  EXPECT_TRUE(IsPlaceholder("description", "No description available Story format"));
  EXPECT_TRUE(IsPlaceholder("description", "No description available"));
  EXPECT_TRUE(IsPlaceholder("poster_name", "User Info Error"));
  EXPECT_TRUE(IsPlaceholder("follower_count", "User Info Error"));
  EXPECT_TRUE(IsPlaceholder("tag_list", "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"));
  EXPECT_TRUE(IsPlaceholder("image_src", "Image src error."));
  // A placeholder of one column is data in another, and near misses are data.
  EXPECT_FALSE(IsPlaceholder("title", "User Info Error"));
  EXPECT_FALSE(IsPlaceholder("image_src", "Image src error"));
  EXPECT_FALSE(IsPlaceholder("description", "No description available."));
  EXPECT_FALSE(IsPlaceholder("category", "No Title Data Available"));
}

TEST(RulesTest, FollowerCountForms) {
  EXPECT_EQ(ParseFollowerCount("437"), 437);
  EXPECT_EQ(ParseFollowerCount("5k"), 5000);
  EXPECT_EQ(ParseFollowerCount("892k"), 892000);
  EXPECT_EQ(ParseFollowerCount("1M"), 1000000);
  EXPECT_EQ(ParseFollowerCount("8M"), 8000000);
  EXPECT_EQ(ParseFollowerCount("0"), 0);
  for (const char* bad : {"", "k", "M", "5K", "1m", "1.5k", "-3", "+3", " 5k", "5k ", "5kk",
                          "User Info Error", "99999999999999999999", "9223372036854776k"}) {
    EXPECT_EQ(ParseFollowerCount(bad), std::nullopt) << bad;
  }
}

TEST(RulesTest, StrictIntegers) {
  EXPECT_EQ(ParseInteger("0"), 0);
  EXPECT_EQ(ParseInteger("7528"), 7528);
  EXPECT_EQ(ParseInteger("-12"), -12);
  EXPECT_EQ(ParseInteger("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseInteger("-9223372036854775808"), INT64_MIN);
  for (const char* bad :
       {"", "-", "1.0", "1e3", " 1", "1 ", "0x10", "9223372036854775808", "abc"}) {
    EXPECT_EQ(ParseInteger(bad), std::nullopt) << bad;
  }
}

TEST(RulesTest, Doubles) {
  EXPECT_EQ(ParseDouble("-89.9787"), -89.9787);
  EXPECT_EQ(ParseDouble("155.206"), 155.206);
  EXPECT_EQ(ParseDouble("3"), 3.0);
  EXPECT_EQ(ParseDouble("1e2"), 100.0);
  for (const char* bad : {"", "inf", "nan", "1,5", "1.5x", "north"}) {
    EXPECT_EQ(ParseDouble(bad), std::nullopt) << bad;
  }
}

TEST(RulesTest, TimestampFormats) {
  const int64_t expected = 1653651059LL * 1000000;  // 2022-05-27 11:30:59 UTC
  EXPECT_EQ(ParseTimestampMicros("2022-05-27 11:30:59"), expected);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T11:30:59"), expected);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T11:30:59Z"), expected);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27 11:30:59+00:00"), expected);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T11:30:59.5"), expected + 500000);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T11:30:59.123456Z"), expected + 123456);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T11:30:59.1234567"), expected + 123456);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T13:30:59+02:00"), expected);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(ParseTimestampMicros("1969-12-31 23:59:59"), -1000000);
  EXPECT_EQ(ParseTimestampMicros("2020-02-29 00:00:00"), 1582934400LL * 1000000);
  for (const char* bad :
       {"", "2022-05-27", "2022-5-27 11:30:59", "2022-05-27 11:30", "2022-13-01 00:00:00",
        "2021-02-29 00:00:00", "2022-04-31 00:00:00", "2022-05-27 24:00:00", "2022-05-27 11:60:00",
        "2022-05-27 11:30:59.", "2022-05-27 11:30:59 ", "2022/05/27 11:30:59",
        "2022-05-27 11:30:59+0200", "not a date"}) {
    EXPECT_EQ(ParseTimestampMicros(bad), std::nullopt) << bad;
  }
}

TEST(RulesTest, FormatAndYear) {
  EXPECT_EQ(FormatTimestampMicros(1653651059LL * 1000000), "2022-05-27 11:30:59");
  EXPECT_EQ(FormatTimestampMicros(1653651059LL * 1000000 + 120000), "2022-05-27 11:30:59.12");
  EXPECT_EQ(FormatTimestampMicros(-1000000), "1969-12-31 23:59:59");
  EXPECT_EQ(YearOfMicros(*ParseTimestampMicros("2017-12-31 23:59:59")), 2017);
  EXPECT_EQ(YearOfMicros(*ParseTimestampMicros("2018-01-01 00:00:00")), 2018);
  EXPECT_EQ(YearOfMicros(*ParseTimestampMicros("2018-01-01T01:00:00+02:00")), 2017);
  EXPECT_EQ(YearOfMicros(-1), 1969);
}

TEST(RulesTest, SaveLocationAndUserName) {
  EXPECT_EQ(SaveLocationPath("Local save in /data/mens-fashion"), "/data/mens-fashion");
  EXPECT_EQ(SaveLocationPath("/data/travel"), "/data/travel");
  std::string buffer;
  EXPECT_EQ(UserName("Abigail", "Ali", &buffer), "Abigail Ali");
  EXPECT_EQ(UserName("Abigail", std::nullopt, &buffer), "Abigail");
  EXPECT_EQ(UserName("", "Ali", &buffer), "Ali");
  EXPECT_EQ(UserName(std::nullopt, "", &buffer), std::nullopt);
}

}  // namespace
}  // namespace pinpipe::clean
