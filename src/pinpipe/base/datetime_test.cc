#include "pinpipe/base/datetime.h"

#include <gtest/gtest.h>

#include "pinpipe/base/timezone.h"

namespace pinpipe {
namespace {

constexpr int64_t kSecond = 1'000'000;
const int64_t k20220527 = 1653651059LL * kSecond;  // 2022-05-27 11:30:59 UTC

TEST(DatetimeTest, ParsesTheCleaningForms) {
  EXPECT_EQ(ParseTimestampMicros("2022-05-27 11:30:59"), k20220527);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T11:30:59Z"), k20220527);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T11:30:59.000000001"), k20220527);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27T07:00:59.25-04:30"), k20220527 + 250'000);
  EXPECT_EQ(ParseTimestampMicros("0000-01-01 00:00:00"), -62'167'219'200 * kSecond);
  EXPECT_EQ(ParseTimestampMicros("9999-12-31 23:59:59"), 253'402'300'799 * kSecond);
}

// model/rows.cc took 2021-02-31 for 2021-03-03, objstore and the sink
// normalised it too (timegm, sscanf); clean/rules.cc refused it. Now all do.
TEST(DatetimeTest, IsCalendarCorrect) {
  EXPECT_TRUE(ParseTimestampMicros("2024-02-29 00:00:00"));  // leap year
  EXPECT_TRUE(ParseTimestampMicros("2000-02-29 00:00:00"));  // divisible by 400
  for (const char* bad :
       {"2023-02-29 00:00:00", "1900-02-29 00:00:00", "2021-02-31 00:00:00", "2024-04-31 00:00:00",
        "2024-06-31 00:00:00", "2024-09-31 00:00:00", "2024-11-31 00:00:00", "2024-00-10 00:00:00",
        "2024-01-00 00:00:00", "2024-01-32 00:00:00", "2024-13-01 00:00:00", "2024-01-01 24:00:00",
        "2024-01-01 23:60:00", "2016-12-31 23:59:60"}) {
    EXPECT_EQ(ParseTimestampMicros(bad), std::nullopt) << bad;
    EXPECT_EQ(ParseTimestampMicros(bad, {.date_alone = true, .short_offsets = true}), std::nullopt)
        << bad;
  }
  // Every day of 1999-2001 against DaysFromCivil and back.
  for (int64_t day = DaysFromCivil(1999, 1, 1); day < DaysFromCivil(2002, 1, 1); ++day) {
    std::string text = FormatTimestampMicros(day * 86'400 * kSecond);
    EXPECT_EQ(ParseTimestampMicros(text), day * 86'400 * kSecond) << text;
  }
}

TEST(DatetimeTest, RejectsMalformedText) {
  for (const char* bad :
       {"", "2022", "2022-05-27 11:30", "2022-5-27 11:30:59", "2022-05-27 1:30:59",
        "2022/05/27 11:30:59", "2022-05-27X11:30:59", "2022-05-27 11:30:59.",
        "2022-05-27 11:30:59.1234567890", "2022-05-27 11:30:59 ", "2022-05-27 11:30:59ZZ",
        "2022-05-27 11:30:59+24:00", "2022-05-27 11:30:59+02:60", "2022-05-27 11:30:59+2:00",
        "+022-05-27 11:30:59", "2022-05-27 11:30:5a", "abcd-ef-gh ij:kl:mn"}) {
    EXPECT_EQ(ParseTimestampMicros(bad), std::nullopt) << bad;
    EXPECT_EQ(ParseTimestampMicros(bad, {.date_alone = true, .short_offsets = true}), std::nullopt)
        << bad;
  }
}

TEST(DatetimeTest, DateAloneAndShortOffsetsOnlyWhenAsked) {
  const TimestampSyntax loose{.date_alone = true, .short_offsets = true};
  EXPECT_EQ(ParseTimestampMicros("2022-05-27"), std::nullopt);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27", loose),
            DaysFromCivil(2022, 5, 27) * 86'400 * kSecond);
  for (const char* offset : {"+0200", "+02"}) {
    const std::string text = std::string("2022-05-27 13:30:59") + offset;
    EXPECT_EQ(ParseTimestampMicros(text), std::nullopt) << text;
    EXPECT_EQ(ParseTimestampMicros(text, loose), k20220527) << text;
  }
  EXPECT_EQ(ParseTimestampMicros("2022-05-27 11:30:59+2", loose), std::nullopt);
  EXPECT_EQ(ParseTimestampMicros("2022-05-27 11:30:59+020", loose), std::nullopt);
}

TEST(DatetimeTest, FormatsWithTheShortestFraction) {
  EXPECT_EQ(FormatTimestampMicros(k20220527), "2022-05-27 11:30:59");
  EXPECT_EQ(FormatTimestampMicros(k20220527 + 120'000), "2022-05-27 11:30:59.12");
  EXPECT_EQ(FormatTimestampMicros(k20220527 + 5), "2022-05-27 11:30:59.000005");
  EXPECT_EQ(FormatTimestampMicros(-1), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(FormatTimestampMicros(-kSecond), "1969-12-31 23:59:59");
  // Clamped to the four-digit years.
  EXPECT_EQ(FormatTimestampMicros(INT64_MIN), "0000-01-01 00:00:00");
  EXPECT_EQ(FormatTimestampMicros(INT64_MAX), "9999-12-31 23:59:59.999999");
  for (int64_t t : {int64_t{0}, k20220527 + 999'999, int64_t{-86'400} * kSecond + 1}) {
    EXPECT_EQ(ParseTimestampMicros(FormatTimestampMicros(t)), t) << t;
  }
}

}  // namespace
}  // namespace pinpipe
