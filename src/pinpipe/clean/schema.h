// The cleaned tables' schemas in table formats (Parquet/Delta), as listed in
// spec/cleaning.md ("Types in table formats"). One definition, used by the
// streaming job's Delta tables and the batch job's Parquet output alike.
//
// Thread-safety: pure functions.
#pragma once

#include "pinpipe/clean/cleaner.h"
#include "pinpipe/table/column_batch.h"

namespace pinpipe::clean {

// pin: ind long, unique_id ... category string (11 columns, follower_count long);
// geo: ind long, country string, coordinates array<double>, timestamp timestamp;
// user: ind long, user_name string, age integer, date_joined timestamp.
// Field names and order are OutputColumns(kind, ColumnSet::kAll).
table::Schema CleanedSchema(TableKind kind);

}  // namespace pinpipe::clean
