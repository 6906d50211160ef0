#include "pinpipe/base/clock.h"

#include <thread>

namespace pinpipe {

Clock& Clock::Real() {
  static SystemClock clock;
  return clock;
}

int64_t SystemClock::NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SystemClock::MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SystemClock::SleepMicros(int64_t micros) {
  if (micros > 0) std::this_thread::sleep_for(std::chrono::microseconds(micros));
}

int64_t ManualClock::NowMicros() {
  std::lock_guard lock(mu_);
  return now_;
}

void ManualClock::SleepMicros(int64_t micros) {
  std::unique_lock lock(mu_);
  const int64_t wake = now_ + micros;
  if (auto_advance_) {
    if (wake > now_) now_ = wake;
    cv_.notify_all();
    return;
  }
  cv_.wait(lock, [&] { return now_ >= wake; });
}

void ManualClock::AdvanceMicros(int64_t micros) {
  std::lock_guard lock(mu_);
  now_ += micros;
  cv_.notify_all();
}

void ManualClock::SetMicros(int64_t micros) {
  std::lock_guard lock(mu_);
  now_ = micros;
  cv_.notify_all();
}

}  // namespace pinpipe
