// Columnar input and output of the Parquet writer and reader: a schema of
// named, typed, nullable columns and a RecordBatch of typed column vectors.
//
// Kept self-contained on purpose (no dependency on the frame module): other
// modules convert into and out of it. Values of null rows are unspecified
// placeholders (0, "" or an empty list) so that every column has exactly one
// slot per row. Thread-safety: plain values; not synchronized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::table {

enum class ColumnType : uint8_t {
  kBoolean,
  kInt32,
  kInt64,
  kDouble,
  kString,           // BYTE_ARRAY, logical type STRING (UTF-8)
  kTimestampMicros,  // INT64, TIMESTAMP(isAdjustedToUTC=true, MICROS)
  kDoubleList,       // 3-level LIST<DOUBLE> with nullable elements
};

// "long", "string", "array<double>" ... (Spark SQL names).
std::string_view ColumnTypeName(ColumnType type);

struct Field {
  std::string name;
  ColumnType type = ColumnType::kInt64;
  bool nullable = true;
  bool operator==(const Field&) const = default;
};

struct Schema {
  std::vector<Field> fields;
  // Index of the field named `name`, or -1.
  int FindField(std::string_view name) const;
  bool operator==(const Schema&) const = default;
};

// One column: a validity flag and a value slot per row.
class Column {
 public:
  Column() = default;
  explicit Column(ColumnType type);

  ColumnType type() const { return type_; }
  size_t size() const { return valid_.size(); }
  bool IsNull(size_t row) const { return valid_[row] == 0; }
  size_t null_count() const { return null_count_; }
  void Reserve(size_t rows);
  // Removes every row, keeping the memory for the next ones.
  void Clear();

  void AppendNull();
  void AppendBool(bool v);
  void AppendInt32(int32_t v);
  // kInt64 and kTimestampMicros.
  void AppendInt64(int64_t v);
  void AppendDouble(double v);
  void AppendString(std::string_view v);
  // A non-null list whose elements are all non-null.
  void AppendList(std::span<const double> values);
  // A non-null list; nullopt elements are null.
  void AppendListWithNulls(std::span<const std::optional<double>> values);
  // Appends rows [begin, end) of `other` (same type).
  void AppendFrom(const Column& other, size_t begin, size_t end);

  bool GetBool(size_t row) const { return fixed8_[row] != 0; }
  int32_t GetInt32(size_t row) const { return i32_[row]; }
  int64_t GetInt64(size_t row) const { return i64_[row]; }
  double GetDouble(size_t row) const { return f64_[row]; }
  std::string_view GetString(size_t row) const {
    return std::string_view(bytes_).substr(offsets_[row], offsets_[row + 1] - offsets_[row]);
  }
  // kDoubleList: element range [ListBegin(row), ListEnd(row)) into ListValue.
  size_t ListBegin(size_t row) const { return offsets_[row]; }
  size_t ListEnd(size_t row) const { return offsets_[row + 1]; }
  double ListValue(size_t i) const { return f64_[i]; }
  bool ListValueIsNull(size_t i) const { return fixed8_[i] == 0; }

  // Raw storage for encoders (see the class comment).
  const std::vector<uint8_t>& valid() const { return valid_; }
  const std::vector<uint8_t>& fixed8() const { return fixed8_; }  // bools; list element validity
  const std::vector<int32_t>& i32() const { return i32_; }
  const std::vector<int64_t>& i64() const { return i64_; }
  const std::vector<double>& f64() const { return f64_; }  // doubles; list elements
  const std::string& bytes() const { return bytes_; }
  const std::vector<uint32_t>& offsets() const { return offsets_; }  // size()+1 entries
  // Approximate in-memory size of the values, for row-group sizing.
  size_t ByteSize() const;

 private:
  ColumnType type_ = ColumnType::kInt64;
  std::vector<uint8_t> valid_;
  size_t null_count_ = 0;
  std::vector<uint8_t> fixed8_;
  std::vector<int32_t> i32_;
  std::vector<int64_t> i64_;
  std::vector<double> f64_;
  std::string bytes_;
  std::vector<uint32_t> offsets_;
};

// Rows in columns. Invariant (checked by Validate): one column per schema
// field, of the field's type, all of equal length; no nulls in non-nullable
// fields.
struct RecordBatch {
  Schema schema;
  std::vector<Column> columns;

  RecordBatch() = default;
  // An empty batch with one empty column per field.
  explicit RecordBatch(Schema s);
  size_t num_rows() const { return columns.empty() ? 0 : columns[0].size(); }
  Status Validate() const;
  // Appends all rows of `other` (same schema).
  Status Append(const RecordBatch& other);
  size_t ByteSize() const;
};

}  // namespace pinpipe::table
