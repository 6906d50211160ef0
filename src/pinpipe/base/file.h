// FileSystem: the one file and OS layer (in the spirit of LevelDB's Env and
// DuckDB's FileSystem). Every module that keeps state in local files (log/,
// objstore/LocalObjectStore, stream/, the Kinesis catalog, status files)
// reads and writes them through it, so that
//   - there is one errno -> Status mapping (ErrnoStatus, below), and
//   - tests can inject faults (a full disk, EIO on fsync, a failed rename) by
//     passing another FileSystem (tests/support/fault_file_system.h).
//
// The durable atomic write (WriteFileAtomically) and ReadFile are
// non-virtual and built from the virtual primitives, so a fault injected in
// a primitive shows up in them exactly as it would on a real disk.
//
// Seams such as this one follow the rule for passing dependencies in
// src/pinpipe/README.md: LogOptions::fs, nullptr meaning FileSystem::Default().
//
// Error mapping (ErrnoCode):
//   ENOENT, ENOTDIR          -> NotFound
//   EEXIST                   -> AlreadyExists
//   EACCES, EPERM            -> PermissionDenied
//   EROFS, ENOTEMPTY         -> FailedPrecondition (read-only file system,
//                               folder not empty)
//   ENOSPC, EDQUOT, EFBIG, EMFILE, ENFILE, ENOMEM
//                            -> ResourceExhausted (a limit: disk, quota, fds)
//   EAGAIN, EBUSY, ETXTBSY, ESTALE, ETIMEDOUT, EINTR
//                            -> Unavailable (transient; EINTR is retried
//                               inside the layer and surfaces only from
//                               calls that cannot be restarted)
//   ENAMETOOLONG, EISDIR, ELOOP -> InvalidArgument
//   EIO and anything else    -> Internal. EIO is not DataLoss: DataLoss means
//                               bytes were read back and found corrupt, which
//                               the log answers by cutting a torn tail; an
//                               I/O error must never be taken for that. Nor
//                               is it retriable: after a failed fsync the
//                               kernel may have dropped the dirty pages, so
//                               a retry could report success for lost data.
//
// Thread-safety: FileSystem implementations are safe to call from any
// thread. A File is used by one writer at a time; ReadAt and Size may be
// called concurrently with each other and with the writer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe {

// The code for a failed system call's errno (table above).
StatusCode ErrnoCode(int err);
// "<what> <path>: <strerror(err)>" with ErrnoCode(err).
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

// An open file. Closing (the destructor) does not sync.
class File {
 public:
  virtual ~File() = default;

  const std::string& path() const { return path_; }

  // Writes all of `data` at the end of the file (files are opened for
  // appending), continuing after short writes. On an error a prefix of
  // `data` may have been written; the caller cuts it back with Truncate.
  virtual Status Append(std::string_view data) = 0;
  // Reads up to `n` bytes at `offset` into `dst`; fewer only at the end of
  // the file. Returns the count.
  virtual Result<size_t> ReadAt(int64_t offset, char* dst, size_t n) const = 0;
  // fdatasync: the data and what is needed to read it back (the size).
  virtual Status Sync() = 0;
  // fsync: also every other piece of metadata.
  virtual Status SyncAll() = 0;
  virtual Status Truncate(int64_t size) = 0;
  // The current size in bytes.
  virtual Result<int64_t> Size() const = 0;

 protected:
  explicit File(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
};

enum class OpenMode {
  kRead,            // existing file, read only
  kAppend,          // existing file, read and append
  kCreateOrAppend,  // created if missing, read and append
  kCreateNew,       // created; AlreadyExists if it exists
  kTruncate,        // created or emptied, read and append
};

struct FileInfo {
  int64_t size = 0;
  bool is_dir = false;
  bool is_regular = false;
  int64_t mtime_ns = 0;  // since the Unix epoch
  uint64_t inode = 0;
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
  bool is_regular = false;  // neither: a symlink, socket, ...
};

// Held while a LockFile lock is held; the destructor releases it.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct AtomicWriteOptions {
  // fsync the folder after the rename, so the new name survives a crash.
  // Off only when the caller syncs the folder itself (or can lose the name).
  bool sync_dir = true;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system.
  static FileSystem& Default();
  // `fs` or, when null, Default().
  static FileSystem& OrDefault(FileSystem* fs) { return fs != nullptr ? *fs : Default(); }

  virtual Result<std::unique_ptr<File>> Open(const std::filesystem::path& path, OpenMode mode) = 0;
  // rename(2): replaces `to` atomically.
  virtual Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // link(2): AlreadyExists when `to` exists.
  virtual Status Link(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // unlink(2); NotFound when missing.
  virtual Status Remove(const std::filesystem::path& path) = 0;
  // rmdir(2) of an empty folder.
  virtual Status RemoveDir(const std::filesystem::path& path) = 0;
  // Removes a file or a folder with everything in it; OK when missing.
  virtual Status RemoveAll(const std::filesystem::path& path) = 0;
  // mkdir(2) of one folder; AlreadyExists when something exists there.
  virtual Status CreateDir(const std::filesystem::path& path) = 0;
  // mkdir -p; OK when the folder exists.
  virtual Status CreateDirs(const std::filesystem::path& path) = 0;
  // stat(2), following symlinks; NotFound when missing.
  virtual Result<FileInfo> Stat(const std::filesystem::path& path) = 0;
  // The entries of a folder (without . and ..), unsorted. NotFound when missing.
  virtual Result<std::vector<DirEntry>> ListDir(const std::filesystem::path& dir) = 0;
  // fsync of a folder: makes the names created, renamed or removed in it durable.
  virtual Status SyncDir(const std::filesystem::path& dir) = 0;
  // An exclusive advisory lock on `path` (created if missing), held until
  // the returned object is destroyed. Unavailable when another process holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::filesystem::path& path) = 0;

  // The whole file. OutOfRange when it is larger than `max_bytes`.
  Result<std::string> ReadFile(const std::filesystem::path& path, int64_t max_bytes = INT64_MAX);
  // Replaces `path` with `data` durably and atomically: writes `<path>.tmp`
  // in the same folder, fsyncs it, renames it over `path`, then fsyncs the
  // folder (see AtomicWriteOptions). Readers see the old content or the new,
  // never a part; after a failure before the rename the old content is
  // intact and the temporary file removed. One writer per path at a time.
  Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data,
                             const AtomicWriteOptions& options = {});
};

// The POSIX implementation behind FileSystem::Default().
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::filesystem::path& path, OpenMode mode) override;
  Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status Link(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status Remove(const std::filesystem::path& path) override;
  Status RemoveDir(const std::filesystem::path& path) override;
  Status RemoveAll(const std::filesystem::path& path) override;
  Status CreateDir(const std::filesystem::path& path) override;
  Status CreateDirs(const std::filesystem::path& path) override;
  Result<FileInfo> Stat(const std::filesystem::path& path) override;
  Result<std::vector<DirEntry>> ListDir(const std::filesystem::path& dir) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::filesystem::path& path) override;
};

}  // namespace pinpipe
