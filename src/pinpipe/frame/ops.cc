#include "pinpipe/frame/ops.h"

#include <algorithm>
#include <numeric>
#include <thread>

namespace pinpipe::frame {
namespace {

inline uint64_t Mix(uint64_t x) {
  // A 64-bit finalizer (splitmix64): cheap and good enough for open addressing.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

size_t TableSizeFor(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  return cap;
}

// The group-by key value of `row` in `column`; false when null.
inline bool KeyValue(const Column& column, size_t row, int64_t* out) {
  if (column.IsNull(row)) return false;
  *out = column.type() == DataType::kDict ? column.CodeAt(row) : column.Int64At(row);
  return true;
}

}  // namespace

Table TakeRows(const Table& table, std::span<const uint32_t> rows) {
  Table out;
  for (size_t c = 0; c < table.num_columns(); ++c) {
    out.AddColumn(table.name(c), table.column(c).Take(rows));
  }
  return out;
}

Table Filter(const Table& table, const std::vector<uint8_t>& keep) {
  std::vector<uint32_t> rows;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) rows.push_back(static_cast<uint32_t>(i));
  }
  return TakeRows(table, rows);
}

Result<Table> Project(const Table& table, const std::vector<std::string>& names) {
  Table out;
  for (const auto& name : names) {
    int index = table.Find(name);
    if (index < 0) return InvalidArgumentError("no column named '" + name + "'");
    out.AddColumn(name, table.column(index));
  }
  return out;
}

JoinIndices HashJoin(const Column& left_key, const Column& right_key) {
  // Build on the right side: chained open addressing (head per slot, next per row).
  size_t n = right_key.size();
  size_t cap = TableSizeFor(n);
  size_t mask = cap - 1;
  std::vector<int64_t> slot_key(cap);
  std::vector<int32_t> slot_head(cap, -1);
  std::vector<int32_t> next(n, -1);
  std::vector<int32_t> tail(cap, -1);
  for (size_t r = 0; r < n; ++r) {
    if (right_key.IsNull(r)) continue;
    int64_t key = right_key.Int64At(r);
    size_t s = Mix(static_cast<uint64_t>(key)) & mask;
    while (slot_head[s] >= 0 && slot_key[s] != key) s = (s + 1) & mask;
    if (slot_head[s] < 0) {
      slot_key[s] = key;
      slot_head[s] = static_cast<int32_t>(r);
    } else {
      next[tail[s]] = static_cast<int32_t>(r);
    }
    tail[s] = static_cast<int32_t>(r);
  }
  JoinIndices out;
  out.left.reserve(left_key.size());
  out.right.reserve(left_key.size());
  for (size_t l = 0; l < left_key.size(); ++l) {
    if (left_key.IsNull(l)) continue;
    int64_t key = left_key.Int64At(l);
    size_t s = Mix(static_cast<uint64_t>(key)) & mask;
    while (slot_head[s] >= 0 && slot_key[s] != key) s = (s + 1) & mask;
    for (int32_t r = slot_head[s]; r >= 0; r = next[r]) {
      out.left.push_back(static_cast<uint32_t>(l));
      out.right.push_back(static_cast<uint32_t>(r));
    }
  }
  return out;
}

Grouping GroupBy(std::span<const Column* const> keys) {
  Grouping g;
  size_t rows = keys.empty() ? 0 : keys[0]->size();
  size_t k = keys.size();
  g.group_of_row.assign(rows, -1);
  std::vector<int64_t> group_keys;  // k values per group
  size_t cap = 1024;
  std::vector<int32_t> slots(cap, -1);
  std::vector<int64_t> key(k);
  for (size_t r = 0; r < rows; ++r) {
    bool valid = true;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (size_t c = 0; c < k && valid; ++c) {
      valid = KeyValue(*keys[c], r, &key[c]);
      h = Mix(h ^ static_cast<uint64_t>(key[c]));
    }
    if (!valid) continue;
    size_t mask = cap - 1;
    size_t s = h & mask;
    int32_t found = -1;
    while (slots[s] >= 0) {
      if (std::equal(key.begin(), key.end(), group_keys.begin() + slots[s] * k)) {
        found = slots[s];
        break;
      }
      s = (s + 1) & mask;
    }
    if (found < 0) {
      found = static_cast<int32_t>(g.first_row.size());
      slots[s] = found;
      g.first_row.push_back(static_cast<uint32_t>(r));
      group_keys.insert(group_keys.end(), key.begin(), key.end());
      if (g.first_row.size() * 2 > cap) {  // grow and rehash
        cap *= 2;
        slots.assign(cap, -1);
        for (size_t grp = 0; grp < g.first_row.size(); ++grp) {
          uint64_t hh = 0x9e3779b97f4a7c15ULL;
          for (size_t c = 0; c < k; ++c)
            hh = Mix(hh ^ static_cast<uint64_t>(group_keys[grp * k + c]));
          size_t t = hh & (cap - 1);
          while (slots[t] >= 0) t = (t + 1) & (cap - 1);
          slots[t] = static_cast<int32_t>(grp);
        }
      }
    }
    g.group_of_row[r] = found;
  }
  return g;
}

std::vector<int64_t> CountPerGroup(const Grouping& grouping, const Column* values) {
  std::vector<int64_t> counts(grouping.num_groups(), 0);
  for (size_t r = 0; r < grouping.group_of_row.size(); ++r) {
    int32_t g = grouping.group_of_row[r];
    if (g >= 0 && (values == nullptr || values->IsValid(r))) ++counts[g];
  }
  return counts;
}

std::vector<std::optional<int64_t>> MaxPerGroup(const Grouping& grouping, const Column& values) {
  std::vector<std::optional<int64_t>> out(grouping.num_groups());
  for (size_t r = 0; r < grouping.group_of_row.size(); ++r) {
    int32_t g = grouping.group_of_row[r];
    if (g < 0 || values.IsNull(r)) continue;
    int64_t v = values.Int64At(r);
    if (!out[g] || v > *out[g]) out[g] = v;
  }
  return out;
}

std::vector<std::optional<int64_t>> LowerMedianPerGroup(const Grouping& grouping,
                                                        const Column& values, int threads) {
  // Counting sort of the values by group, then nth_element inside each group.
  size_t groups = grouping.num_groups();
  std::vector<size_t> start(groups + 1, 0);
  for (size_t r = 0; r < grouping.group_of_row.size(); ++r) {
    int32_t g = grouping.group_of_row[r];
    if (g >= 0 && values.IsValid(r)) ++start[g + 1];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<int64_t> sorted(start[groups]);
  std::vector<size_t> fill(start.begin(), start.end() - 1);
  for (size_t r = 0; r < grouping.group_of_row.size(); ++r) {
    int32_t g = grouping.group_of_row[r];
    if (g >= 0 && values.IsValid(r)) sorted[fill[g]++] = values.Int64At(r);
  }
  std::vector<std::optional<int64_t>> out(groups);
  auto work = [&](size_t first, size_t step) {
    for (size_t g = first; g < groups; g += step) {
      size_t n = start[g + 1] - start[g];
      if (n == 0) continue;
      auto begin = sorted.begin() + start[g];
      auto nth = begin + (n - 1) / 2;
      std::nth_element(begin, nth, begin + n);
      out[g] = *nth;
    }
  };
  // A second thread pays only with many values.
  if (threads > 1 && sorted.size() > (1u << 20) && groups > 1) {
    std::thread helper(work, 1, 2);
    work(0, 2);
    helper.join();
  } else {
    work(0, 1);
  }
  return out;
}

std::vector<uint32_t> TopOnePerGroup(const Grouping& grouping, const Column& score,
                                     const Column& tie_key) {
  std::vector<int64_t> best(grouping.num_groups(), -1);
  for (size_t r = 0; r < grouping.group_of_row.size(); ++r) {
    int32_t g = grouping.group_of_row[r];
    if (g < 0 || score.IsNull(r) || tie_key.IsNull(r)) continue;
    int64_t b = best[g];
    if (b < 0) {
      best[g] = static_cast<int64_t>(r);
      continue;
    }
    int64_t s = score.Int64At(r);
    int64_t bs = score.Int64At(b);
    if (s > bs || (s == bs && tie_key.StringAt(r) < tie_key.StringAt(b))) {
      best[g] = static_cast<int64_t>(r);
    }
  }
  std::vector<uint32_t> out;
  for (int64_t b : best) {
    if (b >= 0) out.push_back(static_cast<uint32_t>(b));
  }
  return out;
}

Result<std::vector<uint32_t>> SortIndices(const Table& table, const std::vector<SortKey>& keys) {
  std::vector<const Column*> columns;
  for (const auto& key : keys) {
    int index = table.Find(key.column);
    if (index < 0) return InvalidArgumentError("no column named '" + key.column + "'");
    columns.push_back(&table.column(index));
  }
  std::vector<uint32_t> rows(table.num_rows());
  std::iota(rows.begin(), rows.end(), 0);
  auto compare = [&](uint32_t a, uint32_t b) {
    for (size_t k = 0; k < columns.size(); ++k) {
      const Column& c = *columns[k];
      bool an = c.IsNull(a), bn = c.IsNull(b);
      if (an || bn) {
        if (an != bn) return bn;  // nulls last
        continue;
      }
      int cmp = 0;
      switch (c.type()) {
        case DataType::kInt64:
        case DataType::kTimestamp:
          cmp = c.Int64At(a) < c.Int64At(b) ? -1 : (c.Int64At(a) > c.Int64At(b) ? 1 : 0);
          break;
        case DataType::kDouble:
          cmp = c.DoubleAt(a) < c.DoubleAt(b) ? -1 : (c.DoubleAt(a) > c.DoubleAt(b) ? 1 : 0);
          break;
        case DataType::kString:
        case DataType::kDict:
          cmp = c.StringAt(a).compare(c.StringAt(b));
          break;
        case DataType::kListDouble:
          break;
      }
      if (cmp != 0) return keys[k].ascending ? cmp < 0 : cmp > 0;
    }
    return false;
  };
  std::stable_sort(rows.begin(), rows.end(), compare);
  return rows;
}

Result<Table> Sort(const Table& table, const std::vector<SortKey>& keys) {
  PINPIPE_ASSIGN_OR_RETURN(auto rows, SortIndices(table, keys));
  return TakeRows(table, rows);
}

}  // namespace pinpipe::frame
