#include "pinpipe/api/kinesis.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pinpipe/api/codec.h"
#include "pinpipe/api/errors.h"
#include "pinpipe/api/json_util.h"
#include "pinpipe/base/config.h"
#include "pinpipe/base/file.h"
#include "pinpipe/base/uri.h"

namespace pinpipe::api {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";

std::string ValidationMessage(std::string_view value, std::string_view field,
                              std::string_view constraint) {
  return "1 validation error detected: Value '" + std::string(value) + "' at '" +
         std::string(field) + "' failed to satisfy constraint: " + std::string(constraint);
}

void Validation(http::Response& response, std::string message) {
  KinesisError(response, "ValidationException", message);
}

void InvalidArgument(http::Response& response, std::string message) {
  KinesisError(response, "InvalidArgumentException", message);
}

void Serialization(http::Response& response, std::string message) {
  KinesisError(response, "SerializationException", message);
}

// The first shard after `exclusive_start_shard_id` (0 when it is empty), or
// nullopt after writing the ValidationException for a malformed id.
std::optional<int32_t> FirstShardAfter(std::string_view exclusive_start_shard_id,
                                       http::Response& response) {
  if (exclusive_start_shard_id.empty()) return 0;
  auto after = ParseShardId(exclusive_start_shard_id);
  if (!after) {
    Validation(response, ValidationMessage(exclusive_start_shard_id, "exclusiveStartShardId",
                                           "Member must satisfy regular expression "
                                           "pattern: [a-zA-Z0-9_.-]+"));
    return std::nullopt;
  }
  return *after + 1;
}

// `body` as a JSON object (a view into this thread's parser, valid until its
// next parse), or nullopt after writing the SerializationException.
std::optional<simdjson::dom::object> ParseObject(std::string_view body, http::Response& response) {
  simdjson::dom::element root;
  if (auto err = ParseJson(body, root); err) {
    Serialization(response, std::string("Malformed JSON: ") + simdjson::error_message(err));
    return std::nullopt;
  }
  simdjson::dom::object o;
  if (root.get_object().get(o)) {
    Serialization(response, "Expected a JSON object");
    return std::nullopt;
  }
  return o;
}

// Epoch seconds with millisecond precision, as the JSON 1.1 protocol writes timestamps.
void AppendEpochSeconds(std::string& out, int64_t ms) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  out += buf;
}

void Ok(http::Response& response, std::string body) {
  response.status = 200;
  response.content_type = std::string(kKinesisContentType);
  response.body = std::move(body);
}

std::optional<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Durable as well as atomic (temp file, fsync, rename, fsync of the folder):
// a stream created or an iterator key made survives a power cut.
Status WriteFileAtomically(const fs::path& path, std::string_view data) {
  return FileSystem::Default().WriteFileAtomically(path, data);
}

}  // namespace

bool ValidStreamName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Kinesis::Kinesis(broker::Broker& broker, Metrics& metrics, KinesisOptions options)
    : broker_(broker),
      metrics_(metrics),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &Clock::Real()) {}

namespace {

// Stream metadata as broker topic metadata (broker::TopicMetadata keys).
constexpr char kShardsKey[] = "kinesis.shards";
constexpr char kCreatedKey[] = "kinesis.created_ms";
constexpr char kStatusKey[] = "kinesis.status";
constexpr char kRetentionKey[] = "kinesis.retention_hours";

broker::TopicMetadata ToMetadata(const StreamInfo& info) {
  return {{kShardsKey, std::to_string(info.shards)},
          {kCreatedKey, std::to_string(info.created_ms)},
          {kStatusKey, info.status},
          {kRetentionKey, std::to_string(info.retention_hours)}};
}

// nullopt when `m` holds no stream metadata (a bare topic) or a bad one.
std::optional<StreamInfo> FromMetadata(std::string_view name, const broker::TopicMetadata& m) {
  auto created = m.find(kCreatedKey);
  if (created == m.end()) return std::nullopt;
  auto number = [&](const char* key, int64_t fallback) -> std::optional<int64_t> {
    auto it = m.find(key);
    if (it == m.end()) return fallback;
    auto v = ParseInt(it->second);
    return v.ok() ? std::optional<int64_t>(*v) : std::nullopt;
  };
  auto created_ms = number(kCreatedKey, 0);
  auto shards = number(kShardsKey, 1);
  auto retention = number(kRetentionKey, 24);
  if (!created_ms || !shards || !retention || *shards < 1) return std::nullopt;
  StreamInfo info;
  info.name = std::string(name);
  info.shards = static_cast<int32_t>(*shards);
  info.created_ms = *created_ms;
  info.retention_hours = static_cast<int32_t>(*retention);
  if (auto it = m.find(kStatusKey); it != m.end()) info.status = it->second;
  return info;
}

}  // namespace

Status Kinesis::Open() {
  if (!options_.iterator_key.empty()) {
    iterator_key_ = options_.iterator_key;
  } else if (options_.data_dir.empty()) {
    iterator_key_.resize(32);
    RAND_bytes(reinterpret_cast<unsigned char*>(iterator_key_.data()), 32);
  } else {
    // One node: a key generated once per data folder. Several nodes behind one
    // load balancer must share a configured key instead (api.kinesis_iterator_key).
    fs::path dir = fs::path(options_.data_dir) / "kinesis";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return UnavailableError("create " + dir.string() + ": " + ec.message());
    fs::path key_file = dir / "iterator.key";
    if (auto key = ReadWholeFile(key_file); key && key->size() == 32) {
      iterator_key_ = *key;
    } else {
      iterator_key_.resize(32);
      RAND_bytes(reinterpret_cast<unsigned char*>(iterator_key_.data()), 32);
      PINPIPE_RETURN_IF_ERROR(WriteFileAtomically(key_file, iterator_key_));
      fs::permissions(key_file, fs::perms::owner_read | fs::perms::owner_write, ec);
    }
  }
  return MigrateCatalogFiles();
}

// Before stream metadata lived in the broker, it was one JSON file per stream
// under <data_dir>/kinesis/streams/. Each one moves into its topic's metadata
// (unless the topic already has some) and is then removed; a file whose topic
// no longer exists is dropped. A failure leaves the file for the next start.
Status Kinesis::MigrateCatalogFiles() {
  if (options_.data_dir.empty()) return Status::Ok();
  const fs::path dir = fs::path(options_.data_dir) / "kinesis" / "streams";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Ok();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    auto text = ReadWholeFile(entry.path());
    if (!text) return UnavailableError("read " + entry.path().string());
    auto j = nlohmann::json::parse(*text, nullptr, false);
    StreamInfo info;
    if (!j.is_discarded() && j.is_object()) {
      info.name = j.value("name", "");
      info.shards = j.value("shards", 1);
      info.created_ms = j.value("created_ms", int64_t{0});
      info.status = j.value("status", "ACTIVE");
      info.retention_hours = j.value("retention_hours", 24);
    }
    if (!ValidStreamName(info.name) || info.shards < 1) {
      spdlog::warn("kinesis: ignoring unreadable stream metadata {}", entry.path().string());
      continue;
    }
    auto existing = broker_.GetTopicMetadata(info.name);
    if (existing.ok()) {
      if (!FromMetadata(info.name, *existing)) {
        PINPIPE_RETURN_IF_ERROR(broker_.SetTopicMetadata(info.name, ToMetadata(info))
                                    .WithContext("migrate " + entry.path().string()));
      }
    } else if (existing.status().code() != StatusCode::kNotFound) {
      return existing.status().WithContext("migrate " + entry.path().string());
    }
    fs::remove(entry.path(), ec);
    if (ec) return UnavailableError("remove " + entry.path().string() + ": " + ec.message());
  }
  if (ec) return UnavailableError("list " + dir.string() + ": " + ec.message());
  fs::remove(dir, ec);  // only when empty (unreadable files stay for a human)
  return Status::Ok();
}

std::string Kinesis::StreamArn(std::string_view name) const {
  return "arn:aws:kinesis:" + options_.region + ":" + options_.account_id + ":stream/" +
         std::string(name);
}

Result<StreamInfo> Kinesis::Lookup(std::string_view name) {
  {
    std::shared_lock lock(mu_);
    auto it = streams_.find(name);
    if (it != streams_.end()) return it->second;
  }
  return Load(name);
}

Result<StreamInfo> Kinesis::Load(std::string_view name) {
  auto metadata = broker_.GetTopicMetadata(name);
  if (!metadata.ok()) {
    if (metadata.status().code() == StatusCode::kNotFound) {
      std::unique_lock lock(mu_);
      streams_.erase(std::string(name));
      return NotFoundError("Stream " + std::string(name) + " under account " + options_.account_id +
                           " not found.");
    }
    return metadata.status();
  }
  std::optional<StreamInfo> info = FromMetadata(name, *metadata);
  if (!info) {
    // A topic created outside this API (e.g. by the streaming job) is a stream too.
    auto desc = broker_.DescribeTopic(name);
    if (!desc.ok()) return desc.status();
    info.emplace();
    info->name = std::string(name);
    info->shards = static_cast<int32_t>(desc->partitions.size());
    info->created_ms = clock_->NowMillis();
    if (Status s = broker_.SetTopicMetadata(name, ToMetadata(*info)); !s.ok()) {
      spdlog::warn("kinesis: {}", s.ToString());
    }
  }
  std::unique_lock lock(mu_);
  streams_[info->name] = *info;
  return *info;
}

Result<StreamInfo> Kinesis::LookupOrCreate(std::string_view name, bool auto_create) {
  auto info = Lookup(name);
  if (info.ok() || !auto_create || info.status().code() != StatusCode::kNotFound) return info;
  StreamInfo fresh;
  fresh.name = std::string(name);
  fresh.shards = options_.default_shards;
  fresh.created_ms = clock_->NowMillis();
  Status s = CreateLocked(fresh);
  if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
  return Lookup(name);
}

Status Kinesis::CreateLocked(const StreamInfo& info) {
  std::unique_lock lock(mu_);
  broker::TopicConfig config;
  config.partitions = info.shards;
  config.retention_ms = static_cast<int64_t>(info.retention_hours) * 3600 * 1000;
  Status s = broker_.CreateTopic(info.name, config);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Stream " + info.name + " under account " + options_.account_id +
                              " already exists.");
  }
  PINPIPE_RETURN_IF_ERROR(s);
  PINPIPE_RETURN_IF_ERROR(broker_.SetTopicMetadata(info.name, ToMetadata(info)));
  streams_[info.name] = info;
  return Status::Ok();
}

std::vector<StreamInfo> Kinesis::ListStreams(const NameFilter& visible) {
  // Streams are topics with stream metadata, created through any node.
  std::vector<StreamInfo> out;
  auto topics = broker_.ListTopics();
  if (!topics.ok()) {
    spdlog::warn("kinesis: list streams: {}", topics.status().ToString());
    return out;
  }
  std::map<std::string, StreamInfo, std::less<>> known;
  {
    std::shared_lock lock(mu_);
    known = streams_;
  }
  for (const std::string& name : *topics) {
    if (visible && !visible(name)) continue;
    if (auto it = known.find(name); it != known.end()) {
      out.push_back(it->second);
      continue;
    }
    auto metadata = broker_.GetTopicMetadata(name);
    if (!metadata.ok()) continue;  // deleted meanwhile
    if (auto info = FromMetadata(name, *metadata)) {
      out.push_back(*info);
      std::unique_lock lock(mu_);
      streams_[name] = *info;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Actions

void Kinesis::CreateStream(std::string_view name, int64_t shards, http::Response& response) {
  if (!ValidStreamName(name)) {
    return Validation(response, ValidationMessage(name, "streamName",
                                                  "Member must satisfy regular expression "
                                                  "pattern: [a-zA-Z0-9_.-]+"));
  }
  if (shards < 1) {
    return Validation(response, ValidationMessage(std::to_string(shards), "shardCount",
                                                  "Member must have value greater than or "
                                                  "equal to 1"));
  }
  if (shards > options_.max_shards) {
    return KinesisError(response, "LimitExceededException",
                        "This request would exceed the shard limit for the account " +
                            options_.account_id + " in " + options_.region +
                            ". Current limit of shards is " + std::to_string(options_.max_shards) +
                            ".");
  }
  StreamInfo info;
  info.name = std::string(name);
  info.shards = static_cast<int32_t>(shards);
  info.created_ms = clock_->NowMillis();
  if (Status s = CreateLocked(info); !s.ok()) return KinesisErrorFromStatus(response, s);
  Ok(response, "{}");
}

void Kinesis::DeleteStream(std::string_view name, http::Response& response) {
  auto info = Lookup(name);
  if (!info.ok()) return KinesisErrorFromStatus(response, info.status());
  std::unique_lock lock(mu_);
  Status s = broker_.DeleteTopic(name);  // the stream metadata goes with the topic
  if (!s.ok() && s.code() != StatusCode::kNotFound) return KinesisErrorFromStatus(response, s);
  streams_.erase(std::string(name));
  Ok(response, "{}");
}

void Kinesis::DescribeStream(std::string_view name, bool summary, int64_t limit,
                             std::string_view exclusive_start_shard_id, http::Response& response) {
  if (limit < 1 || limit > 10000) {
    return Validation(response, ValidationMessage(std::to_string(limit), "limit",
                                                  "Member must have value between 1 and 10000"));
  }
  std::optional<int32_t> after = FirstShardAfter(exclusive_start_shard_id, response);
  if (!after) return;
  int32_t first = *after;
  auto info = Lookup(name);
  if (!info.ok()) return KinesisErrorFromStatus(response, info.status());
  first = std::min(first, info->shards);
  const int32_t end = static_cast<int32_t>(std::min<int64_t>(info->shards, first + limit));
  std::string b;
  b.reserve(512 + 256 * static_cast<size_t>(end - first));
  b += summary ? "{\"StreamDescriptionSummary\":{" : "{\"StreamDescription\":{";
  b += "\"StreamName\":";
  AppendJsonString(info->name, &b);
  b += ",\"StreamARN\":";
  AppendJsonString(StreamArn(info->name), &b);
  b += ",\"StreamStatus\":";
  AppendJsonString(info->status, &b);
  b += ",\"StreamModeDetails\":{\"StreamMode\":\"PROVISIONED\"},\"RetentionPeriodHours\":";
  AppendInt(b, info->retention_hours);
  b += ",\"StreamCreationTimestamp\":";
  AppendEpochSeconds(b, info->created_ms);
  b += ",\"EnhancedMonitoring\":[{\"ShardLevelMetrics\":[]}],\"EncryptionType\":\"NONE\"";
  if (summary) {
    b += ",\"OpenShardCount\":";
    AppendInt(b, info->shards);
    b += ",\"ConsumerCount\":0}}";
    return Ok(response, std::move(b));
  }
  b += ",\"HasMoreShards\":";
  b += end < info->shards ? "true" : "false";
  b += ",\"Shards\":[";
  AppendShards(name, info->shards, first, end, b);
  b += "]}}";
  Ok(response, std::move(b));
}

namespace {

// Pagination tokens: "<kind>\n<stream or empty>\n<position>", base64. They carry no secret:
// a forged one can only list metadata the caller may list anyway.
std::string PageToken(std::string_view kind, std::string_view stream, std::string_view pos) {
  return Base64Encode(std::string(kind) + "\n" + std::string(stream) + "\n" + std::string(pos));
}

bool ParsePageToken(std::string_view token, std::string_view kind, std::string& stream,
                    std::string& pos) {
  auto raw = Base64Decode(token);
  if (!raw) return false;
  size_t a = raw->find('\n');
  if (a == std::string::npos || std::string_view(*raw).substr(0, a) != kind) return false;
  size_t b = raw->find('\n', a + 1);
  if (b == std::string::npos) return false;
  stream = raw->substr(a + 1, b - a - 1);
  pos = raw->substr(b + 1);
  return true;
}

}  // namespace

void Kinesis::ListStreamsAction(int64_t limit, std::string_view exclusive_start,
                                std::string_view next_token, http::Response& response,
                                const NameFilter& visible) {
  if (limit < 1 || limit > 10000) {
    return Validation(response, ValidationMessage(std::to_string(limit), "limit",
                                                  "Member must have value between 1 and 10000"));
  }
  std::string token_stream, token_start;
  if (!next_token.empty()) {
    if (!ParsePageToken(next_token, "streams", token_stream, token_start)) {
      return InvalidArgument(response, "Invalid NextToken.");
    }
    exclusive_start = token_start;
  }
  std::string last;
  auto all = ListStreams(visible);
  std::string names = "[", summaries = "[";
  int64_t n = 0;
  bool more = false;
  for (const auto& s : all) {
    if (!exclusive_start.empty() && s.name <= exclusive_start) continue;
    if (n == limit) {
      more = true;
      break;
    }
    if (n++ > 0) {
      names += ',';
      summaries += ',';
    }
    AppendJsonString(s.name, &names);
    last = s.name;
    summaries += "{\"StreamName\":";
    AppendJsonString(s.name, &summaries);
    summaries += ",\"StreamARN\":";
    AppendJsonString(StreamArn(s.name), &summaries);
    summaries += ",\"StreamStatus\":";
    AppendJsonString(s.status, &summaries);
    summaries +=
        ",\"StreamModeDetails\":{\"StreamMode\":\"PROVISIONED\"},"
        "\"StreamCreationTimestamp\":";
    AppendEpochSeconds(summaries, s.created_ms);
    summaries += '}';
  }
  std::string token;
  if (more) {
    token = ",\"NextToken\":";
    AppendJsonString(PageToken("streams", "", last), &token);
  }
  Ok(response, std::string("{\"HasMoreStreams\":") + (more ? "true" : "false") +
                   ",\"StreamNames\":" + names + "],\"StreamSummaries\":" + summaries + "]" +
                   token + "}");
}

void Kinesis::AppendShards(std::string_view name, int32_t shards, int32_t first, int32_t end,
                           std::string& b) {
  auto desc = broker_.DescribeTopic(name);
  for (int32_t i = first; i < end; ++i) {
    int64_t start = 0;
    if (desc.ok() && i < static_cast<int32_t>(desc->partitions.size())) {
      start = desc->partitions[i].log_start_offset;
    }
    HashKeyRange r = ShardRange(i, shards);
    if (i > first) b += ',';
    b += "{\"ShardId\":\"" + ShardId(i) + "\",\"HashKeyRange\":{\"StartingHashKey\":\"" +
         U128ToDecimal(r.start) + "\",\"EndingHashKey\":\"" + U128ToDecimal(r.end) +
         "\"},\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"" + SequenceNumber(i, start) +
         "\"}}";
  }
}

void Kinesis::ListShards(std::string_view name, int64_t max_results,
                         std::string_view exclusive_start_shard_id, std::string_view next_token,
                         http::Response& response) {
  if (max_results < 1 || max_results > 10000) {
    return Validation(response, ValidationMessage(std::to_string(max_results), "maxResults",
                                                  "Member must have value between 1 and 10000"));
  }
  std::string token_stream, token_pos;
  int32_t first = 0;
  if (!next_token.empty()) {
    auto pos = ParsePageToken(next_token, "shards", token_stream, token_pos)
                   ? ParseInt(token_pos)
                   : Result<int64_t>(InvalidArgumentError("bad token"));
    if (!pos.ok() || *pos < 0 || (!name.empty() && name != token_stream)) {
      return InvalidArgument(response, "Invalid NextToken.");
    }
    name = token_stream;
    first = static_cast<int32_t>(std::min<int64_t>(*pos, 1 << 20));
  } else {
    std::optional<int32_t> after = FirstShardAfter(exclusive_start_shard_id, response);
    if (!after) return;
    first = *after;
  }
  if (name.empty()) {
    return InvalidArgument(response, "Either NextToken or StreamName should be provided.");
  }
  auto info = Lookup(name);
  if (!info.ok()) return KinesisErrorFromStatus(response, info.status());
  first = std::min(first, info->shards);
  const int32_t end = static_cast<int32_t>(std::min<int64_t>(info->shards, first + max_results));
  std::string b = "{\"Shards\":[";
  AppendShards(name, info->shards, first, end, b);
  b += "]";
  if (end < info->shards) {
    b += ",\"NextToken\":";
    AppendJsonString(PageToken("shards", name, std::to_string(end)), &b);
  }
  b += "}";
  Ok(response, std::move(b));
}

void Kinesis::PutRecords(std::string_view name, std::vector<PutEntry>& entries, bool single,
                         bool auto_create, http::Response& response, Deferral& later) {
  if (!ValidStreamName(name)) {
    return Validation(response, ValidationMessage(name, "streamName",
                                                  "Member must satisfy regular expression "
                                                  "pattern: [a-zA-Z0-9_.-]+"));
  }
  if (entries.empty()) {
    return Validation(response, ValidationMessage("[]", "records",
                                                  "Member must have length greater than or "
                                                  "equal to 1"));
  }
  if (entries.size() > kMaxPutRecords) {
    return Validation(response, ValidationMessage("[...]", "records",
                                                  "Member must have length less than or equal "
                                                  "to 500"));
  }
  size_t total = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string field =
        single ? std::string("data") : "records." + std::to_string(i + 1) + ".member.data";
    if (e.data.size() > kMaxRecordBytes) {
      return Validation(response, ValidationMessage("java.nio.HeapByteBuffer[pos=0 lim=" +
                                                        std::to_string(e.data.size()) + "]",
                                                    field,
                                                    "Member must have length less than or equal to "
                                                    "1048576"));
    }
    const size_t key_len = Utf8Length(e.partition_key);
    if (key_len < 1 || key_len > 256) {
      return Validation(response, ValidationMessage(e.partition_key,
                                                    single ? std::string("partitionKey")
                                                           : "records." + std::to_string(i + 1) +
                                                                 ".member.partitionKey",
                                                    "Member must have length between 1 and 256"));
    }
    total += e.data.size() + e.partition_key.size();
  }
  if (total > kMaxPutRecordsBytes) {
    return InvalidArgument(response, "Records size exceeds 5 MB limit");
  }
  auto info = LookupOrCreate(name, auto_create);
  if (!info.ok()) return KinesisErrorFromStatus(response, info.status());
  std::vector<broker::Record> records(entries.size());
  size_t bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto& e = entries[i];
    const uint128 hash =
        e.explicit_hash_key ? *e.explicit_hash_key : HashPartitionKey(e.partition_key);
    records[i].partition = ShardForHashKey(hash, info->shards);
    records[i].key = std::string(e.partition_key);
    bytes += e.data.size();
    records[i].value = std::move(e.data);
  }
  broker_.ProduceAsync(info->name, records,
                       [this, finish = later.Defer(), single, count = records.size(),
                        bytes](Result<std::vector<broker::ProduceAck>> acks) {
                         http::Response r;
                         PutRecordsResponse(acks, single, count, bytes, r);
                         finish(std::move(r));
                       });
}

void Kinesis::PutRecordsResponse(const Result<std::vector<broker::ProduceAck>>& acks, bool single,
                                 size_t count, size_t bytes, http::Response& response) {
  if (!acks.ok()) return KinesisErrorFromStatus(response, acks.status());
  if (acks->size() != count) {
    return KinesisErrorFromStatus(response, InternalError("broker returned a wrong ack count"));
  }
  int64_t failed = 0;
  std::string b;
  b.reserve(32 + 96 * acks->size());
  if (single) {
    const auto& ack = acks->front();
    if (!ack.error.ok()) return KinesisErrorFromStatus(response, ack.error);
    b += "{\"ShardId\":\"" + ShardId(ack.partition) + "\",\"SequenceNumber\":\"" +
         SequenceNumber(ack.partition, ack.offset) + "\",\"EncryptionType\":\"NONE\"}";
  } else {
    std::string items;
    items.reserve(96 * acks->size());
    for (size_t i = 0; i < acks->size(); ++i) {
      const auto& ack = (*acks)[i];
      if (i > 0) items += ',';
      if (ack.error.ok()) {
        items += "{\"SequenceNumber\":\"";
        items += SequenceNumber(ack.partition, ack.offset);
        items += "\",\"ShardId\":\"";
        items += ShardId(ack.partition);
        items += "\"}";
      } else {
        ++failed;
        std::string_view type = KinesisErrorType(ack.error);
        items += "{\"ErrorCode\":";
        AppendJsonString(type, &items);
        items += ",\"ErrorMessage\":";
        AppendJsonString(ack.error.message(), &items);
        items += '}';
      }
    }
    b += "{\"FailedRecordCount\":";
    AppendInt(b, failed);
    b += ",\"Records\":[";
    b += items;
    b += "],\"EncryptionType\":\"NONE\"}";
  }
  metrics_.AddRecords("kinesis", static_cast<int64_t>(count) - failed, static_cast<int64_t>(bytes));
  Ok(response, std::move(b));
}

std::string Kinesis::MakeIterator(const IteratorState& s) {
  std::string payload = "1\n" + s.stream + "\n" + std::to_string(s.created_ms) + "\n" +
                        std::to_string(s.shard) + "\n" + std::to_string(s.offset) + "\n" +
                        std::to_string(s.issued_ms);
  std::string mac = HmacSha256(iterator_key_, payload).substr(0, 16);
  return Base64Encode(payload + mac);
}

bool Kinesis::ParseIterator(std::string_view token, IteratorState& s, http::Response& response) {
  auto raw = Base64Decode(token);
  if (!raw || raw->size() < 17 || token.size() > 1024) {
    InvalidArgument(response, "Invalid ShardIterator.");
    return false;
  }
  std::string_view payload(raw->data(), raw->size() - 16);
  std::string_view mac(raw->data() + raw->size() - 16, 16);
  std::string expected = HmacSha256(iterator_key_, payload).substr(0, 16);
  if (CRYPTO_memcmp(expected.data(), mac.data(), 16) != 0) {
    InvalidArgument(response, "Invalid ShardIterator.");
    return false;
  }
  std::vector<std::string> parts;
  for (std::string_view p = payload;;) {
    size_t nl = p.find('\n');
    parts.emplace_back(p.substr(0, nl));
    if (nl == std::string_view::npos) break;
    p = p.substr(nl + 1);
  }
  if (parts.size() != 6 || parts[0] != "1") {
    InvalidArgument(response, "Invalid ShardIterator.");
    return false;
  }
  auto created = ParseInt(parts[2]);
  auto shard = ParseInt(parts[3]);
  auto offset = ParseInt(parts[4]);
  auto issued = ParseInt(parts[5]);
  if (!created.ok() || !shard.ok() || !offset.ok() || !issued.ok()) {
    InvalidArgument(response, "Invalid ShardIterator.");
    return false;
  }
  s.stream = parts[1];
  s.created_ms = *created;
  s.shard = static_cast<int32_t>(*shard);
  s.offset = *offset;
  s.issued_ms = *issued;
  const int64_t now = clock_->NowMillis();
  if (now - s.issued_ms > options_.iterator_ttl_ms) {
    KinesisError(response, "ExpiredIteratorException",
                 "Iterator expired. The iterator was created at time " +
                     std::to_string(s.issued_ms) + " while right now it is " + std::to_string(now) +
                     " which is further in the future than the tolerated delay of " +
                     std::to_string(options_.iterator_ttl_ms) + " milliseconds.");
    return false;
  }
  return true;
}

void Kinesis::GetShardIterator(std::string_view name, std::string_view shard_id,
                               std::string_view type, std::string_view sequence_number,
                               std::optional<double> timestamp, http::Response& response) {
  auto info = Lookup(name);
  if (!info.ok()) return KinesisErrorFromStatus(response, info.status());
  auto shard = ParseShardId(shard_id);
  if (!shard || *shard >= info->shards) {
    return KinesisError(response, "ResourceNotFoundException",
                        "Shard " + std::string(shard_id) + " in stream " + info->name +
                            " under account " + options_.account_id + " does not exist");
  }
  auto desc = broker_.DescribeTopic(info->name);
  if (!desc.ok()) return KinesisErrorFromStatus(response, desc.status());
  if (*shard >= static_cast<int32_t>(desc->partitions.size())) {
    return KinesisErrorFromStatus(response, InternalError("shard has no partition"));
  }
  const auto& part = desc->partitions[*shard];
  int64_t offset = 0;
  if (type == "TRIM_HORIZON") {
    offset = part.log_start_offset;
  } else if (type == "LATEST") {
    offset = part.high_watermark;
  } else if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
    auto seq = ParseSequenceNumber(sequence_number);
    if (sequence_number.empty()) {
      return InvalidArgument(response,
                             "StartingSequenceNumber is required for " + std::string(type) + ".");
    }
    if (!seq || seq->shard != *shard) {
      return InvalidArgument(response, "StartingSequenceNumber " + std::string(sequence_number) +
                                           " used in GetShardIterator on shard " +
                                           std::string(shard_id) + " in stream " + info->name +
                                           " under account " + options_.account_id +
                                           " is invalid.");
    }
    // A sequence number may name any offset up to INT64_MAX: + 1 must not overflow
    // (the clamp below brings it to the high watermark anyway).
    offset = seq->offset;
    if (type == "AFTER_SEQUENCE_NUMBER" && offset < INT64_MAX) ++offset;
    offset = std::clamp(offset, part.log_start_offset, part.high_watermark);
  } else if (type == "AT_TIMESTAMP") {
    if (!timestamp) return InvalidArgument(response, "Timestamp is required for AT_TIMESTAMP.");
    // Any JSON number is accepted: a double beyond int64 milliseconds would make the
    // conversion undefined, so it is clamped (before every record, or after all).
    const double ms = std::floor(*timestamp * 1000);
    const int64_t at_ms = ms >= 0x1p63   ? INT64_MAX
                          : ms < -0x1p63 ? INT64_MIN
                                         : static_cast<int64_t>(ms);
    auto at = broker_.OffsetForTimestamp(info->name, *shard, at_ms);
    if (!at.ok()) return KinesisErrorFromStatus(response, at.status());
    offset = *at;
  } else {
    return Validation(response,
                      ValidationMessage(type, "shardIteratorType",
                                        "Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, "
                                        "AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, "
                                        "AT_TIMESTAMP]"));
  }
  IteratorState s{info->name, info->created_ms, *shard, offset, clock_->NowMillis()};
  std::string b = "{\"ShardIterator\":";
  AppendJsonString(MakeIterator(s), &b);
  b += '}';
  Ok(response, std::move(b));
}

void Kinesis::GetRecords(std::string_view iterator, int64_t limit, http::Response& response) {
  if (limit < 1 || limit > kMaxGetRecords) {
    return Validation(response, ValidationMessage(std::to_string(limit), "limit",
                                                  "Member must have value between 1 and 10000"));
  }
  IteratorState s;
  if (!ParseIterator(iterator, s, response)) return;
  auto info = Lookup(s.stream);
  if (info.ok() && info->created_ms != s.created_ms) {
    // Another node may have deleted and created the stream again: ask the broker.
    info = Load(s.stream);
  }
  if (!info.ok()) return KinesisErrorFromStatus(response, info.status());
  if (info->created_ms != s.created_ms) {
    return KinesisError(
        response, "ResourceNotFoundException",
        "Stream " + s.stream + " under account " + options_.account_id + " not found.");
  }
  broker::FetchOptions fo;
  fo.max_records = static_cast<int32_t>(limit);
  fo.max_bytes = kMaxGetRecordsBytes;
  auto fetched = broker_.Fetch(s.stream, s.shard, s.offset, fo);
  if (!fetched.ok() && fetched.status().code() == StatusCode::kOutOfRange) {
    // Retention removed what the iterator pointed at: continue from the oldest record.
    auto desc = broker_.DescribeTopic(s.stream);
    if (desc.ok() && s.shard < static_cast<int32_t>(desc->partitions.size())) {
      const auto& p = desc->partitions[s.shard];
      s.offset = s.offset < p.log_start_offset ? p.log_start_offset : p.high_watermark;
      fetched = broker_.Fetch(s.stream, s.shard, s.offset, fo);
    }
  }
  if (!fetched.ok()) return KinesisErrorFromStatus(response, fetched.status());
  std::string b;
  size_t estimate = 64;
  for (const auto& r : fetched->records) estimate += r.value.value_or("").size() * 4 / 3 + 160;
  b.reserve(estimate);
  b += "{\"Records\":[";
  int64_t next = s.offset;
  int64_t last_ts = 0;
  for (size_t i = 0; i < fetched->records.size(); ++i) {
    const auto& r = fetched->records[i];
    if (i > 0) b += ',';
    b += "{\"SequenceNumber\":\"";
    b += SequenceNumber(s.shard, r.offset);
    b += "\",\"ApproximateArrivalTimestamp\":";
    AppendEpochSeconds(b, r.timestamp_ms);
    b += ",\"Data\":\"";
    AppendBase64(b, r.value.value_or(""));
    b += "\",\"PartitionKey\":";
    AppendJsonString(r.key.value_or(""), &b);
    b += '}';
    next = r.offset + 1;
    last_ts = r.timestamp_ms;
  }
  const int64_t now = clock_->NowMillis();
  int64_t behind = 0;
  if (next < fetched->high_watermark && last_ts > 0) behind = std::max<int64_t>(0, now - last_ts);
  IteratorState n{s.stream, s.created_ms, s.shard, next, now};
  b += "],\"NextShardIterator\":";
  AppendJsonString(MakeIterator(n), &b);
  b += ",\"MillisBehindLatest\":";
  AppendInt(b, behind);
  b += '}';
  Ok(response, std::move(b));
}

// ---------------------------------------------------------------------------
// API Gateway routes

std::string_view Kinesis::HandleGateway(http::Request& request, http::Response& response,
                                        Deferral& later, const NameFilter& visible) {
  std::string_view path = request.path;
  if (path != "/streams" && path.substr(0, 9) != "/streams/") return "";
  std::string_view route = "gateway.unknown";
  auto finish = [&](std::string_view r) {
    // The gateway answered with application/json, errors included.
    response.content_type = std::string(kJsonContentType);
    return r;
  };
  const std::string& m = request.method;
  if (path == "/streams" || path == "/streams/") {
    if (m != "GET") {
      KinesisError(response, "MethodNotAllowed", "Method not allowed", 405);
      return finish("gateway.list_streams");
    }
    ListStreamsAction(10000, "", "", response, visible);
    // The gateway route answers with the two fields the seed's clients read.
    if (response.status == 200) {
      auto all = ListStreams(visible);
      std::string b = "{\"HasMoreStreams\":false,\"StreamNames\":[";
      for (size_t i = 0; i < all.size(); ++i) {
        if (i > 0) b += ',';
        AppendJsonString(all[i].name, &b);
      }
      b += "]}";
      response.body = std::move(b);
    }
    return finish("gateway.list_streams");
  }
  std::string_view rest = path.substr(9);
  size_t slash = rest.find('/');
  auto decoded = PercentDecode(rest.substr(0, slash));
  if (!decoded.ok()) {
    Validation(response, "Invalid stream name in path");
    return finish(route);
  }
  const std::string name = *decoded;
  std::string_view sub = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  if (sub.empty()) {
    if (m == "GET") {
      DescribeStream(name, false, 10000, "", response);
      return finish("gateway.describe_stream");
    }
    if (m == "DELETE") {
      DeleteStream(name, response);
      return finish("gateway.delete_stream");
    }
    if (m == "POST") {
      int64_t shards = options_.gateway_create_shards;
      if (!request.body.empty()) {
        std::optional<simdjson::dom::object> o = ParseObject(request.body, response);
        if (!o) return finish("gateway.create_stream");
        FieldState fs = GetInt(*o, "ShardCount", shards);
        if (fs == FieldState::kWrongType) {
          Serialization(response, "ShardCount must be an integer");
          return finish("gateway.create_stream");
        }
        if (fs != FieldState::kOk) shards = options_.gateway_create_shards;
      }
      CreateStream(name, shards, response);
      return finish("gateway.create_stream");
    }
    KinesisError(response, "MethodNotAllowed", "Method not allowed", 405);
    return finish("gateway.stream");
  }

  if (sub == "record") {
    if (m != "PUT" && m != "POST") {
      KinesisError(response, "MethodNotAllowed", "Method not allowed", 405);
      return finish("gateway.put_record");
    }
    std::optional<simdjson::dom::object> parsed = ParseObject(request.body, response);
    if (!parsed) return finish("gateway.put_record");
    const simdjson::dom::object o = *parsed;
    simdjson::dom::element data;
    if (GetField(o, "Data", data) == FieldState::kAbsent) {
      Validation(response,
                 "1 validation error detected: Value null at 'data' failed to satisfy "
                 "constraint: Member must not be null");
      return finish("gateway.put_record");
    }
    std::string_view key;
    FieldState ks = GetString(o, "PartitionKey", key);
    if (ks == FieldState::kWrongType) {
      Serialization(response, "PartitionKey must be a string");
      return finish("gateway.put_record");
    }
    if (ks != FieldState::kOk) {
      Validation(response,
                 "1 validation error detected: Value null at 'partitionKey' failed to "
                 "satisfy constraint: Member must not be null");
      return finish("gateway.put_record");
    }
    std::vector<PutEntry> entries(1);
    AppendMinified(entries[0].data, data);  // API Gateway's $input.json('$.Data')
    entries[0].partition_key = key;
    Deferral json_later =
        later.Adjusted([](http::Response& r) { r.content_type = std::string(kJsonContentType); });
    PutRecords(name, entries, true, options_.auto_create_streams, response, json_later);
    return finish("gateway.put_record");
  }

  if (sub == "records" && (m == "PUT" || m == "POST")) {
    simdjson::dom::element root;
    if (auto err = ParseJson(request.body, root); err) {
      Serialization(response, std::string("Malformed JSON: ") + simdjson::error_message(err));
      return finish("gateway.put_records");
    }
    simdjson::dom::object o;
    simdjson::dom::element records_el;
    simdjson::dom::array records;
    if (root.get_object().get(o) ||
        (GetField(o, "records", records_el) != FieldState::kOk &&
         GetField(o, "Records", records_el) != FieldState::kOk) ||
        records_el.get_array().get(records)) {
      Validation(response,
                 "1 validation error detected: Value null at 'records' failed to "
                 "satisfy constraint: Member must not be null");
      return finish("gateway.put_records");
    }
    std::vector<PutEntry> entries;
    entries.reserve(records.size());
    size_t i = 0;
    for (simdjson::dom::element r : records) {
      ++i;
      simdjson::dom::object ro;
      std::string_view data, key;
      if (r.get_object().get(ro) ||
          (GetString(ro, "data", data) != FieldState::kOk &&
           GetString(ro, "Data", data) != FieldState::kOk) ||
          (GetString(ro, "partition-key", key) != FieldState::kOk &&
           GetString(ro, "PartitionKey", key) != FieldState::kOk)) {
        Validation(response, "1 validation error detected: record " + std::to_string(i) +
                                 " needs string fields 'data' and 'partition-key'");
        return finish("gateway.put_records");
      }
      PutEntry e;
      e.data = std::string(data);
      e.partition_key = key;
      entries.push_back(std::move(e));
    }
    Deferral json_later =
        later.Adjusted([](http::Response& r) { r.content_type = std::string(kJsonContentType); });
    PutRecords(name, entries, false, options_.auto_create_streams, response, json_later);
    return finish("gateway.put_records");
  }

  if (sub == "records" && m == "GET") {
    std::string_view it = request.Header("shard-iterator");
    if (it.empty()) {
      Validation(response,
                 "1 validation error detected: Value null at 'shardIterator' failed to "
                 "satisfy constraint: Member must not be null");
      return finish("gateway.get_records");
    }
    int64_t limit = kMaxGetRecords;
    std::string limit_text = request.QueryParam("limit");
    if (!limit_text.empty()) {
      auto parsed = ParseInt(limit_text);
      limit = parsed.ok() ? *parsed : -1;
    }
    GetRecords(it, limit, response);
    return finish("gateway.get_records");
  }

  if (sub == "sharditerator" && m == "GET") {
    std::string shard_id = request.QueryParam("shard-id");
    std::string type = request.QueryParam("type");
    if (type.empty()) type = "TRIM_HORIZON";
    GetShardIterator(name, shard_id, type, request.QueryParam("sequence-number"), std::nullopt,
                     response);
    return finish("gateway.get_shard_iterator");
  }

  KinesisError(response, "UnknownOperationException", "No route for " + m + " " + request.path,
               404);
  return finish(route);
}

// ---------------------------------------------------------------------------
// Native JSON 1.1

std::string_view Kinesis::HandleNative(http::Request& request, http::Response& response,
                                       Deferral& later, const NameFilter& visible) {
  std::string_view target = request.Header("x-amz-target");
  if (target.substr(0, kTargetPrefix.size()) != kTargetPrefix) {
    KinesisError(response, "UnknownOperationException",
                 "Unknown X-Amz-Target '" + std::string(target) + "'");
    return "kinesis.unknown";
  }
  std::string_view action = target.substr(kTargetPrefix.size());
  static const std::map<std::string_view, std::string_view> kRoutes = {
      {"CreateStream", "kinesis.CreateStream"},
      {"DeleteStream", "kinesis.DeleteStream"},
      {"DescribeStream", "kinesis.DescribeStream"},
      {"DescribeStreamSummary", "kinesis.DescribeStreamSummary"},
      {"ListStreams", "kinesis.ListStreams"},
      {"ListShards", "kinesis.ListShards"},
      {"PutRecord", "kinesis.PutRecord"},
      {"PutRecords", "kinesis.PutRecords"},
      {"GetShardIterator", "kinesis.GetShardIterator"},
      {"GetRecords", "kinesis.GetRecords"},
  };
  auto route = kRoutes.find(action);
  if (route == kRoutes.end()) {
    KinesisError(response, "UnknownOperationException",
                 "Unknown operation '" + std::string(action) + "'");
    return "kinesis.unknown";
  }
  std::string_view content_type = request.Header("content-type");
  if (content_type.substr(0, 26) != "application/x-amz-json-1.1" &&
      content_type.substr(0, 26) != "application/x-amz-json-1.0") {
    // The AWS SDK for Java (v1 and v2) sends CBOR to Kinesis by default; boto3, the AWS CLI
    // and the JavaScript SDK send JSON. Say how to switch rather than only refusing.
    std::string message = "Unsupported Content-Type '" + std::string(content_type) + "'";
    if (content_type.find("cbor") != std::string_view::npos) {
      message +=
          ": this Kinesis API speaks JSON 1.1, not CBOR; disable CBOR in the client (AWS SDK "
          "for Java: AWS_CBOR_DISABLED=true or -Daws.cborEnabled=false)";
    }
    KinesisError(response, "UnknownOperationException", message);
    return route->second;
  }
  if (options_.credentials) {
    if (auto failure = VerifySigV4(request, *options_.credentials, clock_->NowMillis())) {
      KinesisError(response, failure->type, failure->message);
      return route->second;
    }
  }
  Native(action, request, response, later, visible);
  return route->second;
}

void Kinesis::Native(std::string_view action, http::Request& request, http::Response& response,
                     Deferral& later, const NameFilter& visible) {
  std::string_view body = request.body;
  if (body.empty()) body = "{}";
  std::optional<simdjson::dom::object> parsed = ParseObject(body, response);
  if (!parsed) return;
  const simdjson::dom::object o = *parsed;

  // String fields: absent -> empty; wrong type -> SerializationException.
  bool bad = false;
  auto str = [&](std::string_view field) -> std::string_view {
    std::string_view v;
    if (GetString(o, field, v) == FieldState::kWrongType) bad = true;
    return v;
  };
  auto integer = [&](std::string_view field, int64_t fallback) -> int64_t {
    int64_t v = fallback;
    FieldState s = GetInt(o, field, v);
    if (s == FieldState::kWrongType) bad = true;
    return s == FieldState::kOk ? v : fallback;
  };
  auto stream_name = [&]() -> std::string {
    std::string_view name = str("StreamName");
    if (name.empty()) {
      std::string_view arn = str("StreamARN");
      size_t pos = arn.rfind(":stream/");
      if (pos != std::string_view::npos) name = arn.substr(pos + 8);
    }
    return std::string(name);
  };
  auto require_name = [&](const std::string& name) {
    if (bad) {
      Serialization(response, "A field has the wrong JSON type");
      return false;
    }
    if (name.empty()) {
      Validation(response,
                 "1 validation error detected: Value null at 'streamName' failed to "
                 "satisfy constraint: Member must not be null");
      return false;
    }
    if (!ValidStreamName(name)) {
      Validation(response, ValidationMessage(name, "streamName",
                                             "Member must satisfy regular expression pattern: "
                                             "[a-zA-Z0-9_.-]+"));
      return false;
    }
    return true;
  };
  auto decode_entry = [&](simdjson::dom::object rec, PutEntry& e, std::string& error) -> bool {
    std::string_view data, key, ehk;
    if (GetString(rec, "Data", data) != FieldState::kOk) {
      error = "Data";
      return false;
    }
    if (GetString(rec, "PartitionKey", key) != FieldState::kOk) {
      error = "PartitionKey";
      return false;
    }
    auto decoded = Base64Decode(data);
    if (!decoded) {
      error = "Data:base64";
      return false;
    }
    e.data = std::move(*decoded);
    e.partition_key = key;
    FieldState hs = GetString(rec, "ExplicitHashKey", ehk);
    if (hs == FieldState::kWrongType) {
      error = "ExplicitHashKey";
      return false;
    }
    if (hs == FieldState::kOk) {
      auto h = ParseU128(ehk);
      if (!h) {
        error = "ExplicitHashKey:" + std::string(ehk);
        return false;
      }
      e.explicit_hash_key = h;
    }
    return true;
  };
  auto entry_error = [&](const std::string& error) {
    if (error == "Data:base64") return Serialization(response, "Data is not valid base64");
    if (error.substr(0, 16) == "ExplicitHashKey:") {
      return InvalidArgument(response,
                             "Invalid ExplicitHashKey. ExplicitHashKey must be in the "
                             "range: [0, 2^128-1]. Specified value was " +
                                 error.substr(16));
    }
    Validation(response, "1 validation error detected: Value null at '" + error +
                             "' failed to satisfy constraint: Member must not be null");
  };

  if (action == "CreateStream") {
    std::string name = stream_name();
    int64_t shards = integer("ShardCount", 4);
    if (!require_name(name)) return;
    return CreateStream(name, shards, response);
  }
  if (action == "DeleteStream") {
    std::string name = stream_name();
    if (!require_name(name)) return;
    return DeleteStream(name, response);
  }
  if (action == "DescribeStream" || action == "DescribeStreamSummary") {
    std::string name = stream_name();
    const int64_t limit = integer("Limit", 100);
    std::string_view after = str("ExclusiveStartShardId");
    if (!require_name(name)) return;
    return DescribeStream(name, action == "DescribeStreamSummary", limit, after, response);
  }
  if (action == "ListStreams") {
    int64_t limit = integer("Limit", 100);
    std::string_view start = str("ExclusiveStartStreamName");
    std::string_view token = str("NextToken");
    if (bad) return Serialization(response, "A field has the wrong JSON type");
    return ListStreamsAction(limit, start, token, response, visible);
  }
  if (action == "ListShards") {
    std::string name = stream_name();
    const int64_t max_results = integer("MaxResults", 1000);
    std::string_view after = str("ExclusiveStartShardId");
    std::string_view token = str("NextToken");
    // A NextToken names the stream itself (boto3's paginator sends only the token).
    if (token.empty() && !require_name(name)) return;
    if (bad) return Serialization(response, "A field has the wrong JSON type");
    return ListShards(name, max_results, after, token, response);
  }
  if (action == "PutRecord") {
    std::string name = stream_name();
    if (!require_name(name)) return;
    std::vector<PutEntry> entries(1);
    std::string error;
    if (!decode_entry(o, entries[0], error)) return entry_error(error);
    return PutRecords(name, entries, true, false, response, later);
  }
  if (action == "PutRecords") {
    std::string name = stream_name();
    if (!require_name(name)) return;
    simdjson::dom::element el;
    simdjson::dom::array records;
    if (GetField(o, "Records", el) != FieldState::kOk || el.get_array().get(records)) {
      return Validation(response,
                        "1 validation error detected: Value null at 'records' failed "
                        "to satisfy constraint: Member must not be null");
    }
    std::vector<PutEntry> entries;
    entries.reserve(records.size());
    for (simdjson::dom::element r : records) {
      simdjson::dom::object ro;
      if (r.get_object().get(ro)) return Serialization(response, "Records must hold objects");
      PutEntry e;
      std::string error;
      if (!decode_entry(ro, e, error)) return entry_error(error);
      entries.push_back(std::move(e));
    }
    return PutRecords(name, entries, false, false, response, later);
  }
  if (action == "GetShardIterator") {
    std::string name = stream_name();
    std::string_view shard_id = str("ShardId");
    std::string_view type = str("ShardIteratorType");
    std::string_view seq = str("StartingSequenceNumber");
    std::optional<double> ts;
    simdjson::dom::element t;
    if (GetField(o, "Timestamp", t) == FieldState::kOk) {
      double v = 0;
      if (t.get_double().get(v)) {
        return Serialization(response, "Timestamp must be a number of epoch seconds");
      }
      ts = v;
    }
    if (!require_name(name)) return;
    if (shard_id.empty()) {
      return Validation(response,
                        "1 validation error detected: Value null at 'shardId' failed "
                        "to satisfy constraint: Member must not be null");
    }
    return GetShardIterator(name, shard_id, type, seq, ts, response);
  }
  if (action == "GetRecords") {
    std::string_view it = str("ShardIterator");
    int64_t limit = integer("Limit", kMaxGetRecords);
    if (bad) return Serialization(response, "A field has the wrong JSON type");
    if (it.empty()) {
      return Validation(response,
                        "1 validation error detected: Value null at 'shardIterator' "
                        "failed to satisfy constraint: Member must not be null");
    }
    return GetRecords(it, limit, response);
  }
  KinesisError(response, "UnknownOperationException",
               "Unknown operation '" + std::string(action) + "'");
}

}  // namespace pinpipe::api
