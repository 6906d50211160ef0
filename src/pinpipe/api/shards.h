// Kinesis shard arithmetic: the 128-bit hash key space, its even split into
// shards, partition key -> shard by MD5, shard ids, and sequence numbers.
//
// Hash keys are unsigned 128-bit integers written in decimal. A partition key
// hashes to MD5(UTF-8 key) read as a big-endian 128-bit integer; at creation
// shard i of N covers [i*h, (i+1)*h - 1] with h = floor(2^128 / N), and the
// last shard ends at 2^128 - 1.
//
// Sequence numbers are 38-digit decimal strings "49" + 10-digit shard index +
// 26-digit log offset, so they increase strictly within a shard, compare
// correctly as strings and as numbers, and map back to a log offset.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe::api {

using uint128 = unsigned __int128;

inline constexpr uint128 kMaxHashKey = ~static_cast<uint128>(0);

std::string U128ToDecimal(uint128 value);
// Digits only, no sign, no leading zeros except "0", value <= 2^128 - 1.
std::optional<uint128> ParseU128(std::string_view text);

struct HashKeyRange {
  uint128 start = 0;
  uint128 end = 0;
};

// The range of shard `index` of `shard_count` (even split).
HashKeyRange ShardRange(int32_t index, int32_t shard_count);
// The shard whose range holds `hash_key`.
int32_t ShardForHashKey(uint128 hash_key, int32_t shard_count);
// MD5 of the key as a big-endian 128-bit integer.
uint128 HashPartitionKey(std::string_view partition_key);

// "shardId-000000000003".
std::string ShardId(int32_t index);
// The index of a well-formed shard id, else nullopt.
std::optional<int32_t> ParseShardId(std::string_view shard_id);

std::string SequenceNumber(int32_t shard, int64_t offset);
struct ParsedSequenceNumber {
  int32_t shard = 0;
  int64_t offset = 0;
};
std::optional<ParsedSequenceNumber> ParseSequenceNumber(std::string_view text);

}  // namespace pinpipe::api
