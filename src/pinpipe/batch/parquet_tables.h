// The batch job's cleaned tables as Parquet: frame::Table (as clean::BatchCleaner
// builds it, ColumnSet::kAll) -> table::RecordBatch in clean::CleanedSchema ->
// one snappy Parquet file per table.
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

// The whole table as one Parquet file (converted in slices, so the extra memory
// is about one row group, plus the file itself).
Result<std::string> CleanedTableParquet(const frame::Table& cleaned, clean::TableKind kind,
                                        const table::WriterOptions& options = {});

}  // namespace pinpipe::batch
