#include "pinpipe/batch/parquet_tables.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "pinpipe/clean/schema.h"

namespace pinpipe::batch {
namespace {

using frame::DataType;
using table::ColumnType;

constexpr size_t kSliceRows = 1 << 16;

Status Convert(const frame::Column& from, const std::string& name, size_t begin, size_t end,
               table::Column* to) {
  to->Reserve(end - begin);
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
      for (size_t r = begin; r < end; ++r) {
        if (from.IsNull(r)) {
          to->AppendNull();
        } else {
          to->AppendInt64(from.Int64At(r));
        }
      }
      return Status::Ok();
    case ColumnType::kInt32:
      if (from.type() != DataType::kInt64) return mismatch();
      for (size_t r = begin; r < end; ++r) {
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
      for (size_t r = begin; r < end; ++r) {
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
      for (size_t r = begin; r < end; ++r) {
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

}  // namespace

Result<table::RecordBatch> ToRecordBatch(const frame::Table& cleaned, clean::TableKind kind,
                                         size_t begin, size_t end) {
  table::RecordBatch out(clean::CleanedSchema(kind));
  end = std::min(end, cleaned.num_rows());
  begin = std::min(begin, end);
  for (size_t f = 0; f < out.schema.fields.size(); ++f) {
    const std::string& name = out.schema.fields[f].name;
    int index = cleaned.Find(name);
    if (index < 0) {
      return InvalidArgumentError("the cleaned " + std::string(clean::TableKindName(kind)) +
                                  " table has no column '" + name + "'");
    }
    PINPIPE_RETURN_IF_ERROR(Convert(cleaned.column(index), name, begin, end, &out.columns[f]));
  }
  return out;
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
