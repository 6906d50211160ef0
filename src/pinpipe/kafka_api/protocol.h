// Kafka wire protocol primitives: big-endian readers and writers for the
// classic types (int16/32/64, strings and bytes with fixed-size lengths,
// arrays) and the flexible ones (unsigned varint lengths plus one, tagged
// fields), the API keys and error codes pinpipe serves.
//
// Reader never throws and never reads past its input: the first underflow or
// malformed length sets ok() to false and every later read returns a zero
// value, so a decoder reads straight through and checks ok() once.
// Thread-safety: values; one thread per object.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace pinpipe::kafka_api {

enum ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kSaslHandshake = 17,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kApiVersions = 18,
  kInitProducerId = 22,
  kDescribeConfigs = 32,
  kAlterConfigs = 33,
  kSaslAuthenticate = 36,
  kCreatePartitions = 37,
  kIncrementalAlterConfigs = 44,
  kDescribeCluster = 60,
};

// Error codes from org.apache.kafka.common.protocol.Errors.
enum ErrorCode : int16_t {
  kUnknownServerError = -1,
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kRequestTimedOut = 7,
  kMessageTooLarge = 10,
  kCoordinatorNotAvailable = 15,
  kInvalidTopicException = 17,
  kInvalidRequiredAcks = 21,
  kTopicAuthorizationFailed = 29,
  kGroupAuthorizationFailed = 30,
  kClusterAuthorizationFailed = 31,
  kUnsupportedSaslMechanism = 33,
  kIllegalSaslState = 34,
  kUnsupportedVersion = 35,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidReplicationFactor = 38,
  kInvalidReplicaAssignment = 39,
  kInvalidConfig = 40,
  kInvalidRequest = 42,
  kOutOfOrderSequenceNumber = 45,
  kInvalidProducerEpoch = 47,
  kKafkaStorageError = 56,
  kSaslAuthenticationFailed = 58,
  kUnsupportedCompressionType = 76,
  kInvalidRecord = 87,
};

class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }
  void Fail() {
    ok_ = false;
    p_ = end_;
  }

  int8_t Int8() { return static_cast<int8_t>(Fixed<uint8_t>()); }
  int16_t Int16() { return static_cast<int16_t>(Fixed<uint16_t>()); }
  int32_t Int32() { return static_cast<int32_t>(Fixed<uint32_t>()); }
  int64_t Int64() { return static_cast<int64_t>(Fixed<uint64_t>()); }
  bool Bool() { return Int8() != 0; }
  uint32_t UnsignedVarint();
  int32_t Varint();   // zig-zag
  int64_t Varlong();  // zig-zag
  std::string_view Raw(size_t n);

  // String or bytes: `flexible` picks the compact form (uvarint length + 1).
  // Nullable readers return nullopt for null; the others fail on null.
  std::optional<std::string_view> NullableString(bool flexible);
  std::string_view String(bool flexible);
  std::optional<std::string_view> NullableBytes(bool flexible);
  // Array length: -1 (null) or the count; fails when the count cannot fit
  // in what is left (each element takes at least `min_element_size` bytes).
  int32_t ArrayLength(bool flexible, size_t min_element_size = 1);
  // Skips the tagged fields of a flexible structure (pinpipe reads none).
  void SkipTaggedFields();
  std::string_view Uuid() { return Raw(16); }

 private:
  template <typename T>
  T Fixed() {
    if (remaining() < sizeof(T)) {
      Fail();
      return 0;
    }
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v = static_cast<T>((v << 8) | static_cast<uint8_t>(p_[i]));
    p_ += sizeof(T);
    return v;
  }
  std::optional<std::string_view> LengthPrefixed(bool flexible, bool wide_length);

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

// Appends to a std::string the caller owns and reuses (no allocation in the
// steady state).
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  std::string& buffer() { return *out_; }
  size_t size() const { return out_->size(); }

  void Int8(int8_t v) { out_->push_back(static_cast<char>(v)); }
  void Int16(int16_t v) { Fixed(static_cast<uint16_t>(v)); }
  void Int32(int32_t v) { Fixed(static_cast<uint32_t>(v)); }
  void Int64(int64_t v) { Fixed(static_cast<uint64_t>(v)); }
  void Bool(bool v) { Int8(v ? 1 : 0); }
  void UnsignedVarint(uint32_t v);
  void Varint(int32_t v) {
    UnsignedVarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
  }
  void Varlong(int64_t v);
  void Raw(std::string_view bytes) { out_->append(bytes); }

  void String(std::string_view s, bool flexible);
  void NullableString(std::optional<std::string_view> s, bool flexible);
  void Bytes(std::string_view s, bool flexible);
  void NullableBytes(std::optional<std::string_view> s, bool flexible);
  void ArrayLength(int32_t n, bool flexible);  // n = -1 writes null
  void EmptyTaggedFields() { out_->push_back('\0'); }
  void Uuid(std::string_view sixteen_bytes) { out_->append(sixteen_bytes.substr(0, 16)); }

  // Reserves 4 bytes for an int32 filled in later by PatchInt32.
  size_t ReserveInt32() {
    out_->append(4, '\0');
    return out_->size() - 4;
  }
  void PatchInt32(size_t at, int32_t v);

 private:
  template <typename T>
  void Fixed(T v) {
    char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>(v >> (8 * (sizeof(T) - 1 - i)));
    out_->append(b, sizeof(T));
  }
  std::string* out_;
};

// Size of `v` as an unsigned varint / zig-zag varint.
inline size_t UnsignedVarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
inline size_t VarintSize(int64_t v) {
  return UnsignedVarintSize((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// Kafka's topic name rule (org.apache.kafka.common.internals.Topic.validate):
// 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
bool ValidTopicName(std::string_view name);

// Whether requests of `api_key` at `version` use flexible encoding (request
// header v2, compact types, tagged fields). -1 when the key is not served.
int FlexibleFrom(int16_t api_key);
inline bool IsFlexible(int16_t api_key, int16_t version) {
  const int from = FlexibleFrom(api_key);
  return from >= 0 && version >= from;
}

}  // namespace pinpipe::kafka_api
