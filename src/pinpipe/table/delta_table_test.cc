#include "pinpipe/table/delta_table.h"

#include <gtest/gtest.h>

#include <thread>

#include "memory_object_store.h"
#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::table {
namespace {

Schema GeoSchema() {
  return Schema{{{"ind", ColumnType::kInt64},
                 {"country", ColumnType::kString},
                 {"coordinates", ColumnType::kDoubleList},
                 {"timestamp", ColumnType::kTimestampMicros}}};
}

RecordBatch GeoBatch(int64_t first, int n) {
  RecordBatch b(GeoSchema());
  for (int i = 0; i < n; ++i) {
    int64_t ind = first + i;
    b.columns[0].AppendInt64(ind);
    if (ind % 7 == 0) {
      b.columns[1].AppendNull();
    } else {
      b.columns[1].AppendString(ind % 2 ? "Albania" : "Chile");
    }
    double c[] = {static_cast<double>(ind) / 10, -static_cast<double>(ind) / 20};
    b.columns[2].AppendList(c);
    b.columns[3].AppendInt64(1'600'000'000'000'000 + ind * 1'000'001);
  }
  return b;
}

std::vector<int64_t> Inds(const RecordBatch& b) {
  std::vector<int64_t> v;
  for (size_t i = 0; i < b.num_rows(); ++i) v.push_back(b.columns[0].GetInt64(i));
  std::sort(v.begin(), v.end());
  return v;
}

class DeltaTableTest : public ::testing::Test {
 protected:
  testing::MemoryObjectStore store_;
  ManualClock clock_;
  DeltaTable table_{store_, "lake/p_geo_table", &clock_};
};

TEST(SparkSchemaTest, RoundTripsEveryType) {
  Schema s{{{"a", ColumnType::kBoolean},
            {"b", ColumnType::kInt32, false},
            {"c", ColumnType::kInt64},
            {"d", ColumnType::kDouble},
            {"e", ColumnType::kString},
            {"f", ColumnType::kTimestampMicros},
            {"g", ColumnType::kDoubleList}}};
  std::string text = SparkSchemaString(s);
  EXPECT_NE(text.find(R"({"containsNull":true,"elementType":"double","type":"array"})"),
            std::string::npos);
  auto back = ParseSparkSchema(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(ParseSparkSchema(R"({"type":"struct","fields":[{"name":"x","type":"map"}]})").ok());
}

TEST_F(DeltaTableTest, CreateWritesProtocolAndMetadata) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  EXPECT_EQ(table_.Create(GeoSchema()).status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(table_.CreateIfAbsent(GeoSchema()).ok());
  EXPECT_EQ(table_.CreateIfAbsent(Schema{{{"x", ColumnType::kInt64}}}).code(),
            StatusCode::kFailedPrecondition);
  auto v0 = store_.Get("lake/p_geo_table/_delta_log/00000000000000000000.json");
  ASSERT_TRUE(v0.ok());
  auto first = nlohmann::json::parse(v0->substr(0, v0->find('\n')));
  EXPECT_EQ(first,
            (nlohmann::json{{"protocol", {{"minReaderVersion", 1}, {"minWriterVersion", 2}}}}));
  auto snap = table_.Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->version, 0);
  EXPECT_EQ(snap->schema, GeoSchema());
  EXPECT_EQ(snap->configuration.at("delta.appendOnly"), "true");
}

TEST_F(DeltaTableTest, AppendsAreReadBackWithStats) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  auto r = table_.Append(GeoBatch(0, 50));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 1);
  auto snap = table_.Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->files.size(), 1u);
  const AddFile& f = snap->files.begin()->second;
  auto stats = nlohmann::json::parse(f.stats);
  EXPECT_EQ(stats["numRecords"], 50);
  EXPECT_EQ(stats["minValues"]["ind"], 0);
  EXPECT_EQ(stats["maxValues"]["ind"], 49);
  EXPECT_EQ(stats["nullCount"]["country"], 8);  // 0, 7, ..., 49
  EXPECT_EQ(stats["minValues"]["country"], "Albania");
  EXPECT_EQ(stats["minValues"]["timestamp"], "2020-09-13T12:26:40.000Z");
  EXPECT_EQ(stats["maxValues"]["timestamp"], "2020-09-13T12:27:29.001Z");  // ceil
  auto all = table_.ReadAll(*snap);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_rows(), 50u);
  EXPECT_EQ(snap->NumRecords(), 50);
  RecordBatch wrong(Schema{{{"x", ColumnType::kInt64}}});
  EXPECT_EQ(table_.Append(wrong).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DeltaTableTest, ReplayedTxnVersionIsSkipped) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  AppendOptions o{"query-1", 0, "STREAMING UPDATE"};
  auto a = table_.Append(GeoBatch(0, 10), o);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->skipped);
  size_t objects = store_.size();
  auto again = table_.Append(GeoBatch(0, 10), o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(store_.size(), objects);  // no new data file, no commit
  o.txn_version = 1;
  ASSERT_TRUE(table_.Append(GeoBatch(10, 10), o).ok());
  auto latest = table_.LatestTxnVersion("query-1");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->value_or(-1), 1);
  EXPECT_FALSE(table_.LatestTxnVersion("other")->has_value());
  auto snap = table_.Load();
  EXPECT_EQ(snap->NumRecords(), 20);
  // An empty micro-batch still records its txn.
  o.txn_version = 2;
  auto empty = table_.Append(RecordBatch(GeoSchema()), o);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(table_.LatestTxnVersion("query-1")->value_or(-1), 2);
}

TEST_F(DeltaTableTest, ConflictRetriesAtNextVersionAndRechecksTxn) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  DeltaTable other(store_, "lake/p_geo_table", &clock_);
  // Just before our first commit attempt, another writer commits the same txn.
  bool injected = false;
  store_.SetBeforePut([&](std::string_view key) {
    if (!injected && key.find("_delta_log/00000000000000000001.json") != std::string_view::npos) {
      injected = true;
      store_.SetBeforePut(nullptr);
      ASSERT_TRUE(other.Append(GeoBatch(0, 5), {"q", 7, "WRITE"}).ok());
    }
  });
  auto r = table_.Append(GeoBatch(0, 5), {"q", 7, "WRITE"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->skipped);
  auto snap = table_.Load();
  EXPECT_EQ(snap->version, 1);
  EXPECT_EQ(snap->NumRecords(), 5);
  // A different txn loses a race and lands at the next version.
  injected = false;
  store_.SetBeforePut([&](std::string_view key) {
    if (!injected && key.find("00000000000000000002.json") != std::string_view::npos) {
      injected = true;
      store_.SetBeforePut(nullptr);
      ASSERT_TRUE(other.Append(GeoBatch(100, 5)).ok());
    }
  });
  auto r2 = table_.Append(GeoBatch(200, 5), {"q", 8, "WRITE"});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->version, 3);
  EXPECT_EQ(r2->attempts, 2);
  EXPECT_EQ(table_.Load()->NumRecords(), 15);
}

TEST_F(DeltaTableTest, ConcurrentCommittersLoseNothing) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  constexpr int kWriters = 3, kBatches = 12;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      DeltaTable t(store_, "lake/p_geo_table", &clock_);
      for (int b = 0; b < kBatches; ++b) {
        auto r = t.Append(GeoBatch((w * kBatches + b) * 10, 10),
                          {"writer-" + std::to_string(w), b, "WRITE"});
        EXPECT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  auto snap = table_.Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->version, kWriters * kBatches);
  EXPECT_EQ(snap->files.size(), static_cast<size_t>(kWriters * kBatches));
  auto all = table_.ReadAll(*snap);
  ASSERT_TRUE(all.ok());
  std::vector<int64_t> want(kWriters * kBatches * 10);
  for (size_t i = 0; i < want.size(); ++i) want[i] = static_cast<int64_t>(i);
  EXPECT_EQ(Inds(*all), want);
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(snap->txns.at("writer-" + std::to_string(w)).version, kBatches - 1);
  }
}

TEST_F(DeltaTableTest, CheckpointEqualsReplayedJsonState) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  for (int i = 0; i < 23; ++i) {
    ASSERT_TRUE(table_.Append(GeoBatch(i * 4, 4), {"app", i, "STREAMING UPDATE"}).ok());
  }
  ASSERT_TRUE(table_.Optimize(1 << 30).ok());  // version 24: removes in the log
  for (int i = 23; i < 26; ++i) {
    ASSERT_TRUE(table_.Append(GeoBatch(i * 4, 4), {"app", i, "STREAMING UPDATE"}).ok());
  }
  // Versions 10 and 20 got checkpoints; the latest is 27.
  EXPECT_TRUE(
      store_.Head("lake/p_geo_table/_delta_log/00000000000000000010.checkpoint.parquet").ok());
  EXPECT_TRUE(
      store_.Head("lake/p_geo_table/_delta_log/00000000000000000020.checkpoint.parquet").ok());
  auto last = store_.Get("lake/p_geo_table/_delta_log/_last_checkpoint");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(nlohmann::json::parse(*last)["version"], 20);

  auto with_cp = table_.Load();
  ASSERT_TRUE(with_cp.ok());
  EXPECT_EQ(with_cp->checkpoint_version, 20);
  Snapshot replay;  // JSON only, from version 0
  ASSERT_TRUE(table_.Refresh(&replay).ok());
  EXPECT_EQ(replay.checkpoint_version, -1);
  EXPECT_EQ(with_cp->version, replay.version);
  EXPECT_EQ(with_cp->schema, replay.schema);
  EXPECT_EQ(with_cp->table_id, replay.table_id);
  EXPECT_EQ(with_cp->configuration, replay.configuration);
  ASSERT_EQ(with_cp->files.size(), replay.files.size());
  for (const auto& [p, f] : replay.files) {
    ASSERT_TRUE(with_cp->files.count(p)) << p;
    EXPECT_EQ(with_cp->files.at(p).stats, f.stats);
    EXPECT_EQ(with_cp->files.at(p).size, f.size);
  }
  EXPECT_EQ(with_cp->tombstones.size(), replay.tombstones.size());
  EXPECT_EQ(with_cp->txns.at("app").version, 25);

  // The checkpoint at 20 holds the state of version 20: 20 adds, 1 txn.
  {
    DeltaTable t(store_, "lake/p_geo_table", &clock_);
    auto data = store_.Get("lake/p_geo_table/_delta_log/00000000000000000020.checkpoint.parquet");
    auto file = ParquetFile::Open(*data);
    ASSERT_TRUE(file.ok());
    auto rows = file->ReadJsonRows();
    ASSERT_TRUE(rows.ok());
    size_t adds = 0, txns = 0, metas = 0, protocols = 0;
    for (const auto& row : *rows) {
      adds += !row["add"].is_null();
      txns += !row["txn"].is_null();
      metas += !row["metaData"].is_null();
      protocols += !row["protocol"].is_null();
    }
    EXPECT_EQ(adds, 20u);
    EXPECT_EQ(txns, 1u);
    EXPECT_EQ(metas, 1u);
    EXPECT_EQ(protocols, 1u);
  }
  auto all = table_.ReadAll(*with_cp);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_rows(), 26u * 4);
}

TEST_F(DeltaTableTest, OptimizeCompactsWithoutChangingData) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(table_.Append(GeoBatch(i * 10, 10)).ok());
  auto before = table_.Load();
  auto r = table_.Optimize(1 << 30);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->removed.size(), 6u);
  EXPECT_EQ(r->added.size(), 1u);
  auto after = table_.Load();
  EXPECT_EQ(after->files.size(), 1u);
  EXPECT_FALSE(after->files.begin()->second.data_change);
  EXPECT_EQ(after->tombstones.size(), 6u);
  EXPECT_EQ(Inds(*table_.ReadAll(*after)), Inds(*table_.ReadAll(*before)));
  // Nothing left to compact.
  auto again = table_.Optimize(1 << 30);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, -1);
  auto history = table_.History(3);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ((*history)[0]["operation"], "OPTIMIZE");
  EXPECT_EQ((*history)[0]["version"], 7);
  EXPECT_EQ((*history)[1]["operation"], "WRITE");
}

TEST_F(DeltaTableTest, VacuumDeletesOnlyExpiredUnreferencedFiles) {
  ASSERT_TRUE(table_.Create(GeoSchema()).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(table_.Append(GeoBatch(i * 10, 10)).ok());
  ASSERT_TRUE(table_.Optimize(1 << 30).ok());
  ASSERT_TRUE(store_.Put("lake/p_geo_table/part-orphan.parquet", "x", {}).ok());
  store_.SetAllModified(clock_.NowMillis());
  // Within the retention period nothing goes.
  auto none = table_.Vacuum(3600'000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->deleted.empty());
  clock_.AdvanceMicros(2 * 3600'000'000ll);
  auto dry = table_.Vacuum(3600'000, true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->deleted.size(), 4u);  // 3 compacted-away files + the orphan
  auto wet = table_.Vacuum(3600'000);
  ASSERT_TRUE(wet.ok());
  EXPECT_EQ(wet->deleted.size(), 4u);
  auto snap = table_.Load();
  EXPECT_EQ(table_.ReadAll(*snap)->num_rows(), 30u);
  EXPECT_TRUE(store_.Head("lake/p_geo_table/_delta_log/00000000000000000000.json").ok());
}

TEST_F(DeltaTableTest, MissingTableIsNotFound) {
  EXPECT_EQ(table_.Load().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(table_.History().status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*table_.Exists());
}

}  // namespace
}  // namespace pinpipe::table

namespace pinpipe::table {
namespace {

// A version-0 commit as Spark writes it, with `protocol` and `metaData` given.
void PutVersion0(testing::MemoryObjectStore* store, const std::string& protocol,
                 const std::string& schema, const std::string& partitions = "[]") {
  nlohmann::json meta = {
      {"metaData",
       {{"id", "t"},
        {"format", {{"provider", "parquet"}, {"options", nlohmann::json::object()}}},
        {"schemaString", schema},
        {"partitionColumns", nlohmann::json::parse(partitions)},
        {"configuration", nlohmann::json::object()},
        {"createdTime", 1}}}};
  ASSERT_TRUE(store
                  ->Put("t/_delta_log/00000000000000000000.json",
                        R"({"protocol":)" + protocol + "}\n" + meta.dump() + "\n", {})
                  .ok());
}

const char* const kLongSchema =
    R"({"type":"struct","fields":[{"name":"ind","type":"long","nullable":true,"metadata":{}}]})";

TEST(DeltaFeaturesTest, RefusesReaderFeaturesByName) {
  testing::MemoryObjectStore store;
  PutVersion0(&store,
              R"({"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],)"
              R"("writerFeatures":["deletionVectors","invariants","appendOnly"]})",
              kLongSchema);
  DeltaTable t(store, "t");
  auto s = t.Load();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.status().message().find("reader table feature deletionVectors"), std::string::npos)
      << s.status().message();
}

TEST(DeltaFeaturesTest, RefusesColumnMappingPartitionsAndBinary) {
  {
    testing::MemoryObjectStore store;
    PutVersion0(&store, R"({"minReaderVersion":2,"minWriterVersion":5})", kLongSchema);
    auto s = DeltaTable(store, "t").Load();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("columnMapping"), std::string::npos);
  }
  {
    testing::MemoryObjectStore store;
    PutVersion0(&store, R"({"minReaderVersion":1,"minWriterVersion":2})", kLongSchema,
                R"(["ind"])");
    auto s = DeltaTable(store, "t").Load();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("partitioned (partitionColumns ind)"), std::string::npos)
        << s.status().message();
  }
  {
    testing::MemoryObjectStore store;
    PutVersion0(
        &store, R"({"minReaderVersion":1,"minWriterVersion":2})",
        R"({"type":"struct","fields":[{"name":"record","type":"binary","nullable":true,"metadata":{}}]})");
    auto s = DeltaTable(store, "t").Load();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE(s.status().message().find("column record has type binary"), std::string::npos)
        << s.status().message();
  }
}

TEST(DeltaFeaturesTest, ReadsButDoesNotWriteUnknownWriterFeatures) {
  testing::MemoryObjectStore store;
  PutVersion0(&store,
              R"({"minReaderVersion":1,"minWriterVersion":7,)"
              R"("writerFeatures":["changeDataFeed","invariants","appendOnly"]})",
              kLongSchema);
  DeltaTable t(store, "t");
  auto s = t.Load();
  ASSERT_TRUE(s.ok()) << s.status().message();
  RecordBatch b(s->schema);
  b.columns[0].AppendInt64(1);
  auto r = t.Append(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("writer table feature changeDataFeed"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(t.Optimize().ok());
  EXPECT_FALSE(t.Vacuum(0).ok());
  // Nothing was written: no data file, no commit.
  EXPECT_FALSE(store.Head("t/_delta_log/00000000000000000001.json").ok());
}

TEST(DeltaFeaturesTest, CheckpointKeepsProtocolFeatures) {
  testing::MemoryObjectStore store;
  PutVersion0(&store,
              R"({"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["appendOnly"]})",
              kLongSchema);
  DeltaTable t(store, "t");
  auto s = t.Load();
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_TRUE(t.WriteCheckpoint(*s).ok());
  auto again = DeltaTable(store, "t").Load();
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->checkpoint_version, 0);
  EXPECT_EQ(again->min_writer_version, 7);
  EXPECT_EQ(again->writer_features, std::vector<std::string>{"appendOnly"});
}

}  // namespace
}  // namespace pinpipe::table
