#include "memory_broker.h"

#include <chrono>
#include <functional>
#include <regex>
#include <thread>

namespace pinpipe::testing {
namespace {

class MemoryConsumer final : public broker::Consumer {
 public:
  MemoryConsumer(MemoryBroker* broker, broker::ConsumerOptions options)
      : broker_(broker), options_(std::move(options)) {}

  Status Subscribe(const std::vector<std::string>& topics, bool is_pattern) override {
    topics_ = topics;
    is_pattern_ = is_pattern;
    if (is_pattern) {
      for (const auto& t : topics) {
        try {
          std::regex re(t);
        } catch (const std::regex_error&) {
          return InvalidArgumentError("bad topic pattern '" + t + "'");
        }
      }
    }
    return Status::Ok();
  }
  void SetRebalanceListener(broker::RebalanceListener listener) override {
    listener_ = std::move(listener);
  }
  Result<std::vector<broker::StoredRecord>> Poll(int32_t max_records, int64_t timeout_ms) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      Refresh();
      std::vector<broker::StoredRecord> out;
      for (auto& [tp, pos] : positions_) {
        if (static_cast<int32_t>(out.size()) >= max_records) break;
        broker::FetchOptions fo;
        fo.max_records = max_records - static_cast<int32_t>(out.size());
        auto r = broker_->Fetch(tp.topic, tp.partition, pos, fo);
        if (!r.ok()) continue;
        for (auto& rec : r->records) {
          pos = rec.offset + 1;
          out.push_back(std::move(rec));
        }
      }
      if (!out.empty() || std::chrono::steady_clock::now() >= deadline) return out;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  Result<std::span<const broker::RecordRef>> PollRefs(int32_t max_records,
                                                      int64_t timeout_ms) override {
    PINPIPE_ASSIGN_OR_RETURN(auto records, Poll(max_records, timeout_ms));
    return polled_.Hold(std::move(records));
  }
  Status Commit(const std::vector<broker::TopicPartitionOffset>& offsets) override {
    return broker_->CommitOffsets(options_.group, offsets);
  }
  Result<std::vector<broker::TopicPartitionOffset>> Committed(
      const std::vector<broker::TopicPartition>& partitions) override {
    std::vector<broker::TopicPartitionOffset> out;
    for (const auto& tp : partitions) {
      PINPIPE_ASSIGN_OR_RETURN(auto all, broker_->FetchCommittedOffsets(options_.group, tp.topic));
      for (auto& o : all) {
        if (o.partition == tp.partition) out.push_back(o);
      }
    }
    return out;
  }
  Status Seek(const broker::TopicPartition& tp, int64_t offset) override {
    Refresh();
    auto it = positions_.find(tp);
    if (it == positions_.end()) return FailedPreconditionError("partition not assigned");
    it->second = offset;
    return Status::Ok();
  }
  std::vector<broker::TopicPartition> Assignment() override {
    Refresh();
    std::vector<broker::TopicPartition> out;
    for (auto& [tp, pos] : positions_) out.push_back(tp);
    return out;
  }
  Status Close() override { return Status::Ok(); }

 private:
  void Refresh() {
    auto all = broker_->ListTopics();
    if (!all.ok()) return;
    for (const auto& name : *all) {
      bool match = false;
      for (const auto& t : topics_) {
        if (is_pattern_ ? std::regex_match(name, std::regex(t)) : name == t) match = true;
      }
      if (!match) continue;
      auto desc = broker_->DescribeTopic(name);
      if (!desc.ok()) continue;
      auto committed = broker_->FetchCommittedOffsets(options_.group, name);
      for (const auto& p : desc->partitions) {
        broker::TopicPartition tp{name, p.partition};
        if (positions_.count(tp)) continue;
        int64_t pos = options_.reset == broker::OffsetReset::kEarliest ? p.log_start_offset
                                                                       : p.high_watermark;
        if (committed.ok()) {
          for (auto& c : *committed) {
            if (c.partition == p.partition) pos = c.offset;
          }
        }
        positions_[tp] = pos;
      }
    }
  }

  MemoryBroker* broker_;
  broker::ConsumerOptions options_;
  std::vector<std::string> topics_;
  bool is_pattern_ = false;
  broker::RebalanceListener listener_;
  std::map<broker::TopicPartition, int64_t> positions_;
  broker::PolledRecords polled_;
};

}  // namespace

Status MemoryBroker::CreateTopic(std::string_view topic, const broker::TopicConfig& config) {
  if (topic.empty()) return InvalidArgumentError("topic name is empty");
  if (config.partitions < 1) return InvalidArgumentError("partitions must be >= 1");
  std::lock_guard lock(mu_);
  if (topics_.count(topic)) return AlreadyExistsError("topic '" + std::string(topic) + "' exists");
  Topic t;
  t.config = config;
  t.partitions.resize(config.partitions);
  topics_.emplace(std::string(topic), std::move(t));
  return Status::Ok();
}

Status MemoryBroker::DeleteTopic(std::string_view topic) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  topics_.erase(it);
  return Status::Ok();
}

Status MemoryBroker::AlterTopicConfig(std::string_view topic, const broker::TopicConfig& config,
                                      bool validate_only) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  if (config.retention_ms < -1 || config.retention_bytes < -1 || config.segment_bytes < 0 ||
      config.segment_ms < 0) {
    return InvalidArgumentError("negative topic setting");
  }
  if (validate_only) return Status::Ok();
  const int32_t partitions = it->second.config.partitions;
  it->second.config = config;
  it->second.config.partitions = partitions;
  return Status::Ok();
}

Result<std::vector<std::string>> MemoryBroker::ListGroups() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, offsets] : committed_) {
    if (!offsets.empty() && (out.empty() || out.back() != key.first)) out.push_back(key.first);
  }
  return out;
}

Result<std::vector<std::string>> MemoryBroker::ListTopics() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, t] : topics_) out.push_back(name);
  return out;
}

Result<broker::TopicDescription> MemoryBroker::DescribeTopic(std::string_view topic) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  broker::TopicDescription d;
  d.name = it->first;
  d.config = it->second.config;
  for (size_t p = 0; p < it->second.partitions.size(); ++p) {
    broker::PartitionInfo info;
    info.partition = static_cast<int32_t>(p);
    info.high_watermark = static_cast<int64_t>(it->second.partitions[p].size());
    for (const auto& r : it->second.partitions[p]) {
      info.size_bytes +=
          static_cast<int64_t>(r.value.value_or("").size() + r.key.value_or("").size());
    }
    info.replicas = {0};
    d.partitions.push_back(info);
  }
  return d;
}

Status MemoryBroker::SetTopicMetadata(std::string_view topic,
                                      const broker::TopicMetadata& metadata) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  it->second.metadata = metadata;
  return Status::Ok();
}

Result<broker::TopicMetadata> MemoryBroker::GetTopicMetadata(std::string_view topic) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  return it->second.metadata;
}

Result<std::vector<broker::ProduceAck>> MemoryBroker::Produce(
    std::string_view topic, std::span<const broker::Record> records) {
  std::lock_guard lock(mu_);
  if (!produce_error_.ok()) return produce_error_;
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  Topic& t = it->second;
  const auto n = static_cast<int32_t>(t.partitions.size());
  for (const auto& r : records) {
    if (r.partition != broker::kAnyPartition && (r.partition < 0 || r.partition >= n)) {
      return InvalidArgumentError("partition " + std::to_string(r.partition) + " out of range");
    }
  }
  std::vector<broker::ProduceAck> acks;
  acks.reserve(records.size());
  const int64_t now = clock_->NowMillis();
  for (const auto& r : records) {
    int32_t p = r.partition;
    if (p == broker::kAnyPartition) {
      p = r.key ? static_cast<int32_t>(std::hash<std::string>{}(*r.key) % n)
                : static_cast<int32_t>(t.round_robin++ % n);
    }
    auto& part = t.partitions[p];
    broker::StoredRecord s;
    s.topic = it->first;
    s.partition = p;
    s.offset = static_cast<int64_t>(part.size());
    s.timestamp_ms = r.timestamp_ms >= 0 ? r.timestamp_ms : now;
    s.key = r.key;
    s.value = r.value;
    s.headers = r.headers;
    acks.push_back({p, s.offset, Status::Ok()});
    part.push_back(std::move(s));
  }
  ++produce_calls_;
  return acks;
}

Result<broker::FetchResult> MemoryBroker::Fetch(std::string_view topic, int32_t partition,
                                                int64_t offset,
                                                const broker::FetchOptions& options) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  if (partition < 0 || partition >= static_cast<int32_t>(it->second.partitions.size())) {
    return NotFoundError("partition not found");
  }
  const auto& part = it->second.partitions[partition];
  const auto hwm = static_cast<int64_t>(part.size());
  if (offset < 0 || offset > hwm) return OutOfRangeError("offset out of range");
  broker::FetchResult out;
  out.high_watermark = hwm;
  int64_t bytes = 0;
  for (int64_t o = offset;
       o < hwm && static_cast<int32_t>(out.records.size()) < options.max_records; ++o) {
    bytes += static_cast<int64_t>(part[o].value.value_or("").size());
    if (!out.records.empty() && bytes > options.max_bytes) break;
    out.records.push_back(part[o]);
  }
  return out;
}

Result<int64_t> MemoryBroker::OffsetForTimestamp(std::string_view topic, int32_t partition,
                                                 int64_t timestamp_ms) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFoundError("topic '" + std::string(topic) + "' not found");
  if (partition < 0 || partition >= static_cast<int32_t>(it->second.partitions.size())) {
    return NotFoundError("partition not found");
  }
  const auto& part = it->second.partitions[partition];
  for (const auto& r : part) {
    if (r.timestamp_ms >= timestamp_ms) return r.offset;
  }
  return static_cast<int64_t>(part.size());
}

Status MemoryBroker::CommitOffsets(std::string_view group,
                                   const std::vector<broker::TopicPartitionOffset>& offsets) {
  std::lock_guard lock(mu_);
  for (const auto& o : offsets) {
    committed_[{std::string(group), o.topic}][o.partition] = o.offset;
  }
  return Status::Ok();
}

Result<std::vector<broker::TopicPartitionOffset>> MemoryBroker::FetchCommittedOffsets(
    std::string_view group, std::string_view topic) {
  std::lock_guard lock(mu_);
  std::vector<broker::TopicPartitionOffset> out;
  auto it = committed_.find({std::string(group), std::string(topic)});
  if (it == committed_.end()) return out;
  for (auto& [p, o] : it->second) out.push_back({std::string(topic), p, o});
  return out;
}

Result<std::unique_ptr<broker::Consumer>> MemoryBroker::CreateConsumer(
    const broker::ConsumerOptions& options) {
  return std::unique_ptr<broker::Consumer>(new MemoryConsumer(this, options));
}

void MemoryBroker::SetProduceError(Status status) {
  std::lock_guard lock(mu_);
  produce_error_ = std::move(status);
}

int64_t MemoryBroker::produce_calls() const {
  std::lock_guard lock(mu_);
  return produce_calls_;
}

}  // namespace pinpipe::testing
