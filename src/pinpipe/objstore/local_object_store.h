// LocalObjectStore: an ObjectStore backed by a folder on the local disk.
//
// Object "a/b/c.json" is the file <root>/a/b/c.json, so other tools (DuckDB,
// Spark, `cat`) read the lake directly. Writes go to a temporary file under
// <root>/.pinpipe-tmp/, are fsynced, then renamed into place (or linked, for
// put-if-absent, which is atomic: link() fails if the name exists), and the
// parent directory (and the parent of any folder created) is fsynced. Readers
// therefore see a whole object or none.
// Keys are validated (see key.h) so nothing escapes the root.
//
// Thread-safety: all methods are safe to call concurrently, also from several
// processes on the same root.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "pinpipe/base/file.h"
#include "pinpipe/objstore/object_store.h"

namespace pinpipe::objstore {

class LocalObjectStore final : public ObjectStore {
 public:
  // Creates `root` if missing. Fails when it cannot be created. Files go
  // through `fs` (nullptr: FileSystem::Default()), which must outlive the
  // store; IO errors carry its codes (base/file.h: a full disk is
  // ResourceExhausted).
  static Result<std::unique_ptr<LocalObjectStore>> Open(const std::filesystem::path& root,
                                                        FileSystem* fs = nullptr);

  // When false, skips fsync (for tests and benchmarks that measure the rest).
  void set_sync(bool sync) { sync_ = sync; }

  std::string Url() const override;
  Status Put(std::string_view key, std::string_view data, const PutOptions& options) override;
  // Writes and fsyncs the temporary files on a few threads, then links or
  // renames each into place and fsyncs each folder touched once: a batch of N
  // objects costs N concurrent file syncs plus one sync per folder.
  std::vector<Status> PutMany(std::span<const PutRequest> requests) override;
  Result<std::string> Get(std::string_view key,
                          std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Result<ListPage> List(std::string_view prefix, std::string_view continuation_token,
                        int max_keys = 1000) override;
  Result<std::unique_ptr<Upload>> StartUpload(std::string_view key,
                                              const PutOptions& options) override;

  const std::filesystem::path& root() const { return root_; }

  // Internal: moves a finished temporary file to `key`. Used by Put and uploads.
  Status Publish(const std::string& tmp_path, std::string_view key, const PutOptions& options);
  // Internal: creates a new temporary file.
  Result<std::unique_ptr<File>> CreateTemp();
  // Internal: a new temporary file holding `data` (fsynced when sync()); its path.
  Result<std::string> WriteTemp(std::string_view data);
  bool sync() const { return sync_; }
  FileSystem& files() { return files_; }

 private:
  LocalObjectStore(std::filesystem::path root, FileSystem& files)
      : root_(std::move(root)), files_(files) {}
  // Publish without syncing: adds the folders whose entries changed to `dirs_to_sync`.
  Status PublishUnsynced(const std::string& tmp_path, std::string_view key,
                         const PutOptions& options,
                         std::vector<std::filesystem::path>* dirs_to_sync);

  std::filesystem::path root_;
  FileSystem& files_;
  bool sync_ = true;
};

}  // namespace pinpipe::objstore
