#include "pinpipe/log/offset_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pinpipe/log/crc32c.h"

namespace pinpipe::log {
namespace {

constexpr size_t kMaxName = 4096;

Status Errno(std::string_view what, const std::filesystem::path& p) {
  return UnavailableError(std::string(what) + " " + p.string() + ": " + std::strerror(errno));
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

Status WriteAll(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(std::string("write offsets: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<OffsetStore>> OffsetStore::Open(std::filesystem::path file) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open", file);
  std::unique_ptr<OffsetStore> store(new OffsetStore(std::move(file), fd));
  PINPIPE_RETURN_IF_ERROR(store->Replay());
  return store;
}

OffsetStore::~OffsetStore() {
  if (fd_ >= 0) ::close(fd_);
}

Status OffsetStore::Replay() {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Errno("stat", file_);
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t r = ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Errno("read", file_);
    got += static_cast<size_t>(r);
  }
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
    spdlog::warn("log: {}: cut {} bytes of a torn tail", file_.string(), truncated_bytes_);
    if (::ftruncate(fd_, static_cast<off_t>(pos)) != 0) return Errno("truncate", file_);
    if (::fdatasync(fd_) != 0) return Errno("fdatasync", file_);
  }
  file_bytes_ = static_cast<int64_t>(pos);
  return Status::Ok();
}

Status OffsetStore::WriteEntries(const std::string& bytes) {
  const off_t start = file_bytes_;
  Status s = WriteAll(fd_, bytes);
  if (s.ok() && ::fdatasync(fd_) != 0) s = Errno("fdatasync", file_);
  if (!s.ok()) {
    if (::ftruncate(fd_, start) != 0) spdlog::error("log: cannot cut back {}", file_.string());
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
  auto tmp = file_;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open", tmp);
  Status s = WriteAll(fd, bytes);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("fsync", tmp);
  if (s.ok() && ::rename(tmp.c_str(), file_.c_str()) != 0) s = Errno("rename", tmp);
  if (!s.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::Ok();  // compaction is an optimisation; the old file is intact
  }
  int dfd = ::open(file_.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  ::close(fd_);
  fd_ = fd;
  file_bytes_ = static_cast<int64_t>(bytes.size());
  return Status::Ok();
}

}  // namespace pinpipe::log
