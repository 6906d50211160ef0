// The batch job: read every JSON Lines object of the three topics from an
// ObjectStore (in parallel), clean and de-duplicate them into columnar tables,
// answer the questions, and write results.
//
// Reading: objects under `<topics_dir>/<prefix>.{pin,geo,user}/` whose key ends
// in `.json` or `.json.gz`, in key order (the sink's keys sort by partition and
// start offset), lines in order; that is the arrival order de-duplication uses.
// Worker threads clean groups of objects; the caller's thread appends finished
// groups in order, so memory holds the tables plus a few groups in flight.
//
// Thread-safety: each call is independent; the store must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/batch/queries.h"
#include "pinpipe/clean/cleaner.h"
#include "pinpipe/objstore/object_store.h"

namespace pinpipe::batch {

struct LoadOptions {
  std::string prefix;
  std::string topics_dir = "topics";
  clean::ColumnSet columns = clean::ColumnSet::kAll;  // what stays in memory (Loaded::tables)
  int threads = 2;
  // When set, the cleaned, de-duplicated tables with every column go to
  // <tables_dir>/{pin,geo,user}.parquet (snappy, clean::CleanedSchema) while
  // loading, a row group at a time: memory holds `columns` of the tables plus
  // about one row group per table, never the whole files.
  std::string tables_dir;
  // With tables_dir: false returns as soon as the tables are in memory, while
  // the files' last row groups may still be encoding on their threads (so the
  // caller can answer the questions meanwhile); FinishTables completes them.
  bool finish_tables = true;
  // Called on the caller's thread as groups of objects finish.
  std::function<void(int64_t objects_done, int64_t objects_total)> progress;
};

struct TableStats {
  int64_t objects = 0;
  int64_t bytes = 0;     // as stored (compressed for .json.gz)
  int64_t records = 0;   // lines that were not blank
  int64_t rejected = 0;  // whole records rejected
  int64_t duplicates = 0;
  int64_t rows = 0;  // cleaned rows after de-duplication
};

// The table files still being written (LoadOptions::finish_tables = false).
class TableFiles;

struct Loaded {
  CleanTables tables;
  std::vector<clean::Reject> rejects;
  TableStats stats[3];  // by clean::TableKind
  int64_t follower_count_rejected = 0;
  std::shared_ptr<TableFiles> table_files;  // see FinishTables
};

// NotFound when none of the three topics has an object; the store's error
// (e.g. Unavailable) when listing or reading fails.
Result<Loaded> LoadCleanTables(objstore::ObjectStore& store, const LoadOptions& options);
// Waits for the table files LoadCleanTables left writing and completes them
// (footer, close); their write error if one failed. Ok when there are none.
Status FinishTables(Loaded* loaded);

struct JobOptions {
  LoadOptions load;
  std::vector<std::string> questions;  // ids as in Questions(); empty = all
  std::string out_dir;                 // "" = write no files
  // The cleaned tables as out_dir/cleaned/{pin,geo,user}.parquet (snappy, in
  // clean::CleanedSchema), streamed while loading (LoadOptions::tables_dir);
  // any load.columns (kQueryOnly keeps memory low).
  bool write_tables = true;
  std::ostream* terminal = nullptr;  // readable tables; nullptr = silent
};

struct JobReport {
  Loaded loaded;
  std::vector<std::pair<std::string, frame::Table>> results;  // by question id
  std::vector<std::pair<std::string, double>> timings_ms;     // phase -> milliseconds
  int64_t peak_rss_bytes = 0;
  std::string summary_json;
};

Result<JobReport> RunBatchJob(objstore::ObjectStore& store, const JobOptions& options);

// The process's peak resident set size (VmHWM), or 0 when unknown.
int64_t PeakRssBytes();

}  // namespace pinpipe::batch
