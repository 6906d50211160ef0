#include "pinpipe/embedded/embedded_broker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace pinpipe::embedded {

using broker::Record;
using broker::RecordRef;
using broker::TopicPartition;
using broker::TopicPartitionOffset;

int32_t Murmur2(std::string_view data) {
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* d = reinterpret_cast<const uint8_t*>(data.data());
  const size_t length = data.size();
  uint32_t h = seed ^ static_cast<uint32_t>(length);
  for (size_t i = 0; i + 4 <= length; i += 4) {
    uint32_t k =
        d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (static_cast<uint32_t>(d[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t tail = length & ~size_t{3};
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(d[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(d[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= d[tail];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t PartitionForKey(std::string_view key, int32_t partitions) {
  return static_cast<int32_t>((static_cast<uint32_t>(Murmur2(key)) & 0x7fffffffu) %
                              static_cast<uint32_t>(partitions));
}

Result<log::LogOptions> LogOptionsFromConfig(const Config& config) {
  log::LogOptions o;
  const std::string& data_dir = config.Get("general.data_dir");
  if (data_dir.empty()) return InvalidArgumentError("general.data_dir is empty");
  o.dir = std::filesystem::path(data_dir) / "log";
  PINPIPE_ASSIGN_OR_RETURN(o.fsync, log::FsyncPolicy::Parse(config.Get("log.fsync")));
  PINPIPE_ASSIGN_OR_RETURN(o.segment_bytes, config.GetBytes("log.segment_bytes"));
  PINPIPE_ASSIGN_OR_RETURN(o.segment_ms, config.GetMillis("log.segment_ms"));
  auto millis_or_forever = [&](std::string_view key) -> Result<int64_t> {
    if (config.Get(key) == "-1") return int64_t{-1};
    return config.GetMillis(key);
  };
  auto bytes_or_unlimited = [&](std::string_view key) -> Result<int64_t> {
    if (config.Get(key) == "-1") return int64_t{-1};
    return config.GetBytes(key);
  };
  PINPIPE_ASSIGN_OR_RETURN(o.retention_ms, millis_or_forever("log.retention_ms"));
  PINPIPE_ASSIGN_OR_RETURN(o.retention_bytes, bytes_or_unlimited("log.retention_bytes"));
  if (o.segment_bytes < 4096) return InvalidArgumentError("log.segment_bytes must be >= 4096");
  if (o.segment_ms < 1) return InvalidArgumentError("log.segment_ms must be positive");
  if (o.retention_ms == 0 || o.retention_bytes == 0) {
    return InvalidArgumentError("log.retention_ms and log.retention_bytes must be positive or -1");
  }
  return o;
}

// ---------------------------------------------------------------------------
// Group coordination (in-process).

class EmbeddedConsumer;

class GroupCoordinator {
 public:
  GroupCoordinator(log::Log* log, int64_t rebalance_timeout_ms)
      : log_(log), rebalance_timeout_ms_(rebalance_timeout_ms) {}

  uint64_t Join(const std::string& group) {
    std::lock_guard lock(mu_);
    const uint64_t id = ++next_member_;
    Group& g = groups_[group];
    g.members[id] = Member{};
    g.members[id].last_poll_ms = NowMs();
    g.dirty = true;
    return id;
  }

  void Subscribe(const std::string& group, uint64_t id, std::vector<std::string> topics,
                 std::optional<std::regex> pattern) {
    {
      std::lock_guard lock(mu_);
      Member& m = groups_[group].members[id];
      m.topics = std::move(topics);
      m.pattern = std::move(pattern);
      groups_[group].dirty = true;
    }
    log_->notifier().Notify();
  }

  void Leave(const std::string& group, uint64_t id) {
    {
      std::lock_guard lock(mu_);
      auto it = groups_.find(group);
      if (it == groups_.end()) return;
      Group& g = it->second;
      g.members.erase(id);
      for (auto o = g.owners.begin(); o != g.owners.end();) {
        o = o->second == id ? g.owners.erase(o) : std::next(o);
      }
      g.dirty = true;
      if (g.members.empty()) groups_.erase(it);
    }
    log_->notifier().Notify();  // waiting members may now take over partitions
  }

  // The member's side of a rebalance, computed under the group lock:
  // `lost` are partitions it owned and must give up, `gained` are partitions
  // it now owns.
  struct Delta {
    std::vector<TopicPartition> lost;
    std::vector<TopicPartition> gained;
  };

  // Brings `owned` (the member's view) in line with the group's target
  // assignment. Partitions to give up are released immediately after the
  // caller's on_revoke (see Release), so this only reports them.
  Delta Sync(const std::string& group, uint64_t id, const std::set<TopicPartition>& owned) {
    std::lock_guard lock(mu_);
    Group& g = groups_[group];
    const uint64_t version = log_->topics_version();
    if (g.dirty || g.topics_version != version) Recompute(g, version);
    Member& me = g.members[id];
    me.last_poll_ms = NowMs();
    const auto& target = g.target[id];
    Delta d;
    for (const auto& tp : owned) {
      auto o = g.owners.find(tp);
      if (!target.count(tp) || o == g.owners.end() || o->second != id) d.lost.push_back(tp);
    }
    for (const auto& tp : target) {
      if (owned.count(tp)) continue;
      auto o = g.owners.find(tp);
      if (o != g.owners.end() && o->second != id) {
        auto holder = g.members.find(o->second);
        const bool stale = holder == g.members.end() ||
                           NowMs() - holder->second.last_poll_ms > rebalance_timeout_ms_;
        if (!stale) continue;  // wait for the holder to revoke it
        spdlog::warn("broker: group {}: member {} has not polled for {} ms; taking over {}/{}",
                     group, o->second, rebalance_timeout_ms_, tp.topic, tp.partition);
      }
      g.owners[tp] = id;
      d.gained.push_back(tp);
    }
    return d;
  }

  void Release(const std::string& group, uint64_t id, const std::vector<TopicPartition>& tps) {
    {
      std::lock_guard lock(mu_);
      Group& g = groups_[group];
      for (const auto& tp : tps) {
        auto o = g.owners.find(tp);
        if (o != g.owners.end() && o->second == id) g.owners.erase(o);
      }
    }
    log_->notifier().Notify();
  }

 private:
  struct Member {
    std::vector<std::string> topics;
    std::optional<std::regex> pattern;
    int64_t last_poll_ms = 0;
  };
  struct Group {
    std::map<uint64_t, Member> members;  // ordered by join
    std::map<TopicPartition, uint64_t> owners;
    std::map<uint64_t, std::set<TopicPartition>> target;
    uint64_t topics_version = ~uint64_t{0};
    bool dirty = true;
  };

  int64_t NowMs() { return Clock::Real().MonotonicMicros() / 1000; }

  void Recompute(Group& g, uint64_t version) {
    g.target.clear();
    g.dirty = false;
    g.topics_version = version;
    for (const std::string& name : log_->ListTopics()) {
      auto topic = log_->GetTopic(name);
      if (!topic.ok()) continue;
      std::vector<uint64_t> subscribers;
      for (const auto& [id, m] : g.members) {
        bool wants = false;
        if (m.pattern) {
          wants = std::regex_match(name, *m.pattern);
        } else {
          wants = std::find(m.topics.begin(), m.topics.end(), name) != m.topics.end();
        }
        if (wants) subscribers.push_back(id);
      }
      if (subscribers.empty()) continue;
      // Range assignment: the first (n % m) members get one extra partition.
      const int32_t n = (*topic)->partition_count();
      const auto m = static_cast<int32_t>(subscribers.size());
      int32_t next = 0;
      for (int32_t i = 0; i < m; ++i) {
        const int32_t count = n / m + (i < n % m ? 1 : 0);
        for (int32_t k = 0; k < count; ++k) g.target[subscribers[i]].insert({name, next++});
      }
    }
  }

  log::Log* log_;
  const int64_t rebalance_timeout_ms_;
  std::mutex mu_;
  uint64_t next_member_ = 0;
  std::map<std::string, Group> groups_;
};

// ---------------------------------------------------------------------------

class EmbeddedConsumer final : public broker::Consumer {
 public:
  EmbeddedConsumer(EmbeddedBroker* broker, GroupCoordinator* coordinator,
                   broker::ConsumerOptions options, std::string group, bool anonymous)
      : broker_(broker),
        coordinator_(coordinator),
        options_(std::move(options)),
        group_(std::move(group)),
        anonymous_(anonymous) {
    member_ = coordinator_->Join(group_);
  }
  ~EmbeddedConsumer() override { (void)Close(); }

  Status Subscribe(const std::vector<std::string>& topics, bool is_pattern) override {
    if (closed_) return FailedPreconditionError("consumer is closed");
    std::optional<std::regex> pattern;
    if (is_pattern) {
      if (topics.size() != 1) {
        return InvalidArgumentError("a pattern subscription takes exactly one regular expression");
      }
      try {
        pattern.emplace(topics[0], std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return InvalidArgumentError("bad topic pattern '" + topics[0] + "': " + e.what());
      }
    } else {
      for (const auto& t : topics) PINPIPE_RETURN_IF_ERROR(log::ValidateTopicName(t));
    }
    coordinator_->Subscribe(group_, member_, is_pattern ? std::vector<std::string>{} : topics,
                            std::move(pattern));
    return Status::Ok();
  }

  void SetRebalanceListener(broker::RebalanceListener listener) override {
    listener_ = std::move(listener);
  }

  Result<std::vector<broker::StoredRecord>> Poll(int32_t max_records, int64_t timeout_ms) override {
    PINPIPE_ASSIGN_OR_RETURN(auto refs, PollRefs(max_records, timeout_ms));
    std::vector<broker::StoredRecord> out;
    out.reserve(refs.size());
    for (const RecordRef& r : refs) out.push_back(ToStoredRecord(r));
    return out;
  }

  Result<std::span<const RecordRef>> PollRefs(int32_t max_records, int64_t timeout_ms) override {
    if (closed_) return FailedPreconditionError("consumer is closed");
    if (max_records <= 0) return InvalidArgumentError("max_records must be positive");
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms));
    refs_.clear();
    buffers_used_ = 0;
    while (true) {
      const uint64_t seq = broker_->log().notifier().sequence();
      Rebalance();
      PINPIPE_RETURN_IF_ERROR(FetchOnce(max_records));
      if (!refs_.empty() || std::chrono::steady_clock::now() >= deadline) {
        return std::span<const RecordRef>(refs_);
      }
      broker_->log().notifier().WaitChange(
          seq, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1)));
    }
  }

  Status Commit(const std::vector<TopicPartitionOffset>& offsets) override {
    if (anonymous_) return FailedPreconditionError("a consumer without a group id cannot commit");
    return broker_->CommitOffsets(group_, offsets);
  }

  Result<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions) override {
    std::vector<TopicPartitionOffset> out;
    if (anonymous_) return out;
    for (const auto& tp : partitions) {
      if (auto o = broker_->log().offsets().Get(group_, tp.topic, tp.partition)) {
        out.push_back({tp.topic, tp.partition, *o});
      }
    }
    return out;
  }

  Status Seek(const TopicPartition& tp, int64_t offset) override {
    auto it = positions_.find(tp);
    if (it == positions_.end()) {
      return FailedPreconditionError(tp.topic + "/" + std::to_string(tp.partition) +
                                     " is not assigned to this consumer");
    }
    if (offset < 0) return InvalidArgumentError("negative seek offset");
    it->second = offset;
    return Status::Ok();
  }

  std::vector<TopicPartition> Assignment() override {
    return std::vector<TopicPartition>(owned_.begin(), owned_.end());
  }

  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    if (!owned_.empty() && listener_.on_revoke) {
      listener_.on_revoke(std::vector<TopicPartition>(owned_.begin(), owned_.end()));
    }
    owned_.clear();
    positions_.clear();
    coordinator_->Leave(group_, member_);
    return Status::Ok();
  }

 private:
  void Rebalance() {
    auto delta = coordinator_->Sync(group_, member_, owned_);
    if (!delta.lost.empty()) {
      if (listener_.on_revoke) listener_.on_revoke(delta.lost);
      for (const auto& tp : delta.lost) {
        owned_.erase(tp);
        positions_.erase(tp);
      }
      coordinator_->Release(group_, member_, delta.lost);
    }
    if (!delta.gained.empty()) {
      for (const auto& tp : delta.gained) {
        owned_.insert(tp);
        positions_[tp] = StartPosition(tp);
      }
      if (listener_.on_assign) listener_.on_assign(delta.gained);
    }
  }

  int64_t StartPosition(const TopicPartition& tp) {
    if (!anonymous_) {
      if (auto o = broker_->log().offsets().Get(group_, tp.topic, tp.partition)) return *o;
    }
    return ResetPosition(tp);
  }

  int64_t ResetPosition(const TopicPartition& tp) {
    auto topic = broker_->log().GetTopic(tp.topic);
    if (!topic.ok() || tp.partition >= (*topic)->partition_count()) return 0;
    auto* p = (*topic)->partition(tp.partition);
    return options_.reset == broker::OffsetReset::kEarliest ? p->log_start_offset()
                                                            : p->high_watermark();
  }

  // Reads the owned partitions round robin into read buffers (reused from
  // poll to poll) and points refs_ at their records.
  Status FetchOnce(int32_t max_records) {
    if (positions_.empty()) return Status::Ok();
    std::vector<TopicPartition> order(owned_.begin(), owned_.end());
    const size_t n = order.size();
    for (size_t k = 0; k < n && static_cast<int32_t>(refs_.size()) < max_records; ++k) {
      const TopicPartition& tp = order[(rr_ + k) % n];
      int64_t& pos = positions_[tp];
      if (buffers_used_ == buffers_.size()) buffers_.push_back(std::make_unique<log::ReadBuffer>());
      log::ReadBuffer& buffer = *buffers_[buffers_used_];
      broker::FetchOptions fo;
      fo.max_records = max_records - static_cast<int32_t>(refs_.size());
      Status s = broker_->ReadInto(tp.topic, tp.partition, pos, fo, &buffer);
      if (!s.ok()) {
        if (s.code() == StatusCode::kOutOfRange) {
          const int64_t reset = ResetPosition(tp);
          spdlog::warn("broker: {}/{}: position {} out of range, reset to {}", tp.topic,
                       tp.partition, pos, reset);
          pos = reset;
          continue;
        }
        if (s.code() == StatusCode::kNotFound) continue;  // topic deleted meanwhile
        return s.WithContext(tp.topic + "/" + std::to_string(tp.partition));
      }
      if (buffer.records().empty()) continue;
      ++buffers_used_;
      pos = buffer.records().back().offset + 1;
      const std::string_view topic = *topic_names_.insert(tp.topic).first;
      for (const log::LogRecordRef& r : buffer.records()) {
        RecordRef& ref = refs_.emplace_back();
        ref.topic = topic;
        ref.partition = tp.partition;
        ref.offset = r.offset;
        ref.timestamp_ms = r.timestamp_ms;
        ref.key = r.key;
        ref.value = r.value;
        ref.headers = r.headers;
      }
    }
    rr_ = n ? (rr_ + 1) % n : 0;
    return Status::Ok();
  }

  EmbeddedBroker* broker_;
  GroupCoordinator* coordinator_;
  broker::ConsumerOptions options_;
  std::string group_;
  bool anonymous_;
  uint64_t member_ = 0;
  bool closed_ = false;
  broker::RebalanceListener listener_;
  std::set<TopicPartition> owned_;
  std::map<TopicPartition, int64_t> positions_;
  size_t rr_ = 0;
  // What PollRefs hands out views of, valid until the next poll.
  std::vector<std::unique_ptr<log::ReadBuffer>> buffers_;
  size_t buffers_used_ = 0;
  std::set<std::string, std::less<>> topic_names_;
  std::vector<RecordRef> refs_;
};

// ---------------------------------------------------------------------------

EmbeddedBroker::EmbeddedBroker(std::unique_ptr<log::Log> log, int64_t rebalance_timeout_ms)
    : log_(std::move(log)),
      coordinator_(std::make_unique<GroupCoordinator>(log_.get(), rebalance_timeout_ms)) {}

EmbeddedBroker::~EmbeddedBroker() = default;

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Open(EmbeddedBrokerOptions options) {
  PINPIPE_ASSIGN_OR_RETURN(auto log, log::Log::Open(options.log));
  for (const auto& loss : log->RecoveryLosses()) spdlog::error("broker: data loss: {}", loss);
  return std::unique_ptr<EmbeddedBroker>(
      new EmbeddedBroker(std::move(log), options.rebalance_timeout_ms));
}

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Open(const Config& config) {
  EmbeddedBrokerOptions options;
  PINPIPE_ASSIGN_OR_RETURN(options.log, LogOptionsFromConfig(config));
  return Open(std::move(options));
}

namespace {

Result<log::TopicSettings> ToSettings(const broker::TopicConfig& config) {
  log::TopicSettings s;
  s.partitions = config.partitions;
  s.fsync = config.fsync;
  s.retention_ms = config.retention_ms;
  s.retention_bytes = config.retention_bytes;
  s.segment_bytes = config.segment_bytes;
  s.segment_ms = config.segment_ms;
  if (config.segment_bytes != 0 && config.segment_bytes < 4096) {
    return InvalidArgumentError("segment_bytes must be >= 4096");
  }
  return s;
}

}  // namespace

Status EmbeddedBroker::CreateTopic(std::string_view topic, const broker::TopicConfig& config) {
  PINPIPE_ASSIGN_OR_RETURN(log::TopicSettings s, ToSettings(config));
  return log_->CreateTopic(topic, s);
}

Status EmbeddedBroker::AlterTopicConfig(std::string_view topic, const broker::TopicConfig& config,
                                        bool validate_only) {
  PINPIPE_ASSIGN_OR_RETURN(log::TopicSettings s, ToSettings(config));
  return log_->SetTopicSettings(topic, s, validate_only);
}

Status EmbeddedBroker::DeleteTopic(std::string_view topic) { return log_->DeleteTopic(topic); }

Status EmbeddedBroker::CreatePartitions(std::string_view topic, int32_t partitions) {
  return log_->AddPartitions(topic, partitions);
}

Result<std::vector<std::string>> EmbeddedBroker::ListTopics() { return log_->ListTopics(); }

Result<broker::TopicDescription> EmbeddedBroker::DescribeTopic(std::string_view topic) {
  PINPIPE_ASSIGN_OR_RETURN(auto t, log_->GetTopic(topic));
  broker::TopicDescription d;
  d.name = t->name();
  const auto& e = t->effective();
  d.config.partitions = t->partition_count();
  d.config.fsync = e.fsync.ToString();
  d.config.retention_ms = e.retention_ms;
  d.config.retention_bytes = e.retention_bytes;
  d.config.segment_bytes = e.segment_bytes;
  d.config.segment_ms = e.segment_ms;
  for (int32_t i = 0; i < t->partition_count(); ++i) {
    auto* p = t->partition(i);
    broker::PartitionInfo info;
    info.partition = i;
    info.log_start_offset = p->log_start_offset();
    info.high_watermark = p->high_watermark();
    info.size_bytes = p->size_bytes();
    info.leader = 0;
    info.replicas = {0};
    d.partitions.push_back(std::move(info));
  }
  return d;
}

Result<std::shared_ptr<log::Partition>> EmbeddedBroker::GetPartition(std::string_view topic,
                                                                     int32_t partition) {
  PINPIPE_ASSIGN_OR_RETURN(auto t, log_->GetTopic(topic));
  if (partition < 0 || partition >= t->partition_count()) {
    return NotFoundError("partition " + std::to_string(partition) + " of topic '" +
                         std::string(topic) + "' does not exist (it has " +
                         std::to_string(t->partition_count()) + ")");
  }
  return t->shared_partition(partition);
}

struct EmbeddedBroker::Appended {
  std::shared_ptr<log::Topic> topic;
  std::vector<broker::ProduceAck> acks;  // partitions set; offsets once durable
  struct Part {
    int32_t partition;
    std::vector<size_t> records;  // indexes into acks, in append order
    Result<log::AppendInfo> info;
  };
  std::vector<Part> parts;

  // Fills the acks of `part` once its append is durable (or failed with `s`).
  void Settle(const Part& part, const Status& s) {
    for (size_t k = 0; k < part.records.size(); ++k) {
      broker::ProduceAck& ack = acks[part.records[k]];
      if (s.ok()) {
        ack.offset = part.info->base_offset + static_cast<int64_t>(k);
      } else {
        ack.error = s;
      }
    }
  }
};

// Writes every partition's records without waiting for durability, so that
// the partitions' group commits overlap instead of adding up.
Result<EmbeddedBroker::Appended> EmbeddedBroker::Append(std::string_view topic,
                                                        std::span<const Record> records) {
  Appended out;
  PINPIPE_ASSIGN_OR_RETURN(out.topic, log_->GetTopic(topic));
  const int32_t n = out.topic->partition_count();
  out.acks.resize(records.size());
  if (records.empty()) return out;
  int32_t sticky = -1;
  const int64_t now = log_->clock().NowMillis();
  std::vector<std::vector<size_t>> by_partition(static_cast<size_t>(n));
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    int32_t p = r.partition;
    if (p == broker::kAnyPartition) {
      if (r.key) {
        p = PartitionForKey(*r.key, n);
      } else {
        if (sticky < 0) {
          std::lock_guard lock(sticky_mu_);
          auto [it, inserted] = sticky_.try_emplace(std::string(topic), 0);
          sticky = it->second % n;
          it->second = (sticky + 1) % n;
        }
        p = sticky;
      }
    } else if (p < 0 || p >= n) {
      return NotFoundError("partition " + std::to_string(p) + " of topic '" + std::string(topic) +
                           "' does not exist (it has " + std::to_string(n) + ")");
    }
    if (r.timestamp_ms < -1) {
      return InvalidArgumentError("record timestamp " + std::to_string(r.timestamp_ms) +
                                  " is negative");
    }
    out.acks[i].partition = p;
    by_partition[static_cast<size_t>(p)].push_back(i);
  }
  std::vector<log::RecordView> views;
  for (int32_t p = 0; p < n; ++p) {
    auto& idx = by_partition[static_cast<size_t>(p)];
    if (idx.empty()) continue;
    views.clear();
    views.reserve(idx.size());
    for (size_t i : idx) {
      const Record& r = records[i];
      log::RecordView v;
      if (r.key) v.key = std::string_view(*r.key);
      if (r.value) v.value = std::string_view(*r.value);
      v.timestamp_ms = r.timestamp_ms < 0 ? now : r.timestamp_ms;
      for (const auto& h : r.headers) v.headers.emplace_back(h.key, h.value);
      views.push_back(std::move(v));
    }
    auto info = out.topic->partition(p)->Append(views);
    out.parts.push_back({p, std::move(idx), std::move(info)});
  }
  return out;
}

Status EmbeddedBroker::SetTopicMetadata(std::string_view topic,
                                        const broker::TopicMetadata& metadata) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : metadata) j[k] = v;
  // Invalid UTF-8 is written as U+FFFD rather than thrown on.
  return log_->WriteTopicMetadata(topic,
                                  j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<broker::TopicMetadata> EmbeddedBroker::GetTopicMetadata(std::string_view topic) {
  PINPIPE_ASSIGN_OR_RETURN(std::string text, log_->ReadTopicMetadata(topic));
  broker::TopicMetadata metadata;
  if (text.empty()) return metadata;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError("metadata of topic " + std::string(topic) + " is not a JSON object");
  }
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) metadata[k] = v.get<std::string>();
  }
  return metadata;
}

Result<std::vector<broker::ProduceAck>> EmbeddedBroker::Produce(std::string_view topic,
                                                                std::span<const Record> records) {
  PINPIPE_ASSIGN_OR_RETURN(Appended a, Append(topic, records));
  for (const auto& part : a.parts) {
    Status s = part.info.status();
    if (s.ok()) s = a.topic->partition(part.partition)->WaitDurable(part.info->next_offset);
    a.Settle(part, s);
  }
  return std::move(a.acks);
}

void EmbeddedBroker::ProduceAsync(std::string_view topic, std::span<const Record> records,
                                  ProduceCallback done) {
  auto appended = Append(topic, records);
  if (!appended.ok()) return done(appended.status());
  // The last partition to become durable answers; each settles only its own
  // acks, so the shared state needs no lock beyond the countdown.
  struct State {
    Appended a;
    std::atomic<size_t> left;
    ProduceCallback done;
  };
  auto state = std::make_shared<State>();
  state->a = std::move(*appended);
  state->left = state->a.parts.size();
  state->done = std::move(done);
  if (state->a.parts.empty()) return state->done(std::move(state->a.acks));
  for (size_t i = 0; i < state->a.parts.size(); ++i) {
    const auto& part = state->a.parts[i];
    auto settle = [state, i](Status s) {
      state->a.Settle(state->a.parts[i], s);
      if (state->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        state->done(std::move(state->a.acks));
      }
    };
    if (!part.info.ok()) {
      settle(part.info.status());
    } else {
      state->a.topic->partition(part.partition)->OnDurable(part.info->next_offset, settle);
    }
  }
}

Result<broker::FetchResult> EmbeddedBroker::Fetch(std::string_view topic, int32_t partition,
                                                  int64_t offset,
                                                  const broker::FetchOptions& options) {
  PINPIPE_ASSIGN_OR_RETURN(auto p, GetPartition(topic, partition));
  if (options.max_records <= 0 || options.max_bytes <= 0) {
    return InvalidArgumentError("max_records and max_bytes must be positive");
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(std::max<int64_t>(0, options.wait_ms));
  broker::FetchResult result;
  while (true) {
    const uint64_t seq = log_->notifier().sequence();
    PINPIPE_ASSIGN_OR_RETURN(
        auto recs, p->Read(offset, static_cast<size_t>(options.max_records), options.max_bytes));
    if (!recs.empty() || std::chrono::steady_clock::now() >= deadline) {
      result.records.reserve(recs.size());
      for (auto& r : recs) {
        broker::StoredRecord s;
        s.topic = std::string(topic);
        s.partition = partition;
        s.offset = r.offset;
        s.timestamp_ms = r.timestamp_ms;
        s.key = std::move(r.key);
        s.value = std::move(r.value);
        for (auto& [k, v] : r.headers) s.headers.push_back({std::move(k), std::move(v)});
        result.records.push_back(std::move(s));
      }
      break;
    }
    log_->notifier().WaitChange(seq, deadline);
  }
  result.high_watermark = p->high_watermark();
  result.log_start_offset = p->log_start_offset();
  return result;
}

Status EmbeddedBroker::ReadInto(std::string_view topic, int32_t partition, int64_t offset,
                                const broker::FetchOptions& options, log::ReadBuffer* out) {
  PINPIPE_ASSIGN_OR_RETURN(auto p, GetPartition(topic, partition));
  if (options.max_records <= 0 || options.max_bytes <= 0) {
    return InvalidArgumentError("max_records and max_bytes must be positive");
  }
  return p->ReadInto(offset, static_cast<size_t>(options.max_records), options.max_bytes, out);
}

Result<int64_t> EmbeddedBroker::OffsetForTimestamp(std::string_view topic, int32_t partition,
                                                   int64_t timestamp_ms) {
  PINPIPE_ASSIGN_OR_RETURN(auto p, GetPartition(topic, partition));
  return p->OffsetForTimestamp(timestamp_ms);
}

Status EmbeddedBroker::CommitOffsets(std::string_view group,
                                     const std::vector<TopicPartitionOffset>& offsets) {
  if (group.empty()) return InvalidArgumentError("consumer group id is empty");
  std::vector<log::OffsetEntry> entries;
  for (const auto& o : offsets) {
    PINPIPE_RETURN_IF_ERROR(GetPartition(o.topic, o.partition).status());
    if (o.offset < 0) {
      return InvalidArgumentError("negative offset for " + o.topic + "/" +
                                  std::to_string(o.partition));
    }
    entries.push_back({o.topic, o.partition, o.offset});
  }
  return log_->offsets().Commit(group, entries);
}

Result<std::vector<TopicPartitionOffset>> EmbeddedBroker::FetchCommittedOffsets(
    std::string_view group, std::string_view topic) {
  PINPIPE_RETURN_IF_ERROR(log_->GetTopic(topic).status());
  std::vector<TopicPartitionOffset> out;
  for (const auto& e : log_->offsets().Get(group, topic)) {
    out.push_back({e.topic, e.partition, e.offset});
  }
  return out;
}

Result<std::vector<std::string>> EmbeddedBroker::ListGroups() { return log_->offsets().Groups(); }

Result<std::unique_ptr<broker::Consumer>> EmbeddedBroker::CreateConsumer(
    const broker::ConsumerOptions& options) {
  static std::atomic<uint64_t> anonymous_ids{0};
  const bool anonymous = options.group.empty();
  std::string group =
      anonymous ? "\x01anonymous-" + std::to_string(++anonymous_ids) : options.group;
  return std::unique_ptr<broker::Consumer>(
      new EmbeddedConsumer(this, coordinator_.get(), options, std::move(group), anonymous));
}

}  // namespace pinpipe::embedded
