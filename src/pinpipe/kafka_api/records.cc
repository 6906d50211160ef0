#include "pinpipe/kafka_api/records.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>

#include "pinpipe/base/gzip.h"
#include "pinpipe/log/crc32c.h"

namespace pinpipe::kafka_api {
namespace {

constexpr size_t kBatchHeaderSize = 61;  // baseOffset .. records count
constexpr size_t kMaxDecompressed = 256u << 20;

// A record's timestamp and offset are the batch's base plus a delta, in
// two's-complement 64-bit arithmetic as Kafka's Java code does it: a producer
// may send any base and delta (Long.MAX_VALUE + 1 is not an error there), and
// a fetched batch may hold timestamps far apart. Signed overflow would be UB.
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

bool Unzstd(std::string_view in, std::string* out) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (ds == nullptr) return false;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  char buf[64 << 10];
  bool ok = true;
  size_t rc = 1;
  while (ib.pos < ib.size || rc != 0) {
    ZSTD_outBuffer ob{buf, sizeof(buf), 0};
    rc = ZSTD_decompressStream(ds, &ob, &ib);
    if (ZSTD_isError(rc) || out->size() > kMaxDecompressed) {
      ok = false;
      break;
    }
    out->append(buf, ob.pos);
    if (ob.pos == 0 && ib.pos == ib.size) {
      ok = rc == 0;
      break;
    }
  }
  ZSTD_freeDStream(ds);
  return ok;
}

// The LZ4 frame format (Kafka's KafkaLZ4BlockOutputStream writes standard
// frames, with the header checksum fixed by KIP-57 for magic >= 1).
bool Unlz4(std::string_view in, std::string* out) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return false;
  const char* src = in.data();
  size_t left = in.size();
  char buf[64 << 10];
  size_t hint = 1;
  bool ok = true;
  while (left > 0 && hint != 0) {
    size_t dst_size = sizeof(buf);
    size_t src_size = left;
    hint = LZ4F_decompress(dctx, buf, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint) || out->size() + dst_size > kMaxDecompressed) {
      ok = false;
      break;
    }
    out->append(buf, dst_size);
    src += src_size;
    left -= src_size;
    if (src_size == 0 && dst_size == 0) break;  // no progress
  }
  // Frames may be concatenated; a frame that ended (hint 0) with input left starts another.
  LZ4F_freeDecompressionContext(dctx);
  if (ok && hint == 0 && left > 0) return Unlz4(std::string_view(src, left), out);
  return ok && hint == 0;
}

// Raw snappy, or the xerial framing the Java client writes (magic, then
// big-endian length-prefixed raw snappy blocks).
bool Unsnappy(std::string_view in, std::string* out) {
  static constexpr char kXerial[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
  if (in.size() >= 16 && std::equal(kXerial, kXerial + 8, in.data())) {
    Reader r(in.substr(16));
    while (r.ok() && r.remaining() > 0) {
      const int32_t n = r.Int32();
      std::string_view block = r.Raw(static_cast<size_t>(std::max(n, 0)));
      if (!r.ok()) return false;
      std::string part;
      if (!snappy::Uncompress(block.data(), block.size(), &part)) return false;
      out->append(part);
      if (out->size() > kMaxDecompressed) return false;
    }
    return r.ok();
  }
  size_t len = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &len) || len > kMaxDecompressed) {
    return false;
  }
  return snappy::Uncompress(in.data(), in.size(), out);
}

void PutBe32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * (3 - i)));
}

char* PutUnsignedVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

char* PutVarint(char* p, int64_t v) {
  return PutUnsignedVarint(p, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// The batch's first offset and its smallest and largest timestamps.
struct BatchBase {
  int64_t offset;
  int64_t min_ts;
  int64_t max_ts;
};

template <typename Records, typename Access>
BatchBase BaseOf(const Records& records, Access access) {
  BatchBase b{access.offset(records.front()), access.timestamp(records.front()),
              access.timestamp(records.front())};
  for (const auto& r : records) {
    b.min_ts = std::min(b.min_ts, access.timestamp(r));
    b.max_ts = std::max(b.max_ts, access.timestamp(r));
  }
  return b;
}

// Bytes of one record after its length varint; `headers` gets its header count.
template <typename Record, typename Access>
size_t RecordBodySize(const Record& r, Access access, const BatchBase& base, size_t* headers) {
  const auto key = access.key(r);
  const auto value = access.value(r);
  size_t body = 1 + VarintSize(WrappingSub(access.timestamp(r), base.min_ts)) +
                VarintSize(WrappingSub(access.offset(r), base.offset));
  body += key ? VarintSize(static_cast<int64_t>(key->size())) + key->size() : 1;
  body += value ? VarintSize(static_cast<int64_t>(value->size())) + value->size() : 1;
  *headers = 0;
  access.ForEachHeader(r, [&](std::string_view k, std::string_view v) {
    ++*headers;
    body += VarintSize(static_cast<int64_t>(k.size())) + k.size() +
            VarintSize(static_cast<int64_t>(v.size())) + v.size();
  });
  return body + VarintSize(static_cast<int64_t>(*headers));
}

template <typename Records, typename Access>
size_t EncodedSize(const Records& records, Access access) {
  if (records.empty()) return 0;
  const BatchBase base = BaseOf(records, access);
  size_t total = kBatchHeaderSize;
  size_t headers = 0;
  for (const auto& r : records) {
    const size_t body = RecordBodySize(r, access, base, &headers);
    total += VarintSize(static_cast<int64_t>(body)) + body;
  }
  return total;
}

// Writes the batch with few appends per record (its fixed fields go through
// a small stack buffer) and checksums it in slices as it goes, while the
// bytes just written are still in the cache.
template <typename Records, typename Access>
void Encode(const Records& records, Access access, std::string* out) {
  if (records.empty()) return;
  constexpr size_t kCrcSlice = 64 << 10;
  const size_t start = out->size();
  const BatchBase base = BaseOf(records, access);
  {
    Writer w(out);
    w.Int64(base.offset);
    w.Int32(0);  // batch length, set below
    w.Int32(0);  // partition leader epoch
    w.Int8(2);   // magic
    w.Int32(0);  // crc, set below
    w.Int16(0);  // attributes: no compression, CreateTime
    w.Int32(static_cast<int32_t>(access.offset(records.back()) - base.offset));
    w.Int64(base.min_ts);
    w.Int64(base.max_ts);
    w.Int64(-1);  // producer id
    w.Int16(-1);  // producer epoch
    w.Int32(-1);  // base sequence
    w.Int32(static_cast<int32_t>(records.size()));
  }
  const size_t crc_at = start + 17;
  size_t crc_done = crc_at + 4;  // the CRC covers attributes .. end
  uint32_t crc = 0;
  char fixed[40];  // body length, attributes, deltas, key length: at most 5+1+10+5+5
  for (const auto& r : records) {
    const auto key = access.key(r);
    const auto value = access.value(r);
    size_t headers = 0;
    const size_t body = RecordBodySize(r, access, base, &headers);
    char* p = PutVarint(fixed, static_cast<int64_t>(body));
    *p++ = 0;  // attributes
    p = PutVarint(p, WrappingSub(access.timestamp(r), base.min_ts));
    p = PutVarint(p, WrappingSub(access.offset(r), base.offset));
    p = PutVarint(p, key ? static_cast<int64_t>(key->size()) : -1);
    out->append(fixed, static_cast<size_t>(p - fixed));
    if (key) out->append(*key);
    p = PutVarint(fixed, value ? static_cast<int64_t>(value->size()) : -1);
    out->append(fixed, static_cast<size_t>(p - fixed));
    if (value) out->append(*value);
    p = PutVarint(fixed, static_cast<int64_t>(headers));
    out->append(fixed, static_cast<size_t>(p - fixed));
    access.ForEachHeader(r, [&](std::string_view k, std::string_view v) {
      char* q = PutVarint(fixed, static_cast<int64_t>(k.size()));
      out->append(fixed, static_cast<size_t>(q - fixed));
      out->append(k);
      q = PutVarint(fixed, static_cast<int64_t>(v.size()));
      out->append(fixed, static_cast<size_t>(q - fixed));
      out->append(v);
    });
    if (out->size() - crc_done >= kCrcSlice) {
      crc = log::Crc32cExtend(crc, out->data() + crc_done, out->size() - crc_done);
      crc_done = out->size();
    }
  }
  crc = log::Crc32cExtend(crc, out->data() + crc_done, out->size() - crc_done);
  PutBe32(out->data() + start + 8, static_cast<uint32_t>(out->size() - start - 12));
  PutBe32(out->data() + crc_at, crc);
}

struct RefAccess {
  int64_t offset(const log::LogRecordRef& r) const { return r.offset; }
  int64_t timestamp(const log::LogRecordRef& r) const { return r.timestamp_ms; }
  std::optional<std::string_view> key(const log::LogRecordRef& r) const { return r.key; }
  std::optional<std::string_view> value(const log::LogRecordRef& r) const { return r.value; }
  template <typename F>
  void ForEachHeader(const log::LogRecordRef& r, F f) const {
    for (const auto& [k, v] : r.headers) f(k, v);
  }
};

struct StoredAccess {
  int64_t offset(const broker::StoredRecord& r) const { return r.offset; }
  int64_t timestamp(const broker::StoredRecord& r) const { return r.timestamp_ms; }
  std::optional<std::string_view> key(const broker::StoredRecord& r) const {
    if (r.key) return std::string_view(*r.key);
    return std::nullopt;
  }
  std::optional<std::string_view> value(const broker::StoredRecord& r) const {
    if (r.value) return std::string_view(*r.value);
    return std::nullopt;
  }
  template <typename F>
  void ForEachHeader(const broker::StoredRecord& r, F f) const {
    for (const auto& h : r.headers) f(h.key, h.value);
  }
};

// Decodes the `count` records in `body` (uncompressed record bytes).
bool DecodeRecords(std::string_view body, int32_t count, int64_t base_ts, int32_t partition,
                   std::vector<broker::Record>* out) {
  Reader r(body);
  for (int32_t i = 0; i < count; ++i) {
    const int32_t len = r.Varint();
    if (!r.ok() || len < 0 || static_cast<size_t>(len) > r.remaining()) return false;
    Reader rec(r.Raw(static_cast<size_t>(len)));
    (void)rec.Int8();  // attributes (unused)
    const int64_t ts_delta = rec.Varlong();
    (void)rec.Varint();  // offset delta: the log assigns offsets
    broker::Record& record = out->emplace_back();
    record.partition = partition;
    record.timestamp_ms = WrappingAdd(base_ts, ts_delta);
    const int32_t klen = rec.Varint();
    if (klen >= 0) record.key.emplace(rec.Raw(static_cast<size_t>(klen)));
    const int32_t vlen = rec.Varint();
    if (vlen >= 0) record.value.emplace(rec.Raw(static_cast<size_t>(vlen)));
    const int32_t headers = rec.Varint();
    if (headers < 0 || static_cast<size_t>(headers) > rec.remaining()) return false;
    for (int32_t h = 0; h < headers && rec.ok(); ++h) {
      const int32_t hk = rec.Varint();
      std::string_view k = rec.Raw(static_cast<size_t>(std::max(hk, 0)));
      const int32_t hv = rec.Varint();
      std::string_view v = hv >= 0 ? rec.Raw(static_cast<size_t>(hv)) : std::string_view();
      if (hk < 0) return false;
      record.headers.push_back({std::string(k), std::string(v)});
    }
    if (!rec.ok() || klen < -1 || vlen < -1) return false;
  }
  return r.ok() && r.remaining() == 0;
}

}  // namespace

ErrorCode DecodeBatches(std::string_view records, int32_t partition,
                        std::vector<broker::Record>* out, ProducedBatches* info,
                        std::vector<std::string>* scratch) {
  const size_t first = out->size();
  auto fail = [&](ErrorCode code) {
    out->resize(first);
    return code;
  };
  Reader r(records);
  bool first_batch = true;
  while (r.remaining() > 0) {
    if (r.remaining() < kBatchHeaderSize) return fail(kCorruptMessage);
    (void)r.Int64();  // base offset: assigned by the log
    const int32_t length = r.Int32();
    if (length < static_cast<int32_t>(kBatchHeaderSize - 12) ||
        static_cast<size_t>(length) > r.remaining()) {
      return fail(kCorruptMessage);
    }
    Reader b(r.Raw(static_cast<size_t>(length)));
    (void)b.Int32();  // partition leader epoch
    const int8_t magic = b.Int8();
    if (magic != 2) return fail(kInvalidRecord);  // message sets v0/v1 are not served
    const uint32_t crc = static_cast<uint32_t>(b.Int32());
    if (log::Crc32cExtend(0, b.position(), b.remaining()) != crc) return fail(kCorruptMessage);
    const int16_t attributes = b.Int16();
    (void)b.Int32();  // last offset delta
    const int64_t base_ts = b.Int64();
    (void)b.Int64();  // max timestamp
    const int64_t producer_id = b.Int64();
    const int16_t producer_epoch = b.Int16();
    const int32_t base_sequence = b.Int32();
    const int32_t count = b.Int32();
    if (!b.ok() || count < 0) return fail(kCorruptMessage);
    if (attributes & 0x10) return fail(kInvalidRecord);  // transactional: not served
    if (attributes & 0x20) continue;                     // control batch: nothing to store
    std::string_view body(b.position(), b.remaining());
    const int codec = attributes & 7;
    if (codec != 0) {
      std::string& plain = scratch->emplace_back();
      bool ok = false;
      switch (codec) {
        case 1:
          if (auto inflated = Gunzip(body, kMaxDecompressed); inflated.ok()) {
            plain = std::move(*inflated);
            ok = true;
          }
          break;
        case 2:
          ok = Unsnappy(body, &plain);
          break;
        case 3:
          ok = Unlz4(body, &plain);
          break;
        case 4:
          ok = Unzstd(body, &plain);
          break;
        default:
          return fail(kUnsupportedCompressionType);
      }
      if (!ok) return fail(kCorruptMessage);
      body = plain;
    }
    if (!DecodeRecords(body, count, base_ts, partition, out)) return fail(kCorruptMessage);
    if (first_batch) {
      info->producer_id = producer_id;
      info->producer_epoch = producer_epoch;
      info->base_sequence = base_sequence;
      first_batch = false;
    }
    info->record_count += count;
  }
  if (!r.ok()) return fail(kCorruptMessage);
  return kNone;
}

size_t EncodedBatchSize(const std::vector<log::LogRecordRef>& records) {
  return EncodedSize(records, RefAccess{});
}

size_t EncodedBatchSize(const std::vector<broker::StoredRecord>& records) {
  return EncodedSize(records, StoredAccess{});
}

void EncodeBatch(const std::vector<log::LogRecordRef>& records, std::string* out) {
  Encode(records, RefAccess{}, out);
}

void EncodeBatch(const std::vector<broker::StoredRecord>& records, std::string* out) {
  Encode(records, StoredAccess{}, out);
}

}  // namespace pinpipe::kafka_api
