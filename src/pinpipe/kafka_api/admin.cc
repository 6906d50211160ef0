#include "pinpipe/kafka_api/admin.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "pinpipe/log/log.h"

namespace pinpipe::kafka_api {
namespace {

constexpr int32_t kNoAuthorizedOperations = INT32_MIN;

// org.apache.kafka.common.config.ConfigResource.Type
constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;

// DescribeConfigsResponse ConfigSource and ConfigType values.
enum ConfigSource : int8_t { kDynamicTopic = 1, kStaticBroker = 4, kDefault = 5 };
enum ConfigType : int8_t { kBoolean = 1, kString = 2, kInt = 3, kLong = 5, kList = 7 };

struct ConfigEntry {
  std::string name;
  std::string value;
  ConfigSource source = kDefault;
  ConfigType type = kString;
  // The broker-wide setting this topic setting overrides ("" = none).
  std::string broker_synonym;
  std::string broker_value;
  // Whether AlterConfigs may change it (topic retention and segment limits).
  bool read_only = true;
};

std::string Num(int64_t v) { return std::to_string(v); }

// Kafka's flush.ms / flush.messages for the embedded log's fsync policy.
void FlushConfigs(const log::FsyncPolicy& p, ConfigSource source, std::vector<ConfigEntry>* out) {
  const std::string kNever = Num(std::numeric_limits<int64_t>::max());
  std::string ms = kNever, messages = kNever;
  if (p.mode == log::FsyncMode::kAlways) {
    messages = "1";
  } else if (p.mode == log::FsyncMode::kInterval) {
    ms = Num(p.interval_ms);
  }
  out->push_back({"flush.messages", messages, source, kLong, "log.flush.interval.messages", ""});
  out->push_back({"flush.ms", ms, source, kLong, "log.flush.interval.ms", ""});
}

// The configs of a topic, Kafka's names for pinpipe's settings. Explicit
// settings are DYNAMIC_TOPIC_CONFIG, the rest the log's defaults.
Result<std::vector<ConfigEntry>> TopicConfigs(const AdminContext& ctx, const std::string& name) {
  std::vector<ConfigEntry> out;
  out.push_back({"cleanup.policy", "delete", kDefault, kList, "log.cleanup.policy", "delete"});
  // Batches are stored decompressed (docs/kafka-protocol.md).
  out.push_back(
      {"compression.type", "uncompressed", kDefault, kString, "compression.type", "uncompressed"});
  out.push_back({"message.timestamp.type", "CreateTime", kDefault, kString,
                 "log.message.timestamp.type", "CreateTime"});
  out.push_back({"min.insync.replicas", "1", kDefault, kInt, "min.insync.replicas", "1"});
  if (ctx.log != nullptr) {
    PINPIPE_ASSIGN_OR_RETURN(auto topic, ctx.log->GetTopic(name));
    const log::TopicSettings& set = topic->settings();
    const log::PartitionOptions& eff = topic->effective();
    const log::LogOptions& def = ctx.log->options();
    auto add = [&](const char* key, int64_t explicit_value, int64_t effective, ConfigType type,
                   const char* broker_key, int64_t broker_value) {
      out.push_back({key, Num(effective), explicit_value != 0 ? kDynamicTopic : kDefault, type,
                     broker_key, Num(broker_value), /*read_only=*/false});
    };
    add("retention.ms", set.retention_ms, eff.retention_ms, kLong, "log.retention.ms",
        def.retention_ms);
    add("retention.bytes", set.retention_bytes, eff.retention_bytes, kLong, "log.retention.bytes",
        def.retention_bytes);
    add("segment.bytes", set.segment_bytes, eff.segment_bytes, kInt, "log.segment.bytes",
        def.segment_bytes);
    add("segment.ms", set.segment_ms, eff.segment_ms, kLong, "log.roll.ms", def.segment_ms);
    FlushConfigs(eff.fsync, set.fsync.empty() ? kDefault : kDynamicTopic, &out);
  } else {
    PINPIPE_ASSIGN_OR_RETURN(auto desc, ctx.broker->DescribeTopic(name));
    const broker::TopicConfig& c = desc.config;
    if (c.retention_ms != 0) {
      out.push_back({"retention.ms", Num(c.retention_ms), kDynamicTopic, kLong, "", "", false});
    }
    if (c.retention_bytes != 0) {
      out.push_back(
          {"retention.bytes", Num(c.retention_bytes), kDynamicTopic, kLong, "", "", false});
    }
    if (c.segment_bytes != 0) {
      out.push_back({"segment.bytes", Num(c.segment_bytes), kDynamicTopic, kInt, "", "", false});
    }
    if (c.segment_ms != 0) {
      out.push_back({"segment.ms", Num(c.segment_ms), kDynamicTopic, kLong, "", "", false});
    }
  }
  for (ConfigEntry& e : out) {
    if (e.broker_value.empty() && e.source == kDefault) e.broker_value = e.value;
  }
  return out;
}

// The node's own settings (resource type BROKER, name "0").
std::vector<ConfigEntry> BrokerConfigs(const AdminContext& ctx) {
  const ServerOptions& o = *ctx.options;
  const std::string listener = "PLAINTEXT://" + ctx.host + ":" + Num(ctx.port);
  std::vector<ConfigEntry> out = {
      {"node.id", "0", kStaticBroker, kInt, "", ""},
      {"broker.id", "0", kStaticBroker, kInt, "", ""},
      {"advertised.listeners", listener, kStaticBroker, kList, "", ""},
      {"listeners", "PLAINTEXT://" + o.listen, kStaticBroker, kList, "", ""},
      {"auto.create.topics.enable", o.auto_create_topics ? "true" : "false", kStaticBroker,
       kBoolean, "", ""},
      {"num.partitions", Num(o.default_partitions), kStaticBroker, kInt, "", ""},
      {"default.replication.factor", "1", kDefault, kInt, "", ""},
      {"socket.request.max.bytes", Num(o.max_request_bytes), kStaticBroker, kInt, "", ""},
      {"num.network.threads", Num(o.io_threads), kStaticBroker, kInt, "", ""},
  };
  if (ctx.log != nullptr) {
    const log::LogOptions& d = ctx.log->options();
    out.push_back({"log.dirs", d.dir.string(), kStaticBroker, kString, "", ""});
    out.push_back({"log.retention.ms", Num(d.retention_ms), kStaticBroker, kLong, "", ""});
    out.push_back({"log.retention.bytes", Num(d.retention_bytes), kStaticBroker, kLong, "", ""});
    out.push_back({"log.segment.bytes", Num(d.segment_bytes), kStaticBroker, kInt, "", ""});
    out.push_back({"log.roll.ms", Num(d.segment_ms), kStaticBroker, kLong, "", ""});
    std::vector<ConfigEntry> flush;
    FlushConfigs(d.fsync, kStaticBroker, &flush);
    for (ConfigEntry& e : flush) {
      e.name = e.broker_synonym;
      e.broker_synonym.clear();
      out.push_back(std::move(e));
    }
  }
  return out;
}

// AlterConfigs / IncrementalAlterConfigs ------------------------------------

// IncrementalAlterConfigsRequest ConfigOperation values.
enum AlterOp : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };

struct AlterResource {
  int8_t type = 0;
  std::string name;
  struct Entry {
    std::string name;
    int8_t op = kSet;
    std::optional<std::string> value;
  };
  std::vector<Entry> configs;
};

// What a request decodes to; nullopt when it does not decode.
struct AlterRequest {
  std::vector<AlterResource> resources;
  bool validate_only = false;
};

std::optional<AlterRequest> DecodeAlter(Reader& r, bool flexible, bool incremental) {
  AlterRequest req;
  const int32_t n = r.ArrayLength(flexible);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    AlterResource& res = req.resources.emplace_back();
    res.type = r.Int8();
    res.name = std::string(r.String(flexible));
    const int32_t nc = r.ArrayLength(flexible);
    for (int32_t c = 0; c < nc && r.ok(); ++c) {
      AlterResource::Entry& e = res.configs.emplace_back();
      e.name = std::string(r.String(flexible));
      if (incremental) e.op = r.Int8();
      if (auto v = r.NullableString(flexible)) e.value = std::string(*v);
      if (flexible) r.SkipTaggedFields();
    }
    if (flexible) r.SkipTaggedFields();
  }
  req.validate_only = r.Bool();
  if (flexible) r.SkipTaggedFields();
  if (!r.ok()) return std::nullopt;
  return req;
}

struct Outcome {
  int16_t error = kNone;
  std::string message;
};

// The topic settings AlterConfigs may change, by Kafka's names, explicit
// ones only (the rest are the log's defaults), as DescribeConfigs shows
// them as DYNAMIC_TOPIC_CONFIG.
using ExplicitConfigs = std::map<std::string, std::string>;

constexpr const char* kLimitKeys[] = {"retention.ms", "retention.bytes", "segment.bytes",
                                      "segment.ms"};
constexpr const char* kFlushKeys[] = {"flush.messages", "flush.ms"};
// Settings pinpipe has but cannot change: their one value is accepted (and
// changes nothing).
constexpr std::pair<const char*, const char*> kFixedKeys[] = {
    {"cleanup.policy", "delete"},
    {"compression.type", "uncompressed"},
    {"message.timestamp.type", "CreateTime"},
    {"min.insync.replicas", "1"},
};

bool IsOneOf(std::string_view key, std::span<const char* const> keys) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}
const char* FixedValue(std::string_view key) {
  for (const auto& [k, v] : kFixedKeys) {
    if (key == k) return v;
  }
  return nullptr;
}

// flush.messages and flush.ms of a policy (Long.MAX = never).
std::pair<std::string, std::string> FlushValues(const log::FsyncPolicy& p) {
  const std::string never = Num(std::numeric_limits<int64_t>::max());
  if (p.mode == log::FsyncMode::kAlways) return {"1", never};
  if (p.mode == log::FsyncMode::kInterval) return {never, Num(p.interval_ms)};
  return {never, never};
}

Result<ExplicitConfigs> CurrentTopicConfigs(const AdminContext& ctx, const std::string& name) {
  ExplicitConfigs out;
  auto put = [&](const char* key, int64_t v) {
    if (v != 0) out[key] = Num(v);
  };
  if (ctx.log != nullptr) {
    PINPIPE_ASSIGN_OR_RETURN(auto topic, ctx.log->GetTopic(name));
    const log::TopicSettings& s = topic->settings();
    put("retention.ms", s.retention_ms);
    put("retention.bytes", s.retention_bytes);
    put("segment.bytes", s.segment_bytes);
    put("segment.ms", s.segment_ms);
    if (!s.fsync.empty()) {
      auto [messages, ms] = FlushValues(topic->effective().fsync);
      out["flush.messages"] = messages;
      out["flush.ms"] = ms;
    }
  } else {
    PINPIPE_ASSIGN_OR_RETURN(auto desc, ctx.broker->DescribeTopic(name));
    put("retention.ms", desc.config.retention_ms);
    put("retention.bytes", desc.config.retention_bytes);
    put("segment.bytes", desc.config.segment_bytes);
    put("segment.ms", desc.config.segment_ms);
  }
  return out;
}

Outcome InvalidConfig(std::string message) { return {kInvalidConfig, std::move(message)}; }

// Checks a SET of a key pinpipe cannot change; nullopt when it is not one.
std::optional<Outcome> CheckFixed(const std::string& key, const std::optional<std::string>& value) {
  const char* fixed = FixedValue(key);
  if (fixed == nullptr) return std::nullopt;
  if (value && *value == fixed) return Outcome{};
  return InvalidConfig("Invalid value " + value.value_or("null") + " for configuration " + key +
                       ": pinpipe's log supports only " + key + "=" + fixed);
}

Outcome UnknownKey(const std::string& key) {
  return InvalidConfig(
      "Unknown topic config name: " + key +
      " (pinpipe's topics have retention.ms, retention.bytes, segment.bytes, segment.ms, "
      "flush.messages, flush.ms, cleanup.policy, compression.type, message.timestamp.type, "
      "min.insync.replicas)");
}

// Applies one IncrementalAlterConfigs operation to `configs`.
Outcome ApplyIncremental(const AlterResource::Entry& e, ExplicitConfigs* configs) {
  const bool alterable = IsOneOf(e.name, kLimitKeys) || IsOneOf(e.name, kFlushKeys);
  if (!alterable && FixedValue(e.name) == nullptr) return UnknownKey(e.name);
  const bool list = e.name == "cleanup.policy";
  switch (e.op) {
    case kSet:
      break;
    case kDelete:
      configs->erase(e.name);
      return {};
    case kAppend:
    case kSubtract:
      if (!list) {
        return InvalidConfig(std::string("Config value ") +
                             (e.op == kAppend ? "append" : "subtract") +
                             " is not allowed for config key: " + e.name);
      }
      if (e.op == kSubtract) {
        return InvalidConfig("cleanup.policy cannot be empty: pinpipe's log deletes old segments");
      }
      break;
    default:
      return {kInvalidRequest, "unknown config operation " + std::to_string(e.op)};
  }
  if (!e.value) return InvalidConfig("Null value not supported for: " + e.name);
  if (auto fixed = CheckFixed(e.name, e.value)) return *fixed;
  (*configs)[e.name] = *e.value;
  return {};
}

std::optional<int64_t> ParseLong(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    const int d = text[i] - '0';
    if (v > (std::numeric_limits<int64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return text[0] == '-' ? -v : v;
}

// The broker settings `configs` stand for, or INVALID_CONFIG naming the bad value.
Result<broker::TopicConfig> ToTopicConfig(const AdminContext& ctx, const ExplicitConfigs& configs,
                                          Outcome* bad) {
  broker::TopicConfig c;
  auto fail = [&](const std::string& key, const std::string& why) {
    *bad = InvalidConfig("Invalid value " + configs.at(key) + " for configuration " + key + ": " +
                         why);
    return InvalidArgumentError(bad->message);
  };
  struct Limit {
    const char* key;
    int64_t min;
    int64_t max;
    int64_t* out;
    const char* why;
  };
  const Limit limits[] = {
      {"retention.ms", -1, INT64_MAX, &c.retention_ms, "must be -1 (forever) or positive"},
      {"retention.bytes", -1, INT64_MAX, &c.retention_bytes, "must be -1 (unlimited) or positive"},
      {"segment.bytes", 4096, INT32_MAX, &c.segment_bytes, "must be 4096..2147483647"},
      {"segment.ms", 1, INT64_MAX, &c.segment_ms, "must be positive"},
  };
  for (const Limit& l : limits) {
    auto it = configs.find(l.key);
    if (it == configs.end()) continue;
    auto v = ParseLong(it->second);
    if (!v) return fail(l.key, "not a number");
    if (*v < l.min || *v > l.max || *v == 0) return fail(l.key, l.why);
    *l.out = *v;
  }
  const bool has_messages = configs.count("flush.messages") > 0;
  const bool has_ms = configs.count("flush.ms") > 0;
  if (has_messages || has_ms) {
    if (ctx.log == nullptr) {
      *bad = InvalidConfig(
          "flush.messages and flush.ms are the embedded log's fsync policy; "
          "this broker does not have them");
      return InvalidArgumentError(bad->message);
    }
    const auto [default_messages, default_ms] = FlushValues(ctx.log->options().fsync);
    const std::string& m = has_messages ? configs.at("flush.messages") : default_messages;
    const std::string& t = has_ms ? configs.at("flush.ms") : default_ms;
    const auto messages = ParseLong(m);
    const auto ms = ParseLong(t);
    if (!messages || *messages < 1) {
      return has_messages ? fail("flush.messages", "must be a positive number")
                          : InvalidArgumentError("bad default flush.messages");
    }
    if (!ms || *ms < 0) {
      return has_ms ? fail("flush.ms", "must be a number >= 0")
                    : InvalidArgumentError("bad default flush.ms");
    }
    constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
    if (*messages == 1) {
      c.fsync = "always";
    } else if (*ms != kNever) {
      if (*ms < 1 || *ms > 60000) {
        return fail("flush.ms",
                    "pinpipe's fsync interval is 1..60000 ms (or " + Num(kNever) + " for never)");
      }
      c.fsync = "interval:" + Num(*ms);
    } else if (*messages == kNever) {
      c.fsync = "never";
    } else {
      return fail("flush.messages",
                  "pinpipe's log syncs every record (1) or by time (" + Num(kNever) + ")");
    }
  }
  return c;
}

int16_t AlterErrorCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return kInvalidConfig;
    case StatusCode::kNotFound:
      return kUnknownTopicOrPartition;
    case StatusCode::kUnimplemented:
      return kInvalidRequest;
    default:
      return kKafkaStorageError;
  }
}

Outcome AlterResourceConfigs(const AdminContext& ctx, const AlterResource& res, bool incremental,
                             bool validate_only) {
  std::set<std::string> keys;
  for (const auto& e : res.configs) {
    if (!keys.insert(e.name).second) {
      return {kInvalidRequest, "Error due to duplicate config keys: " + e.name};
    }
  }
  if (res.type == kResourceBroker) {
    if (!ctx.principal.SeesAll())
      return {kClusterAuthorizationFailed, "Cluster authorization failed."};
    if (!res.name.empty() && res.name != "0") {
      return {kInvalidRequest, "this cluster has one broker, id 0"};
    }
    if (res.configs.empty()) return {};
    return InvalidConfig(
        "pinpipe's broker settings are static: set them in pinpipe's "
        "configuration (log.*, kafka_api.*) and restart; per-topic settings "
        "can change (--entity-type topics)");
  }
  if (res.type != kResourceTopic) {
    return {kInvalidRequest, "resource type " + std::to_string(res.type) + " is not served"};
  }
  if (!ctx.principal.MayTopic(res.name))
    return {kTopicAuthorizationFailed, "Topic authorization failed."};
  if (!ValidTopicName(res.name)) return {kInvalidTopicException, "invalid topic name"};
  auto current = CurrentTopicConfigs(ctx, res.name);
  if (!current.ok()) {
    return {current.status().code() == StatusCode::kNotFound ? int16_t{kUnknownTopicOrPartition}
                                                             : int16_t{kUnknownServerError},
            current.status().message()};
  }
  // AlterConfigs names the whole new set; the incremental form changes the current one.
  ExplicitConfigs configs = incremental ? std::move(*current) : ExplicitConfigs{};
  for (const auto& e : res.configs) {
    if (incremental) {
      Outcome o = ApplyIncremental(e, &configs);
      if (o.error != kNone) return o;
    } else if (IsOneOf(e.name, kLimitKeys) || IsOneOf(e.name, kFlushKeys)) {
      if (!e.value) return InvalidConfig("Null value not supported for: " + e.name);
      configs[e.name] = *e.value;
    } else if (auto fixed = CheckFixed(e.name, e.value)) {
      if (fixed->error != kNone) return *fixed;
    } else {
      return UnknownKey(e.name);
    }
  }
  Outcome bad;
  auto config = ToTopicConfig(ctx, configs, &bad);
  if (!config.ok()) {
    return bad.error != kNone ? bad : Outcome{kUnknownServerError, config.status().message()};
  }
  Status s = ctx.broker->AlterTopicConfig(res.name, *config, validate_only);
  if (!s.ok()) return {AlterErrorCode(s), s.message()};
  return {};
}

std::optional<BodyWriter> Alter(const AdminContext& ctx, bool flexible, bool incremental,
                                Reader& r) {
  auto req = DecodeAlter(r, flexible, incremental);
  if (!req) return std::nullopt;
  return [ctx, flexible, incremental, req = std::move(*req)](Writer& w) {
    std::multiset<std::pair<int8_t, std::string>> seen;
    for (const AlterResource& res : req.resources) seen.emplace(res.type, res.name);
    w.Int32(0);  // throttle
    w.ArrayLength(static_cast<int32_t>(req.resources.size()), flexible);
    for (const AlterResource& res : req.resources) {
      Outcome o = seen.count({res.type, res.name}) > 1
                      ? Outcome{kInvalidRequest, "Error due to duplicate resource: " + res.name}
                      : AlterResourceConfigs(ctx, res, incremental, req.validate_only);
      w.Int16(o.error);
      w.NullableString(o.error == kNone ? std::nullopt : std::optional<std::string_view>(o.message),
                       flexible);
      w.Int8(res.type);
      w.String(res.name, flexible);
      if (flexible) w.EmptyTaggedFields();
    }
  };
}

}  // namespace

std::optional<BodyWriter> AlterConfigs(const AdminContext& ctx, int16_t version, bool flexible,
                                       Reader& r) {
  (void)version;
  return Alter(ctx, flexible, /*incremental=*/false, r);
}

std::optional<BodyWriter> IncrementalAlterConfigs(const AdminContext& ctx, int16_t version,
                                                  bool flexible, Reader& r) {
  (void)version;
  return Alter(ctx, flexible, /*incremental=*/true, r);
}

std::optional<BodyWriter> ListGroups(const AdminContext& ctx, int16_t version, bool flexible,
                                     Reader& r) {
  std::vector<std::string> states;
  if (version >= 4) {
    const int32_t n = r.ArrayLength(flexible);
    for (int32_t i = 0; i < n && r.ok(); ++i) states.emplace_back(r.String(flexible));
  }
  if (flexible) r.SkipTaggedFields();
  if (!r.ok()) return std::nullopt;
  return [ctx, version, flexible, states = std::move(states)](Writer& w) {
    std::vector<GroupCoordinator::GroupSummary> groups = ctx.groups->List();
    // Groups with only committed offsets (REST consumers, pinpipe sink and the
    // streaming job, simple consumers) are Empty with no protocol type, as Kafka
    // lists a group that no member joined.
    if (auto committed = ctx.broker->ListGroups(); committed.ok()) {
      std::set<std::string> known;
      for (const auto& g : groups) known.insert(g.group);
      for (std::string& id : *committed) {
        if (!known.contains(id)) groups.push_back({std::move(id), "Empty", "", 0});
      }
    } else if (committed.status().code() != StatusCode::kUnimplemented) {
      spdlog::warn("kafka_api: ListGroups lists only joined groups: {}",
                   committed.status().ToString());
    }
    std::erase_if(groups, [&](const auto& g) {
      return !ctx.principal.MayGroup(g.group) ||
             (!states.empty() && std::find(states.begin(), states.end(), g.state) == states.end());
    });
    std::sort(groups.begin(), groups.end(),
              [](const auto& a, const auto& b) { return a.group < b.group; });
    if (version >= 1) w.Int32(0);  // throttle
    w.Int16(kNone);
    w.ArrayLength(static_cast<int32_t>(groups.size()), flexible);
    for (const auto& g : groups) {
      w.String(g.group, flexible);
      w.String(g.protocol_type, flexible);
      if (version >= 4) w.String(g.state, flexible);
      if (flexible) w.EmptyTaggedFields();
    }
  };
}

std::optional<BodyWriter> DescribeGroups(const AdminContext& ctx, int16_t version, bool flexible,
                                         Reader& r) {
  std::vector<std::string> groups;
  const int32_t n = r.ArrayLength(flexible);
  for (int32_t i = 0; i < n && r.ok(); ++i) groups.emplace_back(r.String(flexible));
  if (version >= 3) (void)r.Bool();  // include authorized operations: no ACLs here
  if (flexible) r.SkipTaggedFields();
  if (!r.ok()) return std::nullopt;
  return [ctx, version, flexible, groups = std::move(groups)](Writer& w) {
    if (version >= 1) w.Int32(0);  // throttle
    w.ArrayLength(static_cast<int32_t>(groups.size()), flexible);
    for (const std::string& id : groups) {
      GroupDescription d = ctx.groups->Describe(id);
      int16_t error = kNone;
      if (!ctx.principal.MayGroup(id)) {
        error = kGroupAuthorizationFailed;
        d = GroupDescription{};
        d.state = "Dead";
      } else if (id.empty()) {
        error = 24;  // INVALID_GROUP_ID
      } else if (!d.known) {
        // A group without members here may still have offsets in the broker (REST
        // consumers, pinpipe sink, simple consumers): Kafka shows those as Empty.
        if (auto topics = ctx.broker->ListTopics(); topics.ok()) {
          for (const std::string& t : *topics) {
            auto committed = ctx.broker->FetchCommittedOffsets(id, t);
            if (committed.ok() && !committed->empty()) {
              d.state = "Empty";
              break;
            }
          }
        }
      }
      w.Int16(error);
      w.String(id, flexible);
      w.String(d.state, flexible);
      w.String(d.protocol_type, flexible);
      w.String(d.protocol_name, flexible);
      w.ArrayLength(static_cast<int32_t>(d.members.size()), flexible);
      for (const GroupDescription::Member& m : d.members) {
        w.String(m.member_id, flexible);
        if (version >= 4) w.NullableString(std::nullopt, flexible);  // no static membership
        w.String(m.client_id, flexible);
        w.String(m.client_host, flexible);
        w.Bytes(m.metadata, flexible);
        w.Bytes(m.assignment, flexible);
        if (flexible) w.EmptyTaggedFields();
      }
      if (version >= 3) w.Int32(kNoAuthorizedOperations);
      if (flexible) w.EmptyTaggedFields();
    }
  };
}

std::optional<BodyWriter> DescribeConfigs(const AdminContext& ctx, int16_t version, bool flexible,
                                          Reader& r) {
  struct Resource {
    int8_t type;
    std::string name;
    std::optional<std::set<std::string>> keys;  // nullopt: all
  };
  std::vector<Resource> resources;
  const int32_t n = r.ArrayLength(flexible);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    Resource& res = resources.emplace_back();
    res.type = r.Int8();
    res.name = std::string(r.String(flexible));
    const int32_t nk = r.ArrayLength(flexible);
    if (nk >= 0) {
      res.keys.emplace();
      for (int32_t k = 0; k < nk && r.ok(); ++k) res.keys->emplace(r.String(flexible));
    }
    if (flexible) r.SkipTaggedFields();
  }
  const bool synonyms = version >= 1 && r.Bool();
  const bool documentation = version >= 3 && r.Bool();
  if (flexible) r.SkipTaggedFields();
  if (!r.ok()) return std::nullopt;
  (void)documentation;  // none is sent: the documentation field is null
  return [ctx, version, flexible, synonyms, resources = std::move(resources)](Writer& w) {
    w.Int32(0);  // throttle
    w.ArrayLength(static_cast<int32_t>(resources.size()), flexible);
    for (const Resource& res : resources) {
      int16_t error = kNone;
      std::string message;
      std::vector<ConfigEntry> configs;
      if (res.type == kResourceTopic) {
        if (!ctx.principal.MayTopic(res.name)) {
          error = kTopicAuthorizationFailed;
          message = "Topic authorization failed.";
        } else if (!ValidTopicName(res.name)) {
          error = kInvalidTopicException;
          message = "invalid topic name";
        } else if (auto c = TopicConfigs(ctx, res.name); c.ok()) {
          configs = std::move(*c);
        } else {
          error = c.status().code() == StatusCode::kNotFound ? int16_t{kUnknownTopicOrPartition}
                                                             : int16_t{kUnknownServerError};
          message = c.status().message();
        }
      } else if (res.type == kResourceBroker) {
        if (!ctx.principal.SeesAll()) {
          error = kClusterAuthorizationFailed;
          message = "Cluster authorization failed.";
        } else if (res.name == "0") {
          configs = BrokerConfigs(ctx);
        } else if (!res.name.empty()) {  // "" is the cluster default: none set
          error = kInvalidRequest;
          message = "this cluster has one broker, id 0";
        }
      } else {
        error = kInvalidRequest;
        message = "resource type " + std::to_string(res.type) + " is not served";
      }
      if (res.keys) {
        std::erase_if(configs, [&](const ConfigEntry& e) { return !res.keys->contains(e.name); });
      }
      w.Int16(error);
      w.NullableString(message.empty() ? std::nullopt : std::optional<std::string_view>(message),
                       flexible);
      w.Int8(res.type);
      w.String(res.name, flexible);
      w.ArrayLength(static_cast<int32_t>(configs.size()), flexible);
      for (const ConfigEntry& e : configs) {
        w.String(e.name, flexible);
        w.NullableString(e.value, flexible);
        w.Bool(e.read_only);
        if (version == 0) w.Bool(e.source == kDefault);
        if (version >= 1) w.Int8(e.source);
        w.Bool(false);  // sensitive
        if (version >= 1) {
          std::vector<std::pair<std::string, ConfigSource>> syn;
          if (synonyms) {
            if (e.source == kDynamicTopic) syn.emplace_back(e.name, kDynamicTopic);
            if (!e.broker_synonym.empty()) syn.emplace_back(e.broker_synonym, kDefault);
            if (e.broker_synonym.empty() && e.source != kDynamicTopic) {
              syn.emplace_back(e.name, e.source);
            }
          }
          w.ArrayLength(static_cast<int32_t>(syn.size()), flexible);
          for (const auto& [name, source] : syn) {
            w.String(name, flexible);
            const bool topic_level = source == kDynamicTopic;
            w.NullableString(topic_level || e.broker_value.empty() ? e.value : e.broker_value,
                             flexible);
            w.Int8(source);
            if (flexible) w.EmptyTaggedFields();
          }
        }
        if (version >= 3) {
          w.Int8(e.type);
          w.NullableString(std::nullopt, flexible);
        }
        if (flexible) w.EmptyTaggedFields();
      }
      if (flexible) w.EmptyTaggedFields();
    }
  };
}

std::optional<BodyWriter> CreatePartitions(const AdminContext& ctx, int16_t version, bool flexible,
                                           Reader& r) {
  (void)version;
  struct Request {
    std::string name;
    int32_t count = 0;
    std::optional<std::vector<std::vector<int32_t>>> assignments;
  };
  std::vector<Request> topics;
  const int32_t n = r.ArrayLength(flexible);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    Request& t = topics.emplace_back();
    t.name = std::string(r.String(flexible));
    t.count = r.Int32();
    const int32_t na = r.ArrayLength(flexible);
    if (na >= 0) {
      t.assignments.emplace();
      for (int32_t a = 0; a < na && r.ok(); ++a) {
        auto& ids = t.assignments->emplace_back();
        const int32_t nb = r.ArrayLength(flexible, 4);
        for (int32_t b = 0; b < nb && r.ok(); ++b) ids.push_back(r.Int32());
        if (flexible) r.SkipTaggedFields();
      }
    }
    if (flexible) r.SkipTaggedFields();
  }
  (void)r.Int32();  // timeout: answered when done
  const bool validate_only = r.Bool();
  if (flexible) r.SkipTaggedFields();
  if (!r.ok()) return std::nullopt;
  return [ctx, flexible, validate_only, topics = std::move(topics)](Writer& w) {
    std::multiset<std::string> names;
    for (const Request& t : topics) names.insert(t.name);
    w.Int32(0);  // throttle
    w.ArrayLength(static_cast<int32_t>(topics.size()), flexible);
    for (const Request& t : topics) {
      int16_t error = kNone;
      std::string message;
      if (names.count(t.name) > 1) {
        error = kInvalidRequest;
        message = "topic " + t.name + " appears more than once in the request";
      } else if (!ctx.principal.MayTopic(t.name)) {
        error = kTopicAuthorizationFailed;
        message = "Topic authorization failed.";
      } else if (!ValidTopicName(t.name)) {
        error = kInvalidTopicException;
        message = "invalid topic name";
      } else if (auto desc = ctx.broker->DescribeTopic(t.name); !desc.ok()) {
        error = desc.status().code() == StatusCode::kNotFound ? int16_t{kUnknownTopicOrPartition}
                                                              : int16_t{kUnknownServerError};
        message = desc.status().message();
      } else {
        const int32_t current = static_cast<int32_t>(desc->partitions.size());
        bool assignment_ok = true;
        if (t.assignments) {
          assignment_ok = static_cast<int32_t>(t.assignments->size()) == t.count - current;
          for (const auto& ids : *t.assignments) {
            assignment_ok = assignment_ok && ids == std::vector<int32_t>{0};
          }
        }
        if (t.count <= current) {
          error = kInvalidPartitions;
          message = "Topic currently has " + std::to_string(current) +
                    " partitions, which is higher than or equal to the requested " +
                    std::to_string(t.count) + ".";
        } else if (t.count > 10000) {
          error = kInvalidPartitions;
          message = "at most 10000 partitions per topic";
        } else if (!assignment_ok) {
          error = kInvalidReplicaAssignment;
          message = "one broker (id 0) with one replica per new partition";
        } else if (!validate_only) {
          Status s = ctx.broker->CreatePartitions(t.name, t.count);
          if (!s.ok()) {
            error = s.code() == StatusCode::kInvalidArgument ? int16_t{kInvalidPartitions}
                    : s.code() == StatusCode::kNotFound      ? int16_t{kUnknownTopicOrPartition}
                    : s.code() == StatusCode::kUnimplemented ? int16_t{kInvalidRequest}
                                                             : int16_t{kKafkaStorageError};
            message = s.message();
          }
        }
      }
      w.String(t.name, flexible);
      w.Int16(error);
      w.NullableString(message.empty() ? std::nullopt : std::optional<std::string_view>(message),
                       flexible);
      if (flexible) w.EmptyTaggedFields();
    }
  };
}

std::optional<BodyWriter> DescribeCluster(const AdminContext& ctx, int16_t version, bool flexible,
                                          Reader& r) {
  (void)r.Bool();  // include cluster authorized operations: no ACLs here
  const int8_t endpoint_type = version >= 1 ? r.Int8() : 1;
  if (flexible) r.SkipTaggedFields();
  if (!r.ok()) return std::nullopt;
  return [ctx, version, flexible, endpoint_type](Writer& w) {
    w.Int32(0);  // throttle
    // Only brokers (1) are described; controllers (2) get MISMATCHED_ENDPOINT_TYPE, as a
    // Kafka broker answers.
    const bool brokers = endpoint_type == 1;
    w.Int16(brokers ? int16_t{kNone} : int16_t{114});
    w.NullableString(
        brokers ? std::nullopt : std::optional<std::string_view>("this node is a broker"),
        flexible);
    if (version >= 1) w.Int8(endpoint_type);
    w.String(ctx.options->cluster_id, flexible);
    w.Int32(0);  // controller
    w.ArrayLength(brokers ? 1 : 0, flexible);
    if (brokers) {
      w.Int32(0);
      w.String(ctx.host, flexible);
      w.Int32(ctx.port);
      w.NullableString(std::nullopt, flexible);  // rack
      if (flexible) w.EmptyTaggedFields();
    }
    w.Int32(kNoAuthorizedOperations);
  };
}

}  // namespace pinpipe::kafka_api
