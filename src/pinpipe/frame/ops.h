// Operators over frame::Column / frame::Table that the pipeline's queries need:
// filter, project, take, hash join on an int64 key, hash group-by with count,
// max and lower median, top-1 per group with deterministic ties, and sort.
//
// All operators are pure functions of their inputs. Row ids are uint32_t, so a
// table holds at most 4,294,967,295 rows. Strings compare by bytes (unsigned),
// the order DuckDB and Spark use for ties.
//
// Thread-safety: operators only read their inputs; they may be called
// concurrently on shared const tables. Some use up to `threads` worker threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/frame/column.h"

namespace pinpipe::frame {

// Every row of `table` in `rows` order.
Table TakeRows(const Table& table, std::span<const uint32_t> rows);
// The rows where keep[i] != 0.
Table Filter(const Table& table, const std::vector<uint8_t>& keep);
// The named columns, in that order. InvalidArgument if one is missing.
Result<Table> Project(const Table& table, const std::vector<std::string>& names);

// Matching row pairs of an inner equi-join: left[i] joins right[i].
struct JoinIndices {
  std::vector<uint32_t> left;
  std::vector<uint32_t> right;
};
// Inner join on int64 key columns; null keys never match. Pairs come in left
// row order; for one left row, matching right rows come in right row order.
JoinIndices HashJoin(const Column& left_key, const Column& right_key);

// The result of grouping rows by key columns.
struct Grouping {
  std::vector<int32_t> group_of_row;  // -1 when a key of the row is null
  std::vector<uint32_t> first_row;    // the first row of each group
  size_t num_groups() const { return first_row.size(); }
};
// Groups rows by equal values of `keys` (int64, timestamp or dict columns of
// equal length). Groups are numbered in order of first appearance.
Grouping GroupBy(std::span<const Column* const> keys);

// Rows per group, or non-null `values` per group when given.
std::vector<int64_t> CountPerGroup(const Grouping& grouping, const Column* values = nullptr);
// Largest non-null int64 per group (nullopt when the group has none).
std::vector<std::optional<int64_t>> MaxPerGroup(const Grouping& grouping, const Column& values);
// Lower median of the non-null int64 values per group: the element at index
// floor((n-1)/2) of the sorted values (nullopt when n = 0).
std::vector<std::optional<int64_t>> LowerMedianPerGroup(const Grouping& grouping,
                                                        const Column& values, int threads = 2);

// For each group, the row with the highest score; ties go to the smallest
// tie_key string (byte order), then to the earlier row. Rows whose group is -1,
// or whose score or tie_key is null, are not candidates. Returns one row per
// group that has a candidate, in group order.
std::vector<uint32_t> TopOnePerGroup(const Grouping& grouping, const Column& score,
                                     const Column& tie_key);

struct SortKey {
  std::string column;
  bool ascending = true;
};
// A permutation of the rows ordered by `keys` (nulls last; strings by bytes;
// stable). InvalidArgument if a key column is missing.
Result<std::vector<uint32_t>> SortIndices(const Table& table, const std::vector<SortKey>& keys);
Result<Table> Sort(const Table& table, const std::vector<SortKey>& keys);

}  // namespace pinpipe::frame
