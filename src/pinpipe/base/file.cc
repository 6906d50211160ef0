#include "pinpipe/base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace pinpipe {
namespace fs = std::filesystem;
namespace {

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : File(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      // One write(2) for all of it (the log's hot path); callers that
      // prefer smaller pieces pass them one at a time.
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "write", path());
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Result<size_t> ReadAt(int64_t offset, char* dst, size_t n) const override {
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, dst + got, n - got, static_cast<off_t>(offset) + got);
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "read", path());
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    return got;
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync", path());
    return Status::Ok();
  }

  Status SyncAll() override {
    if (::fsync(fd_) != 0) return ErrnoStatus(errno, "fsync", path());
    return Status::Ok();
  }

  Status Truncate(int64_t size) override {
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return ErrnoStatus(errno, "truncate", path());
    }
    return Status::Ok();
  }

  Result<int64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, "stat", path());
    return static_cast<int64_t>(st.st_size);
  }

 private:
  const int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing releases the flock

 private:
  const int fd_;
};

Status FromErrorCode(const std::error_code& ec, std::string_view what, const fs::path& path) {
  // std::filesystem reports errno values in the generic category.
  return ErrnoStatus(ec.value(), what, path.string());
}

}  // namespace

StatusCode ErrnoCode(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return StatusCode::kNotFound;
    case EEXIST:
      return StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM:
      return StatusCode::kPermissionDenied;
    case EROFS:
    case ENOTEMPTY:
      return StatusCode::kFailedPrecondition;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return StatusCode::kResourceExhausted;
    case EAGAIN:
    case EBUSY:
    case ETXTBSY:
    case ESTALE:
    case ETIMEDOUT:
    case EINTR:
      return StatusCode::kUnavailable;
    case ENAMETOOLONG:
    case EISDIR:
    case ELOOP:
      return StatusCode::kInvalidArgument;
    default:  // EIO among them: see the header
      return StatusCode::kInternal;
  }
}

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string message(what);
  message += ' ';
  message += path;
  message += ": ";
  message += std::strerror(err);
  return Status(ErrnoCode(err), std::move(message));
}

FileSystem& FileSystem::Default() {
  static PosixFileSystem fs;
  return fs;
}

Result<std::string> FileSystem::ReadFile(const fs::path& path, int64_t max_bytes) {
  PINPIPE_ASSIGN_OR_RETURN(auto file, Open(path, OpenMode::kRead));
  PINPIPE_ASSIGN_OR_RETURN(int64_t size, file->Size());
  if (size > max_bytes) {
    return OutOfRangeError(path.string() + " is larger than " + std::to_string(max_bytes) +
                           " bytes");
  }
  std::string data(static_cast<size_t>(size), '\0');
  PINPIPE_ASSIGN_OR_RETURN(size_t got, file->ReadAt(0, data.data(), data.size()));
  data.resize(got);  // shrunk meanwhile: what is there now
  return data;
}

Status FileSystem::WriteFileAtomically(const fs::path& path, std::string_view data,
                                       const AtomicWriteOptions& options) {
  fs::path tmp = path;
  tmp += ".tmp";
  Status status;
  {
    auto file = Open(tmp, OpenMode::kTruncate);
    if (!file.ok()) return file.status();
    status = (*file)->Append(data);
    if (status.ok()) status = (*file)->SyncAll();
  }
  if (status.ok()) status = Rename(tmp, path);
  if (!status.ok()) {
    (void)Remove(tmp);  // best effort: the old content is intact either way
    return status;
  }
  if (options.sync_dir) {
    fs::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    PINPIPE_RETURN_IF_ERROR(SyncDir(dir));
  }
  return Status::Ok();
}

Result<std::unique_ptr<File>> PosixFileSystem::Open(const fs::path& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kRead:
      flags |= O_RDONLY;
      break;
    case OpenMode::kAppend:
      flags |= O_RDWR | O_APPEND;
      break;
    case OpenMode::kCreateOrAppend:
      flags |= O_RDWR | O_APPEND | O_CREAT;
      break;
    case OpenMode::kCreateNew:
      flags |= O_RDWR | O_APPEND | O_CREAT | O_EXCL;
      break;
    case OpenMode::kTruncate:
      flags |= O_RDWR | O_APPEND | O_CREAT | O_TRUNC;
      break;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return ErrnoStatus(errno, mode == OpenMode::kRead ? "open" : "open for writing", path.string());
  }
  return std::unique_ptr<File>(new PosixFile(path.string(), fd));
}

Status PosixFileSystem::Rename(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, "rename " + from.string() + " to", to.string());
  }
  return Status::Ok();
}

Status PosixFileSystem::Link(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, "link " + from.string() + " to", to.string());
  }
  return Status::Ok();
}

Status PosixFileSystem::Remove(const fs::path& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, "unlink", path.string());
  return Status::Ok();
}

Status PosixFileSystem::RemoveDir(const fs::path& path) {
  if (::rmdir(path.c_str()) != 0) return ErrnoStatus(errno, "rmdir", path.string());
  return Status::Ok();
}

Status PosixFileSystem::RemoveAll(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return FromErrorCode(ec, "remove", path);
  return Status::Ok();
}

Status PosixFileSystem::CreateDir(const fs::path& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return ErrnoStatus(errno, "mkdir", path.string());
  return Status::Ok();
}

Status PosixFileSystem::CreateDirs(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return FromErrorCode(ec, "create", path);
  return Status::Ok();
}

Result<FileInfo> PosixFileSystem::Stat(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path.string());
  FileInfo info;
  info.size = st.st_size;
  info.is_dir = S_ISDIR(st.st_mode);
  info.is_regular = S_ISREG(st.st_mode);
  info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  info.inode = st.st_ino;
  return info;
}

Result<std::vector<DirEntry>> PosixFileSystem::ListDir(const fs::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, "opendir", dir.string());
  std::vector<DirEntry> entries;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    DirEntry entry{std::string(name), e->d_type == DT_DIR, e->d_type == DT_REG};
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        entry.is_dir = S_ISDIR(st.st_mode);
        entry.is_regular = S_ISREG(st.st_mode);
      }
    }
    entries.push_back(std::move(entry));
  }
  ::closedir(d);
  return entries;
}

Status PosixFileSystem::SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open folder", dir.string());
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync folder", dir.string());
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> PosixFileSystem::LockFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open", path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return UnavailableError(path.string() + " is locked by another process");
    return ErrnoStatus(err, "lock", path.string());
  }
  return std::unique_ptr<FileLock>(new PosixFileLock(fd));
}

}  // namespace pinpipe
