#include "pinpipe/live/engine.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <unordered_set>

#include "pinpipe/batch/queries.h"
#include "pinpipe/batch/render.h"
#include "pinpipe/stream/rows.h"

namespace pinpipe::live {
namespace {

using clean::TableKind;

TEST(MedianCounterTest, LowerMedianOfEveryPrefix) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    MedianCounter m;
    std::vector<int64_t> all;
    const int range = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < 200; ++i) {
      const int64_t v = static_cast<int64_t>(rng() % range) - range / 2;
      m.Add(v);
      all.push_back(v);
      std::vector<int64_t> sorted = all;
      std::sort(sorted.begin(), sorted.end());
      ASSERT_EQ(m.LowerMedian(), sorted[(sorted.size() - 1) / 2]) << "trial " << trial;
      ASSERT_EQ(m.size(), static_cast<int64_t>(all.size()));
    }
  }
}

// Random records of the three streams, in the shapes the emulator sends,
// with placeholders, nulls, rejects and duplicates (same ind, other values).
struct Streams {
  std::vector<std::string> records[3];
};

std::string Pick(std::mt19937_64& rng, const std::vector<std::string>& v) {
  return v[rng() % v.size()];
}

Streams RandomStreams(std::mt19937_64& rng) {
  static const std::vector<std::string> categories = {"art", "beauty", "travel", "diy",
                                                      "Art", "",       "quotes"};
  static const std::vector<std::string> countries = {"France", "Chad",  "Peru",        "Benin",
                                                     "",       "Aruba", "\xc3\x85land"};
  static const std::vector<std::string> posters = {"Ann", "Bob", "Cy", "User Info Error",
                                                   "",    "ann"};
  static const std::vector<std::string> followers = {
      "10k", "5k", "1M", "3", "7", "User Info Error", "", "12x", "892k", "0", "10000", "2k"};
  Streams s;
  const int posts = 5 + static_cast<int>(rng() % 150);
  const int ind_range = posts + posts / 3;  // some inds repeat
  for (int i = 0; i < posts; ++i) {
    const int ind = static_cast<int>(rng() % ind_range);
    const int roll = static_cast<int>(rng() % 100);
    if (roll < 90) {
      s.records[0].push_back("{\"index\": " + std::to_string(ind) + ", \"category\": \"" +
                             Pick(rng, categories) + "\", \"poster_name\": \"" +
                             Pick(rng, posters) + "\", \"follower_count\": \"" +
                             Pick(rng, followers) + "\", \"title\": \"t\"}");
    }
    if (roll % 10 < 8) {
      const int year = 2016 + static_cast<int>(rng() % 8);
      const int month = 1 + static_cast<int>(rng() % 12);
      char ts[64];
      std::snprintf(ts, sizeof(ts), "%04d-%02d-1%dT0%d:00:00", year, month,
                    static_cast<int>(rng() % 10), static_cast<int>(rng() % 10));
      std::string t = rng() % 15 == 0 ? "\"not a time\"" : "\"" + std::string(ts) + "\"";
      s.records[1].push_back("{\"ind\": " + std::to_string(ind) + ", \"country\": \"" +
                             Pick(rng, countries) + "\", \"timestamp\": " + t +
                             ", \"latitude\": 1.5, \"longitude\": -2}");
    }
    if (roll % 7 < 6) {
      const int year = 2013 + static_cast<int>(rng() % 10);
      std::string age = rng() % 12 == 0 ? "null" : std::to_string(12 + rng() % 70);
      std::string joined = rng() % 12 == 0 ? "null"
                                           : "\"" + std::to_string(year) + "-0" +
                                                 std::to_string(1 + rng() % 9) + "-15 12:00:00\"";
      s.records[2].push_back("{\"ind\": " + std::to_string(ind) +
                             ", \"first_name\": \"F\", \"last_name\": \"L\", \"age\": " + age +
                             ", \"date_joined\": " + joined + "}");
    }
    if (rng() % 25 == 0) s.records[rng() % 3].push_back("{\"index\": \"x\"}");  // rejected
    if (rng() % 40 == 0) s.records[rng() % 3].push_back("not json");
  }
  // Late arrivals: shuffle each stream's order (the row that arrives first
  // wins, in both paths).
  for (auto& r : s.records) std::shuffle(r.begin(), r.end(), rng);
  return s;
}

// The batch job's answer over the first `upto[k]` records of each stream.
std::string BatchAnswer(const Streams& s, const size_t upto[3], std::string_view id) {
  clean::BatchCleaner cleaner(clean::ColumnSet::kQueryOnly);
  for (int k = 0; k < 3; ++k) {
    for (size_t i = 0; i < upto[k]; ++i) {
      cleaner.AddRecord(static_cast<TableKind>(k), s.records[k][i], "prop",
                        static_cast<int64_t>(i));
    }
  }
  clean::CleanedBatch cleaned = cleaner.Take();
  batch::CleanTables tables{std::move(cleaned.tables[0]), std::move(cleaned.tables[1]),
                            std::move(cleaned.tables[2])};
  clean::DropDuplicates(&tables.pin);
  clean::DropDuplicates(&tables.geo);
  clean::DropDuplicates(&tables.user);
  auto t = batch::RunQuestion(id, tables);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::ostringstream out;
  for (const auto& n : t->names()) out << n << ",";
  out << "\n";
  batch::WriteJson(*t, out);
  return out.str();
}

std::string LiveAnswer(const Engine& e, std::string_view id) {
  auto t = e.Answer(id);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::ostringstream out;
  for (const auto& n : t->names()) out << n << ",";
  out << "\n";
  batch::WriteJson(*t, out);
  return out.str();
}

// Property: the three streams cleaned in random micro-batches by the
// streaming job's own code, committed in a random interleaving, and folded
// into the engine, give the batch job's answers (every question, row for
// row) at quiescence, and at random points on the way.
TEST(EnginePropertyTest, LiveEqualsBatchForRandomInterleavings) {
  std::mt19937_64 rng(20261202);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Streams s = RandomStreams(rng);
    Engine engine;
    std::unordered_set<int64_t> seen[3];
    size_t next[3] = {0, 0, 0};
    auto remaining = [&] {
      return next[0] < s.records[0].size() || next[1] < s.records[1].size() ||
             next[2] < s.records[2].size();
    };
    while (remaining()) {
      const int k = static_cast<int>(rng() % 3);
      if (next[k] >= s.records[k].size()) continue;
      const size_t n = std::min(s.records[k].size() - next[k], 1 + rng() % 20);
      std::vector<stream::RecordRef> refs;
      for (size_t i = 0; i < n; ++i) {
        refs.push_back({s.records[k][next[k] + i], "prop", static_cast<int64_t>(i)});
      }
      next[k] += n;
      stream::CleanResult cleaned = stream::CleanRecords(static_cast<TableKind>(k), refs, seen[k]);
      for (int64_t ind : cleaned.new_inds) seen[k].insert(ind);
      ASSERT_TRUE(engine.Apply(static_cast<TableKind>(k), cleaned.rows).ok());
      if (rng() % 10 == 0 || !remaining()) {
        for (const auto& q : batch::Questions()) {
          ASSERT_EQ(LiveAnswer(engine, q.id), BatchAnswer(s, next, q.id))
              << "trial " << trial << " question " << q.id;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 300 * 9);
}

TEST(EngineTest, JoinsInAnyOrderAndForgetsFinishedInds) {
  Engine e;
  e.AddGeo(1, "France", 1'577'836'800'000'000);  // 2020-01-01
  e.AddUser(1, 30, 1'420'070'400'000'000);       // 2015-01-01
  EXPECT_EQ(e.stats().pending_inds, 1);
  e.AddPin(1, "art", 5000, "Ann");
  EXPECT_EQ(e.stats().pending_inds, 0);
  EXPECT_EQ(e.stats().finished_inds, 1);
  auto q1 = e.Answer("q1");
  ASSERT_TRUE(q1.ok());
  ASSERT_EQ(q1->num_rows(), 1u);
  EXPECT_EQ(q1->Get("country").StringAt(0), "France");
  EXPECT_EQ(q1->Get("category_count").Int64At(0), 1);
  auto q8 = e.Answer("q8");
  ASSERT_TRUE(q8.ok());
  ASSERT_EQ(q8->num_rows(), 1u);
  EXPECT_EQ(q8->Get("age_group").StringAt(0), "25-35");
  EXPECT_EQ(q8->Get("post_year").Int64At(0), 2015);
  EXPECT_EQ(q8->Get("median_follower_count").Int64At(0), 5000);
  EXPECT_FALSE(e.Answer("q9").ok());
}

}  // namespace
}  // namespace pinpipe::live
