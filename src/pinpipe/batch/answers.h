// The answer files of a batch run, the one definition of their format shared
// by the writer (RunBatchJob with --out) and every reader (the dashboard's
// latest results, `pinpipe answers`): `<run dir>/<question id>.json`, a JSON
// array with one object per result row, its keys the result's columns in
// order, its values as render.h's WriteJson writes them.
//
// Thread-safety: pure functions (they read and write only the given files).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/frame/column.h"

namespace pinpipe::batch {

// <run_dir>/<id>.json
std::filesystem::path AnswerFile(const std::filesystem::path& run_dir, std::string_view id);

// Writes `result` in the answer-file format (render.h WriteJson).
void WriteAnswer(const frame::Table& result, std::ostream& out);

// One answer read back: its columns in order and its rows, each a list of
// values in column order. A result without rows has no columns (the file
// names them only in its rows).
struct Answer {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
};

// Reads AnswerFile(run_dir, id). NotFound when the file is missing, DataLoss
// when it is not an array of objects with the same keys.
Result<Answer> ReadAnswer(const std::filesystem::path& run_dir, std::string_view id);
// The same, from the file's text.
Result<Answer> ParseAnswer(std::string_view text);

}  // namespace pinpipe::batch
