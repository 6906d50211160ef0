#include "pinpipe/batch/parquet_tables.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "pinpipe/clean/schema.h"

namespace pinpipe::batch {
namespace {

using frame::DataType;
using table::ColumnType;

constexpr size_t kSliceRows = 1 << 16;

// Rows [begin, end) of a table.
struct RowRange {
  size_t begin, end;
  size_t size() const { return end - begin; }
  size_t operator[](size_t i) const { return begin + i; }
};

// Chosen rows of a table, in order.
struct RowList {
  std::span<const uint32_t> rows;
  size_t size() const { return rows.size(); }
  size_t operator[](size_t i) const { return rows[i]; }
};

template <typename Rows>
Status Convert(const frame::Column& from, const std::string& name, const Rows& rows,
               table::Column* to) {
  const size_t n = rows.size();
  to->Reserve(n);
  auto mismatch = [&] {
    return InvalidArgumentError(
        "column '" + name + "' of type " + std::string(frame::DataTypeName(from.type())) +
        " cannot be written as " + std::string(table::ColumnTypeName(to->type())));
  };
  switch (to->type()) {
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      if (from.type() !=
          (to->type() == ColumnType::kInt64 ? DataType::kInt64 : DataType::kTimestamp)) {
        return mismatch();
      }
      for (size_t i = 0; i < n; ++i) {
        const size_t r = rows[i];
        if (from.IsNull(r)) {
          to->AppendNull();
        } else {
          to->AppendInt64(from.Int64At(r));
        }
      }
      return Status::Ok();
    case ColumnType::kInt32:
      if (from.type() != DataType::kInt64) return mismatch();
      for (size_t i = 0; i < n; ++i) {
        const size_t r = rows[i];
        int64_t v = from.IsNull(r) ? 0 : from.Int64At(r);
        if (from.IsNull(r) || v < std::numeric_limits<int32_t>::min() ||
            v > std::numeric_limits<int32_t>::max()) {
          to->AppendNull();
        } else {
          to->AppendInt32(static_cast<int32_t>(v));
        }
      }
      return Status::Ok();
    case ColumnType::kString:
      if (from.type() != DataType::kString && from.type() != DataType::kDict) return mismatch();
      for (size_t i = 0; i < n; ++i) {
        const size_t r = rows[i];
        if (from.IsNull(r)) {
          to->AppendNull();
        } else {
          to->AppendString(from.StringAt(r));
        }
      }
      return Status::Ok();
    case ColumnType::kDoubleList: {
      if (from.type() != DataType::kListDouble) return mismatch();
      std::vector<std::optional<double>> items;
      for (size_t i = 0; i < n; ++i) {
        const size_t r = rows[i];
        if (from.IsNull(r)) {
          to->AppendNull();
          continue;
        }
        items.clear();
        for (size_t j = 0; j < from.ListSize(r); ++j) {
          items.push_back(from.ListValueValid(r, j) ? std::optional<double>(from.ListValue(r, j))
                                                    : std::nullopt);
        }
        to->AppendListWithNulls(items);
      }
      return Status::Ok();
    }
    case ColumnType::kBoolean:
    case ColumnType::kDouble:
      break;
  }
  return mismatch();
}

template <typename Rows>
Status ToRecordBatchInto(const frame::Table& cleaned, clean::TableKind kind, const Rows& rows,
                         table::RecordBatch* batch) {
  table::Schema schema = clean::CleanedSchema(kind);
  if (batch->schema == schema) {
    for (auto& column : batch->columns) column.Clear();
  } else {
    *batch = table::RecordBatch(std::move(schema));
  }
  table::RecordBatch& out = *batch;
  for (size_t f = 0; f < out.schema.fields.size(); ++f) {
    const std::string& name = out.schema.fields[f].name;
    int index = cleaned.Find(name);
    if (index < 0) {
      return InvalidArgumentError("the cleaned " + std::string(clean::TableKindName(kind)) +
                                  " table has no column '" + name + "'");
    }
    PINPIPE_RETURN_IF_ERROR(Convert(cleaned.column(index), name, rows, &out.columns[f]));
  }
  return Status::Ok();
}

template <typename Rows>
Result<table::RecordBatch> ToRecordBatchOf(const frame::Table& cleaned, clean::TableKind kind,
                                           const Rows& rows) {
  table::RecordBatch out;
  PINPIPE_RETURN_IF_ERROR(ToRecordBatchInto(cleaned, kind, rows, &out));
  return out;
}

Status CheckRows(const frame::Table& cleaned, std::span<const uint32_t> rows) {
  for (uint32_t r : rows) {
    if (r >= cleaned.num_rows()) {
      return InvalidArgumentError("row " + std::to_string(r) + " is past the table's " +
                                  std::to_string(cleaned.num_rows()) + " rows");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<table::RecordBatch> ToRecordBatch(const frame::Table& cleaned, clean::TableKind kind,
                                         size_t begin, size_t end) {
  end = std::min(end, cleaned.num_rows());
  begin = std::min(begin, end);
  return ToRecordBatchOf(cleaned, kind, RowRange{begin, end});
}

Result<table::RecordBatch> ToRecordBatch(const frame::Table& cleaned, clean::TableKind kind,
                                         std::span<const uint32_t> rows) {
  PINPIPE_RETURN_IF_ERROR(CheckRows(cleaned, rows));
  return ToRecordBatchOf(cleaned, kind, RowList{rows});
}

Status ToRecordBatch(const frame::Table& cleaned, clean::TableKind kind,
                     std::span<const uint32_t> rows, table::RecordBatch* out) {
  PINPIPE_RETURN_IF_ERROR(CheckRows(cleaned, rows));
  return ToRecordBatchInto(cleaned, kind, RowList{rows}, out);
}

Status CleanedViews::Reset(const frame::Table& cleaned, clean::TableKind kind) {
  const std::span<const clean::CleanedColumn> schema = clean::CleanedColumns(kind);
  columns_.assign(schema.size(), table::ColumnView{});
  narrow_.resize(schema.size());
  narrow_valid_.resize(schema.size());
  for (size_t f = 0; f < schema.size(); ++f) {
    const std::string name(schema[f].name);
    int index = cleaned.Find(name);
    if (index < 0) {
      return InvalidArgumentError("the cleaned " + std::string(clean::TableKindName(kind)) +
                                  " table has no column '" + name + "'");
    }
    const frame::Column& from = cleaned.column(index);
    const ColumnType to = schema[f].table_type;
    table::ColumnView& v = columns_[f];
    v.size = from.size();
    v.valid = from.valid_words();
    bool fits = false;
    switch (to) {
      case ColumnType::kInt64:
        fits = from.type() == DataType::kInt64;
        v.i64 = from.ints().data();
        break;
      case ColumnType::kTimestampMicros:
        fits = from.type() == DataType::kTimestamp;
        v.i64 = from.ints().data();
        break;
      case ColumnType::kInt32: {
        // Narrowed: a value outside the 32-bit range is null.
        fits = from.type() == DataType::kInt64;
        if (!fits) break;
        std::vector<int32_t>& values = narrow_[f];
        std::vector<uint64_t>& valid = narrow_valid_[f];
        values.resize(from.size());
        valid.assign((from.size() + 63) / 64, 0);
        for (size_t r = 0; r < from.size(); ++r) {
          const int64_t x = from.Int64At(r);
          if (from.IsNull(r) || x < std::numeric_limits<int32_t>::min() ||
              x > std::numeric_limits<int32_t>::max()) {
            values[r] = 0;
            continue;
          }
          values[r] = static_cast<int32_t>(x);
          valid[r >> 6] |= uint64_t{1} << (r & 63);
        }
        v.i32 = values.data();
        v.valid = valid.data();
        break;
      }
      case ColumnType::kString:
        if (from.type() == DataType::kString) {
          fits = true;
          v.offsets = from.offsets().data();
          v.bytes = from.bytes().data();
        } else if (from.type() == DataType::kDict) {
          fits = true;
          v.codes = from.codes().data();
          v.dict_size = from.DictSize();
          v.dict_offsets = from.dict_offsets().data();
          v.dict_bytes = from.dict_bytes().data();
        }
        break;
      case ColumnType::kDoubleList:
        fits = from.type() == DataType::kListDouble;
        v.offsets = from.list_offsets().data();
        v.f64 = from.doubles().data();
        v.element_valid = from.list_valid_words();
        break;
      case ColumnType::kBoolean:
      case ColumnType::kDouble:
        break;
    }
    if (!fits) {
      return InvalidArgumentError(
          "column '" + name + "' of type " + std::string(frame::DataTypeName(from.type())) +
          " cannot be written as " + std::string(table::ColumnTypeName(to)));
    }
  }
  return Status::Ok();
}

Result<std::string> CleanedTableParquet(const frame::Table& cleaned, clean::TableKind kind,
                                        const table::WriterOptions& options) {
  PINPIPE_ASSIGN_OR_RETURN(auto writer,
                           table::ParquetWriter::Create(clean::CleanedSchema(kind), options));
  CleanedViews views;
  PINPIPE_RETURN_IF_ERROR(views.Reset(cleaned, kind));
  const size_t rows = cleaned.num_rows();
  std::vector<uint32_t> slice;
  for (size_t begin = 0; begin < rows; begin += kSliceRows) {
    slice.clear();
    for (size_t r = begin; r < std::min(rows, begin + kSliceRows); ++r) {
      slice.push_back(static_cast<uint32_t>(r));
    }
    PINPIPE_RETURN_IF_ERROR(writer->WriteRowGroup(views.columns(), slice));
  }
  return writer->Finish();
}

}  // namespace pinpipe::batch
