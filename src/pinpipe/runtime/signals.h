// SignalWaiter: how every long-running command (`up`, `serve`, `stream`,
// `sink`, `emulate`, `consume`) learns it should stop, and how `up`/`serve`
// learn the tenants file changed.
//
// Constructing one blocks SIGINT, SIGTERM and SIGHUP in the calling thread,
// and so in every thread it starts afterwards: construct it first, before
// anything starts a thread (the broker, the HTTP server), so that no other
// thread can be killed by these signals. A thread of its own then waits for
// them (sigwait): the first SIGINT or SIGTERM sets stopping() and wakes Wait();
// a later one calls the OnSecondSignal callback ("a second Ctrl-C exits at
// once"); each SIGHUP calls the OnHangup callback.
//
// One per process at a time (it owns the process's signal disposition); the
// destructor stops the waiting thread and unblocks the signals again.
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace pinpipe::runtime {

class SignalWaiter {
 public:
  SignalWaiter();
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // Blocks until the first SIGINT/SIGTERM (or RequestStop); returns the
  // signal number (0 for RequestStop). Returns at once once stopping.
  int Wait();
  // The same, for at most `ms`; false when nothing came in time.
  bool WaitFor(int64_t ms);
  // Set by the first stop signal; loops that poll (the sink, the emulator,
  // the console consumer) read it.
  const std::atomic<bool>& stopping() const { return stopping_; }
  std::atomic<bool>* stop_flag() { return &stopping_; }
  // Stops as a signal would (signal number 0); for tests and internal stops.
  void RequestStop();

  // Called on the waiting thread for each SIGHUP; nullptr clears it, waiting
  // for a call in progress to return (so what the callback uses may go
  // afterwards). A callback must not set callbacks itself.
  void OnHangup(std::function<void()> callback);
  // Called on the waiting thread for each stop signal after the first.
  void OnSecondSignal(std::function<void()> callback);

 private:
  void Loop();
  void Stop(int sig);

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  int signal_ = 0;
  std::mutex callback_mu_;
  std::function<void()> on_hangup_;
  std::function<void()> on_second_;
  std::atomic<bool> closing_{false};
  sigset_t previous_mask_;
  std::thread thread_;
};

}  // namespace pinpipe::runtime
