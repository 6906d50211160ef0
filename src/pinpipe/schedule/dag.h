// A DAG: named tasks with upstream dependencies and how the DAG is triggered,
// in the spirit of an Airflow DAG file (the batch DAG mirrors the seed's:
// read -> clean pin/geo/user -> queries).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::schedule {

// What a running task sees. Owned by the scheduler for the task's lifetime.
struct TaskContext {
  int64_t run_id = 0;
  std::string dag;
  std::string task;
  int64_t logical_date_s = 0;  // the schedule time this run stands for (UTC seconds)
  int attempt = 1;             // 1 for the first try
  // Appends a line to the task's log excerpt (kept in the run history).
  std::function<void(const std::string&)> log;
  // Set when the task's timeout elapsed or the scheduler stops; long tasks
  // must check it and return promptly.
  const std::atomic<bool>* cancelled = nullptr;
  const std::atomic<bool>* stopping = nullptr;  // the scheduler is shutting down
  // A task may name where its results are (e.g. a folder); the run keeps the last one.
  std::string results_location;

  bool IsCancelled() const {
    return (cancelled && cancelled->load()) || (stopping && stopping->load());
  }
};

using TaskFn = std::function<Status(TaskContext&)>;

struct TaskSpec {
  std::string id;
  std::vector<std::string> upstream;
  TaskFn fn;
  int retries = 0;             // extra attempts after the first failure
  int64_t retry_delay_ms = 0;  // on the scheduler's clock
  int64_t timeout_ms = 0;      // 0 = none; real time
};

struct DagSpec {
  std::string name;
  std::string schedule;  // cron / @daily / @hourly; "" = only triggered by hand
  std::string timezone = "UTC";
  int64_t start_date_s = 0;  // no scheduled run before this instant
  bool catchup = false;      // run every missed interval, or only the latest
  int max_active_runs = 1;   // runs of this DAG at once; more are queued
  std::vector<TaskSpec> tasks;
};

// Checks names, dependencies (known, acyclic), and returns the tasks in a
// topological order (stable: declaration order among ready tasks).
Result<std::vector<const TaskSpec*>> TopologicalOrder(const DagSpec& dag);

}  // namespace pinpipe::schedule
