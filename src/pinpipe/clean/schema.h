// The cleaned tables' columns, as listed in spec/cleaning.md ("Output columns"
// and "Types in table formats"): one list per table, from which the batch
// job's Parquet output, the streaming job's Delta tables and the in-memory
// frame::Tables (EmptyTable) all take their names, order and types.
//
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string_view>

#include "pinpipe/clean/cleaner.h"
#include "pinpipe/frame/column.h"
#include "pinpipe/table/column_batch.h"

namespace pinpipe::clean {

// One column of a cleaned table.
struct CleanedColumn {
  std::string_view name;
  table::ColumnType table_type;  // in Parquet/Delta
  frame::DataType frame_type;    // in memory (repetitive strings are dictionaries)
  bool queried;                  // read by the eight queries (ColumnSet::kQueryOnly)
};

// pin: ind long, unique_id ... category string (11 columns, follower_count long);
// geo: ind long, country string, coordinates array<double>, timestamp timestamp;
// user: ind long, user_name string, age integer, date_joined timestamp.
std::span<const CleanedColumn> CleanedColumns(TableKind kind);

// The table-format schema of CleanedColumns(kind).
table::Schema CleanedSchema(TableKind kind);

}  // namespace pinpipe::clean
