// PostCache: the posts the emulator replays, read once from the source
// database and kept as ready-to-send JSON, so sending never waits on the
// database (the original read each row with `SELECT ... LIMIT n, 1`).
//
// Thread-safety: immutable after Load; share between threads freely.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/model/rows.h"
#include "pinpipe/source/source_db.h"

namespace pinpipe::emulate {

class PostCache {
 public:
  // Loads the posts with index 0..max_index (inclusive) that exist in all
  // three tables. FailedPrecondition if there are none.
  static Result<PostCache> Load(source::SourceDb& db, int64_t max_index);
  // For tests: posts given directly.
  static PostCache FromRows(const std::vector<model::PinRow>& pins,
                            const std::vector<model::GeoRow>& geos,
                            const std::vector<model::UserRow>& users);

  size_t size() const { return index_.size(); }
  // The source index of the i-th cached post.
  int64_t index(size_t i) const { return index_[i]; }
  // The JSON object of the i-th post's row in `table`.
  const std::string& json(model::Table table, size_t i) const {
    return json_[static_cast<size_t>(table)][i];
  }

 private:
  std::vector<int64_t> index_;
  std::array<std::vector<std::string>, 3> json_;
};

}  // namespace pinpipe::emulate
