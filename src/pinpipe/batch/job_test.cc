#include "pinpipe/batch/job.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "memory_object_store.h"
#include "pinpipe/base/gzip.h"
#include "pinpipe/clean/schema.h"
#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::batch {
namespace {

using MemoryStore = testing::MemoryObjectStore;
using Op = testing::MemoryObjectStore::Op;

std::string Key(const std::string& topic, int partition, int offset, const char* ext = ".json") {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%010d", offset);
  return "topics/" + topic + "/partition=" + std::to_string(partition) + "/" + topic + "+" +
         std::to_string(partition) + "+" + buf + ext;
}

TEST(LoadTest, ReadsPlainAndGzipInKeyOrderAndKeepsFirstArrival) {
  MemoryStore store;
  // Offsets 0 and 2 of partition 0: offset 0 arrives first, whatever the write order.
  store.Add(Key("p.user", 0, 2), "{\"ind\": 1, \"first_name\": \"Second\", \"age\": 40}\n");
  store.Add(Key("p.user", 0, 0, ".json.gz"),
            *Gzip("{\"ind\": 1, \"first_name\": \"First\", \"age\": 30}\n"
                  "{\"ind\": 2, \"first_name\": \"Two\", \"age\": \"old\"}\n"));
  store.Add(Key("p.user", 0, 5, ".json.gz"), "this is not gzip");
  store.Add(Key("p.user", 0, 9, ".txt"), "ignored: not a data object");
  store.Add(Key("other.user", 0, 0), "{\"ind\": 99}\n");  // another prefix
  store.Add(Key("p.pin", 0, 0), "{\"index\": 1, \"follower_count\": \"2x\"}\n");
  LoadOptions options;
  options.prefix = "p";
  options.threads = 2;
  auto loaded = LoadCleanTables(store, options);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const frame::Table& user = loaded->tables.user;
  ASSERT_EQ(user.num_rows(), 1u);
  EXPECT_EQ(user.Get("user_name").StringAt(0), "First");
  EXPECT_EQ(user.Get("age").Int64At(0), 30);
  const TableStats& us = loaded->stats[2];
  EXPECT_EQ(us.objects, 3);
  EXPECT_EQ(us.records, 4);   // 3 lines + 1 unreadable object
  EXPECT_EQ(us.rejected, 2);  // age "old", the corrupt gzip
  EXPECT_EQ(us.duplicates, 1);
  EXPECT_EQ(loaded->stats[1].objects, 0);
  EXPECT_EQ(loaded->follower_count_rejected, 1);
  ASSERT_EQ(loaded->rejects.size(), 3u);
  // Rejects come in arrival order with their source position.
  EXPECT_EQ(loaded->rejects[0].table, clean::TableKind::kPin);
  EXPECT_TRUE(loaded->rejects[0].row_kept);
  EXPECT_EQ(loaded->rejects[1].source, Key("p.user", 0, 0, ".json.gz"));
  EXPECT_EQ(loaded->rejects[1].position, 2);
  EXPECT_EQ(loaded->rejects[2].source, Key("p.user", 0, 5, ".json.gz"));
  EXPECT_NE(loaded->rejects[2].reason.find("unreadable object"), std::string::npos);
}

TEST(LoadTest, ManyObjectsAcrossGroupsEqualOneThread) {
  MemoryStore store;
  // 1,500 one-record objects (the seed's flush.size=1 layout) over 3 partitions.
  for (int i = 0; i < 1500; ++i) {
    std::string rec = "{\"index\": " + std::to_string(i % 700) + ", \"category\": \"c" +
                      std::to_string(i % 13) + "\", \"follower_count\": \"" + std::to_string(i) +
                      "k\"}\n";
    store.Add(Key("p.pin", i % 3, i), rec);
  }
  LoadOptions one, two;
  one.prefix = two.prefix = "p";
  one.threads = 1;
  two.threads = 2;
  auto a = LoadCleanTables(store, one);
  auto b = LoadCleanTables(store, two);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(a->tables.pin.num_rows(), 700u);
  ASSERT_EQ(b->tables.pin.num_rows(), 700u);
  EXPECT_EQ(a->stats[0].duplicates, 800);
  for (size_t r = 0; r < 700; ++r) {
    EXPECT_EQ(a->tables.pin.Get("ind").Int64At(r), b->tables.pin.Get("ind").Int64At(r));
    EXPECT_EQ(a->tables.pin.Get("follower_count").Int64At(r),
              b->tables.pin.Get("follower_count").Int64At(r));
    EXPECT_EQ(a->tables.pin.Get("category").StringAt(r), b->tables.pin.Get("category").StringAt(r));
  }
}

// Table files left writing (finish_tables = false) and completed by
// FinishTables are the files LoadCleanTables completes itself, byte for byte,
// with the de-duplicated rows; across many groups, so that tables handed back
// to the cleaners are reused.
TEST(LoadTest, TableFilesFinishedLaterAreTheSameFiles) {
  MemoryStore store;
  for (int i = 0; i < 1500; ++i) {
    store.Add(Key("p.pin", i % 3, i), "{\"index\": " + std::to_string(i % 700) +
                                          ", \"category\": \"c" + std::to_string(i % 13) +
                                          "\", \"title\": \"t" + std::to_string(i) + "\"}\n");
  }
  store.Add(Key("p.user", 0, 0), "{\"ind\": 1, \"first_name\": \"A\", \"age\": 20}\n");
  auto dir = std::filesystem::temp_directory_path() /
             ("batch_job_later_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::map<std::string, std::string> files[2];
  for (int later = 0; later < 2; ++later) {
    LoadOptions options;
    options.prefix = "p";
    options.tables_dir = (dir / std::to_string(later)).string();
    options.finish_tables = later == 0;
    options.columns = clean::ColumnSet::kQueryOnly;
    auto loaded = LoadCleanTables(store, options);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->table_files != nullptr, later == 1);
    ASSERT_TRUE(FinishTables(&*loaded).ok());
    EXPECT_EQ(loaded->table_files, nullptr);
    EXPECT_TRUE(FinishTables(&*loaded).ok());  // nothing left to finish
    EXPECT_EQ(loaded->stats[0].rows, 700);
    EXPECT_EQ(loaded->stats[0].duplicates, 800);
    for (const char* t : {"pin", "geo", "user"}) {
      std::ifstream in(std::filesystem::path(options.tables_dir) / (std::string(t) + ".parquet"),
                       std::ios::binary);
      files[later][t] = std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(files[0] == files[1]);
  auto pin = table::ParquetFile::Open(files[1]["pin"]);
  ASSERT_TRUE(pin.ok()) << pin.status().ToString();
  EXPECT_EQ(pin->num_rows(), 700);
  auto rows = pin->ReadAll();
  ASSERT_TRUE(rows.ok());
  // The rows (first arrivals, in arrival order) of the in-memory path.
  LoadOptions memory;
  memory.prefix = "p";
  auto want = LoadCleanTables(store, memory);
  ASSERT_TRUE(want.ok());
  ASSERT_EQ(want->tables.pin.num_rows(), 700u);
  const int title = rows->schema.FindField("title");
  for (size_t r = 0; r < 700; ++r) {
    EXPECT_EQ(rows->columns[0].GetInt64(r), want->tables.pin.Get("ind").Int64At(r)) << r;
    EXPECT_EQ(rows->columns[title].GetString(r), want->tables.pin.Get("title").StringAt(r)) << r;
  }
}

TEST(LoadTest, NoDataAndUnreachableStoreAreClearErrors) {
  MemoryStore store;
  store.Add(Key("other.pin", 0, 0), "{\"index\": 1}\n");
  LoadOptions options;
  options.prefix = "p";
  auto none = LoadCleanTables(store, options);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("p.{pin,geo,user}"), std::string::npos);
  store.SetFault(Op::kList, UnavailableError("connection refused"));
  auto down = LoadCleanTables(store, options);
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(down.status().message().find("connection refused"), std::string::npos);
}

TEST(RunBatchJobTest, WritesResultsTablesRejectsAndSummary) {
  MemoryStore store;
  store.Add(Key("p.pin", 0, 0),
            "{\"index\": 1, \"category\": \"art\", \"poster_name\": \"A, \\\"B\\\"\", "
            "\"follower_count\": \"5k\", \"title\": \"\"}\n{\"index\": 1}\nnope\n");
  store.Add(Key("p.geo", 0, 0),
            "{\"ind\": 1, \"country\": \"Chad\", \"timestamp\": \"2019-01-01 00:00:00\", "
            "\"latitude\": 1.25, \"longitude\": -3}\n");
  store.Add(Key("p.user", 0, 0),
            "{\"ind\": 1, \"first_name\": \"A\", \"age\": 22, \"date_joined\": "
            "\"2016-01-01T00:00:00\"}\n");
  auto dir =
      std::filesystem::temp_directory_path() / ("batch_job_test_" + std::to_string(::getpid()));
  JobOptions options;
  options.load.prefix = "p";
  options.out_dir = dir.string();
  std::ostringstream terminal;
  options.terminal = &terminal;
  auto report = RunBatchJob(store, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->results.size(), 9u);
  auto read = [&](const std::string& name) {
    std::ifstream in(dir / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  EXPECT_EQ(read("q1.csv"), "country,category,category_count\nChad,art,1\n");
  EXPECT_EQ(read("q1.json"),
            "[\n {\"country\": \"Chad\", \"category\": \"art\", \"category_count\": 1}\n]\n");
  EXPECT_EQ(read("q3a.csv"), "country,poster_name,follower_count\nChad,\"A, \"\"B\"\"\",5000\n");
  EXPECT_EQ(read("q6.csv"), "post_year,number_users_joined\n2016,1\n");
  // The cleaned tables are Parquet in the spec's types; read them back.
  auto parquet = [&](const std::string& name) {
    auto file = table::ParquetFile::Open(read("cleaned/" + name + ".parquet"));
    EXPECT_TRUE(file.ok()) << name << ": " << file.status().ToString();
    auto rows = file->ReadAll();
    EXPECT_TRUE(rows.ok()) << name << ": " << rows.status().ToString();
    return std::move(rows).value();
  };
  table::RecordBatch geo = parquet("geo");
  EXPECT_EQ(geo.schema, clean::CleanedSchema(clean::TableKind::kGeo));
  ASSERT_EQ(geo.num_rows(), 1u);
  EXPECT_EQ(geo.columns[0].GetInt64(0), 1);
  EXPECT_EQ(geo.columns[1].GetString(0), "Chad");
  ASSERT_EQ(geo.columns[2].ListEnd(0) - geo.columns[2].ListBegin(0), 2u);
  EXPECT_EQ(geo.columns[2].ListValue(geo.columns[2].ListBegin(0)), 1.25);
  EXPECT_EQ(geo.columns[2].ListValue(geo.columns[2].ListBegin(0) + 1), -3.0);
  EXPECT_EQ(geo.columns[3].GetInt64(0), 1546300800000000);  // 2019-01-01 00:00:00 UTC
  table::RecordBatch pin = parquet("pin");
  EXPECT_EQ(pin.schema, clean::CleanedSchema(clean::TableKind::kPin));
  ASSERT_EQ(pin.num_rows(), 1u);                // the duplicate and the non-object are gone
  EXPECT_EQ(pin.columns[4].GetInt64(0), 5000);  // follower_count "5k"
  EXPECT_EQ(pin.columns[5].GetString(0), "A, \"B\"");
  EXPECT_TRUE(pin.columns[2].IsNull(0));  // title "" -> null
  EXPECT_TRUE(pin.columns[1].IsNull(0));  // unique_id missing
  table::RecordBatch user = parquet("user");
  EXPECT_EQ(user.schema, clean::CleanedSchema(clean::TableKind::kUser));
  ASSERT_EQ(user.num_rows(), 1u);
  EXPECT_EQ(user.columns[1].GetString(0), "A");
  EXPECT_EQ(user.columns[2].GetInt32(0), 22);
  EXPECT_EQ(user.columns[3].GetInt64(0), 1451606400000000);  // 2016-01-01T00:00:00
  EXPECT_FALSE(std::filesystem::exists(dir / "p_pin_table.csv"));
  std::string rejects = read("rejects.jsonl");
  EXPECT_NE(rejects.find("\"position\": 3, \"reason\": \"not a JSON object\""), std::string::npos);
  std::string summary = read("summary.json");
  EXPECT_NE(summary.find("\"pin\": {\"objects\": 1, \"bytes\": "), std::string::npos);
  EXPECT_NE(summary.find("\"records\": 3, \"rejected\": 1, \"duplicates_dropped\": 1, \"rows\": 1"),
            std::string::npos);
  EXPECT_NE(summary.find("\"peak_rss_bytes\": "), std::string::npos);
  EXPECT_NE(terminal.str().find("| Chad    | art      |              1 |"), std::string::npos)
      << terminal.str();
  std::filesystem::remove_all(dir);
}

// A table file that cannot be written (here a full device) fails the job with
// the file's name, whether the write fails on the writer's thread or at the end.
TEST(RunBatchJobTest, AFullDiskForATableFailsTheJob) {
  ASSERT_TRUE(std::filesystem::exists("/dev/full")) << "this test needs /dev/full";
  MemoryStore store;
  for (int i = 0; i < 700; ++i) {  // more than one group of objects
    store.Add(Key("p.pin", 0, i), "{\"index\": " + std::to_string(i) +
                                      ", \"category\": \"art\", \"title\": \"" +
                                      std::string(200, 'a' + i % 26) + "\", \"description\": \"d" +
                                      std::to_string(i * 7919) + "\"}\n");
  }
  store.Add(Key("p.geo", 0, 0), "{\"ind\": 1, \"country\": \"Chad\"}\n");
  store.Add(Key("p.user", 0, 0), "{\"ind\": 1, \"first_name\": \"A\"}\n");
  auto dir = std::filesystem::temp_directory_path() /
             ("batch_job_full_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "cleaned");
  std::filesystem::create_symlink("/dev/full", dir / "cleaned" / "pin.parquet");
  JobOptions options;
  options.load.prefix = "p";
  options.out_dir = dir.string();
  auto report = RunBatchJob(store, options);
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable) << report.status().ToString();
  EXPECT_NE(report.status().message().find("pin.parquet"), std::string::npos)
      << report.status().message();
  std::filesystem::remove_all(dir);
}

TEST(RunBatchJobTest, OneQuestionOnly) {
  MemoryStore store;
  store.Add(Key("p.user", 0, 0), "{\"ind\": 1, \"date_joined\": \"2015-05-05 05:05:05\"}\n");
  JobOptions options;
  options.load.prefix = "p";
  options.questions = {"q6"};
  auto report = RunBatchJob(store, options);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->results.size(), 1u);
  EXPECT_EQ(report->results[0].first, "q6");
  EXPECT_EQ(report->results[0].second.num_rows(), 1u);
}

}  // namespace
}  // namespace pinpipe::batch
