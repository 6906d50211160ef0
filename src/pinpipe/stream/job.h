// StreamJob: runs the streaming queries (one per stream -> table) on their
// own threads, each starting a micro-batch at most every trigger interval,
// like Spark Structured Streaming's processing-time trigger.
//
// Thread-safety: Start/Stop/RunUntilDrained from one thread; Statuses() from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/file.h"
#include "pinpipe/stream/query.h"

namespace pinpipe::stream {

class StreamJob {
 public:
  // `clock` (nullptr: Clock::Real(); must outlive the job) paces the triggers and dates the
  // status file.
  StreamJob(std::vector<std::unique_ptr<StreamQuery>> queries, int64_t trigger_ms,
            Clock* clock = nullptr);
  ~StreamJob();

  // Recovers every query (replaying a half-done batch if a crash left one).
  Status Recover();
  // Runs micro-batches until every stream has nothing new (the --once mode),
  // then writes the status file; a failure of either is returned.
  Status RunUntilDrained();
  // Starts one thread per query.
  void Start();
  // Lets each query finish (and commit) the batch in hand, then joins.
  void Stop();

  std::vector<QueryStatus> Statuses() const;
  // Every query's CommitListener (stream/query.h). Call before Start.
  void SetCommitListener(const CommitListener& listener) {
    for (auto& q : queries_) q->SetCommitListener(listener);
  }
  const std::vector<std::unique_ptr<StreamQuery>>& queries() const { return queries_; }

  // Called on a query's thread when its micro-batches start failing, and
  // again only when the error changes or comes back after a success: a query
  // retrying the same failure reports it once. Call before Start.
  using ErrorListener = std::function<void(const QueryOptions& query, const Status& error)>;
  void SetErrorListener(ErrorListener listener) { error_listener_ = std::move(listener); }

  // Writes Statuses() (stream/status.h) to `path` about every second while
  // running, and after Stop and RunUntilDrained, durably and atomically
  // through `fs` (nullptr: FileSystem::Default()): a reader sees the previous
  // file or the new one. Failures are returned by RunUntilDrained and logged
  // (once per distinct error) while running. Call before Start.
  void SetStatusFile(std::filesystem::path path, FileSystem* fs = nullptr) {
    status_file_ = std::move(path);
    status_fs_ = fs;
  }

 private:
  void Loop(StreamQuery* query);
  Status WriteStatusFile() const;

  std::vector<std::unique_ptr<StreamQuery>> queries_;
  int64_t trigger_ms_;
  Clock* clock_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::filesystem::path status_file_;
  ErrorListener error_listener_;
  FileSystem* status_fs_ = nullptr;
};

}  // namespace pinpipe::stream
