#include "pinpipe/clean/schema.h"

namespace pinpipe::clean {

table::Schema CleanedSchema(TableKind kind) {
  using table::ColumnType;
  table::Schema s;
  switch (kind) {
    case TableKind::kPin:
      s.fields = {{"ind", ColumnType::kInt64},
                  {"unique_id", ColumnType::kString},
                  {"title", ColumnType::kString},
                  {"description", ColumnType::kString},
                  {"follower_count", ColumnType::kInt64},
                  {"poster_name", ColumnType::kString},
                  {"tag_list", ColumnType::kString},
                  {"is_image_or_video", ColumnType::kString},
                  {"image_src", ColumnType::kString},
                  {"save_location", ColumnType::kString},
                  {"category", ColumnType::kString}};
      break;
    case TableKind::kGeo:
      s.fields = {{"ind", ColumnType::kInt64},
                  {"country", ColumnType::kString},
                  {"coordinates", ColumnType::kDoubleList},
                  {"timestamp", ColumnType::kTimestampMicros}};
      break;
    case TableKind::kUser:
      s.fields = {{"ind", ColumnType::kInt64},
                  {"user_name", ColumnType::kString},
                  {"age", ColumnType::kInt32},
                  {"date_joined", ColumnType::kTimestampMicros}};
      break;
  }
  return s;
}

}  // namespace pinpipe::clean
