#include "pinpipe/table/column_batch.h"

#include <fmt/format.h>

namespace pinpipe::table {

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kInt32:
      return "integer";
    case ColumnType::kInt64:
      return "long";
    case ColumnType::kDouble:
      return "double";
    case ColumnType::kString:
      return "string";
    case ColumnType::kTimestampMicros:
      return "timestamp";
    case ColumnType::kDoubleList:
      return "array<double>";
  }
  return "?";
}

int Schema::FindField(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Column::Column(ColumnType type) : type_(type) {
  if (type == ColumnType::kString || type == ColumnType::kDoubleList) offsets_.push_back(0);
}

void Column::Clear() {
  valid_.clear();
  null_count_ = 0;
  fixed8_.clear();
  i32_.clear();
  i64_.clear();
  f64_.clear();
  bytes_.clear();
  offsets_.clear();
  if (type_ == ColumnType::kString || type_ == ColumnType::kDoubleList) offsets_.push_back(0);
}

void Column::Reserve(size_t rows) {
  valid_.reserve(rows);
  switch (type_) {
    case ColumnType::kBoolean:
      fixed8_.reserve(rows);
      break;
    case ColumnType::kInt32:
      i32_.reserve(rows);
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      i64_.reserve(rows);
      break;
    case ColumnType::kDouble:
      f64_.reserve(rows);
      break;
    case ColumnType::kString:
    case ColumnType::kDoubleList:
      offsets_.reserve(rows + 1);
      break;
  }
}

void Column::AppendNull() {
  valid_.push_back(0);
  ++null_count_;
  switch (type_) {
    case ColumnType::kBoolean:
      fixed8_.push_back(0);
      break;
    case ColumnType::kInt32:
      i32_.push_back(0);
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      i64_.push_back(0);
      break;
    case ColumnType::kDouble:
      f64_.push_back(0);
      break;
    case ColumnType::kString:
    case ColumnType::kDoubleList:
      offsets_.push_back(offsets_.back());
      break;
  }
}

void Column::AppendBool(bool v) {
  valid_.push_back(1);
  fixed8_.push_back(v ? 1 : 0);
}
void Column::AppendInt32(int32_t v) {
  valid_.push_back(1);
  i32_.push_back(v);
}
void Column::AppendInt64(int64_t v) {
  valid_.push_back(1);
  i64_.push_back(v);
}
void Column::AppendDouble(double v) {
  valid_.push_back(1);
  f64_.push_back(v);
}
void Column::AppendString(std::string_view v) {
  valid_.push_back(1);
  bytes_.append(v);
  offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
}
void Column::AppendList(std::span<const double> values) {
  valid_.push_back(1);
  f64_.insert(f64_.end(), values.begin(), values.end());
  fixed8_.insert(fixed8_.end(), values.size(), 1);
  offsets_.push_back(static_cast<uint32_t>(f64_.size()));
}
void Column::AppendListWithNulls(std::span<const std::optional<double>> values) {
  valid_.push_back(1);
  for (const auto& v : values) {
    f64_.push_back(v.value_or(0));
    fixed8_.push_back(v.has_value() ? 1 : 0);
  }
  offsets_.push_back(static_cast<uint32_t>(f64_.size()));
}

void Column::AppendFrom(const Column& o, size_t begin, size_t end) {
  if (begin >= end) return;
  valid_.insert(valid_.end(), o.valid_.begin() + begin, o.valid_.begin() + end);
  for (size_t i = begin; i < end; ++i) null_count_ += o.valid_[i] == 0;
  switch (type_) {
    case ColumnType::kBoolean:
      fixed8_.insert(fixed8_.end(), o.fixed8_.begin() + begin, o.fixed8_.begin() + end);
      break;
    case ColumnType::kInt32:
      i32_.insert(i32_.end(), o.i32_.begin() + begin, o.i32_.begin() + end);
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      i64_.insert(i64_.end(), o.i64_.begin() + begin, o.i64_.begin() + end);
      break;
    case ColumnType::kDouble:
      f64_.insert(f64_.end(), o.f64_.begin() + begin, o.f64_.begin() + end);
      break;
    case ColumnType::kString: {
      uint32_t b = o.offsets_[begin], e = o.offsets_[end];
      uint32_t base = static_cast<uint32_t>(bytes_.size());
      bytes_.append(o.bytes_, b, e - b);
      for (size_t i = begin + 1; i <= end; ++i) offsets_.push_back(o.offsets_[i] - b + base);
      break;
    }
    case ColumnType::kDoubleList: {
      uint32_t b = o.offsets_[begin], e = o.offsets_[end];
      uint32_t base = static_cast<uint32_t>(f64_.size());
      f64_.insert(f64_.end(), o.f64_.begin() + b, o.f64_.begin() + e);
      fixed8_.insert(fixed8_.end(), o.fixed8_.begin() + b, o.fixed8_.begin() + e);
      for (size_t i = begin + 1; i <= end; ++i) offsets_.push_back(o.offsets_[i] - b + base);
      break;
    }
  }
}

size_t Column::ByteSize() const {
  return valid_.size() + fixed8_.size() + i32_.size() * 4 + i64_.size() * 8 + f64_.size() * 8 +
         bytes_.size() + offsets_.size() * 4;
}

RecordBatch::RecordBatch(Schema s) : schema(std::move(s)) {
  for (const Field& f : schema.fields) columns.emplace_back(f.type);
}

Status RecordBatch::Validate() const {
  if (columns.size() != schema.fields.size()) {
    return InvalidArgumentError(fmt::format("batch has {} columns but the schema has {} fields",
                                            columns.size(), schema.fields.size()));
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    const Field& f = schema.fields[i];
    if (columns[i].type() != f.type) {
      return InvalidArgumentError(fmt::format("column {} has type {}, schema says {}", f.name,
                                              ColumnTypeName(columns[i].type()),
                                              ColumnTypeName(f.type)));
    }
    if (columns[i].size() != num_rows()) {
      return InvalidArgumentError(
          fmt::format("column {} has {} rows, expected {}", f.name, columns[i].size(), num_rows()));
    }
    if (!f.nullable && columns[i].null_count() > 0) {
      return InvalidArgumentError(fmt::format("column {} is not nullable but has nulls", f.name));
    }
  }
  return Status::Ok();
}

Status RecordBatch::Append(const RecordBatch& other) {
  if (!(other.schema == schema)) return InvalidArgumentError("append: schemas differ");
  for (size_t i = 0; i < columns.size(); ++i) {
    columns[i].AppendFrom(other.columns[i], 0, other.num_rows());
  }
  return Status::Ok();
}

size_t RecordBatch::ByteSize() const {
  size_t n = 0;
  for (const Column& c : columns) n += c.ByteSize();
  return n;
}

}  // namespace pinpipe::table
