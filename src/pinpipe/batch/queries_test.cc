#include "pinpipe/batch/queries.h"

#include <gtest/gtest.h>

#include <sstream>

#include "pinpipe/batch/render.h"
#include "pinpipe/clean/cleaner.h"

namespace pinpipe::batch {
namespace {

using clean::TableKind;

std::string Pin(int ind, const char* category, const char* poster, const char* followers) {
  return "{\"index\": " + std::to_string(ind) + ", \"category\": \"" + category +
         "\", \"poster_name\": \"" + poster + "\", \"follower_count\": \"" + followers + "\"}";
}
std::string Geo(int ind, const char* country, const char* ts) {
  return "{\"ind\": " + std::to_string(ind) + ", \"country\": \"" + country +
         "\", \"timestamp\": \"" + ts + "\", \"latitude\": 1.5, \"longitude\": -2}";
}
std::string User(int ind, const char* age, const char* joined) {
  return "{\"ind\": " + std::to_string(ind) + ", \"first_name\": \"F\", \"age\": " + age +
         ", \"date_joined\": " + joined + "}";
}

// A hand-made data set; expected answers are worked out in the comments.
CleanTables HandData(clean::ColumnSet set) {
  clean::BatchCleaner c(set);
  int64_t pos = 0;
  auto add = [&](TableKind k, const std::string& json) { c.AddRecord(k, json, "hand", ++pos); };
  add(TableKind::kPin, Pin(1, "art", "A", "10k"));
  add(TableKind::kPin, Pin(2, "art", "B", "5k"));
  add(TableKind::kPin, Pin(3, "travel", "C", "10k"));
  add(TableKind::kPin, Pin(4, "travel", "User Info Error", "1M"));
  add(TableKind::kPin, Pin(5, "", "D", "User Info Error"));
  add(TableKind::kPin, Pin(6, "beauty", "E", "20k"));
  add(TableKind::kPin, Pin(7, "art", "F", "7"));
  add(TableKind::kPin, Pin(9, "beauty", "G", "3"));
  add(TableKind::kPin, Pin(10, "art", "Zed", "10k"));
  add(TableKind::kPin, Pin(12, "travel", "H", "2k"));
  add(TableKind::kPin, Pin(1, "travel", "A2", "99M"));  // duplicate: the first wins
  add(TableKind::kPin, "{\"index\": \"x\"}");           // rejected
  add(TableKind::kGeo, Geo(1, "France", "2019-03-01 10:00:00"));
  add(TableKind::kGeo, Geo(2, "France", "2019-12-31T23:59:59"));
  add(TableKind::kGeo, Geo(3, "France", "2020-01-01 00:00:00"));
  add(TableKind::kGeo, Geo(4, "Chad", "2018-06-01 00:00:00"));
  add(TableKind::kGeo, Geo(5, "Chad", "2021-06-01 00:00:00"));
  add(TableKind::kGeo, Geo(7, "", "2023-01-01 00:00:00"));
  add(TableKind::kGeo, Geo(8, "Peru", "2019-01-01 00:00:00"));
  add(TableKind::kGeo, Geo(9, "Chad", "2017-01-01 00:00:00"));
  add(TableKind::kGeo, Geo(10, "Benin", "2022-12-31T23:30:00-01:00"));  // 2023 in UTC
  add(TableKind::kGeo, Geo(1, "Peru", "2019-03-01 10:00:00"));          // duplicate
  add(TableKind::kUser, User(1, "20", "\"2015-01-01 00:00:00\""));
  add(TableKind::kUser, User(2, "30", "\"2016-01-01 00:00:00\""));
  add(TableKind::kUser, User(3, "30", "\"2016-05-01T00:00:00\""));
  add(TableKind::kUser, User(4, "60", "\"2017-01-01 00:00:00\""));
  add(TableKind::kUser, User(5, "17", "\"2015-01-01 00:00:00\""));
  add(TableKind::kUser, User(6, "40", "\"2021-01-01 00:00:00\""));
  add(TableKind::kUser, User(9, "null", "null"));
  add(TableKind::kUser, User(10, "51", "\"2020-12-31 23:59:59\""));
  add(TableKind::kUser, User(11, "25", "\"2014-01-01 00:00:00\""));
  add(TableKind::kUser, User(12, "\"33\"", "\"2016-07-01 00:00:00\""));
  clean::CleanedBatch batch = c.Take();
  CleanTables t{std::move(batch.tables[0]), std::move(batch.tables[1]), std::move(batch.tables[2])};
  EXPECT_EQ(clean::DropDuplicates(&t.pin), 1);
  EXPECT_EQ(clean::DropDuplicates(&t.geo), 1);
  EXPECT_EQ(clean::DropDuplicates(&t.user), 0);
  return t;
}

std::string Csv(const CleanTables& t, std::string_view id) {
  auto r = RunQuestion(id, t);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::ostringstream out;
  if (r.ok()) WriteCsv(*r, out);
  return out.str();
}

class HandQueriesTest : public ::testing::TestWithParam<clean::ColumnSet> {
 protected:
  CleanTables t_ = HandData(GetParam());
};

TEST_P(HandQueriesTest, Q1MostPopularCategoryPerCountry) {
  // France: art 2 (1, 2), travel 1. Chad: beauty 1 (9) ties travel 1 (4) -> beauty;
  // ind 5's category is null. Benin: art. The null country (7) and Peru (no pin) drop.
  EXPECT_EQ(Csv(t_, "q1"),
            "country,category,category_count\nBenin,art,1\nChad,beauty,1\nFrance,art,2\n");
}

TEST_P(HandQueriesTest, Q2MostPopularCategoryPerYear) {
  // 2019: art 2; 2020: travel; 2018: travel; 2021 has only a null category;
  // 2017 and 2023 (Benin's -01:00 timestamp is 2023 in UTC) are out of range.
  EXPECT_EQ(Csv(t_, "q2"),
            "post_year,category,category_count\n2018,travel,1\n2019,art,2\n2020,travel,1\n");
}

TEST_P(HandQueriesTest, Q3TopUserPerCountryAndTopCountry) {
  // France: A 10000 ties C 10000 -> A. Chad: 4 has no poster, 5 no count -> G 3.
  EXPECT_EQ(Csv(t_, "q3a"),
            "country,poster_name,follower_count\nBenin,Zed,10000\nChad,G,3\nFrance,A,10000\n");
  // Benin and France tie at 10000 -> Benin.
  EXPECT_EQ(Csv(t_, "q3b"), "country,follower_count\nBenin,10000\n");
}

TEST_P(HandQueriesTest, Q4MostPopularCategoryPerAgeGroup) {
  // 18-24: art (1). 25-35: travel 2 (3, 12) over art 1 (2). 36-50: beauty (6).
  // +50: travel (4) ties art (10) -> art. Age 17 (5) has no group. Byte order puts "+50" first.
  EXPECT_EQ(Csv(t_, "q4"),
            "age_group,category,category_count\n+50,art,1\n18-24,art,1\n25-35,travel,2\n"
            "36-50,beauty,1\n");
}

TEST_P(HandQueriesTest, Q5MedianFollowersPerAgeGroup) {
  // 25-35: {2000, 5000, 10000} -> 5000; +50: {10000, 1000000} -> lower 10000.
  EXPECT_EQ(Csv(t_, "q5"),
            "age_group,median_follower_count\n+50,10000\n18-24,10000\n25-35,5000\n36-50,20000\n");
}

TEST_P(HandQueriesTest, Q6UsersJoinedPerYear) {
  // Every user row counts (no join): 2015: 1, 5; 2016: 2, 3, 12; 2017: 4; 2020: 10.
  // 2018 and 2019 have no data and produce no row; 2014 and 2021 are out of range.
  EXPECT_EQ(Csv(t_, "q6"), "post_year,number_users_joined\n2015,2\n2016,3\n2017,1\n2020,1\n");
}

TEST_P(HandQueriesTest, Q7MedianFollowersPerJoinYear) {
  // 2015: {10000} (5's count is null). 2016: {2000, 5000, 10000}.
  EXPECT_EQ(Csv(t_, "q7"),
            "post_year,median_follower_count\n2015,10000\n2016,5000\n2017,1000000\n2020,10000\n");
}

TEST_P(HandQueriesTest, Q8MedianFollowersPerAgeGroupAndYear) {
  EXPECT_EQ(Csv(t_, "q8"),
            "age_group,post_year,median_follower_count\n+50,2017,1000000\n+50,2020,10000\n"
            "18-24,2015,10000\n25-35,2016,5000\n");
}

INSTANTIATE_TEST_SUITE_P(BothColumnSets, HandQueriesTest,
                         ::testing::Values(clean::ColumnSet::kAll, clean::ColumnSet::kQueryOnly));

TEST(QueriesTest, EmptyTablesGiveEmptyResults) {
  CleanTables t{clean::EmptyTable(TableKind::kPin), clean::EmptyTable(TableKind::kGeo),
                clean::EmptyTable(TableKind::kUser)};
  EXPECT_EQ(Csv(t, "q1"), "country,category,category_count\n");
  EXPECT_EQ(Csv(t, "q3b"), "country,follower_count\n");
  EXPECT_EQ(Csv(t, "q6"), "post_year,number_users_joined\n");
  EXPECT_EQ(Csv(t, "q8"), "age_group,post_year,median_follower_count\n");
}

TEST(QueriesTest, ResolveIdsAndAgeGroups) {
  EXPECT_EQ(*ResolveQuestionIds("1"), (std::vector<std::string>{"q1"}));
  EXPECT_EQ(*ResolveQuestionIds("Q3A"), (std::vector<std::string>{"q3a"}));
  EXPECT_EQ(*ResolveQuestionIds("3"), (std::vector<std::string>{"q3a", "q3b"}));
  EXPECT_EQ(ResolveQuestionIds("9").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RunQuestion("q9", CleanTables{}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AgeGroup(17), "");
  EXPECT_EQ(AgeGroup(18), "18-24");
  EXPECT_EQ(AgeGroup(24), "18-24");
  EXPECT_EQ(AgeGroup(25), "25-35");
  EXPECT_EQ(AgeGroup(35), "25-35");
  EXPECT_EQ(AgeGroup(36), "36-50");
  EXPECT_EQ(AgeGroup(50), "36-50");
  EXPECT_EQ(AgeGroup(51), "+50");
}

}  // namespace
}  // namespace pinpipe::batch
