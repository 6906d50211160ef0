// Record-level and columnar cleaning of the three tables (spec/cleaning.md).
//
// RecordCleaner parses one JSON record (simdjson on-demand) and applies every
// rule, producing a row of views (no heap objects per record). BatchCleaner
// feeds records or whole JSON Lines buffers through a RecordCleaner into
// columnar frame::Tables plus rejects; DropDuplicates / Deduper keep the first
// row per ind. The streaming job cleans micro-batches with the same classes, so
// batch and stream results are identical for the same records.
//
// Thread-safety: RecordCleaner and BatchCleaner are not thread-safe; use one
// per thread. The free functions are pure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/frame/column.h"
#include "pinpipe/model/rows.h"

namespace pinpipe::clean {

// The three tables are model's (one enum for the source rows, the cleaned
// tables, topics and streams); TableKindName is their suffix ("pin", "geo",
// "user").
using TableKind = model::Table;
using model::kAllTables;
inline std::string_view TableKindName(TableKind kind) { return model::TableSuffix(kind); }

// One cleaned pin record; views are valid until the next call on the cleaner.
struct PinRow {
  int64_t ind = 0;
  std::optional<std::string_view> unique_id, title, description;
  std::optional<int64_t> follower_count;
  std::optional<std::string_view> poster_name, tag_list, is_image_or_video, image_src,
      save_location, category;
  // follower_count had a value that is neither a placeholder nor a valid count.
  bool follower_count_rejected = false;
};

struct GeoRow {
  int64_t ind = 0;
  std::optional<std::string_view> country;
  // coordinates = [latitude, longitude]; null when both are missing.
  std::optional<double> latitude, longitude;
  bool has_coordinates() const { return latitude || longitude; }
  std::optional<int64_t> timestamp;  // UTC microseconds
};

struct UserRow {
  int64_t ind = 0;
  std::optional<std::string_view> user_name;
  std::optional<int64_t> age;
  std::optional<int64_t> date_joined;  // UTC microseconds
};

// Parses and cleans single JSON records. A rejected record yields
// InvalidArgument whose message is the reason (e.g. "missing field 'index'").
class RecordCleaner {
 public:
  RecordCleaner();
  ~RecordCleaner();
  RecordCleaner(const RecordCleaner&) = delete;
  RecordCleaner& operator=(const RecordCleaner&) = delete;

  // `json` is one record. When `readable` >= json.size() + 64, that many bytes
  // from json.data() may be read (simdjson's padding) and no copy is made;
  // otherwise the record is copied into an internal padded buffer.
  Status CleanPin(std::string_view json, PinRow* row, size_t readable = 0);
  Status CleanGeo(std::string_view json, GeoRow* row, size_t readable = 0);
  Status CleanUser(std::string_view json, UserRow* row, size_t readable = 0);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Which output columns to materialize: all of them (cleaned tables output), or
// only those the eight queries read (saves memory on large inputs).
enum class ColumnSet { kAll, kQueryOnly };

// The column names of a cleaned table, in output order (cleaning.md).
std::vector<std::string> OutputColumns(TableKind kind, ColumnSet set = ColumnSet::kAll);
// An empty cleaned table with the right columns and types.
frame::Table EmptyTable(TableKind kind, ColumnSet set = ColumnSet::kAll);

struct Reject {
  TableKind table = TableKind::kPin;
  std::string source;    // object key (or stream/shard name)
  int64_t position = 0;  // 1-based line in the object (or sequence number)
  std::string reason;
  std::string record;     // the record text, cut to 1,000 bytes
  bool row_kept = false;  // a field-level rejection (follower_count); the row was kept
};

// What cleaning a set of records produced, before de-duplication.
struct CleanedBatch {
  frame::Table tables[3];  // indexed by TableKind
  std::vector<Reject> rejects;
  int64_t records[3] = {0, 0, 0};   // records seen (incl. rejected), per table
  int64_t rejected[3] = {0, 0, 0};  // whole records rejected, per table
  int64_t follower_count_rejected = 0;
};

// Cleans records into columnar tables, in arrival order.
class BatchCleaner {
 public:
  explicit BatchCleaner(ColumnSet set = ColumnSet::kAll);

  // One record of `kind` from `source` at `position`.
  void AddRecord(TableKind kind, std::string_view json, std::string_view source, int64_t position);
  // Every line of a JSON Lines buffer; blank lines are skipped. Bytes up to
  // data + capacity must be readable (capacity >= size + 64 avoids copies).
  void AddLines(TableKind kind, const char* data, size_t size, size_t capacity,
                std::string_view source);

  // Counts a record of `kind` that could not even be read (e.g. a corrupt
  // compressed object) as rejected, with `reason`.
  void RejectUnreadable(TableKind kind, std::string_view source, int64_t position,
                        std::string reason);

  // The tables and rejects so far; the cleaner starts over empty.
  CleanedBatch Take();
  // Lets the cleaner go on into `table` (emptied, its memory kept) instead of
  // its empty table of `kind`, so that a caller can hand back the tables it is
  // done with rather than have every batch grow new ones. Ignored (false)
  // unless the cleaner's table of `kind` is empty and `table` has its columns
  // and types.
  bool Reuse(TableKind kind, frame::Table table);

 private:
  void Add(TableKind kind, std::string_view json, size_t readable, std::string_view source,
           int64_t position);
  void AddReject(TableKind kind, std::string_view json, std::string_view source, int64_t position,
                 std::string reason, bool row_kept);

  ColumnSet set_;
  RecordCleaner cleaner_;
  CleanedBatch batch_;
};

// Remembers the inds seen so far; the first sighting of an ind wins.
class Deduper {
 public:
  // True the first time `ind` is offered.
  bool FirstTime(int64_t ind) { return seen_.insert(ind).second; }
  size_t size() const { return seen_.size(); }

 private:
  std::unordered_set<int64_t> seen_;
};

// Keeps the rows of `*table` whose `ind` has not appeared in an earlier row, in
// order. Returns the number of rows removed.
int64_t DropDuplicates(frame::Table* table);

}  // namespace pinpipe::clean
