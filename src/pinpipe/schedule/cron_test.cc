#include "pinpipe/schedule/cron.h"

#include <gtest/gtest.h>

namespace pinpipe::schedule {
namespace {

int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

TEST(CivilTest, RoundTripsDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  int y, m, d;
  CivilFromDays(DaysFromCivil(2024, 2, 29), &y, &m, &d);
  EXPECT_EQ(y * 10000 + m * 100 + d, 20240229);
  EXPECT_EQ(Weekday(DaysFromCivil(2026, 11, 25)), 3);  // a Wednesday
  EXPECT_EQ(Weekday(DaysFromCivil(1969, 12, 31)), 3);
}

TEST(CronScheduleTest, DailyFiresAtMidnight) {
  auto cron = CronSchedule::Parse("@daily");
  ASSERT_TRUE(cron.ok());
  const auto utc = TimeZone::Utc();
  EXPECT_EQ(cron->Next(Utc(2024, 1, 1, 10, 0), utc), Utc(2024, 1, 2));
  // Strictly after: exactly midnight moves to the next day.
  EXPECT_EQ(cron->Next(Utc(2024, 1, 2), utc), Utc(2024, 1, 3));
  EXPECT_EQ(cron->Next(Utc(2024, 12, 31, 23, 59), utc), Utc(2025, 1, 1));
}

TEST(CronScheduleTest, FieldsListsRangesSteps) {
  auto cron = CronSchedule::Parse("*/15 9-17 * * mon-fri");
  ASSERT_TRUE(cron.ok());
  const auto utc = TimeZone::Utc();
  // Friday 2024-01-05 17:50 -> Monday 2024-01-08 09:00.
  EXPECT_EQ(cron->Next(Utc(2024, 1, 5, 17, 50), utc), Utc(2024, 1, 8, 9, 0));
  EXPECT_EQ(cron->Next(Utc(2024, 1, 8, 9, 0), utc), Utc(2024, 1, 8, 9, 15));
  auto list = CronSchedule::Parse("5,35 0 1 jan,jul *");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->Next(Utc(2024, 1, 1, 0, 5), utc), Utc(2024, 1, 1, 0, 35));
  EXPECT_EQ(list->Next(Utc(2024, 1, 1, 0, 35), utc), Utc(2024, 7, 1, 0, 5));
}

TEST(CronScheduleTest, DayOfMonthOrDayOfWeek) {
  // Vixie cron: the 13th, or any Friday.
  auto cron = CronSchedule::Parse("0 0 13 * 5");
  ASSERT_TRUE(cron.ok());
  const auto utc = TimeZone::Utc();
  EXPECT_EQ(cron->Next(Utc(2024, 1, 1), utc), Utc(2024, 1, 5));    // Friday
  EXPECT_EQ(cron->Next(Utc(2024, 1, 12), utc), Utc(2024, 1, 13));  // the 13th (Saturday)
  auto sunday7 = CronSchedule::Parse("0 0 * * 7");
  ASSERT_TRUE(sunday7.ok());
  EXPECT_EQ(sunday7->Next(Utc(2024, 1, 1), utc), Utc(2024, 1, 7));
}

TEST(CronScheduleTest, ImpossibleDateNeverFires) {
  auto cron = CronSchedule::Parse("0 0 31 2 *");
  ASSERT_TRUE(cron.ok());
  EXPECT_EQ(cron->Next(Utc(2024, 1, 1), TimeZone::Utc()), -1);
}

TEST(CronScheduleTest, RejectsBadExpressions) {
  for (const char* bad : {"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                          "*/0 * * * *", "@fortnightly", "a b c d e", "5-1 * * * *"}) {
    auto cron = CronSchedule::Parse(bad);
    EXPECT_FALSE(cron.ok()) << bad;
    if (!cron.ok()) {
      EXPECT_EQ(cron.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(TimeZoneTest, FixedOffsets) {
  auto tz = TimeZone::Load("+05:30");
  ASSERT_TRUE(tz.ok());
  auto daily = CronSchedule::Parse("@daily");
  // Midnight in +05:30 is 18:30 UTC the day before.
  EXPECT_EQ(daily->Next(Utc(2024, 1, 1, 12, 0), *tz), Utc(2024, 1, 1, 18, 30));
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus_Mons").ok());
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
}

TEST(TimeZoneTest, IanaZoneWithDaylightSaving) {
  auto tz = TimeZone::Load("Europe/Paris");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  EXPECT_EQ(tz->OffsetAt(Utc(2024, 1, 15)), 3600);
  EXPECT_EQ(tz->OffsetAt(Utc(2024, 7, 15)), 7200);
  auto daily = CronSchedule::Parse("@daily");
  EXPECT_EQ(daily->Next(Utc(2024, 1, 15, 12), *tz), Utc(2024, 1, 15, 23, 0));
  EXPECT_EQ(daily->Next(Utc(2024, 7, 15, 12), *tz), Utc(2024, 7, 15, 22, 0));
  // 2024-03-31 02:30 does not exist in Paris: fires when the gap ends (03:00 CEST = 01:00 UTC).
  auto gap = CronSchedule::Parse("30 2 * * *");
  EXPECT_EQ(gap->Next(Utc(2024, 3, 30, 12), *tz), Utc(2024, 3, 31, 1, 0));
  // 2024-10-27 02:30 happens twice; it fires once, at the first.
  const int64_t first = gap->Next(Utc(2024, 10, 26, 12), *tz);
  EXPECT_EQ(first, Utc(2024, 10, 27, 0, 30));
  EXPECT_EQ(gap->Next(first, *tz), Utc(2024, 10, 28, 1, 30));
}

}  // namespace
}  // namespace pinpipe::schedule
