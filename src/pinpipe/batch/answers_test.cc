#include "pinpipe/batch/answers.h"

#include <gtest/gtest.h>

#include <sstream>

namespace pinpipe::batch {
namespace {

TEST(AnswersTest, ReadsBackWhatTheWriterWrote) {
  frame::Table table;
  frame::Column name(frame::DataType::kString), median(frame::DataType::kDouble);
  name.AppendString("a \"quoted\" name");
  median.AppendDouble(1.5);
  name.AppendNull();
  median.AppendNull();
  table.AddColumn("name", std::move(name));
  table.AddColumn("median", std::move(median));
  std::ostringstream out;
  WriteAnswer(table, out);
  auto answer = ParseAnswer(out.str());
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->columns, (std::vector<std::string>{"name", "median"}));
  ASSERT_EQ(answer->rows.size(), 2u);
  EXPECT_EQ(answer->rows[0][0], "a \"quoted\" name");
  EXPECT_EQ(answer->rows[0][1], 1.5);
  EXPECT_TRUE(answer->rows[1][0].is_null());
  EXPECT_EQ(AnswerFile("/r/run-1", "q3a"), std::filesystem::path("/r/run-1/q3a.json"));
}

TEST(AnswersTest, AnEmptyResultHasNoColumns) {
  auto answer = ParseAnswer("[]\n");
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE(answer->columns.empty());
  EXPECT_TRUE(answer->rows.empty());
}

TEST(AnswersTest, RefusesWhatTheWriterNeverWrites) {
  for (const char* bad : {"{", "{}", "[1]", R"([{"a":1},{"b":1}])", R"([{"a":1},{"a":1,"b":2}])"}) {
    EXPECT_EQ(ParseAnswer(bad).status().code(), StatusCode::kDataLoss) << bad;
  }
  EXPECT_EQ(ReadAnswer("/nonexistent-pinpipe-dir", "q1").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pinpipe::batch
