#include "pinpipe/log/offset_store.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "pinpipe/log/crc32c.h"

namespace pinpipe::log {
namespace {

constexpr size_t kMaxName = 4096;

std::filesystem::path DirOf(const std::filesystem::path& file) {
  return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

void EncodeEntry(std::string_view group, std::string_view topic, int32_t partition, int64_t offset,
                 std::string* out) {
  std::string payload;
  Put<uint16_t>(&payload, static_cast<uint16_t>(group.size()));
  payload.append(group);
  Put<uint16_t>(&payload, static_cast<uint16_t>(topic.size()));
  payload.append(topic);
  Put<int32_t>(&payload, partition);
  Put<int64_t>(&payload, offset);
  Put<uint32_t>(out, static_cast<uint32_t>(payload.size()));
  Put<uint32_t>(out, Crc32c(payload));
  out->append(payload);
}

}  // namespace

Result<std::unique_ptr<OffsetStore>> OffsetStore::Open(std::filesystem::path file, FileSystem* fs) {
  FileSystem& files = FileSystem::OrDefault(fs);
  PINPIPE_ASSIGN_OR_RETURN(auto f, files.Open(file, OpenMode::kCreateOrAppend));
  std::unique_ptr<OffsetStore> store(new OffsetStore(files, std::move(file), std::move(f)));
  PINPIPE_RETURN_IF_ERROR(store->Replay());
  return store;
}

OffsetStore::~OffsetStore() = default;

Status OffsetStore::Replay() {
  PINPIPE_ASSIGN_OR_RETURN(const int64_t size, file_->Size());
  std::string data(static_cast<size_t>(size), '\0');
  PINPIPE_ASSIGN_OR_RETURN(const size_t got, file_->ReadAt(0, data.data(), data.size()));
  if (got < data.size()) return InternalError(path_.string() + " shrank while being read");
  size_t pos = 0;
  while (pos + 8 <= data.size()) {
    uint32_t len;
    uint32_t crc;
    std::memcpy(&len, data.data() + pos, 4);
    std::memcpy(&crc, data.data() + pos + 4, 4);
    if (len < 16 || len > 2 * kMaxName + 16 || pos + 8 + len > data.size()) break;
    std::string_view payload(data.data() + pos + 8, len);
    if (Crc32c(payload) != crc) break;
    uint16_t gl;
    std::memcpy(&gl, payload.data(), 2);
    if (2u + gl + 2u > payload.size()) break;
    uint16_t tl;
    std::memcpy(&tl, payload.data() + 2 + gl, 2);
    if (2u + gl + 2u + tl + 12u != payload.size()) break;
    Key key{std::string(payload.substr(2, gl)), std::string(payload.substr(4 + gl, tl)), 0};
    int64_t offset;
    std::memcpy(&std::get<2>(key), payload.data() + 4 + gl + tl, 4);
    std::memcpy(&offset, payload.data() + 8 + gl + tl, 8);
    if (offset < 0) {
      offsets_.erase(key);
    } else {
      offsets_[std::move(key)] = offset;
    }
    pos += 8 + len;
  }
  if (pos < data.size()) {
    // A torn or corrupt tail: entries after it were never acknowledged, since
    // each commit is synced before the next one is written.
    truncated_bytes_ = static_cast<int64_t>(data.size() - pos);
    spdlog::warn("log: {}: cut {} bytes of a torn tail", path_.string(), truncated_bytes_);
    PINPIPE_RETURN_IF_ERROR(file_->Truncate(static_cast<int64_t>(pos)));
    PINPIPE_RETURN_IF_ERROR(file_->Sync());
  }
  file_bytes_ = static_cast<int64_t>(pos);
  return Status::Ok();
}

Status OffsetStore::WriteEntries(const std::string& bytes) {
  if (dir_unsynced_) {
    // A compaction renamed the file but could not sync the folder: until it
    // is, a crash could bring back the old file without the commits below.
    PINPIPE_RETURN_IF_ERROR(files_.SyncDir(DirOf(path_)));
    dir_unsynced_ = false;
  }
  const int64_t start = file_bytes_;
  Status s = file_->Append(bytes);
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) {
    if (!file_->Truncate(start).ok()) spdlog::error("log: cannot cut back {}", path_.string());
    return s;
  }
  file_bytes_ += static_cast<int64_t>(bytes.size());
  return Status::Ok();
}

Status OffsetStore::Commit(std::string_view group, const std::vector<OffsetEntry>& entries) {
  if (group.empty() || group.size() > kMaxName) {
    return InvalidArgumentError("consumer group id must be 1.." + std::to_string(kMaxName) +
                                " bytes");
  }
  std::string bytes;
  for (const auto& e : entries) {
    if (e.topic.empty() || e.topic.size() > kMaxName) {
      return InvalidArgumentError("bad topic name in offset commit");
    }
    if (e.offset < 0 || e.partition < 0) {
      return InvalidArgumentError("negative offset or partition in commit for " + e.topic);
    }
    EncodeEntry(group, e.topic, e.partition, e.offset, &bytes);
  }
  if (bytes.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  PINPIPE_RETURN_IF_ERROR(WriteEntries(bytes));
  for (const auto& e : entries) offsets_[Key{std::string(group), e.topic, e.partition}] = e.offset;
  return MaybeCompactLocked();
}

std::vector<OffsetEntry> OffsetStore::Get(std::string_view group, std::string_view topic) const {
  std::lock_guard lock(mu_);
  std::vector<OffsetEntry> out;
  for (auto it = offsets_.lower_bound(std::make_tuple(group, topic, INT32_MIN));
       it != offsets_.end() && std::get<0>(it->first) == group; ++it) {
    if (!topic.empty() && std::get<1>(it->first) != topic) break;
    out.push_back({std::get<1>(it->first), std::get<2>(it->first), it->second});
  }
  return out;
}

std::vector<std::string> OffsetStore::Groups() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, offset] : offsets_) {
    if (out.empty() || out.back() != std::get<0>(key)) out.push_back(std::get<0>(key));
  }
  return out;
}

std::optional<int64_t> OffsetStore::Get(std::string_view group, std::string_view topic,
                                        int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = offsets_.find(std::make_tuple(group, topic, partition));
  if (it == offsets_.end()) return std::nullopt;
  return it->second;
}

Status OffsetStore::RemoveTopic(std::string_view topic) {
  std::lock_guard lock(mu_);
  std::string bytes;
  std::vector<Key> gone;
  for (const auto& [key, offset] : offsets_) {
    if (std::get<1>(key) == topic) {
      EncodeEntry(std::get<0>(key), std::get<1>(key), std::get<2>(key), -1, &bytes);
      gone.push_back(key);
    }
  }
  if (bytes.empty()) return Status::Ok();
  PINPIPE_RETURN_IF_ERROR(WriteEntries(bytes));
  for (const auto& k : gone) offsets_.erase(k);
  return Status::Ok();
}

Status OffsetStore::MaybeCompactLocked() {
  const int64_t live = static_cast<int64_t>(offsets_.size()) * 64;
  if (file_bytes_ < (1 << 20) || file_bytes_ < 8 * live) return Status::Ok();
  std::string bytes;
  for (const auto& [key, offset] : offsets_) {
    EncodeEntry(std::get<0>(key), std::get<1>(key), std::get<2>(key), offset, &bytes);
  }
  // By hand rather than with FileSystem::WriteFileAtomically: the new file
  // stays open as the one commits append to.
  auto tmp = path_;
  tmp += ".tmp";
  auto file = files_.Open(tmp, OpenMode::kTruncate);
  Status s = file.status();
  if (s.ok()) s = (*file)->Append(bytes);
  if (s.ok()) s = (*file)->SyncAll();
  if (s.ok()) s = files_.Rename(tmp, path_);
  if (!s.ok()) {
    spdlog::warn("log: compaction of {} failed: {}", path_.string(), s.ToString());
    (void)files_.Remove(tmp);
    return Status::Ok();  // compaction is an optimisation; the old file is intact
  }
  file_ = std::move(*file);
  file_bytes_ = static_cast<int64_t>(bytes.size());
  if (Status synced = files_.SyncDir(DirOf(path_)); !synced.ok()) {
    spdlog::warn("log: {}: {} (retried before the next commit)", path_.string(), synced.ToString());
    dir_unsynced_ = true;
  }
  return Status::Ok();
}

}  // namespace pinpipe::log
