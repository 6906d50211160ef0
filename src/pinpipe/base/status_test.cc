#include "pinpipe/base/status.h"

#include <gtest/gtest.h>

namespace pinpipe {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  PINPIPE_ASSIGN_OR_RETURN(int half, Half(x));
  PINPIPE_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  PINPIPE_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = NotFoundError("topic 'x' not found");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: topic 'x' not found");
  EXPECT_EQ(s.WithContext("produce").message(), "produce: topic 'x' not found");
}

TEST(StatusTest, RetriableCodes) {
  EXPECT_TRUE(IsRetriable(UnavailableError("x")));
  EXPECT_TRUE(IsRetriable(AbortedError("x")));
  EXPECT_FALSE(IsRetriable(InvalidArgumentError("x")));
  EXPECT_FALSE(IsRetriable(DataLossError("x")));
}

TEST(ResultTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
  EXPECT_EQ(Quarter(6).value_or(-1), -1);
}

}  // namespace
}  // namespace pinpipe
