#include "pinpipe/table/thrift_compact.h"

#include <cstring>

namespace pinpipe::table::thrift {

void CompactWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  int delta = id - last_.back();
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | type));
  } else {
    out_->push_back(static_cast<char>(type));
    Varint(ZigZag(id));
  }
  last_.back() = id;
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, kI32);
  Varint(ZigZag(v));
}

void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, kI64);
  Varint(ZigZag(v));
}

void CompactWriter::FieldBool(int16_t id, bool v) { FieldHeader(id, v ? kBoolTrue : kBoolFalse); }

void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, kBinary);
  ElemBinary(v);
}

void CompactWriter::ElemBinary(std::string_view v) {
  Varint(v.size());
  out_->append(v);
}

void CompactWriter::FieldStruct(int16_t id) {
  FieldHeader(id, kStruct);
  BeginStruct();
}

void CompactWriter::FieldList(int16_t id, CType elem_type, size_t size) {
  FieldHeader(id, kList);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | elem_type));
  } else {
    out_->push_back(static_cast<char>(0xf0 | elem_type));
    Varint(size);
  }
}

void CompactWriter::EndStruct() {
  out_->push_back(static_cast<char>(kStop));
  if (last_.size() > 1) last_.pop_back();
}

uint64_t CompactReader::ReadVarint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ >= end_) {
      Fail();
      return 0;
    }
    uint8_t b = *p_++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  Fail();
  return 0;
}

uint8_t CompactReader::ReadByte() {
  if (p_ >= end_) {
    Fail();
    return 0;
  }
  return *p_++;
}

bool CompactReader::NextField(CType* type, int16_t* id) {
  uint8_t b = ReadByte();
  if (!ok_ || b == kStop) return false;
  *type = static_cast<CType>(b & 0x0f);
  int delta = b >> 4;
  if (delta != 0) {
    *id = static_cast<int16_t>(last_.back() + delta);
  } else {
    *id = static_cast<int16_t>(UnZigZag(ReadVarint()));
  }
  last_.back() = *id;
  return ok_;
}

std::string_view CompactReader::ReadBinary() {
  uint64_t n = ReadVarint();
  if (!ok_ || n > static_cast<uint64_t>(end_ - p_)) {
    Fail();
    return {};
  }
  std::string_view v(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return v;
}

double CompactReader::ReadDouble() {
  if (end_ - p_ < 8) {
    Fail();
    return 0;
  }
  double d;
  std::memcpy(&d, p_, 8);
  p_ += 8;
  return d;
}

void CompactReader::ReadListHeader(CType* elem_type, uint32_t* size) {
  uint8_t b = ReadByte();
  *elem_type = static_cast<CType>(b & 0x0f);
  uint64_t n = b >> 4;
  if (n == 15) n = ReadVarint();
  // Every element takes at least one byte (except bools in some encoders);
  // a size beyond the remaining input is corrupt.
  if (n > static_cast<uint64_t>(end_ - p_) + 1) Fail();
  *size = static_cast<uint32_t>(n);
}

void CompactReader::Skip(CType type, int depth) {
  if (depth > 32) {
    Fail();
    return;
  }
  switch (type) {
    case kBoolTrue:
    case kBoolFalse:
      return;
    case kByte:
      ReadByte();
      return;
    case kI16:
    case kI32:
    case kI64:
      ReadVarint();
      return;
    case kDouble:
      ReadDouble();
      return;
    case kBinary:
      ReadBinary();
      return;
    case kList:
    case kSet: {
      CType et;
      uint32_t n;
      ReadListHeader(&et, &n);
      for (uint32_t i = 0; i < n && ok_; ++i) {
        if (et == kBoolTrue || et == kBoolFalse) {
          ReadByte();
        } else {
          Skip(et, depth + 1);
        }
      }
      return;
    }
    case kMap: {
      uint64_t n = ReadVarint();
      if (n == 0) return;
      uint8_t kv = ReadByte();
      for (uint64_t i = 0; i < n && ok_; ++i) {
        Skip(static_cast<CType>(kv >> 4), depth + 1);
        Skip(static_cast<CType>(kv & 0x0f), depth + 1);
      }
      return;
    }
    case kStruct: {
      BeginStruct();
      CType t;
      int16_t id;
      while (NextField(&t, &id)) Skip(t, depth + 1);
      EndStruct();
      return;
    }
    default:
      Fail();
  }
}

}  // namespace pinpipe::table::thrift
