// StreamSource over a Broker topic.
#include <algorithm>
#include <charconv>

#include "pinpipe/broker/broker.h"
#include "pinpipe/stream/source.h"

namespace pinpipe::stream {
namespace {

Result<int64_t> ParseOffset(const std::string& position) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(position.data(), position.data() + position.size(), v);
  if (ec != std::errc() || p != position.data() + position.size() || v < 0) {
    return InvalidArgumentError("bad stream position '" + position + "'");
  }
  return v;
}

Result<int32_t> ParsePartition(const std::string& shard) {
  int32_t v = 0;
  auto [p, ec] = std::from_chars(shard.data(), shard.data() + shard.size(), v);
  if (ec != std::errc() || p != shard.data() + shard.size() || v < 0) {
    return InvalidArgumentError("bad shard '" + shard + "'");
  }
  return v;
}

class BrokerStreamSource final : public StreamSource {
 public:
  BrokerStreamSource(broker::Broker& broker, std::string topic, Clock* clock)
      : broker_(broker), topic_(std::move(topic)), clock_(clock) {}

  const std::string& stream() const override { return topic_; }

  Result<std::vector<std::string>> Shards() override {
    PINPIPE_ASSIGN_OR_RETURN(auto description, broker_.DescribeTopic(topic_));
    std::vector<std::string> shards;
    for (const auto& p : description.partitions) shards.push_back(std::to_string(p.partition));
    return shards;
  }

  Result<std::string> StartPosition(const std::string& shard, InitialPosition initial) override {
    PINPIPE_ASSIGN_OR_RETURN(int32_t partition, ParsePartition(shard));
    PINPIPE_ASSIGN_OR_RETURN(auto description, broker_.DescribeTopic(topic_));
    for (const auto& p : description.partitions) {
      if (p.partition == partition) {
        return std::to_string(initial == InitialPosition::kEarliest ? p.log_start_offset
                                                                    : p.high_watermark);
      }
    }
    return NotFoundError("topic '" + topic_ + "' has no partition " + shard);
  }

  Result<ShardRead> Read(const std::string& shard, const std::string& position,
                         const std::string& until, int max_records, int64_t wait_ms) override {
    PINPIPE_ASSIGN_OR_RETURN(int32_t partition, ParsePartition(shard));
    PINPIPE_ASSIGN_OR_RETURN(int64_t offset, ParseOffset(position));
    int64_t limit = -1;
    if (!until.empty()) {
      PINPIPE_ASSIGN_OR_RETURN(limit, ParseOffset(until));
      if (limit <= offset) return ShardRead{{}, position, 0};
      max_records = static_cast<int>(std::min<int64_t>(max_records, limit - offset));
    }
    broker::FetchOptions options;
    options.max_records = max_records;
    options.wait_ms = wait_ms;
    PINPIPE_ASSIGN_OR_RETURN(auto fetched, broker_.Fetch(topic_, partition, offset, options));
    ShardRead read;
    read.next_position = position;
    int64_t newest_ms = 0;
    for (auto& r : fetched.records) {
      if (limit >= 0 && r.offset >= limit) break;
      SourceRecord out;
      out.data = r.value.value_or("");
      out.arrival_ms = r.timestamp_ms;
      out.position = std::to_string(r.offset + 1);
      newest_ms = r.timestamp_ms;
      read.next_position = out.position;
      read.records.push_back(std::move(out));
    }
    // Lag: how old the newest returned record is when more remain behind it.
    const int64_t next = std::stoll(read.next_position);
    if (next < fetched.high_watermark && newest_ms > 0) {
      read.millis_behind = std::max<int64_t>(0, clock_->NowMillis() - newest_ms);
    }
    return read;
  }

 private:
  broker::Broker& broker_;
  std::string topic_;
  Clock* clock_;
};

}  // namespace

std::unique_ptr<StreamSource> NewBrokerStreamSource(broker::Broker& broker, std::string topic,
                                                    Clock* clock) {
  return std::make_unique<BrokerStreamSource>(broker, std::move(topic),
                                              clock != nullptr ? clock : &Clock::Real());
}

}  // namespace pinpipe::stream
