// ParquetWriter: writes a RecordBatch stream as one Parquet file (format
// version 1 metadata, data page v1) that DuckDB, Spark and parquetjs read.
//
// Column mapping: kBoolean BOOLEAN; kInt32 INT32; kInt64 INT64; kDouble DOUBLE;
// kString BYTE_ARRAY STRING (UTF8); kTimestampMicros INT64
// TIMESTAMP(isAdjustedToUTC=true, MICROS) + converted TIMESTAMP_MICROS;
// kDoubleList `optional group (LIST) { repeated group list { optional double
// element } }`. Nullable fields are OPTIONAL with RLE definition levels.
// Strings use RLE_DICTIONARY when repetitive (else PLAIN); every chunk carries
// min/max/null_count statistics. Rows are buffered and cut into row groups of
// about `row_group_bytes` of in-memory data.
//
// Also: WriteNestedParquet, a slower generic writer of JSON rows against a
// nested schema (structs, lists, string maps), used for Delta checkpoints.
//
// Thread-safety: a writer is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/table/column_batch.h"
#include "pinpipe/table/parquet_format.h"

namespace pinpipe::table {

enum class Codec { kUncompressed, kSnappy, kZstd };

// "uncompressed" | "snappy" | "zstd" (case-insensitive); InvalidArgument otherwise.
Result<Codec> ParseCodec(std::string_view name);
std::string_view CodecName(Codec codec);

struct WriterOptions {
  Codec codec = Codec::kSnappy;
  int zstd_level = 3;                       // DuckDB's and zstd's default
  int64_t row_group_bytes = 128ll << 20;    // in-memory bytes buffered per row group
  int64_t page_bytes = 1 << 20;             // target uncompressed data page size
  bool dictionary = true;                   // RLE_DICTIONARY for repetitive strings
  int64_t dictionary_page_bytes = 1 << 20;  // above this a chunk falls back to PLAIN
  // Label dictionary-encoded data pages PLAIN_DICTIONARY (format 1.0 style,
  // identical bytes) instead of RLE_DICTIONARY, for old readers such as
  // parquetjs-lite.
  bool legacy_dictionary_encoding = false;
  // When above 0: a column chunk whose first page compresses by less than
  // this fraction (0.125: to more than 87.5% of its size) is written
  // UNCOMPRESSED (the codec is per chunk in Parquet), and so are that
  // column's next 15 row groups before it is tried again. Near-random strings
  // (UUIDs), timestamps and dictionary indices then skip a compressor that
  // would save them little.
  double min_compression_saving = 0;
  std::string created_by = "pinpipe version 0.1.0";
};

// Min/max/null count of one top-level column over the whole file. For
// kDoubleList, null_count counts null lists and min/max are absent.
struct ColumnStats {
  int64_t null_count = 0;
  bool has_min_max = false;
  int64_t min_int = 0, max_int = 0;  // kBoolean, kInt32, kInt64, kTimestampMicros
  double min_double = 0, max_double = 0;
  std::string min_string, max_string;
};

// One column of arrays the caller owns, for ParquetWriter::WriteRowGroup,
// which reads them in place (no copy into a RecordBatch first). Row r is null
// when bit r % 64 of valid[r / 64] is clear (valid == nullptr: no nulls); the
// values of null rows are not read. Which arrays are read depends on the
// field's type:
//   kBoolean: b[r] (0 or 1); kInt32: i32[r]; kInt64, kTimestampMicros: i64[r];
//   kDouble: f64[r];
//   kString: bytes[offsets[r], offsets[r + 1]), or, when `codes` is set, the
//     dictionary entry codes[r] (entry e is dict_bytes[dict_offsets[e],
//     dict_offsets[e + 1]), 0 <= e < dict_size), which spares the writer the
//     hashing of every value (entries no written row uses are left out);
//   kDoubleList: row r's elements are f64[offsets[r], offsets[r + 1]); element
//     i is null when bit i % 64 of element_valid[i / 64] is clear (nullptr: none).
struct ColumnView {
  size_t size = 0;  // rows the arrays hold
  const uint64_t* valid = nullptr;
  const uint8_t* b = nullptr;
  const int32_t* i32 = nullptr;
  const int64_t* i64 = nullptr;
  const double* f64 = nullptr;
  const uint64_t* offsets = nullptr;
  const char* bytes = nullptr;
  const int32_t* codes = nullptr;
  const uint64_t* dict_offsets = nullptr;
  const char* dict_bytes = nullptr;
  size_t dict_size = 0;
  const uint64_t* element_valid = nullptr;
};

struct ChunkBuffers;

class ParquetWriter {
 public:
  ~ParquetWriter();
  // InvalidArgument for an empty schema or duplicate/empty names.
  static Result<std::unique_ptr<ParquetWriter>> Create(Schema schema, WriterOptions options = {});

  // Buffers the rows of `batch` (validated against the schema); writes a row
  // group whenever the buffer reaches options.row_group_bytes.
  Status Write(const RecordBatch& batch);
  // Like Write, but ends the current row group at the end of `batch`; when
  // nothing is buffered, encodes straight from `batch` without copying it.
  Status WriteRowGroups(const RecordBatch& batch);
  // Writes rows `rows` (in that order) of `columns` (one per schema field, in
  // schema order) as one row group, after any rows that Write buffered;
  // encodes straight from the caller's arrays, so they need to stay valid only
  // during the call. InvalidArgument for a wrong number of columns, a row past
  // a column's size, a null in a non-nullable field, or a dictionary code out
  // of range.
  Status WriteRowGroup(std::span<const ColumnView> columns, std::span<const uint32_t> rows);
  // The file's bytes written so far (the magic and every finished row group)
  // that no earlier TakeBytes returned, so a caller can stream the file out as
  // row groups fill instead of holding it whole; offsets stay file-absolute.
  std::string TakeBytes();
  // Like TakeBytes, into `*bytes` (its old contents dropped): passing the same
  // buffer back each time lets the writer and the caller reuse two buffers
  // instead of growing a new one per row group.
  void TakeBytes(std::string* bytes);
  // Writes the last row group and the footer; returns the file's bytes that
  // TakeBytes has not returned (the whole file when it was never called). The
  // writer is finished afterwards.
  Result<std::string> Finish();

  int64_t num_rows() const { return num_rows_; }
  const Schema& schema() const { return schema_; }
  // Per top-level column, valid after Finish.
  const std::vector<ColumnStats>& column_stats() const { return stats_; }

 private:
  ParquetWriter(Schema schema, WriterOptions options);
  Status WriteImpl(const RecordBatch& batch, bool end_row_group);
  Status FlushRowGroup();
  Status EncodeRowGroup(const RecordBatch& src, size_t begin, size_t end);
  // Encodes a row group of `rows` rows whose column c's leaf `gather(c, ...)` fills.
  template <typename Gather>
  Status EncodeLeaves(size_t rows, Gather gather);

  Schema schema_;
  WriterOptions options_;
  RecordBatch pending_;
  std::string out_;
  int64_t taken_ = 0;  // bytes before out_ that TakeBytes returned
  parquet::FileMetaData meta_;
  std::vector<ColumnStats> stats_;
  static constexpr int kUncompressedRowGroups = 15;
  std::vector<int> uncompressed_left_;  // per column: row groups still written uncompressed
  int64_t num_rows_ = 0;
  bool finished_ = false;
  std::unique_ptr<ChunkBuffers> buffers_;  // reused by every column chunk
};

// Writes `batch` to one Parquet file in memory.
Result<std::string> WriteParquet(const RecordBatch& batch, const WriterOptions& options = {});

// A node of a nested Parquet schema for WriteNestedParquet.
struct NestedField {
  std::string name;
  parquet::Repetition repetition = parquet::kOptional;
  int32_t physical = -1;  // PhysicalType for leaves, -1 for groups
  int32_t converted = parquet::kNoConverted;
  int32_t logical = parquet::kNoLogical;
  std::vector<NestedField> children;

  static NestedField String(std::string name, bool required = false);
  static NestedField Int64(std::string name, bool required = false);
  static NestedField Int32(std::string name, bool required = false);
  static NestedField Bool(std::string name, bool required = false);
  static NestedField Struct(std::string name, std::vector<NestedField> children);
  // map<string,string>: MAP { repeated key_value { required key; optional value } }
  static NestedField StringMap(std::string name);
  // array<string>: LIST { repeated list { optional element } }
  static NestedField StringList(std::string name);
};

// Writes rows (JSON objects keyed by field name; missing = null) as a
// single-row-group Parquet file. Lists are JSON arrays, maps JSON objects.
// InvalidArgument when a value does not fit its field.
Result<std::string> WriteNestedParquet(const std::vector<NestedField>& fields,
                                       const std::vector<nlohmann::json>& rows,
                                       const WriterOptions& options = {});

}  // namespace pinpipe::table
