// TimeZone: converts between UTC instants and civil (wall-clock) time in a
// zone, for the scheduler's cron schedules and the sink's time-based
// partitioner. Zones: "UTC", fixed offsets ("+05:30", "-08:00"), and IANA
// names ("Europe/Paris") read from the system's TZif files
// (/usr/share/zoneinfo, or $TZDIR), and POSIX TZ rules ("EST5EDT,M3.2.0,M11.1.0").
// A TZif file's listed transitions cover the past (and, in "fat" files, up to
// 2037); its footer's POSIX TZ rule (RFC 8536 §3.3) covers every instant
// after the last listed transition, so conversions hold for all years.
//
// Thread-safety: immutable after Load; safe to share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe {

// A civil date and time (no zone). Months 1-12, days 1-31, weekday 0=Sunday.
struct CivilTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  auto operator<=>(const CivilTime&) const = default;
};

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(int64_t days, int* year, int* month, int* day);
// 0 = Sunday.
int Weekday(int64_t days);
int DaysInMonth(int year, int month);

class TimeZone {
 public:
  static TimeZone Utc();
  // InvalidArgument for an unknown or unreadable zone, including a TZif file
  // whose footer is not a valid POSIX TZ string.
  static Result<TimeZone> Load(std::string_view name);
  // A zone defined by a POSIX TZ string alone, with the RFC 8536 §3.3
  // extensions: "EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0".
  // Names are 3+ letters or <quoted> (letters, digits, '+', '-'); offsets
  // [+-]hh[:mm[:ss]] with hh <= 24 (POSIX sign: positive is west of UTC);
  // rules Jn (1-365, no Feb 29), n (0-365) or Mm.w.d, each with an optional
  // /time whose hours range -167..167 (default 02:00). A DST name without
  // rules takes the US rules ",M3.2.0,M11.1.0", as tzcode does.
  // InvalidArgument, naming the problem, for anything else.
  static Result<TimeZone> FromPosixRule(std::string_view rule);

  const std::string& name() const { return name_; }
  // Offset from UTC in seconds at the UTC instant `utc_seconds`.
  int64_t OffsetAt(int64_t utc_seconds) const;

  CivilTime ToCivil(int64_t utc_seconds) const;
  // The UTC instant of a civil time. A civil time that does not exist (DST
  // gap) maps to the instant the gap ends; an ambiguous one (DST overlap) to
  // its first occurrence. Returns whether the civil time existed.
  int64_t FromCivil(const CivilTime& civil, bool* existed = nullptr) const;

 private:
  struct Transition {
    int64_t at;      // UTC seconds
    int64_t offset;  // seconds east of UTC from `at` on
  };
  // One end of daylight saving time in a POSIX TZ rule: a day of the year and
  // a local time on it (in the offset in force before the change).
  struct RuleDate {
    enum Kind { kJulian1, kJulian0, kMonthWeekDay } kind = kMonthWeekDay;
    int day = 0;          // Jn: 1-365; n: 0-365; Mm.w.d: d, 0 = Sunday
    int month = 0;        // Mm.w.d only
    int week = 0;         // Mm.w.d only: 1-5, 5 = last
    int64_t time = 7200;  // seconds after local midnight, -167h..167h
  };
  // The POSIX TZ rule of a TZif footer (or FromPosixRule).
  struct Rule {
    int64_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    int64_t dst_offset = 0;
    RuleDate start, end;
  };

  // InvalidArgument naming what is wrong with `text`.
  static Result<Rule> ParseRule(std::string_view text);
  // The UTC instant a rule date happens in `year`, given the offset in force before it.
  static int64_t RuleInstant(const RuleDate& date, int year, int64_t offset_before);

  // The latest transition at or before `utc_seconds`, listed or from the
  // rule; nullopt before the first (initial_offset_ holds then).
  std::optional<Transition> TransitionAtOrBefore(int64_t utc_seconds) const;

  std::string name_;
  int64_t initial_offset_ = 0;
  std::vector<Transition> transitions_;
  // Governs every instant after the last listed transition (all instants if
  // none are listed). Absent for UTC, fixed offsets, version 1 TZif files and
  // an empty footer: the last listed offset is then held.
  std::optional<Rule> rule_;
};

}  // namespace pinpipe
