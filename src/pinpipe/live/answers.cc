#include "pinpipe/live/answers.h"

#include <time.h>

#include <chrono>
#include <sstream>

#include "pinpipe/base/names.h"
#include "pinpipe/batch/queries.h"
#include "pinpipe/batch/render.h"
#include "pinpipe/table/delta_table.h"
#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::live {
namespace {

int64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

LiveAnswers::LiveAnswers(Clock* clock) : clock_(clock != nullptr ? clock : &Clock::Real()) {}

Result<RebuildReport> LiveAnswers::Rebuild(objstore::ObjectStore& tables,
                                           const std::string& prefix) {
  const auto start = std::chrono::steady_clock::now();
  Engine engine;
  RebuildReport report;
  for (clean::TableKind kind : clean::kAllTables) {
    const int k = static_cast<int>(kind);
    table::DeltaTable delta(tables, TableRoot(prefix, clean::TableKindName(kind)));
    auto snapshot = delta.Load();
    if (!snapshot.ok() && snapshot.status().code() == StatusCode::kNotFound) continue;
    if (!snapshot.ok()) return snapshot.status();
    report.versions[k] = snapshot->version;
    for (const auto& [path, add] : snapshot->files) {
      PINPIPE_ASSIGN_OR_RETURN(auto bytes, tables.Get(delta.Key(path)));
      PINPIPE_ASSIGN_OR_RETURN(auto file, table::ParquetFile::Open(std::move(bytes)));
      for (int rg = 0; rg < file.num_row_groups(); ++rg) {
        PINPIPE_ASSIGN_OR_RETURN(auto rows, file.ReadRowGroup(rg));
        PINPIPE_RETURN_IF_ERROR(engine.Apply(kind, rows));
        report.rows[k] += static_cast<int64_t>(rows.num_rows());
      }
      ++report.files;
    }
  }
  report.millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::lock_guard lock(mu_);
  engine_ = std::move(engine);
  for (int k = 0; k < 3; ++k) {
    inputs_[k] = InputState{};
    inputs_[k].delta_version = report.versions[k];
    inputs_[k].rows = report.rows[k];
  }
  rebuild_ = report;
  ++generation_;
  return report;
}

void LiveAnswers::SetPositions(clean::TableKind kind,
                               const std::map<std::string, std::string>& positions) {
  std::lock_guard lock(mu_);
  inputs_[static_cast<int>(kind)].positions = positions;
}

void LiveAnswers::OnCommit(const stream::CommitEvent& e) {
  std::lock_guard lock(mu_);
  InputState& in = inputs_[static_cast<int>(e.kind)];
  if (e.rows) {
    const int64_t cpu0 = ThreadCpuNanos();
    if (Status s = engine_.Apply(e.kind, *e.rows); !s.ok() && error_.ok()) error_ = s;
    apply_cpu_ns_ += ThreadCpuNanos() - cpu0;
    ++generation_;
    in.rows += static_cast<int64_t>(e.rows->num_rows());
    ++in.batches;
    in.committed_ms = clock_->NowMillis();
  }
  in.delta_version = e.table_version;
  in.positions = e.positions;
  if (e.lag_ms == 0) {
    in.reflects_until_ms = std::max(in.reflects_until_ms, e.read_started_ms);
  } else if (e.newest_arrival_ms > 0) {
    in.reflects_until_ms = std::max(in.reflects_until_ms, e.newest_arrival_ms);
  }
}

Result<frame::Table> LiveAnswers::Answer(std::string_view id) const {
  std::lock_guard lock(mu_);
  return engine_.Answer(id);
}

InputState LiveAnswers::input(clean::TableKind kind) const {
  std::lock_guard lock(mu_);
  return inputs_[static_cast<int>(kind)];
}

EngineStats LiveAnswers::stats() const {
  std::lock_guard lock(mu_);
  return engine_.stats();
}

nlohmann::json LiveAnswers::ToJson() const {
  std::vector<std::pair<std::string_view, frame::Table>> answers;
  InputState inputs[3];
  EngineStats stats;
  RebuildReport rebuild;
  Status error;
  int64_t apply_cpu_ns = 0, serve_cpu_ns = 0, serves = 0;
  const int64_t cpu0 = ThreadCpuNanos();
  uint64_t generation = 0;
  nlohmann::json questions;
  {
    std::lock_guard lock(mu_);
    apply_cpu_ns = apply_cpu_ns_;
    serve_cpu_ns = serve_cpu_ns_;
    serves = serves_;
    generation = generation_;
    // Pollers outnumber commits: the answers are rendered once per change.
    if (generation == cached_generation_) {
      questions = cached_questions_;
      stats = cached_stats_;
    } else {
      for (const auto& q : batch::Questions()) {
        auto t = engine_.Answer(q.id);
        answers.emplace_back(q.id, t.ok() ? std::move(*t) : frame::Table());
      }
      stats = engine_.stats();
    }
    for (int k = 0; k < 3; ++k) inputs[k] = inputs_[k];
    rebuild = rebuild_;
    error = error_;
  }
  const int64_t now = clock_->NowMillis();
  if (questions.is_null()) {
    questions = nlohmann::json::array();
    for (size_t i = 0; i < answers.size(); ++i) {
      const auto& info = batch::Questions()[i];
      const frame::Table& t = answers[i].second;
      nlohmann::json q = {{"id", info.id},
                          {"title", info.title},
                          {"columns", t.names()},
                          {"rows", nlohmann::json::array()}};
      // The batch's own JSON rendering, so both endpoints print values alike.
      std::ostringstream text;
      batch::WriteJson(t, text);
      auto rows = nlohmann::ordered_json::parse(text.str(), nullptr, false);
      if (rows.is_array()) {
        for (const auto& row : rows) {
          nlohmann::json values = nlohmann::json::array();
          for (const auto& item : row.items())
            values.push_back(nlohmann::json::parse(item.value().dump()));
          q["rows"].push_back(std::move(values));
        }
      }
      questions.push_back(std::move(q));
    }
    std::lock_guard lock(mu_);
    if (generation_ == generation) {
      cached_generation_ = generation;
      cached_questions_ = questions;
      cached_stats_ = stats;
    }
  }
  nlohmann::json out = {{"live", true}, {"updated_ms", now}, {"questions", std::move(questions)}};
  nlohmann::json as_of = nlohmann::json::object();
  int64_t oldest = -1;
  for (clean::TableKind kind : clean::kAllTables) {
    const InputState& in = inputs[static_cast<int>(kind)];
    as_of[std::string(clean::TableKindName(kind))] = {{"delta_version", in.delta_version},
                                                      {"positions", in.positions},
                                                      {"rows", in.rows},
                                                      {"batches", in.batches},
                                                      {"committed_ms", in.committed_ms},
                                                      {"reflects_until_ms", in.reflects_until_ms}};
    oldest = oldest < 0 ? in.reflects_until_ms : std::min(oldest, in.reflects_until_ms);
  }
  out["as_of"] = as_of;
  // How old the answers may be: every record accepted more than this long
  // ago is in them. Null until each stream has been read to its tip once.
  out["freshness_ms"] =
      oldest > 0 ? nlohmann::json(std::max<int64_t>(0, now - oldest)) : nlohmann::json();
  out["engine"] = {{"pending_inds", stats.pending_inds},
                   {"finished_inds", stats.finished_inds},
                   {"groups", stats.groups},
                   {"distinct_values", stats.distinct_values},
                   {"approx_bytes", stats.approx_bytes},
                   {"rebuild_ms", rebuild.millis},
                   {"rebuild_rows", rebuild.rows[0] + rebuild.rows[1] + rebuild.rows[2]},
                   {"apply_cpu_ms", apply_cpu_ns / 1'000'000},
                   {"serve_cpu_ms", serve_cpu_ns / 1'000'000},
                   {"serves", serves},
                   {"error", error.ok() ? "" : error.ToString()}};
  {
    std::lock_guard lock(mu_);
    serve_cpu_ns_ += ThreadCpuNanos() - cpu0;
    ++serves_;
  }
  return out;
}

Result<std::string> AnswersJsonToText(const nlohmann::json& answers) {
  if (!answers.is_object() || !answers.contains("questions") || !answers["questions"].is_array())
    return InvalidArgumentError("not an answers document (no \"questions\" array)");
  std::ostringstream out;
  for (const auto& q : answers["questions"]) {
    if (!q.is_object() || !q.contains("columns") || !q.contains("rows"))
      return InvalidArgumentError("not an answers document (a question lacks columns or rows)");
    const auto& columns = q["columns"];
    const auto& rows = q["rows"];
    frame::Table t;
    for (size_t c = 0; c < columns.size(); ++c) {
      bool ints = true;
      for (const auto& r : rows) {
        if (c < r.size() && !r[c].is_null() && !r[c].is_number_integer()) ints = false;
      }
      frame::Column col(ints ? frame::DataType::kInt64 : frame::DataType::kString);
      for (const auto& r : rows) {
        if (c >= r.size() || r[c].is_null()) {
          col.AppendNull();
        } else if (ints) {
          col.AppendInt64(r[c].get<int64_t>());
        } else {
          col.AppendString(r[c].is_string() ? r[c].get<std::string>() : r[c].dump());
        }
      }
      t.AddColumn(columns[c].get<std::string>(), std::move(col));
    }
    out << "\n" << q.value("id", "") << ": " << q.value("title", "") << "\n";
    batch::WriteTextTable(t, out);
  }
  return out.str();
}

}  // namespace pinpipe::live
