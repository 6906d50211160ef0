#include "pinpipe/batch/queries.h"

#include <algorithm>

#include "pinpipe/clean/rules.h"
#include "pinpipe/frame/ops.h"

namespace pinpipe::batch {
namespace {

using frame::Column;
using frame::DataType;
using frame::Grouping;
using frame::Table;

Column Int64Values(const std::vector<int64_t>& values) {
  Column c(DataType::kInt64);
  c.Reserve(values.size());
  for (int64_t v : values) c.AppendInt64(v);
  return c;
}

// The year of each timestamp when it lies in [lo, hi], else null.
Column YearsIn(const Column& timestamps, int lo, int hi) {
  Column years(DataType::kInt64);
  years.Reserve(timestamps.size());
  for (size_t r = 0; r < timestamps.size(); ++r) {
    if (timestamps.IsNull(r)) {
      years.AppendNull();
      continue;
    }
    int y = clean::YearOfMicros(timestamps.Int64At(r));
    if (y >= lo && y <= hi) {
      years.AppendInt64(y);
    } else {
      years.AppendNull();
    }
  }
  return years;
}

Column AgeGroups(const Column& ages) {
  Column groups(DataType::kDict);
  groups.Reserve(ages.size());
  for (size_t r = 0; r < ages.size(); ++r) {
    std::string_view g = ages.IsNull(r) ? std::string_view() : AgeGroup(ages.Int64At(r));
    if (g.empty()) {
      groups.AppendNull();
    } else {
      groups.AppendString(g);
    }
  }
  return groups;
}

// Rows of the inner join of two tables on ind, as gathered columns.
struct Joined {
  frame::JoinIndices rows;
  Column Left(const Table& t, std::string_view name) const { return t.Get(name).Take(rows.left); }
  Column Right(const Table& t, std::string_view name) const { return t.Get(name).Take(rows.right); }
};

Joined Join(const Table& left, const Table& right) {
  return Joined{frame::HashJoin(left.Get("ind"), right.Get("ind"))};
}

Result<Table> SortBy(Table t, std::vector<std::string> keys) {
  std::vector<frame::SortKey> sort_keys;
  for (auto& k : keys) sort_keys.push_back({std::move(k), true});
  return frame::Sort(t, sort_keys);
}

// "Most popular value per group": counts rows per (group, value) and keeps, per
// group, the value with the highest count (ties: value ascending by bytes).
Result<Table> MostPopular(const Column& group, const Column& value, std::string group_name,
                          std::string value_name, std::string count_name) {
  const Column* keys[] = {&group, &value};
  Grouping pairs = frame::GroupBy(keys);
  std::vector<int64_t> counts = frame::CountPerGroup(pairs);
  Column pair_group = group.Take(pairs.first_row);
  Column pair_value = value.Take(pairs.first_row);
  Column pair_count = Int64Values(counts);
  const Column* outer_keys[] = {&pair_group};
  Grouping outer = frame::GroupBy(outer_keys);
  std::vector<uint32_t> best = frame::TopOnePerGroup(outer, pair_count, pair_value);
  Table out;
  out.AddColumn(group_name, pair_group.Take(best));
  out.AddColumn(std::move(value_name), pair_value.Take(best));
  out.AddColumn(std::move(count_name), pair_count.Take(best));
  return SortBy(std::move(out), {std::move(group_name)});
}

// Lower median of `values` per combination of `keys`; groups without a
// non-null value produce no row.
Result<Table> MedianBy(std::vector<std::pair<std::string, const Column*>> keys,
                       const Column& values, std::string median_name) {
  std::vector<const Column*> key_columns;
  for (auto& k : keys) key_columns.push_back(k.second);
  Grouping g = frame::GroupBy(key_columns);
  auto medians = frame::LowerMedianPerGroup(g, values);
  std::vector<uint32_t> rows;
  Column median(DataType::kInt64);
  for (size_t i = 0; i < medians.size(); ++i) {
    if (!medians[i]) continue;
    rows.push_back(g.first_row[i]);
    median.AppendInt64(*medians[i]);
  }
  Table out;
  std::vector<std::string> names;
  for (auto& k : keys) {
    out.AddColumn(k.first, k.second->Take(rows));
    names.push_back(k.first);
  }
  out.AddColumn(std::move(median_name), std::move(median));
  return SortBy(std::move(out), std::move(names));
}

Result<Table> Q1(const CleanTables& t) {
  Joined j = Join(t.pin, t.geo);
  return MostPopular(j.Right(t.geo, "country"), j.Left(t.pin, "category"), "country", "category",
                     "category_count");
}

Result<Table> Q2(const CleanTables& t) {
  Joined j = Join(t.pin, t.geo);
  return MostPopular(YearsIn(j.Right(t.geo, "timestamp"), 2018, 2022), j.Left(t.pin, "category"),
                     "post_year", "category", "category_count");
}

// Per country, the poster with the most followers (ties: poster_name ascending).
Result<Table> Q3a(const CleanTables& t) {
  Joined j = Join(t.pin, t.geo);
  Column country = j.Right(t.geo, "country");
  Column poster = j.Left(t.pin, "poster_name");
  Column followers = j.Left(t.pin, "follower_count");
  const Column* keys[] = {&country};
  Grouping g = frame::GroupBy(keys);
  std::vector<uint32_t> best = frame::TopOnePerGroup(g, followers, poster);
  Table out;
  out.AddColumn("country", country.Take(best));
  out.AddColumn("poster_name", poster.Take(best));
  out.AddColumn("follower_count", followers.Take(best));
  return SortBy(std::move(out), {"country"});
}

Result<Table> Q3b(const CleanTables& t) {
  PINPIPE_ASSIGN_OR_RETURN(Table top, Q3a(t));
  Column one(DataType::kInt64);
  for (size_t r = 0; r < top.num_rows(); ++r) one.AppendInt64(0);
  const Column* keys[] = {&one};
  Grouping g = frame::GroupBy(keys);
  std::vector<uint32_t> best =
      frame::TopOnePerGroup(g, top.Get("follower_count"), top.Get("country"));
  Table out;
  out.AddColumn("country", top.Get("country").Take(best));
  out.AddColumn("follower_count", top.Get("follower_count").Take(best));
  return out;
}

Result<Table> Q4(const CleanTables& t) {
  Joined j = Join(t.pin, t.user);
  return MostPopular(AgeGroups(j.Right(t.user, "age")), j.Left(t.pin, "category"), "age_group",
                     "category", "category_count");
}

Result<Table> Q5(const CleanTables& t) {
  Joined j = Join(t.pin, t.user);
  Column groups = AgeGroups(j.Right(t.user, "age"));
  return MedianBy({{"age_group", &groups}}, j.Left(t.pin, "follower_count"),
                  "median_follower_count");
}

Result<Table> Q6(const CleanTables& t) {
  Column years = YearsIn(t.user.Get("date_joined"), 2015, 2020);
  const Column* keys[] = {&years};
  Grouping g = frame::GroupBy(keys);
  Table out;
  out.AddColumn("post_year", years.Take(g.first_row));
  out.AddColumn("number_users_joined", Int64Values(frame::CountPerGroup(g)));
  return SortBy(std::move(out), {"post_year"});
}

Result<Table> Q7(const CleanTables& t) {
  Joined j = Join(t.pin, t.user);
  Column years = YearsIn(j.Right(t.user, "date_joined"), 2015, 2020);
  return MedianBy({{"post_year", &years}}, j.Left(t.pin, "follower_count"),
                  "median_follower_count");
}

Result<Table> Q8(const CleanTables& t) {
  Joined j = Join(t.pin, t.user);
  Column groups = AgeGroups(j.Right(t.user, "age"));
  Column years = YearsIn(j.Right(t.user, "date_joined"), 2015, 2020);
  return MedianBy({{"age_group", &groups}, {"post_year", &years}}, j.Left(t.pin, "follower_count"),
                  "median_follower_count");
}

}  // namespace

const std::vector<QuestionInfo>& Questions() {
  static const std::vector<QuestionInfo> questions = {
      {"q1", "The most popular category people post to, per country"},
      {"q2", "The most popular category in each year, 2018..2022"},
      {"q3a", "The user with the most followers in each country"},
      {"q3b", "The country whose top user has the most followers"},
      {"q4", "The most popular category per age group"},
      {"q5", "The median follower count per age group"},
      {"q6", "How many users joined in each year, 2015..2020"},
      {"q7", "The median follower count of users by joining year, 2015..2020"},
      {"q8", "The median follower count by joining year and age group, 2015..2020"},
  };
  return questions;
}

Result<std::vector<std::string>> ResolveQuestionIds(std::string_view spec) {
  std::string id;
  for (char c : spec) id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (!id.empty() && id[0] != 'q') id = "q" + id;
  if (id == "q3") return std::vector<std::string>{"q3a", "q3b"};
  for (const auto& q : Questions()) {
    if (q.id == id) return std::vector<std::string>{id};
  }
  return InvalidArgumentError("unknown question '" + std::string(spec) +
                              "' (use 1, 2, 3, 3a, 3b, 4, 5, 6, 7 or 8)");
}

std::string_view AgeGroup(int64_t age) {
  if (age >= 18 && age <= 24) return "18-24";
  if (age >= 25 && age <= 35) return "25-35";
  if (age >= 36 && age <= 50) return "36-50";
  if (age >= 51) return "+50";
  return "";
}

Result<Table> RunQuestion(std::string_view id, const CleanTables& tables) {
  if (id == "q1") return Q1(tables);
  if (id == "q2") return Q2(tables);
  if (id == "q3a") return Q3a(tables);
  if (id == "q3b") return Q3b(tables);
  if (id == "q4") return Q4(tables);
  if (id == "q5") return Q5(tables);
  if (id == "q6") return Q6(tables);
  if (id == "q7") return Q7(tables);
  if (id == "q8") return Q8(tables);
  return InvalidArgumentError("unknown question '" + std::string(id) + "'");
}

}  // namespace pinpipe::batch
