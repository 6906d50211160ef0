// RunStore: the scheduler's run history in SQLite (<data_dir>/runs.db): each
// run's and each task's state, times, attempts, log excerpt and results
// location. Survives restarts; read by `pinpipe runs` and the dashboard.
//
// Thread-safety: all methods are safe to call concurrently (one connection
// behind a mutex; SQLite in WAL mode so other processes can read).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"

struct sqlite3;

namespace pinpipe::schedule {

enum class State { kQueued, kRunning, kSuccess, kFailed, kUpstreamFailed, kSkipped };
std::string_view StateName(State s);
Result<State> ParseState(std::string_view name);

struct TaskRecord {
  std::string task;
  State state = State::kQueued;
  int attempts = 0;
  int64_t start_ms = 0, end_ms = 0;
  std::string log;  // last lines, bounded
};

struct RunRecord {
  int64_t id = 0;
  std::string dag;
  int64_t logical_date_s = 0;
  std::string trigger;  // "scheduled" or "manual"
  State state = State::kQueued;
  int64_t queued_ms = 0, start_ms = 0, end_ms = 0;
  std::string results_location;
  std::string error;
  std::vector<TaskRecord> tasks;  // filled by GetRun
};

class RunStore {
 public:
  // Opens (creating) the database file; ":memory:" for tests.
  static Result<std::unique_ptr<RunStore>> Open(const std::string& path);
  ~RunStore();

  Result<int64_t> CreateRun(const std::string& dag, int64_t logical_date_s,
                            const std::string& trigger, int64_t now_ms);
  Status UpdateRun(const RunRecord& run);
  Status UpsertTask(int64_t run_id, const TaskRecord& task);
  Result<RunRecord> GetRun(int64_t id);
  // Newest first; dag "" = all DAGs.
  Result<std::vector<RunRecord>> ListRuns(const std::string& dag, int limit);
  // Runs of `dag` in the given state, oldest first.
  Result<std::vector<RunRecord>> RunsInState(const std::string& dag, State state);
  // The newest successful run of `dag`, if any.
  Result<std::optional<RunRecord>> LatestSuccess(const std::string& dag);

  // The last fire time the scheduler acted on for `dag` (-1 if none).
  Result<int64_t> LastScheduled(const std::string& dag);
  Status SetLastScheduled(const std::string& dag, int64_t fire_time_s);

 private:
  explicit RunStore(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace pinpipe::schedule
