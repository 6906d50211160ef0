// The streaming job's cleaning step: records of one stream -> rows of its
// Delta table, using the same clean::RecordCleaner as the batch job (so both
// give identical rows for identical records), in the table schemas of
// spec/cleaning.md ("Types in table formats").
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "pinpipe/clean/cleaner.h"
#include "pinpipe/clean/schema.h"
#include "pinpipe/table/column_batch.h"

namespace pinpipe::stream {

// The tables' schemas: clean::CleanedSchema, shared with the batch job's
// Parquet output.
using clean::CleanedSchema;

struct RecordRef {
  std::string_view data;
  std::string_view source;  // "<stream>/<shard>"
  int64_t position = 0;     // ordinal within the micro-batch, for reject reports
};

struct CleanResult {
  table::RecordBatch rows;
  std::vector<int64_t> new_inds;       // inds added by this batch, in row order
  std::vector<clean::Reject> rejects;  // whole-record and field-level rejections
  int64_t rejected = 0;                // whole records rejected
  int64_t duplicates = 0;              // records dropped as already-seen inds
};

// Cleans `records` in order. A record whose ind is in `seen`, or appeared
// earlier in `records`, is a duplicate and dropped (the first wins). `seen`
// is not modified.
CleanResult CleanRecords(clean::TableKind kind, const std::vector<RecordRef>& records,
                         const std::unordered_set<int64_t>& seen);

}  // namespace pinpipe::stream
