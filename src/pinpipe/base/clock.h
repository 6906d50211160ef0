// Clock: the one source of "now" and of sleeping, so tests can drive time.
//
// Production code takes a Clock (never calls std::chrono::system_clock
// directly): by reference when the caller must choose one, as a pointer
// defaulting to nullptr = Clock::Real() otherwise (the rule in
// src/pinpipe/README.md); tests pass a ManualClock and advance it. Thread-safety: all
// implementations are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace pinpipe {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros() = 0;
  // Monotonic time for measuring intervals, microseconds from an arbitrary origin.
  virtual int64_t MonotonicMicros() = 0;
  // Blocks the caller for `micros` of this clock's time.
  virtual void SleepMicros(int64_t micros) = 0;

  int64_t NowMillis() { return NowMicros() / 1000; }

  // The process-wide real clock.
  static Clock& Real();
};

// The real clock (system_clock / steady_clock).
class SystemClock final : public Clock {
 public:
  int64_t NowMicros() override;
  int64_t MonotonicMicros() override;
  void SleepMicros(int64_t micros) override;
};

// A clock that only moves when told to. SleepMicros blocks until another
// thread advances the clock past the wake-up time (or returns at once if
// auto_advance is set, moving time forward itself).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 1'600'000'000'000'000, bool auto_advance = true)
      : now_(start_micros), auto_advance_(auto_advance) {}

  int64_t NowMicros() override;
  int64_t MonotonicMicros() override { return NowMicros(); }
  void SleepMicros(int64_t micros) override;

  void AdvanceMicros(int64_t micros);
  void SetMicros(int64_t micros);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t now_;
  bool auto_advance_;
};

}  // namespace pinpipe
