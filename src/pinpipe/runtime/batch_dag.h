// The batch DAG the scheduler runs (like the seed's Airflow DAG), the run
// store it records into, and the reader of its latest answers.
//
// Thread-safety: the DAG's tasks may run on the scheduler's threads; the
// functions here hold no state.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "pinpipe/base/config.h"
#include "pinpipe/batch/job.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/schedule/run_store.h"
#include "pinpipe/schedule/scheduler.h"

namespace pinpipe::runtime {

// The batch DAG of `prefix` in a pipeline whose own prefix is `general_prefix`:
// "batch" for general_prefix itself, "batch-<prefix>" for a tenant's prefix.
std::string BatchDagName(const std::string& general_prefix, const std::string& prefix);

// The batch DAG of general.prefix (named "batch"): check that the sink's
// output exists for all three topics, then read, clean and answer the eight
// questions into <batch.out>/run-<id>/ (batch/answers.h). `lake` must
// outlive the DAG; `start_date_s` is the first day it may fire (no catch-up).
schedule::DagSpec BuildBatchDag(const Config& config, objstore::ObjectStore* lake,
                                int64_t start_date_s);

// The run history: <general.data_dir>/runs.db (the folder is created).
Result<std::unique_ptr<schedule::RunStore>> OpenRunStore(const Config& config);

// The answers of DAG `dag`'s newest successful run, as /api/results/latest
// shows them (docs/status-api.md). NotFound before there is one; a question
// whose answer file is missing shows no rows.
Result<nlohmann::json> LatestBatchResults(schedule::RunStore& runs,
                                          const std::string& dag = "batch");

// Runs the batch DAG of `config` once in this process (`pinpipe runs trigger
// --local`), recorded in the same run history, and returns the finished run.
// NotFound for a DAG other than "batch".
Result<schedule::RunRecord> RunBatchDagNow(const Config& config, const std::string& dag);

// `pinpipe batch`: batch::RunBatchJob once, outside the scheduler, on the
// lake that lake.url names, for general.prefix (options.load.prefix is set
// from it; the rest of `options` is the caller's). Reading never creates an
// empty lake: a local lake.url whose folder does not exist is Unavailable.
Result<batch::JobReport> RunBatchOnce(const Config& config, batch::JobOptions options);

}  // namespace pinpipe::runtime
