#include "pinpipe/stream/status.h"

#include <gtest/gtest.h>

namespace pinpipe::stream {
namespace {

TEST(StreamStatusTest, RoundTripsThroughJson) {
  QueryStatus s;
  s.stream = "streaming-p-pin";
  s.next_batch = 7;
  s.batches = 6;
  s.rows = 1234;
  s.rejected = 2;
  s.duplicates = 3;
  s.table_version = 9;
  s.lag_ms = 150;
  s.last_latency_p50_ms = 210;
  s.last_latency_p99_ms = 480;
  s.positions = {{"shardId-000000000000", "42"}};
  s.last_error = "Unavailable: store down";
  int64_t updated = 0;
  auto back = StatusesFromJson(StatusesToJson({s, QueryStatus{}}, 1'700'000'000'000), &updated);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  const QueryStatus& b = (*back)[0];
  EXPECT_EQ(updated, 1'700'000'000'000);
  EXPECT_EQ(b.stream, s.stream);
  EXPECT_EQ(b.next_batch, 7);
  EXPECT_EQ(b.batches, 6);
  EXPECT_EQ(b.rows, 1234);
  EXPECT_EQ(b.rejected, 2);
  EXPECT_EQ(b.duplicates, 3);
  EXPECT_EQ(b.table_version, 9);
  EXPECT_EQ(b.lag_ms, 150);
  EXPECT_EQ(b.last_latency_p50_ms, 210);
  EXPECT_EQ(b.last_latency_p99_ms, 480);
  EXPECT_EQ(b.positions, s.positions);
  EXPECT_EQ(b.last_error, s.last_error);
  EXPECT_EQ((*back)[1].table_version, -1);
  const std::string table = StatusesToTable(*back);
  EXPECT_NE(table.find("streaming-p-pin"), std::string::npos);
  EXPECT_NE(table.find("shardId-000000000000@42"), std::string::npos);
  EXPECT_NE(table.find("error: Unavailable: store down"), std::string::npos);
}

TEST(StreamStatusTest, RejectsWhatIsNotAStatusDocument) {
  for (const char* bad : {"", "[]", "{\"streams\":3}", "{\"streams\":[{\"rows\":\"x\"}]}", "{"}) {
    EXPECT_EQ(StatusesFromJson(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace pinpipe::stream
