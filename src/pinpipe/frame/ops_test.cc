#include "pinpipe/frame/ops.h"

#include <gtest/gtest.h>

namespace pinpipe::frame {
namespace {

Column Ints(std::initializer_list<std::optional<int64_t>> values) {
  Column c(DataType::kInt64);
  for (auto v : values) {
    if (v) {
      c.AppendInt64(*v);
    } else {
      c.AppendNull();
    }
  }
  return c;
}

Column Strings(DataType type, std::initializer_list<const char*> values) {
  Column c(type);
  for (const char* v : values) {
    if (v) {
      c.AppendString(v);
    } else {
      c.AppendNull();
    }
  }
  return c;
}

TEST(ColumnTest, DictionaryInternsAndAppendRemaps) {
  Column a = Strings(DataType::kDict, {"x", "y", "x", nullptr});
  EXPECT_EQ(a.DictSize(), 2u);
  EXPECT_EQ(a.CodeAt(0), a.CodeAt(2));
  EXPECT_EQ(a.CodeAt(3), -1);
  EXPECT_TRUE(a.IsNull(3));
  Column b = Strings(DataType::kDict, {"z", "y"});
  a.AppendColumn(b);
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a.DictSize(), 3u);
  EXPECT_EQ(a.StringAt(4), "z");
  EXPECT_EQ(a.StringAt(5), "y");
  EXPECT_EQ(a.CodeAt(5), a.CodeAt(1));
  EXPECT_EQ(a.NullCount(), 1u);
}

TEST(ColumnTest, StringsListsAndTake) {
  Column s = Strings(DataType::kString, {"alpha", nullptr, "", "δ"});
  Column l(DataType::kListDouble);
  double v1[] = {1.5, 0};
  bool ok1[] = {true, false};
  l.AppendList(v1, ok1);
  l.AppendNull();
  double v2[] = {-2.0, 3.0};
  bool ok2[] = {true, true};
  l.AppendList(v2, ok2);
  std::vector<uint32_t> rows = {3, 0, 0};
  Column t = s.Take(rows);
  EXPECT_EQ(t.StringAt(0), "δ");
  EXPECT_EQ(t.StringAt(2), "alpha");
  std::vector<uint32_t> lrows = {2, 1, 0};
  Column lt = l.Take(lrows);
  EXPECT_EQ(lt.ListValue(0, 1), 3.0);
  EXPECT_TRUE(lt.IsNull(1));
  EXPECT_FALSE(lt.ListValueValid(2, 1));
  Column both = l;
  both.AppendColumn(l);
  EXPECT_EQ(both.size(), 6u);
  EXPECT_EQ(both.ListValue(5, 0), -2.0);
  EXPECT_TRUE(both.IsNull(4));
  // Strings are bytes: an empty string is not a null.
  EXPECT_FALSE(s.IsNull(2));
}

// AppendRows is AppendColumn of a Take, for every type; a dictionary gains
// only the entries of the rows taken.
TEST(ColumnTest, AppendRowsIsAppendOfTake) {
  Column l(DataType::kListDouble);
  double v1[] = {1.5, 0};
  bool ok1[] = {true, false};
  l.AppendList(v1, ok1);
  l.AppendNull();
  l.AppendList({}, {});
  double v2[] = {-2.0};
  bool ok2[] = {true};
  l.AppendList(v2, ok2);
  Column d(DataType::kDouble);
  for (double x : {0.5, -1.0, 2.0, 4.5}) d.AppendDouble(x);
  const Column sources[] = {Ints({4, std::nullopt, 6, 7}),
                            Strings(DataType::kString, {"a", nullptr, "", "dd"}),
                            Strings(DataType::kDict, {"p", "q", nullptr, "r"}), l, d};
  const std::vector<uint32_t> rows = {3, 1, 3, 0};
  for (const Column& src : sources) {
    Column want(src.type());
    if (src.type() == DataType::kDict) want.AppendString("q");
    if (src.type() == DataType::kInt64) want.AppendInt64(1);
    Column got = want;
    want.AppendColumn(src.Take(rows));
    got.AppendRows(src, rows);
    ASSERT_EQ(got.size(), want.size()) << DataTypeName(src.type());
    for (size_t r = 0; r < want.size(); ++r) {
      ASSERT_EQ(got.IsNull(r), want.IsNull(r)) << DataTypeName(src.type()) << " " << r;
      if (want.IsNull(r)) continue;
      switch (src.type()) {
        case DataType::kInt64:
        case DataType::kTimestamp:
          EXPECT_EQ(got.Int64At(r), want.Int64At(r));
          break;
        case DataType::kDouble:
          EXPECT_EQ(got.DoubleAt(r), want.DoubleAt(r));
          break;
        case DataType::kString:
        case DataType::kDict:
          EXPECT_EQ(got.StringAt(r), want.StringAt(r));
          break;
        case DataType::kListDouble:
          ASSERT_EQ(got.ListSize(r), want.ListSize(r)) << r;
          for (size_t j = 0; j < want.ListSize(r); ++j) {
            EXPECT_EQ(got.ListValueValid(r, j), want.ListValueValid(r, j));
            if (want.ListValueValid(r, j)) {
              EXPECT_EQ(got.ListValue(r, j), want.ListValue(r, j));
            }
          }
          break;
      }
    }
    if (src.type() == DataType::kDict) {
      EXPECT_EQ(got.DictSize(), 3u);  // q (there before), r, p
      EXPECT_EQ(got.CodeAt(1), got.CodeAt(3));
      EXPECT_EQ(got.CodeAt(2), 0);  // row 1 of src is "q", interned before
      Column one(DataType::kDict);
      one.AppendRows(src, std::vector<uint32_t>{3, 2});
      EXPECT_EQ(one.DictSize(), 1u);  // r only: p and q are not taken
      EXPECT_EQ(one.StringAt(0), "r");
      EXPECT_TRUE(one.IsNull(1));
    }
  }
}

TEST(OpsTest, HashJoinInnerNullsNeverMatchAndDuplicatesFanOut) {
  Column left = Ints({1, 2, std::nullopt, 3, 2});
  Column right = Ints({2, 3, 3, std::nullopt, 9});
  JoinIndices j = HashJoin(left, right);
  std::vector<uint32_t> l = {1, 3, 3, 4};
  std::vector<uint32_t> r = {0, 1, 2, 0};
  EXPECT_EQ(j.left, l);
  EXPECT_EQ(j.right, r);
}

TEST(OpsTest, GroupByCountMaxMedian) {
  Column key = Strings(DataType::kDict, {"a", "b", "a", nullptr, "a", "b", "c"});
  Column val = Ints({5, 1, 3, 100, std::nullopt, 4, std::nullopt});
  const Column* keys[] = {&key};
  Grouping g = GroupBy(keys);
  ASSERT_EQ(g.num_groups(), 3u);  // a, b, c; the null key is left out
  EXPECT_EQ(g.group_of_row[3], -1);
  EXPECT_EQ(CountPerGroup(g), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(CountPerGroup(g, &val), (std::vector<int64_t>{2, 2, 0}));
  auto mx = MaxPerGroup(g, val);
  EXPECT_EQ(mx[0], 5);
  EXPECT_EQ(mx[1], 4);
  EXPECT_EQ(mx[2], std::nullopt);
  auto med = LowerMedianPerGroup(g, val);
  EXPECT_EQ(med[0], 3);  // {3, 5}: lower median
  EXPECT_EQ(med[1], 1);  // {1, 4}
  EXPECT_EQ(med[2], std::nullopt);
}

TEST(OpsTest, LowerMedianOddEvenAndLargeParallel) {
  Column key(DataType::kInt64);
  Column val(DataType::kInt64);
  // Group 0: 1..5 (median 3); group 1: 10,20,30,40 (lower median 20).
  for (int v : {5, 1, 4, 2, 3}) {
    key.AppendInt64(0);
    val.AppendInt64(v);
  }
  for (int v : {40, 10, 30, 20}) {
    key.AppendInt64(1);
    val.AppendInt64(v);
  }
  // Big groups take the two-thread path: group 2 holds 0..(n-1), median (n-1)/2.
  const int64_t n = (1 << 20) + 7;
  for (int64_t i = n - 1; i >= 0; --i) {
    key.AppendInt64(2 + (i & 1));
    val.AppendInt64(i);
  }
  const Column* keys[] = {&key};
  Grouping g = GroupBy(keys);
  auto med = LowerMedianPerGroup(g, val, 2);
  EXPECT_EQ(med[0], 3);
  EXPECT_EQ(med[1], 20);
  // Group of odd values 1,3,...: (n-1)/2 values when n odd -> sorted index.
  auto single = LowerMedianPerGroup(g, val, 1);
  EXPECT_EQ(med, single);
}

TEST(OpsTest, TopOnePerGroupTiesByBytes) {
  Column group = Strings(DataType::kDict, {"g1", "g1", "g1", "g2", "g2", "g3"});
  Column score = Ints({7, 9, 9, 1, 1, std::nullopt});
  Column name = Strings(DataType::kString, {"zeta", "beta", "Beta", "b", "a", "x"});
  const Column* keys[] = {&group};
  Grouping g = GroupBy(keys);
  auto best = TopOnePerGroup(g, score, name);
  // g1: 9 ties between "beta" and "Beta"; 'B' (0x42) < 'b' (0x62). g3 has no score.
  EXPECT_EQ(best, (std::vector<uint32_t>{2, 4}));
}

TEST(OpsTest, SortNullsLastStableMultiKey) {
  Table t;
  t.AddColumn("k", Strings(DataType::kString, {"b", "a", nullptr, "a", "+50"}));
  t.AddColumn("v", Ints({1, 2, 3, 1, 0}));
  auto rows = SortIndices(t, {{"k"}, {"v"}});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, (std::vector<uint32_t>{4, 3, 1, 0, 2}));
  auto desc = SortIndices(t, {{"v", false}});
  EXPECT_EQ(*desc, (std::vector<uint32_t>{2, 1, 0, 3, 4}));
  EXPECT_FALSE(SortIndices(t, {{"missing"}}).ok());
  auto p = Project(t, {"v"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->num_columns(), 1u);
  Table f = Filter(t, {1, 0, 0, 1, 0});
  EXPECT_EQ(f.num_rows(), 2u);
  EXPECT_EQ(f.Get("k").StringAt(1), "a");
}

}  // namespace
}  // namespace pinpipe::frame
