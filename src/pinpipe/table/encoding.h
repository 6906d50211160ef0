// Parquet's low-level encodings: the RLE / bit-packing hybrid (definition and
// repetition levels, dictionary indices) and the page codecs (UNCOMPRESSED,
// SNAPPY raw blocks, ZSTD). Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pinpipe/base/status.h"
#include "pinpipe/table/parquet_format.h"

namespace pinpipe::table {

// Bits needed for values in [0, max_value].
int BitWidth(uint64_t max_value);

// Appends the RLE/bit-packed hybrid encoding of values[0..n) (no length prefix).
void RleEncode(const uint8_t* values, size_t n, int bit_width, std::string* out);
void RleEncode(const uint32_t* values, size_t n, int bit_width, std::string* out);

// Decodes exactly n values. DataLoss if the input ends early.
Status RleDecode(std::string_view in, int bit_width, size_t n, uint8_t* out);
Status RleDecode(std::string_view in, int bit_width, size_t n, uint32_t* out);

// Appends the compressed form of `in` to *out.
Status Compress(parquet::CompressionCodec codec, int level, std::string_view in, std::string* out);
// The most bytes CompressTo can write for `n` bytes of input.
size_t MaxCompressedSize(parquet::CompressionCodec codec, size_t n);
// Writes the compressed form of `in` to dst[0, capacity) (capacity at least
// MaxCompressedSize) and returns its size.
Result<size_t> CompressTo(parquet::CompressionCodec codec, int level, std::string_view in,
                          char* dst, size_t capacity);
// Replaces *out with the decompression of `in`, which must be exactly
// `uncompressed_size` bytes.
Status Decompress(int32_t codec, std::string_view in, size_t uncompressed_size, std::string* out);

}  // namespace pinpipe::table
