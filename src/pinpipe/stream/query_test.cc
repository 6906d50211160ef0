#include "pinpipe/stream/query.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/stream/job.h"
#include "pinpipe/stream/rows.h"

namespace pinpipe::stream {
namespace {

// An in-memory stream: shards are vectors; positions are next indexes.
class FakeSource : public StreamSource {
 public:
  explicit FakeSource(int shards) : shards_(static_cast<size_t>(shards)) {}
  void Put(int shard, std::string data, int64_t arrival_ms) {
    shards_[static_cast<size_t>(shard)].push_back({std::move(data), arrival_ms});
  }
  const std::string& stream() const override { return name_; }
  Result<std::vector<std::string>> Shards() override {
    std::vector<std::string> out;
    for (size_t i = 0; i < shards_.size(); ++i) out.push_back(std::to_string(i));
    return out;
  }
  Result<std::string> StartPosition(const std::string& shard, InitialPosition initial) override {
    if (initial == InitialPosition::kEarliest) return std::string("0");
    return std::to_string(shards_[std::stoul(shard)].size());
  }
  Result<ShardRead> Read(const std::string& shard, const std::string& position,
                         const std::string& until, int max_records, int64_t) override {
    const auto& s = shards_[std::stoul(shard)];
    size_t at = std::stoul(position);
    size_t end = until.empty() ? s.size() : std::stoul(until);
    ShardRead read;
    read.next_position = position;
    for (; at < end && at < s.size() && static_cast<int>(read.records.size()) < max_records; ++at) {
      read.records.push_back({s[at].first, s[at].second, std::to_string(at + 1)});
      read.next_position = std::to_string(at + 1);
    }
    return read;
  }

 private:
  std::string name_ = "streaming-test-pin";
  std::vector<std::vector<std::pair<std::string, int64_t>>> shards_;
};

// A table in memory that can be told to fail its next append.
struct FakeTableState {
  std::vector<int64_t> inds;
  std::vector<std::string> titles;
  std::map<std::string, int64_t> txn;
  int64_t version = -1;
  bool fail_next_append = false;
};

class FakeTable : public TableWriter {
 public:
  explicit FakeTable(FakeTableState* state) : state_(state) {}
  Result<int64_t> TxnVersion(const std::string& app_id) override {
    auto it = state_->txn.find(app_id);
    return it == state_->txn.end() ? int64_t{-1} : it->second;
  }
  Status Append(const table::RecordBatch& rows, const std::string& app_id, int64_t v) override {
    if (state_->fail_next_append) {
      state_->fail_next_append = false;
      return UnavailableError("store down");
    }
    if (auto it = state_->txn.find(app_id); it != state_->txn.end() && it->second >= v) {
      return Status::Ok();
    }
    for (size_t i = 0; i < rows.num_rows(); ++i) {
      state_->inds.push_back(rows.columns[0].GetInt64(i));
      state_->titles.push_back(
          rows.columns[2].IsNull(i) ? "<null>" : std::string(rows.columns[2].GetString(i)));
    }
    state_->txn[app_id] = v;
    ++state_->version;
    return Status::Ok();
  }
  Result<std::vector<int64_t>> ReadInds() override { return state_->inds; }
  int64_t version() const override { return state_->version; }

 private:
  FakeTableState* state_;
};

std::string Pin(int ind, const std::string& title) {
  return "{\"index\":" + std::to_string(ind) + ",\"unique_id\":\"u" + std::to_string(ind) +
         "\",\"title\":\"" + title +
         "\",\"description\":\"d\",\"poster_name\":\"p\",\"follower_count\":\"5k\","
         "\"tag_list\":\"a,b\",\"is_image_or_video\":\"image\",\"image_src\":\"x\","
         "\"downloaded\":1,\"save_location\":\"Local save in /data/art\",\"category\":\"art\"}";
}

class StreamQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pinpipe-query-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    auto store = objstore::LocalObjectStore::Open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<StreamQuery> NewQuery(FakeSource* source, int max_records = 100) {
    QueryOptions options;
    options.app_id = "pinpipe-test-pin";
    options.kind = clean::TableKind::kPin;
    options.max_records_per_batch = max_records;
    options.checkpoint_prefix = "_checkpoints/pinpipe-test-pin/";
    options.clock = &clock_;
    // The query owns its source; hand it a forwarding wrapper so the test keeps the data.
    struct Forward : StreamSource {
      FakeSource* s;
      explicit Forward(FakeSource* src) : s(src) {}
      const std::string& stream() const override { return s->stream(); }
      Result<std::vector<std::string>> Shards() override { return s->Shards(); }
      Result<std::string> StartPosition(const std::string& a, InitialPosition b) override {
        return s->StartPosition(a, b);
      }
      Result<ShardRead> Read(const std::string& a, const std::string& b, const std::string& c,
                             int d, int64_t e) override {
        return s->Read(a, b, c, d, e);
      }
    };
    return std::make_unique<StreamQuery>(options, std::make_unique<Forward>(source),
                                         std::make_unique<FakeTable>(&table_), *store_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<objstore::ObjectStore> store_;
  FakeTableState table_;
  ManualClock clock_;
};

TEST_F(StreamQueryTest, AppendsCleanRowsAndDropsDuplicatesAcrossBatches) {
  FakeSource source(2);
  source.Put(0, Pin(1, "one"), 10);
  source.Put(1, Pin(2, "No Title Data Available"), 11);
  source.Put(0, Pin(1, "one again"), 12);
  auto query = NewQuery(&source);
  auto n = query->RunBatch(0);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(table_.inds, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(table_.titles, (std::vector<std::string>{"one", "<null>"}));
  // A later batch repeating ind 2 adds nothing; nothing new returns 0.
  source.Put(1, Pin(2, "dup"), 20);
  source.Put(1, Pin(3, "three"), 21);
  EXPECT_EQ(*query->RunBatch(0), 2);
  EXPECT_EQ(table_.inds, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(*query->RunBatch(0), 0);
  EXPECT_EQ(query->status().duplicates, 2);
  EXPECT_EQ(query->status().batches, 2);
}

TEST_F(StreamQueryTest, CrashBeforeCommitReplaysTheSameBatch) {
  FakeSource source(1);
  for (int i = 0; i < 10; ++i) source.Put(0, Pin(i, "t" + std::to_string(i)), i);
  {
    auto query = NewQuery(&source, /*max_records=*/4);
    ASSERT_EQ(*query->RunBatch(0), 4);  // batch 0: inds 0..3
    table_.fail_next_append = true;     // batch 1 is planned, then the commit fails
    EXPECT_FALSE(query->RunBatch(0).ok());
  }
  // More data arrives; a new process must first redo batch 1 with the same range.
  for (int i = 10; i < 12; ++i) source.Put(0, Pin(i, "t"), 100 + i);
  auto query = NewQuery(&source, /*max_records=*/4);
  ASSERT_TRUE(query->Recover().ok());
  EXPECT_EQ(query->status().next_batch, 1);
  ASSERT_EQ(*query->RunBatch(0), 4);  // the replayed batch 1: inds 4..7
  EXPECT_EQ(table_.txn["pinpipe-test-pin"], 1);
  while (*query->RunBatch(0) > 0) {
  }
  std::vector<int64_t> expected(12);
  for (int i = 0; i < 12; ++i) expected[static_cast<size_t>(i)] = i;
  EXPECT_EQ(table_.inds, expected);
}

TEST_F(StreamQueryTest, CrashAfterCommitDoesNotRepeatTheBatch) {
  FakeSource source(1);
  for (int i = 0; i < 6; ++i) source.Put(0, Pin(i, "t"), i);
  {
    auto query = NewQuery(&source, 3);
    ASSERT_EQ(*query->RunBatch(0), 3);
    ASSERT_EQ(*query->RunBatch(0), 3);
  }
  auto query = NewQuery(&source, 3);
  EXPECT_EQ(*query->RunBatch(0), 0);
  EXPECT_EQ(table_.inds.size(), 6u);
}

TEST_F(StreamQueryTest, RejectsAreCountedAndKept) {
  FakeSource source(1);
  source.Put(0, "not json", 1);
  source.Put(0, "{\"title\":\"no index\"}", 2);
  source.Put(0, Pin(5, "ok"), 3);
  auto query = NewQuery(&source);
  ASSERT_EQ(*query->RunBatch(0), 3);
  EXPECT_EQ(query->status().rejected, 2);
  EXPECT_EQ(table_.inds, (std::vector<int64_t>{5}));
  auto rejects = store_->Get("_checkpoints/pinpipe-test-pin/rejects/00000000000000000000.jsonl");
  ASSERT_TRUE(rejects.ok());
  EXPECT_NE(rejects->find("not json"), std::string::npos);
}

// A stream whose shard listing fails with the message in `failure` ("" = works).
class FlakySource : public StreamSource {
 public:
  void Fail(std::string message) {
    std::lock_guard lock(mu_);
    failure_ = std::move(message);
  }
  int64_t calls() const { return calls_; }
  const std::string& stream() const override { return name_; }
  Result<std::vector<std::string>> Shards() override {
    ++calls_;
    std::lock_guard lock(mu_);
    if (!failure_.empty()) return UnavailableError(failure_);
    return std::vector<std::string>{"0"};
  }
  Result<std::string> StartPosition(const std::string&, InitialPosition) override {
    return std::string("0");
  }
  Result<ShardRead> Read(const std::string&, const std::string& position, const std::string&, int,
                         int64_t) override {
    ShardRead read;
    read.next_position = position;
    return read;
  }

 private:
  std::string name_ = "streaming-test-pin";
  std::mutex mu_;
  std::string failure_;
  std::atomic<int64_t> calls_{0};
};

TEST_F(StreamQueryTest, JobReportsAFailureOnceWhileRetryingItAndAgainAfterASuccess) {
  auto owned = std::make_unique<FlakySource>();
  FlakySource* source = owned.get();
  QueryOptions options;
  options.app_id = "pinpipe-test-pin";
  options.checkpoint_prefix = "_checkpoints/pinpipe-test-pin/";
  options.clock = &clock_;
  std::vector<std::unique_ptr<StreamQuery>> queries;
  queries.push_back(std::make_unique<StreamQuery>(options, std::move(owned),
                                                  std::make_unique<FakeTable>(&table_), *store_));
  StreamJob job(std::move(queries), 10, &clock_);
  std::mutex mu;
  std::vector<std::string> reported;
  job.SetErrorListener([&](const QueryOptions& q, const Status& error) {
    std::lock_guard lock(mu);
    EXPECT_EQ(q.app_id, "pinpipe-test-pin");
    reported.push_back(error.message());
  });
  ASSERT_TRUE(job.Recover().ok());
  auto calls_grow_by = [&](int64_t n) {
    const int64_t until = source->calls() + n;
    for (int i = 0; i < 2000 && source->calls() < until; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return source->calls() >= until;
  };
  source->Fail("store down");
  job.Start();
  ASSERT_TRUE(calls_grow_by(10));  // ten failed batches, retried
  source->Fail("other failure");
  ASSERT_TRUE(calls_grow_by(10));
  source->Fail("");
  ASSERT_TRUE(calls_grow_by(5));  // batches succeed again
  source->Fail("store down");
  ASSERT_TRUE(calls_grow_by(10));
  job.Stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(reported, (std::vector<std::string>{"store down", "other failure", "store down"}));
}

TEST(CleanedSchemaTest, MatchesTheSpecTypes) {
  auto geo = CleanedSchema(clean::TableKind::kGeo);
  ASSERT_EQ(geo.fields.size(), 4u);
  EXPECT_EQ(geo.fields[2].name, "coordinates");
  EXPECT_EQ(geo.fields[2].type, table::ColumnType::kDoubleList);
  auto user = CleanedSchema(clean::TableKind::kUser);
  EXPECT_EQ(user.fields[2].type, table::ColumnType::kInt32);
  EXPECT_EQ(CleanedSchema(clean::TableKind::kPin).fields.size(), 11u);
}

}  // namespace
}  // namespace pinpipe::stream
