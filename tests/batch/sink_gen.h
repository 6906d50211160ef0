// A deterministic generator of sink-shaped test data: JSON Lines objects under
// <lake>/topics/<prefix>.{pin,geo,user}/partition=N/<topic>+N+<offset>.json[.gz],
// shaped like the emulator's records (spec/data.md), with duplicates (posts
// drawn with replacement) and, on request, dirt: coercible variants (numbers
// as strings, ISO timestamps, empty strings), field-level rejections
// (follower_count "1.5k") and records that must be rejected (bad JSON, missing
// keys, garbage timestamps). Used by the oracle test and the batch benchmark.
#pragma once

#include <cstdint>
#include <string>

namespace pinpipe::testing {

struct SinkGenOptions {
  uint64_t seed = 1;
  int64_t records = 1000;     // records per table (including duplicates and dirt)
  int64_t posts = 900;        // distinct ind values the records are drawn from
  int64_t per_object = 1000;  // records per object (the sink's flush.size)
  int partitions = 1;
  bool gzip = false;
  double dirt = 0.0;  // probability that a record is a dirty variant
  std::string prefix = "p";
};

struct SinkGenStats {
  int64_t objects = 0;
  int64_t bytes = 0;
};

// Writes the objects; returns false (with a message on stderr) on I/O failure.
bool GenerateSink(const std::string& lake_dir, const SinkGenOptions& options,
                  SinkGenStats* stats = nullptr);

}  // namespace pinpipe::testing
