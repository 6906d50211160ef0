#include "pinpipe/base/gzip.h"

#include <gtest/gtest.h>

#include <random>

namespace pinpipe {
namespace {

// `printf 'hello\n' | gzip -n -9` and `printf 'world\n' | gzip -n`.
const std::string kHelloGz(
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\xe7\x02"
    "\x00\x20\x30\x3a\x36\x06\x00\x00\x00",
    26);
const std::string kWorldGz(
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x2b\xcf\x2f\xca\x49\xe1\x02"
    "\x00\xa8\x61\x38\xdd\x06\x00\x00\x00",
    26);

TEST(GunzipTest, ReadsWhatGzipWrites) {
  auto plain = Gunzip(kHelloGz);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, "hello\n");
}

// The copy that lived in sink/ stopped after the first member; gzip(1) and
// Kafka Connect's readers go on.
TEST(GunzipTest, ConcatenatesEveryMember) {
  auto plain = Gunzip(kHelloGz + kWorldGz + kHelloGz);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, "hello\nworld\nhello\n");
}

TEST(GunzipTest, EmptyInputAndEmptyMember) {
  EXPECT_EQ(*Gunzip(""), "");
  EXPECT_EQ(*Gunzip(*Gzip("")), "");
  EXPECT_EQ(*Gunzip(*Gzip("") + kWorldGz), "world\n");
}

TEST(GunzipTest, CorruptInputIsDataLoss) {
  std::string flipped = kHelloGz;
  flipped[12] ^= 0x55;  // inside the deflate data
  EXPECT_EQ(Gunzip(flipped).status().code(), StatusCode::kDataLoss);

  std::string bad_crc = kHelloGz;
  bad_crc[19] ^= 1;
  auto crc = Gunzip(bad_crc);
  EXPECT_EQ(crc.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(crc.status().message().find("check"), std::string::npos) << crc.status().ToString();

  EXPECT_EQ(Gunzip("not gzip at all").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Gunzip(kHelloGz + "garbage!").status().code(), StatusCode::kDataLoss);
}

TEST(GunzipTest, TruncatedInputIsDataLoss) {
  for (size_t n : {1, 8, 10, 15, 25}) {
    auto r = Gunzip(kHelloGz.substr(0, n));
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << n;
  }
  // A second member cut short is not silently dropped.
  EXPECT_EQ(Gunzip(kHelloGz + kWorldGz.substr(0, 20)).status().code(), StatusCode::kDataLoss);
}

TEST(GzipTest, RoundTripsLargeIncompressibleAndRepetitiveData) {
  std::mt19937 rng(7);
  std::string noise(3 << 20, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  std::string text;
  while (text.size() < (8 << 20)) text += "{\"ind\": 1, \"country\": \"Ísland\"}\n";
  for (const std::string* data : {&noise, &text}) {
    for (int level : {-1, 0, 1, 9}) {
      auto gz = Gzip(*data, level);
      ASSERT_TRUE(gz.ok());
      auto back = Gunzip(*gz);
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_TRUE(*back == *data) << "level " << level;
    }
  }
}

TEST(GzipTest, DeterministicAndRejectsBadLevel) {
  EXPECT_EQ(*Gzip("abc", 6), *Gzip("abc", 6));
  EXPECT_EQ(Gzip("abc", 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Gzip("abc", -2).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinpipe
