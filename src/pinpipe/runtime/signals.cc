#include "pinpipe/runtime/signals.h"

#include <signal.h>

#include <chrono>

namespace pinpipe::runtime {
namespace {

sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

SignalWaiter::SignalWaiter() {
  const sigset_t set = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
  thread_ = std::thread([this] { Loop(); });
}

SignalWaiter::~SignalWaiter() {
  closing_ = true;
  // Wakes the waiting thread's sigwait: a signal sent to that thread alone.
  pthread_kill(thread_.native_handle(), SIGHUP);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void SignalWaiter::Loop() {
  const sigset_t set = WatchedSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    if (closing_) return;
    if (sig == SIGHUP || stopping_) {
      // Held while the callback runs, so that clearing it waits for a call in progress.
      std::lock_guard lock(callback_mu_);
      auto& callback = sig == SIGHUP ? on_hangup_ : on_second_;
      if (callback) callback();
      continue;
    }
    Stop(sig);
  }
}

void SignalWaiter::Stop(int sig) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    signal_ = sig;
    stopping_ = true;
  }
  cv_.notify_all();
}

void SignalWaiter::RequestStop() { Stop(0); }

int SignalWaiter::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return stopping_.load(); });
  return signal_;
}

bool SignalWaiter::WaitFor(int64_t ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
}

void SignalWaiter::OnHangup(std::function<void()> callback) {
  std::lock_guard lock(callback_mu_);
  on_hangup_ = std::move(callback);
}

void SignalWaiter::OnSecondSignal(std::function<void()> callback) {
  std::lock_guard lock(callback_mu_);
  on_second_ = std::move(callback);
}

}  // namespace pinpipe::runtime
