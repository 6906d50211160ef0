// Partition: one partition of a topic, a folder of segments with dense
// offsets from 0, and the durability machinery around appends.
//
// Appends to one partition are serialised by its append lock; different
// partitions proceed in parallel. The visible end (high watermark) is the
// durable end under fsync=always|interval and the written end under
// fsync=never, so a reader never sees a record that a crash could take back
// and that was not acknowledged.
//
// Durability (see FsyncPolicy):
//   always   - WaitDurable fsyncs at once; concurrent appenders share one
//              fdatasync (group commit without a timer).
//   interval - at most one fdatasync per interval: the first waiter after
//              the interval has passed syncs for all waiters (and the Log's
//              background flusher syncs data nobody waits for); WaitDurable
//              blocks until a sync covers the append.
//   never    - WaitDurable returns at once; data is in the page cache.
// OnDurable is the callback form of WaitDurable for callers that must not
// block (the HTTP API's I/O threads): the Log's flusher syncs on their behalf.
//
// Ownership: owned by its Topic (shared_ptr); readers may hold it after the
// topic is deleted. Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/status.h"
#include "pinpipe/log/record_batch.h"
#include "pinpipe/log/segment.h"

namespace pinpipe::log {

enum class FsyncMode { kAlways, kInterval, kNever };

struct FsyncPolicy {
  FsyncMode mode = FsyncMode::kInterval;
  int64_t interval_ms = 5;
  // "always", "never", "interval" (5 ms) or "interval:<ms>" with ms in 1..60000.
  static Result<FsyncPolicy> Parse(std::string_view text);
  std::string ToString() const;
};

struct PartitionOptions {
  FsyncPolicy fsync;
  int64_t segment_bytes = 128 << 20;
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // -1: forever
  int64_t retention_bytes = -1;                   // -1: unlimited
  int64_t index_interval_bytes = 4096;
  // Encoded batches are cut at about this size so one Produce of many
  // records never builds a single huge batch.
  int64_t max_batch_bytes = 1 << 20;
};

// Wakes long-polling readers when any partition's high watermark moves.
class DataNotifier {
 public:
  uint64_t sequence();
  void Notify();
  // Blocks until the sequence differs from `seen` or `deadline` passes.
  // Returns true if it changed.
  bool WaitChange(uint64_t seen, std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t seq_ = 0;
};

// What Open's recovery found.
struct RecoveryReport {
  int64_t truncated_bytes = 0;      // torn tail cut from the last segment
  std::vector<std::string> losses;  // mid-log corruption and gaps (DataLoss)
  // How the segments were opened: from their index files (for the active
  // segment: of a prefix, the rest being scanned), or by a scan from the
  // start (a closed segment whose index files were missing or invalid is
  // then rewritten: `index_rebuilds` says which and why). `scanned_bytes`
  // counts the bytes read batch by batch. Rebuilding an index loses
  // nothing, so clean() ignores it.
  int64_t segments_from_index = 0;
  int64_t segments_scanned = 0;
  int64_t scanned_bytes = 0;
  std::vector<std::string> index_rebuilds;
  bool clean() const { return truncated_bytes == 0 && losses.empty(); }
};

struct AppendInfo {
  int64_t base_offset = 0;
  int64_t next_offset = 0;  // one past the last appended record
};

class Partition {
 public:
  // Opens (creating when empty) the partition in `dir` and runs recovery.
  // `notifier` and `clock` (nullptr: Clock::Real()) must outlive the
  // partition; `clock` also times the fsync interval. `on_dirty` (may be empty) is called after an
  // append under fsync=interval. Files go through `fs` (nullptr: FileSystem::Default()), which must
  // outlive the partition too.
  static Result<std::shared_ptr<Partition>> Open(std::filesystem::path dir, int32_t id,
                                                 PartitionOptions options, Clock* clock,
                                                 DataNotifier& notifier,
                                                 std::function<void()> on_dirty = {},
                                                 FileSystem* fs = nullptr);
  ~Partition();

  int32_t id() const { return id_; }
  // The options the partition was opened with; the segment and retention
  // limits among them may since have changed (SetLimits, limits()).
  const PartitionOptions& options() const { return options_; }

  // The limits an alter of the topic's settings may change on a live partition.
  struct Limits {
    int64_t segment_bytes = 0;
    int64_t segment_ms = 0;
    int64_t retention_ms = 0;     // -1: forever
    int64_t retention_bytes = 0;  // -1: unlimited
  };
  // Replaces the segment and retention limits: the next append rolls by the
  // new segment limits, the next ApplyRetention deletes by the new retention.
  void SetLimits(const Limits& limits);
  Limits limits() const;
  const RecoveryReport& recovery() const { return recovery_; }

  // Writes `records` (non-empty) as one or more batches without waiting for
  // durability. InvalidArgument for a record larger than the batch bound,
  // FailedPrecondition after Close, the file layer's code on IO errors
  // (ResourceExhausted for a full disk; base/file.h), and nothing of this
  // call is stored then.
  Result<AppendInfo> Append(std::span<const RecordView> records);
  // Blocks until every offset < next_offset is durable under the policy.
  Status WaitDurable(int64_t next_offset);
  // Append + WaitDurable.
  Result<AppendInfo> AppendAndWait(std::span<const RecordView> records);
  // The non-blocking WaitDurable: calls `done` exactly once, when every offset
  // < next_offset is durable (OK) or with the error that kept it from being
  // made durable (a failed fsync, Close). Runs `done` inline when the offsets
  // are durable already, otherwise on the thread whose fsync covers them (the
  // Log's flusher, which `on_dirty` wakes, or a WaitDurable caller). `done`
  // must not call back into this partition's durability methods.
  void OnDurable(int64_t next_offset, std::function<void(Status)> done);

  // fdatasyncs what has been written (segments rolled since the last sync
  // first, then the folder, then the active segment), advances the durable
  // end, and then writes the rolled segments' index files.
  Status Sync();
  // True when written data awaits a Sync.
  bool Dirty() const;
  int64_t last_sync_micros() const { return last_sync_micros_.load(); }

  // Records from `offset`: at most max_records, about max_bytes (at least one
  // record when any is available). OutOfRange outside [log start, high
  // watermark]; DataLoss when `offset` lies in corrupt or missing data.
  Result<std::vector<LogRecord>> Read(int64_t offset, size_t max_records, int64_t max_bytes);
  // Read without copying the records: fills `out` (cleared first) with the
  // batches and views of the records; same limits and errors as Read.
  Status ReadInto(int64_t offset, size_t max_records, int64_t max_bytes, ReadBuffer* out);

  // First offset with timestamp >= ts, or the high watermark.
  Result<int64_t> OffsetForTimestamp(int64_t ts);

  int64_t high_watermark() const { return high_watermark_.load(std::memory_order_acquire); }
  int64_t log_start_offset() const;
  int64_t size_bytes() const;
  size_t segment_count() const;

  // Deletes whole non-active segments past retention (time: max timestamp
  // older than now - retention_ms; size: while the rest still exceeds
  // retention_bytes). Returns how many were deleted.
  Result<int> ApplyRetention();

  // Syncs and refuses further appends; waiters are released.
  Status Close();
  // Writes the active segment's index files (the Log does it after Close on
  // shutdown), so that the next open scans only what is appended after this.
  Status WriteActiveIndexFiles();

 private:
  Partition(std::filesystem::path dir, int32_t id, PartitionOptions options, Clock* clock,
            DataNotifier* notifier, std::function<void()> on_dirty, FileSystem* fs);
  Status Recover();
  // Caller holds append_mu_. Under fsync=never sets *closed to the segment
  // it closed, whose index files the caller writes once it has released the
  // lock; otherwise leaves it to the next Sync.
  Status RollLocked(std::shared_ptr<Segment>* closed);
  Result<AppendInfo> AppendLocked(std::span<const RecordView> records,
                                  std::shared_ptr<Segment>* closed);
  // Writes a closed segment's index files; a failure is only logged (the
  // next open rebuilds them).
  void WriteIndexFiles(const std::shared_ptr<Segment>& closed);
  void AdvanceDurable(int64_t offset);
  // Runs and forgets the OnDurable callbacks for offsets up to `offset`
  // (all of them when `offset` is INT64_MAX) with `status`.
  void CompleteWaiters(int64_t offset, const Status& status);
  std::vector<std::shared_ptr<Segment>> Snapshot() const;

  FileSystem& fs_;
  const std::filesystem::path dir_;
  const int32_t id_;
  const PartitionOptions options_;
  Clock* clock_;
  DataNotifier* notifier_;
  std::function<void()> on_dirty_;
  RecoveryReport recovery_;

  mutable std::mutex append_mu_;  // serialises appends, rolls and retention
  Limits limits_;                 // guarded by append_mu_
  std::shared_ptr<Segment> active_;
  std::string encode_buf_;
  // Segments rolled (under fsync=always|interval) that the next Sync must
  // sync, and then write the index files of; guarded by append_mu_.
  std::vector<std::shared_ptr<Segment>> unsynced_closed_;
  bool closed_ = false;
  std::atomic<int64_t> written_end_{0};
  int64_t active_created_ms_ = 0;

  mutable std::shared_mutex segments_mu_;  // guards segments_
  std::vector<std::shared_ptr<Segment>> segments_;

  std::mutex sync_mu_;  // one fdatasync at a time
  mutable std::mutex durable_mu_;
  std::condition_variable durable_cv_;
  int64_t durable_end_ = 0;  // guarded by durable_mu_
  bool released_ = false;    // Close: waiters return
  bool syncing_ = false;     // a waiter is running Sync for the others
  // OnDurable callbacks: (next_offset, done), guarded by durable_mu_.
  std::vector<std::pair<int64_t, std::function<void(Status)>>> durable_callbacks_;
  std::atomic<int64_t> high_watermark_{0};
  std::atomic<int64_t> last_sync_micros_{0};
  std::atomic<bool> dirty_flag_{false};  // set by Append, cleared by Sync
};

}  // namespace pinpipe::log
