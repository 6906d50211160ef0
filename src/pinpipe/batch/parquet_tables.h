// The batch job's cleaned tables as Parquet: frame::Table (as clean::BatchCleaner
// builds it, ColumnSet::kAll) -> Parquet in clean::CleanedSchema, either
// through a table::RecordBatch (ToRecordBatch, a copy) or encoded in place
// (CleanedViews, what `pinpipe batch --out` and CleanedTableParquet use).
//
// Type mapping: frame kInt64 -> long (int for `age`; an age outside the 32-bit
// range becomes null), kString/kDict -> string, kTimestamp -> timestamp (UTC
// micros), kListDouble -> array<double>. Nulls stay nulls.
//
// Thread-safety: pure functions of const tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/clean/cleaner.h"
#include "pinpipe/frame/column.h"
#include "pinpipe/table/column_batch.h"
#include "pinpipe/table/parquet_writer.h"

namespace pinpipe::batch {

// Rows [begin, end) of `cleaned` in clean::CleanedSchema(kind).
// InvalidArgument when a schema column is missing (e.g. a ColumnSet::kQueryOnly
// table) or has a type that does not map.
Result<table::RecordBatch> ToRecordBatch(const frame::Table& cleaned, clean::TableKind kind,
                                         size_t begin, size_t end);
// The given rows of `cleaned` (in that order) in clean::CleanedSchema(kind);
// also InvalidArgument for a row past the table's end.
Result<table::RecordBatch> ToRecordBatch(const frame::Table& cleaned, clean::TableKind kind,
                                         std::span<const uint32_t> rows);
// The same into *out, replacing its rows and reusing its columns' memory when
// it already has clean::CleanedSchema(kind).
Status ToRecordBatch(const frame::Table& cleaned, clean::TableKind kind,
                     std::span<const uint32_t> rows, table::RecordBatch* out);

// Views of the columns of `cleaned` in clean::CleanedSchema(kind) order, for
// table::ParquetWriter::WriteRowGroup, which encodes them in place (the types
// map as for ToRecordBatch). They point into `cleaned` and, for an integer
// column (age: long in memory), into a narrowed copy this object holds; valid
// while both stay unchanged. Reset again to reuse the copy's memory.
class CleanedViews {
 public:
  // InvalidArgument as ToRecordBatch.
  Status Reset(const frame::Table& cleaned, clean::TableKind kind);
  std::span<const table::ColumnView> columns() const { return columns_; }

 private:
  std::vector<table::ColumnView> columns_;
  std::vector<std::vector<int32_t>> narrow_;         // per integer column
  std::vector<std::vector<uint64_t>> narrow_valid_;  // its validity bits
};

// The whole table as one Parquet file, a row group per 65,536 rows encoded in
// place (CleanedViews), so the extra memory is the file itself.
Result<std::string> CleanedTableParquet(const frame::Table& cleaned, clean::TableKind kind,
                                        const table::WriterOptions& options = {});

}  // namespace pinpipe::batch
