// OffsetStore: durable committed offsets per (group, topic, partition).
//
// One append-only file, `consumer_offsets.log`, of CRC32C-framed entries:
//   uint32 payload_length, uint32 crc32c(payload), payload =
//   uint16 group_length, group, uint16 topic_length, topic, int32 partition,
//   int64 offset (-1: the entry is deleted).
// Later entries win. Commit appends and fdatasyncs before returning, so a
// commit that returned OK survives kill -9 and power loss. Open replays the
// file and cuts a torn tail; when most of the file is superseded it is
// rewritten (to a temporary file, fsynced, renamed).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "pinpipe/base/file.h"
#include "pinpipe/base/status.h"

namespace pinpipe::log {

struct OffsetEntry {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;  // next offset to consume
};

class OffsetStore {
 public:
  // Files go through `fs` (nullptr: FileSystem::Default()), which must
  // outlive the store. IO errors carry the file layer's codes (base/file.h).
  static Result<std::unique_ptr<OffsetStore>> Open(std::filesystem::path file,
                                                   FileSystem* fs = nullptr);
  ~OffsetStore();

  // Durably records `entries` for `group` (all or nothing). InvalidArgument
  // for an empty or over-long group/topic name or a negative offset.
  Status Commit(std::string_view group, const std::vector<OffsetEntry>& entries);
  // Committed offsets of `group` for `topic` ("" = all topics), sorted.
  std::vector<OffsetEntry> Get(std::string_view group, std::string_view topic) const;
  std::optional<int64_t> Get(std::string_view group, std::string_view topic,
                             int32_t partition) const;
  // The groups with at least one committed offset, sorted.
  std::vector<std::string> Groups() const;
  // Forgets every group's offsets of `topic` (on topic deletion).
  Status RemoveTopic(std::string_view topic);

  // Bytes cut from a torn tail at Open.
  int64_t truncated_bytes() const { return truncated_bytes_; }

 private:
  using Key = std::tuple<std::string, std::string, int32_t>;  // group, topic, partition
  OffsetStore(FileSystem& files, std::filesystem::path path, std::unique_ptr<File> file)
      : files_(files), path_(std::move(path)), file_(std::move(file)) {}
  Status Replay();
  Status WriteEntries(const std::string& bytes);
  Status MaybeCompactLocked();

  FileSystem& files_;
  const std::filesystem::path path_;
  std::unique_ptr<File> file_;  // guarded by mu_ (replaced by compaction)
  bool dir_unsynced_ = false;   // guarded by mu_
  mutable std::mutex mu_;
  std::map<Key, int64_t, std::less<>> offsets_;
  int64_t file_bytes_ = 0;
  int64_t truncated_bytes_ = 0;
};

}  // namespace pinpipe::log
