#include "pinpipe/sink/sink.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "pinpipe/base/gzip.h"

namespace pinpipe::sink {
namespace {

using broker::RecordRef;

constexpr int64_t kRetryBackoffMicros = 500'000;
// File buffers are reused (fresh memory costs a page fault per 4 KiB, which
// made up much of the time per 10 MB object); at most this many are kept,
// each at most kMaxSpareBufferBytes.
constexpr size_t kMaxSpareBuffers = 6;
// Polls whose objects may be being written at once, and their bytes: a
// disk (or S3) serves several objects' writes and syncs at once far faster
// than one after another, and the processing goes on meanwhile.
constexpr size_t kMaxWritesInFlight = 4;
constexpr size_t kMaxBytesInFlight = size_t{128} << 20;
constexpr size_t kMaxSpareBufferBytes = size_t{32} << 20;

std::string EscapeRegex(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".^$|()[]{}*+?\\/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string Where(const RecordRef& r) {
  return std::string(r.topic) + "[" + std::to_string(r.partition) + "]@" + std::to_string(r.offset);
}

}  // namespace

// ---------------------------------------------------------------- status ---

nlohmann::json PartitionStatusToJson(const PartitionStatus& p) {
  return {{"topic", p.topic},
          {"partition", p.partition},
          {"committed_offset", p.committed_offset},
          {"high_watermark", p.high_watermark},
          {"lag", p.lag},
          {"objects", p.objects},
          {"bytes", p.bytes},
          {"records", p.records},
          {"dead_lettered", p.dead_lettered},
          {"skipped", p.skipped},
          {"failed", p.failed},
          {"last_error", p.last_error}};
}

std::string SinkStatus::ToJson() const {
  nlohmann::json j;
  j["name"] = name;
  j["group"] = group;
  j["store"] = store;
  j["updated_ms"] = updated_ms;
  j["partitions"] = nlohmann::json::array();
  for (const auto& p : partitions) j["partitions"].push_back(PartitionStatusToJson(p));
  return j.dump(2) + "\n";
}

Result<SinkStatus> SinkStatus::FromJson(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError("sink status is not valid JSON");
  SinkStatus s;
  s.name = j.value("name", "");
  s.group = j.value("group", "");
  s.store = j.value("store", "");
  s.updated_ms = j.value("updated_ms", int64_t{0});
  if (j.contains("partitions") && j["partitions"].is_array()) {
    for (const auto& p : j["partitions"]) {
      if (!p.is_object()) continue;
      PartitionStatus ps;
      ps.topic = p.value("topic", "");
      ps.partition = p.value("partition", 0);
      ps.committed_offset = p.value("committed_offset", int64_t{-1});
      ps.high_watermark = p.value("high_watermark", int64_t{-1});
      ps.lag = p.value("lag", int64_t{-1});
      ps.objects = p.value("objects", int64_t{0});
      ps.bytes = p.value("bytes", int64_t{0});
      ps.records = p.value("records", int64_t{0});
      ps.dead_lettered = p.value("dead_lettered", int64_t{0});
      ps.skipped = p.value("skipped", int64_t{0});
      ps.failed = p.value("failed", false);
      ps.last_error = p.value("last_error", "");
      s.partitions.push_back(std::move(ps));
    }
  }
  return s;
}

std::string SinkStatus::ToTable() const {
  std::string out = "sink " + name + " (group " + group + ") -> " + store + "\n";
  char line[512];
  std::snprintf(line, sizeof(line), "%-32s %4s %10s %10s %8s %8s %12s %6s  %s\n", "TOPIC", "PART",
                "COMMITTED", "HIGH", "LAG", "OBJECTS", "BYTES", "DLQ", "STATE / LAST ERROR");
  out += line;
  for (const auto& p : partitions) {
    std::string state =
        p.failed ? "FAILED: " + p.last_error
                 : (p.last_error.empty() ? "ok" : "ok (last error: " + p.last_error + ")");
    std::snprintf(line, sizeof(line), "%-32s %4d %10lld %10lld %8lld %8lld %12lld %6lld  ",
                  p.topic.c_str(), p.partition, static_cast<long long>(p.committed_offset),
                  static_cast<long long>(p.high_watermark), static_cast<long long>(p.lag),
                  static_cast<long long>(p.objects), static_cast<long long>(p.bytes),
                  static_cast<long long>(p.dead_lettered));
    out += line;
    out += state + "\n";
  }
  return out;
}

std::vector<MetricFamily> SinkStatus::ToMetrics() const {
  const auto& escape = EscapeLabelValue;
  std::vector<MetricFamily> out = {
      {"pinpipe_sink_committed_offset", "Next offset to consume, as committed by the sink.", {}},
      {"pinpipe_sink_lag_records", "Records in the log not yet committed by the sink.", {}},
      {"pinpipe_sink_objects_written", "Objects written by this sink process.", {}},
      {"pinpipe_sink_bytes_written", "Object bytes written by this sink process.", {}},
      {"pinpipe_sink_records_written", "Records written into objects by this process.", {}},
      {"pinpipe_sink_dead_lettered_records", "Bad records sent to the dead-letter topic.", {}},
      {"pinpipe_sink_skipped_records", "Null values ignored and bad records without a DLQ.", {}},
      {"pinpipe_sink_partition_failed", "1 when a bad record stopped the partition.", {}},
  };
  for (const auto& p : partitions) {
    const std::string labels = "sink=\"" + escape(name) + "\",topic=\"" + escape(p.topic) +
                               "\",partition=\"" + std::to_string(p.partition) + "\"";
    const double values[] = {
        static_cast<double>(p.committed_offset), static_cast<double>(p.lag),
        static_cast<double>(p.objects),          static_cast<double>(p.bytes),
        static_cast<double>(p.records),          static_cast<double>(p.dead_lettered),
        static_cast<double>(p.skipped),          p.failed ? 1.0 : 0.0};
    for (size_t i = 0; i < out.size(); ++i) out[i].samples.emplace_back(labels, values[i]);
  }
  return out;
}

// ------------------------------------------------------------------ sink ---

Sink::Sink(SinkConfig config, broker::Broker* broker, objstore::ObjectStore* store, Clock* clock,
           std::unique_ptr<Partitioner> partitioner)
    : config_(std::move(config)),
      broker_(broker),
      store_(store),
      clock_(clock),
      partitioner_(std::move(partitioner)) {}

Sink::~Sink() { (void)Close(); }

Result<std::unique_ptr<Sink>> Sink::Create(SinkConfig config, broker::Broker& broker,
                                           objstore::ObjectStore& store, Clock* clock) {
  PINPIPE_ASSIGN_OR_RETURN(auto partitioner, Partitioner::Create(config));
  return std::unique_ptr<Sink>(new Sink(std::move(config), &broker, &store,
                                        clock != nullptr ? clock : &Clock::Real(),
                                        std::move(partitioner)));
}

Status Sink::Start() {
  broker::ConsumerOptions options;
  options.group = config_.group();
  options.reset = broker::OffsetReset::kEarliest;
  options.client_id = "pinpipe-sink-" + config_.name;
  PINPIPE_ASSIGN_OR_RETURN(consumer_, broker_->CreateConsumer(options));
  broker::RebalanceListener listener;
  listener.on_revoke = [this](const std::vector<broker::TopicPartition>& tps) {
    // What is being written is committed before the partitions go.
    // Uncommitted files are dropped: the next owner consumes from the
    // committed offset and writes the same objects.
    if (auto done = CompleteWrites(); !done.ok()) {
      spdlog::warn("sink {}: completing writes before a rebalance: {}", config_.name,
                   done.status().ToString());
    }
    for (const auto& tp : tps) {
      const std::pair<std::string, int32_t> key{tp.topic, tp.partition};
      states_.erase(key);
      std::erase_if(pending_, [&](const PendingObject& o) { return o.tp == key; });
    }
  };
  consumer_->SetRebalanceListener(std::move(listener));
  if (!config_.topics.empty()) return consumer_->Subscribe(config_.topics, false);
  std::string pattern = config_.topics_regex;
  if (!config_.dead_letter_topic.empty()) {
    // Never consume our own dead-letter topic, even when the regex matches it.
    pattern = "(?!" + EscapeRegex(config_.dead_letter_topic) + "$)(?:" + pattern + ")";
  }
  return consumer_->Subscribe({pattern}, true);
}

Sink::PartitionState& Sink::StateFor(const std::string& topic, int32_t partition) {
  auto [it, inserted] = states_.try_emplace({topic, partition});
  if (inserted) {
    it->second.topic = topic;
    it->second.partition = partition;
  }
  return it->second;
}

PartitionStatus& Sink::StatusFor(const std::string& topic, int32_t partition) {
  // Callers hold status_mu_.
  auto [it, inserted] = status_.try_emplace({topic, partition});
  if (inserted) {
    it->second.topic = topic;
    it->second.partition = partition;
  }
  return it->second;
}

Result<int64_t> Sink::Step(int64_t poll_timeout_ms) {
  if (!consumer_) return FailedPreconditionError("sink not started");
  for (auto& [tp, state] : states_) state.skip_rest = false;
  auto polled = consumer_->PollRefs(config_.max_poll_records, poll_timeout_ms);
  if (!polled.ok()) {
    if (IsRetriable(polled.status())) {
      spdlog::warn("sink {}: poll failed, retrying: {}", config_.name, polled.status().ToString());
      clock_->SleepMicros(kRetryBackoffMicros);
      return int64_t{0};
    }
    return polled.status();
  }
  bool backoff = false;
  PartitionState* state = nullptr;  // of the previous record: polls come in runs
  for (const RecordRef& record : *polled) {
    if (state == nullptr || state->partition != record.partition || state->topic != record.topic) {
      state = &StateFor(std::string(record.topic), record.partition);
    }
    if (state->skip_rest) continue;
    Status s = Process(*state, record);
    if (!s.ok()) {
      spdlog::warn("sink {}: {}: {}; retrying from the committed offset", config_.name,
                   Where(record), s.ToString());
      {
        std::lock_guard<std::mutex> lock(status_mu_);
        StatusFor(state->topic, record.partition).last_error = s.ToString();
      }
      PINPIPE_RETURN_IF_ERROR(CompleteWriteAndRewind(*state));
      backoff = true;
    }
  }
  ApplyWallClockRotation();
  // While records keep coming, the objects are written during the next
  // poll; an empty poll has nothing to overlap, so the write completes now.
  PINPIPE_ASSIGN_OR_RETURN(bool written, WriteAndCommit(polled->empty()));
  if (!written) backoff = true;
  if (backoff) clock_->SleepMicros(kRetryBackoffMicros);
  return static_cast<int64_t>(polled->size());
}

Status Sink::Process(PartitionState& st, const RecordRef& record) {
  const std::string& topic = st.topic;
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    if (StatusFor(topic, record.partition).failed) return Status::Ok();
  }
  if (st.next_offset >= 0 && record.offset < st.next_offset) return Status::Ok();  // redelivery
  if (st.uncommitted_start < 0) st.uncommitted_start = record.offset;
  const int64_t now = clock_->NowMillis();

  if (!record.value.has_value()) {
    if (config_.null_values == NullValues::kIgnore) {
      {
        std::lock_guard<std::mutex> lock(status_mu_);
        ++StatusFor(topic, record.partition).skipped;
      }
      st.next_offset = record.offset + 1;
      if (st.record_count == 0) MarkCommit(st);
      return Status::Ok();
    }
    return HandleBadRecord(st, record,
                           InvalidArgumentError("null value (behavior.on.null.values=fail)"),
                           "VALUE_CONVERTER");
  }
  auto parsed = encoder_.Parse(*record.value);
  if (!parsed.ok()) return HandleBadRecord(st, record, parsed.status(), "VALUE_CONVERTER");
  simdjson::dom::element value = *parsed;
  auto encoded = partitioner_->Encode(record, &value, now);
  if (!encoded.ok()) return HandleBadRecord(st, record, encoded.status(), "TASK_PUT");
  std::optional<int64_t> ts;
  if (config_.rotate_interval_ms > 0) {
    auto t = partitioner_->ExtractTimestamp(record, &value, now);
    if (!t.ok()) return HandleBadRecord(st, record, t.status(), "TASK_PUT");
    ts = *t;
  }

  // Rotation decisions come before the record is written, as in the connector:
  // the record that crosses a boundary starts the next file.
  if (st.record_count > 0) {
    const bool periodic =
        config_.rotate_interval_ms > 0 && ts && st.base_timestamp &&
        (*ts - *st.base_timestamp >= config_.rotate_interval_ms || *encoded != st.current_encoded);
    const bool scheduled =
        config_.rotate_schedule_interval_ms > 0 && now >= st.next_scheduled_rotation;
    if (periodic || scheduled) PINPIPE_RETURN_IF_ERROR(CommitFiles(st));
  }

  OpenFile& file = st.files[*encoded];
  if (file.records == 0) {
    file.start_offset = record.offset;
    file.data = TakeBuffer();
  }
  encoder_.AppendLine(*record.value, file.data);
  ++file.records;
  if (st.record_count == 0 && config_.rotate_schedule_interval_ms > 0) {
    st.next_scheduled_rotation =
        NextScheduledRotation(now, config_.rotate_schedule_interval_ms, config_.zone);
  }
  ++st.record_count;
  st.current_encoded = *encoded;
  if (!st.base_timestamp && ts) st.base_timestamp = ts;
  st.next_offset = record.offset + 1;
  if (st.record_count >= config_.flush_size) return CommitFiles(st);
  return Status::Ok();
}

Status Sink::HandleBadRecord(PartitionState& st, const RecordRef& record, const Status& reason,
                             std::string_view stage) {
  const std::string& topic = st.topic;
  const std::string message = Where(record) + ": " + reason.message();
  if (config_.errors_tolerance == ErrorTolerance::kNone) {
    spdlog::error("sink {}: stopping partition {}[{}]: {} (errors.tolerance=none)", config_.name,
                  record.topic, record.partition, message);
    std::lock_guard<std::mutex> lock(status_mu_);
    PartitionStatus& ps = StatusFor(topic, record.partition);
    ps.failed = true;
    ps.last_error = message;
    // Records before the bad one stay uncommitted in the log; nothing is lost.
    st.files.clear();
    st.record_count = 0;
    st.base_timestamp.reset();
    return Status::Ok();
  }
  if (!config_.dead_letter_topic.empty()) {
    if (!dlq_ready_) {
      Status created = broker_->CreateTopic(config_.dead_letter_topic, broker::TopicConfig{});
      if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
      dlq_ready_ = true;
    }
    broker::Record dead;
    if (record.key) dead.key.emplace(*record.key);
    if (record.value) dead.value.emplace(*record.value);
    dead.timestamp_ms = record.timestamp_ms;
    for (const auto& [k, v] : record.headers)
      dead.headers.push_back({std::string(k), std::string(v)});
    dead.headers.push_back({"__connect.errors.topic", topic});
    dead.headers.push_back({"__connect.errors.partition", std::to_string(record.partition)});
    dead.headers.push_back({"__connect.errors.offset", std::to_string(record.offset)});
    dead.headers.push_back({"__connect.errors.connector.name", config_.name});
    dead.headers.push_back({"__connect.errors.stage", std::string(stage)});
    dead.headers.push_back(
        {"__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"});
    dead.headers.push_back({"__connect.errors.exception.message", reason.message()});
    PINPIPE_ASSIGN_OR_RETURN(
        auto acks,
        broker_->Produce(config_.dead_letter_topic, std::span<const broker::Record>(&dead, 1)));
    if (acks.empty() || !acks[0].error.ok()) {
      return UnavailableError("dead-letter produce failed: " +
                              (acks.empty() ? std::string("no ack") : acks[0].error.ToString()));
    }
  }
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    PartitionStatus& ps = StatusFor(topic, record.partition);
    if (config_.dead_letter_topic.empty()) {
      ++ps.skipped;
    } else {
      ++ps.dead_lettered;
    }
    ps.last_error = message;
  }
  spdlog::warn(
      "sink {}: {} ({})", config_.name, message,
      config_.dead_letter_topic.empty() ? "skipped" : "sent to " + config_.dead_letter_topic);
  st.next_offset = record.offset + 1;
  if (st.record_count == 0) MarkCommit(st);
  return Status::Ok();
}

std::string Sink::TakeBuffer() {
  if (spare_buffers_.empty()) return {};
  std::string buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

void Sink::ReturnBuffer(std::string buffer) {
  if (spare_buffers_.size() >= kMaxSpareBuffers || buffer.capacity() < 4096 ||
      buffer.capacity() > kMaxSpareBufferBytes) {
    return;
  }
  buffer.clear();
  spare_buffers_.push_back(std::move(buffer));
}

Status Sink::ResolveExisting(const std::string& key, const std::string& body) {
  // Written before a crash: identical bytes mean this object is done.
  PINPIPE_ASSIGN_OR_RETURN(std::string existing, store_->Get(key));
  if (existing == body) return Status::Ok();
  // Different bytes can only come from non-deterministic rotation (wall
  // clock). Like the connector, the newest file wins.
  spdlog::warn("sink {}: {} exists with different content; overwriting", config_.name, key);
  objstore::PutOptions options;
  options.content_type =
      config_.compression == Compression::kGzip ? "application/gzip" : "application/json";
  return store_->Put(key, body, options);
}

Status Sink::CommitFiles(PartitionState& st) {
  for (auto& [encoded, file] : st.files) {
    if (file.records == 0) continue;
    PendingObject object;
    object.tp = {st.topic, st.partition};
    object.key = ObjectKey(config_, st.topic, st.partition, encoded, file.start_offset);
    object.records = file.records;
    object.commit_after = st.next_offset;
    if (config_.compression == Compression::kGzip) {
      PINPIPE_ASSIGN_OR_RETURN(object.body, Gzip(file.data, config_.compression_level));
      ReturnBuffer(std::move(file.data));
    } else {
      object.body = std::move(file.data);
    }
    pending_.push_back(std::move(object));
  }
  st.files.clear();
  st.record_count = 0;
  st.base_timestamp.reset();
  st.current_encoded.clear();
  MarkCommit(st);
  return Status::Ok();
}

void Sink::MarkCommit(PartitionState& st) {
  if (st.next_offset >= 0) st.pending_commit = st.next_offset;
}

Result<bool> Sink::WriteAndCommit(bool wait) {
  bool written = true;
  // Commit what is written already (in order), and make room.
  while (!in_flight_.empty() &&
         (in_flight_.size() >= kMaxWritesInFlight || bytes_in_flight_ >= kMaxBytesInFlight ||
          in_flight_.front()->results.wait_for(std::chrono::seconds(0)) ==
              std::future_status::ready)) {
    PINPIPE_ASSIGN_OR_RETURN(bool done, CompleteOldestWrite());
    written = written && done;
  }
  std::map<std::pair<std::string, int32_t>, int64_t> commits;
  for (auto& [tp, st] : states_) {
    if (st.pending_commit >= 0) commits[tp] = st.pending_commit;
    st.pending_commit = -1;
  }
  if (!pending_.empty() || !commits.empty()) {
    auto batch = std::make_unique<WriteBatch>();
    batch->objects = std::move(pending_);
    pending_.clear();
    batch->commits = std::move(commits);
    objstore::PutOptions options;
    options.if_absent = true;
    options.content_type =
        config_.compression == Compression::kGzip ? "application/gzip" : "application/json";
    batch->requests.reserve(batch->objects.size());
    for (const PendingObject& o : batch->objects) {
      batch->requests.push_back({o.key, o.body, options});
      batch->bytes += o.body.size();
    }
    bytes_in_flight_ += batch->bytes;
    if (batch->requests.empty()) {
      std::promise<std::vector<Status>> none;
      none.set_value({});
      batch->results = none.get_future();
    } else {
      batch->results = std::async(std::launch::async, [store = store_, b = batch.get()] {
        return store->PutMany(b->requests);
      });
    }
    in_flight_.push_back(std::move(batch));
  }
  if (wait) {
    PINPIPE_ASSIGN_OR_RETURN(bool done, CompleteWrites());
    written = written && done;
  }
  return written;
}

Result<bool> Sink::CompleteWrites() {
  bool written = true;
  while (!in_flight_.empty()) {
    PINPIPE_ASSIGN_OR_RETURN(bool done, CompleteOldestWrite());
    written = written && done;
  }
  return written;
}

Result<bool> Sink::CompleteOldestWrite() {
  if (in_flight_.empty()) return true;
  std::unique_ptr<WriteBatch> batch = std::move(in_flight_.front());
  in_flight_.pop_front();
  std::vector<Status> results = batch->results.get();
  bytes_in_flight_ -= batch->bytes;
  using Tp = std::pair<std::string, int32_t>;
  // Per partition, the commit point of its first object that failed: only
  // offsets before it may be committed.
  std::map<Tp, int64_t> first_failed;
  auto note_error = [&](const Tp& tp, const Status& s) {
    if (last_error_in_batch_.empty()) last_error_in_batch_ = s.ToString();
    spdlog::warn("sink {}: {}[{}]: {}; retrying from the committed offset", config_.name, tp.first,
                 tp.second, s.ToString());
    std::lock_guard<std::mutex> lock(status_mu_);
    StatusFor(tp.first, tp.second).last_error = s.ToString();
  };
  last_error_in_batch_.clear();
  for (size_t i = 0; i < batch->objects.size(); ++i) {
    const PendingObject& o = batch->objects[i];
    Status s = i < results.size() ? results[i] : InternalError("store returned too few results");
    if (s.code() == StatusCode::kAlreadyExists) s = ResolveExisting(o.key, o.body);
    if (s.ok()) continue;
    note_error(o.tp, s);
    auto [it, inserted] = first_failed.try_emplace(o.tp, o.commit_after);
    if (!inserted) it->second = std::min(it->second, o.commit_after);
  }
  // Every object before those points is durable now: commit in one call.
  std::vector<broker::TopicPartitionOffset> offsets;
  for (const auto& [tp, point] : batch->commits) {
    int64_t commit = point;
    if (auto f = first_failed.find(tp); f != first_failed.end()) {
      commit = -1;  // the last commit point before the first failed object
      for (const PendingObject& o : batch->objects) {
        if (o.tp == tp && o.commit_after < f->second) commit = std::max(commit, o.commit_after);
      }
    }
    if (commit >= 0) offsets.push_back({tp.first, tp.second, commit});
  }
  std::set<Tp> rewind;
  for (const auto& [tp, at] : first_failed) rewind.insert(tp);
  if (!offsets.empty()) {
    Status committed = consumer_->Commit(offsets);
    if (!committed.ok()) {
      for (const auto& o : offsets) {
        note_error({o.topic, o.partition}, committed);
        rewind.insert({o.topic, o.partition});
      }
      offsets.clear();
    }
  }
  std::map<Tp, int64_t> committed_at;
  for (const auto& o : offsets) committed_at[{o.topic, o.partition}] = o.offset;
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    for (const PendingObject& o : batch->objects) {
      auto c = committed_at.find(o.tp);
      if (c == committed_at.end() || o.commit_after > c->second) continue;
      PartitionStatus& ps = StatusFor(o.tp.first, o.tp.second);
      ++ps.objects;
      ps.bytes += static_cast<int64_t>(o.body.size());
      ps.records += o.records;
    }
    for (const auto& [tp, offset] : committed_at) {
      PartitionStatus& ps = StatusFor(tp.first, tp.second);
      ps.committed_offset = offset;
      if (ps.high_watermark >= 0) {
        ps.lag = std::max<int64_t>(0, ps.high_watermark - ps.committed_offset);
      }
    }
  }
  for (const auto& [tp, offset] : committed_at) {
    auto it = states_.find(tp);
    if (it == states_.end()) continue;  // revoked meanwhile
    PartitionState& st = it->second;
    // Records after the commit point sit in open files or pending objects
    // (or are rewound below).
    st.uncommitted_start = st.next_offset > offset ? offset : -1;
  }
  for (PendingObject& o : batch->objects) ReturnBuffer(std::move(o.body));
  for (const auto& tp : rewind) {
    // Later writes of the partition may finish, but commit nothing: it is
    // consumed again from its committed offset and writes the same objects.
    for (auto& later : in_flight_) later->commits.erase(tp);
    auto it = states_.find(tp);
    if (it != states_.end()) PINPIPE_RETURN_IF_ERROR(Rewind(it->second));
  }
  return rewind.empty();
}

Status Sink::CompleteWriteAndRewind(PartitionState& st) {
  const std::pair<std::string, int32_t> tp{st.topic, st.partition};
  PINPIPE_RETURN_IF_ERROR(CompleteWrites().status());
  auto it = states_.find(tp);
  return it == states_.end() ? Status::Ok() : Rewind(it->second);
}

Status Sink::Rewind(PartitionState& st) {
  st.files.clear();
  st.record_count = 0;
  st.base_timestamp.reset();
  st.current_encoded.clear();
  st.skip_rest = true;
  st.pending_commit = -1;
  const std::pair<std::string, int32_t> key{st.topic, st.partition};
  std::erase_if(pending_, [&](const PendingObject& o) { return o.tp == key; });
  if (st.uncommitted_start >= 0) {
    PINPIPE_RETURN_IF_ERROR(consumer_->Seek({st.topic, st.partition}, st.uncommitted_start));
    st.next_offset = st.uncommitted_start;
    st.uncommitted_start = -1;
  }
  return Status::Ok();
}

void Sink::ApplyWallClockRotation() {
  const int64_t now = clock_->NowMillis();
  for (auto& [tp, st] : states_) {
    if (st.record_count == 0 || st.skip_rest) continue;
    const bool scheduled =
        config_.rotate_schedule_interval_ms > 0 && now >= st.next_scheduled_rotation;
    const bool wallclock_interval =
        config_.rotate_interval_ms > 0 &&
        config_.timestamp_extractor == TimestampExtractorKind::kWallclock && st.base_timestamp &&
        now - *st.base_timestamp >= config_.rotate_interval_ms;
    if (!scheduled && !wallclock_interval) continue;
    Status s = CommitFiles(st);
    if (!s.ok()) {
      spdlog::warn("sink {}: rotating {}[{}] failed: {}", config_.name, st.topic, st.partition,
                   s.ToString());
      (void)CompleteWriteAndRewind(st);
    }
  }
}

Status Sink::FlushAll() {
  for (auto& [tp, st] : states_) {
    if (st.record_count == 0) continue;
    Status s = CommitFiles(st);
    if (!s.ok()) {
      (void)CompleteWriteAndRewind(st);
      return s;
    }
  }
  PINPIPE_ASSIGN_OR_RETURN(bool written, WriteAndCommit(true));
  if (!written) return UnavailableError("flushing open files: " + last_error_in_batch_);
  return Status::Ok();
}

Status Sink::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    PINPIPE_RETURN_IF_ERROR(Step(200).status());
  }
  return Status::Ok();
}

std::vector<std::string> Sink::SubscribedTopics() {
  std::vector<std::string> out;
  auto topics = broker_->ListTopics();
  if (!topics.ok()) return out;
  std::optional<std::regex> re;
  if (config_.topics.empty()) re.emplace(config_.topics_regex, std::regex::ECMAScript);
  for (const auto& t : *topics) {
    if (t == config_.dead_letter_topic) continue;
    const bool wanted =
        re ? std::regex_match(t, *re)
           : std::find(config_.topics.begin(), config_.topics.end(), t) != config_.topics.end();
    if (wanted) out.push_back(t);
  }
  return out;
}

void Sink::RefreshWatermarks(bool force) {
  const int64_t now = clock_->MonotonicMicros() / 1000;
  if (!force && now - watermarks_refreshed_ms_ < 1000) return;
  watermarks_refreshed_ms_ = now;
  for (const auto& topic : SubscribedTopics()) {
    auto desc = broker_->DescribeTopic(topic);
    if (!desc.ok()) continue;
    auto committed = broker_->FetchCommittedOffsets(config_.group(), topic);
    std::lock_guard<std::mutex> lock(status_mu_);
    for (const auto& p : desc->partitions) {
      PartitionStatus& ps = StatusFor(topic, p.partition);
      ps.high_watermark = p.high_watermark;
      if (committed.ok()) {
        for (const auto& c : *committed) {
          if (c.partition == p.partition) ps.committed_offset = c.offset;
        }
      }
      const int64_t base = ps.committed_offset >= 0 ? ps.committed_offset : p.log_start_offset;
      ps.lag = std::max<int64_t>(0, p.high_watermark - base);
    }
  }
}

Status Sink::Drain(bool flush_open_files, int64_t max_idle_ms) {
  int64_t last_progress = clock_->MonotonicMicros() / 1000;
  // After a poll that brought records, poll again without waiting: when the
  // log is consumed, the caught-up check below ends the drain at once
  // instead of after an idle poll.
  int64_t poll_timeout_ms = 100;
  while (true) {
    PINPIPE_ASSIGN_OR_RETURN(int64_t n, Step(poll_timeout_ms));
    const int64_t now = clock_->MonotonicMicros() / 1000;
    if (n > 0) {
      last_progress = now;
      poll_timeout_ms = 0;
      continue;
    }
    poll_timeout_ms = 100;
    // Caught up when every partition has been consumed to its high watermark.
    bool caught_up = true;
    for (const auto& topic : SubscribedTopics()) {
      auto desc = broker_->DescribeTopic(topic);
      if (!desc.ok()) continue;
      auto committed = broker_->FetchCommittedOffsets(config_.group(), topic);
      for (const auto& p : desc->partitions) {
        if (p.high_watermark <= p.log_start_offset) continue;
        int64_t position = -1;
        auto it = states_.find({topic, p.partition});
        if (it != states_.end()) position = it->second.next_offset;
        if (committed.ok()) {
          for (const auto& c : *committed) {
            if (c.partition == p.partition) position = std::max(position, c.offset);
          }
        }
        bool failed = false;
        {
          std::lock_guard<std::mutex> lock(status_mu_);
          auto s = status_.find({topic, p.partition});
          failed = s != status_.end() && s->second.failed;
        }
        if (!failed && position < p.high_watermark) caught_up = false;
      }
    }
    if (caught_up) {
      if (!flush_open_files) break;
      Status flushed = FlushAll();
      if (flushed.ok()) break;
      // Failed partitions were rewound: consume them again, unless the
      // store stays unusable.
      if (!IsRetriable(flushed) || now - last_progress > max_idle_ms) return flushed;
      clock_->SleepMicros(kRetryBackoffMicros);
      continue;
    }
    if (now - last_progress > max_idle_ms) {
      spdlog::warn("sink {}: no progress for {} ms; stopping the drain", config_.name, max_idle_ms);
      break;
    }
  }
  PINPIPE_RETURN_IF_ERROR(CompleteWrites().status());
  RefreshWatermarks(true);
  std::lock_guard<std::mutex> lock(status_mu_);
  for (const auto& [tp, ps] : status_) {
    if (ps.failed) {
      return FailedPreconditionError("partition " + ps.topic + "[" + std::to_string(ps.partition) +
                                     "] stopped: " + ps.last_error);
    }
  }
  return Status::Ok();
}

Status Sink::Close() {
  if (!consumer_) return Status::Ok();
  Status done = CompleteWrites().status();
  Status s = consumer_->Close();
  if (s.ok()) s = done;
  consumer_.reset();
  states_.clear();
  pending_.clear();
  return s;
}

SinkStatus Sink::GetStatus() {
  RefreshWatermarks(false);
  SinkStatus out;
  out.name = config_.name;
  out.group = config_.group();
  out.store = store_->Url();
  out.updated_ms = clock_->NowMillis();
  std::lock_guard<std::mutex> lock(status_mu_);
  for (const auto& [tp, ps] : status_) out.partitions.push_back(ps);
  return out;
}

}  // namespace pinpipe::sink
