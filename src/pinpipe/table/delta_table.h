// DeltaTable: a Delta Lake table (protocol reader 1 / writer 2) stored in an
// ObjectStore under a key prefix: `<root>/part-*.parquet` data files and
// `<root>/_delta_log/` with one JSON commit per version (20-digit names),
// Parquet checkpoints every `checkpoint_interval` commits and
// `_delta_log/_last_checkpoint`. Files are readable by Spark, delta-rs and
// DuckDB (read_parquet of the files the log lists).
//
// Concurrency: every commit is a put-if-absent of the next version's JSON; a
// writer that loses re-reads the new commits, re-checks its transaction
// (idempotency and conflicts) and retries at the next version. Several
// DeltaTable objects (threads, processes, machines) may write one table.
// A DeltaTable object itself is not thread-safe: use one per thread.
//
// Exactly-once appends (Spark DeltaSink semantics): Append with an app_id and
// a txn_version commits the rows together with a `txn` action; if the table
// already holds a txn for app_id with version >= txn_version, nothing is
// written and the result says `skipped`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/status.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/table/column_batch.h"
#include "pinpipe/table/parquet_writer.h"

namespace pinpipe::table {

// The Spark schema JSON of `schema` ({"type":"struct","fields":[...]}).
std::string SparkSchemaString(const Schema& schema);
// Unimplemented, naming the column and its type (and the table feature that
// brings it, e.g. timestampNtz), for types other than the ColumnType ones.
Result<Schema> ParseSparkSchema(std::string_view json);

// "00000000000000000012" for 12.
std::string DeltaVersionName(int64_t version);

struct AddFile {
  std::string path;  // relative to the table root
  int64_t size = 0;
  int64_t modification_time = 0;  // ms
  bool data_change = true;
  std::string stats;  // JSON text: numRecords, minValues, maxValues, nullCount
  // numRecords from stats, -1 if unknown.
  int64_t NumRecords() const;
};

struct RemoveFile {
  std::string path;
  int64_t deletion_timestamp = 0;  // ms
  bool data_change = false;
  int64_t size = 0;
};

struct TxnState {
  int64_t version = -1;
  int64_t last_updated = 0;
};

// The state of a table at one version.
struct Snapshot {
  int64_t version = -1;  // -1: no table
  int min_reader_version = 1;
  int min_writer_version = 2;
  std::vector<std::string> reader_features;  // protocol readerFeatures (reader version 3)
  std::vector<std::string> writer_features;  // protocol writerFeatures (writer version 7)
  std::string table_id;
  std::string schema_string;
  Schema schema;
  std::map<std::string, std::string> configuration;
  std::vector<std::string> partition_columns;
  int64_t created_time = 0;
  std::map<std::string, AddFile> files;          // active files by path
  std::map<std::string, RemoveFile> tombstones;  // removed files by path
  std::map<std::string, TxnState> txns;          // by appId
  int64_t checkpoint_version = -1;               // the checkpoint it was loaded from, -1 none

  int64_t NumRecords() const;  // sum of numRecords (unknown counts as 0)
  int64_t NumBytes() const;
};

// What pinpipe reads and writes of the Delta protocol. Reading: reader
// version 1, or 3 with only the reader features it supports; tables without
// partition columns. Writing (append, optimize, vacuum): writer version <= 2,
// or 7 with only appendOnly and invariants (with no invariant on a column).
// Anything else is refused with Unimplemented naming the table feature
// (deletionVectors, columnMapping, changeDataFeed, ...), never read wrongly.
Status CheckReadable(const Snapshot& snapshot);
Status CheckWritable(const Snapshot& snapshot);

struct DeltaOptions {
  WriterOptions parquet;         // codec etc. of data files and checkpoints
  int checkpoint_interval = 10;  // a checkpoint after every N-th version; 0 = never
  int max_commit_attempts = 1000;
  bool append_only = true;  // configuration delta.appendOnly of new tables
  std::string engine_info = "pinpipe/0.1.0";
};

struct AppendOptions {
  std::string app_id;               // empty: no txn action, no idempotency
  int64_t txn_version = -1;         // with app_id: the micro-batch id
  std::string operation = "WRITE";  // commitInfo.operation, e.g. "STREAMING UPDATE"
};

struct CommitResult {
  int64_t version = -1;              // the committed version (or the current one when skipped)
  bool skipped = false;              // the txn was already committed; nothing written
  std::vector<std::string> added;    // data file paths
  std::vector<std::string> removed;  // data file paths
  int64_t rows = 0;
  int attempts = 0;  // commit attempts (1 = no conflict)
};

struct VacuumResult {
  std::vector<std::string> deleted;  // keys relative to the table root
  int64_t bytes = 0;
};

class DeltaTable {
 public:
  // `store` (and `clock`, nullptr: Clock::Real()) must outlive the table.
  // `root` is the table's key prefix in the store ("" when the store's URL is
  // the table itself).
  // No `DeltaOptions options = {}` default argument: that builds the options
  // (with a std::string) as a temporary in every caller, where GCC 12 at -O3
  // reports a maybe-uninitialized false positive on its destructor; the
  // defaults are built once, in delta_table.cc, instead.
  DeltaTable(objstore::ObjectStore& store, std::string root, Clock* clock = nullptr);
  DeltaTable(objstore::ObjectStore& store, std::string root, Clock* clock, DeltaOptions options);

  // Commits version 0 (protocol, metaData, commitInfo). AlreadyExists if the
  // table exists.
  Result<CommitResult> Create(const Schema& schema, std::string name = "");
  // Creates the table unless it exists; FailedPrecondition if it exists with
  // a different schema.
  Status CreateIfAbsent(const Schema& schema, std::string name = "");
  // True if version 0 exists.
  Result<bool> Exists();

  // The latest snapshot (checkpoint + later commits). NotFound: no table;
  // Unimplemented: a table feature pinpipe does not read (CheckReadable).
  Result<Snapshot> Load();
  // Applies the commits after snapshot->version to it.
  Status Refresh(Snapshot* snapshot);

  // The last committed txn version of app_id, nullopt if none.
  Result<std::optional<int64_t>> LatestTxnVersion(const std::string& app_id);

  // Writes `batch` as one data file and commits it (see the class comment).
  // An empty batch with a txn commits just the txn (the micro-batch is
  // recorded as done). InvalidArgument if the batch schema differs from the
  // table's.
  Result<CommitResult> Append(const RecordBatch& batch, const AppendOptions& options = {});

  // Compacts active files smaller than target_file_bytes/2 into files of
  // about target_file_bytes: remove + add with dataChange false. Nothing to do:
  // version -1 in the result. Aborted if a concurrent commit removed one of
  // the files being compacted.
  Result<CommitResult> Optimize(int64_t target_file_bytes = 128ll << 20);

  // Deletes files under the root (outside _delta_log) that the latest
  // snapshot does not reference and that are older than `retention_ms`.
  Result<VacuumResult> Vacuum(int64_t retention_ms = 7ll * 24 * 3600 * 1000, bool dry_run = false);

  // commitInfo of the newest `limit` versions, newest first; each gets a
  // "version" field.
  Result<std::vector<nlohmann::json>> History(int limit = 100);

  // Writes `<v>.checkpoint.parquet` for `snapshot` and `_last_checkpoint`.
  Status WriteCheckpoint(const Snapshot& snapshot);

  // Every data file of `snapshot` read back (for tests and small tables).
  Result<RecordBatch> ReadAll(const Snapshot& snapshot);

  std::string Key(std::string_view relative) const;
  const std::string& root() const { return root_; }

 private:
  // Puts `actions` (one JSON per line) as version snapshot->version + 1,
  // retrying at later versions; `prepare` re-validates against the refreshed
  // snapshot before every attempt and may ask to skip (returns true).
  Result<CommitResult> CommitWithRetry(Snapshot* snapshot, std::vector<nlohmann::json> actions,
                                       const std::string& operation, nlohmann::json parameters,
                                       const std::function<Result<bool>(const Snapshot&)>& prepare,
                                       CommitResult result);
  Status ApplyCommit(std::string_view text, Snapshot* snapshot);
  Status LoadCheckpoint(int64_t version, Snapshot* snapshot);
  Result<std::string> WriteDataFile(const RecordBatch& batch, AddFile* add);
  Result<std::vector<objstore::ObjectInfo>> ListAll(const std::string& prefix);
  // The snapshot Append works on: loaded once, then brought up to date by
  // reading only the commits after it (a streaming writer appends every
  // trigger; replaying the log from the checkpoint each time would grow with
  // the table). Dropped on any error so the next call starts clean.
  Result<Snapshot*> Latest();
  Result<CommitResult> AppendTo(const RecordBatch& batch, const AppendOptions& options);

  objstore::ObjectStore* store_;
  std::string root_;  // "" or "prefix/" (with trailing slash)
  std::optional<Snapshot> latest_;
  Clock* clock_;
  DeltaOptions options_;
};

}  // namespace pinpipe::table
