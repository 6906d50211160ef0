// ParquetFile: reads Parquet files held in memory (the whole file), enough
// for pinpipe's own needs: tests, Delta checkpoints and compaction.
//
// Supports PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE levels, data pages
// v1 and v2, codecs UNCOMPRESSED / SNAPPY / ZSTD, and any nesting of
// optional / required / repeated fields (ReadJsonRows). ReadBatch covers the
// flat schemas plus LIST<DOUBLE> that ParquetWriter writes. Corrupt input is
// reported as DataLoss, never a crash.
//
// Thread-safety: const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/table/column_batch.h"
#include "pinpipe/table/parquet_format.h"

namespace pinpipe::table {

// The decoded entries of one leaf column in one row group.
struct LeafData {
  std::vector<uint8_t> def, rep;  // one per entry (all zero when the max level is 0)
  size_t num_entries = 0;
  // Values of the entries whose def is the maximum, densely, by physical type.
  std::vector<uint8_t> b;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::string bytes;
  std::vector<uint32_t> offsets{0};
  std::string_view String(size_t i) const {
    return std::string_view(bytes).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

struct LeafColumn {
  std::vector<std::string> path;
  int schema_index = 0;  // into metadata().schema
  int32_t physical = 0;
  int max_def = 0;
  int max_rep = 0;
};

class ParquetFile {
 public:
  // Parses the footer. DataLoss if `data` is not a Parquet file.
  static Result<ParquetFile> Open(std::string data);

  const parquet::FileMetaData& metadata() const { return meta_; }
  int64_t num_rows() const { return meta_.num_rows; }
  int num_row_groups() const { return static_cast<int>(meta_.row_groups.size()); }
  const std::vector<LeafColumn>& leaves() const { return leaves_; }

  Result<LeafData> ReadLeaf(int row_group, int leaf) const;

  // The file's schema as flat columns (+ LIST<DOUBLE>); Unimplemented for
  // other shapes.
  Result<Schema> FlatSchema() const;
  Result<RecordBatch> ReadRowGroup(int row_group) const;
  Result<RecordBatch> ReadAll() const;

  // Every row as a JSON object: structs as objects, LISTs as arrays, MAPs as
  // objects, nulls as null, strings as strings. Slow; for small files.
  // With `columns` (dotted paths, e.g. "add.path", or "txn" for all of it),
  // only those columns are read: the others, of whatever type, are neither
  // decoded nor in the rows.
  Result<std::vector<nlohmann::json>> ReadJsonRows(
      const std::vector<std::string>& columns = {}) const;

 private:
  std::string data_;
  parquet::FileMetaData meta_;
  std::vector<LeafColumn> leaves_;
};

}  // namespace pinpipe::table
