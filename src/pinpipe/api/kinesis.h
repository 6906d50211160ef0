// Kinesis: the Kinesis Data Streams API on top of the Broker, in two dialects:
//   - the API Gateway routes the seed set up (GET/POST/DELETE /streams/{name},
//     PUT /streams/{name}/record(s), GET .../sharditerator, GET .../records),
//   - the native JSON 1.1 protocol (POST / with X-Amz-Target:
//     Kinesis_20131202.<Action>) that AWS SDKs and the AWS CLI speak.
// A stream is a broker topic of the same name (shards = partitions) plus
// metadata (status, shard count, creation time, retention) stored with the
// topic through the Broker (broker::Broker::SetTopicMetadata), so every API
// node on one broker sees the same streams; each node caches what it read.
// Shard iterators are HMAC-signed tokens that expire after five minutes;
// forged or altered ones are rejected. Nodes that share the signing key
// (KinesisOptions::iterator_key) accept each other's iterators.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/api/deferral.h"
#include "pinpipe/api/metrics.h"
#include "pinpipe/api/shards.h"
#include "pinpipe/api/sigv4.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/base/status.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/http/server.h"

namespace pinpipe::api {

struct KinesisOptions {
  // The iterator-signing key, shared by every node behind one endpoint. When
  // empty: generated once into <data_dir>/kinesis/iterator.key (one node), or
  // per process when data_dir is empty too.
  std::string iterator_key;
  // Holds the default iterator key and, from before stream metadata lived in
  // the broker, <data_dir>/kinesis/streams/*.json, migrated by Open.
  std::string data_dir;
  bool auto_create_streams = true;    // API Gateway routes only
  int32_t default_shards = 1;         // shards of an auto-created stream
  int32_t gateway_create_shards = 5;  // POST /streams/{name} without ShardCount
  int32_t max_shards = 500;
  int64_t iterator_ttl_ms = 5 * 60 * 1000;
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  // When set, native requests must be SigV4-signed with these.
  std::optional<SigV4Credentials> credentials;
  Clock* clock = nullptr;  // nullptr: Clock::Real(); creation times, iterator expiry, SigV4
};

struct StreamInfo {
  std::string name;
  int32_t shards = 1;
  int64_t created_ms = 0;
  std::string status = "ACTIVE";
  int32_t retention_hours = 24;
};

class Kinesis {
 public:
  static constexpr size_t kMaxRecordBytes = 1 << 20;
  static constexpr size_t kMaxPutRecords = 500;
  static constexpr size_t kMaxPutRecordsBytes = 5 << 20;
  static constexpr int64_t kMaxGetRecords = 10'000;
  static constexpr int64_t kMaxGetRecordsBytes = 10 << 20;

  Kinesis(broker::Broker& broker, Metrics& metrics, KinesisOptions options);

  // Sets up the iterator key (creating the default one if needed) and moves
  // a catalog left by an older version into the broker.
  Status Open();

  // Handles /streams and /streams/... ; returns the route name for metrics,
  // or "" when the path is not one of these routes.
  // Stream listings show only the names `visible` accepts (all when empty).
  std::string_view HandleGateway(http::Request& request, http::Response& response, Deferral& later,
                                 const NameFilter& visible = {});
  // Handles POST / with an X-Amz-Target header; returns the route name.
  std::string_view HandleNative(http::Request& request, http::Response& response, Deferral& later,
                                const NameFilter& visible = {});

  // The metadata of `name` (adopting a bare broker topic of that name).
  Result<StreamInfo> Lookup(std::string_view name);
  std::vector<StreamInfo> ListStreams(const NameFilter& visible = {});

 private:
  struct PutEntry {
    std::string data;
    std::string_view partition_key;
    std::optional<uint128> explicit_hash_key;
  };
  struct IteratorState {
    std::string stream;
    int64_t created_ms = 0;
    int32_t shard = 0;
    int64_t offset = 0;
    int64_t issued_ms = 0;
  };

  // Actions shared by both dialects; each writes the success body or error.
  void CreateStream(std::string_view name, int64_t shards, http::Response& response);
  void DeleteStream(std::string_view name, http::Response& response);
  // DescribeStream pages its shards (Limit, ExclusiveStartShardId, HasMoreShards) as AWS
  // does: the AWS CLI and boto3's paginator ask for one page at a time.
  void DescribeStream(std::string_view name, bool summary, int64_t limit,
                      std::string_view exclusive_start_shard_id, http::Response& response);
  // `next_token`, when set, is a token this API returned: it names the stream and the next
  // stream or shard, so boto3's paginators (which send only it) continue where they were.
  void ListStreamsAction(int64_t limit, std::string_view exclusive_start,
                         std::string_view next_token, http::Response& response,
                         const NameFilter& visible);
  void ListShards(std::string_view name, int64_t max_results,
                  std::string_view exclusive_start_shard_id, std::string_view next_token,
                  http::Response& response);
  // The Shards array's elements [first, end) (ids, hash key ranges, starting sequence numbers).
  void AppendShards(std::string_view name, int32_t shards, int32_t first, int32_t end,
                    std::string& b);
  // Validates and produces; answers later through `later` once the records
  // are durable (or now, into `response`, when the request is refused).
  void PutRecords(std::string_view name, std::vector<PutEntry>& entries, bool single,
                  bool auto_create, http::Response& response, Deferral& later);
  // The PutRecord(s) answer for the broker's acks.
  void PutRecordsResponse(const Result<std::vector<broker::ProduceAck>>& acks, bool single,
                          size_t count, size_t bytes, http::Response& response);
  void GetShardIterator(std::string_view name, std::string_view shard_id, std::string_view type,
                        std::string_view sequence_number, std::optional<double> timestamp,
                        http::Response& response);
  void GetRecords(std::string_view iterator, int64_t limit, http::Response& response);

  void Native(std::string_view action, http::Request& request, http::Response& response,
              Deferral& later, const NameFilter& visible);

  Result<StreamInfo> LookupOrCreate(std::string_view name, bool auto_create);
  // Reads the stream's metadata from the broker into the cache (adopting a
  // bare topic: its metadata is written then).
  Result<StreamInfo> Load(std::string_view name);
  Status CreateLocked(const StreamInfo& info);
  Status MigrateCatalogFiles();
  std::string StreamArn(std::string_view name) const;
  std::string MakeIterator(const IteratorState& state);
  // Fills `state`, or writes the error and returns false.
  bool ParseIterator(std::string_view token, IteratorState& state, http::Response& response);

  broker::Broker& broker_;
  Metrics& metrics_;
  KinesisOptions options_;
  Clock* clock_;  // options_.clock resolved
  std::string iterator_key_;
  std::shared_mutex mu_;
  std::map<std::string, StreamInfo, std::less<>> streams_;  // cache of the broker's metadata
};

// True for 1-128 characters of [a-zA-Z0-9_.-].
bool ValidStreamName(std::string_view name);

}  // namespace pinpipe::api
