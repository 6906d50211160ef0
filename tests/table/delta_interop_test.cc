// Delta tables written by pinpipe on the local object store, read the way an
// independent reader does: the test replays the log itself (checkpoint read
// by DuckDB + later JSON commits, minus removes) and has DuckDB read exactly
// those Parquet files; the rows must be exactly the appended ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "harness.h"
#include "interop.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/objstore/s3_object_store.h"
#include "pinpipe/table/delta_table.h"
#include "s3rver.h"

namespace pinpipe::table {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Schema GeoSchema() {
  return Schema{{{"ind", ColumnType::kInt64},
                 {"country", ColumnType::kString},
                 {"coordinates", ColumnType::kDoubleList},
                 {"timestamp", ColumnType::kTimestampMicros}}};
}

void AddRow(RecordBatch* b, int64_t ind) {
  b->columns[0].AppendInt64(ind);
  if (ind % 5 == 0) {
    b->columns[1].AppendNull();
  } else {
    b->columns[1].AppendString(ind % 2 ? "Maldives" : "Bangladesh");
  }
  double c[] = {static_cast<double>(ind) / 8, -static_cast<double>(ind) / 16};
  b->columns[2].AppendList(c);
  b->columns[3].AppendInt64(1'540'000'000'000'000 + ind * 1'000'003);
}

json ExpectedRow(int64_t ind) {
  json country = ind % 5 == 0 ? json(nullptr) : json(ind % 2 ? "Maldives" : "Bangladesh");
  return json{std::to_string(ind), country,
              json{static_cast<double>(ind) / 8, -static_cast<double>(ind) / 16},
              std::to_string(1'540'000'000'000'000 + ind * 1'000'003)};
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The table's live files, computed independently of pinpipe's reader.
std::vector<std::string> LiveFiles(const fs::path& table) {
  fs::path log = table / "_delta_log";
  std::set<std::string> live;
  int64_t start = 0;
  if (fs::exists(log / "_last_checkpoint")) {
    int64_t v = json::parse(ReadText(log / "_last_checkpoint"))["version"];
    std::string cp = (log / (DeltaVersionName(v) + ".checkpoint.parquet")).string();
    auto rows = DuckDb("SELECT add.path FROM read_parquet('" + cp + "') WHERE add IS NOT NULL");
    for (const auto& r : rows["rows"]) live.insert(r[0].get<std::string>());
    start = v + 1;
  }
  for (int64_t v = start; fs::exists(log / (DeltaVersionName(v) + ".json")); ++v) {
    std::istringstream in(ReadText(log / (DeltaVersionName(v) + ".json")));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json a = json::parse(line);
      if (a.contains("add")) live.insert(a["add"]["path"].get<std::string>());
      if (a.contains("remove")) live.erase(a["remove"]["path"].get<std::string>());
    }
  }
  std::vector<std::string> out;
  for (const auto& p : live) out.push_back((table / p).string());
  return out;
}

json DuckDbRows(const std::vector<std::string>& files) {
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "'" : ", '") + f + "'";
  return DuckDb(
      "SELECT CAST(ind AS VARCHAR), country, coordinates, CAST(epoch_us(timestamp) AS VARCHAR) "
      "FROM read_parquet([" +
      list + "]) ORDER BY ind")["rows"];
}

TEST(DeltaInteropTest, DuckDbReadsExactlyTheAppendedRows) {
  testing::TempDir dir;
  auto store = objstore::LocalObjectStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  DeltaTable table(**store, "p_geo_table");
  ASSERT_TRUE(table.Create(GeoSchema()).ok());

  // Version 0 is exactly what the spec shows.
  fs::path tdir = dir.path() / "p_geo_table";
  std::istringstream v0(ReadText(tdir / "_delta_log" / "00000000000000000000.json"));
  std::string line;
  std::getline(v0, line);
  EXPECT_EQ(json::parse(line),
            (json{{"protocol", {{"minReaderVersion", 1}, {"minWriterVersion", 2}}}}));
  std::getline(v0, line);
  json meta = json::parse(line)["metaData"];
  EXPECT_EQ(meta["format"], (json{{"provider", "parquet"}, {"options", json::object()}}));
  EXPECT_EQ(meta["configuration"], (json{{"delta.appendOnly", "true"}}));
  EXPECT_EQ(json::parse(meta["schemaString"].get<std::string>())["fields"][2]["type"],
            (json{{"type", "array"}, {"elementType", "double"}, {"containsNull", true}}));

  int64_t next = 0;
  std::vector<int64_t> appended;
  for (int batch = 0; batch < 14; ++batch) {
    RecordBatch b(GeoSchema());
    for (int i = 0; i < 25 + batch; ++i) {
      appended.push_back(next);
      AddRow(&b, next++);
    }
    auto r = table.Append(b, {"stream-geo", batch, "STREAMING UPDATE"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // A replayed micro-batch (as after a crash) changes nothing.
    if (batch % 4 == 0) {
      auto again = table.Append(b, {"stream-geo", batch, "STREAMING UPDATE"});
      ASSERT_TRUE(again.ok());
      EXPECT_TRUE(again->skipped);
    }
  }
  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    auto files = LiveFiles(tdir);
    ASSERT_FALSE(files.empty());
    json rows = DuckDbRows(files);
    ASSERT_EQ(rows.size(), appended.size());
    for (size_t i = 0; i < appended.size(); ++i) {
      ASSERT_EQ(rows[i], ExpectedRow(appended[i])) << i;
    }
  };
  ASSERT_TRUE(fs::exists(tdir / "_delta_log" / "00000000000000000010.checkpoint.parquet"));
  check("after appends (checkpoint 10 + 4 commits)");

  auto opt = table.Optimize(64 << 20);
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  EXPECT_EQ(opt->removed.size(), 14u);
  auto files = LiveFiles(tdir);
  EXPECT_EQ(files.size(), 1u);
  check("after optimize");

  // Every add's stats parse and count the file's rows.
  auto snap = table.Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->NumRecords(), static_cast<int64_t>(appended.size()));
}

// The same table on S3 (s3rver), written by two writers in turn, each
// keeping its snapshot between appends: every commit of the other writer is
// seen, nothing is lost, and a copy of the bucket reads back exactly.
TEST(DeltaInteropTest, TwoWritersTakingTurnsOnS3LoseNothing) {
  testing::S3rver server("delta-bucket");
  ASSERT_TRUE(server.ok()) << "s3rver did not start";
  auto s3 = objstore::S3ObjectStore::Open(server.Options());
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  DeltaTable a(**s3, "p_geo_table");
  DeltaTable b(**s3, "p_geo_table");
  ASSERT_TRUE(a.Create(GeoSchema()).ok());
  std::vector<int64_t> appended;
  int64_t next = 0;
  for (int turn = 0; turn < 12; ++turn) {
    DeltaTable& writer = turn % 2 == 0 ? a : b;
    RecordBatch batch(GeoSchema());
    for (int i = 0; i < 10; ++i) {
      appended.push_back(next);
      AddRow(&batch, next++);
    }
    auto r = writer.Append(batch, {turn % 2 == 0 ? "writer-a" : "writer-b", turn / 2, "WRITE"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->version, turn + 1) << "a writer missed the other's commit";
    EXPECT_EQ(r->attempts, 1);
  }
  auto snap = a.Load();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->version, 12);
  EXPECT_EQ(snap->NumRecords(), static_cast<int64_t>(appended.size()));

  // Copy the bucket to a folder and read it with DuckDB, independently of pinpipe.
  testing::TempDir copy;
  auto listed = (*s3)->ListAll("p_geo_table/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  for (const auto& o : *listed) {
    auto data = (*s3)->Get(o.key);
    ASSERT_TRUE(data.ok()) << o.key;
    fs::path out = copy.path() / o.key;
    fs::create_directories(out.parent_path());
    std::ofstream(out, std::ios::binary) << *data;
  }
  ASSERT_TRUE(
      fs::exists(copy.path() / "p_geo_table/_delta_log/00000000000000000010.checkpoint.parquet"));
  json rows = DuckDbRows(LiveFiles(copy.path() / "p_geo_table"));
  ASSERT_EQ(rows.size(), appended.size());
  for (size_t i = 0; i < appended.size(); ++i) ASSERT_EQ(rows[i], ExpectedRow(appended[i])) << i;
}

}  // namespace
}  // namespace pinpipe::table
