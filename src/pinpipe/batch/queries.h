// The eight analysis questions of spec/queries.md over the three cleaned,
// de-duplicated tables, on the frame engine.
//
// Thread-safety: pure functions of const tables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/frame/column.h"

namespace pinpipe::batch {

// The cleaned tables (one row per ind each), as produced by clean::BatchCleaner
// with either column set.
struct CleanTables {
  frame::Table pin;
  frame::Table geo;
  frame::Table user;
};

struct QuestionInfo {
  std::string_view id;     // "q1", "q2", "q3a", "q3b", "q4" ... "q8"
  std::string_view title;  // the question in words
};

// All questions in output order.
const std::vector<QuestionInfo>& Questions();

// Accepts "1", "q1", "3a", "q3a", "Q8"...; "3" means both 3a and 3b.
// InvalidArgument for anything else.
Result<std::vector<std::string>> ResolveQuestionIds(std::string_view spec);

// Answers one question; the result's rows are sorted by its key columns.
// InvalidArgument for an unknown id.
Result<frame::Table> RunQuestion(std::string_view id, const CleanTables& tables);

// "18-24", "25-35", "36-50", "+50", or "" (no group) for an age.
std::string_view AgeGroup(int64_t age);

}  // namespace pinpipe::batch
