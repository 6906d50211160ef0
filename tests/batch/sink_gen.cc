#include "sink_gen.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace pinpipe::testing {
namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() { return Mix(s_++); }
  int64_t Uniform(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
  double Unit() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }
  // Skewed pick in [0, n): small indexes are much more likely.
  int64_t Skewed(int64_t n) {
    double u = Unit();
    return std::min<int64_t>(n - 1, static_cast<int64_t>(u * u * u * n));
  }

 private:
  uint64_t s_;
};

const char* kCategories[] = {"art",          "beauty",         "christmas", "diy-and-crafts",
                             "education",    "event-planning", "finance",   "home-decor",
                             "mens-fashion", "quotes",         "tattoos",   "travel",
                             "vehicles"};
const char* kCountries[] = {"Albania",
                            "Antarctica (the territory South of 60 deg S)",
                            "Bouvet Island (Bouvetoya)",
                            "Cote d'Ivoire",
                            "Cocos (Keeling) Islands",
                            "Netherlands Antilles",
                            "Chad",
                            "France",
                            "Peru",
                            "Benin",
                            "Korea, Republic of",
                            "Saint Vincent and the Grenadines",
                            "French Southern Territories",
                            "Azerbaijan",
                            "Algeria",
                            "American Samoa",
                            "Andorra",
                            "Barbados",
                            "Isle of Man",
                            "Afghanistan",
                            "Aruba",
                            "Bahamas",
                            "Maldives",
                            "Zambia",
                            "Germany",
                            "\"Quoted\" Land",
                            "Ísland",
                            "日本"};
const char* kFirst[] = {"Abigail", "Aaron", "Christopher", "Alexander", "Christina", "Erik",
                        "Alison",  "Brett", "Melanie",     "Jose",      "Ana",       "Zoë"};
const char* kLast[] = {"Ali",  "Abbott", "Bradshaw", "Cervantes", "Davenport", "Kelley",
                       "Bell", "Bryant", "Hill",     "O'Neil",    "Smith"};
const char* kPosterExtra[] = {
    "Ray Uyemura",     "9GAG",     "Life on Summerhill | Home, Holiday Decor & DIY Website",
    "It's me, \"JD\"", "BuzzFeed", "Walmart"};

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string Timestamp(Rng& r, int y0, int years, bool iso) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d%c%02d:%02d:%02d",
                y0 + static_cast<int>(r.Uniform(years)), 1 + static_cast<int>(r.Uniform(12)),
                1 + static_cast<int>(r.Uniform(28)), iso ? 'T' : ' ',
                static_cast<int>(r.Uniform(24)), static_cast<int>(r.Uniform(60)),
                static_cast<int>(r.Uniform(60)));
  return buf;
}

std::string Followers(Rng& r) {
  double u = r.Unit();
  if (u < 0.015) return "User Info Error";
  if (u < 0.185) return std::to_string(r.Uniform(1000));
  if (u < 0.255) return std::to_string(1 + r.Skewed(9)) + "M";
  return std::to_string(1 + r.Skewed(999)) + "k";
}

// One pin record for post `ind`; the same post always gives the same text,
// except for a dirty variant.
std::string PinRecord(uint64_t seed, int64_t ind, Rng& dirt_rng, bool dirty) {
  Rng r(Mix(seed * 31 + static_cast<uint64_t>(ind)));
  const char* category = kCategories[r.Skewed(13)];
  bool story = r.Unit() < 0.03;
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid), "%08x-%04x-4%03x-b%03x-%012llx",
                static_cast<unsigned>(r.Next()), static_cast<unsigned>(r.Next() & 0xffff),
                static_cast<unsigned>(r.Next() & 0xfff), static_cast<unsigned>(r.Next() & 0xfff),
                static_cast<unsigned long long>(r.Next() & 0xffffffffffffULL));
  std::string poster =
      r.Unit() < 0.1 ? kPosterExtra[r.Uniform(6)] : "Poster " + std::to_string(r.Skewed(3000));
  std::string followers = Followers(r);
  std::string title = r.Unit() < 0.03 ? "No Title Data Available"
                                      : "Title " + std::to_string(r.Next() % 100000) +
                                            " Size:48ｘ18cm, handmade " + category;
  std::string description = "Description of post " + std::to_string(ind) +
                            ": a fairly long text that looks like the real descriptions, with "
                            "commas, \"quotes\" and emoji 🎄 in it, to make the records realistic.";
  double d = r.Unit();
  if (d < 0.02) description = "No description available Story format";
  if (d > 0.98) description = "No description available";
  std::string tags = r.Unit() < 0.05 ? "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
                                     : "Merry Christmas To You,Holiday," + std::string(category);
  std::string kind = r.Unit() < 0.8 ? "image" : "video";
  std::string image =
      "https://i.pinimg.com/originals/0d/29/9f/" + std::to_string(r.Next()) + ".jpg";
  if (r.Unit() < 0.02) image = "Image src error.";
  int downloaded = 1;
  if (story) {
    title = "No Title Data Available";
    description = "No description available Story format";
    poster = "User Info Error";
    followers = "User Info Error";
    tags = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e";
    kind = "multi-video(story page format)";
    image = "Image src error.";
    downloaded = 0;
  }
  std::string index_text = std::to_string(ind);
  std::string downloaded_text = std::to_string(downloaded);
  std::string title_json = Quote(title);
  if (dirty) {
    switch (dirt_rng.Uniform(8)) {
      case 0:
        index_text = Quote(index_text);
        break;
      case 1:
        followers = "1.5k";
        break;
      case 2:
        return "{\"index\": " + index_text + ", \"title\": \"truncated";
      case 3:
        return "{\"unique_id\": " + Quote(uuid) + ", \"category\": " + Quote(category) + "}";
      case 4:
        title_json = "42";
        break;
      case 5:
        downloaded_text = "\"1\"";
        break;
      case 6:
        title_json = "\"\"";
        break;
      default:
        return "[1, 2]";
    }
  }
  return "{\"index\": " + index_text + ", \"unique_id\": " + Quote(uuid) +
         ", \"title\": " + title_json + ", \"description\": " + Quote(description) +
         ", \"poster_name\": " + Quote(poster) + ", \"follower_count\": " + Quote(followers) +
         ", \"tag_list\": " + Quote(tags) + ", \"is_image_or_video\": " + Quote(kind) +
         ", \"image_src\": " + Quote(image) + ", \"downloaded\": " + downloaded_text +
         ", \"save_location\": " + Quote(std::string("Local save in /data/") + category) +
         ", \"category\": " + Quote(category) + "}";
}

std::string GeoRecord(uint64_t seed, int64_t ind, Rng& dirt_rng, bool dirty) {
  Rng r(Mix(seed * 37 + static_cast<uint64_t>(ind)));
  std::string ts = Timestamp(r, 2017, 7, false);  // 2017..2023: some out of 2018..2022
  char lat[32], lon[32];
  std::snprintf(lat, sizeof(lat), "%.4f", r.Unit() * 180 - 90);
  std::snprintf(lon, sizeof(lon), "%.3f", r.Unit() * 360 - 180);
  std::string country = r.Unit() < 0.01 ? "" : kCountries[r.Skewed(28)];
  std::string ind_text = std::to_string(ind);
  std::string lat_json = lat, lon_json = lon;
  std::string ts_json = Quote(ts);
  if (dirty) {
    switch (dirt_rng.Uniform(7)) {
      case 0:
        ts[10] = 'T';
        ts_json = Quote(ts);
        break;
      case 1:
        ts_json = Quote(ts + "Z");
        break;
      case 2:
        ts_json = Quote(ts + ".5+00:00");
        break;
      case 3:
        ts_json = "\"yesterday\"";
        break;
      case 4:
        lat_json = Quote(lat);
        break;
      case 5:
        return "{\"ind\": " + Quote(ind_text) + ", \"timestamp\": " + ts_json +
               ", \"country\": " + Quote(country) + "}";
      default:
        ind_text = Quote(ind_text);
        break;
    }
  }
  return "{\"ind\": " + ind_text + ", \"timestamp\": " + ts_json + ", \"latitude\": " + lat_json +
         ", \"longitude\": " + lon_json + ", \"country\": " + Quote(country) + "}";
}

std::string UserRecord(uint64_t seed, int64_t ind, Rng& dirt_rng, bool dirty) {
  Rng r(Mix(seed * 41 + static_cast<uint64_t>(ind)));
  std::string first = kFirst[r.Skewed(12)];
  std::string last = kLast[r.Uniform(11)];
  std::string age = std::to_string(15 + r.Skewed(51));
  // Mostly 2015..2017 as in the original; a few outside 2015..2020 and inside.
  double y = r.Unit();
  int y0 = y < 0.02 ? 2014 : (y < 0.05 ? 2018 : (y < 0.07 ? 2021 : 2015));
  std::string joined = Quote(Timestamp(r, y0, y0 == 2015 ? 3 : 1, false));
  if (dirty) {
    switch (dirt_rng.Uniform(6)) {
      case 0:
        age = Quote(age);
        break;
      case 1:
        age = "null";
        break;
      case 2:
        age = "\"abc\"";
        break;
      case 3:
        first = "";
        break;
      case 4:
        joined = "\"2017-02-30 10:00:00\"";
        break;
      default:
        return "\n{\"ind\": " + std::to_string(ind) + ", \"first_name\": " + Quote(first) +
               ", \"last_name\": " + Quote(last) + ", \"age\": " + age +
               ", \"date_joined\": " + joined + "}";
    }
  }
  return "{\"ind\": " + std::to_string(ind) + ", \"first_name\": " + Quote(first) +
         ", \"last_name\": " + Quote(last) + ", \"age\": " + age + ", \"date_joined\": " + joined +
         "}";
}

std::string Gzip(const std::string& plain) {
  z_stream zs{};
  deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, plain.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

bool GenerateSink(const std::string& lake_dir, const SinkGenOptions& o, SinkGenStats* stats) {
  namespace fs = std::filesystem;
  const char* tables[] = {"pin", "geo", "user"};
  // The emulator picks the same post for all three topics.
  Rng picks(Mix(o.seed));
  std::vector<int64_t> inds(o.records);
  for (auto& ind : inds) ind = picks.Uniform(o.posts);
  for (int t = 0; t < 3; ++t) {
    std::string topic = o.prefix + "." + tables[t];
    Rng dirt(Mix(o.seed * 1000 + t));
    std::vector<std::string> buffers(o.partitions);
    std::vector<int64_t> start(o.partitions, 0), count(o.partitions, 0);
    auto flush = [&](int p) -> bool {
      if (count[p] == 0) return true;
      char name[64];
      std::snprintf(name, sizeof(name), "+%d+%010lld.json%s", p, static_cast<long long>(start[p]),
                    o.gzip ? ".gz" : "");
      fs::path dir = fs::path(lake_dir) / "topics" / topic / ("partition=" + std::to_string(p));
      std::error_code ec;
      fs::create_directories(dir, ec);
      std::string data = o.gzip ? Gzip(buffers[p]) : buffers[p];
      std::ofstream out(dir / (topic + name), std::ios::binary);
      out << data;
      if (!out) {
        std::fprintf(stderr, "cannot write %s\n", (dir / (topic + name)).c_str());
        return false;
      }
      if (stats) {
        ++stats->objects;
        stats->bytes += static_cast<int64_t>(data.size());
      }
      start[p] += count[p];
      count[p] = 0;
      buffers[p].clear();
      return true;
    };
    for (int64_t i = 0; i < o.records; ++i) {
      int64_t ind = inds[i];
      bool dirty = o.dirt > 0 && dirt.Unit() < o.dirt;
      int p = static_cast<int>(Mix(static_cast<uint64_t>(ind)) % o.partitions);
      std::string rec = t == 0   ? PinRecord(o.seed, ind, dirt, dirty)
                        : t == 1 ? GeoRecord(o.seed, ind, dirt, dirty)
                                 : UserRecord(o.seed, ind, dirt, dirty);
      buffers[p] += rec;
      buffers[p] += '\n';
      if (++count[p] == o.per_object && !flush(p)) return false;
    }
    for (int p = 0; p < o.partitions; ++p) {
      if (!flush(p)) return false;
    }
  }
  return true;
}

}  // namespace pinpipe::testing
