#include "pinpipe/log/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pinpipe::log {
namespace {

TEST(Crc32cTest, MatchesKnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnAllLengthsAndAlignments) {
  std::mt19937 rng(7);
  std::string data(1000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; len + start <= data.size(); len += 37) {
      EXPECT_EQ(Crc32cExtend(0, data.data() + start, len),
                Crc32cExtendPortable(0, data.data() + start, len));
    }
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeAcrossTheThreeStreamBlocks) {
  // The hardware path joins three streams of 8 KiB and of 256 bytes: check
  // lengths around those blocks, from unaligned starts, and a chained extend.
  std::mt19937 rng(11);
  std::string data(200'000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t len : {767u, 768u, 769u, 24'575u, 24'576u, 24'577u, 49'152u, 60'001u, 199'990u}) {
    for (size_t start = 0; start < 3; ++start) {
      EXPECT_EQ(Crc32cExtend(0, data.data() + start, len),
                Crc32cExtendPortable(0, data.data() + start, len))
          << len << " from " << start;
    }
  }
  const uint32_t first = Crc32cExtend(0, data.data(), 30'000);
  EXPECT_EQ(Crc32cExtend(first, data.data() + 30'000, 100'000),
            Crc32cExtendPortable(0, data.data(), 130'000));
}

TEST(Crc32cTest, ExtendIsIncremental) {
  const std::string a = "hello, ";
  const std::string b = "world";
  EXPECT_EQ(Crc32cExtend(Crc32c(a), b.data(), b.size()), Crc32c(a + b));
}

}  // namespace
}  // namespace pinpipe::log
