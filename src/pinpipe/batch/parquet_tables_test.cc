#include "pinpipe/batch/parquet_tables.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pinpipe/clean/schema.h"
#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::batch {
namespace {

using clean::TableKind;

frame::Table Users(size_t rows) {
  clean::BatchCleaner cleaner;
  for (size_t i = 0; i < rows; ++i) {
    std::string age = i % 7 == 0 ? "null" : std::to_string(20 + i % 50);
    cleaner.AddRecord(TableKind::kUser,
                      "{\"ind\": " + std::to_string(i) + ", \"first_name\": \"F" +
                          std::to_string(i % 13) + "\", \"last_name\": \"L\", \"age\": " + age +
                          ", \"date_joined\": \"2016-01-01 00:00:0" + std::to_string(i % 10) +
                          "\"}",
                      "s", static_cast<int64_t>(i));
  }
  return std::move(cleaner.Take().tables[static_cast<int>(TableKind::kUser)]);
}

TEST(ParquetTablesTest, SlicesKeepEveryRowAndNull) {
  // More rows than one conversion slice (65,536), so the slices must join up.
  const size_t n = 70'000;
  frame::Table users = Users(n);
  ASSERT_EQ(users.num_rows(), n);
  auto file = CleanedTableParquet(users, TableKind::kUser);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto parsed = table::ParquetFile::Open(*file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->num_rows(), static_cast<int64_t>(n));
  auto rows = parsed->ReadAll();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->schema, clean::CleanedSchema(TableKind::kUser));
  for (size_t i : {size_t{0}, size_t{1}, size_t{65'535}, size_t{65'536}, size_t{69'999}}) {
    EXPECT_EQ(rows->columns[0].GetInt64(i), static_cast<int64_t>(i));
    EXPECT_EQ(rows->columns[1].GetString(i), "F" + std::to_string(i % 13) + " L");
    if (i % 7 == 0) {
      EXPECT_TRUE(rows->columns[2].IsNull(i)) << i;
    } else {
      EXPECT_EQ(rows->columns[2].GetInt32(i), static_cast<int32_t>(20 + i % 50)) << i;
    }
    EXPECT_EQ(rows->columns[3].GetInt64(i),
              1451606400000000 + static_cast<int64_t>(i % 10) * 1000000);
  }
  EXPECT_EQ(rows->columns[2].null_count(), (n + 6) / 7);
}

TEST(ParquetTablesTest, AgeOutsideInt32BecomesNull) {
  clean::BatchCleaner cleaner;
  cleaner.AddRecord(TableKind::kUser, "{\"ind\": 1, \"age\": 3000000000}", "s", 1);
  cleaner.AddRecord(TableKind::kUser, "{\"ind\": 2, \"age\": -5}", "s", 2);
  frame::Table users = std::move(cleaner.Take().tables[static_cast<int>(TableKind::kUser)]);
  auto batch = ToRecordBatch(users, TableKind::kUser, 0, users.num_rows());
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->num_rows(), 2u);
  EXPECT_TRUE(batch->columns[2].IsNull(0));
  EXPECT_EQ(batch->columns[2].GetInt32(1), -5);
}

TEST(ParquetTablesTest, EmptyTableIsAValidFile) {
  frame::Table empty = clean::EmptyTable(TableKind::kGeo);
  auto file = CleanedTableParquet(empty, TableKind::kGeo);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto parsed = table::ParquetFile::Open(*file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->num_rows(), 0);
  auto schema = parsed->FlatSchema();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(*schema, clean::CleanedSchema(TableKind::kGeo));
}

// Chosen rows, into a reused batch: the same rows as the range form gives,
// whatever the batch held before; a row past the end is refused.
TEST(ParquetTablesTest, ChosenRowsIntoAReusedBatch) {
  clean::BatchCleaner cleaner;
  for (int i = 0; i < 6; ++i) {
    cleaner.AddRecord(TableKind::kUser,
                      "{\"ind\": " + std::to_string(i) + ", \"first_name\": \"n" +
                          std::to_string(i) + "\", \"age\": " + std::to_string(20 + i) + "}",
                      "s", i + 1);
  }
  frame::Table users = std::move(cleaner.Take().tables[static_cast<int>(TableKind::kUser)]);
  ASSERT_EQ(users.num_rows(), 6u);
  auto all = ToRecordBatch(users, TableKind::kUser, 0, users.num_rows());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  table::RecordBatch reused = *all;  // holds six rows before the call
  const std::vector<uint32_t> rows = {1, 4, 5};
  ASSERT_TRUE(ToRecordBatch(users, TableKind::kUser, rows, &reused).ok());
  ASSERT_TRUE(reused.Validate().ok());
  ASSERT_EQ(reused.num_rows(), 3u);
  for (size_t c = 0; c < reused.columns.size(); ++c) {
    for (size_t i = 0; i < rows.size(); ++i) {
      const table::Column& got = reused.columns[c];
      const table::Column& want = all->columns[c];
      ASSERT_EQ(got.IsNull(i), want.IsNull(rows[i])) << c << " " << i;
      if (got.IsNull(i)) continue;
      if (got.type() == table::ColumnType::kString) {
        EXPECT_EQ(got.GetString(i), want.GetString(rows[i]));
      } else if (got.type() == table::ColumnType::kInt32) {
        EXPECT_EQ(got.GetInt32(i), want.GetInt32(rows[i]));
      } else {
        EXPECT_EQ(got.GetInt64(i), want.GetInt64(rows[i]));
      }
    }
  }
  auto fresh = ToRecordBatch(users, TableKind::kUser, rows);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(table::WriteParquet(*fresh).value(), table::WriteParquet(reused).value());
  const std::vector<uint32_t> past = {2, 6};
  EXPECT_EQ(ToRecordBatch(users, TableKind::kUser, past, &reused).code(),
            StatusCode::kInvalidArgument);
}

// Encoding in place (CleanedViews) writes the same rows as converting to a
// RecordBatch first, for every table, column type and null, for chosen rows;
// an age outside the 32-bit range is null either way.
TEST(ParquetTablesTest, ViewsWriteWhatTheConversionWrites) {
  clean::BatchCleaner cleaner;
  for (int i = 0; i < 40; ++i) {
    const std::string ind = std::to_string(i);
    const std::string odd = i % 3 == 0 ? "null" : "\"x" + std::to_string(i % 4) + "\"";
    cleaner.AddRecord(
        TableKind::kPin,
        "{\"index\": " + ind + ", \"unique_id\": \"u" + ind + "\", \"title\": " + odd +
            ", \"follower_count\": \"" + std::to_string(i * 7) + "k\", \"poster_name\": " + odd +
            ", \"category\": \"c" + std::to_string(i % 5) +
            "\", \"save_location\": \"Local save in /d" + std::to_string(i % 2) + "\"}",
        "s", i);
    cleaner.AddRecord(TableKind::kGeo,
                      "{\"ind\": " + ind + ", \"country\": " + odd +
                          (i % 4 == 0 ? "" : ", \"latitude\": " + std::to_string(i * 1.5)) +
                          (i % 5 == 0 ? "" : ", \"longitude\": -" + std::to_string(i)) +
                          ", \"timestamp\": \"2020-01-0" + std::to_string(1 + i % 9) +
                          " 10:00:00\"}",
                      "s", i);
    cleaner.AddRecord(TableKind::kUser,
                      "{\"ind\": " + ind + ", \"first_name\": " + odd + ", \"age\": " +
                          (i % 6 == 0 ? "3000000000" : std::to_string(20 + i)) + "}",
                      "s", i);
  }
  clean::CleanedBatch batch = cleaner.Take();
  ASSERT_TRUE(batch.rejects.empty()) << batch.rejects[0].reason;
  const std::vector<uint32_t> rows = {39, 0, 5, 5, 12, 30, 1, 2, 3, 4, 6, 7, 8, 9};
  for (TableKind kind : clean::kAllTables) {
    const frame::Table& t = batch.tables[static_cast<int>(kind)];
    ASSERT_EQ(t.num_rows(), 40u);
    auto converted = ToRecordBatch(t, kind, rows);
    ASSERT_TRUE(converted.ok()) << converted.status().ToString();
    CleanedViews views;
    ASSERT_TRUE(views.Reset(t, kind).ok());
    auto writer = table::ParquetWriter::Create(clean::CleanedSchema(kind));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->WriteRowGroup(views.columns(), rows).ok());
    auto file = (*writer)->Finish();
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto parsed = table::ParquetFile::Open(*file);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    auto back = parsed->ReadAll();
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    auto want = table::ParquetFile::Open(table::WriteParquet(*converted).value())->ReadAll();
    ASSERT_TRUE(want.ok());
    ASSERT_EQ(back->schema, want->schema);
    ASSERT_EQ(back->num_rows(), rows.size());
    size_t nulls = 0;
    for (size_t c = 0; c < want->columns.size(); ++c) {
      const table::Column& x = back->columns[c];
      const table::Column& y = want->columns[c];
      nulls += y.null_count();
      for (size_t r = 0; r < rows.size(); ++r) {
        ASSERT_EQ(x.IsNull(r), y.IsNull(r)) << back->schema.fields[c].name << " " << r;
        if (x.IsNull(r)) continue;
        switch (x.type()) {
          case table::ColumnType::kString:
            EXPECT_EQ(x.GetString(r), y.GetString(r));
            break;
          case table::ColumnType::kInt32:
            EXPECT_EQ(x.GetInt32(r), y.GetInt32(r));
            break;
          case table::ColumnType::kDoubleList:
            ASSERT_EQ(x.ListEnd(r) - x.ListBegin(r), y.ListEnd(r) - y.ListBegin(r));
            for (size_t k = 0; k < x.ListEnd(r) - x.ListBegin(r); ++k) {
              ASSERT_EQ(x.ListValueIsNull(x.ListBegin(r) + k),
                        y.ListValueIsNull(y.ListBegin(r) + k));
              if (!x.ListValueIsNull(x.ListBegin(r) + k)) {
                EXPECT_EQ(x.ListValue(x.ListBegin(r) + k), y.ListValue(y.ListBegin(r) + k));
              }
            }
            break;
          default:
            EXPECT_EQ(x.GetInt64(r), y.GetInt64(r));
        }
      }
    }
    EXPECT_GT(nulls, 0u) << clean::TableKindName(kind);  // the nulls were exercised
    if (kind == TableKind::kUser) {
      EXPECT_TRUE(back->columns[2].IsNull(1));  // row 0: age 3,000,000,000
      EXPECT_EQ(back->columns[2].GetInt32(0), 59);
    }
  }
  CleanedViews slim;
  EXPECT_EQ(
      slim.Reset(clean::EmptyTable(TableKind::kPin, clean::ColumnSet::kQueryOnly), TableKind::kPin)
          .code(),
      StatusCode::kInvalidArgument);
}

TEST(ParquetTablesTest, QueryOnlyColumnsAreRefused) {
  frame::Table slim = clean::EmptyTable(TableKind::kPin, clean::ColumnSet::kQueryOnly);
  auto batch = ToRecordBatch(slim, TableKind::kPin, 0, 0);
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(batch.status().message().find("no column 'unique_id'"), std::string::npos)
      << batch.status().message();
}

}  // namespace
}  // namespace pinpipe::batch
