#include "pinpipe/api/shards.h"

#include <gtest/gtest.h>

#include "pinpipe/api/codec.h"

namespace pinpipe::api {
namespace {

TEST(ShardsTest, U128DecimalRoundTrips) {
  EXPECT_EQ(U128ToDecimal(0), "0");
  EXPECT_EQ(U128ToDecimal(kMaxHashKey), "340282366920938463463374607431768211455");
  auto v = ParseU128("340282366920938463463374607431768211455");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, kMaxHashKey);
  EXPECT_FALSE(ParseU128("340282366920938463463374607431768211456"));  // 2^128
  EXPECT_FALSE(ParseU128(""));
  EXPECT_FALSE(ParseU128("-1"));
  EXPECT_FALSE(ParseU128("01"));
  EXPECT_FALSE(ParseU128("12a"));
}

TEST(ShardsTest, EvenSplitMatchesKinesis) {
  // h = floor(2^128 / 3)
  HashKeyRange r0 = ShardRange(0, 3), r1 = ShardRange(1, 3), r2 = ShardRange(2, 3);
  EXPECT_EQ(U128ToDecimal(r0.start), "0");
  EXPECT_EQ(U128ToDecimal(r0.end), "113427455640312821154458202477256070484");
  EXPECT_EQ(U128ToDecimal(r1.start), "113427455640312821154458202477256070485");
  EXPECT_EQ(r2.end, kMaxHashKey);
  EXPECT_EQ(r1.end + 1, r2.start);
  // Powers of two split exactly.
  EXPECT_EQ(ShardRange(1, 2).start, static_cast<uint128>(1) << 127);
  EXPECT_EQ(ShardRange(0, 1).end, kMaxHashKey);
}

TEST(ShardsTest, PartitionKeyHashesWithMd5BigEndian) {
  EXPECT_EQ(U128ToDecimal(HashPartitionKey("partition-1")),
            "198019941650871988756153596255032211816");
  EXPECT_EQ(ShardForHashKey(HashPartitionKey("partition-1"), 5), 2);
  EXPECT_EQ(ShardForHashKey(HashPartitionKey("a"), 5), 0);
  EXPECT_EQ(ShardForHashKey(kMaxHashKey, 5), 4);
  EXPECT_EQ(ShardForHashKey(0, 5), 0);
  for (int n : {1, 2, 3, 5, 7, 64}) {
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(ShardForHashKey(ShardRange(i, n).start, n), i);
      EXPECT_EQ(ShardForHashKey(ShardRange(i, n).end, n), i);
    }
  }
}

TEST(ShardsTest, ShardIdsAndSequenceNumbers) {
  EXPECT_EQ(ShardId(3), "shardId-000000000003");
  EXPECT_EQ(ParseShardId("shardId-000000000003"), 3);
  EXPECT_FALSE(ParseShardId("shardId-3"));
  EXPECT_FALSE(ParseShardId("shardId-00000000000x"));
  std::string a = SequenceNumber(2, 9), b = SequenceNumber(2, 10);
  EXPECT_LT(a, b);
  EXPECT_EQ(a.size(), 38u);
  auto p = ParseSequenceNumber(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->shard, 2);
  EXPECT_EQ(p->offset, 10);
  EXPECT_FALSE(ParseSequenceNumber("123"));
  EXPECT_FALSE(ParseSequenceNumber(std::string(38, '9')));
}

TEST(CodecTest, Base64IsStrict) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_FALSE(Base64Decode("Zm9"));
  EXPECT_FALSE(Base64Decode("Zm=v"));
  EXPECT_FALSE(Base64Decode("Zm9v\n"));
  EXPECT_FALSE(Base64Decode("Z!9v"));
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(Base64Decode(Base64Encode(all)), all);
}

TEST(CodecTest, JsonStringEscapes) {
  std::string out;
  AppendJsonString(std::string("a\"b\\c\n\x01", 7), &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace pinpipe::api
