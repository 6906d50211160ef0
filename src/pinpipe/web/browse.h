// Read-only views behind the dashboard's topic browser, Delta table pages and
// run details: each reads only the window it shows (a Fetch from one offset,
// a few Delta log files, the newest Parquet file), so a topic with a million
// records or a table with thousands of versions opens at once.
//
// Thread-safety: as thread-safe as the Broker / ObjectStore / RunStore given.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "pinpipe/base/status.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/schedule/run_store.h"

namespace pinpipe::web {

// {"name", "partitions": [{"partition", "log_start_offset", "high_watermark",
// "records", "bytes", "first_timestamp_ms", "last_timestamp_ms"}]}.
Result<nlohmann::json> DescribeTopicJson(broker::Broker& broker, const std::string& topic);

struct RecordQuery {
  std::string topic;
  int32_t partition = 0;
  // Where the page starts: an offset, else the first record at or after
  // time_ms, else it ends at `before` (or the high watermark).
  int64_t offset = -1;
  int64_t time_ms = -1;
  // Without offset or time: the newest records below this offset (the older
  // page of one that starts here); -1: below the high watermark.
  int64_t before = -1;
  int32_t limit = 50;  // 1..500
  // Case-sensitive substring of key, value or a header value; with a filter
  // the page is the newest `limit` matches at or below the start (or above,
  // with an offset or time), scanning at most `max_scan` records.
  std::string filter;
  int64_t max_scan = 20'000;
};

// {"topic", "partition", "log_start_offset", "high_watermark", "start", "end",
// "scanned", "records": [{"offset", "timestamp_ms", "key", "headers": [{"key",
// "value"}], "value"}]} with records in ascending offset order and [start, end)
// the offsets this page covers (the next older page ends at `start`, the next
// newer one starts at `end`). key/value are strings or null.
Result<nlohmann::json> BrowseRecords(broker::Broker& broker, const RecordQuery& query);

// A Delta table under `root` ("<name>/") of `store`: {"name", "version",
// "files", "rows", "bytes", "schema": [{"name", "type", "nullable"}],
// "history": [{"version", "timestamp", "operation", "rows_added", "files_added"}],
// "preview": [row objects, newest last]} with `history_limit` versions and
// `preview_rows` rows from the newest data files.
Result<nlohmann::json> DescribeTableJson(objstore::ObjectStore& store, const std::string& name,
                                         int history_limit = 30, int preview_rows = 20);

// A run as /api/runs shows it; with tasks (state, attempts, times, log) when
// the record has them.
nlohmann::json RunJson(const schedule::RunRecord& run);

}  // namespace pinpipe::web
