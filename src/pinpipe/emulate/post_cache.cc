#include "pinpipe/emulate/post_cache.h"

#include <map>

namespace pinpipe::emulate {

Result<PostCache> PostCache::Load(source::SourceDb& db, int64_t max_index) {
  if (max_index < 0) return InvalidArgumentError("max index must be >= 0");
  // index -> JSON per table; posts missing from any table are skipped, as the
  // original emulator would have failed on them.
  std::map<int64_t, std::array<std::string, 3>> rows;
  PINPIPE_RETURN_IF_ERROR(db.ScanPins(0, max_index + 1, [&](model::PinRow&& r) {
    model::AppendJson(r, &rows[r.index][0]);
    return Status::Ok();
  }));
  PINPIPE_RETURN_IF_ERROR(db.ScanGeos(0, max_index + 1, [&](model::GeoRow&& r) {
    if (auto it = rows.find(r.ind); it != rows.end()) model::AppendJson(r, &it->second[1]);
    return Status::Ok();
  }));
  PINPIPE_RETURN_IF_ERROR(db.ScanUsers(0, max_index + 1, [&](model::UserRow&& r) {
    if (auto it = rows.find(r.ind); it != rows.end()) model::AppendJson(r, &it->second[2]);
    return Status::Ok();
  }));
  PostCache cache;
  for (auto& [index, json] : rows) {
    if (json[1].empty() || json[2].empty()) continue;
    cache.index_.push_back(index);
    for (size_t t = 0; t < 3; ++t) cache.json_[t].push_back(std::move(json[t]));
  }
  if (cache.index_.empty()) {
    return FailedPreconditionError("the source has no posts with index 0.." +
                                   std::to_string(max_index) + " (run `pinpipe seed` first)");
  }
  return cache;
}

PostCache PostCache::FromRows(const std::vector<model::PinRow>& pins,
                              const std::vector<model::GeoRow>& geos,
                              const std::vector<model::UserRow>& users) {
  PostCache cache;
  for (size_t i = 0; i < pins.size() && i < geos.size() && i < users.size(); ++i) {
    cache.index_.push_back(pins[i].index);
    cache.json_[0].push_back(model::ToJson(pins[i]));
    cache.json_[1].push_back(model::ToJson(geos[i]));
    cache.json_[2].push_back(model::ToJson(users[i]));
  }
  return cache;
}

}  // namespace pinpipe::emulate
