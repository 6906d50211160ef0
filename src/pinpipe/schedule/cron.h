// CronSchedule: when a DAG runs. Five-field cron expressions
// ("minute hour day-of-month month day-of-week", with *, lists, ranges, steps
// and month/day names) and the shorthands @yearly, @monthly, @weekly, @daily,
// @hourly. Day-of-month and day-of-week combine like Vixie cron: when both are
// restricted, a day matches if either does.
//
// Thread-safety: immutable after Parse.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "pinpipe/base/status.h"
#include "pinpipe/base/timezone.h"

namespace pinpipe::schedule {

class CronSchedule {
 public:
  // InvalidArgument with the offending field for a malformed expression.
  static Result<CronSchedule> Parse(std::string_view expression);

  // The first fire time strictly after `after_utc_seconds`, in UTC seconds,
  // evaluating the fields in `tz`'s wall-clock time. Fire times that fall in a
  // DST gap fire when the gap ends; in an overlap they fire once.
  // Returns -1 if none within 8 years (e.g. "0 0 31 2 *").
  int64_t Next(int64_t after_utc_seconds, const TimeZone& tz) const;

  const std::string& expression() const { return expression_; }

 private:
  std::string expression_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;

  bool DayMatches(int year, int month, int day) const;
};

}  // namespace pinpipe::schedule
