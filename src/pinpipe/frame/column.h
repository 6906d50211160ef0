// Column and Table: the typed, null-aware columnar storage of pinpipe's batch
// engine. A Column holds one of: int64, double, string (offsets + bytes),
// dictionary string (int32 codes into a per-column dictionary), timestamp
// (int64 UTC microseconds) or list<double>. Validity is a bitmap.
//
// Columns are values (movable, copyable) with no per-row heap objects: strings
// live in one contiguous byte buffer. A dictionary column keeps one map entry
// per distinct value, not per row.
//
// Thread-safety: const methods may be called concurrently; mutation needs
// exclusive access.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pinpipe::frame {

enum class DataType { kInt64, kDouble, kString, kDict, kTimestamp, kListDouble };

std::string_view DataTypeName(DataType type);

// A growable bitmap; bit i set means row i is valid (not null).
class Bitmap {
 public:
  void Append(bool bit) {
    if ((size_ & 63) == 0) words_.push_back(0);
    if (bit) words_.back() |= uint64_t{1} << (size_ & 63);
    ++size_;
  }
  bool Get(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  size_t size() const { return size_; }
  void Reserve(size_t n) { words_.reserve((n + 63) / 64); }
  void Clear() {
    words_.clear();
    size_ = 0;
  }
  // Bit i is bit i % 64 of word i / 64 (nullptr while empty).
  const uint64_t* words() const { return words_.data(); }

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

// Hash of string_view usable for heterogeneous lookup.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Column {
 public:
  explicit Column(DataType type = DataType::kInt64) : type_(type) {}

  DataType type() const { return type_; }
  size_t size() const { return valid_.size(); }
  bool IsNull(size_t row) const { return !valid_.Get(row); }
  bool IsValid(size_t row) const { return valid_.Get(row); }
  size_t NullCount() const;
  void Reserve(size_t rows);
  // Removes every row (and a dictionary's entries), keeping the memory for
  // the next ones.
  void Clear();

  // Appenders; the value kind must match type() (int64 for kInt64 and kTimestamp).
  void AppendNull();
  void AppendInt64(int64_t value) {
    ints_.push_back(value);
    valid_.Append(true);
  }
  void AppendDouble(double value) {
    doubles_.push_back(value);
    valid_.Append(true);
  }
  void AppendString(std::string_view value);  // kString or kDict
  // kListDouble: a list whose element j is null when !valid[j].
  void AppendList(std::span<const double> values, std::span<const bool> valid);

  // Readers; precondition: IsValid(row) for meaningful values.
  int64_t Int64At(size_t row) const { return ints_[row]; }
  double DoubleAt(size_t row) const { return doubles_[row]; }
  std::string_view StringAt(size_t row) const;              // kString or kDict
  int32_t CodeAt(size_t row) const { return codes_[row]; }  // kDict; -1 when null
  size_t ListSize(size_t row) const { return list_offsets_[row + 1] - list_offsets_[row]; }
  double ListValue(size_t row, size_t j) const { return doubles_[list_offsets_[row] + j]; }
  bool ListValueValid(size_t row, size_t j) const {
    return list_valid_.Get(list_offsets_[row] + j);
  }

  // Dictionary of a kDict column: entry `code` and the number of entries.
  std::string_view DictValue(int32_t code) const;
  size_t DictSize() const { return dict_offsets_.empty() ? 0 : dict_offsets_.size() - 1; }

  const std::vector<int64_t>& ints() const { return ints_; }
  const std::vector<int32_t>& codes() const { return codes_; }

  // Raw storage, for encoders that read a column in place (e.g. a Parquet
  // writer): validity bits (see Bitmap::words); kString rows as
  // bytes()[offsets()[r], offsets()[r + 1]); kDict entries as
  // dict_bytes()[dict_offsets()[e], dict_offsets()[e + 1]); kListDouble row r's
  // elements as doubles()[list_offsets()[r], list_offsets()[r + 1]) with
  // validity bits list_valid_words(). Valid until the column is changed.
  const uint64_t* valid_words() const { return valid_.words(); }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  const std::string& bytes() const { return bytes_; }
  const std::vector<uint64_t>& dict_offsets() const { return dict_offsets_; }
  const std::string& dict_bytes() const { return dict_bytes_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<uint64_t>& list_offsets() const { return list_offsets_; }
  const uint64_t* list_valid_words() const { return list_valid_.words(); }

  // Rows `rows` of this column, in that order (a gather). Dictionaries are kept.
  Column Take(std::span<const uint32_t> rows) const;
  // Appends every row of `other` (same type). Dictionary codes are remapped.
  void AppendColumn(const Column& other);
  // Appends rows `rows` of `other` (same type), in that order: the same as
  // AppendColumn(other.Take(rows)) without the intermediate column; only the
  // dictionary entries those rows use are interned.
  void AppendRows(const Column& other, std::span<const uint32_t> rows);

 private:
  int32_t Intern(std::string_view value);

  DataType type_;
  Bitmap valid_;
  std::vector<int64_t> ints_;            // kInt64, kTimestamp (0 under nulls)
  std::vector<double> doubles_;          // kDouble; kListDouble elements
  std::vector<uint64_t> offsets_ = {0};  // kString: row i is bytes_[offsets_[i], offsets_[i+1])
  std::string bytes_;
  std::vector<int32_t> codes_;          // kDict
  std::vector<uint64_t> dict_offsets_;  // kDict entries in dict_bytes_
  std::string dict_bytes_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> dict_index_;
  std::vector<uint64_t> list_offsets_ = {0};  // kListDouble
  Bitmap list_valid_;
};

// A named set of equally long columns.
class Table {
 public:
  Table() = default;

  // Adds a column; all columns must have the same size when the table is used.
  void AddColumn(std::string name, Column column);
  // Removes every row of every column (Column::Clear), keeping the columns.
  void ClearRows();
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  size_t num_columns() const { return columns_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  const std::string& name(size_t i) const { return names_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  Column& mutable_column(size_t i) { return columns_[i]; }
  // Index of the column called `name`, or -1.
  int Find(std::string_view name) const;
  // Precondition: a column called `name` exists.
  const Column& Get(std::string_view name) const { return columns_[Find(name)]; }

 private:
  std::vector<std::string> names_;
  std::vector<Column> columns_;
};

}  // namespace pinpipe::frame
