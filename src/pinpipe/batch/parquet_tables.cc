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

Result<std::string> CleanedTableParquet(const frame::Table& cleaned, clean::TableKind kind,
                                        const table::WriterOptions& options) {
  PINPIPE_ASSIGN_OR_RETURN(auto writer,
                           table::ParquetWriter::Create(clean::CleanedSchema(kind), options));
  const size_t rows = cleaned.num_rows();
  for (size_t begin = 0; begin < rows; begin += kSliceRows) {
    PINPIPE_ASSIGN_OR_RETURN(table::RecordBatch slice,
                             ToRecordBatch(cleaned, kind, begin, begin + kSliceRows));
    PINPIPE_RETURN_IF_ERROR(writer->Write(slice));
  }
  return writer->Finish();
}

}  // namespace pinpipe::batch
