// Log: the embedded partitioned log, a folder of topics with durable
// consumer offsets. It is what Kafka is to the original pipeline; the broker
// embedded module's EmbeddedBroker puts the Broker interface on top of it.
//
// Layout under `dir` (docs/formats/log.md):
//   LOCK                         flock'ed by the one process that has it open
//   topics/<topic>/topic.json    partitions and per-topic settings
//   topics/<topic>/metadata      the topic's metadata blob (WriteTopicMetadata), if any
//   topics/<topic>/<p>/<base:020>.log   segments of partition p
//   topics/<topic>/<p>/<base:020>.index, .timeindex   indexes of closed segments
//   consumer_offsets.log         committed offsets (OffsetStore)
//   tmp/                         topic creation and deletion in progress
//
// Ownership: the caller owns the Log; topics and partitions are shared_ptr so
// that readers in flight survive a DeleteTopic. A background thread runs
// group-commit fsyncs (fsync=interval) and retention.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/file.h"
#include "pinpipe/base/status.h"
#include "pinpipe/log/offset_store.h"
#include "pinpipe/log/partition.h"

namespace pinpipe::log {

// Kafka's rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
// InvalidArgument with the reason otherwise.
Status ValidateTopicName(std::string_view name);

// Per-topic settings as given at creation: 0 / "" means the log's default.
struct TopicSettings {
  int32_t partitions = 1;
  std::string fsync;
  int64_t retention_ms = 0;     // -1: forever
  int64_t retention_bytes = 0;  // -1: unlimited
  int64_t segment_bytes = 0;
  int64_t segment_ms = 0;
};

struct LogOptions {
  std::filesystem::path dir;
  FsyncPolicy fsync;
  int64_t segment_bytes = 128 << 20;
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t retention_bytes = -1;
  int64_t index_interval_bytes = 4096;
  int64_t retention_check_ms = 30'000;
  Clock* clock = nullptr;    // nullptr: Clock::Real(); also times the fsync interval
  FileSystem* fs = nullptr;  // nullptr: FileSystem::Default(); every file goes through it
};

class Topic {
 public:
  const std::string& name() const { return name_; }
  const TopicSettings& settings() const { return settings_; }
  // The settings with defaults filled in.
  const PartitionOptions& effective() const { return effective_; }
  int32_t partition_count() const { return static_cast<int32_t>(partitions_.size()); }
  // Precondition: 0 <= id < partition_count().
  Partition* partition(int32_t id) const { return partitions_[static_cast<size_t>(id)].get(); }
  std::shared_ptr<Partition> shared_partition(int32_t id) const {
    return partitions_[static_cast<size_t>(id)];
  }
  // Set once the topic is deleted.
  bool deleted() const { return deleted_.load(); }

 private:
  friend class Log;
  std::string name_;
  TopicSettings settings_;
  PartitionOptions effective_;
  std::vector<std::shared_ptr<Partition>> partitions_;
  std::atomic<bool> deleted_{false};
};

class Log {
 public:
  // Opens or creates the log in options.dir: takes the LOCK (Unavailable if
  // another process holds it), opens every topic and runs recovery. Topics
  // whose recovery found data loss open anyway (see Partition::recovery).
  static Result<std::unique_ptr<Log>> Open(LogOptions options);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // AlreadyExists; InvalidArgument for a bad name, partitions outside
  // 1..10000, a bad fsync policy or a negative size.
  Status CreateTopic(std::string_view name, const TopicSettings& settings);
  // NotFound. Removes the files and the topic's committed offsets.
  Status DeleteTopic(std::string_view name);
  // Grows the topic to `partitions` partitions (Kafka's CreatePartitions);
  // existing partitions and their data are untouched. NotFound;
  // InvalidArgument unless current count < partitions <= 10000. Readers
  // holding the old Topic keep seeing the old count; topics_version() changes.
  Status AddPartitions(std::string_view name, int32_t partitions);
  // Replaces the per-topic settings of a live topic (Kafka's AlterConfigs):
  // retention and segment limits apply to its partitions at once (the next
  // append rolls by the new segment limits; retention runs on the topic
  // before this returns, and later passes use the new limits); topic.json
  // is replaced by rename first, so a
  // crash leaves the old or the new settings. `settings.partitions` is
  // ignored. NotFound; InvalidArgument for what CreateTopic refuses, and for
  // a change of the effective fsync policy (fixed while the topic lives:
  // the visible end of a partition depends on it). `validate_only`: checks
  // and changes nothing.
  Status SetTopicSettings(std::string_view name, const TopicSettings& settings,
                          bool validate_only = false);
  // Sorted names.
  std::vector<std::string> ListTopics() const;
  // NotFound for an unknown (or invalid) name.
  Result<std::shared_ptr<Topic>> GetTopic(std::string_view name) const;
  // Replaces the opaque metadata blob of topic `name`, durably (NotFound for
  // an unknown topic). It is deleted with the topic.
  Status WriteTopicMetadata(std::string_view name, std::string_view data);
  // The blob WriteTopicMetadata stored, "" if none; NotFound for an unknown topic.
  Result<std::string> ReadTopicMetadata(std::string_view name) const;
  // Changes whenever a topic is created, deleted or gains partitions.
  uint64_t topics_version() const { return topics_version_.load(); }

  OffsetStore& offsets() { return *offsets_; }
  DataNotifier& notifier() { return notifier_; }
  Clock& clock() { return *clock_; }
  const LogOptions& options() const { return options_; }

  // Applies retention to every partition now; returns segments deleted.
  int RunRetention();
  // Recovery findings of every partition, "topic/partition: message".
  std::vector<std::string> RecoveryLosses() const;

 private:
  explicit Log(LogOptions options);
  Status OpenExisting();
  Result<std::shared_ptr<Topic>> OpenTopic(const std::string& name, const TopicSettings& s);
  // Opens (creating) partitions partition_count() .. count-1 of `topic` under `dir`.
  Status OpenPartitions(Topic& topic, const std::filesystem::path& dir, int32_t count);
  Result<PartitionOptions> Resolve(const TopicSettings& s) const;
  void FlusherLoop();
  void MarkDirty();
  // Syncs `due` in parallel (the calling flusher and the sync threads);
  // false if any sync failed (logged).
  bool SyncAll(const std::vector<Partition*>& due);
  void SyncThreadLoop();

  LogOptions options_;
  Clock* clock_;
  FileSystem& fs_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<OffsetStore> offsets_;
  DataNotifier notifier_;

  mutable std::mutex mu_;  // guards topics_
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;
  std::atomic<uint64_t> topics_version_{0};
  mutable std::mutex create_mu_;  // serialises create/delete (file-system work)

  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool stop_ = false;
  bool dirty_ = false;
  std::thread flusher_;

  // Sync threads that run a group commit's fdatasyncs alongside the flusher.
  static constexpr int kSyncThreads = 3;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;       // work queued or stop
  std::condition_variable pool_done_cv_;  // pool_busy_ dropped to 0
  std::vector<Partition*> pool_queue_;    // guarded by pool_mu_
  int pool_busy_ = 0;
  bool pool_failed_ = false;
  bool pool_stop_ = false;
  std::vector<std::thread> sync_threads_;
};

}  // namespace pinpipe::log
