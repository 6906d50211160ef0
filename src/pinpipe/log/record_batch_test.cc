#include "pinpipe/log/record_batch.h"

#include <gtest/gtest.h>

namespace pinpipe::log {
namespace {

TEST(RecordBatchTest, RoundTripsKeysValuesNullsAndHeaders) {
  std::vector<RecordView> in(3);
  in[0].key = "k1";
  in[0].value = "v1";
  in[0].timestamp_ms = 100;
  in[1].value = std::string_view("");
  in[1].timestamp_ms = 300;
  in[1].headers = {{"h", "x"}, {"", ""}};
  in[2].key = "k3";  // null value: a tombstone
  in[2].timestamp_ms = 200;
  std::string bytes;
  EncodeBatch(42, in, &bytes);
  auto h = DecodeBatchHeader(bytes);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->base_offset, 42);
  EXPECT_EQ(h->record_count, 3u);
  EXPECT_EQ(h->TotalSize(), bytes.size());
  EXPECT_EQ(h->first_timestamp, 100);
  EXPECT_EQ(h->max_timestamp, 300);
  std::vector<LogRecord> out;
  ASSERT_TRUE(DecodeBatch(bytes, *h, 43, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].offset, 43);
  EXPECT_FALSE(out[0].key.has_value());
  EXPECT_EQ(out[0].value, "");
  ASSERT_EQ(out[0].headers.size(), 2u);
  EXPECT_EQ(out[0].headers[0].first, "h");
  EXPECT_EQ(out[1].key, "k3");
  EXPECT_FALSE(out[1].value.has_value());
}

TEST(RecordBatchTest, EveryFlippedByteIsDetected) {
  std::vector<RecordView> in(2);
  in[0].key = "key";
  in[0].value = "value";
  in[1].value = "another";
  std::string bytes;
  EncodeBatch(0, in, &bytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    auto h = DecodeBatchHeader(bad);
    std::vector<LogRecord> out;
    const bool ok = h.ok() && h->TotalSize() == bad.size() && DecodeBatch(bad, *h, 0, &out).ok() &&
                    h->base_offset == 0;
    EXPECT_FALSE(ok) << "flip at byte " << i << " went unnoticed";
  }
}

TEST(RecordBatchTest, RejectsBadHeaders) {
  EXPECT_EQ(DecodeBatchHeader("short").status().code(), StatusCode::kDataLoss);
  std::string zeros(kBatchHeaderSize, '\0');
  EXPECT_EQ(DecodeBatchHeader(zeros).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace pinpipe::log
