// LiveAnswers: the Engine fed by the streaming job, with what it reflects.
//
// Exactly once by construction: the engine only ever sees rows of committed
// Delta versions (the streaming job's CommitListener runs after the commit),
// and on start it is rebuilt from the Delta tables themselves. Its state is
// therefore a function of what the three tables hold, which the streaming
// job keeps exactly once across crashes; an uninterrupted run and a run
// killed and restarted any number of times hold the same tables, so the same
// answers. `as_of` names the table versions and source positions reflected.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "pinpipe/base/clock.h"
#include "pinpipe/live/engine.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/stream/query.h"

namespace pinpipe::live {

struct InputState {
  int64_t delta_version = -1;
  std::map<std::string, std::string> positions;  // shard -> next source position
  int64_t rows = 0;                              // rows folded in
  int64_t batches = 0;                           // committed micro-batches folded in
  int64_t committed_ms = 0;                      // when the newest was folded in
  // Every record the stream accepted before this time is in the answers
  // (the read start of the newest batch that reached the stream's tip).
  int64_t reflects_until_ms = 0;
};

struct RebuildReport {
  int64_t rows[3] = {0, 0, 0};
  int64_t versions[3] = {-1, -1, -1};
  int64_t files = 0;
  int64_t millis = 0;
};

class LiveAnswers {
 public:
  // `clock` (nullptr: Clock::Real()) dates commits and freshness; it must outlive this.
  explicit LiveAnswers(Clock* clock = nullptr);

  // Folds every row of the latest versions of <prefix>_{pin,geo,user}_table
  // under `tables` into a fresh engine (a missing table counts as empty).
  // Call before the streaming job starts committing.
  Result<RebuildReport> Rebuild(objstore::ObjectStore& tables, const std::string& prefix);
  // The source positions the tables reflect (the streaming job's, after Recover).
  void SetPositions(clean::TableKind kind, const std::map<std::string, std::string>& positions);

  // The streaming job's CommitListener.
  void OnCommit(const stream::CommitEvent& event);
  stream::CommitListener Listener() {
    return [this](const stream::CommitEvent& e) { OnCommit(e); };
  }

  Result<frame::Table> Answer(std::string_view id) const;
  InputState input(clean::TableKind kind) const;
  EngineStats stats() const;

  // The shape of /api/results/latest ({"questions":[{id,title,columns,rows}]})
  // plus "as_of" per input, "freshness_ms", "updated_ms" and "engine".
  nlohmann::json ToJson() const;

 private:
  Clock* clock_;
  mutable std::mutex mu_;
  Engine engine_;
  InputState inputs_[3];
  RebuildReport rebuild_;
  Status error_;
  // CPU time this thread spent folding rows in / rendering answers.
  int64_t apply_cpu_ns_ = 0;
  // Bumped whenever the engine changes; the rendered answers are cached per value.
  uint64_t generation_ = 0;
  mutable uint64_t cached_generation_ = UINT64_MAX;
  mutable nlohmann::json cached_questions_;
  mutable EngineStats cached_stats_;
  mutable int64_t serve_cpu_ns_ = 0,
                  serves_ = 0;  // the first rows the engine could not read (never expected)
};

// The answers JSON (ToJson's shape) as the batch prints them: for each
// question "\n<id>: <title>\n" and its text table. InvalidArgument when
// `answers` is not such a document.
Result<std::string> AnswersJsonToText(const nlohmann::json& answers);

}  // namespace pinpipe::live
