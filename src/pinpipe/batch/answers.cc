#include "pinpipe/batch/answers.h"

#include <fstream>
#include <sstream>

#include "pinpipe/batch/render.h"

namespace pinpipe::batch {

std::filesystem::path AnswerFile(const std::filesystem::path& run_dir, std::string_view id) {
  return run_dir / (std::string(id) + ".json");
}

void WriteAnswer(const frame::Table& result, std::ostream& out) { WriteJson(result, out); }

Result<Answer> ParseAnswer(std::string_view text) {
  // ordered_json keeps the keys in file order, which is the column order.
  auto doc = nlohmann::ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    return DataLossError("an answer file must be a JSON array of rows");
  }
  Answer answer;
  for (const auto& row : doc) {
    if (!row.is_object()) return DataLossError("an answer row must be a JSON object");
    if (answer.rows.empty()) {
      for (const auto& item : row.items()) answer.columns.push_back(item.key());
    }
    if (row.size() != answer.columns.size()) {
      return DataLossError("answer rows must all have the columns of the first row");
    }
    std::vector<nlohmann::json> values;
    values.reserve(row.size());
    size_t i = 0;
    for (const auto& item : row.items()) {
      if (item.key() != answer.columns[i++]) {
        return DataLossError("answer rows must all have the columns of the first row");
      }
      values.push_back(nlohmann::json::parse(item.value().dump()));
    }
    answer.rows.push_back(std::move(values));
  }
  return answer;
}

Result<Answer> ReadAnswer(const std::filesystem::path& run_dir, std::string_view id) {
  const std::filesystem::path path = AnswerFile(run_dir, id);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("no answer file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return UnavailableError("cannot read " + path.string());
  auto answer = ParseAnswer(text.str());
  if (!answer.ok()) return answer.status().WithContext(path.string());
  return answer;
}

}  // namespace pinpipe::batch
