#include "pinpipe/clean/schema.h"

namespace pinpipe::clean {

std::span<const CleanedColumn> CleanedColumns(TableKind kind) {
  using frame::DataType;
  using table::ColumnType;
  static constexpr CleanedColumn kPin[] = {
      {"ind", ColumnType::kInt64, DataType::kInt64, true},
      {"unique_id", ColumnType::kString, DataType::kString, false},
      {"title", ColumnType::kString, DataType::kString, false},
      {"description", ColumnType::kString, DataType::kString, false},
      {"follower_count", ColumnType::kInt64, DataType::kInt64, true},
      {"poster_name", ColumnType::kString, DataType::kDict, true},
      {"tag_list", ColumnType::kString, DataType::kString, false},
      {"is_image_or_video", ColumnType::kString, DataType::kDict, false},
      {"image_src", ColumnType::kString, DataType::kString, false},
      {"save_location", ColumnType::kString, DataType::kDict, false},
      {"category", ColumnType::kString, DataType::kDict, true}};
  static constexpr CleanedColumn kGeo[] = {
      {"ind", ColumnType::kInt64, DataType::kInt64, true},
      {"country", ColumnType::kString, DataType::kDict, true},
      {"coordinates", ColumnType::kDoubleList, DataType::kListDouble, false},
      {"timestamp", ColumnType::kTimestampMicros, DataType::kTimestamp, true}};
  static constexpr CleanedColumn kUser[] = {
      {"ind", ColumnType::kInt64, DataType::kInt64, true},
      {"user_name", ColumnType::kString, DataType::kString, false},
      {"age", ColumnType::kInt32, DataType::kInt64, true},
      {"date_joined", ColumnType::kTimestampMicros, DataType::kTimestamp, true}};
  switch (kind) {
    case TableKind::kPin:
      return kPin;
    case TableKind::kGeo:
      return kGeo;
    case TableKind::kUser:
      return kUser;
  }
  return kPin;
}

table::Schema CleanedSchema(TableKind kind) {
  table::Schema s;
  for (const CleanedColumn& c : CleanedColumns(kind))
    s.fields.push_back({std::string(c.name), c.table_type});
  return s;
}

}  // namespace pinpipe::clean
