#include "pinpipe/clean/cleaner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pinpipe/clean/rules.h"

namespace pinpipe::clean {
namespace {

constexpr char kStoryRow[] =
    R"J({"index": 7528, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", "title": "No Title Data Available", "description": "No description available Story format", "poster_name": "User Info Error", "follower_count": "User Info Error", "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "is_image_or_video": "multi-video(story page format)", "image_src": "Image src error.", "downloaded": 0, "save_location": "Local save in /data/mens-fashion", "category": "mens-fashion"})J";

TEST(RecordCleanerTest, PinStoryRowBecomesNulls) {
  RecordCleaner cleaner;
  PinRow row;
  ASSERT_TRUE(cleaner.CleanPin(kStoryRow, &row).ok());
  EXPECT_EQ(row.ind, 7528);
  EXPECT_EQ(row.unique_id, "fbe53c66-3442-4773-b19e-d3ec6f54dddf");
  EXPECT_FALSE(row.title);
  EXPECT_FALSE(row.description);
  EXPECT_FALSE(row.poster_name);
  EXPECT_FALSE(row.follower_count);
  EXPECT_FALSE(row.follower_count_rejected);  // a placeholder is not a rejection
  EXPECT_FALSE(row.tag_list);
  EXPECT_FALSE(row.image_src);
  EXPECT_EQ(row.is_image_or_video, "multi-video(story page format)");
  EXPECT_EQ(row.save_location, "/data/mens-fashion");
  EXPECT_EQ(row.category, "mens-fashion");
}

TEST(RecordCleanerTest, PinCoercesStringsAndCounts) {
  RecordCleaner cleaner;
  PinRow row;
  ASSERT_TRUE(cleaner
                  .CleanPin(R"J({"index": "42", "downloaded": "1", "follower_count": "892k",
                    "title": "", "poster_name": "9GAG", "extra": {"x": [1, 2]}, "category": 7})J",
                            &row)
                  .ok());
  EXPECT_EQ(row.ind, 42);
  EXPECT_EQ(row.follower_count, 892000);
  EXPECT_FALSE(row.title);  // empty string -> null
  EXPECT_EQ(row.poster_name, "9GAG");
  EXPECT_EQ(row.category, "7");  // a number in a text column keeps its text
  EXPECT_FALSE(row.unique_id);   // missing -> null
}

TEST(RecordCleanerTest, PinBadFollowerCountKeepsRow) {
  RecordCleaner cleaner;
  PinRow row;
  ASSERT_TRUE(cleaner.CleanPin(R"J({"index": 1, "follower_count": "1.5k"})J", &row).ok());
  EXPECT_FALSE(row.follower_count);
  EXPECT_TRUE(row.follower_count_rejected);
  ASSERT_TRUE(cleaner.CleanPin(R"J({"index": 1, "follower_count": 437})J", &row).ok());
  EXPECT_EQ(row.follower_count, 437);
  EXPECT_FALSE(row.follower_count_rejected);
  ASSERT_TRUE(cleaner.CleanPin(R"J({"index": 1, "follower_count": ""})J", &row).ok());
  EXPECT_FALSE(row.follower_count_rejected);
}

TEST(RecordCleanerTest, RejectsWithReasons) {
  RecordCleaner cleaner;
  PinRow pin;
  GeoRow geo;
  UserRow user;
  auto reason = [](const Status& s) { return s.ok() ? std::string("OK") : s.message(); };
  EXPECT_EQ(reason(cleaner.CleanPin("not json", &pin)), "not a JSON object");
  EXPECT_EQ(reason(cleaner.CleanPin("[1, 2]", &pin)), "not a JSON object");
  EXPECT_EQ(reason(cleaner.CleanPin("42", &pin)), "not a JSON object");
  EXPECT_EQ(reason(cleaner.CleanPin(R"J({"title": "x"})J", &pin)), "missing field 'index'");
  EXPECT_EQ(reason(cleaner.CleanPin(R"J({"index": null})J", &pin)), "missing field 'index'");
  EXPECT_EQ(reason(cleaner.CleanPin(R"J({"index": "abc"})J", &pin)),
            "field 'index' is not an integer: \"abc\"");
  EXPECT_EQ(reason(cleaner.CleanPin(R"J({"index": 1.5})J", &pin)),
            "field 'index' is not an integer: \"1.5\"");
  EXPECT_EQ(reason(cleaner.CleanPin(R"J({"index": 1, "title": {"a": 1}})J", &pin)),
            "field 'title' is an object or array, not text");
  EXPECT_EQ(reason(cleaner.CleanPin(R"J({"index": 1, "downloaded": "yes"})J", &pin)),
            "field 'downloaded' is not an integer: \"yes\"");
  EXPECT_EQ(reason(cleaner.CleanGeo(R"J({"ind": 1, "timestamp": "yesterday"})J", &geo)),
            "field 'timestamp' is not a timestamp: \"yesterday\"");
  EXPECT_EQ(reason(cleaner.CleanGeo(R"J({"ind": 1, "latitude": "north"})J", &geo)),
            "field 'latitude' is not a number: \"north\"");
  EXPECT_EQ(reason(cleaner.CleanUser(R"J({"ind": 1, "age": true})J", &user)),
            "field 'age' is a boolean, not an integer");
  EXPECT_EQ(reason(cleaner.CleanUser(R"J({"ind": 1, "date_joined": 20170101})J", &user)),
            "field 'date_joined' is a number, not a timestamp string");
  EXPECT_EQ(reason(cleaner.CleanUser(R"J({"first_name": "A"})J", &user)), "missing field 'ind'");
  // A record that fails after a good one leaves the cleaner usable.
  EXPECT_EQ(reason(cleaner.CleanUser(R"J({"ind": 2, "age": "27"})J", &user)), "OK");
  EXPECT_EQ(user.age, 27);
}

TEST(RecordCleanerTest, GeoCoordinatesAndTimestamps) {
  RecordCleaner cleaner;
  GeoRow row;
  ASSERT_TRUE(
      cleaner
          .CleanGeo(R"J({"ind": 2418, "timestamp": "2022-05-27T11:30:59", "latitude": -88.4642,
                    "longitude": "-171.061", "country": "Antarctica (the territory South of 60 deg S)"})J",
                    &row)
          .ok());
  EXPECT_EQ(row.ind, 2418);
  EXPECT_EQ(row.latitude, -88.4642);
  EXPECT_EQ(row.longitude, -171.061);
  EXPECT_EQ(row.timestamp, ParseTimestampMicros("2022-05-27 11:30:59"));
  EXPECT_EQ(row.country, "Antarctica (the territory South of 60 deg S)");
  ASSERT_TRUE(cleaner.CleanGeo(R"J({"ind": 1, "timestamp": "2022-05-27 11:30:59"})J", &row).ok());
  EXPECT_FALSE(row.has_coordinates());
  EXPECT_EQ(row.timestamp, ParseTimestampMicros("2022-05-27T11:30:59"));
}

TEST(RecordCleanerTest, UserNameAgeDateJoined) {
  RecordCleaner cleaner;
  UserRow row;
  ASSERT_TRUE(cleaner
                  .CleanUser(R"J({"ind": 2015, "first_name": "Christopher", "last_name": "Bradshaw",
                    "age": 27, "date_joined": "2016-03-08T13:38:37"})J",
                             &row)
                  .ok());
  EXPECT_EQ(row.user_name, "Christopher Bradshaw");
  EXPECT_EQ(row.age, 27);
  EXPECT_EQ(row.date_joined, ParseTimestampMicros("2016-03-08 13:38:37"));
  ASSERT_TRUE(
      cleaner.CleanUser(R"J({"ind": 1, "last_name": "Ali", "first_name": null})J", &row).ok());
  EXPECT_EQ(row.user_name, "Ali");
  EXPECT_FALSE(row.age);
  EXPECT_FALSE(row.date_joined);
}

TEST(BatchCleanerTest, LinesRejectsAndDedupKeepFirst) {
  std::string data =
      "{\"ind\": 5, \"first_name\": \"A\", \"age\": 30}\n"
      "\n"
      "{\"ind\": 6, \"age\": \"x\"}\n"
      "{\"ind\": 5, \"first_name\": \"B\", \"age\": 31}\n"
      "{\"ind\": 7, \"first_name\": \"C\", \"age\": 19}";
  std::string buffer = data + std::string(64, '\0');
  BatchCleaner cleaner;
  cleaner.AddLines(TableKind::kUser, buffer.data(), data.size(), buffer.size(), "obj.json");
  CleanedBatch batch = cleaner.Take();
  frame::Table& user = batch.tables[static_cast<int>(TableKind::kUser)];
  EXPECT_EQ(batch.records[2], 4);
  EXPECT_EQ(batch.rejected[2], 1);
  ASSERT_EQ(batch.rejects.size(), 1u);
  EXPECT_EQ(batch.rejects[0].source, "obj.json");
  EXPECT_EQ(batch.rejects[0].position, 3);  // line 3 (the blank line counts)
  EXPECT_EQ(batch.rejects[0].reason, "field 'age' is not an integer: \"x\"");
  ASSERT_EQ(user.num_rows(), 3u);
  EXPECT_EQ(DropDuplicates(&user), 1);
  ASSERT_EQ(user.num_rows(), 2u);
  EXPECT_EQ(user.Get("ind").Int64At(0), 5);
  EXPECT_EQ(user.Get("user_name").StringAt(0), "A");  // the first arrival wins
  EXPECT_EQ(user.Get("age").Int64At(0), 30);
  EXPECT_EQ(user.Get("ind").Int64At(1), 7);
}

// A table handed back goes on emptied (no rows, no dictionary entries) and
// gives the same rows as a new one; one with other columns is not taken.
TEST(BatchCleanerTest, ReusedTablesCleanLikeNewOnes) {
  BatchCleaner fresh, reused;
  reused.AddRecord(TableKind::kPin, kStoryRow, "old", 1);
  CleanedBatch old = reused.Take();
  ASSERT_EQ(old.tables[0].num_rows(), 1u);
  EXPECT_FALSE(reused.Reuse(TableKind::kGeo, old.tables[0]));  // pin columns
  EXPECT_FALSE(reused.Reuse(TableKind::kPin, EmptyTable(TableKind::kPin, ColumnSet::kQueryOnly)));
  EXPECT_TRUE(reused.Reuse(TableKind::kPin, std::move(old.tables[0])));
  const std::string other =
      R"J({"index": 9, "poster_name": "p", "category": "art", "is_image_or_video": "image"})J";
  for (BatchCleaner* c : {&fresh, &reused}) c->AddRecord(TableKind::kPin, other, "new", 1);
  const frame::Table a = std::move(fresh.Take().tables[0]);
  const frame::Table b = std::move(reused.Take().tables[0]);
  ASSERT_EQ(a.num_rows(), 1u);
  ASSERT_EQ(b.num_rows(), 1u);
  ASSERT_EQ(a.names(), b.names());
  for (size_t c = 0; c < a.num_columns(); ++c) {
    ASSERT_EQ(a.column(c).IsNull(0), b.column(c).IsNull(0)) << a.name(c);
    if (a.column(c).IsNull(0)) continue;
    if (a.column(c).type() == frame::DataType::kInt64) {
      EXPECT_EQ(a.column(c).Int64At(0), b.column(c).Int64At(0)) << a.name(c);
    } else {
      EXPECT_EQ(a.column(c).StringAt(0), b.column(c).StringAt(0)) << a.name(c);
    }
    if (a.column(c).type() == frame::DataType::kDict) {
      EXPECT_EQ(b.column(c).DictSize(), 1u) << a.name(c);  // the old row's entries are gone
    }
  }
}

TEST(BatchCleanerTest, SparseIndsDedupWithHashSet) {
  BatchCleaner cleaner(ColumnSet::kQueryOnly);
  int64_t inds[] = {1000000000000, -5, 1000000000000, 3, -5, 42};
  for (int i = 0; i < 6; ++i) {
    cleaner.AddRecord(TableKind::kGeo, "{\"ind\": " + std::to_string(inds[i]) + "}", "s", i + 1);
  }
  CleanedBatch batch = cleaner.Take();
  frame::Table& geo = batch.tables[1];
  EXPECT_EQ(geo.num_columns(), 3u);
  EXPECT_EQ(DropDuplicates(&geo), 2);
  ASSERT_EQ(geo.num_rows(), 4u);
  EXPECT_EQ(geo.Get("ind").Int64At(0), 1000000000000);
  EXPECT_EQ(geo.Get("ind").Int64At(1), -5);
  EXPECT_EQ(geo.Get("ind").Int64At(2), 3);
  EXPECT_EQ(geo.Get("ind").Int64At(3), 42);
}

TEST(BatchCleanerTest, RecordByRecordEqualsLines) {
  // The streaming path (one record at a time) and the batch path (whole
  // buffers) must produce identical tables.
  std::string data;
  for (int i = 0; i < 50; ++i) {
    data += "{\"index\": " + std::to_string(i % 17) + ", \"follower_count\": \"" +
            std::to_string(i) + (i % 3 == 0 ? "k" : (i % 3 == 1 ? "M" : "x")) +
            "\", \"category\": \"c" + std::to_string(i % 4) + "\", \"title\": \"t" +
            std::to_string(i) + "\"}\n";
  }
  std::string buffer = data + std::string(64, '\0');
  BatchCleaner a, b;
  a.AddLines(TableKind::kPin, buffer.data(), data.size(), buffer.size(), "x");
  std::istringstream in(data);
  std::string line;
  int64_t pos = 0;
  while (std::getline(in, line)) b.AddRecord(TableKind::kPin, line, "x", ++pos);
  CleanedBatch ba = a.Take(), bb = b.Take();
  EXPECT_EQ(ba.follower_count_rejected, bb.follower_count_rejected);
  EXPECT_EQ(ba.follower_count_rejected, 16);
  const frame::Table& ta = ba.tables[0];
  const frame::Table& tb = bb.tables[0];
  ASSERT_EQ(ta.num_rows(), 50u);
  ASSERT_EQ(tb.num_rows(), 50u);
  for (size_t r = 0; r < 50; ++r) {
    EXPECT_EQ(ta.Get("ind").Int64At(r), tb.Get("ind").Int64At(r));
    EXPECT_EQ(ta.Get("follower_count").IsNull(r), tb.Get("follower_count").IsNull(r));
    EXPECT_EQ(ta.Get("title").StringAt(r), tb.Get("title").StringAt(r));
    EXPECT_EQ(ta.Get("category").StringAt(r), tb.Get("category").StringAt(r));
  }
}

std::string ReadFixture(const std::string& name) {
  const char* src = std::getenv("PINPIPE_SOURCE_DIR");
  std::string path = std::string(src ? src : ".") + "/tests/fixtures/original-sample/" + name;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BatchCleanerTest, OriginalSampleFixturesCleanWithoutRejects) {
  std::string pin = ReadFixture("pin.jsonl");
  std::string geo = ReadFixture("geo.jsonl");
  std::string user = ReadFixture("user.jsonl");
  ASSERT_FALSE(pin.empty()) << "fixtures not found under tests/fixtures/original-sample";
  BatchCleaner cleaner;
  for (auto [kind, text] : {std::pair{TableKind::kPin, &pin}, std::pair{TableKind::kGeo, &geo},
                            std::pair{TableKind::kUser, &user}}) {
    std::string buffer = *text + std::string(64, '\0');
    cleaner.AddLines(kind, buffer.data(), text->size(), buffer.size(), "fixture");
  }
  CleanedBatch batch = cleaner.Take();
  for (int k = 0; k < 3; ++k) {
    EXPECT_GT(batch.records[k], 100);
    EXPECT_EQ(batch.rejected[k], 0) << (batch.rejects.empty() ? "" : batch.rejects[0].reason);
    EXPECT_EQ(static_cast<int64_t>(batch.tables[k].num_rows()), batch.records[k]);
  }
  // Every follower_count in the sample is a placeholder or a valid count.
  EXPECT_EQ(batch.follower_count_rejected, 0);
  const frame::Table& p = batch.tables[0];
  for (size_t r = 0; r < p.num_rows(); ++r) {
    if (!p.Get("save_location").IsNull(r)) {
      EXPECT_TRUE(p.Get("save_location").StringAt(r).starts_with("/data/"));
    }
    if (!p.Get("title").IsNull(r)) {
      EXPECT_NE(p.Get("title").StringAt(r), "No Title Data Available");
    }
  }
  const frame::Table& g = batch.tables[1];
  for (size_t r = 0; r < g.num_rows(); ++r) {
    ASSERT_FALSE(g.Get("timestamp").IsNull(r));
    int year = YearOfMicros(g.Get("timestamp").Int64At(r));
    EXPECT_GE(year, 2017);
    EXPECT_LE(year, 2022);
    ASSERT_EQ(g.Get("coordinates").ListSize(r), 2u);
  }
}

}  // namespace
}  // namespace pinpipe::clean
