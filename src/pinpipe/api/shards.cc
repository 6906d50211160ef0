#include "pinpipe/api/shards.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>

namespace pinpipe::api {

std::string U128ToDecimal(uint128 value) {
  if (value == 0) return "0";
  std::string out;
  while (value > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<uint128> ParseU128(std::string_view text) {
  if (text.empty() || text.size() > 39) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint128 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint128>(c - '0');
    if (value > (kMaxHashKey - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

namespace {
// floor(2^128 / n) for n >= 1 (2^128 itself does not fit, hence the dance).
uint128 SliceWidth(int32_t n) {
  if (n <= 1) return kMaxHashKey;  // one shard covers everything
  const auto d = static_cast<uint128>(n);
  uint128 q = kMaxHashKey / d;
  if (kMaxHashKey % d == d - 1) ++q;
  return q;
}
}  // namespace

HashKeyRange ShardRange(int32_t index, int32_t shard_count) {
  if (shard_count <= 1) return {0, kMaxHashKey};
  const uint128 h = SliceWidth(shard_count);
  HashKeyRange r;
  r.start = static_cast<uint128>(index) * h;
  r.end = index == shard_count - 1 ? kMaxHashKey : static_cast<uint128>(index + 1) * h - 1;
  return r;
}

int32_t ShardForHashKey(uint128 hash_key, int32_t shard_count) {
  if (shard_count <= 1) return 0;
  const uint128 index = hash_key / SliceWidth(shard_count);
  return index >= static_cast<uint128>(shard_count) ? shard_count - 1 : static_cast<int32_t>(index);
}

uint128 HashPartitionKey(std::string_view partition_key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(partition_key.data(), partition_key.size(), digest, &length, EVP_md5(), nullptr);
  uint128 value = 0;
  for (int i = 0; i < 16; ++i) value = (value << 8) | digest[i];
  return value;
}

namespace {

// `value` (>= 0) as exactly `width` decimal digits, zero-padded, into `out`
// (PutRecords answers hundreds of these per request: no printf).
void PutDigits(char* out, int width, uint64_t value) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::string ShardId(int32_t index) {
  std::string out = "shardId-000000000000";
  PutDigits(out.data() + 8, 12, static_cast<uint64_t>(std::max(index, 0)));
  return out;
}

std::optional<int32_t> ParseShardId(std::string_view shard_id) {
  constexpr std::string_view kPrefix = "shardId-";
  if (shard_id.size() != kPrefix.size() + 12 || shard_id.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (char c : shard_id.substr(kPrefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > INT32_MAX) return std::nullopt;
  }
  return static_cast<int32_t>(value);
}

std::string SequenceNumber(int32_t shard, int64_t offset) {
  std::string out(38, '0');
  out[0] = '4';
  out[1] = '9';
  PutDigits(out.data() + 2, 10, static_cast<uint64_t>(std::max(shard, 0)));
  PutDigits(out.data() + 12, 26, static_cast<uint64_t>(std::max<int64_t>(offset, 0)));
  return out;
}

std::optional<ParsedSequenceNumber> ParseSequenceNumber(std::string_view text) {
  if (text.size() != 38 || text.substr(0, 2) != "49") return std::nullopt;
  ParsedSequenceNumber out;
  int64_t shard = 0;
  for (char c : text.substr(2, 10)) {
    if (c < '0' || c > '9') return std::nullopt;
    shard = shard * 10 + (c - '0');
  }
  if (shard > INT32_MAX) return std::nullopt;
  int64_t offset = 0;
  for (char c : text.substr(12)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (offset > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    offset = offset * 10 + (c - '0');
  }
  out.shard = static_cast<int32_t>(shard);
  out.offset = offset;
  return out;
}

}  // namespace pinpipe::api
