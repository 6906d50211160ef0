#include "pinpipe/api/kafka_rest.h"

#include <algorithm>
#include <cstdint>

#include "pinpipe/api/codec.h"
#include "pinpipe/api/errors.h"
#include "pinpipe/api/json_util.h"
#include "pinpipe/base/config.h"
#include "pinpipe/base/uri.h"

namespace pinpipe::api {
namespace {

enum class Format { kJson, kBinary, kNone };

std::string_view MediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Format ProduceFormat(std::string_view content_type) {
  std::string_view t = MediaType(content_type);
  if (IEquals(t, "application/vnd.kafka.json.v2+json")) return Format::kJson;
  if (IEquals(t, "application/vnd.kafka.binary.v2+json")) return Format::kBinary;
  return Format::kNone;
}

bool MetadataContentType(std::string_view content_type) {
  std::string_view t = MediaType(content_type);
  return t.empty() || IEquals(t, "application/vnd.kafka.v2+json") ||
         IEquals(t, "application/vnd.kafka+json") || IEquals(t, "application/json");
}

void Ok(http::Response& response, std::string body, int status = 200) {
  response.status = status;
  response.content_type = std::string(kKafkaV2ContentType);
  response.body = std::move(body);
}

void NoContent(http::Response& response) {
  response.status = 204;
  response.content_type.clear();
  response.body.clear();
}

void UnsupportedMediaType(http::Response& response) {
  KafkaError(response, 415, "HTTP 415 Unsupported Media Type");
}

void MethodNotAllowed(http::Response& response) {
  KafkaError(response, 405, "HTTP 405 Method Not Allowed");
}

void NotFound(http::Response& response) { KafkaError(response, 404, "HTTP 404 Not Found"); }

void MalformedJson(http::Response& response, simdjson::error_code err) {
  KafkaError(
      response, 400,
      std::string("Unexpected character or malformed JSON: ") + simdjson::error_message(err));
}

void PartitionJson(std::string& b, int32_t partition) {
  b += "{\"partition\":";
  AppendInt(b, partition);
  b += ",\"leader\":0,\"replicas\":[{\"broker\":0,\"leader\":true,\"in_sync\":true}]}";
}

// Splits "a/b/c" into at most `n` segments (the last keeps the rest).
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path = path.substr(slash + 1);
  }
  return out;
}

std::optional<int32_t> ParsePartition(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(v);
}

}  // namespace

bool ValidTopicName(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

struct KafkaRest::Instance {
  std::mutex mu;
  std::string group;
  std::string name;
  Format format = Format::kBinary;
  bool auto_commit = true;
  std::unique_ptr<broker::Consumer> consumer;
  std::map<broker::TopicPartition, int64_t> consumed;  // next offset per partition
  std::vector<std::string> topics;
  std::string pattern;
  int64_t last_used_ms = 0;
};

KafkaRest::KafkaRest(broker::Broker& broker, Metrics& metrics, KafkaRestOptions options)
    : broker_(broker),
      metrics_(metrics),
      options_(options),
      clock_(options_.clock != nullptr ? options_.clock : &Clock::Real()) {}

KafkaRest::~KafkaRest() {
  std::lock_guard lock(instances_mu_);
  for (auto& [key, inst] : instances_) {
    std::lock_guard il(inst->mu);
    if (inst->consumer) (void)inst->consumer->Close();
  }
}

int64_t KafkaRest::CountInstances(const NameFilter& in_scope) {
  ExpireInstances();
  std::lock_guard lock(instances_mu_);
  int64_t n = 0;
  for (const auto& [key, inst] : instances_) n += in_scope(key.substr(0, key.find('/'))) ? 1 : 0;
  return n;
}

void KafkaRest::Forget(std::string_view topic) {
  std::unique_lock lock(cache_mu_);
  partitions_.erase(std::string(topic));
}

Result<int32_t> KafkaRest::Partitions(std::string_view topic, bool create) {
  {
    std::shared_lock lock(cache_mu_);
    auto it = partitions_.find(std::string(topic));
    if (it != partitions_.end()) return it->second;
  }
  auto desc = broker_.DescribeTopic(topic);
  if (!desc.ok() && desc.status().code() == StatusCode::kNotFound && create &&
      options_.auto_create_topics) {
    broker::TopicConfig config;
    config.partitions = options_.default_partitions;
    Status s = broker_.CreateTopic(topic, config);
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    desc = broker_.DescribeTopic(topic);
  }
  if (!desc.ok()) return desc.status();
  const auto n = static_cast<int32_t>(desc->partitions.size());
  std::unique_lock lock(cache_mu_);
  partitions_[std::string(topic)] = n;
  return n;
}

std::string_view KafkaRest::Handle(http::Request& request, http::Response& response,
                                   Deferral& later, const NameFilter& visible) {
  std::string_view path = request.path;
  const std::string& m = request.method;
  if (path == "/topics" || path == "/topics/") {
    if (m != "GET") {
      MethodNotAllowed(response);
    } else {
      ListTopics(response, visible);
    }
    return "kafka.list_topics";
  }
  if (path.substr(0, 8) == "/topics/") {
    auto seg = Segments(path.substr(8));
    if (seg.empty() || seg.size() > 3 || (seg.size() >= 2 && seg[1] != "partitions")) {
      NotFound(response);
      return "kafka.unknown";
    }
    auto topic_decoded = PercentDecode(seg[0]);
    std::string topic = topic_decoded.ok() ? *topic_decoded : std::string();
    if (seg.size() == 1) {
      if (m == "POST") {
        Produce(request, topic, broker::kAnyPartition, response, later);
        return "kafka.produce";
      }
      if (m == "GET") {
        DescribeTopic(topic, response);
        return "kafka.describe_topic";
      }
      MethodNotAllowed(response);
      return "kafka.topic";
    }
    if (seg.size() == 2) {
      if (m != "GET") {
        MethodNotAllowed(response);
      } else {
        ListPartitions(topic, response);
      }
      return "kafka.list_partitions";
    }
    if (m == "POST") {
      auto p = ParsePartition(seg[2]);
      if (!p) {
        KafkaError(response, kKafkaPartitionNotFound, "Partition not found.");
      } else {
        Produce(request, topic, *p, response, later);
      }
      return "kafka.produce_partition";
    }
    if (m == "GET") {
      DescribePartition(topic, seg[2], response);
      return "kafka.describe_partition";
    }
    MethodNotAllowed(response);
    return "kafka.partition";
  }
  if (path.substr(0, 11) == "/consumers/") return Consumers(request, path.substr(11), response);
  return "";
}

void KafkaRest::Produce(http::Request& request, std::string_view topic, int32_t partition,
                        http::Response& response, Deferral& later) {
  const Format format = ProduceFormat(request.Header("content-type"));
  if (format == Format::kNone) return UnsupportedMediaType(response);
  simdjson::dom::element root;
  if (auto err = ParseJson(request.body, root); err) return MalformedJson(response, err);
  simdjson::dom::object o;
  if (root.get_object().get(o)) {
    return KafkaError(response, 400, "Unexpected JSON: the request body must be an object");
  }
  simdjson::dom::element records_el;
  simdjson::dom::array records;
  FieldState rs = GetField(o, "records", records_el);
  if (rs == FieldState::kOk && records_el.get_array().get(records)) {
    return KafkaError(response, 422, "records must be an array");
  }
  if (rs != FieldState::kOk || records.size() == 0) {
    return KafkaError(response, 422, "records may not be empty");
  }
  // Validate and convert every record before anything is appended.
  std::vector<broker::Record> batch(records.size());
  size_t i = 0;
  int64_t bytes = 0;
  int32_t max_partition = partition;
  for (simdjson::dom::element r : records) {
    simdjson::dom::object ro;
    if (r.get_object().get(ro)) {
      return KafkaError(response, kKafkaPayloadError,
                        "Payload error. Record " + std::to_string(i) + " is not a JSON object");
    }
    auto& out = batch[i];
    simdjson::dom::element key, value, part;
    FieldState ks = GetField(ro, "key", key);
    FieldState vs = GetField(ro, "value", value);
    if (format == Format::kJson) {
      if (ks == FieldState::kOk) {
        out.key.emplace();
        AppendMinified(*out.key, key);
      }
      if (vs == FieldState::kOk) {
        out.value.emplace();
        AppendMinified(*out.value, value);
      }
    } else {
      for (auto [state, el, slot, what] :
           {std::tuple{ks, key, &out.key, "key"}, std::tuple{vs, value, &out.value, "value"}}) {
        if (state != FieldState::kOk) continue;
        std::string_view text;
        if (el.get_string().get(text)) {
          return KafkaError(response, kKafkaPayloadError,
                            std::string("Payload error. Record ") + std::to_string(i) + " " + what +
                                " must be a base64 string");
        }
        auto decoded = Base64Decode(text);
        if (!decoded) {
          return KafkaError(response, kKafkaPayloadError,
                            std::string("Payload error. Record ") + std::to_string(i) + " " + what +
                                " is not valid base64");
        }
        *slot = std::move(*decoded);
      }
    }
    if (partition == broker::kAnyPartition) {
      FieldState ps = GetField(ro, "partition", part);
      if (ps == FieldState::kOk) {
        int64_t p = 0;
        if (part.get_int64().get(p) || p < 0 || p > INT32_MAX) {
          return KafkaError(response, kKafkaPayloadError,
                            "Payload error. Record " + std::to_string(i) +
                                " partition must be a non-negative integer");
        }
        out.partition = static_cast<int32_t>(p);
        max_partition = std::max(max_partition, out.partition);
      }
    } else {
      out.partition = partition;
    }
    bytes += static_cast<int64_t>(out.value.value_or("").size() + out.key.value_or("").size());
    ++i;
  }
  if (!ValidTopicName(topic)) {
    return KafkaError(response, kKafkaTopicNotFound, "Topic not found.");
  }
  auto n = Partitions(topic, /*create=*/true);
  if (!n.ok()) {
    if (n.status().code() == StatusCode::kNotFound) {
      return KafkaError(response, kKafkaTopicNotFound, "Topic not found.");
    }
    return KafkaErrorFromStatus(response, n.status());
  }
  if (max_partition >= *n) {
    // The topic may have grown since it was cached; ask once more.
    Forget(topic);
    n = Partitions(topic, false);
    if (!n.ok() || max_partition >= *n) {
      return KafkaError(response, kKafkaPartitionNotFound, "Partition not found.");
    }
  }
  broker_.ProduceAsync(topic, batch,
                       [this, finish = later.Defer(), topic = std::string(topic),
                        bytes](Result<std::vector<broker::ProduceAck>> acks) {
                         http::Response r;
                         ProduceResponse(topic, acks, bytes, r);
                         finish(std::move(r));
                       });
}

void KafkaRest::ProduceResponse(std::string_view topic,
                                const Result<std::vector<broker::ProduceAck>>& acks, int64_t bytes,
                                http::Response& response) {
  if (!acks.ok()) {
    if (acks.status().code() == StatusCode::kNotFound) {
      Forget(topic);
      return KafkaError(response, kKafkaTopicNotFound, "Topic not found.");
    }
    return KafkaErrorFromStatus(response, acks.status());
  }
  std::string b;
  b.reserve(64 + acks->size() * 72);
  b += "{\"key_schema_id\":null,\"value_schema_id\":null,\"offsets\":[";
  int64_t stored = 0;
  for (size_t k = 0; k < acks->size(); ++k) {
    const auto& ack = (*acks)[k];
    if (k > 0) b += ',';
    if (ack.error.ok()) {
      ++stored;
      b += "{\"partition\":";
      AppendInt(b, ack.partition);
      b += ",\"offset\":";
      AppendInt(b, ack.offset);
      b += ",\"error_code\":null,\"error\":null}";
    } else {
      b += "{\"partition\":null,\"offset\":null,\"error_code\":";
      AppendInt(b, KafkaRecordErrorCode(ack.error));
      b += ",\"error\":";
      AppendJsonString(ack.error.message(), &b);
      b += '}';
    }
  }
  b += "]}";
  metrics_.AddRecords("kafka", stored, bytes);
  Ok(response, std::move(b));
}

void KafkaRest::ListTopics(http::Response& response, const NameFilter& visible) {
  auto topics = broker_.ListTopics();
  if (!topics.ok()) return KafkaErrorFromStatus(response, topics.status());
  if (visible) std::erase_if(*topics, [&](const std::string& t) { return !visible(t); });
  std::sort(topics->begin(), topics->end());
  std::string b = "[";
  for (size_t i = 0; i < topics->size(); ++i) {
    if (i > 0) b += ',';
    AppendJsonString((*topics)[i], &b);
  }
  b += ']';
  Ok(response, std::move(b));
}

std::optional<broker::TopicDescription> KafkaRest::DescribeOrAnswer(std::string_view topic,
                                                                    http::Response& response) {
  if (!ValidTopicName(topic)) {
    KafkaError(response, kKafkaTopicNotFound, "Topic not found.");
    return std::nullopt;
  }
  auto desc = broker_.DescribeTopic(topic);
  if (desc.ok()) return std::move(*desc);
  if (desc.status().code() == StatusCode::kNotFound) {
    KafkaError(response, kKafkaTopicNotFound, "Topic not found.");
  } else {
    KafkaErrorFromStatus(response, desc.status());
  }
  return std::nullopt;
}

void KafkaRest::DescribeTopic(std::string_view topic, http::Response& response) {
  auto desc = DescribeOrAnswer(topic, response);
  if (!desc) return;
  std::string b = "{\"name\":";
  AppendJsonString(desc->name, &b);
  // The topic's limits as the Kafka protocol's DescribeConfigs shows them (the
  // broker's values; a broker that reports none leaves them out).
  b += ",\"configs\":{";
  bool first = true;
  for (const auto& [key, value] :
       {std::pair<const char*, int64_t>{"retention.ms", desc->config.retention_ms},
        {"retention.bytes", desc->config.retention_bytes},
        {"segment.bytes", desc->config.segment_bytes},
        {"segment.ms", desc->config.segment_ms}}) {
    if (value == 0) continue;
    if (!first) b += ',';
    first = false;
    AppendJsonString(key, &b);
    b += ':';
    AppendJsonString(std::to_string(value), &b);
  }
  b += "},\"partitions\":[";
  for (size_t i = 0; i < desc->partitions.size(); ++i) {
    if (i > 0) b += ',';
    PartitionJson(b, desc->partitions[i].partition);
  }
  b += "]}";
  Ok(response, std::move(b));
}

void KafkaRest::ListPartitions(std::string_view topic, http::Response& response) {
  auto desc = DescribeOrAnswer(topic, response);
  if (!desc) return;
  std::string b = "[";
  for (size_t i = 0; i < desc->partitions.size(); ++i) {
    if (i > 0) b += ',';
    PartitionJson(b, desc->partitions[i].partition);
  }
  b += ']';
  Ok(response, std::move(b));
}

void KafkaRest::DescribePartition(std::string_view topic, std::string_view partition,
                                  http::Response& response) {
  auto desc = DescribeOrAnswer(topic, response);
  if (!desc) return;
  auto p = ParsePartition(partition);
  if (!p || *p >= static_cast<int32_t>(desc->partitions.size())) {
    return KafkaError(response, kKafkaPartitionNotFound, "Partition not found.");
  }
  std::string b;
  PartitionJson(b, *p);
  Ok(response, std::move(b));
}

// ---------------------------------------------------------------------------
// Consumer API

std::shared_ptr<KafkaRest::Instance> KafkaRest::FindInstance(std::string_view group,
                                                             std::string_view name) {
  std::lock_guard lock(instances_mu_);
  auto it = instances_.find(std::string(group) + "/" + std::string(name));
  if (it == instances_.end()) return nullptr;
  return it->second;
}

void KafkaRest::ExpireInstances() {
  const int64_t now = clock_->NowMillis();
  std::vector<std::shared_ptr<Instance>> expired;
  {
    std::lock_guard lock(instances_mu_);
    for (auto it = instances_.begin(); it != instances_.end();) {
      std::unique_lock il(it->second->mu, std::try_to_lock);
      if (il.owns_lock() &&
          now - it->second->last_used_ms > options_.consumer_instance_timeout_ms) {
        expired.push_back(it->second);
        il.unlock();
        it = instances_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& inst : expired) {
    std::lock_guard il(inst->mu);
    if (inst->consumer) (void)inst->consumer->Close();
  }
}

std::string_view KafkaRest::Consumers(http::Request& request, std::string_view rest,
                                      http::Response& response) {
  ExpireInstances();
  auto seg = Segments(rest);
  const std::string& m = request.method;
  if (seg.empty() || seg[0].empty()) {
    NotFound(response);
    return "kafka.consumer.unknown";
  }
  std::string group(seg[0]);
  if (seg.size() == 1) {
    if (m != "POST") {
      MethodNotAllowed(response);
      return "kafka.consumer.create";
    }
    if (!MetadataContentType(request.Header("content-type"))) {
      UnsupportedMediaType(response);
      return "kafka.consumer.create";
    }
    simdjson::dom::element root;
    std::string_view body = request.body.empty() ? std::string_view("{}") : request.body;
    if (auto err = ParseJson(body, root); err) {
      MalformedJson(response, err);
      return "kafka.consumer.create";
    }
    simdjson::dom::object o;
    if (root.get_object().get(o)) {
      KafkaError(response, 400, "Unexpected JSON: the request body must be an object");
      return "kafka.consumer.create";
    }
    std::string_view name, format = "binary", reset = "latest", auto_commit = "true";
    bool bad = GetString(o, "name", name) == FieldState::kWrongType ||
               GetString(o, "format", format) == FieldState::kWrongType ||
               GetString(o, "auto.offset.reset", reset) == FieldState::kWrongType ||
               GetString(o, "auto.commit.enable", auto_commit) == FieldState::kWrongType;
    auto inst = std::make_shared<Instance>();
    if (format == "json") {
      inst->format = Format::kJson;
    } else if (format == "binary") {
      inst->format = Format::kBinary;
    } else {
      bad = true;
    }
    if (bad ||
        (reset != "earliest" && reset != "latest" && reset != "smallest" && reset != "largest") ||
        (auto_commit != "true" && auto_commit != "false")) {
      KafkaError(response, 42204,
                 "Invalid consumer configuration. format must be json or binary, "
                 "auto.offset.reset earliest or latest, auto.commit.enable true or false");
      return "kafka.consumer.create";
    }
    inst->auto_commit = auto_commit == "true";
    inst->group = group;
    std::string key;
    {
      std::lock_guard lock(instances_mu_);
      inst->name =
          name.empty() ? "rest-consumer-" + std::to_string(++next_instance_) : std::string(name);
      key = group + "/" + inst->name;
      if (instances_.count(key)) {
        KafkaError(response, 40902, "Consumer instance with the specified name already exists.");
        return "kafka.consumer.create";
      }
    }
    broker::ConsumerOptions co;
    co.group = group;
    co.reset = (reset == "earliest" || reset == "smallest") ? broker::OffsetReset::kEarliest
                                                            : broker::OffsetReset::kLatest;
    co.client_id = inst->name;
    auto consumer = broker_.CreateConsumer(co);
    if (!consumer.ok()) {
      KafkaErrorFromStatus(response, consumer.status());
      return "kafka.consumer.create";
    }
    inst->consumer = std::move(*consumer);
    inst->last_used_ms = clock_->NowMillis();
    {
      std::lock_guard lock(instances_mu_);
      if (!instances_.emplace(key, inst).second) {
        KafkaError(response, 40902, "Consumer instance with the specified name already exists.");
        return "kafka.consumer.create";
      }
    }
    std::string host(request.Header("host"));
    if (host.empty()) host = "localhost";
    std::string b = "{\"instance_id\":";
    AppendJsonString(inst->name, &b);
    b += ",\"base_uri\":";
    AppendJsonString("http://" + host + "/consumers/" + group + "/instances/" + inst->name, &b);
    b += '}';
    Ok(response, std::move(b));
    return "kafka.consumer.create";
  }
  if (seg[1] != "instances" || seg.size() < 3 || seg.size() > 4) {
    NotFound(response);
    return "kafka.consumer.unknown";
  }
  auto inst = FindInstance(group, seg[2]);
  std::string_view action = seg.size() == 4 ? seg[3] : "";
  std::string_view route = action.empty()             ? "kafka.consumer.delete"
                           : action == "subscription" ? "kafka.consumer.subscription"
                           : action == "records"      ? "kafka.consumer.records"
                           : action == "offsets"      ? "kafka.consumer.offsets"
                           : action == "assignments"  ? "kafka.consumer.assignments"
                                                      : "kafka.consumer.unknown";
  if (route == "kafka.consumer.unknown") {
    NotFound(response);
    return route;
  }
  if (!inst) {
    KafkaError(response, kKafkaConsumerInstanceNotFound, "Consumer instance not found.");
    return route;
  }
  std::lock_guard il(inst->mu);
  inst->last_used_ms = clock_->NowMillis();
  if (action.empty()) {
    if (m != "DELETE") {
      MethodNotAllowed(response);
      return route;
    }
    (void)inst->consumer->Close();
    {
      std::lock_guard lock(instances_mu_);
      instances_.erase(group + "/" + inst->name);
    }
    NoContent(response);
    return route;
  }
  if (action == "subscription") {
    if (m == "GET") {
      std::string b = "{\"topics\":[";
      for (size_t k = 0; k < inst->topics.size(); ++k) {
        if (k > 0) b += ',';
        AppendJsonString(inst->topics[k], &b);
      }
      b += "]}";
      Ok(response, std::move(b));
      return route;
    }
    if (m == "DELETE") {
      Status s = inst->consumer->Subscribe({}, false);
      if (!s.ok()) {
        KafkaErrorFromStatus(response, s);
        return route;
      }
      inst->topics.clear();
      inst->pattern.clear();
      NoContent(response);
      return route;
    }
    if (m != "POST") {
      MethodNotAllowed(response);
      return route;
    }
    if (!MetadataContentType(request.Header("content-type"))) {
      UnsupportedMediaType(response);
      return route;
    }
    simdjson::dom::element root;
    if (auto err = ParseJson(request.body, root); err) {
      MalformedJson(response, err);
      return route;
    }
    simdjson::dom::object o;
    simdjson::dom::element topics_el;
    simdjson::dom::array topics;
    std::string_view pattern;
    if (root.get_object().get(o)) {
      KafkaError(response, 400, "Unexpected JSON: the request body must be an object");
      return route;
    }
    std::vector<std::string> names;
    if (GetField(o, "topics", topics_el) == FieldState::kOk && !topics_el.get_array().get(topics)) {
      for (simdjson::dom::element t : topics) {
        std::string_view name;
        if (t.get_string().get(name) || !ValidTopicName(name)) {
          KafkaError(response, kKafkaPayloadError, "Payload error. topics must be topic names");
          return route;
        }
        names.emplace_back(name);
      }
    }
    FieldState ps = GetString(o, "topic_pattern", pattern);
    if (names.empty() && ps != FieldState::kOk) {
      KafkaError(response, 40903,
                 "Subscription to topics, partitions and pattern are mutually exclusive.");
      return route;
    }
    Status s = ps == FieldState::kOk ? inst->consumer->Subscribe({std::string(pattern)}, true)
                                     : inst->consumer->Subscribe(names, false);
    if (!s.ok()) {
      KafkaErrorFromStatus(response, s);
      return route;
    }
    inst->topics = names;
    inst->pattern = std::string(pattern);
    NoContent(response);
    return route;
  }
  if (action == "records") {
    if (m != "GET") {
      MethodNotAllowed(response);
      return route;
    }
    std::string_view accept = MediaType(request.Header("accept"));
    const bool wants_json = IEquals(accept, "application/vnd.kafka.json.v2+json");
    const bool wants_binary = IEquals(accept, "application/vnd.kafka.binary.v2+json");
    if ((wants_json && inst->format != Format::kJson) ||
        (wants_binary && inst->format != Format::kBinary)) {
      KafkaError(response, 40601,
                 "The requested embedded data format does not match the deserializer for this "
                 "consumer instance");
      return route;
    }
    int64_t timeout = options_.consumer_request_timeout_ms;
    int64_t max_bytes = 64 << 20;
    if (auto t = ParseInt(request.QueryParam("timeout")); t.ok()) {
      timeout = std::clamp<int64_t>(*t, 0, options_.consumer_max_timeout_ms);
    }
    if (auto mb = ParseInt(request.QueryParam("max_bytes")); mb.ok() && *mb > 0) max_bytes = *mb;
    auto polled = inst->consumer->Poll(10'000, timeout);
    if (!polled.ok()) {
      KafkaErrorFromStatus(response, polled.status());
      return route;
    }
    std::string b = "[";
    int64_t size = 0;
    size_t emitted = 0;
    for (size_t idx = 0; idx < polled->size(); ++idx) {
      const auto& r = (*polled)[idx];
      const int64_t rsize =
          static_cast<int64_t>(r.value.value_or("").size() + r.key.value_or("").size());
      if (emitted > 0 && size + rsize > max_bytes) {
        // Give the rest back: the next poll of each partition starts at its
        // first record not returned.
        std::map<broker::TopicPartition, int64_t> rewind;
        for (size_t j = idx; j < polled->size(); ++j) {
          const auto& later = (*polled)[j];
          rewind.try_emplace({later.topic, later.partition}, later.offset);
        }
        for (const auto& [tp, offset] : rewind) (void)inst->consumer->Seek(tp, offset);
        break;
      }
      std::string item = emitted > 0 ? "," : "";
      item += "{\"topic\":";
      AppendJsonString(r.topic, &item);
      for (auto [field, data] :
           {std::pair{",\"key\":", &r.key}, std::pair{",\"value\":", &r.value}}) {
        item += field;
        if (!data->has_value()) {
          item += "null";
        } else if (inst->format == Format::kBinary) {
          item += '"';
          AppendBase64(item, **data);
          item += '"';
        } else {
          simdjson::dom::parser check;  // separate from the thread's request parser
          if (check.parse(**data).error()) {
            KafkaError(response, kKafkaError,
                       "Kafka error: record at offset " + std::to_string(r.offset) + " of " +
                           r.topic + " is not JSON and cannot be deserialized");
            return route;
          }
          item += **data;
        }
      }
      item += ",\"partition\":";
      AppendInt(item, r.partition);
      item += ",\"offset\":";
      AppendInt(item, r.offset);
      item += '}';
      b += item;
      size += rsize;
      ++emitted;
      inst->consumed[{r.topic, r.partition}] = r.offset + 1;
    }
    b += ']';
    if (inst->auto_commit && emitted > 0) {
      std::vector<broker::TopicPartitionOffset> offsets;
      for (auto& [tp, next] : inst->consumed) offsets.push_back({tp.topic, tp.partition, next});
      (void)inst->consumer->Commit(offsets);
    }
    response.status = 200;
    response.content_type = inst->format == Format::kJson ? "application/vnd.kafka.json.v2+json"
                                                          : "application/vnd.kafka.binary.v2+json";
    response.body = std::move(b);
    return route;
  }
  if (action == "offsets") {
    if (m == "POST") {
      std::vector<broker::TopicPartitionOffset> offsets;
      if (!request.body.empty()) {
        simdjson::dom::element root;
        if (auto err = ParseJson(request.body, root); err) {
          MalformedJson(response, err);
          return route;
        }
        simdjson::dom::object o;
        simdjson::dom::element el;
        simdjson::dom::array arr;
        if (root.get_object().get(o)) {
          KafkaError(response, 400, "Unexpected JSON: the request body must be an object");
          return route;
        }
        if (GetField(o, "offsets", el) == FieldState::kOk && !el.get_array().get(arr)) {
          for (simdjson::dom::element e : arr) {
            simdjson::dom::object eo;
            std::string_view topic;
            int64_t partition = -1, offset = -1;
            if (e.get_object().get(eo) || GetString(eo, "topic", topic) != FieldState::kOk ||
                GetInt(eo, "partition", partition) != FieldState::kOk ||
                GetInt(eo, "offset", offset) != FieldState::kOk || partition < 0 ||
                partition > INT32_MAX || offset < 0 || offset == INT64_MAX) {
              // The bounds: a partition is an int32 in Kafka, and offset + 1 below must
              // not overflow.
              KafkaError(response, kKafkaPayloadError,
                         "Payload error. offsets need topic, partition and offset");
              return route;
            }
            // v2 commits the offset of the last consumed record; the next one is +1.
            offsets.push_back({std::string(topic), static_cast<int32_t>(partition), offset + 1});
          }
        }
      }
      if (offsets.empty()) {
        for (auto& [tp, next] : inst->consumed) offsets.push_back({tp.topic, tp.partition, next});
      }
      Status s = inst->consumer->Commit(offsets);
      if (!s.ok()) {
        KafkaErrorFromStatus(response, s);
        return route;
      }
      NoContent(response);
      return route;
    }
    if (m == "GET") {
      std::vector<broker::TopicPartition> tps;
      simdjson::dom::element root;
      if (!request.body.empty() && !ParseJson(request.body, root)) {
        simdjson::dom::object o;
        simdjson::dom::element el;
        simdjson::dom::array arr;
        if (!root.get_object().get(o) && GetField(o, "partitions", el) == FieldState::kOk &&
            !el.get_array().get(arr)) {
          for (simdjson::dom::element e : arr) {
            simdjson::dom::object eo;
            std::string_view topic;
            int64_t partition = -1;
            if (!e.get_object().get(eo) && GetString(eo, "topic", topic) == FieldState::kOk &&
                GetInt(eo, "partition", partition) == FieldState::kOk && partition >= 0 &&
                partition <= INT32_MAX) {
              tps.push_back({std::string(topic), static_cast<int32_t>(partition)});
            }
          }
        }
      }
      if (tps.empty()) tps = inst->consumer->Assignment();
      auto committed = inst->consumer->Committed(tps);
      if (!committed.ok()) {
        KafkaErrorFromStatus(response, committed.status());
        return route;
      }
      std::string b = "{\"offsets\":[";
      for (size_t k = 0; k < committed->size(); ++k) {
        const auto& c = (*committed)[k];
        if (k > 0) b += ',';
        b += "{\"topic\":";
        AppendJsonString(c.topic, &b);
        b += ",\"partition\":";
        AppendInt(b, c.partition);
        b += ",\"offset\":";
        AppendInt(b, c.offset - 1);
        b += ",\"metadata\":\"\"}";
      }
      b += "]}";
      Ok(response, std::move(b));
      return route;
    }
    MethodNotAllowed(response);
    return route;
  }
  // assignments
  if (m != "GET") {
    MethodNotAllowed(response);
    return route;
  }
  std::string b = "{\"partitions\":[";
  auto assignment = inst->consumer->Assignment();
  for (size_t k = 0; k < assignment.size(); ++k) {
    if (k > 0) b += ',';
    b += "{\"topic\":";
    AppendJsonString(assignment[k].topic, &b);
    b += ",\"partition\":";
    AppendInt(b, assignment[k].partition);
    b += '}';
  }
  b += "]}";
  Ok(response, std::move(b));
  return route;
}

}  // namespace pinpipe::api
