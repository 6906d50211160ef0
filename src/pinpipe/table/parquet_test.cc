#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "pinpipe/table/encoding.h"
#include "pinpipe/table/parquet_reader.h"
#include "pinpipe/table/parquet_writer.h"

namespace pinpipe::table {
namespace {

Schema AllTypes() {
  return Schema{{{"b", ColumnType::kBoolean, true},
                 {"i", ColumnType::kInt32, true},
                 {"l", ColumnType::kInt64, false},
                 {"d", ColumnType::kDouble, true},
                 {"s", ColumnType::kString, true},
                 {"ts", ColumnType::kTimestampMicros, true},
                 {"coords", ColumnType::kDoubleList, true}}};
}

RecordBatch MakeBatch(size_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  RecordBatch b(AllTypes());
  const char* cats[] = {"art", "beauty", "diy", "travel", ""};
  for (size_t r = 0; r < rows; ++r) {
    auto null = [&] { return rng() % 5 == 0; };
    null() ? b.columns[0].AppendNull() : b.columns[0].AppendBool(rng() % 2);
    null() ? b.columns[1].AppendNull() : b.columns[1].AppendInt32(static_cast<int32_t>(rng()));
    b.columns[2].AppendInt64(static_cast<int64_t>(r) * 1'000'003 - 77);
    null() ? b.columns[3].AppendNull() : b.columns[3].AppendDouble((rng() % 20000) / 7.0 - 900);
    if (null()) {
      b.columns[4].AppendNull();
    } else {
      b.columns[4].AppendString(cats[rng() % 5]);
    }
    null() ? b.columns[5].AppendNull()
           : b.columns[5].AppendInt64(1'600'000'000'000'000 + static_cast<int64_t>(rng()));
    switch (rng() % 4) {
      case 0:
        b.columns[6].AppendNull();
        break;
      case 1:
        b.columns[6].AppendList({});
        break;
      case 2: {
        std::vector<std::optional<double>> v = {1.5, std::nullopt, -3.25};
        b.columns[6].AppendListWithNulls(v);
        break;
      }
      default: {
        double v[] = {static_cast<double>(r), -static_cast<double>(r) / 3};
        b.columns[6].AppendList(v);
      }
    }
  }
  return b;
}

void ExpectSame(const RecordBatch& a, const RecordBatch& b) {
  ASSERT_EQ(a.schema, b.schema);
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (size_t c = 0; c < a.columns.size(); ++c) {
    const Column& x = a.columns[c];
    const Column& y = b.columns[c];
    for (size_t r = 0; r < a.num_rows(); ++r) {
      ASSERT_EQ(x.IsNull(r), y.IsNull(r)) << "col " << c << " row " << r;
      if (x.IsNull(r)) continue;
      switch (x.type()) {
        case ColumnType::kBoolean:
          ASSERT_EQ(x.GetBool(r), y.GetBool(r));
          break;
        case ColumnType::kInt32:
          ASSERT_EQ(x.GetInt32(r), y.GetInt32(r));
          break;
        case ColumnType::kInt64:
        case ColumnType::kTimestampMicros:
          ASSERT_EQ(x.GetInt64(r), y.GetInt64(r));
          break;
        case ColumnType::kDouble:
          ASSERT_EQ(x.GetDouble(r), y.GetDouble(r));
          break;
        case ColumnType::kString:
          ASSERT_EQ(x.GetString(r), y.GetString(r));
          break;
        case ColumnType::kDoubleList:
          ASSERT_EQ(x.ListEnd(r) - x.ListBegin(r), y.ListEnd(r) - y.ListBegin(r)) << r;
          for (size_t k = 0; k < x.ListEnd(r) - x.ListBegin(r); ++k) {
            ASSERT_EQ(x.ListValueIsNull(x.ListBegin(r) + k), y.ListValueIsNull(y.ListBegin(r) + k));
            if (!x.ListValueIsNull(x.ListBegin(r) + k)) {
              ASSERT_EQ(x.ListValue(x.ListBegin(r) + k), y.ListValue(y.ListBegin(r) + k));
            }
          }
          break;
      }
    }
  }
}

TEST(RleTest, RoundTripsMixedRunsAndLiterals) {
  std::mt19937 rng(7);
  for (int bw : {1, 2, 3, 7, 13}) {
    std::vector<uint32_t> v;
    for (int i = 0; i < 5000; ++i) {
      uint32_t x = rng() & ((1u << bw) - 1);
      size_t rep = rng() % 3 == 0 ? rng() % 40 : 1;
      v.insert(v.end(), rep, x);
    }
    std::string enc;
    RleEncode(v.data(), v.size(), bw, &enc);
    std::vector<uint32_t> dec(v.size());
    ASSERT_TRUE(RleDecode(enc, bw, v.size(), dec.data()).ok());
    EXPECT_EQ(v, dec) << bw;
  }
}

TEST(ParquetWriterTest, RoundTripsEveryTypeAndCodec) {
  RecordBatch batch = MakeBatch(3000, 1);
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kZstd}) {
    WriterOptions o;
    o.codec = codec;
    o.page_bytes = 4096;         // many pages
    o.row_group_bytes = 40'000;  // several row groups
    auto file = WriteParquet(batch, o);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto f = ParquetFile::Open(*file);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_GT(f->num_row_groups(), 1);
    EXPECT_EQ(f->num_rows(), 3000);
    auto back = f->ReadAll();
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectSame(batch, *back);
  }
}

// Streaming out: the bytes taken after each write, then Finish's tail, are
// exactly the file the same writes give without TakeBytes, and it reads back.
TEST(ParquetWriterTest, TakeBytesStreamsTheSameFile) {
  RecordBatch batch = MakeBatch(3000, 2);
  WriterOptions o;
  o.page_bytes = 4096;
  o.row_group_bytes = 40'000;
  auto write = [&](bool take, int* takes_with_bytes) {
    auto writer = ParquetWriter::Create(batch.schema, o);
    EXPECT_TRUE(writer.ok());
    std::string file, reused = "stale bytes that must not reach the file";
    for (size_t begin = 0; begin < 3000; begin += 250) {
      RecordBatch slice(batch.schema);
      for (size_t c = 0; c < batch.columns.size(); ++c) {
        slice.columns[c].AppendFrom(batch.columns[c], begin, begin + 250);
      }
      EXPECT_TRUE((*writer)->Write(slice).ok());
      if (take) {
        // Both forms: a new string, and into a buffer passed back each time.
        std::string bytes;
        if (begin % 500 == 0) {
          bytes = (*writer)->TakeBytes();
        } else {
          (*writer)->TakeBytes(&reused);
          bytes = reused;
        }
        *takes_with_bytes += bytes.empty() ? 0 : 1;
        file += bytes;
      }
    }
    auto tail = (*writer)->Finish();
    EXPECT_TRUE(tail.ok());
    return file + *tail;
  };
  int takes = 0;
  std::string streamed = write(true, &takes);
  std::string whole = write(false, &takes);
  EXPECT_GT(takes, 2);  // row groups left while writing, not at the end
  EXPECT_TRUE(streamed == whole) << streamed.size() << " vs " << whole.size() << " bytes";
  auto f = ParquetFile::Open(streamed);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_GT(f->num_row_groups(), 2);
  auto back = f->ReadAll();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSame(batch, *back);
}

TEST(ParquetWriterTest, DictionaryForRepetitiveStringsPlainForUnique) {
  RecordBatch b(Schema{{{"cat", ColumnType::kString}, {"id", ColumnType::kString}}});
  for (int i = 0; i < 5000; ++i) {
    b.columns[0].AppendString(i % 3 ? "travel" : "art");
    b.columns[1].AppendString("id-" + std::to_string(i));
  }
  auto file = WriteParquet(b);
  ASSERT_TRUE(file.ok());
  auto f = ParquetFile::Open(*file);
  ASSERT_TRUE(f.ok());
  const auto& cols = f->metadata().row_groups[0].columns;
  EXPECT_GE(cols[0].meta_data.dictionary_page_offset, 4);
  EXPECT_LT(cols[1].meta_data.dictionary_page_offset, 0);
  EXPECT_EQ(cols[0].meta_data.statistics.min_value, "art");
  EXPECT_EQ(cols[0].meta_data.statistics.max_value, "travel");
  EXPECT_EQ(cols[1].meta_data.statistics.null_count, 0);
  auto back = f->ReadAll();
  ASSERT_TRUE(back.ok());
  ExpectSame(b, *back);
}

TEST(ParquetWriterTest, StatisticsAndColumnStats) {
  RecordBatch b(Schema{{{"x", ColumnType::kInt64}, {"d", ColumnType::kDouble}}});
  b.columns[0].AppendInt64(5);
  b.columns[0].AppendNull();
  b.columns[0].AppendInt64(-9);
  b.columns[1].AppendDouble(std::nan(""));
  b.columns[1].AppendDouble(0.0);
  b.columns[1].AppendDouble(2.5);
  auto w = ParquetWriter::Create(b.schema);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(b).ok());
  auto file = (*w)->Finish();
  ASSERT_TRUE(file.ok());
  const auto& st = (*w)->column_stats();
  EXPECT_EQ(st[0].null_count, 1);
  EXPECT_EQ(st[0].min_int, -9);
  EXPECT_EQ(st[0].max_int, 5);
  EXPECT_EQ(st[1].min_double, 0.0);
  EXPECT_TRUE(std::signbit(st[1].min_double));  // -0.0 per parquet-format
  EXPECT_EQ(st[1].max_double, 2.5);
}

TEST(ParquetWriterTest, RejectsNullInRequiredColumnAndBadSchema) {
  RecordBatch b(Schema{{{"x", ColumnType::kInt64, false}}});
  b.columns[0].AppendNull();
  EXPECT_EQ(WriteParquet(b).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParquetWriter::Create(Schema{}).ok());
  EXPECT_FALSE(
      ParquetWriter::Create(Schema{{{"a", ColumnType::kInt64}, {"a", ColumnType::kInt64}}}).ok());
}

// A RecordBatch's columns in ColumnView's layout (bitmaps, 64-bit offsets),
// owned here, for WriteRowGroup.
struct ViewArrays {
  std::vector<std::vector<uint64_t>> valid, element_valid, offsets;
  std::vector<ColumnView> views;

  static std::vector<uint64_t> Bits(size_t n, const std::function<bool(size_t)>& bit) {
    std::vector<uint64_t> words((n + 63) / 64, 0);
    for (size_t i = 0; i < n; ++i) {
      if (bit(i)) words[i / 64] |= uint64_t{1} << (i % 64);
    }
    return words;
  }

  explicit ViewArrays(const RecordBatch& b) {
    const size_t n = b.columns.size();
    valid.resize(n);
    element_valid.resize(n);
    offsets.resize(n);
    for (size_t c = 0; c < n; ++c) {
      const Column& col = b.columns[c];
      ColumnView v;
      v.size = col.size();
      valid[c] = Bits(col.size(), [&](size_t r) { return !col.IsNull(r); });
      v.valid = valid[c].data();
      v.b = col.fixed8().data();
      v.i32 = col.i32().data();
      v.i64 = col.i64().data();
      v.f64 = col.f64().data();
      if (col.type() == ColumnType::kString || col.type() == ColumnType::kDoubleList) {
        offsets[c].assign(col.offsets().begin(), col.offsets().end());
        v.offsets = offsets[c].data();
        v.bytes = col.bytes().data();
      }
      if (col.type() == ColumnType::kDoubleList) {
        element_valid[c] =
            Bits(col.fixed8().size(), [&](size_t i) { return !col.ListValueIsNull(i); });
        v.element_valid = element_valid[c].data();
      }
      views.push_back(v);
    }
  }
};

RecordBatch Gather(const RecordBatch& b, const std::vector<uint32_t>& rows) {
  RecordBatch out(b.schema);
  for (uint32_t r : rows) {
    for (size_t c = 0; c < b.columns.size(); ++c) out.columns[c].AppendFrom(b.columns[c], r, r + 1);
  }
  return out;
}

// Chosen rows (out of order, repeated) of caller-owned arrays read back as
// the same rows of the batch they came from, after rows that Write buffered.
TEST(ParquetWriterTest, RowGroupsFromColumnViews) {
  RecordBatch batch = MakeBatch(3000, 3);
  ViewArrays arrays(batch);
  std::mt19937 rng(4);
  std::vector<uint32_t> rows;
  for (int i = 0; i < 2500; ++i) rows.push_back(rng() % 3000);
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy}) {
    WriterOptions o;
    o.codec = codec;
    o.page_bytes = 4096;
    auto w = ParquetWriter::Create(batch.schema, o);
    ASSERT_TRUE(w.ok());
    RecordBatch head = Gather(batch, {7, 8, 9});
    ASSERT_TRUE((*w)->Write(head).ok());
    ASSERT_TRUE((*w)->WriteRowGroup(arrays.views, rows).ok());
    ASSERT_TRUE((*w)->WriteRowGroup(arrays.views, {}).ok());  // no rows: no row group
    auto file = (*w)->Finish();
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto f = ParquetFile::Open(*file);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->num_row_groups(), 2);
    auto back = f->ReadAll();
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    RecordBatch want = head;
    ASSERT_TRUE(want.Append(Gather(batch, rows)).ok());
    ExpectSame(want, *back);
    EXPECT_EQ((*w)->column_stats()[1].null_count,
              static_cast<int64_t>(want.columns[1].null_count()));
  }
}

// Strings given as codes into the caller's dictionary: a dictionary page of
// only the entries the rows use (so min/max are theirs), PLAIN when nearly
// every value is distinct; the values read back either way.
TEST(ParquetWriterTest, CodedStringsUseTheirDictionary) {
  const std::vector<std::string> entries = {"zeta", "art", "beauty", "aardvark", "travel"};
  std::vector<uint64_t> dict_offsets = {0};
  std::string dict_bytes;
  for (const auto& e : entries) {
    dict_bytes += e;
    dict_offsets.push_back(dict_bytes.size());
  }
  // Codes 1 (art), 2 (beauty), 4 (travel) and nulls; entries 0 and 3 unused.
  std::vector<int32_t> codes;
  std::vector<uint64_t> valid(2, 0);
  for (uint32_t r = 0; r < 100; ++r) {
    const bool null = r % 10 == 3;
    codes.push_back(null ? -1 : std::vector<int32_t>{1, 2, 4}[r % 3]);
    if (!null) valid[r / 64] |= uint64_t{1} << (r % 64);
  }
  ColumnView v;
  v.size = codes.size();
  v.valid = valid.data();
  v.codes = codes.data();
  v.dict_offsets = dict_offsets.data();
  v.dict_bytes = dict_bytes.data();
  v.dict_size = entries.size();
  std::vector<uint32_t> rows(100);
  for (uint32_t r = 0; r < 100; ++r) rows[r] = r;
  Schema schema{{{"cat", ColumnType::kString}}};
  auto w = ParquetWriter::Create(schema);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->WriteRowGroup({&v, 1}, rows).ok());
  // Mostly distinct: 64 rows over 64 entries.
  std::vector<int32_t> distinct_codes(64);
  std::vector<uint64_t> distinct_offsets = {0};
  std::string distinct_bytes;
  for (int i = 0; i < 64; ++i) {
    distinct_codes[i] = 63 - i;
    distinct_bytes += "v" + std::to_string(i);
    distinct_offsets.push_back(distinct_bytes.size());
  }
  ColumnView d;
  d.size = 64;
  d.codes = distinct_codes.data();
  d.dict_offsets = distinct_offsets.data();
  d.dict_bytes = distinct_bytes.data();
  d.dict_size = 64;
  ASSERT_TRUE((*w)->WriteRowGroup({&d, 1}, std::span(rows).first(64)).ok());
  auto file = (*w)->Finish();
  ASSERT_TRUE(file.ok());
  auto f = ParquetFile::Open(*file);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->num_row_groups(), 2);
  const auto& coded = f->metadata().row_groups[0].columns[0].meta_data;
  EXPECT_GE(coded.dictionary_page_offset, 4);
  EXPECT_EQ(coded.statistics.min_value, "art");
  EXPECT_EQ(coded.statistics.max_value, "travel");
  EXPECT_EQ(coded.statistics.null_count, 10);
  const auto& plain = f->metadata().row_groups[1].columns[0].meta_data;
  EXPECT_LT(plain.dictionary_page_offset, 0);
  EXPECT_EQ(plain.statistics.min_value, "v0");
  EXPECT_EQ(plain.statistics.max_value, "v9");
  auto back = f->ReadAll();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const Column& got = back->columns[0];
  ASSERT_EQ(got.size(), 164u);
  for (size_t r = 0; r < 100; ++r) {
    ASSERT_EQ(got.IsNull(r), codes[r] < 0) << r;
    if (codes[r] >= 0) {
      EXPECT_EQ(got.GetString(r), entries[codes[r]]) << r;
    }
  }
  for (size_t r = 0; r < 64; ++r) EXPECT_EQ(got.GetString(100 + r), "v" + std::to_string(63 - r));
}

TEST(ParquetWriterTest, ColumnViewsOutOfRangeAreRefused) {
  std::vector<int64_t> values = {1, 2, 3};
  std::vector<uint64_t> one_null = {0b101};
  ColumnView v;
  v.size = 3;
  v.i64 = values.data();
  Schema schema{{{"x", ColumnType::kInt64, false}}};
  auto w = ParquetWriter::Create(schema);
  ASSERT_TRUE(w.ok());
  const std::vector<uint32_t> past = {0, 3};
  EXPECT_EQ((*w)->WriteRowGroup({&v, 1}, past).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->WriteRowGroup({}, std::vector<uint32_t>{0}).code(), StatusCode::kInvalidArgument);
  v.valid = one_null.data();
  EXPECT_EQ((*w)->WriteRowGroup({&v, 1}, std::vector<uint32_t>{0, 1}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE((*w)->WriteRowGroup({&v, 1}, std::vector<uint32_t>{0, 2}).ok());
  std::vector<int32_t> codes = {0, 5};
  std::vector<uint64_t> dict_offsets = {0, 1};
  ColumnView s;
  s.size = 2;
  s.codes = codes.data();
  s.dict_offsets = dict_offsets.data();
  s.dict_bytes = "a";
  s.dict_size = 1;
  auto ws = ParquetWriter::Create(Schema{{{"s", ColumnType::kString}}});
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ((*ws)->WriteRowGroup({&s, 1}, std::vector<uint32_t>{0, 1}).code(),
            StatusCode::kInvalidArgument);
}

// With min_compression_saving, a column of random bytes is written
// UNCOMPRESSED (and not tried again for the next 15 row groups) while a
// repetitive one stays snappy; both read back.
TEST(ParquetWriterTest, IncompressibleColumnsAreWrittenUncompressed) {
  std::mt19937 rng(5);
  RecordBatch b(Schema{{{"noise", ColumnType::kString}, {"text", ColumnType::kString}}});
  for (int i = 0; i < 20 * 300; ++i) {
    std::string noise(24, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    b.columns[0].AppendString(noise);
    b.columns[1].AppendString("a fairly long text that repeats itself, row " + std::to_string(i));
  }
  WriterOptions o;
  o.min_compression_saving = 0.125;
  auto w = ParquetWriter::Create(b.schema, o);
  ASSERT_TRUE(w.ok());
  for (size_t begin = 0; begin < b.num_rows(); begin += 300) {
    RecordBatch slice(b.schema);
    for (size_t c = 0; c < 2; ++c) slice.columns[c].AppendFrom(b.columns[c], begin, begin + 300);
    ASSERT_TRUE((*w)->WriteRowGroups(slice).ok());
  }
  auto file = (*w)->Finish();
  ASSERT_TRUE(file.ok());
  auto f = ParquetFile::Open(*file);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->num_row_groups(), 20);
  for (int g = 0; g < 20; ++g) {
    const auto& cols = f->metadata().row_groups[g].columns;
    EXPECT_EQ(cols[0].meta_data.codec, parquet::kUncompressed) << g;
    EXPECT_EQ(cols[0].meta_data.total_compressed_size, cols[0].meta_data.total_uncompressed_size);
    EXPECT_EQ(cols[1].meta_data.codec, parquet::kSnappy) << g;
    EXPECT_LT(cols[1].meta_data.total_compressed_size * 2,
              cols[1].meta_data.total_uncompressed_size);
  }
  auto back = f->ReadAll();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSame(b, *back);
  // Without the option every chunk has the codec asked for.
  auto plain = ParquetFile::Open(WriteParquet(b).value());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->metadata().row_groups[0].columns[0].meta_data.codec, parquet::kSnappy);
}

TEST(ParquetReaderTest, CorruptInputIsDataLossNotACrash) {
  auto file = WriteParquet(MakeBatch(200, 3));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ParquetFile::Open("nope").status().code(), StatusCode::kDataLoss);
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    std::string bad = *file;
    for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    auto f = ParquetFile::Open(bad);
    if (f.ok()) (void)f->ReadAll();  // must not crash
    auto t = ParquetFile::Open(bad.substr(0, rng() % bad.size()));
    EXPECT_FALSE(t.ok() && t->ReadAll().ok() && t->num_rows() != 200);
  }
}

TEST(NestedParquetTest, JsonRowsRoundTrip) {
  std::vector<NestedField> fields = {
      NestedField::Struct("txn", {NestedField::String("appId"), NestedField::Int64("version")}),
      NestedField::Struct("add", {NestedField::String("path"), NestedField::StringMap("pv"),
                                  NestedField::Int64("size"), NestedField::Bool("dataChange")}),
      NestedField::Struct("meta",
                          {NestedField::StringList("cols"),
                           NestedField::Struct("format", {NestedField::String("provider"),
                                                          NestedField::StringMap("opts")})}),
      NestedField::Int32("n")};
  std::vector<nlohmann::json> rows = {
      {{"txn", {{"appId", "q1"}, {"version", 7}}}},
      {{"add",
        {{"path", "a.parquet"},
         {"pv", {{"k", "v"}, {"k2", nullptr}}},
         {"size", 10},
         {"dataChange", true}}}},
      {{"add",
        {{"path", "b.parquet"},
         {"pv", nlohmann::json::object()},
         {"size", 11},
         {"dataChange", false}}}},
      {{"meta",
        {{"cols", {"x", "y"}}, {"format", {{"provider", "parquet"}, {"opts", {{"a", "1"}}}}}}},
       {"n", 3}},
      {{"meta", {{"cols", nlohmann::json::array()}, {"format", nullptr}}}},
  };
  auto file = WriteNestedParquet(fields, rows);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto f = ParquetFile::Open(*file);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto back = f->ReadJsonRows();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), rows.size());
  EXPECT_EQ((*back)[0]["txn"]["appId"], "q1");
  EXPECT_EQ((*back)[0]["txn"]["version"], 7);
  EXPECT_TRUE((*back)[0]["add"].is_null());
  EXPECT_EQ((*back)[1]["add"]["pv"], (nlohmann::json{{"k", "v"}, {"k2", nullptr}}));
  EXPECT_EQ((*back)[1]["add"]["dataChange"], true);
  EXPECT_EQ((*back)[2]["add"]["pv"], nlohmann::json::object());
  EXPECT_EQ((*back)[3]["meta"]["cols"], (nlohmann::json{"x", "y"}));
  EXPECT_EQ((*back)[3]["meta"]["format"]["opts"]["a"], "1");
  EXPECT_EQ((*back)[3]["n"], 3);
  EXPECT_EQ((*back)[4]["meta"]["cols"], nlohmann::json::array());
  EXPECT_TRUE((*back)[4]["meta"]["format"].is_null());
  EXPECT_TRUE((*back)[4]["n"].is_null());
  // Only the selected columns (a Delta checkpoint reader skips Spark's extra ones).
  auto some = f->ReadJsonRows({"txn.version", "add.size", "add.pv", "n"});
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ(some->size(), rows.size());
  EXPECT_EQ((*some)[0],
            (nlohmann::json{{"txn", {{"version", 7}}}, {"add", nullptr}, {"n", nullptr}}));
  EXPECT_EQ((*some)[1]["add"],
            (nlohmann::json{{"pv", {{"k", "v"}, {"k2", nullptr}}}, {"size", 10}}));
  EXPECT_EQ((*some)[2]["add"], (nlohmann::json{{"pv", nlohmann::json::object()}, {"size", 11}}));
  EXPECT_FALSE((*some)[3].contains("meta"));
  EXPECT_EQ((*some)[3]["n"], 3);
}

}  // namespace
}  // namespace pinpipe::table
