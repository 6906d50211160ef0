// The Thrift compact protocol, hand-written for Parquet's FileMetaData and
// PageHeader (see apache/thrift doc/specs/thrift-compact-protocol.md).
//
// CompactWriter appends to a string; CompactReader is a bounds-checked pull
// parser with a sticky error (check ok() once at the end) that can skip any
// field it does not know. Neither is thread-safe; both are cheap values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinpipe::table::thrift {

// Compact protocol type ids.
enum CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) { last_.push_back(0); }

  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldBool(int16_t id, bool v);
  void FieldBinary(int16_t id, std::string_view v);
  // Writes the field header of a nested struct; close it with EndStruct().
  void FieldStruct(int16_t id);
  // Writes a list header; then write `size` elements with the Elem* calls
  // (struct elements: BeginStruct() ... EndStruct()).
  void FieldList(int16_t id, CType elem_type, size_t size);
  void ElemI32(int32_t v) { Varint(ZigZag(v)); }
  void ElemBinary(std::string_view v);
  void BeginStruct() { last_.push_back(0); }
  // Writes the stop byte of the innermost struct.
  void EndStruct();

  static uint64_t ZigZag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void Varint(uint64_t v);

 private:
  void FieldHeader(int16_t id, CType type);
  std::string* out_;
  std::vector<int16_t> last_;  // last field id per open struct
};

class CompactReader {
 public:
  CompactReader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {
    last_.push_back(0);
  }

  bool ok() const { return ok_; }
  // Bytes consumed so far.
  size_t position() const { return static_cast<size_t>(p_ - begin_); }

  // Reads the next field header of the current struct. Returns false at the
  // struct's stop byte (or on error). For bool fields the value is in *type
  // (kBoolTrue / kBoolFalse).
  bool NextField(CType* type, int16_t* id);
  void BeginStruct() { last_.push_back(0); }
  void EndStruct() {
    if (last_.size() > 1) last_.pop_back();
  }

  int32_t ReadI32() { return static_cast<int32_t>(UnZigZag(ReadVarint())); }
  int64_t ReadI64() { return UnZigZag(ReadVarint()); }
  std::string_view ReadBinary();
  double ReadDouble();
  uint8_t ReadByte();
  // Reads a list (or set) header.
  void ReadListHeader(CType* elem_type, uint32_t* size);
  // Skips one value of `type` (structs and containers recursively).
  void Skip(CType type, int depth = 0);
  uint64_t ReadVarint();
  void Fail() {
    ok_ = false;
    p_ = end_;
  }

  static int64_t UnZigZag(uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  bool ok_ = true;
  std::vector<int16_t> last_;
};

}  // namespace pinpipe::table::thrift
