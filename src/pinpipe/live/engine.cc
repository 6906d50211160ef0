#include "pinpipe/live/engine.h"

#include <algorithm>

#include "pinpipe/batch/queries.h"
#include "pinpipe/clean/rules.h"

namespace pinpipe::live {
namespace {

using frame::Column;
using frame::DataType;
using frame::Table;

// Age group codes in the order of the spec; their output order is by name.
constexpr std::string_view kAgeGroups[] = {"18-24", "25-35", "36-50", "+50"};

int AgeGroupCode(int64_t age) {
  const std::string_view g = batch::AgeGroup(age);
  for (int i = 0; i < 4; ++i) {
    if (kAgeGroups[i] == g) return i;
  }
  return -1;
}

int YearIn(std::optional<int64_t> micros, int lo, int hi) {
  if (!micros) return 0;
  const int y = clean::YearOfMicros(*micros);
  return y >= lo && y <= hi ? y : 0;
}

Column Strings(const std::vector<std::string_view>& v) {
  Column c(DataType::kString);
  for (auto s : v) c.AppendString(s);
  return c;
}

Column Ints(const std::vector<int64_t>& v) {
  Column c(DataType::kInt64);
  for (auto x : v) c.AppendInt64(x);
  return c;
}

// Age group codes sorted by their names ("+50" < "18-24" < ...).
std::vector<int> AgeGroupsByName() {
  std::vector<int> order = {0, 1, 2, 3};
  std::sort(order.begin(), order.end(), [](int a, int b) { return kAgeGroups[a] < kAgeGroups[b]; });
  return order;
}

std::optional<std::string_view> OptString(const table::Column& c, size_t r) {
  if (c.IsNull(r)) return std::nullopt;
  return c.GetString(r);
}

std::optional<int64_t> OptInt64(const table::Column& c, size_t r) {
  if (c.IsNull(r)) return std::nullopt;
  return c.GetInt64(r);
}

}  // namespace

void MedianCounter::Add(int64_t value) {
  if (n_ == 0) {
    median_ = counts_.emplace(value, 1).first;
    below_ = 0;
    n_ = 1;
    return;
  }
  ++counts_[value];
  ++n_;
  if (value < median_->first) ++below_;
  // The median's index k = floor((n-1)/2) and `below_` each grew by at most
  // one, so the cursor moves at most one distinct value.
  const int64_t k = (n_ - 1) / 2;
  if (k < below_) {
    --median_;
    below_ -= median_->second;
  } else if (k >= below_ + median_->second) {
    below_ += median_->second;
    ++median_;
  }
}

Engine::Engine() = default;

int32_t Engine::Intern(std::vector<std::string>& names,
                       std::unordered_map<std::string, int32_t>& index, std::string_view s) {
  auto it = index.find(std::string(s));
  if (it != index.end()) return it->second;
  const auto id = static_cast<int32_t>(names.size());
  names.emplace_back(s);
  index.emplace(std::string(s), id);
  return id;
}

void Engine::Bump(TopCounter& top, int32_t category) {
  const int64_t c = ++top.counts[category];
  if (top.best < 0 || c > top.best_count ||
      (c == top.best_count && categories_[category] < categories_[top.best])) {
    top.best = category;
    top.best_count = c;
  }
}

void Engine::JoinGeo(const Pending& p) {
  if (p.category >= 0) {
    if (p.country >= 0) Bump(q1_[p.country], p.category);
    if (p.geo_year != 0) Bump(q2_[p.geo_year], p.category);
  }
  if (p.country >= 0 && p.has_followers && p.has_poster) {
    auto [it, inserted] = q3_.try_emplace(p.country);
    TopUser& top = it->second;
    if (inserted || p.followers > top.followers ||
        (p.followers == top.followers && p.poster < top.poster)) {
      top.followers = p.followers;
      top.poster = p.poster;
    }
  }
}

void Engine::JoinUser(const Pending& p) {
  if (p.category >= 0 && p.age_group >= 0) Bump(q4_[p.age_group], p.category);
  if (!p.has_followers) return;
  if (p.age_group >= 0) q5_[p.age_group].Add(p.followers);
  if (p.join_year != 0) q7_[p.join_year].Add(p.followers);
  if (p.age_group >= 0 && p.join_year != 0) q8_[{p.age_group, p.join_year}].Add(p.followers);
}

void Engine::Finish(std::unordered_map<int64_t, Pending>::iterator it) {
  if (it->second.have == (kPin | kGeo | kUser)) {
    pending_.erase(it);
    ++finished_;
  }
}

void Engine::AddPin(int64_t ind, std::optional<std::string_view> category,
                    std::optional<int64_t> follower_count,
                    std::optional<std::string_view> poster_name) {
  auto it = pending_.try_emplace(ind).first;
  Pending& p = it->second;
  if (p.have & kPin) return;
  p.have |= kPin;
  p.category = category ? Intern(categories_, category_index_, *category) : -1;
  p.has_followers = follower_count.has_value();
  p.followers = follower_count.value_or(0);
  p.has_poster = poster_name.has_value();
  if (p.has_poster) p.poster = std::string(*poster_name);
  if (p.have & kGeo) {
    JoinGeo(p);
    p.poster = std::string();  // q3 was the only use
  }
  if (p.have & kUser) JoinUser(p);
  Finish(it);
}

void Engine::AddGeo(int64_t ind, std::optional<std::string_view> country,
                    std::optional<int64_t> timestamp_micros) {
  auto it = pending_.try_emplace(ind).first;
  Pending& p = it->second;
  if (p.have & kGeo) return;
  p.have |= kGeo;
  p.country = country ? Intern(countries_, country_index_, *country) : -1;
  p.geo_year = static_cast<int16_t>(YearIn(timestamp_micros, 2018, 2022));
  if (p.have & kPin) {
    JoinGeo(p);
    p.poster = std::string();
  }
  Finish(it);
}

void Engine::AddUser(int64_t ind, std::optional<int64_t> age,
                     std::optional<int64_t> date_joined_micros) {
  auto it = pending_.try_emplace(ind).first;
  Pending& p = it->second;
  if (p.have & kUser) return;
  p.have |= kUser;
  p.age_group = static_cast<int8_t>(age ? AgeGroupCode(*age) : -1);
  p.join_year = static_cast<int16_t>(YearIn(date_joined_micros, 2015, 2020));
  if (p.join_year != 0) ++q6_[p.join_year];
  if (p.have & kPin) JoinUser(p);
  Finish(it);
}

Status Engine::Apply(clean::TableKind kind, const table::RecordBatch& rows) {
  auto col = [&](std::string_view name) -> const table::Column* {
    const int i = rows.schema.FindField(name);
    return i < 0 ? nullptr : &rows.columns[static_cast<size_t>(i)];
  };
  const table::Column* ind = col("ind");
  if (!ind) return InvalidArgumentError("live: rows without an ind column");
  const size_t n = rows.num_rows();
  switch (kind) {
    case clean::TableKind::kPin: {
      const auto *category = col("category"), *followers = col("follower_count"),
                 *poster = col("poster_name");
      if (!category || !followers || !poster)
        return InvalidArgumentError("live: pin rows lack a query column");
      for (size_t r = 0; r < n; ++r) {
        if (ind->IsNull(r)) continue;
        AddPin(ind->GetInt64(r), OptString(*category, r), OptInt64(*followers, r),
               OptString(*poster, r));
      }
      break;
    }
    case clean::TableKind::kGeo: {
      const auto *country = col("country"), *ts = col("timestamp");
      if (!country || !ts) return InvalidArgumentError("live: geo rows lack a query column");
      for (size_t r = 0; r < n; ++r) {
        if (ind->IsNull(r)) continue;
        AddGeo(ind->GetInt64(r), OptString(*country, r), OptInt64(*ts, r));
      }
      break;
    }
    case clean::TableKind::kUser: {
      const auto *age = col("age"), *joined = col("date_joined");
      if (!age || !joined) return InvalidArgumentError("live: user rows lack a query column");
      for (size_t r = 0; r < n; ++r) {
        if (ind->IsNull(r)) continue;
        std::optional<int64_t> a;
        if (!age->IsNull(r)) {
          a = age->type() == table::ColumnType::kInt32 ? age->GetInt32(r) : age->GetInt64(r);
        }
        AddUser(ind->GetInt64(r), a, OptInt64(*joined, r));
      }
      break;
    }
  }
  return Status::Ok();
}

Result<frame::Table> Engine::Answer(std::string_view id) const {
  Table out;
  // "Most popular category" tables keyed by a string group.
  auto top_by_name = [&](const auto& groups, auto name_of, std::string key) {
    std::vector<std::pair<std::string_view, const TopCounter*>> rows;
    for (const auto& [g, top] : groups) rows.emplace_back(name_of(g), &top);
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string_view> keys, cats;
    std::vector<int64_t> counts;
    for (const auto& [k, top] : rows) {
      keys.push_back(k);
      cats.push_back(categories_[top->best]);
      counts.push_back(top->best_count);
    }
    out.AddColumn(std::move(key), Strings(keys));
    out.AddColumn("category", Strings(cats));
    out.AddColumn("category_count", Ints(counts));
  };
  auto q3a_rows = [&] {
    std::vector<std::pair<std::string_view, const TopUser*>> rows;
    for (const auto& [c, top] : q3_) rows.emplace_back(countries_[c], &top);
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return rows;
  };
  auto medians_by_year = [&](const std::map<int, MedianCounter>& groups) {
    std::vector<int64_t> years, medians;
    for (const auto& [y, m] : groups) {
      years.push_back(y);
      medians.push_back(m.LowerMedian());
    }
    out.AddColumn("post_year", Ints(years));
    out.AddColumn("median_follower_count", Ints(medians));
  };

  if (id == "q1") {
    top_by_name(
        q1_, [&](int32_t c) { return std::string_view(countries_[c]); }, "country");
  } else if (id == "q2") {
    std::vector<int64_t> years, counts;
    std::vector<std::string_view> cats;
    for (const auto& [y, top] : q2_) {
      years.push_back(y);
      cats.push_back(categories_[top.best]);
      counts.push_back(top.best_count);
    }
    out.AddColumn("post_year", Ints(years));
    out.AddColumn("category", Strings(cats));
    out.AddColumn("category_count", Ints(counts));
  } else if (id == "q3a") {
    std::vector<std::string_view> countries, posters;
    std::vector<int64_t> followers;
    for (const auto& [c, top] : q3a_rows()) {
      countries.push_back(c);
      posters.push_back(top->poster);
      followers.push_back(top->followers);
    }
    out.AddColumn("country", Strings(countries));
    out.AddColumn("poster_name", Strings(posters));
    out.AddColumn("follower_count", Ints(followers));
  } else if (id == "q3b") {
    std::vector<std::string_view> country;
    std::vector<int64_t> followers;
    // Rows come in country order, so the first of the highest wins the tie.
    for (const auto& [c, top] : q3a_rows()) {
      if (followers.empty() || top->followers > followers[0]) {
        country = {c};
        followers = {top->followers};
      }
    }
    out.AddColumn("country", Strings(country));
    out.AddColumn("follower_count", Ints(followers));
  } else if (id == "q4") {
    top_by_name(
        q4_, [](int g) { return kAgeGroups[g]; }, "age_group");
  } else if (id == "q5") {
    std::vector<std::string_view> groups;
    std::vector<int64_t> medians;
    for (int g : AgeGroupsByName()) {
      auto it = q5_.find(g);
      if (it == q5_.end()) continue;
      groups.push_back(kAgeGroups[g]);
      medians.push_back(it->second.LowerMedian());
    }
    out.AddColumn("age_group", Strings(groups));
    out.AddColumn("median_follower_count", Ints(medians));
  } else if (id == "q6") {
    std::vector<int64_t> years, counts;
    for (const auto& [y, n] : q6_) {
      years.push_back(y);
      counts.push_back(n);
    }
    out.AddColumn("post_year", Ints(years));
    out.AddColumn("number_users_joined", Ints(counts));
  } else if (id == "q7") {
    medians_by_year(q7_);
  } else if (id == "q8") {
    std::vector<std::string_view> groups;
    std::vector<int64_t> years, medians;
    for (int g : AgeGroupsByName()) {
      for (auto it = q8_.lower_bound({g, 0}); it != q8_.end() && it->first.first == g; ++it) {
        groups.push_back(kAgeGroups[g]);
        years.push_back(it->first.second);
        medians.push_back(it->second.LowerMedian());
      }
    }
    out.AddColumn("age_group", Strings(groups));
    out.AddColumn("post_year", Ints(years));
    out.AddColumn("median_follower_count", Ints(medians));
  } else {
    return InvalidArgumentError("unknown question '" + std::string(id) + "'");
  }
  return out;
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.pending_inds = static_cast<int64_t>(pending_.size());
  s.finished_inds = finished_;
  auto tops = [&](const auto& m) {
    for (const auto& [g, top] : m) {
      ++s.groups;
      s.distinct_values += static_cast<int64_t>(top.counts.size());
    }
  };
  auto medians = [&](const auto& m) {
    for (const auto& [g, med] : m) {
      ++s.groups;
      s.distinct_values += static_cast<int64_t>(med.distinct());
    }
  };
  tops(q1_);
  tops(q2_);
  tops(q4_);
  medians(q5_);
  medians(q7_);
  medians(q8_);
  s.groups += static_cast<int64_t>(q3_.size() + q6_.size());
  // Node sizes of libstdc++'s containers, roughly: hash node + bucket, tree node.
  int64_t bytes = static_cast<int64_t>(pending_.size()) * (sizeof(Pending) + 8 + 16 + 8);
  for (const auto& [ind, p] : pending_) bytes += static_cast<int64_t>(p.poster.capacity());
  bytes += s.distinct_values * 48 + s.groups * 96;
  for (const auto& c : categories_) bytes += static_cast<int64_t>(c.capacity()) * 2 + 64;
  for (const auto& c : countries_) bytes += static_cast<int64_t>(c.capacity()) * 2 + 64;
  for (const auto& [c, top] : q3_) bytes += static_cast<int64_t>(top.poster.capacity());
  s.approx_bytes = bytes;
  return s;
}

}  // namespace pinpipe::live
