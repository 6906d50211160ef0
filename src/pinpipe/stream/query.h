// StreamQuery: one stream -> one Delta table, in micro-batches, exactly once.
//
// Each micro-batch N is planned as a range per shard [start, end) of source
// positions. The plan is written to the checkpoint store (offsets/N) before
// the Delta commit, and the commit carries a txn action (app id, N). After a
// crash, Recover() compares the newest plan with the table's txn version for
// the app id: if N was committed, reading resumes at the plan's end; if not,
// batch N is replayed over exactly the same ranges (the log is immutable, so
// it yields the same rows) and committed. Duplicate inds are dropped against
// every ind already in the table, rebuilt from the table on Recover().
//
// Thread-safety: RunBatch/Recover from one thread; status() from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/status.h"
#include "pinpipe/clean/cleaner.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/stream/source.h"
#include "pinpipe/table/column_batch.h"

namespace pinpipe::stream {

// The streaming job's view of its output table (the seam to the Delta log).
class TableWriter {
 public:
  virtual ~TableWriter() = default;
  // The newest txn version committed for `app_id`, or -1.
  virtual Result<int64_t> TxnVersion(const std::string& app_id) = 0;
  // Appends `rows` with txn (app_id, version) in one commit; a commit for
  // that (app_id, version) that already exists makes this a no-op. Empty
  // `rows` still commits the txn (so the batch counts as done).
  virtual Status Append(const table::RecordBatch& rows, const std::string& app_id,
                        int64_t version) = 0;
  // Every ind value in the table (for de-duplication across batches).
  virtual Result<std::vector<int64_t>> ReadInds() = 0;
  // Current version (-1 = no table yet).
  virtual int64_t version() const = 0;
};

struct QueryOptions {
  std::string app_id;  // stable id of this query, e.g. "pinpipe-<prefix>-pin"
  clean::TableKind kind = clean::TableKind::kPin;
  InitialPosition initial = InitialPosition::kEarliest;
  int max_records_per_batch = 50'000;
  std::string checkpoint_prefix;  // key prefix in the checkpoint store, ends with '/'
  Clock* clock = nullptr;         // nullptr: Clock::Real(); read and commit times
};

struct QueryStatus {
  std::string stream;
  int64_t next_batch = 0;
  int64_t batches = 0;  // committed by this process
  int64_t rows = 0;     // appended by this process
  int64_t rejected = 0;
  int64_t duplicates = 0;
  int64_t table_version = -1;
  int64_t lag_ms = 0;                                        // MillisBehindLatest of the last read
  int64_t last_latency_p50_ms = 0, last_latency_p99_ms = 0;  // arrival -> commit, last batch
  std::map<std::string, std::string> positions;
  std::string last_error;
};

// What a micro-batch made durable, for consumers of the committed rows (the
// live answers): called on the query's thread after the Delta commit, and
// after a poll that found nothing new (rows == nullptr), never for a batch
// that did not commit.
struct CommitEvent {
  clean::TableKind kind = clean::TableKind::kPin;
  const table::RecordBatch* rows = nullptr;
  int64_t table_version = -1;
  std::map<std::string, std::string> positions;  // shard -> next position
  int64_t read_started_ms = 0;                   // when the batch's read began
  int64_t lag_ms = 0;                            // MillisBehindLatest of that read
  int64_t newest_arrival_ms = 0;                 // of the records the batch covered
};
using CommitListener = std::function<void(const CommitEvent&)>;

class StreamQuery {
 public:
  StreamQuery(QueryOptions options, std::unique_ptr<StreamSource> source,
              std::unique_ptr<TableWriter> table, objstore::ObjectStore& checkpoints);

  // Loads the checkpoint and the table state; decides where to resume.
  Status Recover();
  // Plans (or replays) and commits one micro-batch. Returns the number of
  // source records it covered (0: nothing new arrived within wait_ms).
  Result<int64_t> RunBatch(int64_t wait_ms);

  QueryStatus status() const;
  const QueryOptions& options() const { return options_; }
  // Call before the first RunBatch.
  void SetCommitListener(CommitListener listener) { listener_ = std::move(listener); }

 private:
  struct ShardRange {
    std::string start, end;
  };
  using Plan = std::map<std::string, ShardRange>;

  std::string PlanKey(int64_t batch) const;
  Status WritePlan(int64_t batch, const Plan& plan);
  Result<Plan> ReadPlan(int64_t batch);
  void SetError(const Status& s);

  QueryOptions options_;
  std::unique_ptr<StreamSource> source_;
  std::unique_ptr<TableWriter> table_;
  objstore::ObjectStore& checkpoints_;
  Clock* clock_;  // options_.clock resolved

  bool recovered_ = false;
  int64_t next_batch_ = 0;
  std::map<std::string, std::string> positions_;  // shard -> next position
  std::optional<Plan> replay_;                    // a planned batch to redo
  std::unordered_set<int64_t> seen_;
  CommitListener listener_;

  mutable std::mutex status_mu_;
  QueryStatus status_;
};

}  // namespace pinpipe::stream
