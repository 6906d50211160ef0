// The POSIX FileSystem against the real kernel: /dev/full for a full disk,
// missing files, a read-only folder is not used (the tests may run as root).
#include "pinpipe/base/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace pinpipe {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pinpipe-file-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  FileSystem& fs_ = FileSystem::Default();
  fs::path dir_;
};

TEST(ErrnoTest, OneMappingForEveryModule) {
  EXPECT_EQ(ErrnoCode(ENOSPC), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoCode(EDQUOT), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoCode(EIO), StatusCode::kInternal);
  EXPECT_EQ(ErrnoCode(ENOENT), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoCode(EACCES), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoCode(EEXIST), StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrnoCode(EAGAIN), StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoCode(EINTR), StatusCode::kUnavailable);
  // A full disk is not retriable-looking Unavailable, and EIO is not
  // corruption (DataLoss) nor retriable.
  EXPECT_FALSE(IsRetriable(ErrnoStatus(EIO, "fsync", "/x")));
  Status s = ErrnoStatus(ENOSPC, "write", "/data/f");
  EXPECT_EQ(s.message(), "write /data/f: " + std::string(std::strerror(ENOSPC)));
}

TEST_F(FileTest, AFullDiskIsResourceExhausted) {
  auto full = fs_.Open("/dev/full", OpenMode::kAppend);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  Status s = (*full)->Append("x");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
}

TEST_F(FileTest, MissingFilesAreNotFound) {
  EXPECT_EQ(fs_.ReadFile(dir_ / "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.Open(dir_ / "nope", OpenMode::kAppend).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.Remove(dir_ / "nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.Stat(dir_ / "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.ListDir(dir_ / "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.SyncDir(dir_ / "nope").code(), StatusCode::kNotFound);
}

TEST_F(FileTest, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  const fs::path p = dir_ / "state.json";
  ASSERT_TRUE(fs_.WriteFileAtomically(p, "one").ok());
  EXPECT_EQ(*fs_.ReadFile(p), "one");
  ASSERT_TRUE(fs_.WriteFileAtomically(p, "two, longer").ok());
  EXPECT_EQ(*fs_.ReadFile(p), "two, longer");
  EXPECT_FALSE(fs::exists(dir_ / "state.json.tmp"));
  EXPECT_EQ(fs_.ReadFile(p, 3).status().code(), StatusCode::kOutOfRange);
}

TEST_F(FileTest, AtomicWriteIntoAMissingFolderFailsWithoutATrace) {
  Status s = fs_.WriteFileAtomically(dir_ / "missing" / "f", "x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
}

TEST_F(FileTest, FilesAppendReadTruncateAndSync) {
  const fs::path p = dir_ / "log";
  auto f = fs_.Open(p, OpenMode::kCreateNew);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(fs_.Open(p, OpenMode::kCreateNew).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Append("world").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(*(*f)->Size(), 11);
  char buf[32];
  EXPECT_EQ(*(*f)->ReadAt(6, buf, sizeof(buf)), 5u);
  EXPECT_EQ(std::string(buf, 5), "world");
  ASSERT_TRUE((*f)->Truncate(5).ok());
  ASSERT_TRUE((*f)->Append("!").ok());  // appends at the new end
  EXPECT_EQ(*fs_.ReadFile(p), "hello!");
}

TEST_F(FileTest, DirectoriesAndLinks) {
  ASSERT_TRUE(fs_.CreateDirs(dir_ / "a" / "b").ok());
  ASSERT_TRUE(fs_.CreateDirs(dir_ / "a" / "b").ok());
  EXPECT_EQ(fs_.CreateDir(dir_ / "a").code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(fs_.WriteFileAtomically(dir_ / "a" / "f", "x").ok());
  ASSERT_TRUE(fs_.Link(dir_ / "a" / "f", dir_ / "a" / "g").ok());
  EXPECT_EQ(fs_.Link(dir_ / "a" / "f", dir_ / "a" / "g").code(), StatusCode::kAlreadyExists);
  auto entries = fs_.ListDir(dir_ / "a");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 3u);
  auto info = fs_.Stat(dir_ / "a" / "b");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_dir);
  EXPECT_EQ(fs_.RemoveDir(dir_ / "a").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(fs_.RemoveAll(dir_ / "a").ok());
  ASSERT_TRUE(fs_.RemoveAll(dir_ / "a").ok());
  EXPECT_FALSE(fs::exists(dir_ / "a"));
}

TEST_F(FileTest, LockFileIsExclusive) {
  auto lock = fs_.LockFile(dir_ / "LOCK");
  ASSERT_TRUE(lock.ok());
  // flock locks belong to the open file description: a second open conflicts.
  EXPECT_EQ(fs_.LockFile(dir_ / "LOCK").status().code(), StatusCode::kUnavailable);
  lock->reset();
  EXPECT_TRUE(fs_.LockFile(dir_ / "LOCK").ok());
}

}  // namespace
}  // namespace pinpipe
