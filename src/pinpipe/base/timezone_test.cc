// TimeZone on its own: fixed offsets, and an IANA zone's daylight-saving
// transitions read from the system's TZif files (America/New_York, 2024:
// EST -5 until 03-10 07:00Z, EDT -4 until 11-03 06:00Z). Past the file's
// listed transitions (2037 in "fat" files, earlier in "slim" ones) the
// footer's POSIX TZ rule takes over: the expected instants below are derived
// from each zone's rule (e.g. US: second Sunday of March at 02:00 local) with
// a weekday computation independent of the code under test.
#include "pinpipe/base/timezone.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace pinpipe {
namespace {

int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

constexpr int64_t kHour = 3600;

// Sakamoto's weekday algorithm (0 = Sunday), independent of Weekday().
int SakamotoWeekday(int y, int m, int d) {
  static constexpr int kT[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (m < 3) y -= 1;
  return (y + y / 4 - y / 100 + y / 400 + kT[m - 1] + d) % 7;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Day of the month of the n-th (1-based; 0 = last) Sunday of a month.
int NthSunday(int year, int month, int n) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int days = month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
  std::vector<int> sundays;
  for (int d = 1; d <= days; ++d) {
    if (SakamotoWeekday(year, month, d) == 0) sundays.push_back(d);
  }
  return n == 0 ? sundays.back() : sundays[n - 1];
}

// The offset changes from `before` to `after` exactly at the UTC instant `at`.
void ExpectChangeAt(const TimeZone& zone, int64_t at, int64_t before, int64_t after) {
  EXPECT_EQ(zone.OffsetAt(at - 1), before) << "just before " << at;
  EXPECT_EQ(zone.OffsetAt(at), after) << "at " << at;
}

TEST(TimeZoneTest, IndependentWeekdayAgreesOnKnownDates) {
  // 2024-03-10 was the second Sunday of March (the 2024 US change above);
  // 2000-01-01 was a Saturday.
  EXPECT_EQ(NthSunday(2024, 3, 2), 10);
  EXPECT_EQ(SakamotoWeekday(2000, 1, 1), 6);
  EXPECT_EQ(Weekday(DaysFromCivil(2000, 1, 1)), 6);
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

// EST5EDT,M3.2.0,M11.1.0: EDT from the second Sunday of March 02:00 EST
// (07:00Z) to the first Sunday of November 02:00 EDT (06:00Z), every year.
TEST(TimeZoneTest, NewYorkFollowsTheFooterRuleAfterTheListedTransitions) {
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok()) << ny.status().ToString();
  for (int y = 2036; y <= 2110; ++y) {
    SCOPED_TRACE(y);
    const int64_t start = Utc(y, 3, NthSunday(y, 3, 2), 7);
    const int64_t end = Utc(y, 11, NthSunday(y, 11, 1), 6);
    ExpectChangeAt(*ny, start, -5 * kHour, -4 * kHour);
    ExpectChangeAt(*ny, end, -4 * kHour, -5 * kHour);
  }
  EXPECT_EQ(ny->OffsetAt(Utc(2040, 7, 1)), -4 * kHour);
  EXPECT_EQ(ny->OffsetAt(Utc(2100, 1, 1)), -5 * kHour);
  EXPECT_EQ(ny->OffsetAt(Utc(2100, 7, 1)), -4 * kHour);
  EXPECT_EQ(ny->ToCivil(Utc(2040, 7, 1, 3, 30)), (CivilTime{2040, 6, 30, 23, 30, 0}));

  // 2040: the second Sunday of March is the 11th, the first of November the 4th.
  ASSERT_EQ(NthSunday(2040, 3, 2), 11);
  ASSERT_EQ(NthSunday(2040, 11, 1), 4);
  bool existed = true;
  // 02:30 on 2040-03-11 is in the gap, which ends at 03:00 EDT = 07:00Z.
  EXPECT_EQ(ny->FromCivil({2040, 3, 11, 2, 30, 0}, &existed), Utc(2040, 3, 11, 7, 0));
  EXPECT_FALSE(existed);
  // 01:30 on 2040-11-04 happens twice: the first (EDT, -4) is taken; the
  // second (EST) is what 06:30Z reads as.
  EXPECT_EQ(ny->FromCivil({2040, 11, 4, 1, 30, 0}, &existed), Utc(2040, 11, 4, 5, 30));
  EXPECT_TRUE(existed);
  EXPECT_EQ(ny->ToCivil(Utc(2040, 11, 4, 6, 30)), (CivilTime{2040, 11, 4, 1, 30, 0}));
  EXPECT_EQ(ny->FromCivil({2100, 1, 15, 12, 0, 0}, &existed), Utc(2100, 1, 15, 17, 0));
  EXPECT_TRUE(existed);
}

// GMT0BST,M3.5.0/1,M10.5.0: BST from the last Sunday of March 01:00 GMT to
// the last Sunday of October 02:00 BST, both 01:00Z.
TEST(TimeZoneTest, LondonFollowsTheFooterRule) {
  auto london = TimeZone::Load("Europe/London");
  ASSERT_TRUE(london.ok()) << london.status().ToString();
  for (int y = 2036; y <= 2110; ++y) {
    SCOPED_TRACE(y);
    const int64_t start = Utc(y, 3, NthSunday(y, 3, 0), 1);
    const int64_t end = Utc(y, 10, NthSunday(y, 10, 0), 1);
    ExpectChangeAt(*london, start, 0, kHour);
    ExpectChangeAt(*london, end, kHour, 0);
  }
  // 2040-03-25 is the last Sunday of March: 01:30 does not exist, the gap
  // ends at 02:00 BST = 01:00Z.
  ASSERT_EQ(NthSunday(2040, 3, 0), 25);
  bool existed = true;
  EXPECT_EQ(london->FromCivil({2040, 3, 25, 1, 30, 0}, &existed), Utc(2040, 3, 25, 1, 0));
  EXPECT_FALSE(existed);
  EXPECT_EQ(london->OffsetAt(Utc(2100, 7, 1)), kHour);
  EXPECT_EQ(london->OffsetAt(Utc(2100, 12, 1)), 0);
}

// AEST-10AEDT,M10.1.0,M4.1.0/3: daylight saving from the first Sunday of
// October 02:00 AEST to the first Sunday of April 03:00 AEDT (both 16:00Z the
// day before), so it is in force across new year.
TEST(TimeZoneTest, SydneyDaylightSavingSpansTheNewYear) {
  auto sydney = TimeZone::Load("Australia/Sydney");
  ASSERT_TRUE(sydney.ok()) << sydney.status().ToString();
  for (int y = 2038; y <= 2110; ++y) {
    SCOPED_TRACE(y);
    const int64_t end = Utc(y, 4, NthSunday(y, 4, 1), 3) - 11 * kHour;
    const int64_t start = Utc(y, 10, NthSunday(y, 10, 1), 2) - 10 * kHour;
    EXPECT_EQ(sydney->OffsetAt(Utc(y, 1, 1)), 11 * kHour);
    ExpectChangeAt(*sydney, end, 11 * kHour, 10 * kHour);
    EXPECT_EQ(sydney->OffsetAt(Utc(y, 7, 1)), 10 * kHour);
    ExpectChangeAt(*sydney, start, 10 * kHour, 11 * kHour);
  }
  // New year 2041 in Sydney is 2040-12-31 13:00Z (AEDT, +11).
  EXPECT_EQ(sydney->ToCivil(Utc(2040, 12, 31, 13, 0)), (CivilTime{2041, 1, 1, 0, 0, 0}));
  EXPECT_EQ(sydney->FromCivil({2041, 1, 1, 0, 0, 0}), Utc(2040, 12, 31, 13, 0));
  // 2040: the first Sunday of April is the 1st, of October the 7th.
  ASSERT_EQ(NthSunday(2040, 4, 1), 1);
  ASSERT_EQ(NthSunday(2040, 10, 1), 7);
  bool existed = false;
  // 02:30 on 2040-04-01 happens twice; the first is AEDT (+11).
  EXPECT_EQ(sydney->FromCivil({2040, 4, 1, 2, 30, 0}, &existed), Utc(2040, 3, 31, 15, 30));
  EXPECT_TRUE(existed);
  // 02:30 on 2040-10-07 is in the gap, which ends at 03:00 AEDT = 16:00Z the day before.
  EXPECT_EQ(sydney->FromCivil({2040, 10, 7, 2, 30, 0}, &existed), Utc(2040, 10, 6, 16, 0));
  EXPECT_FALSE(existed);
}

// "<+0330>-3:30" and "IST-5:30": a quoted name, minutes, no daylight saving.
TEST(TimeZoneTest, ZonesWithoutDaylightSavingKeepTheirOffsetInEveryYear) {
  for (const auto& [name, offset] : {std::pair<const char*, int64_t>{"Asia/Tehran", 12600},
                                     std::pair<const char*, int64_t>{"Asia/Kolkata", 19800}}) {
    SCOPED_TRACE(name);
    auto zone = TimeZone::Load(name);
    ASSERT_TRUE(zone.ok()) << zone.status().ToString();
    for (int y : {2030, 2037, 2038, 2040, 2100, 2400, 9999}) {
      for (int m : {1, 4, 7, 10}) EXPECT_EQ(zone->OffsetAt(Utc(y, m, 1)), offset);
    }
    bool existed = false;
    EXPECT_EQ(zone->FromCivil({2100, 3, 21, 12, 0, 0}, &existed), Utc(2100, 3, 21, 12) - offset);
    EXPECT_TRUE(existed);
  }
}

// The RFC 8536 extensions as the system's files use them: a change at 24:00
// (Santiago: <-04>4<-03>,M9.1.6/24,M4.1.6/24, midnight after the first
// Saturday) and a negative time (Nuuk: <-02>2<-01>,M3.5.0/-1,M10.5.0/0, at
// 23:00 the evening before the last Sunday).
TEST(TimeZoneTest, FooterRulesWithExtendedTransitionTimes) {
  auto santiago = TimeZone::Load("America/Santiago");
  ASSERT_TRUE(santiago.ok()) << santiago.status().ToString();
  auto nuuk = TimeZone::Load("America/Nuuk");
  ASSERT_TRUE(nuuk.ok()) << nuuk.status().ToString();
  for (int y = 2040; y <= 2050; ++y) {
    SCOPED_TRACE(y);
    // The first Saturday of a month is the day before its first Sunday
    // unless the 1st is a Sunday.
    auto first_saturday = [&](int m) {
      const int sunday = NthSunday(y, m, 1);
      return sunday == 1 ? 7 : sunday - 1;
    };
    // Saturday 24:00 -04 = Sunday 04:00Z; Saturday 24:00 -03 = Sunday 03:00Z.
    const int64_t start = Utc(y, 9, first_saturday(9), 24 + 4);
    const int64_t end = Utc(y, 4, first_saturday(4), 24 + 3);
    ExpectChangeAt(*santiago, start, -4 * kHour, -3 * kHour);
    ExpectChangeAt(*santiago, end, -3 * kHour, -4 * kHour);
    // Last Sunday -1:00 at -02 = 01:00Z; last Sunday 00:00 at -01 = 01:00Z.
    const int64_t nuuk_start = Utc(y, 3, NthSunday(y, 3, 0), 1);
    const int64_t nuuk_end = Utc(y, 10, NthSunday(y, 10, 0), 1);
    ExpectChangeAt(*nuuk, nuuk_start, -2 * kHour, -1 * kHour);
    ExpectChangeAt(*nuuk, nuuk_end, -1 * kHour, -2 * kHour);
  }
}

TEST(TimeZoneTest, PosixRulesOnTheirOwn) {
  auto bangkok = TimeZone::FromPosixRule("<+07>-7");
  ASSERT_TRUE(bangkok.ok()) << bangkok.status().ToString();
  EXPECT_EQ(bangkok->name(), "<+07>-7");
  EXPECT_EQ(bangkok->OffsetAt(Utc(1900, 1, 1)), 7 * kHour);
  EXPECT_EQ(bangkok->OffsetAt(Utc(2100, 7, 1)), 7 * kHour);

  // No dates after the DST name: the US rules, DST one hour ahead.
  auto us = TimeZone::FromPosixRule("EST5EDT");
  ASSERT_TRUE(us.ok()) << us.status().ToString();
  ExpectChangeAt(*us, Utc(2040, 3, 11, 7), -5 * kHour, -4 * kHour);
  // The rule alone covers the past too.
  EXPECT_EQ(us->OffsetAt(Utc(1990, 7, 1)), -4 * kHour);

  // Jn skips Feb 29 (J60 is March 1 in every year); n counts it (day 300 is
  // Oct 27 in a leap year, Oct 28 otherwise); times with seconds, signs and
  // hours beyond 24; an explicit DST offset.
  auto odd = TimeZone::FromPosixRule("AAA+5:00BBB3,J60/1:30:15,300/-167");
  ASSERT_TRUE(odd.ok()) << odd.status().ToString();
  for (int y : {2040, 2041}) {
    SCOPED_TRACE(y);
    const int64_t start = Utc(y, 3, 1, 1, 30) + 15 + 5 * kHour;
    const int64_t end = Utc(y, 1, 1) + 300 * 86400 - 167 * kHour + 3 * kHour;
    int year = 0, month = 0, day = 0;
    CivilFromDays(DaysFromCivil(y, 1, 1) + 300, &year, &month, &day);
    ASSERT_EQ(month, 10);
    ASSERT_EQ(day, IsLeap(y) ? 27 : 28);
    ExpectChangeAt(*odd, start, -5 * kHour, -3 * kHour);
    ExpectChangeAt(*odd, end, -3 * kHour, -5 * kHour);
  }

  // RFC 8536 §3.3.1's example of daylight saving all year: the start of a
  // year coincides with the end of the previous one.
  auto always = TimeZone::FromPosixRule("EST5EDT,0/0,J365/25");
  ASSERT_TRUE(always.ok()) << always.status().ToString();
  for (int64_t t :
       {Utc(2040, 1, 1, 5) - 1, Utc(2040, 1, 1, 5), Utc(2040, 7, 1), Utc(2040, 12, 31)}) {
    EXPECT_EQ(always->OffsetAt(t), -4 * kHour) << t;
  }

  // Any instant gets an answer, however far out.
  for (int64_t t : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                    Utc(-5000, 7, 1), Utc(100000, 7, 1)}) {
    const int64_t offset = us->OffsetAt(t);
    EXPECT_TRUE(offset == -5 * kHour || offset == -4 * kHour) << t << " " << offset;
  }
  EXPECT_EQ(us->OffsetAt(Utc(100000, 7, 1)), -4 * kHour);
  EXPECT_EQ(us->OffsetAt(Utc(100000, 1, 1)), -5 * kHour);
}

TEST(TimeZoneTest, MalformedPosixRulesAreInvalidArguments) {
  for (const char* text : {"",
                           "E5",                          // name shorter than 3
                           "EST",                         // no offset
                           "EST+",                        // sign without hours
                           "EST25",                       // offset hours beyond 24
                           "EST5:60",                     // minutes beyond 59
                           "EST5:30:",                    // seconds missing
                           "<+03",                        // unterminated quoted name
                           "<+3>-3",                      // quoted name shorter than 3
                           "<+0 3>-3",                    // space in a quoted name
                           "EST5E",                       // DST name shorter than 3
                           "EST5EDT,",                    // no start date
                           "EST5EDT,M3.2.0",              // no end date
                           "EST5EDT,M3.2.0,",             // empty end date
                           "EST5EDT,M13.2.0,M11.1.0",     // month 13
                           "EST5EDT,M0.2.0,M11.1.0",      // month 0
                           "EST5EDT,M3.6.0,M11.1.0",      // week 6
                           "EST5EDT,M3.0.0,M11.1.0",      // week 0
                           "EST5EDT,M3.2.7,M11.1.0",      // weekday 7
                           "EST5EDT,M3.2,M11.1.0",        // weekday missing
                           "EST5EDT,J0,J365",             // Jn starts at 1
                           "EST5EDT,J366,J365",           // Jn ends at 365
                           "EST5EDT,366,1",               // n ends at 365
                           "EST5EDT,M3.2.0/168,M11.1.0",  // time hours beyond 167
                           "EST5EDT,M3.2.0/,M11.1.0",     // slash without time
                           "EST5EDT,M3.2.0,M11.1.0,",     // trailing text
                           "EST5EDT,M3.2.0,M11.1.0 ",     // trailing space
                           "EST5EDT;M3.2.0,M11.1.0",      // wrong separator
                           "EST99999999999999999999",     // digits beyond any range
                           "\xff\xfe\x00"}) {
    SCOPED_TRACE(text);
    auto zone = TimeZone::FromPosixRule(text);
    ASSERT_FALSE(zone.ok());
    EXPECT_EQ(zone.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(zone.status().message().find("invalid POSIX TZ rule"), std::string::npos)
        << zone.status().message();
  }
}

// TZif files written here, in $TZDIR: "slim" files (zic -b slim) list no
// transitions the footer can derive, so the rule must cover every year.
class TzifFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pinpipe_tzif_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    if (const char* old = std::getenv("TZDIR")) old_tzdir_ = old;
    ::setenv("TZDIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (old_tzdir_) {
      ::setenv("TZDIR", old_tzdir_->c_str(), 1);
    } else {
      ::unsetenv("TZDIR");
    }
    std::filesystem::remove_all(dir_);
  }

  static void Put32(std::string* out, int64_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
  }
  static void Put64(std::string* out, int64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
  }

  // A version 2 file with two types (EST -5, EDT -4), the given transitions
  // (to EST) and `footer` verbatim after the data.
  void Write(const std::string& name, const std::vector<int64_t>& transitions,
             const std::string& footer) {
    auto header = [](std::string* out, int64_t timecnt, int64_t typecnt, int64_t charcnt) {
      out->append("TZif2");
      out->append(15, '\0');
      for (int64_t c : {int64_t{0}, int64_t{0}, int64_t{0}, timecnt, typecnt, charcnt}) {
        Put32(out, c);
      }
    };
    std::string data;
    header(&data, 0, 1, 4);  // v1 block: one type, no transitions
    Put32(&data, -5 * kHour);
    data += std::string("\0\0EST\0", 6);
    header(&data, static_cast<int64_t>(transitions.size()), 2, 8);
    for (int64_t t : transitions) Put64(&data, t);
    data.append(transitions.size(), '\0');  // each to type 0
    Put32(&data, -5 * kHour);
    data += std::string("\0\0", 2);
    Put32(&data, -4 * kHour);
    data += std::string("\1\4", 2);
    data += std::string("EST\0EDT\0", 8);
    data += footer;
    std::ofstream(dir_ / name, std::ios::binary) << data;
  }

  std::filesystem::path dir_;
  std::optional<std::string> old_tzdir_;
};

TEST_F(TzifFileTest, SlimFileWithoutTransitionsFollowsItsFooterInEveryYear) {
  Write("Slim", {}, "\nEST5EDT,M3.2.0,M11.1.0\n");
  auto zone = TimeZone::Load("Slim");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  for (int y : {1990, 2024, 2037, 2038, 2040, 2100}) {
    SCOPED_TRACE(y);
    ExpectChangeAt(*zone, Utc(y, 3, NthSunday(y, 3, 2), 7), -5 * kHour, -4 * kHour);
    EXPECT_EQ(zone->OffsetAt(Utc(y, 11, NthSunday(y, 11, 1), 6)), -5 * kHour);
  }
  bool existed = true;
  EXPECT_EQ(zone->FromCivil({2024, 3, 10, 2, 30, 0}, &existed), Utc(2024, 3, 10, 7, 0));
  EXPECT_FALSE(existed);
}

TEST_F(TzifFileTest, FooterTakesOverOnlyAfterTheLastListedTransition) {
  // Listed: EST from 2007-11-04 06:00Z. Before it, the initial type (EST)
  // holds even in summer; after it the rule does, from March 2008.
  const int64_t last = Utc(2007, 11, 4, 6);
  Write("Listed", {last}, "\nEST5EDT,M3.2.0,M11.1.0\n");
  auto zone = TimeZone::Load("Listed");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  EXPECT_EQ(zone->OffsetAt(Utc(2007, 7, 1)), -5 * kHour);
  EXPECT_EQ(zone->OffsetAt(last), -5 * kHour);
  EXPECT_EQ(zone->OffsetAt(Utc(2008, 1, 1)), -5 * kHour);
  EXPECT_EQ(zone->OffsetAt(Utc(2008, 3, 9, 7)), -4 * kHour);
  EXPECT_EQ(zone->OffsetAt(Utc(2008, 11, 2, 6)), -5 * kHour);

  // An empty footer: nothing is known past the last transition; it holds.
  Write("NoRule", {last}, "\n\n");
  auto held = TimeZone::Load("NoRule");
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->OffsetAt(Utc(2040, 7, 1)), -5 * kHour);
}

TEST_F(TzifFileTest, MalformedFootersAreRejected) {
  for (const std::string& footer :
       {std::string("\nEST5EDT,M3.2.0\n"), std::string("\nEST5EDT,M3.2.0,M11.1.0"),
        std::string("EST5EDT,M3.2.0,M11.1.0\n"), std::string(), std::string("\n<+07-7\n")}) {
    SCOPED_TRACE(footer);
    Write("Bad", {Utc(2007, 11, 4, 6)}, footer);
    auto zone = TimeZone::Load("Bad");
    ASSERT_FALSE(zone.ok());
    EXPECT_EQ(zone.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(zone.status().message().find("Bad"), std::string::npos) << zone.status().message();
  }
}

}  // namespace
}  // namespace pinpipe
