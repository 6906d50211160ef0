#include "pinpipe/base/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace pinpipe {
namespace {

TEST(ManualClockTest, AutoAdvanceMovesTimeOnSleep) {
  ManualClock clock(1000);
  clock.SleepMicros(500);
  EXPECT_EQ(clock.NowMicros(), 1500);
}

TEST(ManualClockTest, SleepWaitsForAdvance) {
  ManualClock clock(0, /*auto_advance=*/false);
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepMicros(100);
    woke = true;
  });
  // The sleeper may start before or after any advance; keep time moving in
  // small steps until it wakes, and check it never wakes early.
  int64_t advanced = 0;
  while (!woke) {
    clock.AdvanceMicros(10);
    advanced += 10;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  sleeper.join();
  EXPECT_GE(advanced, 100);
}

TEST(SystemClockTest, IsNearWallClock) {
  const int64_t now = Clock::Real().NowMicros();
  EXPECT_GT(now, 1'700'000'000'000'000);  // after 2023
}

}  // namespace
}  // namespace pinpipe
