// TimeZone on its own: fixed offsets, and an IANA zone's daylight-saving
// transitions read from the system's TZif files (America/New_York, 2024:
// EST -5 until 03-10 07:00Z, EDT -4 until 11-03 06:00Z).
#include "pinpipe/base/timezone.h"

#include <gtest/gtest.h>

namespace pinpipe {
namespace {

int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

TEST(TimeZoneTest, UtcAndFixedOffsets) {
  EXPECT_EQ(TimeZone::Utc().OffsetAt(Utc(2024, 7, 1)), 0);
  auto india = TimeZone::Load("+05:30");
  ASSERT_TRUE(india.ok());
  EXPECT_EQ(india->OffsetAt(Utc(2024, 7, 1)), 5 * 3600 + 1800);
  EXPECT_EQ(india->ToCivil(Utc(2024, 1, 1, 20, 0)), (CivilTime{2024, 1, 2, 1, 30, 0}));
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus_Mons").ok());
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::Load("/etc/passwd").ok());
}

TEST(TimeZoneTest, NewYorkDaylightSavingTransitions) {
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok()) << ny.status().ToString();
  EXPECT_EQ(ny->name(), "America/New_York");
  EXPECT_EQ(ny->OffsetAt(Utc(2024, 3, 10, 6, 59)), -5 * 3600);
  EXPECT_EQ(ny->OffsetAt(Utc(2024, 3, 10, 7, 0)), -4 * 3600);
  EXPECT_EQ(ny->OffsetAt(Utc(2024, 11, 3, 5, 59)), -4 * 3600);
  EXPECT_EQ(ny->OffsetAt(Utc(2024, 11, 3, 6, 0)), -5 * 3600);
  // Also in a year far from the file's first transitions.
  EXPECT_EQ(ny->OffsetAt(Utc(2030, 7, 1)), -4 * 3600);
  EXPECT_EQ(ny->ToCivil(Utc(2024, 7, 1, 3, 30)), (CivilTime{2024, 6, 30, 23, 30, 0}));

  bool existed = true;
  // 02:30 on 2024-03-10 does not exist: the gap ends at 03:00 EDT = 07:00Z.
  EXPECT_EQ(ny->FromCivil({2024, 3, 10, 2, 30, 0}, &existed), Utc(2024, 3, 10, 7, 0));
  EXPECT_FALSE(existed);
  // 01:30 on 2024-11-03 happens twice: the first (EDT) is taken.
  EXPECT_EQ(ny->FromCivil({2024, 11, 3, 1, 30, 0}, &existed), Utc(2024, 11, 3, 5, 30));
  EXPECT_TRUE(existed);
  EXPECT_EQ(ny->FromCivil({2024, 1, 15, 12, 0, 0}), Utc(2024, 1, 15, 17, 0));
}

}  // namespace
}  // namespace pinpipe
