#include "pinpipe/kafka_api/protocol.h"

#include <cctype>

namespace pinpipe::kafka_api {

uint32_t Reader::UnsignedVarint() {
  uint32_t v = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    if (p_ >= end_) break;
    const uint8_t b = static_cast<uint8_t>(*p_++);
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  Fail();  // truncated, or longer than 5 bytes
  return 0;
}

int32_t Reader::Varint() {
  const uint32_t u = UnsignedVarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::Varlong() {
  uint64_t v = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (p_ >= end_) break;
    const uint8_t b = static_cast<uint8_t>(*p_++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  Fail();
  return 0;
}

std::string_view Reader::Raw(size_t n) {
  if (remaining() < n) {
    Fail();
    return {};
  }
  std::string_view s(p_, n);
  p_ += n;
  return s;
}

std::optional<std::string_view> Reader::LengthPrefixed(bool flexible, bool wide_length) {
  int64_t len;
  if (flexible) {
    len = static_cast<int64_t>(UnsignedVarint()) - 1;
  } else {
    len = wide_length ? Int32() : Int16();
  }
  if (!ok_) return std::nullopt;
  if (len < 0) {
    if (len != -1) Fail();
    return std::nullopt;
  }
  if (static_cast<uint64_t>(len) > remaining()) {
    Fail();
    return std::nullopt;
  }
  return Raw(static_cast<size_t>(len));
}

std::optional<std::string_view> Reader::NullableString(bool flexible) {
  return LengthPrefixed(flexible, false);
}

std::string_view Reader::String(bool flexible) {
  auto s = LengthPrefixed(flexible, false);
  if (!s) {
    Fail();
    return {};
  }
  return *s;
}

std::optional<std::string_view> Reader::NullableBytes(bool flexible) {
  return LengthPrefixed(flexible, true);
}

int32_t Reader::ArrayLength(bool flexible, size_t min_element_size) {
  int64_t n = flexible ? static_cast<int64_t>(UnsignedVarint()) - 1 : Int32();
  if (!ok_) return 0;
  if (n < -1 || (n > 0 && static_cast<uint64_t>(n) * min_element_size > remaining())) {
    Fail();
    return 0;
  }
  return static_cast<int32_t>(n);
}

void Reader::SkipTaggedFields() {
  const uint32_t n = UnsignedVarint();
  for (uint32_t i = 0; i < n && ok_; ++i) {
    (void)UnsignedVarint();  // tag
    const uint32_t size = UnsignedVarint();
    (void)Raw(size);
  }
}

void Writer::UnsignedVarint(uint32_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void Writer::Varlong(int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (u >= 0x80) {
    out_->push_back(static_cast<char>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  out_->push_back(static_cast<char>(u));
}

void Writer::String(std::string_view s, bool flexible) {
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(s.size() + 1));
  } else {
    Int16(static_cast<int16_t>(s.size()));
  }
  out_->append(s);
}

void Writer::NullableString(std::optional<std::string_view> s, bool flexible) {
  if (s) return String(*s, flexible);
  if (flexible) {
    UnsignedVarint(0);
  } else {
    Int16(-1);
  }
}

void Writer::Bytes(std::string_view s, bool flexible) {
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(s.size() + 1));
  } else {
    Int32(static_cast<int32_t>(s.size()));
  }
  out_->append(s);
}

void Writer::NullableBytes(std::optional<std::string_view> s, bool flexible) {
  if (s) return Bytes(*s, flexible);
  if (flexible) {
    UnsignedVarint(0);
  } else {
    Int32(-1);
  }
}

void Writer::ArrayLength(int32_t n, bool flexible) {
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(n + 1));
  } else {
    Int32(n);
  }
}

void Writer::PatchInt32(size_t at, int32_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) (*out_)[at + i] = static_cast<char>(u >> (8 * (3 - i)));
}

bool ValidTopicName(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

int FlexibleFrom(int16_t api_key) {
  switch (api_key) {
    case kProduce:
      return 9;
    case kFetch:
      return 12;
    case kListOffsets:
      return 6;
    case kMetadata:
      return 9;
    case kFindCoordinator:
      return 3;
    case kOffsetCommit:
      return 8;
    case kOffsetFetch:
      return 6;
    case kJoinGroup:
      return 6;
    case kHeartbeat:
    case kLeaveGroup:
    case kSyncGroup:
      return 4;
    case kListGroups:
      return 3;
    case kCreateTopics:
      return 5;
    case kDeleteTopics:
      return 4;
    case kApiVersions:
      return 3;
    case kSaslAuthenticate:
      return 2;
    case kSaslHandshake:
      return 0x7fff;  // never flexible
    case kInitProducerId:
    case kCreatePartitions:
      return 2;
    case kDescribeGroups:
      return 5;
    case kDescribeConfigs:
      return 4;
    case kAlterConfigs:
      return 2;
    case kIncrementalAlterConfigs:
      return 1;
    case kDescribeCluster:
      return 0;
    default:
      return -1;
  }
}

}  // namespace pinpipe::kafka_api
