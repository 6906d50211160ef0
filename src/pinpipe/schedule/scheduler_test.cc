#include "pinpipe/schedule/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace pinpipe::schedule {
namespace {

constexpr int64_t kDay = 86400;
int64_t Utc(int y, int mo, int d, int h = 0) { return DaysFromCivil(y, mo, d) * 86400 + h * 3600; }

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = RunStore::Open(":memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    clock_.SetMicros(Utc(2024, 1, 10, 12) * 1'000'000);
  }
  void SetDay(int day, int hour = 12) { clock_.SetMicros(Utc(2024, 1, day, hour) * 1'000'000); }

  DagSpec CountingDag(std::atomic<int>* counter, bool catchup) {
    DagSpec dag;
    dag.name = "batch";
    dag.schedule = "@daily";
    dag.start_date_s = Utc(2024, 1, 5);
    dag.catchup = catchup;
    dag.tasks.push_back({"read", {}, [counter](TaskContext&) {
                           ++*counter;
                           return Status::Ok();
                         }});
    return dag;
  }

  ManualClock clock_;
  std::unique_ptr<RunStore> store_;
};

TEST_F(SchedulerTest, CatchupRunsEveryMissedDay) {
  std::atomic<int> runs{0};
  Scheduler s(*store_, &clock_);
  auto dag = CountingDag(&runs, /*catchup=*/true);
  dag.max_active_runs = 16;
  ASSERT_TRUE(s.AddDag(dag).ok());
  auto created = s.Tick();
  ASSERT_TRUE(created.ok());
  // Midnights of Jan 6..10 (the start date itself is not after start_date - 1? it is: Jan 5).
  EXPECT_EQ(*created, 6);
  s.WaitIdle();
  EXPECT_EQ(runs, 6);
  // Nothing more until the next midnight.
  EXPECT_EQ(*s.Tick(), 0);
  SetDay(11, 0);
  EXPECT_EQ(*s.Tick(), 1);
  s.WaitIdle();
  EXPECT_EQ(runs, 7);
  auto list = store_->ListRuns("batch", 100);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 7u);
  EXPECT_EQ(list->front().logical_date_s, Utc(2024, 1, 11));
  for (const auto& r : *list) EXPECT_EQ(r.state, State::kSuccess);
}

TEST_F(SchedulerTest, NoCatchupRunsOnlyTheLatest) {
  std::atomic<int> runs{0};
  Scheduler s(*store_, &clock_);
  ASSERT_TRUE(s.AddDag(CountingDag(&runs, /*catchup=*/false)).ok());
  EXPECT_EQ(*s.Tick(), 1);
  s.WaitIdle();
  // Thirty days later, still one run: the latest interval only.
  SetDay(31);
  EXPECT_EQ(*s.Tick(), 1);
  s.WaitIdle();
  EXPECT_EQ(runs, 2);
  auto list = store_->ListRuns("batch", 10);
  EXPECT_EQ(list->front().logical_date_s, Utc(2024, 1, 31));
}

TEST_F(SchedulerTest, ScheduleSurvivesRestart) {
  std::atomic<int> runs{0};
  {
    Scheduler s(*store_, &clock_);
    ASSERT_TRUE(s.AddDag(CountingDag(&runs, false)).ok());
    EXPECT_EQ(*s.Tick(), 1);
  }
  Scheduler again(*store_, &clock_);
  ASSERT_TRUE(again.AddDag(CountingDag(&runs, false)).ok());
  EXPECT_EQ(*again.Tick(), 0);  // today's run already happened
}

TEST_F(SchedulerTest, RetriesThenSucceeds) {
  Scheduler s(*store_, &clock_);
  std::atomic<int> attempts{0};
  DagSpec dag;
  dag.name = "flaky";
  TaskSpec task{"t", {}, [&](TaskContext& ctx) {
                  ++attempts;
                  ctx.log("attempt " + std::to_string(ctx.attempt));
                  return ctx.attempt < 3 ? UnavailableError("store down") : Status::Ok();
                }};
  task.retries = 3;
  task.retry_delay_ms = 60'000;
  dag.tasks.push_back(task);
  ASSERT_TRUE(s.AddDag(dag).ok());
  const int64_t before = clock_.NowMicros();
  auto id = s.Trigger("flaky");
  ASSERT_TRUE(id.ok());
  s.WaitIdle();
  EXPECT_EQ(attempts, 3);
  // Two retry delays passed on the injected clock, none in real time.
  EXPECT_EQ(clock_.NowMicros() - before, 2 * 60'000'000LL);
  auto run = store_->GetRun(*id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state, State::kSuccess);
  ASSERT_EQ(run->tasks.size(), 1u);
  EXPECT_EQ(run->tasks[0].attempts, 3);
  EXPECT_NE(run->tasks[0].log.find("store down"), std::string::npos);
}

TEST_F(SchedulerTest, FailureStopsDownstream) {
  Scheduler s(*store_, &clock_);
  std::atomic<bool> downstream_ran{false};
  DagSpec dag;
  dag.name = "d";
  dag.tasks.push_back({"read", {}, [](TaskContext&) { return DataLossError("corrupt object"); }});
  dag.tasks.push_back({"clean", {"read"}, [&](TaskContext&) {
                         downstream_ran = true;
                         return Status::Ok();
                       }});
  dag.tasks.push_back({"other", {}, [](TaskContext&) { return Status::Ok(); }});
  ASSERT_TRUE(s.AddDag(dag).ok());
  auto id = s.Trigger("d");
  s.WaitIdle();
  EXPECT_FALSE(downstream_ran);
  auto run = store_->GetRun(*id);
  EXPECT_EQ(run->state, State::kFailed);
  EXPECT_NE(run->error.find("corrupt object"), std::string::npos);
  ASSERT_EQ(run->tasks.size(), 3u);
  EXPECT_EQ(run->tasks[0].state, State::kFailed);
  EXPECT_EQ(run->tasks[1].state, State::kUpstreamFailed);
  EXPECT_EQ(run->tasks[2].state, State::kSuccess);
}

TEST_F(SchedulerTest, TimeoutCancelsTask) {
  Scheduler s(*store_, &clock_);
  DagSpec dag;
  dag.name = "slow";
  TaskSpec task{"wait", {}, [](TaskContext& ctx) {
                  while (!ctx.IsCancelled())
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                  return AbortedError("cancelled");
                }};
  task.timeout_ms = 50;
  dag.tasks.push_back(task);
  ASSERT_TRUE(s.AddDag(dag).ok());
  auto id = s.Trigger("slow");
  s.WaitIdle();
  auto run = store_->GetRun(*id);
  EXPECT_EQ(run->state, State::kFailed);
  EXPECT_NE(run->error.find("timed out"), std::string::npos) << run->error;
}

TEST_F(SchedulerTest, NoOverlappingRuns) {
  Scheduler s(*store_, &clock_);
  std::atomic<int> concurrent{0}, peak{0}, done{0};
  std::atomic<bool> release{false};
  DagSpec dag;
  dag.name = "one";
  dag.tasks.push_back({"t", {}, [&](TaskContext&) {
                         peak = std::max(peak.load(), ++concurrent);
                         while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                         --concurrent;
                         ++done;
                         return Status::Ok();
                       }});
  ASSERT_TRUE(s.AddDag(dag).ok());
  auto a = s.Trigger("one");
  auto b = s.Trigger("one");
  ASSERT_TRUE(a.ok() && b.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(store_->GetRun(*b)->state, State::kQueued);
  release = true;
  while (done < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  s.WaitIdle();
  EXPECT_EQ(peak, 1);
  EXPECT_EQ(store_->GetRun(*b)->state, State::kSuccess);
}

TEST_F(SchedulerTest, RejectsBadDags) {
  Scheduler s(*store_, &clock_);
  DagSpec cyclic;
  cyclic.name = "c";
  auto ok = [](TaskContext&) { return Status::Ok(); };
  cyclic.tasks.push_back({"a", {"b"}, ok});
  cyclic.tasks.push_back({"b", {"a"}, ok});
  EXPECT_EQ(s.AddDag(cyclic).code(), StatusCode::kInvalidArgument);
  DagSpec bad_cron;
  bad_cron.name = "x";
  bad_cron.schedule = "every day";
  bad_cron.tasks.push_back({"a", {}, ok});
  EXPECT_EQ(s.AddDag(bad_cron).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Trigger("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(SchedulerTest, OrphanedRunsAreMarkedFailed) {
  auto id = store_->CreateRun("batch", 0, "manual", 0);
  RunRecord run = *store_->GetRun(*id);
  run.state = State::kRunning;
  ASSERT_TRUE(store_->UpdateRun(run).ok());
  std::atomic<int> runs{0};
  Scheduler s(*store_, &clock_);
  ASSERT_TRUE(s.AddDag(CountingDag(&runs, false)).ok());
  EXPECT_EQ(store_->GetRun(*id)->state, State::kFailed);
}

}  // namespace
}  // namespace pinpipe::schedule
