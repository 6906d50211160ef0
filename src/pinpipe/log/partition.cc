#include "pinpipe/log/partition.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pinpipe::log {

Result<FsyncPolicy> FsyncPolicy::Parse(std::string_view text) {
  FsyncPolicy p;
  if (text == "always") {
    p.mode = FsyncMode::kAlways;
    p.interval_ms = 0;
    return p;
  }
  if (text == "never") {
    p.mode = FsyncMode::kNever;
    p.interval_ms = 0;
    return p;
  }
  if (text == "interval") return p;
  if (text.starts_with("interval:")) {
    std::string_view ms = text.substr(9);
    int64_t v = 0;
    if (ms.empty() || ms.size() > 6) {
      return InvalidArgumentError("bad fsync interval in '" + std::string(text) + "'");
    }
    for (char c : ms) {
      if (c < '0' || c > '9') {
        return InvalidArgumentError("bad fsync interval in '" + std::string(text) + "'");
      }
      v = v * 10 + (c - '0');
    }
    if (v < 1 || v > 60000) {
      return InvalidArgumentError("fsync interval must be 1..60000 ms, got '" + std::string(text) +
                                  "'");
    }
    p.interval_ms = v;
    return p;
  }
  return InvalidArgumentError("fsync must be always, interval:<ms> or never, got '" +
                              std::string(text) + "'");
}

std::string FsyncPolicy::ToString() const {
  switch (mode) {
    case FsyncMode::kAlways:
      return "always";
    case FsyncMode::kNever:
      return "never";
    case FsyncMode::kInterval:
      break;
  }
  return "interval:" + std::to_string(interval_ms);
}

uint64_t DataNotifier::sequence() {
  std::lock_guard lock(mu_);
  return seq_;
}

void DataNotifier::Notify() {
  {
    std::lock_guard lock(mu_);
    ++seq_;
  }
  cv_.notify_all();
}

bool DataNotifier::WaitChange(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return seq_ != seen; });
}

Partition::Partition(std::filesystem::path dir, int32_t id, PartitionOptions options, Clock* clock,
                     DataNotifier* notifier, std::function<void()> on_dirty, FileSystem* fs)
    : fs_(FileSystem::OrDefault(fs)),
      dir_(std::move(dir)),
      id_(id),
      options_(options),
      clock_(clock),
      notifier_(notifier),
      on_dirty_(std::move(on_dirty)),
      limits_{options.segment_bytes, options.segment_ms, options.retention_ms,
              options.retention_bytes} {}

void Partition::SetLimits(const Limits& limits) {
  std::lock_guard lock(append_mu_);
  limits_ = limits;
}

Partition::Limits Partition::limits() const {
  std::lock_guard lock(append_mu_);
  return limits_;
}

Partition::~Partition() { (void)Close(); }

Result<std::shared_ptr<Partition>> Partition::Open(std::filesystem::path dir, int32_t id,
                                                   PartitionOptions options, Clock* clock,
                                                   DataNotifier& notifier,
                                                   std::function<void()> on_dirty, FileSystem* fs) {
  std::shared_ptr<Partition> p(new Partition(std::move(dir), id, options,
                                             clock != nullptr ? clock : &Clock::Real(), &notifier,
                                             std::move(on_dirty), fs));
  PINPIPE_RETURN_IF_ERROR(p->Recover());
  return p;
}

Status Partition::Recover() {
  PINPIPE_RETURN_IF_ERROR(fs_.CreateDirs(dir_));
  PINPIPE_ASSIGN_OR_RETURN(auto entries, fs_.ListDir(dir_));
  std::vector<int64_t> bases;
  std::vector<std::filesystem::path> others;
  for (const DirEntry& entry : entries) {
    if (auto base = Segment::ParseFileName(entry.name)) {
      bases.push_back(*base);
    } else {
      others.push_back(dir_ / entry.name);
    }
  }
  std::sort(bases.begin(), bases.end());
  // Index files of segments that are gone (a crash during deletion) and
  // temp files of interrupted index writes.
  for (const auto& path : others) {
    const std::string name = path.filename().string();
    const bool index_file = name.ends_with(".index") || name.ends_with(".timeindex");
    if (!index_file && !name.ends_with(".index.tmp") && !name.ends_with(".timeindex.tmp")) {
      continue;
    }
    bool keep = false;
    if (index_file && name.size() > 20) {
      const auto base = Segment::ParseFileName(name.substr(0, 20) + ".log");
      keep = base && std::binary_search(bases.begin(), bases.end(), *base) &&
             (name == Segment::IndexFileName(*base) || name == Segment::TimeIndexFileName(*base));
    }
    if (!keep) (void)fs_.Remove(path);  // litter: removed again at the next open
  }
  bool rewrote_index = false;
  std::vector<std::shared_ptr<Segment>> segs;
  for (size_t i = 0; i < bases.size(); ++i) {
    SegmentScan scan;
    PINPIPE_ASSIGN_OR_RETURN(
        auto seg, Segment::Open(dir_ / Segment::FileName(bases[i]), bases[i], i + 1 == bases.size(),
                                options_.index_interval_bytes, &scan, &fs_));
    recovery_.truncated_bytes += scan.truncated_bytes;
    if (scan.index_loaded) {
      ++recovery_.segments_from_index;
    } else {
      ++recovery_.segments_scanned;
    }
    recovery_.scanned_bytes += scan.scanned_bytes;
    if (!scan.index_rebuilt.empty()) {
      rewrote_index = true;
      std::string msg = seg->path().filename().string() + ": index " + scan.index_rebuilt;
      msg += scan.losses.empty() ? ", rebuilt by a scan and rewritten"
                                 : ", rebuilt by a scan; not rewritten (data lost)";
      spdlog::info("log: {}: {}", dir_.string(), msg);
      recovery_.index_rebuilds.push_back(std::move(msg));
    }
    for (auto& l : scan.losses) recovery_.losses.push_back(std::move(l));
    if (scan.truncated_bytes > 0) {
      spdlog::warn("log: {}: cut a torn tail of {} bytes at position {}", seg->path().string(),
                   scan.truncated_bytes, scan.truncated_at);
    }
    if (!segs.empty()) {
      const auto& prev = segs.back();
      if (prev->next_offset() < seg->base_offset() && prev->lost_ranges().empty()) {
        recovery_.losses.push_back(dir_.string() + ": offsets " +
                                   std::to_string(prev->next_offset()) + ".." +
                                   std::to_string(seg->base_offset() - 1) + " are missing");
      }
    }
    segs.push_back(std::move(seg));
  }
  for (const auto& l : recovery_.losses) spdlog::error("log: data loss: {}", l);
  if (rewrote_index) PINPIPE_RETURN_IF_ERROR(fs_.SyncDir(dir_));
  if (segs.empty()) {
    PINPIPE_ASSIGN_OR_RETURN(auto seg,
                             Segment::Create(dir_, 0, options_.index_interval_bytes, &fs_));
    PINPIPE_RETURN_IF_ERROR(fs_.SyncDir(dir_));
    segs.push_back(std::move(seg));
  }
  active_ = segs.back();
  active_created_ms_ = clock_->NowMillis();
  const int64_t end = std::max(active_->next_offset(), active_->base_offset());
  written_end_ = end;
  durable_end_ = end;
  high_watermark_ = end;
  {
    std::unique_lock lock(segments_mu_);
    segments_ = std::move(segs);
  }
  return Status::Ok();
}

std::vector<std::shared_ptr<Segment>> Partition::Snapshot() const {
  std::shared_lock lock(segments_mu_);
  return segments_;
}

Result<AppendInfo> Partition::Append(std::span<const RecordView> records) {
  std::shared_ptr<Segment> closed;
  Result<AppendInfo> result = [&] {
    std::lock_guard lock(append_mu_);
    return AppendLocked(records, &closed);
  }();
  // Under fsync=never nobody syncs after us, so the appender writes a rolled
  // segment's index files, outside the append lock so that other appenders
  // are not held up by their fsyncs. Otherwise the next Sync writes them.
  if (closed) WriteIndexFiles(closed);
  return result;
}

void Partition::WriteIndexFiles(const std::shared_ptr<Segment>& closed) {
  if (Status s = closed->WriteIndexFiles(); !s.ok()) {
    spdlog::warn("log: index files of {} not written (the next open rebuilds them): {}",
                 closed->path().string(), s.ToString());
  }
}

Result<AppendInfo> Partition::AppendLocked(std::span<const RecordView> records,
                                           std::shared_ptr<Segment>* closed) {
  if (records.empty()) return InvalidArgumentError("append of no records");
  if (closed_) return FailedPreconditionError("partition " + dir_.string() + " is closed");
  const int64_t base = written_end_.load(std::memory_order_relaxed);
  encode_buf_.clear();
  std::vector<BatchHeader> headers;
  size_t first = 0;
  size_t batch_bytes = kBatchHeaderSize;
  int64_t next = base;
  auto flush = [&](size_t end) {
    const size_t start = encode_buf_.size();
    EncodeBatch(next, records.subspan(first, end - first), &encode_buf_);
    headers.push_back(*DecodeBatchHeader(std::string_view(encode_buf_).substr(start)));
    next += static_cast<int64_t>(end - first);
    first = end;
    batch_bytes = kBatchHeaderSize;
  };
  for (size_t i = 0; i < records.size(); ++i) {
    const size_t n = EncodedRecordSize(records[i]);
    if (n + kBatchHeaderSize > kMaxBatchBytes) {
      return InvalidArgumentError("record of " + std::to_string(n) + " bytes exceeds the " +
                                  std::to_string(kMaxBatchBytes) + "-byte limit");
    }
    if (i > first && batch_bytes + n > static_cast<size_t>(options_.max_batch_bytes)) flush(i);
    batch_bytes += n;
  }
  flush(records.size());
  const int64_t active_size = active_->size();
  if (active_size > 0 &&
      (active_size + static_cast<int64_t>(encode_buf_.size()) > limits_.segment_bytes ||
       clock_->NowMillis() - active_created_ms_ >= limits_.segment_ms)) {
    PINPIPE_RETURN_IF_ERROR(RollLocked(closed));
  }
  PINPIPE_RETURN_IF_ERROR(active_->AppendMany(encode_buf_, headers));
  written_end_.store(next, std::memory_order_release);
  if (encode_buf_.capacity() > (8u << 20)) std::string().swap(encode_buf_);
  if (options_.fsync.mode == FsyncMode::kNever) {
    high_watermark_.store(next, std::memory_order_release);
    notifier_->Notify();
  } else if (options_.fsync.mode == FsyncMode::kInterval && on_dirty_ &&
             !dirty_flag_.exchange(true)) {
    on_dirty_();  // only on the clean -> dirty transition, to spare the flusher
  }
  return AppendInfo{base, next};
}

Status Partition::RollLocked(std::shared_ptr<Segment>* closed) {
  const int64_t end = written_end_.load(std::memory_order_relaxed);
  PINPIPE_ASSIGN_OR_RETURN(auto seg,
                           Segment::Create(dir_, end, options_.index_interval_bytes, &fs_));
  {
    std::unique_lock lock(segments_mu_);
    segments_.push_back(seg);
  }
  if (options_.fsync.mode == FsyncMode::kNever) {
    *closed = std::move(active_);
  } else {
    // No fsync here, under the append lock on the appender's thread: the
    // next Sync syncs the closed segment and the folder (for the new file's
    // entry) before the active one, so the durable end still only passes
    // into the new segment once the old one is on disk. It then writes the
    // closed segment's index files.
    unsynced_closed_.push_back(std::move(active_));
  }
  active_ = std::move(seg);
  active_created_ms_ = clock_->NowMillis();
  return Status::Ok();
}

void Partition::AdvanceDurable(int64_t offset) {
  {
    std::lock_guard lock(durable_mu_);
    if (offset <= durable_end_) return;
    durable_end_ = offset;
    if (options_.fsync.mode != FsyncMode::kNever) {
      high_watermark_.store(offset, std::memory_order_release);
    }
  }
  durable_cv_.notify_all();
  if (options_.fsync.mode != FsyncMode::kNever) notifier_->Notify();
  CompleteWaiters(offset, Status::Ok());
}

void Partition::CompleteWaiters(int64_t offset, const Status& status) {
  std::vector<std::function<void(Status)>> ready;
  {
    std::lock_guard lock(durable_mu_);
    auto covered = [offset](const auto& w) { return w.first <= offset; };
    auto it = std::stable_partition(durable_callbacks_.begin(), durable_callbacks_.end(),
                                    [&](const auto& w) { return !covered(w); });
    for (auto i = it; i != durable_callbacks_.end(); ++i) ready.push_back(std::move(i->second));
    durable_callbacks_.erase(it, durable_callbacks_.end());
  }
  for (auto& done : ready) done(status);
}

void Partition::OnDurable(int64_t next_offset, std::function<void(Status)> done) {
  if (options_.fsync.mode == FsyncMode::kNever) return done(Status::Ok());
  Status status;
  {
    std::lock_guard lock(durable_mu_);
    if (durable_end_ < next_offset && !released_) {
      durable_callbacks_.emplace_back(next_offset, std::move(done));
      done = nullptr;
    } else if (durable_end_ < next_offset) {
      status =
          UnavailableError("partition " + dir_.string() + " closed before the append was durable");
    }
  }
  if (done) return done(status);
  // Under interval the append already woke the flusher; under always nothing
  // has, and the flusher syncs such a partition as soon as it looks.
  if (options_.fsync.mode == FsyncMode::kAlways && on_dirty_) on_dirty_();
}

bool Partition::Dirty() const {
  std::lock_guard lock(durable_mu_);
  return written_end_.load(std::memory_order_acquire) > durable_end_;
}

Status Partition::Sync() {
  std::vector<std::shared_ptr<Segment>> closed;
  Status status = [&] {
    std::lock_guard sync_lock(sync_mu_);
    std::shared_ptr<Segment> seg;
    int64_t target = 0;
    {
      // Clearing the flag under the append lock, together with the capture,
      // makes it exact: set iff some append is not covered by a sync yet. (A
      // flag left set on a clean partition would keep the next append from
      // waking the flusher.)
      std::lock_guard lock(append_mu_);
      seg = active_;
      target = written_end_.load(std::memory_order_relaxed);
      closed.swap(unsynced_closed_);
      dirty_flag_.store(false);
    }
    if (closed.empty()) {
      std::lock_guard lock(durable_mu_);
      if (target <= durable_end_) return Status::Ok();
    }
    last_sync_micros_ = clock_->MonotonicMicros();
    Status s;
    // Segments rolled since the last sync, then the folder that holds their
    // successors' entries, then the active segment: everything below
    // `target` is then on disk.
    for (const auto& c : closed) {
      if (s.ok()) s = c->Sync();
    }
    if (s.ok() && !closed.empty()) s = fs_.SyncDir(dir_);
    if (s.ok()) s = seg->Sync();
    if (!s.ok()) {
      {
        // The next sync tries them again.
        std::lock_guard lock(append_mu_);
        unsynced_closed_.insert(unsynced_closed_.begin(), closed.begin(), closed.end());
      }
      closed.clear();
      CompleteWaiters(target, s);
      return s;
    }
    AdvanceDurable(target);
    return Status::Ok();
  }();
  // After the answers, and outside the sync lock.
  for (const auto& c : closed) WriteIndexFiles(c);
  return status;
}

Status Partition::WaitDurable(int64_t next_offset) {
  switch (options_.fsync.mode) {
    case FsyncMode::kNever:
      return Status::Ok();
    case FsyncMode::kAlways: {
      {
        std::lock_guard lock(durable_mu_);
        if (durable_end_ >= next_offset) return Status::Ok();
      }
      return Sync();
    }
    case FsyncMode::kInterval:
      break;
  }
  // Group commit: one waiter per interval becomes the syncer for everyone
  // waiting on this partition, so partitions sync in parallel on their own
  // appenders' threads; the Log's flusher is the backstop for appends that
  // nobody waits for.
  std::unique_lock lock(durable_mu_);
  while (durable_end_ < next_offset && !released_) {
    const int64_t due = last_sync_micros_.load() + options_.fsync.interval_ms * 1000;
    const int64_t now = clock_->MonotonicMicros();
    if (!syncing_ && now >= due) {
      syncing_ = true;
      lock.unlock();
      Status s = Sync();
      lock.lock();
      syncing_ = false;
      durable_cv_.notify_all();
      if (!s.ok()) return s;
      continue;
    }
    if (syncing_) {
      durable_cv_.wait(lock);
    } else {
      durable_cv_.wait_for(lock, std::chrono::microseconds(due - now));
    }
  }
  if (durable_end_ >= next_offset) return Status::Ok();
  return UnavailableError("partition " + dir_.string() + " closed before the append was durable");
}

Result<AppendInfo> Partition::AppendAndWait(std::span<const RecordView> records) {
  PINPIPE_ASSIGN_OR_RETURN(AppendInfo info, Append(records));
  PINPIPE_RETURN_IF_ERROR(WaitDurable(info.next_offset));
  return info;
}

Result<std::vector<LogRecord>> Partition::Read(int64_t offset, size_t max_records,
                                               int64_t max_bytes) {
  ReadBuffer buffer;
  PINPIPE_RETURN_IF_ERROR(ReadInto(offset, max_records, max_bytes, &buffer));
  std::vector<LogRecord> out;
  out.reserve(buffer.records().size());
  for (const LogRecordRef& ref : buffer.records()) {
    out.push_back(ToLogRecord(ref));
  }
  return out;
}

Status Partition::ReadInto(int64_t offset, size_t max_records, int64_t max_bytes, ReadBuffer* out) {
  out->Clear();
  const int64_t hw = high_watermark();
  auto segs = Snapshot();
  const int64_t start = segs.front()->base_offset();
  if (offset < start || offset > hw) {
    return OutOfRangeError("offset " + std::to_string(offset) + " is outside [" +
                           std::to_string(start) + ", " + std::to_string(hw) + "]");
  }
  if (offset == hw || max_records == 0) return Status::Ok();
  auto it = std::upper_bound(segs.begin(), segs.end(), offset,
                             [](int64_t o, const auto& s) { return o < s->base_offset(); });
  size_t i = static_cast<size_t>(std::prev(it) - segs.begin());
  int64_t cur = offset;
  int64_t bytes = 0;
  size_t records = 0;
  while (i < segs.size() && cur < hw) {
    const auto& seg = segs[i];
    if (cur < seg->next_offset()) {
      const size_t before = records;
      Status s = seg->ReadBatches(cur, hw, max_records, max_bytes, out, &records, &bytes, &cur);
      if (!s.ok()) {
        if (records == 0) return s;
        break;
      }
      if (records == before) break;
      if (records >= max_records || bytes >= max_bytes) break;
      if (cur < seg->next_offset()) break;
    }
    if (i + 1 >= segs.size()) break;
    const int64_t next_base = segs[i + 1]->base_offset();
    if (cur < next_base) {
      if (records > 0) break;
      std::string why = "segment data missing";
      for (const auto& l : seg->lost_ranges()) why = l.reason;
      return DataLossError("offsets " + std::to_string(cur) + ".." + std::to_string(next_base - 1) +
                           " of " + dir_.string() + " are lost: " + why);
    }
    ++i;
  }
  return out->Decode(offset, hw, max_records);
}

Result<int64_t> Partition::OffsetForTimestamp(int64_t ts) {
  const int64_t hw = high_watermark();
  for (const auto& seg : Snapshot()) {
    if (seg->max_timestamp() < ts) continue;
    PINPIPE_ASSIGN_OR_RETURN(auto found, seg->FindTimestamp(ts, hw));
    if (found) return *found;
  }
  return hw;
}

int64_t Partition::log_start_offset() const {
  std::shared_lock lock(segments_mu_);
  return segments_.front()->base_offset();
}

int64_t Partition::size_bytes() const {
  std::shared_lock lock(segments_mu_);
  int64_t total = 0;
  for (const auto& s : segments_) total += s->size();
  return total;
}

size_t Partition::segment_count() const {
  std::shared_lock lock(segments_mu_);
  return segments_.size();
}

Result<int> Partition::ApplyRetention() {
  std::lock_guard lock(append_mu_);
  const int64_t now = clock_->NowMillis();
  int deleted = 0;
  while (true) {
    std::shared_ptr<Segment> front;
    int64_t total = 0;
    {
      std::shared_lock rl(segments_mu_);
      if (segments_.size() <= 1) break;
      front = segments_.front();
      for (const auto& s : segments_) total += s->size();
    }
    const int64_t max_ts = front->max_timestamp();
    const bool expired =
        limits_.retention_ms >= 0 && (max_ts == INT64_MIN || max_ts < now - limits_.retention_ms);
    const bool over =
        limits_.retention_bytes >= 0 && total - front->size() >= limits_.retention_bytes;
    if (!expired && !over) break;
    {
      std::unique_lock wl(segments_mu_);
      segments_.erase(segments_.begin());
    }
    PINPIPE_RETURN_IF_ERROR(front->Remove());
    ++deleted;
  }
  return deleted;
}

Status Partition::WriteActiveIndexFiles() {
  std::lock_guard lock(append_mu_);
  return active_->WriteIndexFiles();
}

Status Partition::Close() {
  Status status;
  {
    std::lock_guard lock(append_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
  }
  if (options_.fsync.mode != FsyncMode::kNever) status = Sync();
  {
    std::lock_guard lock(durable_mu_);
    released_ = true;
  }
  durable_cv_.notify_all();
  CompleteWaiters(INT64_MAX, status.ok() ? UnavailableError("partition " + dir_.string() +
                                                            " closed before the append was durable")
                                         : status);
  return status;
}

}  // namespace pinpipe::log
