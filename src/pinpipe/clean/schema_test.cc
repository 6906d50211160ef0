#include "pinpipe/clean/schema.h"

#include <gtest/gtest.h>

namespace pinpipe::clean {
namespace {

// The three places that used to list the columns apart (OutputColumns,
// TypeOf in cleaner.cc, CleanedSchema) now read one list; these pin the
// result to spec/cleaning.md.
TEST(CleanedColumnsTest, OutputColumnsFollowTheSpec) {
  EXPECT_EQ(OutputColumns(TableKind::kPin),
            (std::vector<std::string>{"ind", "unique_id", "title", "description", "follower_count",
                                      "poster_name", "tag_list", "is_image_or_video", "image_src",
                                      "save_location", "category"}));
  EXPECT_EQ(OutputColumns(TableKind::kGeo),
            (std::vector<std::string>{"ind", "country", "coordinates", "timestamp"}));
  EXPECT_EQ(OutputColumns(TableKind::kUser),
            (std::vector<std::string>{"ind", "user_name", "age", "date_joined"}));
  EXPECT_EQ(OutputColumns(TableKind::kPin, ColumnSet::kQueryOnly),
            (std::vector<std::string>{"ind", "follower_count", "poster_name", "category"}));
  EXPECT_EQ(OutputColumns(TableKind::kGeo, ColumnSet::kQueryOnly),
            (std::vector<std::string>{"ind", "country", "timestamp"}));
  EXPECT_EQ(OutputColumns(TableKind::kUser, ColumnSet::kQueryOnly),
            (std::vector<std::string>{"ind", "age", "date_joined"}));
}

TEST(CleanedColumnsTest, EmptyTableAndSchemaAgreeWithTheList) {
  for (TableKind kind : kAllTables) {
    for (ColumnSet set : {ColumnSet::kAll, ColumnSet::kQueryOnly}) {
      const frame::Table t = EmptyTable(kind, set);
      const std::vector<std::string> names = OutputColumns(kind, set);
      ASSERT_EQ(t.num_columns(), names.size());
      for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(t.name(i), names[i]);
    }
    const table::Schema schema = CleanedSchema(kind);
    const auto columns = CleanedColumns(kind);
    ASSERT_EQ(schema.fields.size(), columns.size());
    for (size_t i = 0; i < columns.size(); ++i) {
      EXPECT_EQ(schema.fields[i].name, columns[i].name);
      EXPECT_EQ(schema.fields[i].type, columns[i].table_type);
    }
  }
  EXPECT_EQ(CleanedSchema(TableKind::kUser).fields[2].type, table::ColumnType::kInt32);  // age
  EXPECT_EQ(EmptyTable(TableKind::kGeo).Get("timestamp").type(), frame::DataType::kTimestamp);
  EXPECT_EQ(EmptyTable(TableKind::kPin).Get("category").type(), frame::DataType::kDict);
}

TEST(CleanedColumnsTest, OneTableEnumWithModel) {
  EXPECT_EQ(TableKindName(TableKind::kPin), "pin");
  EXPECT_EQ(TableKindName(TableKind::kGeo), "geo");
  EXPECT_EQ(TableKindName(TableKind::kUser), "user");
  static_assert(std::is_same_v<TableKind, model::Table>);
}

}  // namespace
}  // namespace pinpipe::clean
