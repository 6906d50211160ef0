// Engine: the eight questions of spec/queries.md kept up to date row by row.
//
// Rows of the three cleaned tables arrive in any order (a geo row before its
// pin row, or days later); the engine joins them by ind and folds each joined
// pair into the answers the moment both sides are there. Every aggregate only
// ever grows (the tables are append-only, one row per ind), so:
//   - "most popular" keeps counts per (group, value) and the current best per
//     group, updated on each increment with the batch's tie rule (count desc,
//     value ascending by bytes);
//   - maxima keep the current best per group;
//   - lower medians keep counts per distinct value in an ordered map per
//     group plus a cursor on the median that moves at most one distinct value
//     per insert (O(log distinct values) per row, exact).
// State: answers O(groups x distinct values); the join buffer holds a row's
// few query fields only until all three rows of its ind are there, then the
// ind is forgotten (the streaming tables never hold an ind twice).
//
// Input contract: each table's rows are unique by ind (the streaming tables
// are: first arrival wins, as in the batch). A second row for an ind that is
// still waiting is ignored; one for an ind already forgotten would count
// twice, so callers feed only committed table rows.
//
// Thread-safety: none; LiveAnswers (answers.h) serializes access.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/clean/cleaner.h"
#include "pinpipe/frame/column.h"
#include "pinpipe/table/column_batch.h"

namespace pinpipe::live {

// Counts per distinct int64 value and the exact lower median of all of them.
class MedianCounter {
 public:
  void Add(int64_t value);
  int64_t size() const { return n_; }
  // Precondition: size() > 0.
  int64_t LowerMedian() const { return median_->first; }
  size_t distinct() const { return counts_.size(); }

 private:
  std::map<int64_t, int64_t> counts_;
  std::map<int64_t, int64_t>::iterator median_;
  int64_t below_ = 0;  // values strictly less than median_->first
  int64_t n_ = 0;
};

struct EngineStats {
  int64_t pending_inds = 0;   // inds waiting for a row of another table
  int64_t finished_inds = 0;  // inds with all three rows, forgotten
  int64_t groups = 0;
  int64_t distinct_values = 0;  // (group, value) counters and median entries
  int64_t approx_bytes = 0;
};

class Engine {
 public:
  Engine();

  void AddPin(int64_t ind, std::optional<std::string_view> category,
              std::optional<int64_t> follower_count, std::optional<std::string_view> poster_name);
  void AddGeo(int64_t ind, std::optional<std::string_view> country,
              std::optional<int64_t> timestamp_micros);
  void AddUser(int64_t ind, std::optional<int64_t> age, std::optional<int64_t> date_joined_micros);

  // Every row of `rows`, a batch in clean::CleanedSchema(kind).
  Status Apply(clean::TableKind kind, const table::RecordBatch& rows);

  // The answer to "q1" ... "q8" in the batch's columns and row order
  // (batch::RunQuestion). InvalidArgument for an unknown id.
  Result<frame::Table> Answer(std::string_view id) const;

  EngineStats stats() const;

 private:
  static constexpr uint8_t kPin = 1, kGeo = 2, kUser = 4;
  struct Pending {
    uint8_t have = 0;
    int8_t age_group = -1;  // 0..3, -1 none
    int16_t geo_year = 0;   // 2018..2022, 0 outside or null
    int16_t join_year = 0;  // 2015..2020, 0 outside or null
    int32_t category = -1;  // interned, -1 null
    int32_t country = -1;   // interned, -1 null
    bool has_followers = false;
    bool has_poster = false;
    int64_t followers = 0;
    std::string poster;  // kept only while a geo row may still come
  };
  // Most popular value per group: counts per value, best so far.
  struct TopCounter {
    std::unordered_map<int32_t, int64_t> counts;
    int32_t best = -1;
    int64_t best_count = 0;
  };
  struct TopUser {
    int64_t followers = 0;
    std::string poster;
  };

  int32_t Intern(std::vector<std::string>& names, std::unordered_map<std::string, int32_t>& index,
                 std::string_view s);
  void Bump(TopCounter& top, int32_t category);
  void JoinGeo(const Pending& p);
  void JoinUser(const Pending& p);
  void Finish(std::unordered_map<int64_t, Pending>::iterator it);

  std::unordered_map<int64_t, Pending> pending_;
  int64_t finished_ = 0;

  std::vector<std::string> categories_, countries_;
  std::unordered_map<std::string, int32_t> category_index_, country_index_;

  std::map<int32_t, TopCounter> q1_;                 // country -> categories
  std::map<int, TopCounter> q2_;                     // geo year -> categories
  std::map<int32_t, TopUser> q3_;                    // country -> top user
  std::map<int, TopCounter> q4_;                     // age group -> categories
  std::map<int, MedianCounter> q5_;                  // age group -> follower counts
  std::map<int, int64_t> q6_;                        // join year -> users
  std::map<int, MedianCounter> q7_;                  // join year -> follower counts
  std::map<std::pair<int, int>, MedianCounter> q8_;  // (age group, join year)
};

}  // namespace pinpipe::live
