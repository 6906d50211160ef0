// `pinpipe batch` against an independent oracle: DuckDB executing the shipped
// sql/ files unchanged on the same sink objects. Results must agree row for row
// on generated data sets (different seeds, sizes, layouts, gzip, duplicates and
// dirt) and on the original-sample fixtures.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "sink_gen.h"

namespace pinpipe::testing {
namespace {

namespace fs = std::filesystem;

const char* kQuestions[] = {"q1", "q2", "q3a", "q3b", "q4", "q5", "q6", "q7", "q8"};

bool HaveDuckDb() {
  return fs::exists(PeersDir() + "/node_modules/@duckdb/node-api") &&
         RunCommand({"node", "--version"}).exit_code == 0;
}

// `parquet`: a folder with pinpipe's cleaned tables for DuckDB to read back.
CommandResult RunOracle(const std::string& lake, const std::string& prefix, const std::string& out,
                        bool tables, const std::string& parquet = "") {
  std::vector<std::string> argv = {
      "node", SourceDir() + "/tests/batch/duckdb_oracle.cjs", SourceDir() + "/sql", lake, prefix,
      out};
  if (tables) argv.push_back("--tables");
  if (!parquet.empty()) argv.push_back("--parquet=" + parquet);
  return RunCommand(argv, "", {{"NODE_PATH", PeersDir() + "/node_modules"}},
                    std::chrono::seconds(300));
}

CommandResult RunBatch(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PinpipeBinary(), "batch"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, "", {}, std::chrono::seconds(300));
}

// The column types DuckDB sees in the cleaned tables' Parquet files: the
// types of spec/cleaning.md (long BIGINT, integer INTEGER, string VARCHAR,
// array<double> DOUBLE[], timestamp TIMESTAMP WITH TIME ZONE: UTC-adjusted).
const nlohmann::json kParquetTypes = nlohmann::json::parse(R"({
  "pin": [["ind", "BIGINT"], ["unique_id", "VARCHAR"], ["title", "VARCHAR"],
          ["description", "VARCHAR"], ["follower_count", "BIGINT"], ["poster_name", "VARCHAR"],
          ["tag_list", "VARCHAR"], ["is_image_or_video", "VARCHAR"], ["image_src", "VARCHAR"],
          ["save_location", "VARCHAR"], ["category", "VARCHAR"]],
  "geo": [["ind", "BIGINT"], ["country", "VARCHAR"], ["coordinates", "DOUBLE[]"],
          ["timestamp", "TIMESTAMP WITH TIME ZONE"]],
  "user": [["ind", "BIGINT"], ["user_name", "VARCHAR"], ["age", "INTEGER"],
           ["date_joined", "TIMESTAMP WITH TIME ZONE"]]
})");

// Runs both engines on `lake` and compares every output.
void CompareWithOracle(const std::string& lake, const std::string& prefix, bool tables) {
  TempDir out;
  std::string ours = out / "pinpipe", theirs = out / "duckdb";
  std::vector<std::string> args = {"--store", "file://" + lake, "--prefix", prefix, "--out",
                                   ours,      "--quiet"};
  if (!tables) args.push_back("--no-tables");
  CommandResult r = RunBatch(args);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  CommandResult o = RunOracle(lake, prefix, theirs, tables, tables ? ours + "/cleaned" : "");
  ASSERT_EQ(o.exit_code, 0) << o.err << o.out;
  for (const char* q : kQuestions) {
    std::string mine = ReadFile(ours + "/" + q + ".csv");
    std::string oracle = ReadFile(theirs + "/" + q + ".csv");
    EXPECT_FALSE(mine.empty()) << q;
    EXPECT_EQ(mine, oracle) << "question " << q << " differs from DuckDB running sql/" << q
                            << ".sql";
  }
  auto summary = nlohmann::json::parse(ReadFile(ours + "/summary.json"));
  auto counts = nlohmann::json::parse(ReadFile(theirs + "/counts.json"))["counts"];
  for (const char* t : {"pin", "geo", "user"}) {
    EXPECT_EQ(summary["tables"][t]["rows"].get<int64_t>(),
              counts[std::string(t) + "_rows"].get<int64_t>())
        << t;
    EXPECT_EQ(summary["tables"][t]["rejected"].get<int64_t>(),
              counts[std::string(t) + "_rejected"].get<int64_t>())
        << t;
  }
  EXPECT_EQ(summary["follower_count_rejected"].get<int64_t>(),
            counts["follower_count_rejected"].get<int64_t>());
  if (tables) {
    // DuckDB reads pinpipe's Parquet files: same rows, spec types, and the same
    // values as its own cleaned tables from sql/clean.sql.
    auto parquet = nlohmann::json::parse(ReadFile(theirs + "/parquet.json"));
    for (const char* t : {"pin", "geo", "user"}) {
      EXPECT_EQ(parquet[t]["rows"].get<int64_t>(), counts[std::string(t) + "_rows"].get<int64_t>())
          << t;
      EXPECT_EQ(parquet[t]["types"], kParquetTypes[t]) << t;
      std::string mine = ReadFile(theirs + "/parquet_" + t + ".csv");
      std::string oracle = ReadFile(theirs + "/" + prefix + "_" + t + "_table.csv");
      EXPECT_FALSE(mine.empty()) << t;
      EXPECT_TRUE(mine == oracle) << "cleaned/" << t
                                  << ".parquet read by DuckDB differs from DuckDB's cleaned table";
    }
  }
}

struct Dataset {
  const char* name;
  SinkGenOptions options;
  bool tables;
};

class BatchOracleTest : public ::testing::TestWithParam<Dataset> {};

TEST_P(BatchOracleTest, ResultsEqualDuckDbRowForRow) {
  ASSERT_TRUE(HaveDuckDb()) << "node or @duckdb/node-api missing: run scripts/install-deps --test";
  TempDir lake;
  ASSERT_TRUE(GenerateSink(lake.path().string(), GetParam().options));
  CompareWithOracle(lake.path().string(), GetParam().options.prefix, GetParam().tables);
}

SinkGenOptions Gen(uint64_t seed, int64_t records, int64_t posts, int64_t per_object,
                   int partitions, bool gzip, double dirt, const char* prefix) {
  SinkGenOptions o;
  o.seed = seed;
  o.records = records;
  o.posts = posts;
  o.per_object = per_object;
  o.partitions = partitions;
  o.gzip = gzip;
  o.dirt = dirt;
  o.prefix = prefix;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Generated, BatchOracleTest,
    ::testing::Values(
        Dataset{"clean_small", Gen(1, 2000, 1500, 500, 1, false, 0.0, "0a60b9a8a831"), true},
        Dataset{"dirty_gzip_partitions", Gen(2, 6000, 2500, 1000, 3, true, 0.08, "p"), true},
        Dataset{"very_dirty_many_dups", Gen(3, 8000, 700, 2000, 2, false, 0.3, "x1"), false},
        Dataset{"one_object_per_record", Gen(4, 600, 500, 1, 1, false, 0.05, "seed"), true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(BatchOracleFixtureTest, OriginalSampleEqualsDuckDb) {
  ASSERT_TRUE(HaveDuckDb()) << "node or @duckdb/node-api missing: run scripts/install-deps --test";
  TempDir lake;
  for (const char* t : {"pin", "geo", "user"}) {
    std::string dir = lake / ("topics/fx." + std::string(t) + "/partition=0");
    fs::create_directories(dir);
    WriteFile(dir + "/fx." + t + "+0+0000000000.json",
              ReadFile(FixturesDir() + "/original-sample/" + t + ".jsonl"));
  }
  CompareWithOracle(lake.path().string(), "fx", true);
}

// Hand-written records, hand-computed cleaned rows, read back by DuckDB.
TEST(BatchParquetTest, DuckDbReadsTheCleanedTablesWithSpecTypesAndValues) {
  ASSERT_TRUE(HaveDuckDb()) << "node or @duckdb/node-api missing: run scripts/install-deps --test";
  TempDir lake;
  auto put = [&](const char* t, const std::string& lines) {
    std::string dir = lake / ("topics/h." + std::string(t) + "/partition=0");
    fs::create_directories(dir);
    WriteFile(dir + "/h." + t + "+0+0000000000.json", lines);
  };
  put("pin",
      "{\"index\": 7, \"unique_id\": \"u7\", \"title\": \"No Title Data Available\", "
      "\"description\": \"d, \\\"q\\\"\", \"poster_name\": \"P\", \"follower_count\": \"5k\", "
      "\"tag_list\": \"a,b\", \"is_image_or_video\": \"image\", \"image_src\": "
      "\"Image src error.\", \"downloaded\": 1, \"save_location\": \"Local save in /data/x\", "
      "\"category\": \"art\"}\n"
      "{\"index\": \"3\", \"follower_count\": \"1M\", \"poster_name\": \"User Info Error\"}\n"
      "{\"index\": 7, \"title\": \"second copy\"}\n");
  put("geo",
      "{\"ind\": 7, \"country\": \"Chad\", \"latitude\": -1.5, \"longitude\": 2.25, "
      "\"timestamp\": \"2019-01-02T03:04:05.5+02:00\"}\n"
      "{\"ind\": 3, \"country\": \"\", \"timestamp\": \"2020-02-29 23:59:59\"}\n");
  put("user",
      "{\"ind\": 7, \"first_name\": \"Ann\", \"last_name\": \"Lee\", \"age\": 41, "
      "\"date_joined\": \"2015-10-20 01:02:03Z\"}\n"
      "{\"ind\": 3, \"last_name\": \"Bo\"}\n");
  TempDir out;
  CommandResult r = RunBatch(
      {"--store", lake.path().string(), "--prefix", "h", "--out", out / "ours", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  CommandResult o =
      RunOracle(lake.path().string(), "h", out / "duckdb", true, out / "ours/cleaned");
  ASSERT_EQ(o.exit_code, 0) << o.err << o.out;
  auto parquet = nlohmann::json::parse(ReadFile(out / "duckdb/parquet.json"));
  for (const char* t : {"pin", "geo", "user"}) {
    EXPECT_EQ(parquet[t]["rows"].get<int64_t>(), 2) << t;
    EXPECT_EQ(parquet[t]["types"], kParquetTypes[t]) << t;
  }
  EXPECT_EQ(ReadFile(out / "duckdb/parquet_pin.csv"),
            "ind,unique_id,title,description,follower_count,poster_name,tag_list,"
            "is_image_or_video,image_src,save_location,category\n"
            "3,,,,1000000,,,,,,\n"
            "7,u7,,\"d, \"\"q\"\"\",5000,P,\"a,b\",image,,/data/x,art\n");
  EXPECT_EQ(ReadFile(out / "duckdb/parquet_geo.csv"),
            "ind,country,coordinates,timestamp\n"
            "3,,,2020-02-29 23:59:59\n"
            "7,Chad,\"[-1.5, 2.25]\",2019-01-02 01:04:05.5\n");
  EXPECT_EQ(ReadFile(out / "duckdb/parquet_user.csv"),
            "ind,user_name,age,date_joined\n"
            "3,Bo,,\n"
            "7,Ann Lee,41,2015-10-20 01:02:03\n");
}

TEST(BatchCliTest, ClearErrorsForMissingStoreNoDataAndBadQuestion) {
  TempDir dir;
  CommandResult missing = RunBatch({"--store", "file://" + (dir / "nope"), "--prefix", "p"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("unreachable"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(dir / "nope"));  // reading never creates the lake
  CommandResult empty = RunBatch({"--store", dir.path().string(), "--prefix", "p"});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("no data"), std::string::npos) << empty.err;
  CommandResult bad = RunBatch({"--store", dir.path().string(), "--prefix", "p", "--query", "9"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown question"), std::string::npos) << bad.err;
}

TEST(BatchCliTest, OneQuestionPrintsItsTableAndWritesOnlyIt) {
  TempDir lake;
  ASSERT_TRUE(GenerateSink(lake.path().string(), Gen(5, 300, 200, 100, 1, false, 0.0, "p")));
  TempDir out;
  CommandResult r = RunBatch(
      {"--store", lake.path().string(), "--prefix", "p", "--query", "3", "--out", out / "r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("q3a: The user with the most followers in each country"), std::string::npos);
  EXPECT_NE(r.out.find("| country"), std::string::npos);
  EXPECT_NE(r.out.find("q3b:"), std::string::npos);
  EXPECT_EQ(r.out.find("q1:"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "r/q3a.csv"));
  EXPECT_TRUE(fs::exists(out / "r/q3b.json"));
  EXPECT_FALSE(fs::exists(out / "r/q1.csv"));
  EXPECT_TRUE(fs::exists(out / "r/summary.json"));
  EXPECT_TRUE(fs::exists(out / "r/cleaned/pin.parquet"));
  EXPECT_FALSE(fs::exists(out / "r/p_pin_table.csv"));
}

}  // namespace
}  // namespace pinpipe::testing
