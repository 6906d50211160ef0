#include "fault_file_system.h"

namespace pinpipe::testing {
namespace {

class FaultInjectingFile final : public File {
 public:
  FaultInjectingFile(FaultInjectingFileSystem* fs, std::unique_ptr<File> base)
      : File(base->path()), fs_(fs), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (int err = fs_->Check(FsOp::kAppend, path())) {
      // Half of it reaches the file before the disk is full.
      (void)base_->Append(data.substr(0, data.size() / 2));
      return ErrnoStatus(err, "write", path());
    }
    return base_->Append(data);
  }
  Result<size_t> ReadAt(int64_t offset, char* dst, size_t n) const override {
    if (int err = fs_->Check(FsOp::kRead, path())) return ErrnoStatus(err, "read", path());
    return base_->ReadAt(offset, dst, n);
  }
  Status Sync() override {
    if (int err = fs_->Check(FsOp::kSync, path())) return ErrnoStatus(err, "fdatasync", path());
    return base_->Sync();
  }
  Status SyncAll() override {
    if (int err = fs_->Check(FsOp::kSync, path())) return ErrnoStatus(err, "fsync", path());
    return base_->SyncAll();
  }
  Status Truncate(int64_t size) override {
    if (int err = fs_->Check(FsOp::kTruncate, path())) return ErrnoStatus(err, "truncate", path());
    return base_->Truncate(size);
  }
  Result<int64_t> Size() const override { return base_->Size(); }

 private:
  FaultInjectingFileSystem* fs_;
  std::unique_ptr<File> base_;
};

}  // namespace

void FaultInjectingFileSystem::Fail(FsOp op, int err, std::string path_part, int count, int skip) {
  std::lock_guard lock(mu_);
  rules_.push_back({op, err, std::move(path_part), count, skip});
}

void FaultInjectingFileSystem::Heal() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

int FaultInjectingFileSystem::Check(FsOp op, const std::string& path) {
  std::lock_guard lock(mu_);
  for (Rule& r : rules_) {
    if (r.op != op || r.count == 0) continue;
    if (!r.path_part.empty() && path.find(r.path_part) == std::string::npos) continue;
    if (r.skip > 0) {
      --r.skip;
      continue;
    }
    if (r.count > 0) --r.count;
    injected_.fetch_add(1);
    return r.err;
  }
  return 0;
}

Result<std::unique_ptr<File>> FaultInjectingFileSystem::Open(const std::filesystem::path& path,
                                                             OpenMode mode) {
  if (mode != OpenMode::kRead) {
    if (int err = Check(FsOp::kOpen, path.string())) {
      return ErrnoStatus(err, "open for writing", path.string());
    }
  }
  PINPIPE_ASSIGN_OR_RETURN(auto file, base_.Open(path, mode));
  return std::unique_ptr<File>(new FaultInjectingFile(this, std::move(file)));
}

Status FaultInjectingFileSystem::Rename(const std::filesystem::path& from,
                                        const std::filesystem::path& to) {
  if (int err = Check(FsOp::kRename, to.string())) {
    return ErrnoStatus(err, "rename " + from.string() + " to", to.string());
  }
  return base_.Rename(from, to);
}

Status FaultInjectingFileSystem::Link(const std::filesystem::path& from,
                                      const std::filesystem::path& to) {
  if (int err = Check(FsOp::kLink, to.string())) {
    return ErrnoStatus(err, "link " + from.string() + " to", to.string());
  }
  return base_.Link(from, to);
}

Status FaultInjectingFileSystem::Remove(const std::filesystem::path& path) {
  if (int err = Check(FsOp::kRemove, path.string()))
    return ErrnoStatus(err, "unlink", path.string());
  return base_.Remove(path);
}

Status FaultInjectingFileSystem::CreateDir(const std::filesystem::path& path) {
  if (int err = Check(FsOp::kCreateDir, path.string())) {
    return ErrnoStatus(err, "mkdir", path.string());
  }
  return base_.CreateDir(path);
}

Status FaultInjectingFileSystem::CreateDirs(const std::filesystem::path& path) {
  if (int err = Check(FsOp::kCreateDir, path.string())) {
    return ErrnoStatus(err, "create", path.string());
  }
  return base_.CreateDirs(path);
}

Status FaultInjectingFileSystem::SyncDir(const std::filesystem::path& dir) {
  if (int err = Check(FsOp::kSyncDir, dir.string())) {
    return ErrnoStatus(err, "fsync folder", dir.string());
  }
  return base_.SyncDir(dir);
}

}  // namespace pinpipe::testing
