// KinesisClient: a small client of the Kinesis JSON 1.1 API (POST / with
// X-Amz-Target: Kinesis_20131202.<Action>), signed with SigV4 by libcurl.
// Speaks to Amazon Kinesis, kinesalite, or pinpipe's own API.
//
// Thread-safety: one client per thread (it owns a curl handle).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/stream/source.h"

namespace pinpipe::stream {

struct KinesisRecord {
  std::string sequence_number;
  std::string data;  // decoded bytes
  std::string partition_key;
  int64_t arrival_ms = 0;
};

struct GetRecordsResult {
  std::vector<KinesisRecord> records;
  std::string next_iterator;  // empty when the shard is closed
  int64_t millis_behind = 0;
};

class KinesisClient {
 public:
  explicit KinesisClient(KinesisOptions options);
  ~KinesisClient();
  KinesisClient(const KinesisClient&) = delete;
  KinesisClient& operator=(const KinesisClient&) = delete;

  Status CreateStream(const std::string& stream, int shards);
  Result<std::vector<std::string>> ListShards(const std::string& stream);
  // type: TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP.
  // `arg` is the sequence number or the timestamp in milliseconds.
  Result<std::string> GetShardIterator(const std::string& stream, const std::string& shard,
                                       const std::string& type, const std::string& arg = "");
  Result<GetRecordsResult> GetRecords(const std::string& iterator, int limit);
  Result<std::string> PutRecord(const std::string& stream, const std::string& data,
                                const std::string& partition_key);

 private:
  // Sends one action; returns the response body, or the error mapped from
  // the API's __type (ResourceNotFoundException -> NotFound, ExpiredIterator
  // -> OutOfRange, throughput/limits -> ResourceExhausted, 5xx -> Unavailable).
  Result<std::string> Call(const std::string& action, const std::string& body);

  KinesisOptions options_;
  void* curl_ = nullptr;
};

}  // namespace pinpipe::stream
