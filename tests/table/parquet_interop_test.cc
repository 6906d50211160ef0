// Parquet files written by pinpipe, read by DuckDB and parquetjs-lite: every
// column kind, every codec, with and without dictionaries, must come back
// with identical values, types and nulls.
#include <gtest/gtest.h>

#include <random>

#include "harness.h"
#include "interop.h"
#include "pinpipe/table/parquet_writer.h"

namespace pinpipe::table {
namespace {

Schema AllKinds() {
  return Schema{{{"flag", ColumnType::kBoolean, true},
                 {"age", ColumnType::kInt32, true},
                 {"ind", ColumnType::kInt64, false},
                 {"score", ColumnType::kDouble, true},
                 {"category", ColumnType::kString, true},
                 {"title", ColumnType::kString, true},
                 {"ts", ColumnType::kTimestampMicros, true},
                 {"coordinates", ColumnType::kDoubleList, true}}};
}

RecordBatch RandomBatch(size_t rows, uint32_t seed) {
  std::mt19937_64 rng(seed);
  RecordBatch b(AllKinds());
  const char* cats[] = {"art", "beauty", "diy-and-crafts", "travel", "", "événements"};
  for (size_t r = 0; r < rows; ++r) {
    auto null = [&] { return rng() % 6 == 0; };
    null() ? b.columns[0].AppendNull() : b.columns[0].AppendBool(rng() % 2);
    null() ? b.columns[1].AppendNull()
           : b.columns[1].AppendInt32(static_cast<int32_t>(rng() % 200000) - 100000);
    b.columns[2].AppendInt64(static_cast<int64_t>(rng() % (1ull << 50)) - (1ll << 49));
    null() ? b.columns[3].AppendNull()
           : b.columns[3].AppendDouble(static_cast<double>(rng() % 1000000) / 1024.0 - 400.5);
    null() ? b.columns[4].AppendNull() : b.columns[4].AppendString(cats[rng() % 6]);
    null() ? b.columns[5].AppendNull()
           : b.columns[5].AppendString("title " + std::to_string(rng()) + " \"quoted\" \\ ✓");
    null() ? b.columns[6].AppendNull()
           : b.columns[6].AppendInt64(1'500'000'000'000'000 +
                                      static_cast<int64_t>(rng() % 400'000'000'000'000));
    switch (rng() % 5) {
      case 0:
        b.columns[7].AppendNull();
        break;
      case 1:
        b.columns[7].AppendList({});
        break;
      case 2: {
        std::vector<std::optional<double>> v = {std::nullopt, -12.5};
        b.columns[7].AppendListWithNulls(v);
        break;
      }
      default: {
        double v[] = {static_cast<double>(rng() % 18000) / 100 - 90,
                      static_cast<double>(rng() % 36000) / 100 - 180};
        b.columns[7].AppendList(v);
      }
    }
  }
  return b;
}

nlohmann::json Expected(const Column& c, size_t r) {
  if (c.IsNull(r)) return nullptr;
  switch (c.type()) {
    case ColumnType::kBoolean:
      return c.GetBool(r);
    case ColumnType::kInt32:
      return c.GetInt32(r);
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      return std::to_string(c.GetInt64(r));
    case ColumnType::kDouble:
      return c.GetDouble(r);
    case ColumnType::kString:
      return std::string(c.GetString(r));
    case ColumnType::kDoubleList: {
      nlohmann::json a = nlohmann::json::array();
      for (size_t k = c.ListBegin(r); k < c.ListEnd(r); ++k) {
        a.push_back(c.ListValueIsNull(k) ? nlohmann::json(nullptr)
                                         : nlohmann::json(c.ListValue(k)));
      }
      return a;
    }
  }
  return nullptr;
}

class ParquetInteropTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(ParquetInteropTest, DuckDbReadsEveryKindAndCodecIdentically) {
  const RecordBatch batch = RandomBatch(2500, 42);
  struct Case {
    Codec codec;
    bool dictionary;
  };
  for (Case c : {Case{Codec::kSnappy, true}, Case{Codec::kZstd, true},
                 Case{Codec::kUncompressed, true}, Case{Codec::kSnappy, false}}) {
    SCOPED_TRACE(std::string(CodecName(c.codec)) + (c.dictionary ? " dict" : " plain"));
    WriterOptions o;
    o.codec = c.codec;
    o.dictionary = c.dictionary;
    o.page_bytes = 8 << 10;
    o.row_group_bytes = 64 << 10;
    auto file = WriteParquet(batch, o);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    std::string path =
        dir_ / (std::string(CodecName(c.codec)) + std::to_string(c.dictionary) + ".parquet");
    testing::WriteFile(path, *file);

    int64_t threshold = batch.columns[2].GetInt64(100);
    size_t expected = 0;
    for (size_t r = 0; r < batch.num_rows(); ++r)
      expected += batch.columns[2].GetInt64(r) > threshold;
    auto results =
        DuckDbMany({"SELECT * FROM read_parquet('" + path + "') LIMIT 0",
                    "SELECT flag, age, CAST(ind AS VARCHAR), score, category, title, "
                    "CAST(epoch_us(ts) AS VARCHAR), coordinates FROM read_parquet('" +
                        path + "', file_row_number = true) ORDER BY file_row_number",
                    // DuckDB parses our statistics: a query it can prune with still counts right.
                    "SELECT CAST(count(*) AS VARCHAR) FROM read_parquet('" + path +
                        "') WHERE ind > " + std::to_string(threshold),
                    "SELECT CAST(sum(stats_null_count) AS VARCHAR), "
                    "CAST(count(DISTINCT row_group_id) AS INTEGER) FROM parquet_metadata('" +
                        path + "') WHERE path_in_schema = 'category'"});
    const auto& types = results[0];
    const auto& got = results[1];
    const auto& count = results[2];
    const auto& meta = results[3];
    EXPECT_EQ(types["types"], (nlohmann::json{"BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "VARCHAR",
                                              "VARCHAR", "TIMESTAMP WITH TIME ZONE", "DOUBLE[]"}));
    ASSERT_EQ(got["rows"].size(), batch.num_rows());
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      for (size_t col = 0; col < batch.columns.size(); ++col) {
        ASSERT_EQ(got["rows"][r][col], Expected(batch.columns[col], r))
            << "row " << r << " column " << batch.schema.fields[col].name;
      }
    }
    EXPECT_EQ(count["rows"][0][0], std::to_string(expected));
    EXPECT_EQ(meta["rows"][0][0], std::to_string(batch.columns[4].null_count()));
    EXPECT_GT(meta["rows"][0][1].get<int>(), 1);
  }
}

TEST_F(ParquetInteropTest, DuckDbSeesMinMaxStatistics) {
  RecordBatch b(Schema{{{"x", ColumnType::kInt64},
                        {"s", ColumnType::kString},
                        {"ts", ColumnType::kTimestampMicros}}});
  for (int i = 0; i < 100; ++i) {
    b.columns[0].AppendInt64(i * 3 - 50);
    b.columns[1].AppendString(i % 2 ? "pear" : "apple");
    b.columns[2].AppendInt64(1'600'000'000'000'000 + i);
  }
  auto file = WriteParquet(b);
  ASSERT_TRUE(file.ok());
  std::string path = dir_ / "stats.parquet";
  testing::WriteFile(path, *file);
  auto meta =
      DuckDb("SELECT path_in_schema, stats_min_value, stats_max_value FROM parquet_metadata('" +
             path + "') ORDER BY column_id");
  ASSERT_EQ(meta["rows"].size(), 3u);
  EXPECT_EQ(meta["rows"][0], (nlohmann::json{"x", "-50", "247"}));
  EXPECT_EQ(meta["rows"][1], (nlohmann::json{"s", "apple", "pear"}));
  EXPECT_EQ(meta["rows"][2][0], "ts");
}

TEST_F(ParquetInteropTest, ParquetJsLiteReadsSnappyFiles) {
  const RecordBatch batch = RandomBatch(600, 7);
  WriterOptions o;
  o.codec = Codec::kSnappy;
  o.legacy_dictionary_encoding = true;  // parquetjs-lite predates RLE_DICTIONARY
  o.page_bytes = 4 << 10;
  auto file = WriteParquet(batch, o);
  ASSERT_TRUE(file.ok());
  std::string path = dir_ / "pj.parquet";
  testing::WriteFile(path, *file);
  auto rows = ParquetJs(path);
  ASSERT_EQ(rows.size(), batch.num_rows());
  for (size_t r = 0; r < batch.num_rows(); ++r) {
    const auto& row = rows[r];
    for (size_t col = 0; col < batch.columns.size(); ++col) {
      const std::string& name = batch.schema.fields[col].name;
      const Column& c = batch.columns[col];
      if (c.IsNull(r)) {
        EXPECT_FALSE(row.contains(name)) << r << " " << name;
        continue;
      }
      ASSERT_TRUE(row.contains(name)) << r << " " << name;
      const auto& v = row[name];
      switch (c.type()) {
        case ColumnType::kTimestampMicros: {
          // parquetjs-lite turns TIMESTAMP_MICROS into a JS Date (millisecond precision).
          ASSERT_TRUE(v.is_string());
          break;
        }
        case ColumnType::kInt64:
          EXPECT_EQ(v.is_string() ? v.get<std::string>() : v.dump(), std::to_string(c.GetInt64(r)));
          break;
        case ColumnType::kDoubleList: {
          nlohmann::json want = Expected(c, r), have = nlohmann::json::array();
          if (v.contains("list")) {
            for (const auto& e : v["list"])
              have.push_back(e.contains("element") ? e["element"] : nlohmann::json(nullptr));
          }
          EXPECT_EQ(have, want) << r;
          break;
        }
        default:
          EXPECT_EQ(v, Expected(c, r)) << r << " " << name;
      }
    }
  }
}

}  // namespace
}  // namespace pinpipe::table
