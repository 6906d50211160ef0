#include "pinpipe/runtime/batch_dag.h"

#include <filesystem>

#include "pinpipe/base/names.h"
#include "pinpipe/batch/answers.h"
#include "pinpipe/batch/job.h"
#include "pinpipe/batch/queries.h"

namespace pinpipe::runtime {

std::string BatchDagName(const std::string& general_prefix, const std::string& prefix) {
  return prefix == general_prefix ? "batch" : "batch-" + prefix;
}

schedule::DagSpec BuildBatchDag(const Config& config, objstore::ObjectStore* lake,
                                int64_t start_date_s) {
  schedule::DagSpec dag;
  dag.name = "batch";
  dag.schedule = config.Get("schedule.batch_cron");
  dag.timezone = config.Get("schedule.timezone");
  dag.start_date_s = start_date_s;  // no catch-up of days before the first start
  dag.catchup = false;
  const std::string prefix = config.Get("general.prefix");
  const std::filesystem::path out_root = std::filesystem::absolute(config.Get("batch.out"));
  // Like the seed's Airflow DAG: check the sink's output exists, then read,
  // clean and answer the questions, then publish the run as the latest.
  schedule::TaskSpec check{"check_input", {}, [lake, prefix](schedule::TaskContext& ctx) -> Status {
                             for (std::string_view kind : kTableKindNames) {
                               const std::string folder = SinkTopicFolder(prefix, kind);
                               auto page = lake->List(folder, "", 1);
                               if (!page.ok()) return page.status();
                               if (page->objects.empty())
                                 return NotFoundError("no objects under " + folder + " yet");
                             }
                             ctx.log("input present for all three topics");
                             return Status::Ok();
                           }};
  check.retries = 2;
  check.retry_delay_ms = 5'000;
  schedule::TaskSpec run{
      "clean_and_query",
      {"check_input"},
      [lake, prefix, out_root](schedule::TaskContext& ctx) -> Status {
        batch::JobOptions options;
        options.load.prefix = prefix;
        // The cleaned tables stream to Parquet while loading; memory keeps
        // only the columns the questions read.
        options.load.columns = clean::ColumnSet::kQueryOnly;
        options.out_dir = (out_root / ("run-" + std::to_string(ctx.run_id))).string();
        PINPIPE_ASSIGN_OR_RETURN(auto report, batch::RunBatchJob(*lake, options));
        ctx.log(report.summary_json);
        ctx.results_location = options.out_dir;
        return Status::Ok();
      }};
  run.timeout_ms = 2 * 3600 * 1000;
  dag.tasks = {check, run};
  return dag;
}

Result<std::unique_ptr<schedule::RunStore>> OpenRunStore(const Config& config) {
  const std::filesystem::path dir = config.Get("general.data_dir");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create data dir '" + dir.string() + "': " + ec.message());
  return schedule::RunStore::Open((dir / "runs.db").string());
}

Result<nlohmann::json> LatestBatchResults(schedule::RunStore& runs, const std::string& dag) {
  PINPIPE_ASSIGN_OR_RETURN(auto latest, runs.LatestSuccess(dag));
  if (!latest) return NotFoundError("no batch run has finished yet");
  nlohmann::json out = {{"run_id", latest->id},
                        {"finished_ms", latest->end_ms},
                        {"location", latest->results_location},
                        {"questions", nlohmann::json::array()}};
  for (const auto& q : batch::Questions()) {
    nlohmann::json question = {{"id", q.id},
                               {"title", q.title},
                               {"columns", nlohmann::json::array()},
                               {"rows", nlohmann::json::array()}};
    auto answer = batch::ReadAnswer(latest->results_location, q.id);
    if (!answer.ok() && answer.status().code() != StatusCode::kNotFound) return answer.status();
    if (answer.ok()) {
      question["columns"] = answer->columns;
      for (auto& row : answer->rows) question["rows"].push_back(std::move(row));
    }
    out["questions"].push_back(std::move(question));
  }
  return out;
}

Result<schedule::RunRecord> RunBatchDagNow(const Config& config, const std::string& dag) {
  if (dag != "batch") return NotFoundError("no DAG named '" + dag + "' (there is: batch)");
  PINPIPE_ASSIGN_OR_RETURN(auto lake, objstore::OpenObjectStore(config.Get("lake.url"), config));
  PINPIPE_ASSIGN_OR_RETURN(auto runs, OpenRunStore(config));
  schedule::Scheduler scheduler(*runs);
  PINPIPE_RETURN_IF_ERROR(scheduler.AddDag(BuildBatchDag(config, lake.get(), 0)));
  PINPIPE_ASSIGN_OR_RETURN(int64_t id, scheduler.Trigger(dag));
  scheduler.WaitIdle();
  return runs->GetRun(id);
}

Result<batch::JobReport> RunBatchOnce(const Config& config, batch::JobOptions options) {
  const std::string url = config.Get("lake.url");
  // Reading must not create an empty lake: a local folder has to exist already.
  if (url.find("://") == std::string::npos || url.starts_with("file://")) {
    std::string path = url.starts_with("file://") ? url.substr(7) : url;
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
      return UnavailableError("object store unreachable: folder '" + path +
                              "' does not exist (--store " + url + ")");
    }
  }
  PINPIPE_ASSIGN_OR_RETURN(auto store, objstore::OpenObjectStore(url, config));
  options.load.prefix = config.Get("general.prefix");
  return batch::RunBatchJob(*store, options);
}

}  // namespace pinpipe::runtime
