// Sink: topics -> object store, with the Confluent S3 sink connector's semantics.
//
// Consumes `topics` / `topics.regex` as group connect-<name> and writes
// JSON Lines objects named
//   <topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<start offset>.json[.gz]
// (docs/formats/sink-keys.md). A file is committed when it holds flush.size
// records, when a record's time is rotate.interval.ms past the file's first
// record (or its encoded partition changes), or when the wall clock passes a
// rotate.schedule.interval.ms boundary.
//
// Exactly once: a partition's consumer offset is committed only after every
// object holding its records is fully written. Objects completed while
// processing one poll's records are written together (ObjectStore::PutMany,
// which makes them durable with shared syncs) on a background thread while
// the next polls are processed (up to 4 polls' objects at once); once they
// and every earlier write are done, the offsets they cover are committed in
// one call. A partition whose object failed is not
// committed but rewound (after the write in flight is done, so nothing it
// covers is processed twice). After a crash the sink resumes
// from the committed offset and, because names and contents derive from
// offsets and record data only, re-creates the same keys with the same bytes
// (written put-if-absent; an existing object with identical bytes counts as
// written). Wall-clock rotation and the Wallclock extractor are not
// deterministic, exactly as in the connector.
//
// Bad records (invalid JSON, a missing partition field, null values with
// behavior.on.null.values=fail): errors.tolerance=none stops that partition
// with the error in its status (other partitions carry on);
// errors.tolerance=all sends them to errors.deadletterqueue.topic.name (if
// set) with the reason in __connect.errors.* headers, and carries on.
//
// Thread-safety: Step/Run/Drain/Close from one thread; Status() from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/metric_family.h"
#include "pinpipe/base/status.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/sink/json_lines.h"
#include "pinpipe/sink/partitioner.h"
#include "pinpipe/sink/sink_config.h"

namespace pinpipe::sink {

struct PartitionStatus {
  std::string topic;
  int32_t partition = 0;
  int64_t committed_offset = -1;  // next offset to consume, as committed (-1: none)
  int64_t high_watermark = -1;    // -1: unknown
  int64_t lag = -1;               // high_watermark - committed_offset (-1: unknown)
  int64_t objects = 0;            // objects written by this process
  int64_t bytes = 0;
  int64_t records = 0;  // records written into objects
  int64_t dead_lettered = 0;
  int64_t skipped = 0;  // null values ignored, bad records without a DLQ
  bool failed = false;  // stopped by a bad record (errors.tolerance=none)
  std::string last_error;
};

// One partition as SinkStatus::ToJson and the status API write it.
nlohmann::json PartitionStatusToJson(const PartitionStatus& p);

// One /metrics gauge: its name, help text and samples as (labels, value),
// labels already formatted (`sink="s",topic="t",partition="0"`), which is
// the shape api::Metrics::AddGauge takes.
struct SinkStatus {
  std::string name;
  std::string group;
  std::string store;
  int64_t updated_ms = 0;
  std::vector<PartitionStatus> partitions;

  std::string ToJson() const;
  static Result<SinkStatus> FromJson(std::string_view json);
  // A fixed-width table for `pinpipe sink status`.
  std::string ToTable() const;
  // Per topic-partition gauges for /metrics: pinpipe_sink_committed_offset,
  // _lag_records, _objects_written, _bytes_written, _records_written,
  // _dead_lettered_records, _skipped_records and _partition_failed (0/1).
  std::vector<MetricFamily> ToMetrics() const;
};

class Sink {
 public:
  // `broker`, `store` and `clock` (nullptr: Clock::Real()) must outlive the sink.
  static Result<std::unique_ptr<Sink>> Create(SinkConfig config, broker::Broker& broker,
                                              objstore::ObjectStore& store, Clock* clock = nullptr);
  ~Sink();

  // Joins the group and subscribes.
  Status Start();

  // Polls once (waiting up to poll_timeout_ms) and processes what came, then
  // applies wall-clock rotation. Returns the number of records consumed.
  // The objects it completes are written while the next Step processes its
  // poll (a Step whose poll is empty waits for them). Errors are returned only when the sink cannot
  // go on (e.g. the broker is gone); store failures are retried from the committed offset.
  Result<int64_t> Step(int64_t poll_timeout_ms);

  // Steps until `stop` becomes true.
  Status Run(const std::atomic<bool>& stop);

  // Steps until every partition of the subscribed topics is consumed up to
  // the high watermark, then commits open files (as a scheduled rotation
  // would) when `flush_open_files` (a flush that fails on a retriable store
  // error rewinds and drains again). FailedPrecondition naming the first
  // stopped partition if any partition failed.
  Status Drain(bool flush_open_files, int64_t max_idle_ms = 10'000);

  // Commits every open file now.
  Status FlushAll();

  // Waits for the objects being written and commits them, then leaves the
  // group. Open (uncommitted) files are dropped; their records will be
  // consumed again.
  Status Close();

  // A snapshot (thread-safe). Refreshes high watermarks at most once a second.
  SinkStatus GetStatus();

  const SinkConfig& config() const { return config_; }

 private:
  struct OpenFile {
    int64_t start_offset = 0;
    int64_t records = 0;
    std::string data;
  };
  // A finished file waiting to be written at the end of the poll.
  struct PendingObject {
    std::pair<std::string, int32_t> tp;
    std::string key;
    std::string body;
    int64_t records = 0;
    // The partition's next offset when the file was closed: committable once
    // this object and every earlier one of the partition are written.
    int64_t commit_after = -1;
  };
  // The objects of one poll being written on a background thread, and per
  // partition the offset they make committable.
  struct WriteBatch {
    std::vector<PendingObject> objects;
    std::map<std::pair<std::string, int32_t>, int64_t> commits;
    std::vector<objstore::PutRequest> requests;  // views of `objects`
    size_t bytes = 0;
    std::future<std::vector<Status>> results;
  };
  struct PartitionState {
    std::string topic;
    int32_t partition = 0;
    std::map<std::string, OpenFile> files;  // by encoded partition
    int64_t record_count = 0;               // records in open files
    std::optional<int64_t> base_timestamp;  // first record time of the open files
    std::string current_encoded;
    int64_t next_offset = -1;  // after the last record processed
    int64_t next_scheduled_rotation = -1;
    int64_t uncommitted_start = -1;  // first offset processed since the last commit
    int64_t pending_commit = -1;     // offset to commit once pending objects are written
    bool skip_rest = false;          // rewound: ignore the rest of this poll
  };

  Sink(SinkConfig config, broker::Broker* broker, objstore::ObjectStore* store, Clock* clock,
       std::unique_ptr<Partitioner> partitioner);

  // `state` is the record's partition's.
  Status Process(PartitionState& state, const broker::RecordRef& record);
  Status HandleBadRecord(PartitionState& state, const broker::RecordRef& record,
                         const Status& reason, std::string_view stage);
  // Closes the open files of `state` into pending objects and marks its
  // offset for the next WriteAndCommit.
  Status CommitFiles(PartitionState& state);
  void MarkCommit(PartitionState& state);
  // Completes the writes that are done (see CompleteOldestWrite), and more
  // while too many are in flight, then starts writing the pending objects in
  // the background; with `wait`, completes every write. False when a
  // partition was rewound (last_error_in_batch_ says why); an error only when
  // rewinding fails.
  Result<bool> WriteAndCommit(bool wait);
  // Waits for the oldest write in flight, then commits in one call, per
  // partition, the offset up to which every object is written. A partition
  // whose object failed is rewound to that offset (later writes in flight
  // commit nothing of it) and false is returned. True when none is in flight.
  Result<bool> CompleteOldestWrite();
  Result<bool> CompleteWrites();  // all of them
  // Rewind after CompleteWrites, for failures found while processing.
  Status CompleteWriteAndRewind(PartitionState& state);
  // After PutMany said AlreadyExists: identical bytes count as written.
  Status ResolveExisting(const std::string& key, const std::string& body);
  std::string TakeBuffer();
  void ReturnBuffer(std::string buffer);
  Status Rewind(PartitionState& state);
  void ApplyWallClockRotation();
  PartitionState& StateFor(const std::string& topic, int32_t partition);
  PartitionStatus& StatusFor(const std::string& topic, int32_t partition);
  void RefreshWatermarks(bool force);
  std::vector<std::string> SubscribedTopics();

  SinkConfig config_;
  broker::Broker* broker_;
  objstore::ObjectStore* store_;
  Clock* clock_;
  std::unique_ptr<Partitioner> partitioner_;
  std::unique_ptr<broker::Consumer> consumer_;
  JsonLineEncoder encoder_;
  std::map<std::pair<std::string, int32_t>, PartitionState> states_;
  std::vector<PendingObject> pending_;
  std::deque<std::unique_ptr<WriteBatch>> in_flight_;  // oldest first
  size_t bytes_in_flight_ = 0;
  std::vector<std::string> spare_buffers_;  // cleared file buffers, kept for their capacity
  std::string last_error_in_batch_;
  bool dlq_ready_ = false;

  std::mutex status_mu_;
  std::map<std::pair<std::string, int32_t>, PartitionStatus> status_;
  int64_t watermarks_refreshed_ms_ = 0;
};

}  // namespace pinpipe::sink
