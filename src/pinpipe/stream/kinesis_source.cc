// StreamSource over the Kinesis API. Positions: "trim" (before the oldest
// record), "at:<ms>" (the first record arriving at or after a time, which is
// how an initial position of `latest` is pinned so a replay reads the same
// records), "after:<sequence number>".
#include <map>

#include "pinpipe/stream/kinesis_client.h"
#include "pinpipe/stream/source.h"

namespace pinpipe::stream {
namespace {

// Sequence numbers are decimal strings without leading zeros.
bool SequenceLessOrEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a <= b;
}

constexpr int64_t kPollIntervalMs = 200;  // Kinesis allows 5 GetRecords/s per shard

class KinesisStreamSource final : public StreamSource {
 public:
  KinesisStreamSource(const KinesisOptions& options, std::string stream, Clock* clock)
      : client_(options), stream_(std::move(stream)), clock_(clock) {}

  const std::string& stream() const override { return stream_; }

  Result<std::vector<std::string>> Shards() override { return client_.ListShards(stream_); }

  Result<std::string> StartPosition(const std::string& shard, InitialPosition initial) override {
    (void)shard;
    if (initial == InitialPosition::kEarliest) return std::string("trim");
    return "at:" + std::to_string(clock_->NowMillis());
  }

  Result<ShardRead> Read(const std::string& shard, const std::string& position,
                         const std::string& until, int max_records, int64_t wait_ms) override {
    ShardRead read;
    read.next_position = position;
    if (!until.empty() && until == position) return read;
    std::string until_seq;
    if (!until.empty()) {
      if (until.rfind("after:", 0) != 0)
        return InvalidArgumentError("bad end position '" + until + "'");
      until_seq = until.substr(6);
    }
    const int64_t deadline = clock_->MonotonicMicros() + wait_ms * 1000;
    while (true) {
      PINPIPE_ASSIGN_OR_RETURN(std::string iterator, IteratorFor(shard, position));
      auto got = client_.GetRecords(iterator, std::min(max_records, 10'000));
      if (!got.ok() && got.status().code() == StatusCode::kOutOfRange) {
        iterators_.erase(shard);  // expired: ask for a fresh one
        PINPIPE_ASSIGN_OR_RETURN(iterator, IteratorFor(shard, position));
        got = client_.GetRecords(iterator, std::min(max_records, 10'000));
      }
      if (!got.ok()) return got.status();
      read.millis_behind = got->millis_behind;
      bool reached_until = false;
      for (auto& r : got->records) {
        if (!until_seq.empty() && !SequenceLessOrEqual(r.sequence_number, until_seq)) {
          reached_until = true;
          break;
        }
        SourceRecord out;
        out.data = std::move(r.data);
        out.arrival_ms = r.arrival_ms;
        out.position = "after:" + r.sequence_number;
        read.next_position = out.position;
        read.records.push_back(std::move(out));
        if (!until_seq.empty() && r.sequence_number == until_seq) {
          reached_until = true;
          break;
        }
      }
      // Remember where the server's next iterator points, unless we stopped early.
      iterators_.erase(shard);
      if (!reached_until && !got->next_iterator.empty()) {
        iterators_[shard] = {read.next_position, got->next_iterator};
      }
      if (!read.records.empty() || reached_until || clock_->MonotonicMicros() >= deadline) {
        return read;
      }
      clock_->SleepMicros(kPollIntervalMs * 1000);
    }
  }

 private:
  Result<std::string> IteratorFor(const std::string& shard, const std::string& position) {
    if (auto it = iterators_.find(shard); it != iterators_.end() && it->second.first == position) {
      return it->second.second;
    }
    if (position == "trim") return client_.GetShardIterator(stream_, shard, "TRIM_HORIZON");
    if (position.rfind("at:", 0) == 0) {
      return client_.GetShardIterator(stream_, shard, "AT_TIMESTAMP", position.substr(3));
    }
    if (position.rfind("after:", 0) == 0) {
      return client_.GetShardIterator(stream_, shard, "AFTER_SEQUENCE_NUMBER", position.substr(6));
    }
    return InvalidArgumentError("bad Kinesis position '" + position + "'");
  }

  KinesisClient client_;
  std::string stream_;
  Clock* clock_;
  std::map<std::string, std::pair<std::string, std::string>>
      iterators_;  // shard -> (position, iterator)
};

}  // namespace

Result<std::unique_ptr<StreamSource>> NewKinesisStreamSource(const KinesisOptions& options,
                                                             std::string stream, Clock* clock) {
  if (options.endpoint.empty()) return InvalidArgumentError("a Kinesis endpoint is required");
  return std::unique_ptr<StreamSource>(new KinesisStreamSource(
      options, std::move(stream), clock != nullptr ? clock : &Clock::Real()));
}

}  // namespace pinpipe::stream
