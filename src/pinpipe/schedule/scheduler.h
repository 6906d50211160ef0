// Scheduler: runs DAGs on their cron triggers and on demand, with retries,
// per-task timeouts, catch-up, and at most max_active_runs runs of a DAG at
// once (later runs wait queued). History goes to a RunStore.
//
// Time: schedule decisions read the injected Clock, so tests drive days of
// schedule by moving a ManualClock and calling Tick(); retry delays sleep on
// that clock; task timeouts are real time (they bound real work).
//
// Thread-safety: all public methods are safe to call from any thread. Runs
// execute on their own threads, owned by the Scheduler.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/status.h"
#include "pinpipe/schedule/cron.h"
#include "pinpipe/schedule/dag.h"
#include "pinpipe/schedule/run_store.h"

namespace pinpipe::schedule {

class Scheduler {
 public:
  // `store` and `clock` (nullptr: Clock::Real()) must outlive the Scheduler.
  explicit Scheduler(RunStore& store, Clock* clock = nullptr);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Registers a DAG. Runs it left `running` by a previous process are marked
  // failed (the process died under them). InvalidArgument for a bad DAG.
  Status AddDag(DagSpec dag);
  std::vector<std::string> DagNames() const;

  // Queues a manual run of `dag` for now; it starts at once if a slot is free.
  Result<int64_t> Trigger(const std::string& dag);

  // Creates the scheduled runs that are due by the clock's now, and starts
  // queued runs that have a free slot. Returns how many runs it created.
  Result<int> Tick();

  // Ticks every `tick_ms` of real time on a background thread until Stop().
  void Start(int64_t tick_ms = 1000);
  // Stops ticking, cancels running tasks and waits for their runs to end.
  void Stop();
  // Blocks until no run is executing (queued runs without a slot stay queued).
  void WaitIdle();

  // The next scheduled fire time of `dag` after now (UTC seconds; -1 if none).
  Result<int64_t> NextFireTime(const std::string& dag);

 private:
  struct Dag {
    DagSpec spec;
    std::vector<const TaskSpec*> order;
    std::optional<CronSchedule> cron;
    TimeZone tz = TimeZone::Utc();
    int active = 0;  // runs executing now
  };

  Status StartQueuedLocked(Dag& dag);
  void ExecuteRun(Dag* dag, int64_t run_id);
  Status RunTask(const TaskSpec& task, TaskContext& ctx);

  RunStore& store_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::map<std::string, std::unique_ptr<Dag>> dags_;
  std::list<std::thread> run_threads_;
  int executing_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread ticker_;
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;
};

}  // namespace pinpipe::schedule
