// Disk faults injected through the FileSystem seam (tests/support/
// fault_file_system.h) into the real modules: the file layer's own atomic
// write, the log (segments and the offset store), the local object store,
// the sink writing through it and the stream job's status file. Each fault
// must come back as the file layer's Status (a full disk is
// ResourceExhausted, EIO is Internal) and leave no half-written file
// visible: what was there before stays readable, and after the fault heals
// the module carries on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <span>

#include "fault_file_system.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/log/log.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/sink/properties.h"
#include "pinpipe/sink/sink.h"
#include "pinpipe/sink/sink_config.h"
#include "pinpipe/stream/job.h"

namespace pinpipe {
namespace {

namespace fs = std::filesystem;
using testing::FaultInjectingFileSystem;
using testing::FsOp;

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pinpipe-faults-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Names in `dir` ending in ".tmp" or under a ".pinpipe-tmp" folder.
  static std::vector<std::string> Litter(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const std::string p = e.path().string();
      if (e.is_regular_file() &&
          (p.ends_with(".tmp") || p.find(".pinpipe-tmp/") != std::string::npos)) {
        out.push_back(p);
      }
    }
    return out;
  }

  fs::path dir_;
  FaultInjectingFileSystem faults_;
};

// ---- The layer's atomic write ---------------------------------------------

TEST_F(FaultTest, AFailedAtomicWriteKeepsTheOldContent) {
  const fs::path p = dir_ / "state.json";
  ASSERT_TRUE(faults_.WriteFileAtomically(p, "old").ok());
  struct Case {
    FsOp op;
    int err;
    StatusCode code;
  };
  for (const Case& c : {Case{FsOp::kAppend, ENOSPC, StatusCode::kResourceExhausted},
                        Case{FsOp::kAppend, EDQUOT, StatusCode::kResourceExhausted},
                        Case{FsOp::kSync, EIO, StatusCode::kInternal},
                        Case{FsOp::kRename, EACCES, StatusCode::kPermissionDenied},
                        Case{FsOp::kOpen, ENOSPC, StatusCode::kResourceExhausted}}) {
    faults_.Fail(c.op, c.err);
    Status s = faults_.WriteFileAtomically(p, "new content that is longer");
    faults_.Heal();
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    EXPECT_EQ(*faults_.ReadFile(p), "old");
    EXPECT_TRUE(Litter(dir_).empty());
  }
  // EIO on the folder's fsync: the new name may not survive a crash, and
  // the caller is told so.
  faults_.Fail(FsOp::kSyncDir, EIO);
  EXPECT_EQ(faults_.WriteFileAtomically(p, "new").code(), StatusCode::kInternal);
  faults_.Heal();
  EXPECT_GE(faults_.injected(), 6);
}

// ---- The log --------------------------------------------------------------

class LogFaultTest : public FaultTest {
 protected:
  std::unique_ptr<log::Log> Open(const std::string& fsync) {
    log::LogOptions o;
    o.dir = dir_ / "log";
    o.fsync = *log::FsyncPolicy::Parse(fsync);
    o.fs = &faults_;
    auto opened = log::Log::Open(o);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(*opened) : nullptr;
  }
  static Result<log::AppendInfo> Append(log::Partition* p, int from, int count) {
    std::vector<std::string> values;
    for (int i = 0; i < count; ++i) values.push_back("value-" + std::to_string(from + i));
    std::vector<log::RecordView> views(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      views[i].value = values[i];
      views[i].timestamp_ms = 1000;
    }
    return p->AppendAndWait(views);
  }
  static void ExpectValues(log::Partition* p, int count) {
    auto read = p->Read(0, 100'000, 64 << 20);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->size(), static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      EXPECT_EQ((*read)[i].offset, i);
      EXPECT_EQ((*read)[i].value, "value-" + std::to_string(i));
    }
  }
};

TEST_F(LogFaultTest, AFullDiskFailsTheAppendAndCutsBackItsHalfWrite) {
  auto log = Open("always");
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->CreateTopic("t", {}).ok());
  auto* p = (*log->GetTopic("t"))->partition(0);
  ASSERT_TRUE(Append(p, 0, 10).ok());
  faults_.Fail(FsOp::kAppend, ENOSPC, ".log");
  auto failed = Append(p, 10, 10);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted) << failed.status().ToString();
  EXPECT_EQ(p->high_watermark(), 10);
  faults_.Heal();
  // The half-written batch was cut off: the next append continues at 10,
  // and everything reads back, also after a reopen.
  auto next = Append(p, 10, 5);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->base_offset, 10);
  ExpectValues(p, 15);
  log.reset();
  log = Open("always");
  ASSERT_TRUE(log);
  p = (*log->GetTopic("t"))->partition(0);
  EXPECT_EQ((*log->GetTopic("t"))->partition(0)->recovery().truncated_bytes, 0);
  ExpectValues(p, 15);
}

TEST_F(LogFaultTest, EioOnFsyncIsNotAcknowledgedNorRetriable) {
  auto log = Open("always");
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->CreateTopic("t", {}).ok());
  auto* p = (*log->GetTopic("t"))->partition(0);
  ASSERT_TRUE(Append(p, 0, 3).ok());
  faults_.Fail(FsOp::kSync, EIO, ".log", /*count=*/1);
  auto failed = Append(p, 3, 3);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal) << failed.status().ToString();
  EXPECT_FALSE(IsRetriable(failed.status()));
  EXPECT_EQ(p->high_watermark(), 3);  // what may be lost is never shown to readers
}

TEST_F(LogFaultTest, AFullDiskFailsAnOffsetCommitAsResourceExhausted) {
  auto log = Open("never");
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->offsets().Commit("g", {{"t", 0, 5}}).ok());
  faults_.Fail(FsOp::kAppend, ENOSPC, "consumer_offsets");
  Status s = log->offsets().Commit("g", {{"t", 0, 9}});
  // Was Unavailable: a full disk looked like something to retry at once.
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_EQ(log->offsets().Get("g", "t", 0), 5);
  faults_.Heal();
  log.reset();
  log = Open("never");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->offsets().Get("g", "t", 0), 5);
  EXPECT_EQ(log->offsets().truncated_bytes(), 0);  // the half entry was cut back
}

TEST_F(LogFaultTest, AFailedTopicCreationLeavesNoTopic) {
  auto log = Open("never");
  ASSERT_TRUE(log);
  faults_.Fail(FsOp::kRename, ENOSPC, "topics");
  EXPECT_EQ(log->CreateTopic("t", {}).code(), StatusCode::kResourceExhausted);
  faults_.Heal();
  EXPECT_TRUE(log->ListTopics().empty());
  EXPECT_TRUE(log->CreateTopic("t", {}).ok());
}

// ---- The local object store and the sink ----------------------------------

TEST_F(FaultTest, ObjectStoreWritesFailWithoutAHalfObject) {
  auto store = objstore::LocalObjectStore::Open(dir_ / "lake", &faults_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("a/b.json", "old", {}).ok());
  struct Case {
    FsOp op;
    int err;
    StatusCode code;
  };
  for (const Case& c : {Case{FsOp::kAppend, ENOSPC, StatusCode::kResourceExhausted},
                        Case{FsOp::kSync, EIO, StatusCode::kInternal},
                        Case{FsOp::kRename, EIO, StatusCode::kInternal}}) {
    faults_.Fail(c.op, c.err);
    EXPECT_EQ((*store)->Put("a/b.json", std::string(300'000, 'n'), {}).code(), c.code);
    EXPECT_EQ((*store)->Put("a/new.json", "n", {}).code(), c.code);
    // A multi-part upload too.
    auto upload = (*store)->StartUpload("a/up.json", {});
    ASSERT_TRUE(upload.ok());
    Status s = (*upload)->Append("part");
    if (s.ok()) s = (*upload)->Finish();
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    upload->reset();  // a failed upload is aborted by its owner
    faults_.Heal();
    EXPECT_EQ(*(*store)->Get("a/b.json"), "old");
    EXPECT_EQ((*store)->Head("a/new.json").status().code(), StatusCode::kNotFound);
    EXPECT_EQ((*store)->Head("a/up.json").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(Litter(dir_), std::vector<std::string>{}) << static_cast<int>(c.op);
  }
  // EIO syncing the folder: the object is reported as failed.
  faults_.Fail(FsOp::kSyncDir, EIO);
  EXPECT_EQ((*store)->Put("a/c.json", "c", {}).code(), StatusCode::kInternal);
}

// A full disk is retriable for the sink (the store may free space): it
// keeps the error in its status, rewinds to the committed offset and
// commits nothing until the objects are written.
TEST_F(FaultTest, TheSinkSurfacesAFullDiskAndWritesEverythingOnceItHeals) {
  embedded::EmbeddedBrokerOptions options;
  options.log.dir = dir_ / "log";
  options.log.fsync.mode = log::FsyncMode::kNever;
  options.log.retention_ms = -1;
  auto broker = embedded::EmbeddedBroker::Open(options);
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  broker::TopicConfig topic;
  ASSERT_TRUE((*broker)->CreateTopic("t", topic).ok());
  for (int i = 0; i < 4; ++i) {
    broker::Record r;
    r.value = "{\"i\":" + std::to_string(i) + "}";
    r.timestamp_ms = 1'700'000'000'000;
    ASSERT_TRUE((*broker)->Produce("t", std::span<const broker::Record>(&r, 1)).ok());
  }
  auto store = objstore::LocalObjectStore::Open(dir_ / "lake", &faults_);
  ASSERT_TRUE(store.ok());
  auto props = sink::ParseProperties("name=s\ntopics=t\nflush.size=2\n");
  ASSERT_TRUE(props.ok());
  auto config = sink::SinkConfig::FromProperties(*props);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ManualClock clock(1'700'000'000'000'000);
  {
    auto s = sink::Sink::Create(*config, **broker, **store, &clock);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Start().ok());
    faults_.Fail(FsOp::kAppend, ENOSPC);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*s)->Step(50).ok());
    EXPECT_GT(faults_.injected(), 0);
    auto status = (*s)->GetStatus();
    ASSERT_EQ(status.partitions.size(), 1u);
    EXPECT_TRUE(status.partitions[0].last_error.starts_with("ResourceExhausted: write"))
        << status.partitions[0].last_error;
    auto listed = (*store)->ListAll("");
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->empty());  // nothing half-written, nothing committed
    auto committed = (*broker)->FetchCommittedOffsets("connect-s", "t");
    ASSERT_TRUE(committed.ok());
    for (const auto& c : *committed) EXPECT_EQ(c.offset, 0);
    EXPECT_TRUE(Litter(dir_ / "lake").empty());
    // Close leaves open files to the next run, which consumes them again.
    EXPECT_TRUE((*s)->Close().ok());
    faults_.Heal();
  }
  EXPECT_TRUE((*store)->ListAll("")->empty());
  // Healed: a new run writes every record once.
  auto s = sink::Sink::Create(*config, **broker, **store, &clock);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Start().ok());
  ASSERT_TRUE((*s)->Drain(true).ok());
  auto listed = (*store)->ListAll("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(*(*store)->Get((*listed)[0].key), "{\"i\":0}\n{\"i\":1}\n");
  EXPECT_EQ(*(*store)->Get((*listed)[1].key), "{\"i\":2}\n{\"i\":3}\n");
}

// ---- The stream job's status file -----------------------------------------

TEST_F(FaultTest, TheStreamJobReportsAFailedStatusWriteAndKeepsTheOldFile) {
  ManualClock clock;
  stream::StreamJob job({}, 1000, &clock);
  const fs::path status = dir_ / "stream" / "status.json";
  job.SetStatusFile(status, &faults_);
  ASSERT_TRUE(job.RunUntilDrained().ok());
  const std::string before = *FileSystem::Default().ReadFile(status);
  clock.AdvanceMicros(5'000'000);  // the new file would differ (its time)
  for (FsOp op : {FsOp::kAppend, FsOp::kSync, FsOp::kRename}) {
    faults_.Fail(op, op == FsOp::kAppend ? ENOSPC : EIO);
    Status s = job.RunUntilDrained();  // was OK: the error was dropped
    faults_.Heal();
    EXPECT_EQ(s.code(),
              op == FsOp::kAppend ? StatusCode::kResourceExhausted : StatusCode::kInternal)
        << s.ToString();
    EXPECT_EQ(*FileSystem::Default().ReadFile(status), before);
    EXPECT_TRUE(Litter(dir_).empty());
  }
  ASSERT_TRUE(job.RunUntilDrained().ok());
  EXPECT_NE(*FileSystem::Default().ReadFile(status), before);
}

}  // namespace
}  // namespace pinpipe
