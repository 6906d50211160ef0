#include "pinpipe/schedule/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

namespace pinpipe::schedule {
namespace {

constexpr size_t kLogExcerptBytes = 4096;
constexpr int64_t kMaxCatchupRuns = 1000;
constexpr int64_t kLookbackSeconds = 8LL * 366 * 86400;

void AppendLog(std::string* log, const std::string& line) {
  *log += line;
  *log += '\n';
  if (log->size() > kLogExcerptBytes) {
    size_t cut = log->size() - kLogExcerptBytes;
    cut = log->find('\n', cut);
    log->erase(0, cut == std::string::npos ? log->size() - kLogExcerptBytes : cut + 1);
  }
}

}  // namespace

Scheduler::Scheduler(RunStore& store, Clock* clock)
    : store_(store), clock_(clock != nullptr ? clock : &Clock::Real()) {}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::AddDag(DagSpec spec) {
  auto dag = std::make_unique<Dag>();
  dag->spec = std::move(spec);
  PINPIPE_ASSIGN_OR_RETURN(dag->order, TopologicalOrder(dag->spec));
  if (!dag->spec.schedule.empty()) {
    PINPIPE_ASSIGN_OR_RETURN(auto cron, CronSchedule::Parse(dag->spec.schedule));
    dag->cron = std::move(cron);
  }
  PINPIPE_ASSIGN_OR_RETURN(dag->tz, TimeZone::Load(dag->spec.timezone));
  if (dag->spec.max_active_runs < 1) {
    return InvalidArgumentError("max_active_runs of DAG '" + dag->spec.name + "' must be >= 1");
  }
  // Runs a dead process left behind.
  PINPIPE_ASSIGN_OR_RETURN(auto orphans, store_.RunsInState(dag->spec.name, State::kRunning));
  for (auto& run : orphans) {
    run.state = State::kFailed;
    run.end_ms = clock_->NowMillis();
    run.error = "interrupted: the process running it stopped";
    PINPIPE_RETURN_IF_ERROR(store_.UpdateRun(run));
  }
  std::lock_guard lock(mu_);
  const std::string name = dag->spec.name;
  if (dags_.count(name)) return AlreadyExistsError("DAG '" + name + "' is already registered");
  dags_[name] = std::move(dag);
  return Status::Ok();
}

std::vector<std::string> Scheduler::DagNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, dag] : dags_) names.push_back(name);
  return names;
}

Result<int64_t> Scheduler::Trigger(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = dags_.find(name);
  if (it == dags_.end()) return NotFoundError("no DAG named '" + name + "'");
  const int64_t now_ms = clock_->NowMillis();
  PINPIPE_ASSIGN_OR_RETURN(int64_t id, store_.CreateRun(name, now_ms / 1000, "manual", now_ms));
  PINPIPE_RETURN_IF_ERROR(StartQueuedLocked(*it->second));
  return id;
}

Result<int64_t> Scheduler::NextFireTime(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = dags_.find(name);
  if (it == dags_.end()) return NotFoundError("no DAG named '" + name + "'");
  const Dag& dag = *it->second;
  if (!dag.cron) return int64_t{-1};
  const int64_t now_s = clock_->NowMicros() / 1'000'000;
  return dag.cron->Next(std::max(now_s, dag.spec.start_date_s - 1), dag.tz);
}

Result<int> Scheduler::Tick() {
  std::lock_guard lock(mu_);
  if (stopping_) return 0;
  int created = 0;
  const int64_t now_ms = clock_->NowMillis();
  const int64_t now_s = now_ms / 1000;
  for (auto& [name, dag_ptr] : dags_) {
    Dag& dag = *dag_ptr;
    if (dag.cron) {
      PINPIPE_ASSIGN_OR_RETURN(int64_t last, store_.LastScheduled(name));
      int64_t from =
          last >= 0 ? last : std::max(dag.spec.start_date_s - 1, now_s - kLookbackSeconds);
      std::vector<int64_t> due;
      for (int64_t t = dag.cron->Next(from, dag.tz); t >= 0 && t <= now_s;
           t = dag.cron->Next(t, dag.tz)) {
        due.push_back(t);
        if (!dag.spec.catchup && due.size() > 1) due.erase(due.begin());
        if (static_cast<int64_t>(due.size()) >= kMaxCatchupRuns) break;
      }
      for (int64_t fire : due) {
        PINPIPE_ASSIGN_OR_RETURN(int64_t id, store_.CreateRun(name, fire, "scheduled", now_ms));
        spdlog::info("scheduler: queued run {} of DAG '{}' for {}", id, name, fire);
        ++created;
      }
      if (!due.empty()) PINPIPE_RETURN_IF_ERROR(store_.SetLastScheduled(name, due.back()));
    }
    PINPIPE_RETURN_IF_ERROR(StartQueuedLocked(dag));
  }
  return created;
}

Status Scheduler::StartQueuedLocked(Dag& dag) {
  if (stopping_ || dag.active >= dag.spec.max_active_runs) return Status::Ok();
  PINPIPE_ASSIGN_OR_RETURN(auto queued, store_.RunsInState(dag.spec.name, State::kQueued));
  for (auto& run : queued) {
    if (dag.active >= dag.spec.max_active_runs) break;
    run.state = State::kRunning;
    run.start_ms = clock_->NowMillis();
    PINPIPE_RETURN_IF_ERROR(store_.UpdateRun(run));
    ++dag.active;
    ++executing_;
    run_threads_.emplace_back([this, d = &dag, id = run.id] { ExecuteRun(d, id); });
  }
  return Status::Ok();
}

void Scheduler::ExecuteRun(Dag* dag, int64_t run_id) {
  auto loaded = store_.GetRun(run_id);
  RunRecord run = loaded.ok() ? *loaded : RunRecord{};
  run.id = run_id;
  std::map<std::string, State> finished;
  bool all_ok = true;
  for (const TaskSpec* task : dag->order) {
    TaskRecord record;
    record.task = task->id;
    bool upstream_ok = true;
    for (const auto& up : task->upstream)
      upstream_ok = upstream_ok && finished[up] == State::kSuccess;
    if (!upstream_ok || stopping_) {
      record.state = stopping_ ? State::kSkipped : State::kUpstreamFailed;
      finished[task->id] = record.state;
      all_ok = false;
      (void)store_.UpsertTask(run_id, record);
      continue;
    }
    record.start_ms = clock_->NowMillis();
    Status status;
    for (int attempt = 1; attempt <= task->retries + 1; ++attempt) {
      record.attempts = attempt;
      record.state = State::kRunning;
      (void)store_.UpsertTask(run_id, record);
      TaskContext ctx;
      ctx.run_id = run_id;
      ctx.dag = dag->spec.name;
      ctx.task = task->id;
      ctx.logical_date_s = run.logical_date_s;
      ctx.attempt = attempt;
      ctx.stopping = &stopping_;
      ctx.log = [&record](const std::string& line) { AppendLog(&record.log, line); };
      status = RunTask(*task, ctx);
      if (!ctx.results_location.empty()) run.results_location = ctx.results_location;
      if (status.ok()) break;
      AppendLog(&record.log,
                "attempt " + std::to_string(attempt) + " failed: " + status.ToString());
      spdlog::warn("scheduler: run {} task '{}' attempt {} failed: {}", run_id, task->id, attempt,
                   status.ToString());
      if (attempt <= task->retries && !stopping_) clock_->SleepMicros(task->retry_delay_ms * 1000);
      if (stopping_) break;
    }
    record.end_ms = clock_->NowMillis();
    record.state = status.ok() ? State::kSuccess : State::kFailed;
    if (!status.ok()) {
      all_ok = false;
      if (run.error.empty()) run.error = task->id + ": " + status.ToString();
    }
    finished[task->id] = record.state;
    (void)store_.UpsertTask(run_id, record);
  }
  run.state = all_ok ? State::kSuccess : State::kFailed;
  run.end_ms = clock_->NowMillis();
  (void)store_.UpdateRun(run);
  spdlog::info("scheduler: run {} of DAG '{}' ended: {}", run_id, dag->spec.name,
               StateName(run.state));

  std::lock_guard lock(mu_);
  --dag->active;
  --executing_;
  (void)StartQueuedLocked(*dag);
  idle_cv_.notify_all();
}

Status Scheduler::RunTask(const TaskSpec& task, TaskContext& ctx) {
  std::atomic<bool> cancelled{false};
  ctx.cancelled = &cancelled;
  if (task.timeout_ms <= 0) return task.fn(ctx);
  // The task runs on its own thread so its timeout can be enforced; on
  // timeout it is told to cancel and we wait for it to return.
  std::packaged_task<Status()> job([&] { return task.fn(ctx); });
  auto result = job.get_future();
  std::thread worker(std::move(job));
  const bool in_time =
      result.wait_for(std::chrono::milliseconds(task.timeout_ms)) == std::future_status::ready;
  if (!in_time) cancelled = true;
  worker.join();
  Status status = result.get();
  if (!in_time) {
    return DeadlineExceededError("task '" + task.id + "' timed out after " +
                                 std::to_string(task.timeout_ms) + " ms");
  }
  return status;
}

void Scheduler::Start(int64_t tick_ms) {
  std::lock_guard lock(ticker_mu_);
  if (ticker_.joinable()) return;
  ticker_stop_ = false;
  ticker_ = std::thread([this, tick_ms] {
    std::unique_lock lock(ticker_mu_);
    while (!ticker_stop_) {
      lock.unlock();
      auto created = Tick();
      if (!created.ok()) spdlog::warn("scheduler: {}", created.status().ToString());
      lock.lock();
      ticker_cv_.wait_for(lock, std::chrono::milliseconds(tick_ms), [&] { return ticker_stop_; });
    }
  });
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(ticker_mu_);
    ticker_stop_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  stopping_ = true;
  std::list<std::thread> threads;
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return executing_ == 0; });
    threads.swap(run_threads_);
  }
  for (auto& t : threads) t.join();
}

void Scheduler::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return executing_ == 0; });
}

}  // namespace pinpipe::schedule
