#include "pinpipe/runtime/signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace pinpipe::runtime {
namespace {

template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

TEST(SignalWaiterTest, FirstStopSignalWakesWaitAndSetsTheFlag) {
  SignalWaiter signals;
  EXPECT_FALSE(signals.stopping());
  EXPECT_FALSE(signals.WaitFor(20));
  // Sent to the process, as a shell or systemd does: only the waiter's thread takes it.
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  EXPECT_EQ(signals.Wait(), SIGTERM);
  EXPECT_TRUE(signals.stopping());
  EXPECT_TRUE(signals.WaitFor(0));
  EXPECT_EQ(signals.Wait(), SIGTERM);  // at once, once stopping
}

TEST(SignalWaiterTest, LaterStopSignalsCallTheSecondSignalCallback) {
  SignalWaiter signals;
  std::atomic<int> seconds{0};
  signals.OnSecondSignal([&] { ++seconds; });
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  EXPECT_EQ(signals.Wait(), SIGINT);
  EXPECT_EQ(seconds.load(), 0);
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  EXPECT_TRUE(Eventually([&] { return seconds.load() == 1; }));
}

TEST(SignalWaiterTest, HangupCallsTheCallbackAndDoesNotStop) {
  SignalWaiter signals;
  std::atomic<int> hangups{0};
  signals.OnHangup([&] { ++hangups; });
  ASSERT_EQ(kill(getpid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return hangups.load() == 1; }));
  ASSERT_EQ(kill(getpid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return hangups.load() == 2; }));
  EXPECT_FALSE(signals.stopping());
  signals.OnHangup(nullptr);
  ASSERT_EQ(kill(getpid(), SIGHUP), 0);  // ignored now
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(hangups.load(), 2);
  EXPECT_FALSE(signals.stopping());
}

TEST(SignalWaiterTest, RequestStopWakesAWaiterOnAnotherThread) {
  SignalWaiter signals;
  std::atomic<int> got{-1};
  std::thread waiter([&] { got = signals.Wait(); });
  signals.RequestStop();
  waiter.join();
  EXPECT_EQ(got.load(), 0);
  EXPECT_TRUE(signals.stop_flag()->load());
}

TEST(SignalWaiterTest, RestoresTheSignalMaskWhenDestroyed) {
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  ASSERT_FALSE(sigismember(&before, SIGTERM));
  {
    SignalWaiter signals;
    sigset_t during;
    pthread_sigmask(SIG_SETMASK, nullptr, &during);
    EXPECT_TRUE(sigismember(&during, SIGTERM));
    EXPECT_TRUE(sigismember(&during, SIGINT));
    EXPECT_TRUE(sigismember(&during, SIGHUP));
  }
  sigset_t after;
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  EXPECT_FALSE(sigismember(&after, SIGTERM));
}

}  // namespace
}  // namespace pinpipe::runtime
