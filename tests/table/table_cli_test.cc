// `pinpipe table show|history|optimize|vacuum` on a table written through
// the library on the local object store.
#include <gtest/gtest.h>

#include "harness.h"
#include "pinpipe/objstore/local_object_store.h"
#include "pinpipe/table/delta_table.h"

namespace pinpipe::table {
namespace {

TEST(TableCliTest, ShowHistoryOptimizeVacuum) {
  testing::TempDir dir;
  {
    auto store = objstore::LocalObjectStore::Open(dir.path());
    ASSERT_TRUE(store.ok());
    DeltaTable t(**store, "t");
    Schema schema{{{"ind", ColumnType::kInt64},
                   {"user_name", ColumnType::kString},
                   {"age", ColumnType::kInt32},
                   {"date_joined", ColumnType::kTimestampMicros}}};
    ASSERT_TRUE(t.Create(schema).ok());
    for (int b = 0; b < 3; ++b) {
      RecordBatch batch(schema);
      for (int i = 0; i < 4; ++i) {
        batch.columns[0].AppendInt64(b * 4 + i);
        batch.columns[1].AppendString("user");
        batch.columns[2].AppendInt32(30 + i);
        batch.columns[3].AppendInt64(1'600'000'000'000'000);
      }
      ASSERT_TRUE(t.Append(batch, {"q", b, "STREAMING UPDATE"}).ok());
    }
  }
  const std::string table = dir / "t";
  auto show = testing::RunCommand({testing::PinpipeBinary(), "table", "show", table});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("version:    3"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("rows:       12"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("files:      3"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("date_joined timestamp"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("txn:        q version 2"), std::string::npos) << show.out;

  auto opt = testing::RunCommand({testing::PinpipeBinary(), "table", "optimize", table});
  ASSERT_EQ(opt.exit_code, 0) << opt.err;
  EXPECT_NE(opt.out.find("compacted 3 files into 1"), std::string::npos) << opt.out;

  auto history = testing::RunCommand({testing::PinpipeBinary(), "table", "history", table});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("OPTIMIZE"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("CREATE TABLE"), std::string::npos) << history.out;

  auto vacuum = testing::RunCommand(
      {testing::PinpipeBinary(), "table", "vacuum", "--retention-hours", "0", table});
  ASSERT_EQ(vacuum.exit_code, 0) << vacuum.err;
  EXPECT_NE(vacuum.out.find("deleted 3 files"), std::string::npos) << vacuum.out;
  auto again = testing::RunCommand({testing::PinpipeBinary(), "table", "show", table});
  EXPECT_NE(again.out.find("rows:       12"), std::string::npos) << again.out;

  auto missing = testing::RunCommand({testing::PinpipeBinary(), "table", "show", dir / "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  auto usage = testing::RunCommand({testing::PinpipeBinary(), "table", "show"});
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
}  // namespace pinpipe::table
