#include "pinpipe/kafka_api/records.h"

#include <gtest/gtest.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zstd.h>

#include <limits>

#include "pinpipe/base/gzip.h"
#include "pinpipe/kafka_api/protocol.h"
#include "pinpipe/log/crc32c.h"

namespace pinpipe::kafka_api {
namespace {

std::vector<broker::StoredRecord> Sample() {
  std::vector<broker::StoredRecord> v(3);
  v[0].offset = 10;
  v[0].timestamp_ms = 1000;
  v[0].key = "k";
  v[0].value = "v";
  v[0].headers = {{"h1", "x"}, {"h2", ""}};
  v[1].offset = 11;
  v[1].timestamp_ms = 999;  // a smaller timestamp than the first: negative delta
  v[1].value = std::string(300, 'y');
  v[2].offset = 12;
  v[2].timestamp_ms = 2000;
  v[2].key = "";
  return v;
}

TEST(RecordsTest, EncodedBatchDecodesToTheSameRecords) {
  std::string batch;
  EncodeBatch(Sample(), &batch);
  Reader r(batch);
  EXPECT_EQ(r.Int64(), 10);                                       // base offset
  EXPECT_EQ(r.Int32(), static_cast<int32_t>(batch.size() - 12));  // batch length
  std::vector<broker::Record> out;
  std::vector<std::string> scratch;
  ProducedBatches info;
  ASSERT_EQ(DecodeBatches(batch, 4, &out, &info, &scratch), kNone);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(info.record_count, 3);
  EXPECT_EQ(info.producer_id, -1);
  const auto in = Sample();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].key, in[i].key);
    EXPECT_EQ(out[i].value, in[i].value);
    EXPECT_EQ(out[i].headers, in[i].headers);
    EXPECT_EQ(out[i].timestamp_ms, in[i].timestamp_ms);
    EXPECT_EQ(out[i].partition, 4);
  }
}

// Fetch writes the length before the batch: the size must be exact, for
// batches larger than one CRC slice too, and appending after other bytes.
TEST(RecordsTest, EncodedSizeIsWhatEncodeAppendsAndLargeBatchesCheckOut) {
  std::vector<broker::StoredRecord> in = Sample();
  for (int i = 0; i < 300; ++i) {  // ~300 KiB: several 64 KiB CRC slices
    broker::StoredRecord& r = in.emplace_back();
    r.offset = 13 + i;
    r.timestamp_ms = 2000 + i;
    r.value = std::string(1024, static_cast<char>('a' + i % 26));
    if (i % 3 == 0) r.key = "key" + std::to_string(i);
    if (i % 5 == 0) r.headers = {{"h", std::to_string(i)}};
  }
  std::string out = "prefix";
  EXPECT_EQ(EncodedBatchSize(std::vector<broker::StoredRecord>{}), 0u);
  EncodeBatch(std::vector<broker::StoredRecord>{}, &out);
  EXPECT_EQ(out, "prefix");
  const size_t size = EncodedBatchSize(in);
  EncodeBatch(in, &out);
  ASSERT_EQ(out.size(), 6 + size);
  const std::string_view batch = std::string_view(out).substr(6);
  std::vector<broker::Record> back;
  std::vector<std::string> scratch;
  ProducedBatches info;
  ASSERT_EQ(DecodeBatches(batch, 0, &back, &info, &scratch), kNone);  // the CRC checks out
  ASSERT_EQ(back.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(back[i].key, in[i].key) << i;
    EXPECT_EQ(back[i].value, in[i].value) << i;
    EXPECT_EQ(back[i].headers, in[i].headers) << i;
    EXPECT_EQ(back[i].timestamp_ms, in[i].timestamp_ms) << i;
  }
  // The log's record views encode to the same bytes.
  std::vector<log::LogRecordRef> refs;
  for (const auto& r : in) {
    log::LogRecordRef& ref = refs.emplace_back();
    ref.offset = r.offset;
    ref.timestamp_ms = r.timestamp_ms;
    if (r.key) ref.key = *r.key;
    if (r.value) ref.value = *r.value;
    for (const auto& h : r.headers) ref.headers.emplace_back(h.key, h.value);
  }
  EXPECT_EQ(EncodedBatchSize(refs), size);
  std::string from_refs;
  EncodeBatch(refs, &from_refs);
  EXPECT_EQ(from_refs, batch);
}

// Timestamps are the producer's: a batch may hold the smallest and the largest
// int64 at once, whose delta overflows int64. Deltas wrap as in Kafka's Java
// code (no signed overflow, which UBSan reports) and every timestamp survives.
TEST(RecordsTest, TimestampsAtBothEndsOfInt64RoundTrip) {
  std::vector<broker::StoredRecord> in(3);
  in[0].offset = 0;
  in[0].timestamp_ms = std::numeric_limits<int64_t>::max();
  in[1].offset = 1;
  in[1].timestamp_ms = std::numeric_limits<int64_t>::min();
  in[2].offset = 2;
  in[2].timestamp_ms = -1;
  std::string batch;
  EncodeBatch(in, &batch);
  std::vector<broker::Record> out;
  std::vector<std::string> scratch;
  ProducedBatches info;
  ASSERT_EQ(DecodeBatches(batch, 0, &out, &info, &scratch), kNone);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(out[i].timestamp_ms, in[i].timestamp_ms) << i;
}

TEST(RecordsTest, BadCrcTruncationAndOldMagicAppendNothing) {
  std::string batch;
  EncodeBatch(Sample(), &batch);
  std::vector<broker::Record> out;
  std::vector<std::string> scratch;
  ProducedBatches info;
  std::string bad = batch;
  bad.back() ^= 1;
  EXPECT_EQ(DecodeBatches(bad, 0, &out, &info, &scratch), kCorruptMessage);
  // A good batch followed by a truncated one: neither is taken.
  EXPECT_EQ(DecodeBatches(batch + batch.substr(0, 30), 0, &out, &info, &scratch), kCorruptMessage);
  bad = batch;
  bad[16] = 1;  // magic 1
  EXPECT_EQ(DecodeBatches(bad, 0, &out, &info, &scratch), kInvalidRecord);
  EXPECT_TRUE(out.empty());
}

// `batch` (one uncompressed batch) with its records compressed by `codec`
// (attributes & 7) and the CRC recomputed, as a producer sends it.
std::string Compress(const std::string& batch, int codec) {
  constexpr size_t kHeader = 61;
  const std::string plain = batch.substr(kHeader);
  std::string packed;
  switch (codec) {
    case 1:
      packed = *Gzip(plain);
      break;
    case 2:
      snappy::Compress(plain.data(), plain.size(), &packed);
      break;
    case 3:
      packed.resize(LZ4F_compressFrameBound(plain.size(), nullptr));
      packed.resize(
          LZ4F_compressFrame(packed.data(), packed.size(), plain.data(), plain.size(), nullptr));
      break;
    case 4:
      packed.resize(ZSTD_compressBound(plain.size()));
      packed.resize(ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 3));
      break;
  }
  std::string out = batch.substr(0, kHeader) + packed;
  std::string len;
  Writer(&len).Int32(static_cast<int32_t>(out.size() - 12));
  out.replace(8, 4, len);
  out[22] = static_cast<char>(codec);  // low byte of attributes
  std::string crc;
  Writer(&crc).Int32(static_cast<int32_t>(log::Crc32cExtend(0, out.data() + 21, out.size() - 21)));
  out.replace(17, 4, crc);
  return out;
}

TEST(RecordsTest, EveryCodecDecodesToTheSameRecords) {
  std::string batch;
  EncodeBatch(Sample(), &batch);
  for (int codec : {1, 2, 3, 4}) {
    SCOPED_TRACE(codec);
    const std::string packed = Compress(batch, codec);
    std::vector<broker::Record> out;
    std::vector<std::string> scratch;
    ProducedBatches info;
    ASSERT_EQ(DecodeBatches(packed, 0, &out, &info, &scratch), kNone);
    ASSERT_EQ(out.size(), 3u);
    const auto in = Sample();
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(out[i].key, in[i].key);
      EXPECT_EQ(out[i].value, in[i].value);
      EXPECT_EQ(out[i].headers, in[i].headers);
    }
    // A corrupted compressed body with a valid CRC is CORRUPT_MESSAGE, nothing appended.
    std::string bad = packed.substr(0, packed.size() - 4);
    std::string len;
    Writer(&len).Int32(static_cast<int32_t>(bad.size() - 12));
    bad.replace(8, 4, len);
    std::string crc;
    Writer(&crc).Int32(
        static_cast<int32_t>(log::Crc32cExtend(0, bad.data() + 21, bad.size() - 21)));
    bad.replace(17, 4, crc);
    out.clear();
    EXPECT_EQ(DecodeBatches(bad, 0, &out, &info, &scratch), kCorruptMessage);
    EXPECT_TRUE(out.empty());
  }
}

TEST(ProtocolTest, VarintsAndCompactTypesRoundTrip) {
  std::string s;
  Writer w(&s);
  for (int64_t v : {0LL, -1LL, 1LL, 63LL, -64LL, 1LL << 40, -(1LL << 62)}) w.Varlong(v);
  w.String("abc", true);
  w.NullableString(std::nullopt, true);
  w.ArrayLength(-1, true);
  w.UnsignedVarint(300);
  Reader r(s);
  for (int64_t v : {0LL, -1LL, 1LL, 63LL, -64LL, 1LL << 40, -(1LL << 62)}) {
    EXPECT_EQ(r.Varlong(), v);
  }
  EXPECT_EQ(r.String(true), "abc");
  EXPECT_FALSE(r.NullableString(true).has_value());
  EXPECT_EQ(r.ArrayLength(true), -1);
  EXPECT_EQ(r.UnsignedVarint(), 300u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  (void)r.Int32();  // past the end
  EXPECT_FALSE(r.ok());
}

TEST(ProtocolTest, LengthsBeyondTheInputFail) {
  std::string s;
  Writer w(&s);
  w.Int32(1000);  // array of 1000 elements in 0 bytes
  Reader r(s);
  EXPECT_EQ(r.ArrayLength(false), 0);
  EXPECT_FALSE(r.ok());
  s.clear();
  w.Int16(50);
  w.Raw("short");
  Reader r2(s);
  (void)r2.String(false);
  EXPECT_FALSE(r2.ok());
}

}  // namespace
}  // namespace pinpipe::kafka_api
