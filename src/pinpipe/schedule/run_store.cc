#include "pinpipe/schedule/run_store.h"

#include <sqlite3.h>

namespace pinpipe::schedule {
namespace {

constexpr std::string_view kStateNames[] = {"queued", "running",         "success",
                                            "failed", "upstream_failed", "skipped"};

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status status() const {
    return rc_ == SQLITE_OK ? Status::Ok()
                            : InternalError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  Status Run() {
    PINPIPE_RETURN_IF_ERROR(status());
    const int rc = Step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      return UnavailableError(std::string("run history: ") + sqlite3_errmsg(db_));
    }
    return Status::Ok();
  }
  int64_t Int(int col) { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col)) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

constexpr const char* kRunColumns =
    "id, dag, logical_date, trigger, state, queued_ms, start_ms, end_ms, results, error";

RunRecord ReadRun(Stmt& s) {
  RunRecord r;
  r.id = s.Int(0);
  r.dag = s.Text(1);
  r.logical_date_s = s.Int(2);
  r.trigger = s.Text(3);
  r.state = ParseState(s.Text(4)).value_or(State::kFailed);
  r.queued_ms = s.Int(5);
  r.start_ms = s.Int(6);
  r.end_ms = s.Int(7);
  r.results_location = s.Text(8);
  r.error = s.Text(9);
  return r;
}

}  // namespace

std::string_view StateName(State s) { return kStateNames[static_cast<int>(s)]; }

Result<State> ParseState(std::string_view name) {
  for (int i = 0; i < 6; ++i) {
    if (kStateNames[i] == name) return static_cast<State>(i);
  }
  return InvalidArgumentError("unknown run state '" + std::string(name) + "'");
}

Result<std::unique_ptr<RunStore>> RunStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return UnavailableError("cannot open run history '" + path + "': " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<RunStore> store(new RunStore(db));
  PINPIPE_RETURN_IF_ERROR(store->Exec(
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, dag TEXT NOT NULL,"
      " logical_date INTEGER NOT NULL, trigger TEXT NOT NULL, state TEXT NOT NULL,"
      " queued_ms INTEGER NOT NULL, start_ms INTEGER NOT NULL DEFAULT 0,"
      " end_ms INTEGER NOT NULL DEFAULT 0, results TEXT NOT NULL DEFAULT '',"
      " error TEXT NOT NULL DEFAULT '');"
      "CREATE INDEX IF NOT EXISTS runs_by_dag ON runs (dag, id);"
      "CREATE TABLE IF NOT EXISTS tasks (run_id INTEGER NOT NULL, task TEXT NOT NULL,"
      " state TEXT NOT NULL, attempts INTEGER NOT NULL, start_ms INTEGER NOT NULL,"
      " end_ms INTEGER NOT NULL, log TEXT NOT NULL, ord INTEGER NOT NULL,"
      " PRIMARY KEY (run_id, task));"
      "CREATE TABLE IF NOT EXISTS schedule_state (dag TEXT PRIMARY KEY, last_fire INTEGER NOT "
      "NULL);"));
  return store;
}

RunStore::~RunStore() { sqlite3_close(db_); }

Status RunStore::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return UnavailableError("run history: " + message);
  }
  return Status::Ok();
}

Result<int64_t> RunStore::CreateRun(const std::string& dag, int64_t logical_date_s,
                                    const std::string& trigger, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO runs (dag, logical_date, trigger, state, queued_ms) VALUES (?,?,?,?,?)");
  s.Bind(1, dag)
      .Bind(2, logical_date_s)
      .Bind(3, trigger)
      .Bind(4, std::string("queued"))
      .Bind(5, now_ms);
  PINPIPE_RETURN_IF_ERROR(s.Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status RunStore::UpdateRun(const RunRecord& run) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE runs SET state=?, start_ms=?, end_ms=?, results=?, error=? WHERE id=?");
  s.Bind(1, std::string(StateName(run.state)))
      .Bind(2, run.start_ms)
      .Bind(3, run.end_ms)
      .Bind(4, run.results_location)
      .Bind(5, run.error)
      .Bind(6, run.id);
  return s.Run();
}

Status RunStore::UpsertTask(int64_t run_id, const TaskRecord& task) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO tasks (run_id, task, state, attempts, start_ms, end_ms, log, ord)"
         " VALUES (?,?,?,?,?,?,?, (SELECT COUNT(*) FROM tasks WHERE run_id=?1))"
         " ON CONFLICT (run_id, task) DO UPDATE SET state=excluded.state,"
         " attempts=excluded.attempts, start_ms=excluded.start_ms, end_ms=excluded.end_ms,"
         " log=excluded.log");
  s.Bind(1, run_id)
      .Bind(2, task.task)
      .Bind(3, std::string(StateName(task.state)))
      .Bind(4, static_cast<int64_t>(task.attempts))
      .Bind(5, task.start_ms)
      .Bind(6, task.end_ms)
      .Bind(7, task.log);
  return s.Run();
}

Result<RunRecord> RunStore::GetRun(int64_t id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kRunColumns + " FROM runs WHERE id=?").c_str());
  PINPIPE_RETURN_IF_ERROR(s.status());
  s.Bind(1, id);
  if (s.Step() != SQLITE_ROW) return NotFoundError("no run with id " + std::to_string(id));
  RunRecord run = ReadRun(s);
  Stmt t(
      db_,
      "SELECT task, state, attempts, start_ms, end_ms, log FROM tasks WHERE run_id=? ORDER BY ord");
  t.Bind(1, id);
  while (t.Step() == SQLITE_ROW) {
    TaskRecord task;
    task.task = t.Text(0);
    task.state = ParseState(t.Text(1)).value_or(State::kFailed);
    task.attempts = static_cast<int>(t.Int(2));
    task.start_ms = t.Int(3);
    task.end_ms = t.Int(4);
    task.log = t.Text(5);
    run.tasks.push_back(std::move(task));
  }
  return run;
}

Result<std::vector<RunRecord>> RunStore::ListRuns(const std::string& dag, int limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kRunColumns +
               " FROM runs WHERE (?1 = '' OR dag = ?1) ORDER BY id DESC LIMIT ?2")
                  .c_str());
  PINPIPE_RETURN_IF_ERROR(s.status());
  s.Bind(1, dag).Bind(2, static_cast<int64_t>(limit));
  std::vector<RunRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadRun(s));
  return out;
}

Result<std::vector<RunRecord>> RunStore::RunsInState(const std::string& dag, State state) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kRunColumns +
               " FROM runs WHERE dag = ? AND state = ? ORDER BY id")
                  .c_str());
  PINPIPE_RETURN_IF_ERROR(s.status());
  s.Bind(1, dag).Bind(2, std::string(StateName(state)));
  std::vector<RunRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadRun(s));
  return out;
}

Result<std::optional<RunRecord>> RunStore::LatestSuccess(const std::string& dag) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kRunColumns +
               " FROM runs WHERE dag = ? AND state = 'success' ORDER BY id DESC LIMIT 1")
                  .c_str());
  PINPIPE_RETURN_IF_ERROR(s.status());
  s.Bind(1, dag);
  if (s.Step() != SQLITE_ROW) return std::optional<RunRecord>();
  return std::optional<RunRecord>(ReadRun(s));
}

Result<int64_t> RunStore::LastScheduled(const std::string& dag) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT last_fire FROM schedule_state WHERE dag = ?");
  PINPIPE_RETURN_IF_ERROR(s.status());
  s.Bind(1, dag);
  if (s.Step() != SQLITE_ROW) return int64_t{-1};
  return s.Int(0);
}

Status RunStore::SetLastScheduled(const std::string& dag, int64_t fire_time_s) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO schedule_state (dag, last_fire) VALUES (?, ?)"
         " ON CONFLICT (dag) DO UPDATE SET last_fire = excluded.last_fire");
  s.Bind(1, dag).Bind(2, fire_time_s);
  return s.Run();
}

}  // namespace pinpipe::schedule
