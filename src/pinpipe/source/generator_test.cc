#include "pinpipe/source/generator.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>

#include "pinpipe/source/vocabulary.h"

namespace pinpipe::source {
namespace {

struct Rows {
  std::vector<model::PinRow> pins;
  std::vector<model::GeoRow> geos;
  std::vector<model::UserRow> users;
};

Rows Generate(uint64_t seed, int64_t rows) {
  Generator gen(seed, rows);
  Rows out;
  out.pins.resize(rows);
  out.geos.resize(rows);
  out.users.resize(rows);
  for (int64_t i = 0; i < rows; ++i) gen.Post(i, &out.pins[i], &out.geos[i], &out.users[i]);
  return out;
}

uint64_t Fnv1a(const Rows& rows) {
  uint64_t h = 1469598103934665603ULL;
  auto add = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  };
  for (size_t i = 0; i < rows.pins.size(); ++i) {
    add(model::ToJson(rows.pins[i]));
    add(model::ToJson(rows.geos[i]));
    add(model::ToJson(rows.users[i]));
  }
  return h;
}

TEST(RngTest, SplitMixAndXoshiroAreStable) {
  uint64_t s = 0;
  EXPECT_EQ(SplitMix64(&s), 0xE220A8397B1DCDAFULL);  // published first output for seed 0
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
  }
  for (int i = 0; i < 1000; ++i) {
    int64_t v = a.Between(-3, 3);
    EXPECT_GE(v, -3);
    EXPECT_LE(v, 3);
  }
}

// The golden hash pins the generator's output: a change here means every
// stored data set and every expected query answer downstream changes too.
TEST(GeneratorTest, OutputIsDeterministicByHash) {
  Rows a = Generate(100, 2000);
  Rows b = Generate(100, 2000);
  EXPECT_EQ(Fnv1a(a), Fnv1a(b));
  EXPECT_EQ(Fnv1a(a), 0x603134146d5170ULL) << std::hex << Fnv1a(a);
  EXPECT_NE(Fnv1a(a), Fnv1a(Generate(101, 2000)));
}

TEST(GeneratorTest, RowsDoNotDependOnGenerationOrder) {
  Generator gen(7, 500);
  model::PinRow p1, p2;
  model::GeoRow g1, g2;
  model::UserRow u1, u2;
  gen.Post(321, &p1, &g1, &u1);
  for (int i = 0; i < 10; ++i) gen.Post(i, &p2, &g2, &u2);  // reuse buffers
  gen.Post(321, &p2, &g2, &u2);
  EXPECT_EQ(p1, p2);
  EXPECT_EQ(g1, g2);
  EXPECT_EQ(u1, u2);
}

TEST(GeneratorTest, DefaultIs11153Rows) {
  EXPECT_EQ(kDefaultRows, 11153);
  Generator gen(kDefaultSeed, kDefaultRows);
  EXPECT_EQ(gen.rows(), 11153);
}

class DefaultDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rows_ = new Rows(Generate(kDefaultSeed, kDefaultRows)); }
  static void TearDownTestSuite() { delete rows_; }
  static Rows* rows_;
};
Rows* DefaultDataTest::rows_ = nullptr;

TEST_F(DefaultDataTest, EveryPlaceholderOccurs) {
  std::map<std::string, int> seen;
  int story_rows = 0;
  for (const auto& p : rows_->pins) {
    for (const std::string* field :
         {&p.title, &p.description, &p.poster_name, &p.follower_count, &p.tag_list, &p.image_src}) {
      seen[*field]++;
    }
    if (p.title == model::kNoTitle && p.description == model::kNoDescriptionStory &&
        p.poster_name == model::kUserInfoError && p.follower_count == model::kUserInfoError &&
        p.tag_list == model::kNoTags && p.is_image_or_video == model::kMultiVideo &&
        p.image_src == model::kImageSrcError && p.downloaded == 0) {
      ++story_rows;
    } else {
      EXPECT_EQ(p.downloaded, 1);
    }
  }
  for (auto placeholder : {model::kNoTitle, model::kNoDescriptionStory, model::kNoDescription,
                           model::kUserInfoError, model::kNoTags, model::kImageSrcError}) {
    EXPECT_GT(seen[std::string(placeholder)], 20) << placeholder;
  }
  // Broken story rows: "a few percent".
  EXPECT_GT(story_rows, 11153 * 0.008);
  EXPECT_LT(story_rows, 11153 * 0.03);
}

TEST_F(DefaultDataTest, PinShapes) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::regex image(
      "https://i\\.pinimg\\.com/originals/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{2})/"
      "\\1\\2\\3[0-9a-f]{26}\\.jpg");
  const std::regex video(
      "https://i\\.pinimg\\.com/videos/thumbnails/originals/([0-9a-f]{2})/([0-9a-f]{2})/"
      "([0-9a-f]{2})/\\1\\2\\3[0-9a-f]{26}\\.0000001\\.jpg");
  const std::regex followers("[1-9][0-9]{0,2}k|[0-9]{1,3}|[1-9][0-9]?M|User Info Error");
  std::map<std::string, int> kinds, media;
  std::set<std::string> uuids;
  for (const auto& p : rows_->pins) {
    ASSERT_TRUE(std::regex_match(p.unique_id, uuid)) << p.unique_id;
    uuids.insert(p.unique_id);
    ASSERT_TRUE(std::regex_match(p.follower_count, followers)) << p.follower_count;
    char last = p.follower_count.back();
    kinds[p.follower_count == model::kUserInfoError ? "err"
          : last == 'k'                             ? "k"
          : last == 'M'                             ? "M"
                                                    : "n"]++;
    media[p.is_image_or_video]++;
    if (p.image_src != model::kImageSrcError) {
      bool is_video = p.is_image_or_video != "image";
      EXPECT_TRUE(std::regex_match(p.image_src, is_video ? video : image)) << p.image_src;
    }
    EXPECT_EQ(p.save_location, "Local save in /data/" + p.category);
    if (p.is_image_or_video == model::kMultiVideo) {
      EXPECT_EQ(p.description, model::kNoDescriptionStory);
    }
  }
  EXPECT_EQ(uuids.size(), rows_->pins.size());
  const double n = static_cast<double>(rows_->pins.size());
  // Observed mix: ~74% Nk, ~17% digits, ~7% NM, ~1.5% placeholder.
  EXPECT_NEAR(kinds["k"] / n, 0.74, 0.03);
  EXPECT_NEAR(kinds["n"] / n, 0.17, 0.03);
  EXPECT_NEAR(kinds["M"] / n, 0.07, 0.02);
  EXPECT_NEAR(kinds["err"] / n, 0.015, 0.008);
  EXPECT_EQ(media.size(), 3u);
  EXPECT_GT(media["image"], media[std::string(model::kMultiVideo)]);
  EXPECT_GT(media["video"], 100);
}

TEST_F(DefaultDataTest, CategoriesAreAllPresentAndSkewed) {
  std::map<std::string, int> counts;
  for (const auto& p : rows_->pins) counts[p.category]++;
  ASSERT_EQ(counts.size(), 13u);
  int max = 0, min = 1 << 30;
  for (auto& [c, n] : counts) {
    max = std::max(max, n);
    min = std::min(min, n);
  }
  EXPECT_GT(max, 2 * min);  // not uniform
  EXPECT_EQ(counts.begin()->first, "art");
  EXPECT_EQ(max, std::max(counts["art"], counts["diy-and-crafts"]));  // the designed winners
}

TEST_F(DefaultDataTest, GeoShapes) {
  std::map<std::string, int> countries;
  const int64_t from = model::ParseDatetime("2017-10-21 00:00:00").value();
  const int64_t to = model::ParseDatetime("2022-10-15 23:59:59").value();
  for (size_t i = 0; i < rows_->geos.size(); ++i) {
    const auto& g = rows_->geos[i];
    EXPECT_EQ(g.ind, static_cast<int64_t>(i));
    EXPECT_GE(g.timestamp, from);
    EXPECT_LE(g.timestamp, to);
    EXPECT_GE(g.latitude, -90);
    EXPECT_LE(g.latitude, 90);
    EXPECT_GE(g.longitude, -180);
    EXPECT_LE(g.longitude, 180);
    // At most 4 decimals: the JSON form stays short like the original's.
    std::string json = model::ToJson(g);
    auto lat = json.substr(json.find("\"latitude\":") + 11);
    lat = lat.substr(0, lat.find(','));
    EXPECT_LE(lat.size() - lat.find('.') - 1, 4u) << lat;
    countries[g.country]++;
  }
  EXPECT_GT(countries.size(), 200u);
  EXPECT_LE(countries.size(), internal::Countries().size());
  EXPECT_TRUE(countries.count("Antarctica (the territory South of 60 deg S)"));
  EXPECT_TRUE(countries.count("Cote d'Ivoire"));
  int top = 0;
  for (auto& [c, n] : countries) top = std::max(top, n);
  EXPECT_GT(top, 5 * static_cast<int>(rows_->geos.size() / countries.size()));  // skewed
}

TEST_F(DefaultDataTest, UserShapes) {
  std::map<int64_t, int> ages;
  std::map<std::string, std::set<int64_t>> people;
  const int64_t from = model::ParseDatetime("2015-10-21 00:00:00").value();
  const int64_t to = model::ParseDatetime("2017-10-10 23:59:59").value();
  for (const auto& u : rows_->users) {
    EXPECT_GE(u.age, 20);
    EXPECT_LE(u.age, 59);
    EXPECT_GE(u.date_joined, from);
    EXPECT_LE(u.date_joined, to);
    ages[u.age]++;
    people[u.first_name + " " + u.last_name].insert(u.ind);
  }
  EXPECT_EQ(ages.size(), 40u);
  // Skewed: the most common age is 20, far above the oldest ones.
  int best_age = 0, best = 0;
  for (auto& [a, n] : ages) {
    if (n > best) best = n, best_age = static_cast<int>(a);
  }
  EXPECT_EQ(best_age, 20);
  EXPECT_GT(ages[20], 5 * ages[59]);
  // The same person under several ind values.
  size_t repeated = 0;
  for (auto& [name, inds] : people) repeated += inds.size() >= 3;
  EXPECT_GT(repeated, 500u);
}

}  // namespace
}  // namespace pinpipe::source
