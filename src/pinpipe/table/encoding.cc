#include "pinpipe/table/encoding.h"

#include <snappy.h>
#include <zstd.h>

#include <cstring>
#include <vector>

namespace pinpipe::table {

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

template <typename T>
void BitPack(const T* v, size_t n, int bw, std::string* out) {
  // n is a multiple of 8, so the output is exactly n * bw / 8 bytes.
  size_t start = out->size();
  out->resize(start + n * bw / 8, 0);
  auto* p = reinterpret_cast<uint8_t*>(out->data() + start);
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc |= static_cast<uint64_t>(v[i]) << bits;
    bits += bw;
    while (bits >= 8) {
      *p++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
}

template <typename T>
void RleEncodeImpl(const T* v, size_t n, int bw, std::string* out) {
  const int value_bytes = (bw + 7) / 8;
  std::vector<T> lits;
  auto flush_lits = [&] {
    if (lits.empty()) return;
    while (lits.size() % 8 != 0) lits.push_back(0);
    PutVarint(((lits.size() / 8) << 1) | 1, out);
    BitPack(lits.data(), lits.size(), bw, out);
    lits.clear();
  };
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && v[j] == v[i]) ++j;
    size_t run = j - i;
    if (run >= 8) {
      size_t pad = (8 - lits.size() % 8) % 8;
      if (pad > 0 && !lits.empty()) {
        size_t take = pad < run ? pad : run;
        lits.insert(lits.end(), v + i, v + i + take);
        i += take;
        run -= take;
      }
      if (run >= 8) {
        flush_lits();
        PutVarint(static_cast<uint64_t>(run) << 1, out);
        uint64_t value = v[i];
        for (int b = 0; b < value_bytes; ++b) out->push_back(static_cast<char>(value >> (8 * b)));
        i += run;
      }
    } else {
      lits.insert(lits.end(), v + i, v + j);
      i = j;
    }
  }
  flush_lits();
}

template <typename T>
Status RleDecodeImpl(std::string_view in, int bw, size_t n, T* out) {
  auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t* end = p + in.size();
  const int value_bytes = (bw + 7) / 8;
  const uint64_t mask = bw >= 64 ? ~0ull : ((1ull << bw) - 1);
  size_t done = 0;
  while (done < n) {
    uint64_t header = 0;
    int shift = 0;
    while (true) {
      if (p >= end || shift > 63) return DataLossError("parquet: truncated RLE run header");
      uint8_t b = *p++;
      header |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (header & 1) {
      uint64_t count = (header >> 1) * 8;
      uint64_t bytes = (header >> 1) * bw;
      if (bytes > static_cast<uint64_t>(end - p)) {
        // Writers may truncate the last group's padding bytes.
        bytes = static_cast<uint64_t>(end - p);
        count = bw == 0 ? count : bytes * 8 / bw;
      }
      uint64_t acc = 0;
      int bits = 0;
      const uint8_t* q = p;
      for (uint64_t k = 0; k < count && done < n; ++k) {
        while (bits < bw) {
          acc |= static_cast<uint64_t>(*q++) << bits;
          bits += 8;
        }
        out[done++] = static_cast<T>(acc & mask);
        acc >>= bw;
        bits -= bw;
      }
      p += bytes;
    } else {
      uint64_t count = header >> 1;
      if (end - p < value_bytes) return DataLossError("parquet: truncated RLE value");
      uint64_t value = 0;
      for (int b = 0; b < value_bytes; ++b) value |= static_cast<uint64_t>(p[b]) << (8 * b);
      p += value_bytes;
      if (count > n - done) count = n - done;
      for (uint64_t k = 0; k < count; ++k) out[done++] = static_cast<T>(value);
    }
    if (header >> 1 == 0 && done < n) return DataLossError("parquet: empty RLE run");
  }
  return Status::Ok();
}

}  // namespace

void RleEncode(const uint8_t* values, size_t n, int bit_width, std::string* out) {
  RleEncodeImpl(values, n, bit_width, out);
}
void RleEncode(const uint32_t* values, size_t n, int bit_width, std::string* out) {
  RleEncodeImpl(values, n, bit_width, out);
}
Status RleDecode(std::string_view in, int bit_width, size_t n, uint8_t* out) {
  return RleDecodeImpl(in, bit_width, n, out);
}
Status RleDecode(std::string_view in, int bit_width, size_t n, uint32_t* out) {
  return RleDecodeImpl(in, bit_width, n, out);
}

size_t MaxCompressedSize(parquet::CompressionCodec codec, size_t n) {
  switch (codec) {
    case parquet::kSnappy:
      return snappy::MaxCompressedLength(n);
    case parquet::kZstd:
      return ZSTD_compressBound(n);
    default:
      return n;
  }
}

Result<size_t> CompressTo(parquet::CompressionCodec codec, int level, std::string_view in,
                          char* dst, size_t capacity) {
  if (capacity < MaxCompressedSize(codec, in.size())) {
    return InvalidArgumentError("parquet: compression buffer too small");
  }
  switch (codec) {
    case parquet::kUncompressed:
      if (!in.empty()) std::memcpy(dst, in.data(), in.size());
      return in.size();
    case parquet::kSnappy: {
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), dst, &n);
      return n;
    }
    case parquet::kZstd: {
      size_t n = ZSTD_compress(dst, capacity, in.data(), in.size(), level);
      if (ZSTD_isError(n)) return InternalError(std::string("zstd: ") + ZSTD_getErrorName(n));
      return n;
    }
    default:
      return UnimplementedError("parquet: unsupported codec for writing");
  }
}

Status Compress(parquet::CompressionCodec codec, int level, std::string_view in, std::string* out) {
  if (codec != parquet::kUncompressed && codec != parquet::kSnappy && codec != parquet::kZstd) {
    return UnimplementedError("parquet: unsupported codec for writing");
  }
  const size_t start = out->size();
  const size_t cap = MaxCompressedSize(codec, in.size());
  out->resize(start + cap);
  auto n = CompressTo(codec, level, in, out->data() + start, cap);
  if (!n.ok()) {
    out->resize(start);
    return n.status();
  }
  out->resize(start + *n);
  return Status::Ok();
}

Status Decompress(int32_t codec, std::string_view in, size_t uncompressed_size, std::string* out) {
  if (uncompressed_size > (size_t{1} << 31)) return DataLossError("parquet: page too large");
  switch (codec) {
    case parquet::kUncompressed:
      if (in.size() != uncompressed_size) return DataLossError("parquet: page size mismatch");
      out->assign(in);
      return Status::Ok();
    case parquet::kSnappy: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &n) || n != uncompressed_size) {
        return DataLossError("parquet: bad snappy page");
      }
      out->resize(n);
      if (!snappy::RawUncompress(in.data(), in.size(), out->data())) {
        return DataLossError("parquet: bad snappy page");
      }
      return Status::Ok();
    }
    case parquet::kZstd: {
      out->resize(uncompressed_size);
      size_t n = ZSTD_decompress(out->data(), out->size(), in.data(), in.size());
      if (ZSTD_isError(n) || n != uncompressed_size) {
        return DataLossError("parquet: bad zstd page");
      }
      return Status::Ok();
    }
    default:
      return UnimplementedError("parquet: unsupported codec " + std::to_string(codec));
  }
}

}  // namespace pinpipe::table
