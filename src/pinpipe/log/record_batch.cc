#include "pinpipe/log/record_batch.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

#include "pinpipe/log/crc32c.h"
#include "pinpipe/log/little_endian.h"

namespace pinpipe::log {
namespace {

using internal::GetAt;
using internal::PutAt;
using internal::PutLe;

// Bounds-checked cursor over one record's bytes.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  template <typename T>
  bool Get(T* v) {
    if (d_.size() - pos_ < sizeof(T)) return false;
    *v = GetAt<T>(d_.data() + pos_);
    pos_ += sizeof(T);
    return true;
  }
  bool Bytes(size_t n, std::string_view* v) {
    if (d_.size() - pos_ < n) return false;
    *v = d_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return d_.size() - pos_; }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

}  // namespace

size_t EncodedRecordSize(const RecordView& r) {
  size_t n = 4 + 8 + 4 + 4 + 4;
  if (r.key) n += r.key->size();
  if (r.value) n += r.value->size();
  for (const auto& [k, v] : r.headers) n += 8 + k.size() + v.size();
  return n;
}

void EncodeBatch(int64_t base_offset, std::span<const RecordView> records, std::string* out) {
  const size_t start = out->size();
  out->resize(start + kBatchHeaderSize);
  int64_t first_ts = records.empty() ? 0 : records[0].timestamp_ms;
  int64_t max_ts = first_ts;
  for (const RecordView& r : records) {
    if (r.timestamp_ms > max_ts) max_ts = r.timestamp_ms;
    PutLe<uint32_t>(out, static_cast<uint32_t>(EncodedRecordSize(r) - 4));
    PutLe<int64_t>(out, r.timestamp_ms);
    PutLe<int32_t>(out, r.key ? static_cast<int32_t>(r.key->size()) : -1);
    if (r.key) out->append(*r.key);
    PutLe<int32_t>(out, r.value ? static_cast<int32_t>(r.value->size()) : -1);
    if (r.value) out->append(*r.value);
    PutLe<uint32_t>(out, static_cast<uint32_t>(r.headers.size()));
    for (const auto& [k, v] : r.headers) {
      PutLe<uint32_t>(out, static_cast<uint32_t>(k.size()));
      out->append(k);
      PutLe<uint32_t>(out, static_cast<uint32_t>(v.size()));
      out->append(v);
    }
  }
  char* h = out->data() + start;
  const size_t total = out->size() - start;
  PutAt<int64_t>(h + 0, base_offset);
  PutAt<uint32_t>(h + 8, static_cast<uint32_t>(total - kBatchLengthFieldEnd));
  h[16] = static_cast<char>(kBatchMagic);
  h[17] = 0;
  PutAt<uint16_t>(h + 18, 0);
  PutAt<uint32_t>(h + 20, static_cast<uint32_t>(records.size()));
  PutAt<int64_t>(h + 24, first_ts);
  PutAt<int64_t>(h + 32, max_ts);
  PutAt<uint32_t>(h + 12, Crc32cExtend(0, h + 16, total - 16));
}

Result<BatchHeader> DecodeBatchHeader(std::string_view data) {
  if (data.size() < kBatchHeaderSize) return DataLossError("short batch header");
  const char* h = data.data();
  BatchHeader b;
  b.base_offset = GetAt<int64_t>(h);
  b.batch_length = GetAt<uint32_t>(h + 8);
  b.crc = GetAt<uint32_t>(h + 12);
  const auto magic = static_cast<uint8_t>(h[16]);
  b.record_count = GetAt<uint32_t>(h + 20);
  b.first_timestamp = GetAt<int64_t>(h + 24);
  b.max_timestamp = GetAt<int64_t>(h + 32);
  if (magic != kBatchMagic) {
    return DataLossError("bad batch magic " + std::to_string(magic));
  }
  if (b.batch_length < kBatchHeaderSize - kBatchLengthFieldEnd || b.batch_length > kMaxBatchBytes) {
    return DataLossError("batch length " + std::to_string(b.batch_length) + " out of bounds");
  }
  if (b.record_count == 0 || b.record_count > b.batch_length / 24) {
    return DataLossError("batch record count " + std::to_string(b.record_count) + " invalid");
  }
  if (b.base_offset < 0 || b.base_offset > (int64_t{1} << 62)) {
    return DataLossError("batch base offset " + std::to_string(b.base_offset) + " invalid");
  }
  return b;
}

Status VerifyBatchCrc(std::string_view batch, const BatchHeader& header) {
  if (batch.size() != header.TotalSize()) return DataLossError("batch size mismatch");
  const uint32_t crc = Crc32cExtend(0, batch.data() + 16, batch.size() - 16);
  if (crc != header.crc) {
    return DataLossError("batch at offset " + std::to_string(header.base_offset) +
                         " fails its CRC32C check");
  }
  return Status::Ok();
}

Status DecodeBatchRefs(std::string_view batch, const BatchHeader& header, int64_t min_offset,
                       int64_t end_offset, size_t max_records, std::vector<LogRecordRef>* out) {
  const size_t first_new = out->size();
  Reader rd(batch.substr(std::min(batch.size(), kBatchHeaderSize)));
  auto fail = [&](const char* what) {
    out->resize(first_new);
    return DataLossError("batch at offset " + std::to_string(header.base_offset) + ": " + what);
  };
  for (uint32_t i = 0; i < header.record_count; ++i) {
    const int64_t offset = header.base_offset + i;
    if (offset >= end_offset || out->size() - first_new >= max_records) return Status::Ok();
    uint32_t len = 0;
    if (!rd.Get(&len) || len > rd.remaining()) return fail("record length out of bounds");
    std::string_view body;
    (void)rd.Bytes(len, &body);
    if (offset < min_offset) continue;
    Reader r(body);
    LogRecordRef& rec = out->emplace_back();
    rec.offset = offset;
    int32_t klen = 0;
    int32_t vlen = 0;
    std::string_view bytes;
    if (!r.Get(&rec.timestamp_ms) || !r.Get(&klen)) return fail("truncated record");
    if (klen >= 0) {
      if (!r.Bytes(static_cast<size_t>(klen), &bytes)) return fail("key out of bounds");
      rec.key = bytes;
    } else if (klen != -1) {
      return fail("bad key length");
    }
    if (!r.Get(&vlen)) return fail("truncated record");
    if (vlen >= 0) {
      if (!r.Bytes(static_cast<size_t>(vlen), &bytes)) return fail("value out of bounds");
      rec.value = bytes;
    } else if (vlen != -1) {
      return fail("bad value length");
    }
    uint32_t nh = 0;
    if (!r.Get(&nh) || nh > r.remaining() / 8) return fail("bad header count");
    rec.headers.reserve(nh);
    for (uint32_t h = 0; h < nh; ++h) {
      uint32_t hk = 0;
      uint32_t hv = 0;
      std::string_view kb;
      std::string_view vb;
      if (!r.Get(&hk) || !r.Bytes(hk, &kb) || !r.Get(&hv) || !r.Bytes(hv, &vb)) {
        return fail("header out of bounds");
      }
      rec.headers.emplace_back(kb, vb);
    }
    if (r.remaining() != 0) return fail("trailing bytes in record");
  }
  if (rd.remaining() != 0) return fail("trailing bytes after records");
  return Status::Ok();
}

LogRecord ToLogRecord(const LogRecordRef& ref) {
  LogRecord rec;
  rec.offset = ref.offset;
  rec.timestamp_ms = ref.timestamp_ms;
  if (ref.key) rec.key.emplace(*ref.key);
  if (ref.value) rec.value.emplace(*ref.value);
  rec.headers.reserve(ref.headers.size());
  for (const auto& [k, v] : ref.headers) rec.headers.emplace_back(std::string(k), std::string(v));
  return rec;
}

Status DecodeBatch(std::string_view batch, const BatchHeader& header, int64_t min_offset,
                   std::vector<LogRecord>* out) {
  PINPIPE_RETURN_IF_ERROR(VerifyBatchCrc(batch, header));
  std::vector<LogRecordRef> refs;
  PINPIPE_RETURN_IF_ERROR(DecodeBatchRefs(batch, header, min_offset, INT64_MAX, SIZE_MAX, &refs));
  out->reserve(out->size() + refs.size());
  for (const LogRecordRef& ref : refs) {
    out->push_back(ToLogRecord(ref));
  }
  return Status::Ok();
}

void ReadBuffer::Clear() {
  size_ = 0;
  batches_.clear();
  records_.clear();
}

char* ReadBuffer::Extend(size_t n) {
  if (capacity_ - size_ < n) {
    const size_t capacity = std::max(size_ + n, capacity_ * 2);
    auto bytes = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::memcpy(bytes.get(), bytes_.get(), size_);
    bytes_ = std::move(bytes);
    capacity_ = capacity;
  }
  char* at = bytes_.get() + size_;
  size_ += n;
  return at;
}

Status ReadBuffer::Decode(int64_t min_offset, int64_t end_offset, size_t max_records) {
  records_.clear();
  for (size_t i = 0; i < batches_.size(); ++i) {
    const Batch& b = batches_[i];
    const std::string_view bytes(bytes_.get() + b.pos, b.header.TotalSize());
    Status s = DecodeBatchRefs(bytes, b.header, min_offset, end_offset,
                               max_records - records_.size(), &records_);
    if (!s.ok()) {
      batches_.resize(i);
      if (records_.empty()) return s;
      break;
    }
    if (records_.size() >= max_records) break;
  }
  return Status::Ok();
}

}  // namespace pinpipe::log
