#include "pinpipe/source/generator.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <vector>

#include "pinpipe/source/vocabulary.h"

namespace pinpipe::source {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  uint64_t sm = seed;
  for (auto& s : s_) s = SplitMix64(&sm);
}

uint64_t Rng::Next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

namespace {

using internal::Adjectives;
using internal::CategoryNouns;
using internal::Countries;
using internal::FillerWords;
using internal::FirstNames;
using internal::LastNames;
using internal::PosterWords;
using internal::UnicodeBits;

// Salts keep the row, person and poster streams independent.
constexpr uint64_t kRowSalt = 0x5049'4e52'4f57'0001ULL;
constexpr uint64_t kPersonSalt = 0x5045'5253'4f4e'0002ULL;
constexpr uint64_t kPosterSalt = 0x504f'5354'4552'0003ULL;

uint64_t Mix(uint64_t seed, uint64_t salt, uint64_t id) {
  uint64_t s = seed ^ salt;
  uint64_t a = SplitMix64(&s);
  s = a ^ (id * 0xD1B54A32D192ED03ULL);
  return SplitMix64(&s);
}

// A fixed cumulative weight table with integer weights; Pick is a binary search.
class Weighted {
 public:
  explicit Weighted(const std::vector<uint32_t>& weights) {
    uint64_t sum = 0;
    for (uint32_t w : weights) cum_.push_back(sum += w);
  }
  size_t Pick(Rng& rng) const {
    uint64_t x = rng.Below(cum_.back());
    return static_cast<size_t>(std::upper_bound(cum_.begin(), cum_.end(), x) - cum_.begin());
  }

 private:
  std::vector<uint64_t> cum_;
};

// Categories: a clear winner, a runner-up pair that nearly ties, a long tail.
const Weighted& CategoryWeights() {
  // art beauty christmas diy education event finance home mens quotes tattoos travel vehicles
  static const Weighted w({160, 95, 120, 150, 80, 45, 82, 60, 105, 105, 90, 118, 78});
  return w;
}

// Countries: Faker's list is alphabetical and the original data leans heavily
// on its early entries; a Zipf-like fall-off by position reproduces that.
const Weighted& CountryWeights() {
  static const Weighted w([] {
    std::vector<uint32_t> v;
    for (size_t i = 0; i < Countries().size(); ++i) {
      v.push_back(static_cast<uint32_t>(12000 / (i + 6) + 20));
    }
    return v;
  }());
  return w;
}

// Ages 20..59: most users are in their twenties, with a peak at 20.
const Weighted& AgeWeights() {
  static const Weighted w([] {
    std::vector<uint32_t> v;
    for (int age = 20; age <= 59; ++age) {
      uint32_t weight = age == 20   ? 240
                        : age == 21 ? 110
                        : age <= 25 ? 70
                        : age <= 32 ? 50
                        : age <= 45 ? 25
                                    : 12;
      v.push_back(weight);
    }
    return v;
  }());
  return w;
}

template <typename T>
const T& PickFrom(Rng& rng, std::span<const T> items) {
  return items[rng.Below(items.size())];
}

constexpr int64_t kTimestampFrom = 1508544000;  // 2017-10-21 00:00:00
constexpr int64_t kTimestampTo = 1665878399;    // 2022-10-15 23:59:59
constexpr int64_t kJoinedFrom = 1445385600;     // 2015-10-21 00:00:00
constexpr int64_t kJoinedTo = 1507679999;       // 2017-10-10 23:59:59

struct Place {
  size_t country;
  double latitude;
  double longitude;
};

Place RandomPlace(Rng& rng) {
  Place p;
  p.country = CountryWeights().Pick(rng);
  int64_t lat_units, lon_units;  // 1e-4 degrees
  if (rng.Chance(400000)) {
    // The original's coordinates cluster near the south pole and the date line.
    lat_units = rng.Between(-900000, -740000);
    lon_units = rng.Between(-1800000, -1000000);
  } else {
    lat_units = rng.Between(-900000, 900000);
    lon_units = rng.Between(-1800000, 1800000);
  }
  p.latitude = static_cast<double>(lat_units) / 10000.0;
  // Six significant digits, like the original: -173.293 but 51.7244.
  if (lon_units >= 1000000 || lon_units <= -1000000) {
    p.longitude = static_cast<double>(lon_units / 10) / 1000.0;
  } else {
    p.longitude = static_cast<double>(lon_units) / 10000.0;
  }
  return p;
}

struct Person {
  std::string_view first, last;
  int64_t age;
  int64_t joined;
  Place home;
};

Person MakePerson(uint64_t seed, int64_t id) {
  Rng rng(Mix(seed, kPersonSalt, static_cast<uint64_t>(id)));
  Person p;
  p.first = PickFrom(rng, FirstNames());
  p.last = PickFrom(rng, LastNames());
  p.age = 20 + static_cast<int64_t>(AgeWeights().Pick(rng));
  p.joined = rng.Between(kJoinedFrom, kJoinedTo);
  p.home = RandomPlace(rng);
  return p;
}

void AppendFollowers(Rng& rng, std::string* out) {
  char buf[16];
  int n;
  uint64_t kind = rng.Below(1000);
  if (kind < 752) {  // "5k", "892k": skewed toward small thousands
    n = std::snprintf(buf, sizeof(buf), "%dk",
                      static_cast<int>(rng.Between(1, rng.Between(1, 999))));
  } else if (kind < 925) {  // plain digits
    n = std::snprintf(buf, sizeof(buf), "%d", static_cast<int>(rng.Between(0, 999)));
  } else {  // "1M" .. "40M"
    n = std::snprintf(buf, sizeof(buf), "%dM",
                      static_cast<int>(rng.Between(1, rng.Between(1, 40))));
  }
  out->append(buf, static_cast<size_t>(n));
}

void AppendPosterName(Rng& rng, std::string* out) {
  auto words = PosterWords();
  switch (rng.Below(6)) {
    case 0:
    case 1:
      out->append(PickFrom(rng, FirstNames()));
      out->push_back(' ');
      out->append(PickFrom(rng, LastNames()));
      break;
    case 2:
      out->append(PickFrom(rng, words));
      out->append(" on ");
      out->append(PickFrom(rng, words));
      out->append(" | ");
      out->append(PickFrom(rng, CategoryNouns(rng.Below(13))));
      out->append(", Holiday Decor & DIY Website");
      break;
    case 3: {
      out->append(PickFrom(rng, words));
      char buf[8];
      int n = std::snprintf(buf, sizeof(buf), "%d", static_cast<int>(rng.Between(1, 99)));
      out->append(buf, static_cast<size_t>(n));
      if (rng.Chance(300000)) out->append("-7");
      break;
    }
    case 4:
      out->append(PickFrom(rng, FirstNames()));
      out->append(" {");
      out->append(PickFrom(rng, words));
      out->append(PickFrom(rng, words));
      out->append(".com}");
      break;
    default:
      out->append(PickFrom(rng, words));
      out->push_back(' ');
      out->append(PickFrom(rng, words));
      if (rng.Chance(250000)) {
        out->append(" ✈️ ");
        out->append(PickFrom(rng, CategoryNouns(rng.Below(13))));
      }
  }
}

void AppendLower(std::string_view word, std::string* out) {
  for (char c : word) out->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
}

void AppendTitle(Rng& rng, std::span<const std::string_view> nouns, std::string* out) {
  bool long_title = rng.Chance(120000);
  int words =
      long_title ? static_cast<int>(rng.Between(10, 18)) : static_cast<int>(rng.Between(2, 6));
  for (int i = 0; i < words; ++i) {
    if (i) out->push_back(' ');
    uint64_t k = rng.Below(10);
    if (k < 5) {
      out->append(PickFrom(rng, nouns));
    } else if (k < 8) {
      out->append(PickFrom(rng, Adjectives()));
    } else {
      std::string_view f = PickFrom(rng, FillerWords());
      out->push_back(static_cast<char>(f[0] >= 'a' && f[0] <= 'z' ? f[0] - 'a' + 'A' : f[0]));
      out->append(f.substr(1));
    }
  }
  if (long_title) out->append("…");
}

void AppendDescription(Rng& rng, std::span<const std::string_view> nouns, std::string* out) {
  size_t start = out->size();
  int words = static_cast<int>(rng.Between(6, 34));
  bool unicode = rng.Chance(60000);
  int unicode_at = static_cast<int>(rng.Below(static_cast<uint64_t>(words)));
  for (int i = 0; i < words; ++i) {
    if (i) out->push_back(' ');
    if (unicode && i == unicode_at) {
      out->append(PickFrom(rng, UnicodeBits()));
      continue;
    }
    uint64_t k = rng.Below(10);
    if (k < 3) {
      AppendLower(PickFrom(rng, nouns), out);
    } else if (k < 4) {
      AppendLower(PickFrom(rng, Adjectives()), out);
    } else {
      out->append(PickFrom(rng, FillerWords()));
    }
    if (rng.Chance(70000)) out->push_back(i + 1 < words ? ',' : '.');
  }
  char& first = (*out)[start];
  if (first >= 'a' && first <= 'z') first = static_cast<char>(first - 'a' + 'A');
  if (out->size() - start > 150 && rng.Chance(500000)) {
    out->resize(start + 150);
    // Do not cut a UTF-8 sequence in half.
    while (out->size() > start && (static_cast<unsigned char>(out->back()) & 0xC0) == 0x80) {
      out->pop_back();
    }
    if (out->size() > start && static_cast<unsigned char>(out->back()) >= 0xC0) out->pop_back();
    out->append("…");
  } else if (out->back() != '.') {
    out->push_back('.');
  }
}

void AppendTags(Rng& rng, std::span<const std::string_view> nouns, std::string* out) {
  int tags = static_cast<int>(rng.Between(3, 9));
  for (int i = 0; i < tags; ++i) {
    if (i) out->push_back(',');
    switch (rng.Below(3)) {
      case 0:
        out->append(PickFrom(rng, nouns));
        break;
      case 1:
        out->append(PickFrom(rng, Adjectives()));
        out->push_back(' ');
        out->append(PickFrom(rng, nouns));
        break;
      default:
        out->append(PickFrom(rng, nouns));
        out->append(" Ideas");
    }
  }
}

constexpr char kHex[] = "0123456789abcdef";

void AppendHex(uint64_t v, int digits, std::string* out) {
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 15]);
}

void AppendUuid4(Rng& rng, std::string* out) {
  uint64_t hi = rng.Next(), lo = rng.Next();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10xx
  AppendHex(hi >> 32, 8, out);
  out->push_back('-');
  AppendHex((hi >> 16) & 0xFFFF, 4, out);
  out->push_back('-');
  AppendHex(hi & 0xFFFF, 4, out);
  out->push_back('-');
  AppendHex(lo >> 48, 4, out);
  out->push_back('-');
  AppendHex(lo & 0xFFFFFFFFFFFFULL, 12, out);
}

void AppendImageSrc(Rng& rng, bool video, std::string* out) {
  std::string hash;
  AppendHex(rng.Next(), 16, &hash);
  AppendHex(rng.Next(), 16, &hash);
  out->append(video ? "https://i.pinimg.com/videos/thumbnails/originals/"
                    : "https://i.pinimg.com/originals/");
  out->append(hash, 0, 2);
  out->push_back('/');
  out->append(hash, 2, 2);
  out->push_back('/');
  out->append(hash, 4, 2);
  out->push_back('/');
  out->append(hash);
  out->append(video ? ".0000001.jpg" : ".jpg");
}

}  // namespace

Generator::Generator(uint64_t seed, int64_t rows)
    : seed_(seed),
      rows_(rows < 0 ? 0 : rows),
      // ~2.5 posts per person and ~6 per poster on average.
      people_(std::max<int64_t>(1, rows_ * 2 / 5)),
      posters_(std::max<int64_t>(1, rows_ / 6)) {}

void Generator::Post(int64_t index, model::PinRow* pin, model::GeoRow* geo,
                     model::UserRow* user) const {
  Rng rng(Mix(seed_, kRowSalt, static_cast<uint64_t>(index)));

  // --- pinterest_data
  size_t category = CategoryWeights().Pick(rng);
  std::string_view category_name = internal::Categories()[category];
  auto nouns = CategoryNouns(category);
  pin->index = index;
  pin->unique_id.clear();
  AppendUuid4(rng, &pin->unique_id);
  pin->title.clear();
  pin->description.clear();
  pin->poster_name.clear();
  pin->follower_count.clear();
  pin->tag_list.clear();
  pin->image_src.clear();
  pin->save_location.assign("Local save in /data/");
  pin->save_location.append(category_name);
  pin->category.assign(category_name);

  uint64_t media = rng.Below(1000);
  bool broken_story = media < 14;  // ~1.4%: every placeholder at once
  if (broken_story) {
    pin->title.assign(model::kNoTitle);
    pin->description.assign(model::kNoDescriptionStory);
    pin->poster_name.assign(model::kUserInfoError);
    pin->follower_count.assign(model::kUserInfoError);
    pin->tag_list.assign(model::kNoTags);
    pin->is_image_or_video.assign(model::kMultiVideo);
    pin->image_src.assign(model::kImageSrcError);
    pin->downloaded = 0;
  } else {
    bool story = media < 90;             // multi-video pages: story description
    bool video = !story && media < 140;  // plain videos
    pin->is_image_or_video.assign(story ? model::kMultiVideo : video ? "video" : "image");
    pin->downloaded = 1;
    // Single placeholders on otherwise good rows.
    uint64_t dirt = rng.Below(1000);
    if (dirt < 10) {
      pin->title.assign(model::kNoTitle);
    } else {
      AppendTitle(rng, nouns, &pin->title);
    }
    if (story) {
      pin->description.assign(model::kNoDescriptionStory);
    } else if (dirt >= 10 && dirt < 35) {
      pin->description.assign(model::kNoDescription);
    } else {
      AppendDescription(rng, nouns, &pin->description);
    }
    if (dirt >= 35 && dirt < 45) {
      pin->tag_list.assign(model::kNoTags);
    } else {
      AppendTags(rng, nouns, &pin->tag_list);
    }
    if (dirt >= 45 && dirt < 50) {
      pin->image_src.assign(model::kImageSrcError);
    } else {
      AppendImageSrc(rng, story || video, &pin->image_src);
    }
    if (dirt >= 50 && dirt < 52) {
      pin->poster_name.assign(model::kUserInfoError);
      pin->follower_count.assign(model::kUserInfoError);
    } else {
      int64_t poster_id = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(posters_)));
      Rng prng(Mix(seed_, kPosterSalt, static_cast<uint64_t>(poster_id)));
      AppendPosterName(prng, &pin->poster_name);
      AppendFollowers(prng, &pin->follower_count);
    }
  }

  // --- user_data: the same person behind several posts.
  int64_t person_id = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(people_)));
  Person person = MakePerson(seed_, person_id);
  user->ind = index;
  user->first_name.assign(person.first);
  user->last_name.assign(person.last);
  user->age = person.age;
  user->date_joined = person.joined;

  // --- geolocation_data: often from the person's home, else anywhere.
  geo->ind = index;
  geo->timestamp = rng.Between(kTimestampFrom, kTimestampTo);
  Place place = rng.Chance(550000) ? person.home : RandomPlace(rng);
  geo->latitude = place.latitude;
  geo->longitude = place.longitude;
  geo->country.assign(Countries()[place.country]);
}

}  // namespace pinpipe::source
