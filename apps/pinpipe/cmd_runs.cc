// `pinpipe runs list|show|trigger`: the scheduler's run history, and runs on demand.
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "pinpipe/runtime/batch_dag.h"
#include "pinpipe/runtime/remote.h"
#include "pinpipe/schedule/run_store.h"

namespace pinpipe::app {
namespace {

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

void PrintRun(const schedule::RunRecord& r) {
  std::cout << std::left << std::setw(6) << r.id << std::setw(8) << r.dag << std::setw(10)
            << r.trigger << std::setw(16) << schedule::StateName(r.state) << std::setw(21)
            << Time(r.start_ms)
            << (r.end_ms > r.start_ms && r.start_ms > 0
                    ? std::to_string((r.end_ms - r.start_ms) / 1000.0) + " s"
                    : "-")
            << (r.error.empty() ? "" : "  " + r.error) << "\n";
}

// Runs the DAG in this process, recording it in the same history.
Status TriggerLocal(const Config& config, const std::string& dag) {
  PINPIPE_ASSIGN_OR_RETURN(auto run, runtime::RunBatchDagNow(config, dag));
  PrintRun(run);
  if (run.state != schedule::State::kSuccess) {
    return FailedPreconditionError("run " + std::to_string(run.id) + " failed: " + run.error);
  }
  std::cout << "results: " << run.results_location << "\n";
  return Status::Ok();
}

}  // namespace

void RegisterRunsCommands(CLI::App& app, CommandContext& ctx) {
  auto* runs = app.add_subcommand("runs", "The scheduler's runs: history and runs on demand");
  runs->require_subcommand(1);
  ctx.BindFlag(runs, "--data-dir", "general.data_dir", "Folder holding runs.db");

  auto limit = std::make_shared<int>(20);
  auto* list =
      runs->add_subcommand("list", "Recent runs, newest first.\nExample: pinpipe runs list");
  list->add_option("--limit", *limit, "How many runs")->check(CLI::Range(1, 10000));
  ctx.SetAction(list, [limit](const Config& config) -> Status {
    PINPIPE_ASSIGN_OR_RETURN(auto store, runtime::OpenRunStore(config));
    PINPIPE_ASSIGN_OR_RETURN(auto all, store->ListRuns("", *limit));
    std::cout << "run   dag     trigger   state           started              took\n";
    for (const auto& r : all) PrintRun(r);
    return Status::Ok();
  });

  auto id = std::make_shared<int64_t>(0);
  auto* show =
      runs->add_subcommand("show", "One run with its tasks.\nExample: pinpipe runs show 3");
  show->add_option("id", *id, "Run id")->required();
  ctx.SetAction(show, [id](const Config& config) -> Status {
    PINPIPE_ASSIGN_OR_RETURN(auto store, runtime::OpenRunStore(config));
    auto run = store->GetRun(*id);
    if (!run.ok() && run.status().code() == StatusCode::kNotFound) {
      return InvalidArgumentError(run.status().message());
    }
    if (!run.ok()) return run.status();
    PrintRun(*run);
    if (!run->results_location.empty()) std::cout << "results: " << run->results_location << "\n";
    for (const auto& t : run->tasks) {
      std::cout << "  task " << t.task << ": " << schedule::StateName(t.state) << ", " << t.attempts
                << " attempt(s)\n";
      if (!t.log.empty()) std::cout << "    " << t.log << "\n";
    }
    return Status::Ok();
  });

  auto dag = std::make_shared<std::string>();
  auto local = std::make_shared<bool>(false);
  auto* trigger = runs->add_subcommand(
      "trigger",
      "Run a DAG now: through a running `pinpipe up` (POST /api/runs/<dag>) when one listens on "
      "api.listen, else in this process.\nExample: pinpipe runs trigger batch");
  trigger->add_option("dag", *dag, "DAG name (batch)")->required();
  trigger->add_flag("--local", *local, "Run in this process even if a server is up");
  ctx.BindFlag(trigger, "--listen", "api.listen", "Where a running pinpipe up listens");
  ctx.BindFlag(trigger, "--store", "lake.url", "Object store with the sink's output");
  ctx.BindFlag(trigger, "--prefix", "general.prefix", "User prefix");
  ctx.SetAction(trigger, [dag, local](const Config& config) -> Status {
    if (!*local) {
      auto remote = runtime::TriggerRemoteRun(config, *dag);
      if (remote.ok()) {
        std::cout << *remote << "\n";
        return Status::Ok();
      }
      if (remote.status().code() != StatusCode::kUnavailable) return remote.status();
    }
    return TriggerLocal(config, *dag);
  });
}

}  // namespace pinpipe::app
