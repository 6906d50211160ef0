// FaultInjectingFileSystem: a FileSystem test double that passes every call
// to a real one (the POSIX file system by default) and fails the calls a
// test arms with a chosen errno - a full disk on write, EIO on fsync, a
// failed rename - through the same errno -> Status mapping as the real one.
// A failing Append first writes half of its data, as a disk that fills up
// in the middle of a write does, so callers' clean-up is exercised too.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pinpipe/base/file.h"

namespace pinpipe::testing {

enum class FsOp {
  kOpen,  // of any mode but kRead
  kRead,
  kAppend,
  kSync,  // Sync and SyncAll of files
  kTruncate,
  kRename,
  kLink,
  kRemove,
  kCreateDir,  // CreateDir and CreateDirs
  kSyncDir,
};

class FaultInjectingFileSystem final : public FileSystem {
 public:
  explicit FaultInjectingFileSystem(FileSystem* base = nullptr)
      : base_(FileSystem::OrDefault(base)) {}

  // From now on, calls of `op` whose path contains `path_part` ("" = any)
  // fail with `err`: the next `count` of them (-1 = all), after letting
  // `skip` matching calls through.
  void Fail(FsOp op, int err, std::string path_part = "", int count = -1, int skip = 0);
  // Removes every armed fault.
  void Heal();
  // Faults injected so far.
  int injected() const { return injected_.load(); }

  Result<std::unique_ptr<File>> Open(const std::filesystem::path& path, OpenMode mode) override;
  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status Link(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status Remove(const std::filesystem::path& path) override;
  Status RemoveDir(const std::filesystem::path& path) override { return base_.RemoveDir(path); }
  Status RemoveAll(const std::filesystem::path& path) override { return base_.RemoveAll(path); }
  Status CreateDir(const std::filesystem::path& path) override;
  Status CreateDirs(const std::filesystem::path& path) override;
  Result<FileInfo> Stat(const std::filesystem::path& path) override { return base_.Stat(path); }
  Result<std::vector<DirEntry>> ListDir(const std::filesystem::path& dir) override {
    return base_.ListDir(dir);
  }
  Status SyncDir(const std::filesystem::path& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::filesystem::path& path) override {
    return base_.LockFile(path);
  }

  // The errno to fail `op` on `path` with now, or 0 (counts the call).
  int Check(FsOp op, const std::string& path);

 private:
  struct Rule {
    FsOp op;
    int err;
    std::string path_part;
    int count;
    int skip;
  };
  FileSystem& base_;
  std::mutex mu_;
  std::vector<Rule> rules_;
  std::atomic<int> injected_{0};
};

}  // namespace pinpipe::testing
