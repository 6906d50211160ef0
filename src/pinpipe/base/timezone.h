// TimeZone: converts between UTC instants and civil (wall-clock) time in a
// zone, for the scheduler's cron schedules and the sink's time-based
// partitioner. Zones: "UTC", fixed offsets ("+05:30", "-08:00"), and IANA
// names ("Europe/Paris") read from the system's TZif files
// (/usr/share/zoneinfo, or $TZDIR).
//
// Thread-safety: immutable after Load; safe to share.
#pragma once

#include <cstdint>
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
  // InvalidArgument for an unknown or unreadable zone.
  static Result<TimeZone> Load(std::string_view name);

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
  std::string name_;
  int64_t initial_offset_ = 0;
  std::vector<Transition> transitions_;
  // POSIX TZ rule for times after the last transition is not parsed; the last
  // transition's offset is held. Debian's TZif files list transitions to 2037.
};

}  // namespace pinpipe
