#include "pinpipe/stream/kinesis_client.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include "pinpipe/base/encoding.h"

namespace pinpipe::stream {
namespace {

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

Status MapError(long http, const std::string& body) {
  std::string type, message = body;
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    if (auto t = parsed.find("__type"); t != parsed.end() && t->is_string()) type = *t;
    if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
    for (const char* key : {"message", "Message"}) {
      if (auto m = parsed.find(key); m != parsed.end() && m->is_string()) message = *m;
    }
  }
  const std::string text =
      "Kinesis " + (type.empty() ? "HTTP " + std::to_string(http) : type) + ": " + message;
  if (type == "ResourceNotFoundException") return NotFoundError(text);
  if (type == "ResourceInUseException") return AlreadyExistsError(text);
  if (type == "ExpiredIteratorException") return OutOfRangeError(text);
  if (type == "ProvisionedThroughputExceededException" || type == "LimitExceededException") {
    return ResourceExhaustedError(text);
  }
  if (type == "InvalidArgumentException" || type == "ValidationException" ||
      type == "SerializationException") {
    return InvalidArgumentError(text);
  }
  if (type == "UnrecognizedClientException" || type == "IncompleteSignatureException" ||
      type == "MissingAuthenticationTokenException") {
    return UnauthenticatedError(text);
  }
  if (http >= 500 || http == 0) return UnavailableError(text);
  return InternalError(text);
}

// nlohmann::json throws on type mismatches; project code returns Status.
template <typename Fn>
auto Guard(const char* action, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const nlohmann::json::exception& e) {
    return InternalError(std::string("Kinesis ") + action + ": unexpected response: " + e.what());
  }
}

}  // namespace

KinesisClient::KinesisClient(KinesisOptions options) : options_(std::move(options)) {
  curl_ = curl_easy_init();
}

KinesisClient::~KinesisClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<std::string> KinesisClient::Call(const std::string& action, const std::string& body) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (!curl) return InternalError("curl_easy_init failed");
  curl_easy_reset(curl);
  std::string response;
  std::string url = options_.endpoint;
  if (url.empty() || url.back() != '/') url += '/';
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.1");
  headers = curl_slist_append(headers, ("X-Amz-Target: Kinesis_20131202." + action).c_str());
  if (!options_.session_token.empty()) {
    headers =
        curl_slist_append(headers, ("X-Amz-Security-Token: " + options_.session_token).c_str());
  }
  const std::string sigv4 = "aws:amz:" + options_.region + ":kinesis";
  const std::string userpwd = (options_.access_key.empty() ? "pinpipe" : options_.access_key) +
                              ":" + (options_.secret_key.empty() ? "pinpipe" : options_.secret_key);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return UnavailableError("Kinesis " + action + " to " + options_.endpoint + ": " +
                            curl_easy_strerror(rc));
  }
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  if (http != 200) return MapError(http, response);
  return response;
}

Status KinesisClient::CreateStream(const std::string& stream, int shards) {
  nlohmann::json body = {{"StreamName", stream}, {"ShardCount", shards}};
  return Call("CreateStream", body.dump()).status();
}

Result<std::vector<std::string>> KinesisClient::ListShards(const std::string& stream) {
  return Guard("ListShards", [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> shards;
    std::string token;
    do {
      nlohmann::json body = token.empty() ? nlohmann::json{{"StreamName", stream}}
                                          : nlohmann::json{{"NextToken", token}};
      auto response = Call("ListShards", body.dump());
      if (!response.ok() && response.status().code() == StatusCode::kInternal) {
        // Older servers (kinesalite) lack ListShards: fall back to DescribeStream.
        PINPIPE_ASSIGN_OR_RETURN(
            auto described, Call("DescribeStream", nlohmann::json{{"StreamName", stream}}.dump()));
        auto json = nlohmann::json::parse(described, nullptr, false);
        if (!json.is_object()) return InternalError("Kinesis DescribeStream: malformed response");
        for (const auto& s : json["StreamDescription"]["Shards"])
          shards.push_back(s.value("ShardId", ""));
        return shards;
      }
      if (!response.ok()) return response.status();
      auto json = nlohmann::json::parse(*response, nullptr, false);
      if (!json.is_object()) return InternalError("Kinesis ListShards: malformed response");
      for (const auto& s : json.value("Shards", nlohmann::json::array())) {
        shards.push_back(s.value("ShardId", ""));
      }
      token = json.value("NextToken", "");
    } while (!token.empty());
    return shards;
  });
}

Result<std::string> KinesisClient::GetShardIterator(const std::string& stream,
                                                    const std::string& shard,
                                                    const std::string& type,
                                                    const std::string& arg) {
  return Guard("GetShardIterator", [&]() -> Result<std::string> {
    nlohmann::json body = {{"StreamName", stream}, {"ShardId", shard}, {"ShardIteratorType", type}};
    if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
      body["StartingSequenceNumber"] = arg;
    } else if (type == "AT_TIMESTAMP") {
      body["Timestamp"] = std::stod(arg) / 1000.0;  // epoch seconds, fractional
    }
    PINPIPE_ASSIGN_OR_RETURN(auto response, Call("GetShardIterator", body.dump()));
    auto json = nlohmann::json::parse(response, nullptr, false);
    if (!json.is_object() || !json.contains("ShardIterator")) {
      return InternalError("Kinesis GetShardIterator: malformed response");
    }
    return json["ShardIterator"].get<std::string>();
  });
}

Result<GetRecordsResult> KinesisClient::GetRecords(const std::string& iterator, int limit) {
  return Guard("GetRecords", [&]() -> Result<GetRecordsResult> {
    nlohmann::json body = {{"ShardIterator", iterator}, {"Limit", limit}};
    PINPIPE_ASSIGN_OR_RETURN(auto response, Call("GetRecords", body.dump()));
    auto json = nlohmann::json::parse(response, nullptr, false);
    if (!json.is_object()) return InternalError("Kinesis GetRecords: malformed response");
    GetRecordsResult result;
    if (json.contains("NextShardIterator") && json["NextShardIterator"].is_string()) {
      result.next_iterator = json["NextShardIterator"].get<std::string>();
    }
    result.millis_behind = json.value("MillisBehindLatest", int64_t{0});
    for (const auto& r : json.value("Records", nlohmann::json::array())) {
      KinesisRecord record;
      record.sequence_number = r.value("SequenceNumber", "");
      auto data = Base64Decode(r.value("Data", ""));
      if (!data)
        return DataLossError("Kinesis record " + record.sequence_number + ": bad base64 Data");
      record.data = std::move(*data);
      record.partition_key = r.value("PartitionKey", "");
      if (r.contains("ApproximateArrivalTimestamp") &&
          r["ApproximateArrivalTimestamp"].is_number()) {
        record.arrival_ms =
            static_cast<int64_t>(r["ApproximateArrivalTimestamp"].get<double>() * 1000.0);
      }
      result.records.push_back(std::move(record));
    }
    return result;
  });
}

Result<std::string> KinesisClient::PutRecord(const std::string& stream, const std::string& data,
                                             const std::string& partition_key) {
  return Guard("PutRecord", [&]() -> Result<std::string> {
    nlohmann::json body = {
        {"StreamName", stream}, {"Data", Base64Encode(data)}, {"PartitionKey", partition_key}};
    PINPIPE_ASSIGN_OR_RETURN(auto response, Call("PutRecord", body.dump()));
    auto json = nlohmann::json::parse(response, nullptr, false);
    if (!json.is_object()) return InternalError("Kinesis PutRecord: malformed response");
    return json.value("SequenceNumber", "");
  });
}

}  // namespace pinpipe::stream
