// Seed: fills a SourceDb with the generator's rows.
//
// Rows are generated on a helper thread while the caller's thread inserts the
// previous batch, so generation and database writes overlap.
#pragma once

#include <cstdint>
#include <functional>

#include "pinpipe/base/status.h"
#include "pinpipe/source/source_db.h"

namespace pinpipe::source {

struct SeedOptions {
  int64_t rows = 11153;
  uint64_t seed = 100;
  // Posts per transaction.
  int64_t batch_rows = 20000;
  // Drop and recreate non-empty tables instead of refusing.
  bool replace = false;
  // Called after each committed batch with (rows done, rows total).
  std::function<void(int64_t, int64_t)> progress;
};

// Creates the tables and inserts options.rows posts. Refuses with
// AlreadyExists if any table already holds rows and `replace` is false.
Status Seed(SourceDb& db, const SeedOptions& options);

}  // namespace pinpipe::source
