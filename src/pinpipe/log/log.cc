#include "pinpipe/log/log.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace pinpipe::log {
namespace {

namespace fs = std::filesystem;

// Writes and fsyncs a new file (no rename: it is staged in a folder that is
// renamed into place as a whole).
Status WriteNewFile(FileSystem& files, const fs::path& path, std::string_view data) {
  PINPIPE_ASSIGN_OR_RETURN(auto file, files.Open(path, OpenMode::kTruncate));
  PINPIPE_RETURN_IF_ERROR(file->Append(data));
  return file->SyncAll();
}

std::string SettingsJson(const TopicSettings& s) {
  nlohmann::json j = {{"version", 1},
                      {"partitions", s.partitions},
                      {"fsync", s.fsync},
                      {"retention_ms", s.retention_ms},
                      {"retention_bytes", s.retention_bytes},
                      {"segment_bytes", s.segment_bytes},
                      {"segment_ms", s.segment_ms}};
  return j.dump(2) + "\n";
}

Result<TopicSettings> ParseSettings(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return DataLossError("topic.json is not a JSON object");
  TopicSettings s;
  auto get_int = [&](const char* key, int64_t* out) -> Status {
    auto it = j.find(key);
    if (it == j.end()) return Status::Ok();
    if (!it->is_number_integer()) return DataLossError(std::string("topic.json: bad ") + key);
    *out = it->get<int64_t>();
    return Status::Ok();
  };
  int64_t partitions = 0;
  PINPIPE_RETURN_IF_ERROR(get_int("partitions", &partitions));
  if (partitions < 1 || partitions > 10000) return DataLossError("topic.json: bad partitions");
  s.partitions = static_cast<int32_t>(partitions);
  PINPIPE_RETURN_IF_ERROR(get_int("retention_ms", &s.retention_ms));
  PINPIPE_RETURN_IF_ERROR(get_int("retention_bytes", &s.retention_bytes));
  PINPIPE_RETURN_IF_ERROR(get_int("segment_bytes", &s.segment_bytes));
  PINPIPE_RETURN_IF_ERROR(get_int("segment_ms", &s.segment_ms));
  if (auto it = j.find("fsync"); it != j.end() && it->is_string()) s.fsync = it->get<std::string>();
  return s;
}

}  // namespace

Status ValidateTopicName(std::string_view name) {
  if (name.empty()) return InvalidArgumentError("topic name is empty");
  if (name.size() > 249) {
    return InvalidArgumentError("topic name is longer than 249 characters");
  }
  if (name == "." || name == "..") {
    return InvalidArgumentError("topic name cannot be '.' or '..'");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      std::string shown = (c >= 0x20 && c < 0x7f) ? std::string(1, c) : "\\x" + [&] {
        char b[3];
        std::snprintf(b, sizeof(b), "%02x", static_cast<unsigned char>(c));
        return std::string(b);
      }();
      return InvalidArgumentError("topic name '" + std::string(name.substr(0, 64)) +
                                  "' contains '" + shown +
                                  "'; only ASCII letters, digits, '.', '_' and '-' are allowed");
    }
  }
  return Status::Ok();
}

Log::Log(LogOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &Clock::Real()),
      fs_(FileSystem::OrDefault(options_.fs)) {}

Result<std::unique_ptr<Log>> Log::Open(LogOptions options) {
  if (options.dir.empty()) return InvalidArgumentError("log directory is empty");
  std::unique_ptr<Log> log(new Log(std::move(options)));
  const fs::path& dir = log->options_.dir;
  FileSystem& files = log->fs_;
  PINPIPE_RETURN_IF_ERROR(files.CreateDirs(dir / "topics"));
  (void)files.RemoveAll(dir / "tmp");  // leftovers of interrupted creates and deletes
  PINPIPE_RETURN_IF_ERROR(files.CreateDirs(dir / "tmp"));
  auto lock = files.LockFile(dir / "LOCK");
  if (!lock.ok()) {
    if (lock.status().code() == StatusCode::kUnavailable) {
      return UnavailableError("the log in " + dir.string() +
                              " is in use by another process (LOCK is held)");
    }
    return lock.status();
  }
  log->lock_ = std::move(*lock);
  PINPIPE_ASSIGN_OR_RETURN(log->offsets_, OffsetStore::Open(dir / "consumer_offsets.log", &files));
  PINPIPE_RETURN_IF_ERROR(log->OpenExisting());
  for (int i = 0; i < kSyncThreads; ++i) {
    log->sync_threads_.emplace_back([l = log.get()] { l->SyncThreadLoop(); });
  }
  log->flusher_ = std::thread([l = log.get()] { l->FlusherLoop(); });
  return log;
}

Log::~Log() {
  {
    std::lock_guard lock(flush_mu_);
    stop_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  {
    std::lock_guard lock(pool_mu_);
    pool_stop_ = true;
  }
  pool_cv_.notify_all();
  for (auto& t : sync_threads_) t.join();
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics;
  {
    std::lock_guard lock(mu_);
    topics.swap(topics_);
  }
  for (auto& [name, topic] : topics) {
    for (auto& p : topic->partitions_) {
      if (Status s = p->Close(); !s.ok()) spdlog::error("log: close {}: {}", name, s.ToString());
      // The next open then scans nothing of this partition.
      if (Status s = p->WriteActiveIndexFiles(); !s.ok()) {
        spdlog::warn("log: index files of {}/{}: {}", name, p->id(), s.ToString());
      }
    }
  }
  offsets_.reset();
  lock_.reset();  // releases the flock
}

Result<PartitionOptions> Log::Resolve(const TopicSettings& s) const {
  PartitionOptions o;
  if (s.fsync.empty()) {
    o.fsync = options_.fsync;
  } else {
    PINPIPE_ASSIGN_OR_RETURN(o.fsync, FsyncPolicy::Parse(s.fsync));
  }
  if (s.segment_bytes < 0 || s.segment_ms < 0) {
    return InvalidArgumentError("segment_bytes and segment_ms must not be negative");
  }
  if (s.retention_ms < -1 || s.retention_bytes < -1) {
    return InvalidArgumentError("retention must be positive, or -1 for no limit");
  }
  o.segment_bytes = s.segment_bytes > 0 ? s.segment_bytes : options_.segment_bytes;
  o.segment_ms = s.segment_ms > 0 ? s.segment_ms : options_.segment_ms;
  o.retention_ms = s.retention_ms != 0 ? s.retention_ms : options_.retention_ms;
  o.retention_bytes = s.retention_bytes != 0 ? s.retention_bytes : options_.retention_bytes;
  o.index_interval_bytes = options_.index_interval_bytes;
  return o;
}

Result<std::shared_ptr<Topic>> Log::OpenTopic(const std::string& name, const TopicSettings& s) {
  auto topic = std::make_shared<Topic>();
  topic->name_ = name;
  topic->settings_ = s;
  PINPIPE_ASSIGN_OR_RETURN(topic->effective_, Resolve(s));
  PINPIPE_RETURN_IF_ERROR(OpenPartitions(*topic, options_.dir / "topics" / name, s.partitions));
  return topic;
}

Status Log::OpenPartitions(Topic& topic, const fs::path& dir, int32_t count) {
  for (int32_t p = topic.partition_count(); p < count; ++p) {
    std::function<void()> on_dirty;
    if (topic.effective_.fsync.mode != FsyncMode::kNever) on_dirty = [this] { MarkDirty(); };
    PINPIPE_ASSIGN_OR_RETURN(
        auto part, Partition::Open(dir / std::to_string(p), p, topic.effective_, clock_, notifier_,
                                   std::move(on_dirty), &fs_));
    topic.partitions_.push_back(std::move(part));
  }
  return Status::Ok();
}

Status Log::OpenExisting() {
  const fs::path topics_dir = options_.dir / "topics";
  PINPIPE_ASSIGN_OR_RETURN(auto entries, fs_.ListDir(topics_dir));
  for (const DirEntry& entry : entries) {
    const std::string& name = entry.name;
    const fs::path path = topics_dir / name;
    if (!entry.is_dir || !ValidateTopicName(name).ok()) {
      spdlog::warn("log: ignoring {} (not a topic)", path.string());
      continue;
    }
    auto text = fs_.ReadFile(path / "topic.json");
    if (!text.ok() && text.status().code() != StatusCode::kNotFound) return text.status();
    // A missing topic.json is reported as what it is: a damaged topic.
    auto settings = ParseSettings(text.ok() ? *text : std::string());
    if (!settings.ok()) {
      return settings.status().WithContext("topic " + name + " in " + path.string());
    }
    PINPIPE_ASSIGN_OR_RETURN(auto topic, OpenTopic(name, *settings));
    topics_.emplace(name, std::move(topic));
  }
  return Status::Ok();
}

Status Log::CreateTopic(std::string_view name, const TopicSettings& settings) {
  PINPIPE_RETURN_IF_ERROR(ValidateTopicName(name));
  if (settings.partitions < 1 || settings.partitions > 10000) {
    return InvalidArgumentError("partitions must be 1..10000, got " +
                                std::to_string(settings.partitions));
  }
  PINPIPE_RETURN_IF_ERROR(Resolve(settings).status());
  std::lock_guard create_lock(create_mu_);
  const std::string key(name);
  {
    std::lock_guard lock(mu_);
    if (topics_.count(key)) return AlreadyExistsError("topic '" + key + "' already exists");
  }
  const fs::path final_dir = options_.dir / "topics" / key;
  const fs::path tmp_dir = options_.dir / "tmp" / key;
  if (fs_.Stat(final_dir).ok()) {
    return AlreadyExistsError("topic folder " + final_dir.string() + " already exists");
  }
  // Build the whole topic in tmp/ and rename it into place, so a crash never
  // leaves a half-created topic.
  (void)fs_.RemoveAll(tmp_dir);
  PINPIPE_RETURN_IF_ERROR(fs_.CreateDirs(tmp_dir));
  PINPIPE_RETURN_IF_ERROR(WriteNewFile(fs_, tmp_dir / "topic.json", SettingsJson(settings)));
  for (int32_t p = 0; p < settings.partitions; ++p) {
    PINPIPE_RETURN_IF_ERROR(fs_.CreateDir(tmp_dir / std::to_string(p)));
  }
  PINPIPE_RETURN_IF_ERROR(fs_.SyncDir(tmp_dir));
  PINPIPE_RETURN_IF_ERROR(fs_.Rename(tmp_dir, final_dir));
  PINPIPE_RETURN_IF_ERROR(fs_.SyncDir(options_.dir / "topics"));
  PINPIPE_ASSIGN_OR_RETURN(auto topic, OpenTopic(key, settings));
  {
    std::lock_guard lock(mu_);
    topics_.emplace(key, std::move(topic));
  }
  topics_version_.fetch_add(1);
  notifier_.Notify();
  return Status::Ok();
}

Status Log::DeleteTopic(std::string_view name) {
  std::lock_guard create_lock(create_mu_);
  std::shared_ptr<Topic> topic;
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return NotFoundError("topic '" + std::string(name) + "' not found");
    topic = it->second;
    topics_.erase(it);
  }
  topic->deleted_ = true;
  for (auto& p : topic->partitions_) (void)p->Close();
  const fs::path dir = options_.dir / "topics" / topic->name_;
  const fs::path trash = options_.dir / "tmp" / (topic->name_ + ".deleted");
  (void)fs_.RemoveAll(trash);
  PINPIPE_RETURN_IF_ERROR(fs_.Rename(dir, trash));
  PINPIPE_RETURN_IF_ERROR(fs_.SyncDir(options_.dir / "topics"));
  (void)fs_.RemoveAll(trash);  // the next open clears tmp/ if this fails
  topics_version_.fetch_add(1);
  notifier_.Notify();
  return offsets_->RemoveTopic(topic->name_);
}

Status Log::AddPartitions(std::string_view name, int32_t partitions) {
  std::lock_guard create_lock(create_mu_);
  PINPIPE_ASSIGN_OR_RETURN(std::shared_ptr<Topic> old, GetTopic(name));
  const int32_t current = old->partition_count();
  if (partitions <= current) {
    return InvalidArgumentError("topic '" + old->name_ + "' has " + std::to_string(current) +
                                " partitions, which is not fewer than the requested " +
                                std::to_string(partitions));
  }
  if (partitions > 10000) {
    return InvalidArgumentError("partitions must be 1..10000, got " + std::to_string(partitions));
  }
  // The new partition folders first, then topic.json replaced by rename: a
  // crash in between leaves empty folders that the old topic.json ignores.
  const fs::path dir = options_.dir / "topics" / old->name_;
  for (int32_t p = current; p < partitions; ++p) {
    PINPIPE_RETURN_IF_ERROR(fs_.CreateDirs(dir / std::to_string(p)));  // may exist after a crash
  }
  PINPIPE_RETURN_IF_ERROR(fs_.SyncDir(dir));
  TopicSettings settings = old->settings_;
  settings.partitions = partitions;
  PINPIPE_RETURN_IF_ERROR(fs_.WriteFileAtomically(dir / "topic.json", SettingsJson(settings)));
  auto topic = std::make_shared<Topic>();
  topic->name_ = old->name_;
  topic->settings_ = settings;
  topic->effective_ = old->effective_;
  topic->partitions_ = old->partitions_;
  PINPIPE_RETURN_IF_ERROR(OpenPartitions(*topic, dir, partitions));
  {
    std::lock_guard lock(mu_);
    topics_[old->name_] = std::move(topic);
  }
  topics_version_.fetch_add(1);
  notifier_.Notify();
  return Status::Ok();
}

Status Log::SetTopicSettings(std::string_view name, const TopicSettings& requested,
                             bool validate_only) {
  std::lock_guard create_lock(create_mu_);
  std::shared_ptr<Topic> old;
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return NotFoundError("topic '" + std::string(name) + "' not found");
    old = it->second;
  }
  TopicSettings settings = requested;
  settings.partitions = old->settings_.partitions;
  PINPIPE_ASSIGN_OR_RETURN(PartitionOptions effective, Resolve(settings));
  const FsyncPolicy& was = old->effective_.fsync;
  if (effective.fsync.mode != was.mode ||
      (was.mode == FsyncMode::kInterval && effective.fsync.interval_ms != was.interval_ms)) {
    return InvalidArgumentError("the fsync policy of topic '" + old->name_ + "' is " +
                                was.ToString() + " and cannot change while the topic exists (" +
                                effective.fsync.ToString() + " requested)");
  }
  if (validate_only) return Status::Ok();
  const fs::path dir = options_.dir / "topics" / old->name_;
  PINPIPE_RETURN_IF_ERROR(fs_.WriteFileAtomically(dir / "topic.json", SettingsJson(settings)));
  auto topic = std::make_shared<Topic>();
  topic->name_ = old->name_;
  topic->settings_ = settings;
  topic->effective_ = effective;
  topic->partitions_ = old->partitions_;
  const Partition::Limits limits{effective.segment_bytes, effective.segment_ms,
                                 effective.retention_ms, effective.retention_bytes};
  for (auto& p : topic->partitions_) p->SetLimits(limits);
  {
    std::lock_guard lock(mu_);
    topics_[old->name_] = std::move(topic);
  }
  // A shorter retention applies now rather than at the next periodic pass.
  for (auto& p : old->partitions_) {
    if (auto r = p->ApplyRetention(); !r.ok()) {
      spdlog::error("log: retention of {}/{}: {}", old->name_, p->id(), r.status().ToString());
    }
  }
  return Status::Ok();
}

Status Log::WriteTopicMetadata(std::string_view name, std::string_view data) {
  std::lock_guard create_lock(create_mu_);  // the folder stays while we write
  PINPIPE_RETURN_IF_ERROR(GetTopic(name).status());
  return fs_.WriteFileAtomically(options_.dir / "topics" / std::string(name) / "metadata", data);
}

Result<std::string> Log::ReadTopicMetadata(std::string_view name) const {
  std::lock_guard create_lock(create_mu_);
  PINPIPE_RETURN_IF_ERROR(GetTopic(name).status());
  auto text = fs_.ReadFile(options_.dir / "topics" / std::string(name) / "metadata");
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) return std::string();
  return text;
}

std::vector<std::string> Log::ListTopics() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, t] : topics_) names.push_back(name);
  return names;
}

Result<std::shared_ptr<Topic>> Log::GetTopic(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(name) + "' not found");
  return it->second;
}

int Log::RunRetention() {
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::lock_guard lock(mu_);
    for (const auto& [n, t] : topics_) topics.push_back(t);
  }
  int deleted = 0;
  for (const auto& t : topics) {
    for (const auto& p : t->partitions_) {
      auto r = p->ApplyRetention();
      if (!r.ok()) {
        spdlog::error("log: retention of {}/{}: {}", t->name_, p->id(), r.status().ToString());
      } else {
        deleted += *r;
      }
    }
  }
  return deleted;
}

std::vector<std::string> Log::RecoveryLosses() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, t] : topics_) {
    for (const auto& p : t->partitions_) {
      for (const auto& l : p->recovery().losses) {
        out.push_back(name + "/" + std::to_string(p->id()) + ": " + l);
      }
    }
  }
  return out;
}

void Log::MarkDirty() {
  {
    std::lock_guard lock(flush_mu_);
    dirty_ = true;
  }
  flush_cv_.notify_one();
}

// fdatasyncs of different files overlap on the device (and share journal
// commits), so the partitions due together are synced together: the flusher
// takes one and the sync threads the rest.
bool Log::SyncAll(const std::vector<Partition*>& due) {
  if (due.empty()) return true;
  auto sync = [](Partition* p) {
    Status s = p->Sync();
    if (!s.ok()) spdlog::error("log: group commit fsync failed: {}", s.ToString());
    return s.ok();
  };
  {
    std::lock_guard lock(pool_mu_);
    pool_queue_.assign(due.begin() + 1, due.end());
    pool_failed_ = false;
  }
  pool_cv_.notify_all();
  bool ok = sync(due.front());
  std::unique_lock lock(pool_mu_);
  // Help with what the sync threads have not started, then wait for theirs.
  while (!pool_queue_.empty()) {
    Partition* p = pool_queue_.back();
    pool_queue_.pop_back();
    lock.unlock();
    ok = sync(p) && ok;
    lock.lock();
  }
  pool_done_cv_.wait(lock, [&] { return pool_busy_ == 0; });
  return ok && !pool_failed_;
}

void Log::SyncThreadLoop() {
  std::unique_lock lock(pool_mu_);
  while (true) {
    pool_cv_.wait(lock, [&] { return pool_stop_ || !pool_queue_.empty(); });
    if (pool_stop_) return;
    Partition* p = pool_queue_.back();
    pool_queue_.pop_back();
    ++pool_busy_;
    lock.unlock();
    Status s = p->Sync();
    if (!s.ok()) spdlog::error("log: group commit fsync failed: {}", s.ToString());
    lock.lock();
    if (!s.ok()) pool_failed_ = true;
    if (--pool_busy_ == 0) pool_done_cv_.notify_all();
  }
}

void Log::FlusherLoop() {
  using std::chrono::microseconds;
  using std::chrono::steady_clock;
  auto next_retention =
      steady_clock::now() + std::chrono::milliseconds(options_.retention_check_ms);
  auto next_wake = steady_clock::now() + std::chrono::seconds(1);
  while (true) {
    {
      std::unique_lock lock(flush_mu_);
      flush_cv_.wait_until(lock, std::min(next_wake, next_retention),
                           [&] { return stop_ || dirty_; });
      if (stop_) return;
      dirty_ = false;
    }
    std::vector<std::shared_ptr<Partition>> parts;
    {
      std::lock_guard lock(mu_);
      for (const auto& [n, t] : topics_) {
        if (t->effective_.fsync.mode == FsyncMode::kNever) continue;
        for (const auto& p : t->partitions_) parts.push_back(p);
      }
    }
    // The injected clock, as the partitions' last_sync_micros() is.
    const int64_t now = clock_->MonotonicMicros();
    int64_t next_due = now + 1'000'000;
    std::vector<Partition*> due_now;
    for (const auto& p : parts) {
      if (!p->Dirty()) continue;
      // Under always only OnDurable callers leave data for the flusher: sync at once.
      const int64_t due = p->options().fsync.mode == FsyncMode::kAlways
                              ? now
                              : p->last_sync_micros() + p->options().fsync.interval_ms * 1000;
      if (now >= due) {
        due_now.push_back(p.get());
      } else {
        next_due = std::min(next_due, due);
      }
    }
    if (!SyncAll(due_now)) next_due = std::min(next_due, now + 100'000);  // retry later
    for (Partition* p : due_now) {
      if (p->Dirty()) next_due = std::min(next_due, now);
    }
    next_wake = steady_clock::now() + microseconds(std::max<int64_t>(0, next_due - now));
    if (steady_clock::now() >= next_retention) {
      RunRetention();
      next_retention = steady_clock::now() + std::chrono::milliseconds(options_.retention_check_ms);
    }
  }
}

}  // namespace pinpipe::log
