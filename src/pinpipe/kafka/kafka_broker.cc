#include "pinpipe/kafka/kafka_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <regex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "pinpipe/kafka/kafka_errors.h"

namespace pinpipe::kafka {
namespace {

using broker::FetchResult;
using broker::ProduceAck;
using broker::StoredRecord;
using broker::TopicPartition;
using broker::TopicPartitionOffset;
using Clock = std::chrono::steady_clock;

constexpr char kTimeoutKey[] = "pinpipe.timeout.ms";
constexpr char kMockBrokersKey[] = "test.mock.num.brokers";
// The compacted topic that holds every topic's metadata (see SetTopicMetadata).
constexpr char kMetadataTopic[] = "__pinpipe_topic_metadata";
constexpr auto kTopicCacheTtl = std::chrono::seconds(5);
constexpr auto kNegativeTtl = std::chrono::milliseconds(500);
constexpr size_t kMaxIdleFetchers = 8;

// ---- RAII for librdkafka objects -------------------------------------------

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
using AdminOptions = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using Error = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

int ToIntMs(int64_t ms) {
  if (ms < 0) return 0;
  return ms > INT32_MAX ? INT32_MAX : static_cast<int>(ms);
}

int64_t RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max<int64_t>(0, left.count());
}

// librdkafka logs (syslog levels) go to spdlog like every other pinpipe log line.
void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const char* name = rd_kafka_name(rk);
  // Every kafka.* key goes to the producer and to the consumers alike, so
  // librdkafka's "consumer property ... ignored by this producer" (and the
  // reverse) is expected, not worth a warning on every start.
  if (level == 4 && std::string_view(facility) == "CONFWARN" &&
      std::string_view(message).find("will be ignored by this") != std::string_view::npos) {
    level = 7;
  }
  if (level <= 3) {
    spdlog::error("rdkafka {} {}: {}", name, facility, message);
  } else if (level == 4) {
    spdlog::warn("rdkafka {} {}: {}", name, facility, message);
  } else if (level <= 6) {
    spdlog::info("rdkafka {} {}: {}", name, facility, message);
  } else {
    spdlog::debug("rdkafka {} {}: {}", name, facility, message);
  }
}

// Errors librdkafka reports outside any call (a broker went away, ...). They
// are retried internally; the calls that depend on them report the outcome.
void OnError(rd_kafka_t* rk, int err, const char* reason, void* /*opaque*/) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, buf, sizeof buf);
    spdlog::error("rdkafka {}: fatal error {}: {}", rd_kafka_name(rk), rd_kafka_err2name(fatal),
                  buf);
    return;
  }
  spdlog::debug("rdkafka {}: {}: {}", rd_kafka_name(rk), rd_kafka_err2name(code), reason);
}

// Builds a client handle: `properties` (already merged from defaults, user
// settings and forced values) plus callbacks set by `setup`.
template <typename Setup>
Result<Handle> NewHandle(rd_kafka_type_t type, const Properties& properties, Setup&& setup) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgumentError("kafka." + key + ": " + err);
    }
  }
  rd_kafka_conf_set_log_cb(conf, OnLog);
  rd_kafka_conf_set_error_cb(conf, OnError);
  setup(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgumentError(std::string("kafka client: ") + err);
  }
  return Handle(rk);
}

Properties Merge(Properties defaults, const Properties& user, const Properties& forced) {
  for (const auto& [k, v] : user) defaults[k] = v;
  for (const auto& [k, v] : forced) defaults[k] = v;
  return defaults;
}

PartitionList NewList(int size) {
  return PartitionList(rd_kafka_topic_partition_list_new(size < 1 ? 1 : size));
}

std::vector<TopicPartition> ToTopicPartitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// First per-partition error of a list that a call filled in.
Status ListStatus(const rd_kafka_topic_partition_list_t* list, std::string_view context) {
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaStatus(list->elems[i].err, std::string(context) + " " + list->elems[i].topic +
                                                 "[" + std::to_string(list->elems[i].partition) +
                                                 "]");
    }
  }
  return Status::Ok();
}

StoredRecord ToStoredRecord(const rd_kafka_message_t* m) {
  StoredRecord r;
  r.topic = rd_kafka_topic_name(m->rkt);
  r.partition = m->partition;
  r.offset = m->offset;
  rd_kafka_timestamp_type_t ts_type;
  r.timestamp_ms = rd_kafka_message_timestamp(m, &ts_type);
  if (m->key != nullptr) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) r.value.emplace(static_cast<const char*>(m->payload), m->len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      r.headers.push_back({name, value == nullptr
                                     ? std::string()
                                     : std::string(static_cast<const char*>(value), size)});
    }
  }
  return r;
}

int64_t RecordBytes(const StoredRecord& r) {
  int64_t n = 0;
  if (r.key) n += static_cast<int64_t>(r.key->size());
  if (r.value) n += static_cast<int64_t>(r.value->size());
  for (const auto& h : r.headers) n += static_cast<int64_t>(h.key.size() + h.value.size());
  return n;
}

// Kafka's legal topic names: [a-zA-Z0-9._-]{1,249}, not "." or "..".
Status ValidateTopicName(std::string_view topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") {
    return InvalidArgumentError("invalid topic name '" + std::string(topic) + "'");
  }
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return InvalidArgumentError("invalid topic name '" + std::string(topic) + "'");
  }
  return Status::Ok();
}

// ---- Produce bookkeeping ----------------------------------------------------

// One Produce call waiting for its delivery reports.
struct ProduceBatch {
  std::mutex mu;
  std::condition_variable done;
  size_t pending = 0;
  std::vector<ProduceAck> acks;
};

// The opaque of one message: which ack slot its delivery report fills.
struct MessageRef {
  ProduceBatch* batch = nullptr;
  size_t index = 0;
};

void Complete(ProduceBatch* batch, size_t index, ProduceAck ack) {
  std::lock_guard lock(batch->mu);
  batch->acks[index] = std::move(ack);
  if (--batch->pending == 0) batch->done.notify_all();
}

// Runs on the producer's poll thread for every message, exactly once.
void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*opaque*/) {
  auto* ref = static_cast<MessageRef*>(m->_private);
  ProduceAck ack;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ack.error = KafkaStatus(m->err, "produce");
  } else {
    ack.partition = m->partition;
    ack.offset = m->offset;
  }
  Complete(ref->batch, ref->index, std::move(ack));
}

// ---- Group consumer --------------------------------------------------------

class KafkaConsumer final : public broker::Consumer {
 public:
  KafkaConsumer(int64_t timeout_ms, int64_t pattern_refresh_ms)
      : timeout_ms_(timeout_ms), pattern_refresh_ms_(pattern_refresh_ms) {}

  ~KafkaConsumer() override {
    if (rk_ != nullptr) {
      Status s = Close();
      if (!s.ok()) spdlog::warn("kafka consumer close: {}", s.ToString());
    }
  }

  // Creates the librdkafka consumer; `this` is the callbacks' opaque, so the
  // object must not move afterwards (it lives behind a unique_ptr).
  Status Init(const Properties& properties) {
    PINPIPE_ASSIGN_OR_RETURN(
        rk_, NewHandle(RD_KAFKA_CONSUMER, properties, [this](rd_kafka_conf_t* conf) {
          rd_kafka_conf_set_opaque(conf, this);
          rd_kafka_conf_set_rebalance_cb(conf, OnRebalance);
        }));
    rd_kafka_poll_set_consumer(rk_.get());
    return Status::Ok();
  }

  Status Subscribe(const std::vector<std::string>& topics, bool is_pattern) override {
    if (closed_) return FailedPreconditionError("consumer is closed");
    if (topics.empty()) return InvalidArgumentError("subscribe: no topics");
    patterns_.clear();
    if (is_pattern) {
      for (const auto& p : topics) {
        try {
          patterns_.emplace_back(p, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          patterns_.clear();
          return InvalidArgumentError("subscribe: bad topic pattern '" + p + "': " + e.what());
        }
      }
      subscribed_.clear();
      return RefreshPatternSubscription();
    }
    for (const auto& t : topics) PINPIPE_RETURN_IF_ERROR(ValidateTopicName(t));
    return SubscribeTo(std::set<std::string>(topics.begin(), topics.end()));
  }

  void SetRebalanceListener(broker::RebalanceListener listener) override {
    listener_ = std::move(listener);
  }

  Result<std::vector<StoredRecord>> Poll(int32_t max_records, int64_t timeout_ms) override {
    if (closed_) return FailedPreconditionError("consumer is closed");
    if (!patterns_.empty() && Clock::now() >= next_pattern_refresh_) {
      Status s = RefreshPatternSubscription();
      if (!s.ok()) spdlog::warn("kafka consumer: topic pattern refresh: {}", s.ToString());
    }
    std::vector<StoredRecord> out;
    if (max_records <= 0) return out;
    const auto deadline =
        Clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms));
    while (static_cast<int32_t>(out.size()) < max_records) {
      // Wait only for the first record; then take what is already buffered.
      int wait = out.empty() ? ToIntMs(RemainingMs(deadline)) : 0;
      Message m(rd_kafka_consumer_poll(rk_.get(), wait));
      if (m == nullptr) {
        if (out.empty() && RemainingMs(deadline) > 0) continue;
        break;
      }
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
          char buf[512];
          rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk_.get(), buf, sizeof buf);
          return KafkaStatus(fatal, "consumer (fatal)", buf);
        }
        // Consumer errors are informational (librdkafka keeps retrying), but
        // an unknown subscribed topic or a denied group must not be silent.
        Status s = KafkaStatus(m->err, "consumer", rd_kafka_message_errstr(m.get()));
        if (s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kUnauthenticated) {
          return s;
        }
        spdlog::warn("kafka consumer: {}", s.ToString());
        continue;
      }
      out.push_back(ToStoredRecord(m.get()));
    }
    return out;
  }

  Result<std::span<const broker::RecordRef>> PollRefs(int32_t max_records,
                                                      int64_t timeout_ms) override {
    PINPIPE_ASSIGN_OR_RETURN(auto records, Poll(max_records, timeout_ms));
    return polled_.Hold(std::move(records));
  }

  Status Commit(const std::vector<TopicPartitionOffset>& offsets) override {
    if (closed_) return FailedPreconditionError("consumer is closed");
    if (offsets.empty()) return Status::Ok();
    PartitionList list = NewList(static_cast<int>(offsets.size()));
    for (const auto& o : offsets) {
      if (o.offset < 0) return InvalidArgumentError("commit: negative offset");
      rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset =
          o.offset;
    }
    PINPIPE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_commit(rk_.get(), list.get(), 0), "commit"));
    return ListStatus(list.get(), "commit");
  }

  Result<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions) override {
    if (closed_) return FailedPreconditionError("consumer is closed");
    std::vector<TopicPartitionOffset> out;
    if (partitions.empty()) return out;
    PartitionList list = NewList(static_cast<int>(partitions.size()));
    for (const auto& tp : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
    }
    PINPIPE_RETURN_IF_ERROR(KafkaStatus(
        rd_kafka_committed(rk_.get(), list.get(), ToIntMs(timeout_ms_)), "committed offsets"));
    PINPIPE_RETURN_IF_ERROR(ListStatus(list.get(), "committed offsets"));
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      if (e.offset >= 0) out.push_back({e.topic, e.partition, e.offset});
    }
    return out;
  }

  Status Seek(const TopicPartition& tp, int64_t offset) override {
    if (closed_) return FailedPreconditionError("consumer is closed");
    if (offset < 0) return InvalidArgumentError("seek: negative offset");
    auto assigned = Assignment();
    if (std::find(assigned.begin(), assigned.end(), tp) == assigned.end()) {
      return FailedPreconditionError("seek: " + tp.topic + "[" + std::to_string(tp.partition) +
                                     "] is not assigned to this consumer");
    }
    PartitionList list = NewList(1);
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
    Error err(rd_kafka_seek_partitions(rk_.get(), list.get(), ToIntMs(timeout_ms_)));
    if (err != nullptr) {
      return KafkaStatus(rd_kafka_error_code(err.get()), "seek", rd_kafka_error_string(err.get()));
    }
    return ListStatus(list.get(), "seek");
  }

  std::vector<TopicPartition> Assignment() override {
    if (closed_) return {};
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    PartitionList list(raw);
    return ToTopicPartitions(list.get());
  }

  Status Close() override {
    if (closed_) return Status::Ok();
    // Runs the rebalance callback (on_revoke, which may still commit and read
    // the assignment) and leaves the group.
    Status s = KafkaStatus(rd_kafka_consumer_close(rk_.get()), "consumer close");
    closed_ = true;
    rk_.reset();
    return s;
  }

 private:
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<KafkaConsumer*>(opaque)->Rebalance(rk, err, partitions);
  }

  void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    auto tps = ToTopicPartitions(partitions);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) {
        Error e(rd_kafka_incremental_assign(rk, partitions));
        if (e) spdlog::error("kafka consumer: assign: {}", rd_kafka_error_string(e.get()));
      } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, partitions);
        if (e) spdlog::error("kafka consumer: assign: {}", rd_kafka_err2str(e));
      }
      spdlog::debug("kafka consumer {}: assigned {} partitions", rd_kafka_name(rk), tps.size());
      if (listener_.on_assign) listener_.on_assign(tps);
      return;
    }
    // Revoke (or any error): tell the owner first, while the partitions are
    // still assigned and commits for them are still accepted.
    if (rd_kafka_assignment_lost(rk)) {
      spdlog::warn("kafka consumer {}: partitions lost (session timed out); commits will fail",
                   rd_kafka_name(rk));
    }
    if (listener_.on_revoke) listener_.on_revoke(tps);
    if (cooperative) {
      Error e(rd_kafka_incremental_unassign(rk, partitions));
      if (e) spdlog::error("kafka consumer: unassign: {}", rd_kafka_error_string(e.get()));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }

  Status SubscribeTo(const std::set<std::string>& topics) {
    if (topics == subscribed_ && !topics.empty()) return Status::Ok();
    if (topics.empty()) {
      subscribed_.clear();
      return KafkaStatus(rd_kafka_unsubscribe(rk_.get()), "unsubscribe");
    }
    PartitionList list = NewList(static_cast<int>(topics.size()));
    for (const auto& t : topics) {
      rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    PINPIPE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_subscribe(rk_.get(), list.get()), "subscribe"));
    subscribed_ = topics;
    return Status::Ok();
  }

  // Pattern subscriptions match full topic names with std::regex (ECMAScript,
  // as broker.h promises) rather than librdkafka's POSIX "^" regexes; the
  // matching set is re-evaluated from metadata every pattern_refresh_ms_.
  Status RefreshPatternSubscription() {
    next_pattern_refresh_ = Clock::now() + std::chrono::milliseconds(pattern_refresh_ms_);
    const rd_kafka_metadata_t* raw = nullptr;
    PINPIPE_RETURN_IF_ERROR(KafkaStatus(
        rd_kafka_metadata(rk_.get(), 1, nullptr, &raw, ToIntMs(timeout_ms_)), "metadata"));
    Metadata md(raw);
    std::set<std::string> matched;
    for (int i = 0; i < md->topic_cnt; ++i) {
      std::string name = md->topics[i].topic;
      if (name.rfind("__", 0) == 0) continue;  // internal topics
      for (const auto& re : patterns_) {
        if (std::regex_match(name, re)) {
          matched.insert(name);
          break;
        }
      }
    }
    return SubscribeTo(matched);
  }

  Handle rk_;
  int64_t timeout_ms_;
  int64_t pattern_refresh_ms_;
  bool closed_ = false;
  broker::PolledRecords polled_;  // what PollRefs hands out views of
  broker::RebalanceListener listener_;
  std::vector<std::regex> patterns_;
  std::set<std::string> subscribed_;
  Clock::time_point next_pattern_refresh_{};
};

// ---- Broker ----------------------------------------------------------------

// A consumer handle used for Broker::Fetch: assigned to one partition at a
// time, never joins a group, keeps what it prefetched for the next call that
// continues where this one stopped.
struct Fetcher {
  Handle rk;
  std::optional<TopicPartition> tp;
  int64_t next_offset = -1;
  std::optional<StoredRecord> stash;  // read but not returned (max_bytes)
};

// pinpipe's fsync policy as Kafka's topic settings: always -> flush.messages=1,
// interval:N -> flush.ms=N, never or empty -> nothing (the page cache).
Status AppendFsyncConfig(const std::string& fsync,
                         std::vector<std::pair<std::string, std::string>>* configs) {
  if (fsync == "always") {
    configs->emplace_back("flush.messages", "1");
  } else if (fsync.rfind("interval:", 0) == 0) {
    auto ms = ParseInt(fsync.substr(9));
    if (!ms.ok() || *ms <= 0) return InvalidArgumentError("bad fsync '" + fsync + "'");
    configs->emplace_back("flush.ms", std::to_string(*ms));
  } else if (!fsync.empty() && fsync != "never") {
    return InvalidArgumentError("bad fsync '" + fsync + "'");
  }
  return Status::Ok();
}

class KafkaBroker final : public broker::Broker {
 public:
  ~KafkaBroker() override {
    stop_ = true;
    if (poller_.joinable()) poller_.join();
    if (producer_ != nullptr) {
      rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), ToIntMs(timeout_ms_));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::warn("kafka producer: flush on shutdown: {}", rd_kafka_err2str(err));
      }
    }
    fetchers_.clear();
    groups_.clear();
    producer_.reset();
  }

  Status Init(const Properties& user) {
    Properties props = user;
    if (auto it = props.find(kTimeoutKey); it != props.end()) {
      PINPIPE_ASSIGN_OR_RETURN(timeout_ms_, ParseInt(it->second));
      if (timeout_ms_ <= 0) return InvalidArgumentError("kafka.pinpipe.timeout.ms must be > 0");
      props.erase(it);
    }
    const bool mock = props.count(kMockBrokersKey) > 0;
    if (!mock && props.count("bootstrap.servers") == 0 &&
        props.count("metadata.broker.list") == 0) {
      return InvalidArgumentError(
          "kafka.bootstrap.servers is not set (or PINPIPE_KAFKA_BOOTSTRAP_SERVERS)");
    }
    pattern_refresh_ms_ = 5000;
    if (auto it = props.find("topic.metadata.refresh.interval.ms"); it != props.end()) {
      auto v = ParseInt(it->second);
      if (v.ok() && *v > 0) pattern_refresh_ms_ = std::min<int64_t>(*v, pattern_refresh_ms_);
    }

    Properties producer_props = Merge({{"enable.idempotence", "true"},
                                       {"acks", "all"},
                                       {"partitioner", "murmur2_random"},
                                       {"message.timeout.ms", "30000"},
                                       {"allow.auto.create.topics", "false"}},
                                      props, {});
    PINPIPE_ASSIGN_OR_RETURN(
        producer_, NewHandle(RD_KAFKA_PRODUCER, producer_props, [](rd_kafka_conf_t* conf) {
          rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
        }));
    mock_ = rd_kafka_handle_mock_cluster(producer_.get());
    if (mock_ != nullptr) {
      // Every other client joins the producer's in-process mock cluster
      // instead of starting its own.
      props.erase(kMockBrokersKey);
      props["bootstrap.servers"] = rd_kafka_mock_cluster_bootstraps(mock_);
    }
    base_props_ = props;
    poller_ = std::thread([this] {
      while (!stop_) rd_kafka_poll(producer_.get(), 50);
    });
    return Status::Ok();
  }

  std::string_view Kind() const override { return "kafka"; }

  Status CreateTopic(std::string_view topic, const broker::TopicConfig& config) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    if (config.partitions < 1) return InvalidArgumentError("partitions must be >= 1");
    std::string name(topic);
    std::vector<std::pair<std::string, std::string>> configs;
    PINPIPE_RETURN_IF_ERROR(AppendFsyncConfig(config.fsync, &configs));
    if (config.retention_ms != 0) {
      configs.emplace_back("retention.ms", std::to_string(config.retention_ms));
    }
    if (config.retention_bytes != 0) {
      configs.emplace_back("retention.bytes", std::to_string(config.retention_bytes));
    }
    if (config.segment_bytes != 0) {
      configs.emplace_back("segment.bytes", std::to_string(config.segment_bytes));
    }
    return CreateWithConfigs(name, config.partitions, configs);
  }

  // CreateTopic with Kafka topic configs as they are.
  Status CreateWithConfigs(const std::string& name, int32_t partitions,
                           const std::vector<std::pair<std::string, std::string>>& configs) {
    InvalidateTopic(name);

    if (mock_ != nullptr) {
      // librdkafka's mock cluster has no controller and no CreateTopics.
      if (PartitionCount(name).ok()) return AlreadyExistsError("topic " + name + " already exists");
      InvalidateTopic(name);
      return KafkaStatus(rd_kafka_mock_topic_create(mock_, name.c_str(), partitions, -1),
                         "create topic " + name);
    }
    PINPIPE_RETURN_IF_ERROR(RequireAdmin());
    char err[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(name.c_str(), partitions, -1, err, sizeof err);
    if (nt == nullptr) return InvalidArgumentError(std::string("create topic: ") + err);
    for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    Queue q(rd_kafka_queue_new(producer_.get()));
    AdminOptions opts = NewAdminOptions(RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(producer_.get(), &nt, 1, opts.get(), q.get());
    rd_kafka_NewTopic_destroy(nt);
    PINPIPE_ASSIGN_OR_RETURN(Event ev, WaitAdmin(q.get(), "create topic " + name));
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    Status created = TopicResultStatus(results, n, "create topic " + name);
    if (created.ok() || created.code() == StatusCode::kAlreadyExists) {
      // Kafka answers CreateTopics once its controller has the topic; brokers
      // learn it from the metadata log moments later. A produce right after
      // the create (the REST API's auto-create) must not find it missing.
      WaitUntilServed(name);
    }
    return created;
  }

  // Polls metadata (bounded by the request timeout) until the topic is listed
  // without error and every partition has a leader.
  void WaitUntilServed(const std::string& name) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
    while (Clock::now() < deadline) {
      auto md = FetchMetadata(nullptr);
      if (md.ok()) {
        for (int i = 0; i < (*md)->topic_cnt; ++i) {
          const auto& t = (*md)->topics[i];
          if (t.topic != name || t.err != RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt < 1) {
            continue;
          }
          bool led = true;
          for (int p = 0; p < t.partition_cnt; ++p) led = led && t.partitions[p].leader >= 0;
          if (led) {
            InvalidateTopic(name);
            return;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    InvalidateTopic(name);
  }

  Status DeleteTopic(std::string_view topic) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    InvalidateTopic(name);
    if (mock_ != nullptr) {
      return UnimplementedError("delete topic: librdkafka's mock cluster cannot delete topics");
    }
    PINPIPE_RETURN_IF_ERROR(RequireAdmin());
    rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(name.c_str());
    Queue q(rd_kafka_queue_new(producer_.get()));
    AdminOptions opts = NewAdminOptions(RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(producer_.get(), &dt, 1, opts.get(), q.get());
    rd_kafka_DeleteTopic_destroy(dt);
    PINPIPE_ASSIGN_OR_RETURN(Event ev, WaitAdmin(q.get(), "delete topic " + name));
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
    PINPIPE_RETURN_IF_ERROR(TopicResultStatus(results, n, "delete topic " + name));
    // The metadata goes with the topic: a tombstone for its key (nothing to
    // do when no topic ever had metadata).
    if (PartitionCount(kMetadataTopic).ok()) {
      broker::Record tombstone;
      tombstone.key = name;
      tombstone.partition = 0;
      Status s = FirstError(Produce(kMetadataTopic, std::span(&tombstone, 1)));
      if (!s.ok()) spdlog::warn("delete topic {}: metadata not removed: {}", name, s.ToString());
    }
    return Status::Ok();
  }

  // Topic metadata lives in one compacted topic, kMetadataTopic: one record
  // per topic, keyed by its name, the pairs as record headers; a null value
  // (tombstone) when the topic is deleted. Kafka's topic configs would reject
  // keys of our own (unknown config names), and a compacted topic is what
  // Kafka itself uses for such state (__consumer_offsets). Reading scans the
  // topic; it holds one small record per topic once compacted.
  Status SetTopicMetadata(std::string_view topic, const broker::TopicMetadata& metadata) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    PINPIPE_RETURN_IF_ERROR(PartitionCount(name).status());
    PINPIPE_RETURN_IF_ERROR(EnsureMetadataTopic());
    broker::Record r;
    r.key = name;
    r.value = "";
    r.partition = 0;
    for (const auto& [k, v] : metadata) r.headers.push_back({k, v});
    return FirstError(Produce(kMetadataTopic, std::span(&r, 1)));
  }

  Result<broker::TopicMetadata> GetTopicMetadata(std::string_view topic) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    PINPIPE_RETURN_IF_ERROR(PartitionCount(name).status());
    broker::TopicMetadata found;
    auto partitions = PartitionCount(kMetadataTopic);
    if (!partitions.ok()) {
      if (partitions.status().code() == StatusCode::kNotFound) return found;
      return partitions.status();
    }
    PINPIPE_ASSIGN_OR_RETURN(broker::TopicDescription desc, DescribeTopic(kMetadataTopic));
    if (desc.partitions.empty()) return found;
    int64_t offset = desc.partitions[0].log_start_offset;
    const int64_t end = desc.partitions[0].high_watermark;
    while (offset < end) {
      PINPIPE_ASSIGN_OR_RETURN(FetchResult batch, Fetch(kMetadataTopic, 0, offset, {}));
      if (batch.records.empty()) break;
      for (const StoredRecord& r : batch.records) {
        offset = r.offset + 1;
        if (r.key != name) continue;
        found.clear();
        if (!r.value) continue;  // deleted
        for (const broker::Header& h : r.headers) found[h.key] = h.value;
      }
    }
    return found;
  }

  Status CreatePartitions(std::string_view topic, int32_t partitions) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    InvalidateTopic(name);
    if (mock_ != nullptr) {
      return UnimplementedError("create partitions: librdkafka's mock cluster cannot add them");
    }
    PINPIPE_RETURN_IF_ERROR(RequireAdmin());
    char err[256];
    rd_kafka_NewPartitions_t* np =
        rd_kafka_NewPartitions_new(name.c_str(), static_cast<size_t>(partitions), err, sizeof(err));
    if (np == nullptr) return InvalidArgumentError("create partitions " + name + ": " + err);
    Queue q(rd_kafka_queue_new(producer_.get()));
    AdminOptions opts = NewAdminOptions(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_CreatePartitions(producer_.get(), &np, 1, opts.get(), q.get());
    rd_kafka_NewPartitions_destroy(np);
    PINPIPE_ASSIGN_OR_RETURN(Event ev, WaitAdmin(q.get(), "create partitions " + name));
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(
        rd_kafka_event_CreatePartitions_result(ev.get()), &n);
    Status s = TopicResultStatus(results, n, "create partitions " + name);
    InvalidateTopic(name);
    return s;
  }

  // Kafka's AlterConfigs (librdkafka 2.0 has no incremental form) replaces
  // every dynamic setting of the topic, so the ones pinpipe does not manage
  // are read first and sent again unchanged.
  Status AlterTopicConfig(std::string_view topic, const broker::TopicConfig& config,
                          bool validate_only) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    PINPIPE_RETURN_IF_ERROR(RequireAdmin());
    std::vector<std::pair<std::string, std::string>> configs;
    PINPIPE_RETURN_IF_ERROR(DynamicTopicConfigs(name, &configs));
    std::erase_if(configs, [](const auto& c) {
      return c.first == "retention.ms" || c.first == "retention.bytes" ||
             c.first == "segment.bytes" || c.first == "segment.ms" || c.first == "flush.messages" ||
             c.first == "flush.ms";
    });
    auto put = [&](const char* key, int64_t v) {
      if (v != 0) configs.emplace_back(key, std::to_string(v));
    };
    put("retention.ms", config.retention_ms);
    put("retention.bytes", config.retention_bytes);
    put("segment.bytes", config.segment_bytes);
    put("segment.ms", config.segment_ms);
    PINPIPE_RETURN_IF_ERROR(AppendFsyncConfig(config.fsync, &configs));
    rd_kafka_ConfigResource_t* res =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
    for (const auto& [key, value] : configs) {
      (void)rd_kafka_ConfigResource_set_config(res, key.c_str(), value.c_str());
    }
    Queue q(rd_kafka_queue_new(producer_.get()));
    AdminOptions opts = NewAdminOptions(RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    char err[256];
    (void)rd_kafka_AdminOptions_set_validate_only(opts.get(), validate_only ? 1 : 0, err,
                                                  sizeof err);
    rd_kafka_AlterConfigs(producer_.get(), &res, 1, opts.get(), q.get());
    rd_kafka_ConfigResource_destroy(res);
    const std::string context = "alter configs of " + name;
    PINPIPE_ASSIGN_OR_RETURN(Event ev, WaitAdmin(q.get(), context));
    size_t n = 0;
    const rd_kafka_ConfigResource_t** results =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(results[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* why = rd_kafka_ConfigResource_error_string(results[i]);
        return KafkaStatus(e, context, why != nullptr ? why : "");
      }
    }
    return Status::Ok();
  }

  // The groups the cluster knows (Kafka's ListGroups on every broker).
  Result<std::vector<std::string>> ListGroups() override {
    PINPIPE_RETURN_IF_ERROR(RequireAdmin());
    Queue q(rd_kafka_queue_new(producer_.get()));
    AdminOptions opts = NewAdminOptions(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(producer_.get(), opts.get(), q.get());
    PINPIPE_ASSIGN_OR_RETURN(Event ev, WaitAdmin(q.get(), "list consumer groups"));
    const rd_kafka_ListConsumerGroups_result_t* result =
        rd_kafka_event_ListConsumerGroups_result(ev.get());
    size_t errors = 0;
    const rd_kafka_error_t** failed = rd_kafka_ListConsumerGroups_result_errors(result, &errors);
    if (errors > 0) {
      // A broker that did not answer: the list would be partial.
      return KafkaStatus(rd_kafka_error_code(failed[0]), "list consumer groups",
                         rd_kafka_error_string(failed[0]));
    }
    size_t n = 0;
    const rd_kafka_ConsumerGroupListing_t** groups =
        rd_kafka_ListConsumerGroups_result_valid(result, &n);
    std::vector<std::string> names;
    for (size_t i = 0; i < n; ++i)
      names.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]));
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<std::vector<std::string>> ListTopics() override {
    PINPIPE_ASSIGN_OR_RETURN(Metadata md, FetchMetadata(nullptr));
    std::vector<std::string> names;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const auto& t = md->topics[i];
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      std::string name = t.topic;
      if (name.rfind("__", 0) == 0) continue;  // __consumer_offsets, __transaction_state
      names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<broker::TopicDescription> DescribeTopic(std::string_view topic) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    PINPIPE_RETURN_IF_ERROR(PartitionCount(name).status());
    TopicHandle rkt(rd_kafka_topic_new(producer_.get(), name.c_str(), nullptr));
    PINPIPE_ASSIGN_OR_RETURN(Metadata md, FetchMetadata(rkt.get()));
    if (md->topic_cnt < 1) return NotFoundError("topic " + name + " not found");
    const auto& t = md->topics[0];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaStatus(t.err, "describe topic " + name);
    }
    broker::TopicDescription desc;
    desc.name = name;
    desc.config.partitions = t.partition_cnt;
    for (int i = 0; i < t.partition_cnt; ++i) {
      const auto& p = t.partitions[i];
      broker::PartitionInfo info;
      info.partition = p.id;
      info.leader = p.leader;
      info.replicas.assign(p.replicas, p.replicas + p.replica_cnt);
      PINPIPE_RETURN_IF_ERROR(
          KafkaStatus(rd_kafka_query_watermark_offsets(producer_.get(), name.c_str(), p.id,
                                                       &info.log_start_offset, &info.high_watermark,
                                                       ToIntMs(timeout_ms_)),
                      "describe topic " + name));
      desc.partitions.push_back(std::move(info));
    }
    std::sort(desc.partitions.begin(), desc.partitions.end(),
              [](const broker::PartitionInfo& a, const broker::PartitionInfo& b) {
                return a.partition < b.partition;
              });
    if (mock_ == nullptr && RequireAdmin().ok()) {
      Status s = DescribeTopicConfig(name, &desc.config);
      if (!s.ok()) spdlog::debug("describe topic {} configs: {}", name, s.ToString());
    }
    return desc;
  }

  Result<std::vector<ProduceAck>> Produce(std::string_view topic,
                                          std::span<const broker::Record> records) override {
    std::vector<ProduceAck> none;
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    if (records.empty()) return none;
    std::string name(topic);
    PINPIPE_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(name));
    for (const broker::Record& r : records) {
      if (r.partition != broker::kAnyPartition && (r.partition < 0 || r.partition >= partitions)) {
        return NotFoundError("partition " + std::to_string(r.partition) + " of topic " + name +
                             " not found");
      }
    }
    TopicHandle rkt(rd_kafka_topic_new(producer_.get(), name.c_str(), nullptr));
    if (rkt == nullptr) return KafkaStatus(rd_kafka_last_error(), "produce to " + name);

    ProduceBatch batch;
    batch.acks.resize(records.size());
    batch.pending = records.size();
    std::vector<MessageRef> refs(records.size());
    const auto enqueue_deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
    for (size_t i = 0; i < records.size(); ++i) {
      const broker::Record& r = records[i];
      refs[i] = {&batch, i};
      rd_kafka_resp_err_t err;
      while (true) {
        rd_kafka_headers_t* headers = nullptr;
        if (!r.headers.empty()) {
          headers = rd_kafka_headers_new(r.headers.size());
          for (const broker::Header& h : r.headers) {
            rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()),
                                h.value.data(), static_cast<ssize_t>(h.value.size()));
          }
        }
        // (The producev macros cast their arguments: pass plain variables.)
        const int32_t part =
            r.partition == broker::kAnyPartition ? RD_KAFKA_PARTITION_UA : r.partition;
        void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
        const size_t value_size = r.value ? r.value->size() : 0;
        const void* key = r.key ? r.key->data() : nullptr;
        const size_t key_size = r.key ? r.key->size() : 0;
        const int64_t timestamp = r.timestamp_ms >= 0 ? r.timestamp_ms : 0;
        err = rd_kafka_producev(
            producer_.get(), RD_KAFKA_V_RKT(rkt.get()), RD_KAFKA_V_PARTITION(part),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(value, value_size),
            RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_TIMESTAMP(timestamp),
            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(&refs[i]), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
          rd_kafka_headers_destroy(headers);  // ownership passes only on success
        }
        // A full local queue drains as the poll thread serves delivery
        // reports: wait for room rather than failing the record.
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= enqueue_deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ProduceAck ack;
        ack.error = KafkaStatus(err, "produce");
        Complete(&batch, i, std::move(ack));
      }
    }
    std::unique_lock lock(batch.mu);
    batch.done.wait(lock, [&] { return batch.pending == 0; });
    return std::move(batch.acks);
  }

  Result<FetchResult> Fetch(std::string_view topic, int32_t partition, int64_t offset,
                            const broker::FetchOptions& options) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    if (offset < 0) return OutOfRangeError("fetch: negative offset");
    std::string name(topic);
    PINPIPE_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(name));
    if (partition < 0 || partition >= partitions) {
      return NotFoundError("partition " + std::to_string(partition) + " of topic " + name +
                           " not found");
    }
    TopicPartition tp{name, partition};
    PINPIPE_ASSIGN_OR_RETURN(std::unique_ptr<Fetcher> f, CheckoutFetcher(tp));
    Result<FetchResult> result = FetchWith(f.get(), tp, offset, options);
    ReturnFetcher(std::move(f));
    return result;
  }

  Result<int64_t> OffsetForTimestamp(std::string_view topic, int32_t partition,
                                     int64_t timestamp_ms) override {
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    PINPIPE_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(name));
    if (partition < 0 || partition >= partitions) {
      return NotFoundError("partition " + std::to_string(partition) + " of topic " + name +
                           " not found");
    }
    PartitionList list = NewList(1);
    rd_kafka_topic_partition_list_add(list.get(), name.c_str(), partition)->offset =
        std::max<int64_t>(0, timestamp_ms);
    PINPIPE_RETURN_IF_ERROR(
        KafkaStatus(rd_kafka_offsets_for_times(producer_.get(), list.get(), ToIntMs(timeout_ms_)),
                    "offset for timestamp"));
    PINPIPE_RETURN_IF_ERROR(ListStatus(list.get(), "offset for timestamp"));
    int64_t offset = list->elems[0].offset;
    if (offset >= 0) return offset;
    // No record at or after the timestamp: the high watermark.
    int64_t low = 0, high = 0;
    PINPIPE_RETURN_IF_ERROR(
        KafkaStatus(rd_kafka_query_watermark_offsets(producer_.get(), name.c_str(), partition, &low,
                                                     &high, ToIntMs(timeout_ms_)),
                    "offset for timestamp"));
    return high;
  }

  Status CommitOffsets(std::string_view group,
                       const std::vector<TopicPartitionOffset>& offsets) override {
    if (group.empty()) return InvalidArgumentError("commit offsets: empty group");
    if (offsets.empty()) return Status::Ok();
    PINPIPE_ASSIGN_OR_RETURN(rd_kafka_t * rk, GroupHandle(std::string(group)));
    PartitionList list = NewList(static_cast<int>(offsets.size()));
    for (const auto& o : offsets) {
      if (o.offset < 0) return InvalidArgumentError("commit offsets: negative offset");
      rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset =
          o.offset;
    }
    // generation -1: accepted for a group without active members (a "simple"
    // consumer group); a group with live members answers Aborted.
    PINPIPE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_commit(rk, list.get(), 0), "commit offsets"));
    return ListStatus(list.get(), "commit offsets");
  }

  Result<std::vector<TopicPartitionOffset>> FetchCommittedOffsets(std::string_view group,
                                                                  std::string_view topic) override {
    if (group.empty()) return InvalidArgumentError("committed offsets: empty group");
    PINPIPE_RETURN_IF_ERROR(ValidateTopicName(topic));
    std::string name(topic);
    PINPIPE_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(name));
    PINPIPE_ASSIGN_OR_RETURN(rd_kafka_t * rk, GroupHandle(std::string(group)));
    PartitionList list = NewList(partitions);
    for (int32_t p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(list.get(), name.c_str(), p);
    }
    PINPIPE_RETURN_IF_ERROR(
        KafkaStatus(rd_kafka_committed(rk, list.get(), ToIntMs(timeout_ms_)), "committed offsets"));
    PINPIPE_RETURN_IF_ERROR(ListStatus(list.get(), "committed offsets"));
    std::vector<TopicPartitionOffset> out;
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset >= 0) {
        out.push_back({name, list->elems[i].partition, list->elems[i].offset});
      }
    }
    return out;
  }

  Result<std::unique_ptr<broker::Consumer>> CreateConsumer(
      const broker::ConsumerOptions& options) override {
    if (options.group.empty()) return InvalidArgumentError("consumer: empty group");
    Properties forced = {{"group.id", options.group},
                         {"enable.auto.commit", "false"},
                         {"enable.partition.eof", "false"},
                         {"auto.offset.reset",
                          options.reset == broker::OffsetReset::kEarliest ? "earliest" : "latest"}};
    if (!options.client_id.empty()) forced["client.id"] = options.client_id;
    auto consumer = std::make_unique<KafkaConsumer>(timeout_ms_, pattern_refresh_ms_);
    PINPIPE_RETURN_IF_ERROR(consumer->Init(Merge({}, base_props_, forced)));
    return std::unique_ptr<broker::Consumer>(std::move(consumer));
  }

 private:
  static Status FirstError(const Result<std::vector<ProduceAck>>& acks) {
    if (!acks.ok()) return acks.status();
    for (const ProduceAck& a : *acks) PINPIPE_RETURN_IF_ERROR(a.error);
    return Status::Ok();
  }

  Status EnsureMetadataTopic() {
    if (PartitionCount(kMetadataTopic).ok()) return Status::Ok();
    Status s = CreateWithConfigs(kMetadataTopic, 1, {{"cleanup.policy", "compact"}});
    if (s.ok() || s.code() == StatusCode::kAlreadyExists) return Status::Ok();
    return s.WithContext(std::string("topic metadata is kept in ") + kMetadataTopic +
                         " (1 partition, cleanup.policy=compact); create it or allow pinpipe to");
  }

  AdminOptions NewAdminOptions(rd_kafka_admin_op_t op) {
    AdminOptions opts(rd_kafka_AdminOptions_new(producer_.get(), op));
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(opts.get(), ToIntMs(timeout_ms_), err, sizeof err);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS) {
      // Wait until the change reached every broker, so a following Produce
      // or ListTopics sees it.
      rd_kafka_AdminOptions_set_operation_timeout(opts.get(), ToIntMs(timeout_ms_), err,
                                                  sizeof err);
    }
    return opts;
  }

  Result<Event> WaitAdmin(rd_kafka_queue_t* q, const std::string& context) {
    Event ev(rd_kafka_queue_poll(q, ToIntMs(timeout_ms_ + 1000)));
    if (ev == nullptr) return DeadlineExceededError(context + ": no answer from the cluster");
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaStatus(err, context, rd_kafka_event_error_string(ev.get()));
    }
    return ev;
  }

  static Status TopicResultStatus(const rd_kafka_topic_result_t** results, size_t n,
                                  const std::string& context) {
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      const char* detail = rd_kafka_topic_result_error_string(results[i]);
      return KafkaStatus(err, context, detail != nullptr ? detail : "");
    }
    return Status::Ok();
  }

  // librdkafka's mock cluster (cluster id "mockCluster...") accepts admin
  // requests but never answers them: say so at once instead of timing out.
  Status RequireAdmin() {
    if (!admin_checked_.load()) {
      char* id = rd_kafka_clusterid(producer_.get(), ToIntMs(timeout_ms_));
      if (id == nullptr) return UnavailableError("topic admin: cluster not reachable");
      no_admin_ = std::string_view(id).rfind("mockCluster", 0) == 0;
      rd_kafka_mem_free(producer_.get(), id);
      admin_checked_ = true;
    }
    if (no_admin_) {
      return UnimplementedError(
          "topic admin: librdkafka's mock cluster has no CreateTopics/DeleteTopics; create "
          "topics with its API (kafka_mock_cluster --topic) or the cluster's own tools");
    }
    return Status::Ok();
  }

  // Calls `each` with every config entry of topic `name` that has a value.
  Status ForEachTopicConfigEntry(const std::string& name,
                                 const std::function<void(const rd_kafka_ConfigEntry_t*)>& each) {
    rd_kafka_ConfigResource_t* res =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
    Queue q(rd_kafka_queue_new(producer_.get()));
    AdminOptions opts = NewAdminOptions(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(producer_.get(), &res, 1, opts.get(), q.get());
    rd_kafka_ConfigResource_destroy(res);
    PINPIPE_ASSIGN_OR_RETURN(Event ev, WaitAdmin(q.get(), "describe configs " + name));
    size_t n = 0;
    const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(resources[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* why = rd_kafka_ConfigResource_error_string(resources[i]);
        return KafkaStatus(e, "describe configs " + name, why != nullptr ? why : "");
      }
      size_t cnt = 0;
      const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[i], &cnt);
      for (size_t j = 0; j < cnt; ++j) {
        if (rd_kafka_ConfigEntry_value(entries[j]) != nullptr) each(entries[j]);
      }
    }
    return Status::Ok();
  }

  // The topic's settings that are set on the topic itself (DYNAMIC_TOPIC_CONFIG).
  Status DynamicTopicConfigs(const std::string& name,
                             std::vector<std::pair<std::string, std::string>>* out) {
    return ForEachTopicConfigEntry(name, [&](const rd_kafka_ConfigEntry_t* entry) {
      if (rd_kafka_ConfigEntry_source(entry) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) {
        out->emplace_back(rd_kafka_ConfigEntry_name(entry), rd_kafka_ConfigEntry_value(entry));
      }
    });
  }

  Status DescribeTopicConfig(const std::string& name, broker::TopicConfig* config) {
    return ForEachTopicConfigEntry(name, [&](const rd_kafka_ConfigEntry_t* entry) {
      const std::string key = rd_kafka_ConfigEntry_name(entry);
      auto v = ParseInt(rd_kafka_ConfigEntry_value(entry));
      if (!v.ok()) return;
      if (key == "retention.ms") config->retention_ms = *v;
      if (key == "retention.bytes") config->retention_bytes = *v;
      if (key == "segment.bytes") config->segment_bytes = *v;
      if (key == "flush.messages" && *v == 1) config->fsync = "always";
    });
  }

  Result<Metadata> FetchMetadata(rd_kafka_topic_t* only) {
    const rd_kafka_metadata_t* raw = nullptr;
    PINPIPE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_metadata(producer_.get(), only == nullptr ? 1 : 0,
                                                          only, &raw, ToIntMs(timeout_ms_)),
                                        "metadata"));
    return Metadata(raw);
  }

  // Partition count of an existing topic (NotFound otherwise). Answers come
  // from one all-topics metadata listing, cached briefly, so that Produce and
  // Fetch do not ask the cluster on every call, and so that asking about an
  // unknown topic never creates it (a single-topic metadata request does on
  // brokers with auto.create.topics.enable, and on librdkafka's mock).
  Result<int32_t> PartitionCount(const std::string& name) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      {
        std::lock_guard lock(topics_mu_);
        const auto age = Clock::now() - topics_fetched_;
        auto it = topics_.find(name);
        if (it != topics_.end() && age < kTopicCacheTtl) {
          if (it->second.second != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return KafkaStatus(it->second.second, "topic " + name);
          }
          return it->second.first;
        }
        // Unknown names re-list at most every kNegativeTtl.
        if (it == topics_.end() && age < kNegativeTtl) {
          return NotFoundError("topic " + name + " not found");
        }
      }
      PINPIPE_ASSIGN_OR_RETURN(Metadata md, FetchMetadata(nullptr));
      std::map<std::string, std::pair<int32_t, rd_kafka_resp_err_t>> fresh;
      for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
        fresh[t.topic] = {t.partition_cnt, t.err};
      }
      std::lock_guard lock(topics_mu_);
      topics_ = std::move(fresh);
      topics_fetched_ = Clock::now();
    }
    return NotFoundError("topic " + name + " not found");
  }

  void InvalidateTopic(const std::string& /*name*/) {
    std::lock_guard lock(topics_mu_);
    topics_fetched_ = {};
  }

  Result<rd_kafka_t*> GroupHandle(const std::string& group) {
    std::lock_guard lock(groups_mu_);
    auto it = groups_.find(group);
    if (it != groups_.end()) return it->second.get();
    Properties forced = {{"group.id", group}, {"enable.auto.commit", "false"}};
    PINPIPE_ASSIGN_OR_RETURN(Handle rk, NewHandle(RD_KAFKA_CONSUMER, Merge({}, base_props_, forced),
                                                  [](rd_kafka_conf_t*) {}));
    rd_kafka_t* raw = rk.get();
    groups_.emplace(group, std::move(rk));
    return raw;
  }

  Result<std::unique_ptr<Fetcher>> CheckoutFetcher(const TopicPartition& tp) {
    {
      std::lock_guard lock(fetchers_mu_);
      if (!fetchers_.empty()) {
        // Prefer the fetcher that last read this partition: it has prefetched.
        auto it = std::find_if(fetchers_.begin(), fetchers_.end(),
                               [&](const auto& f) { return f->tp == tp; });
        if (it == fetchers_.end()) it = fetchers_.end() - 1;
        std::unique_ptr<Fetcher> f = std::move(*it);
        fetchers_.erase(it);
        return f;
      }
    }
    // Assign() needs a group.id, but this consumer never joins or commits.
    Properties forced = {{"group.id", "pinpipe-fetch"},
                         {"enable.auto.commit", "false"},
                         {"enable.auto.offset.store", "false"},
                         {"enable.partition.eof", "false"},
                         {"auto.offset.reset", "error"}};
    // A short broker-side wait: an in-flight fetch for the previous partition
    // delays the first fetch of the next one by up to this long.
    Properties defaults = {{"fetch.wait.max.ms", "100"}};
    auto f = std::make_unique<Fetcher>();
    PINPIPE_ASSIGN_OR_RETURN(f->rk,
                             NewHandle(RD_KAFKA_CONSUMER, Merge(defaults, base_props_, forced),
                                       [](rd_kafka_conf_t*) {}));
    rd_kafka_poll_set_consumer(f->rk.get());
    return f;
  }

  void ReturnFetcher(std::unique_ptr<Fetcher> f) {
    std::lock_guard lock(fetchers_mu_);
    if (fetchers_.size() < kMaxIdleFetchers) fetchers_.push_back(std::move(f));
  }

  Result<FetchResult> FetchWith(Fetcher* f, const TopicPartition& tp, int64_t offset,
                                const broker::FetchOptions& options) {
    rd_kafka_t* rk = f->rk.get();
    const char* topic = tp.topic.c_str();
    // Watermarks: the cached ones from earlier fetch responses when they
    // already prove `offset` valid, else ask the leader.
    int64_t low = -1, high = -1;
    rd_kafka_get_watermark_offsets(rk, topic, tp.partition, &low, &high);
    if (high < 0 || low < 0 || offset >= high || offset < low) {
      PINPIPE_RETURN_IF_ERROR(
          KafkaStatus(rd_kafka_query_watermark_offsets(rk, topic, tp.partition, &low, &high,
                                                       ToIntMs(timeout_ms_)),
                      "fetch " + tp.topic));
    }
    if (offset < low || offset > high) {
      return OutOfRangeError("fetch " + tp.topic + "[" + std::to_string(tp.partition) +
                             "]: offset " + std::to_string(offset) + " outside [" +
                             std::to_string(low) + ", " + std::to_string(high) + "]");
    }
    FetchResult result;
    result.log_start_offset = low;
    result.high_watermark = high;
    if (offset == high && options.wait_ms <= 0) return result;

    if (!(f->tp == tp && f->next_offset == offset)) {
      PartitionList list = NewList(1);
      rd_kafka_topic_partition_list_add(list.get(), topic, tp.partition)->offset = offset;
      f->tp.reset();
      f->stash.reset();
      PINPIPE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_assign(rk, list.get()), "fetch assign"));
      f->tp = tp;
      f->next_offset = offset;
    }
    // Records exist at `offset` when it is below the high watermark: wait as
    // long as a fetch may take for them; otherwise only the caller's long poll.
    const int64_t first_wait =
        offset < high ? std::max(options.wait_ms, timeout_ms_) : options.wait_ms;
    const auto deadline = Clock::now() + std::chrono::milliseconds(first_wait);
    int64_t bytes = 0;
    const size_t max_records = static_cast<size_t>(std::max(1, options.max_records));
    auto take = [&](StoredRecord r) {
      int64_t size = RecordBytes(r);
      if (!result.records.empty() && bytes + size > options.max_bytes) {
        f->stash = std::move(r);
        return false;
      }
      bytes += size;
      f->next_offset = r.offset + 1;
      result.records.push_back(std::move(r));
      return true;
    };
    if (f->stash && f->stash->offset == f->next_offset) {
      StoredRecord r = std::move(*f->stash);
      f->stash.reset();
      take(std::move(r));
    }
    while (result.records.size() < max_records && !f->stash) {
      int wait = result.records.empty() ? ToIntMs(RemainingMs(deadline)) : 0;
      Message m(rd_kafka_consumer_poll(rk, wait));
      if (m == nullptr) {
        if (result.records.empty() && RemainingMs(deadline) > 0) continue;
        break;
      }
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        Status s = KafkaStatus(m->err, "fetch " + tp.topic, rd_kafka_message_errstr(m.get()));
        if (s.code() == StatusCode::kOutOfRange || s.code() == StatusCode::kNotFound ||
            s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kUnauthenticated) {
          f->tp.reset();  // the assignment is unusable; start afresh next time
          return s;
        }
        spdlog::debug("kafka fetch: {}", s.ToString());
        continue;
      }
      if (m->rkt == nullptr || tp.topic != rd_kafka_topic_name(m->rkt) ||
          m->partition != tp.partition || m->offset < f->next_offset) {
        continue;  // left over from an earlier assignment, or already returned
      }
      if (!take(ToStoredRecord(m.get()))) break;
    }
    rd_kafka_get_watermark_offsets(rk, topic, tp.partition, &low, &high);
    if (low >= 0) result.log_start_offset = low;
    result.high_watermark = std::max({result.high_watermark, high, f->next_offset});
    return result;
  }

  int64_t timeout_ms_ = 30000;
  int64_t pattern_refresh_ms_ = 5000;
  Properties base_props_;  // user properties for every client (mock resolved)
  Handle producer_;
  rd_kafka_mock_cluster_t* mock_ = nullptr;  // owned by producer_ when set
  std::atomic<bool> admin_checked_{false};
  std::atomic<bool> no_admin_{false};
  std::atomic<bool> stop_{false};
  std::thread poller_;

  std::mutex topics_mu_;
  std::map<std::string, std::pair<int32_t, rd_kafka_resp_err_t>> topics_;
  Clock::time_point topics_fetched_{};

  std::mutex fetchers_mu_;
  std::vector<std::unique_ptr<Fetcher>> fetchers_;

  std::mutex groups_mu_;
  std::map<std::string, Handle> groups_;
};

}  // namespace

Result<std::unique_ptr<broker::Broker>> NewKafkaBroker(const Properties& properties) {
  auto broker = std::make_unique<KafkaBroker>();
  PINPIPE_RETURN_IF_ERROR(broker->Init(properties));
  return std::unique_ptr<broker::Broker>(std::move(broker));
}

Result<std::unique_ptr<broker::Broker>> NewKafkaBroker(const Config& config) {
  Properties properties;
  for (auto& [key, value] : config.Section("kafka")) {
    if (!value.empty()) properties[key] = value;  // unset keys keep librdkafka's default
  }
  return NewKafkaBroker(properties);
}

}  // namespace pinpipe::kafka
