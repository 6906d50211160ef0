#include "pinpipe/base/names.h"

#include <gtest/gtest.h>

namespace pinpipe {
namespace {

TEST(NamesTest, EveryNameOfOnePrefixAndKind) {
  EXPECT_EQ(TopicName("0a60b9a8a831", "pin"), "0a60b9a8a831.pin");
  EXPECT_EQ(SinkTopicFolder("0a60b9a8a831", "geo"), "topics/0a60b9a8a831.geo/");
  EXPECT_EQ(StreamName("0a60b9a8a831", "user"), "streaming-0a60b9a8a831-user");
  EXPECT_EQ(TableName("0a60b9a8a831", "pin"), "0a60b9a8a831_pin_table");
  EXPECT_EQ(TableRoot("0a60b9a8a831", "pin"), "0a60b9a8a831_pin_table/");
  EXPECT_EQ(StreamQueryId("abc", "geo"), "pinpipe-stream-abc-geo");
  EXPECT_EQ(StreamCheckpointPrefix("abc", "geo"), "_checkpoints/pinpipe-stream-abc-geo/");
  EXPECT_EQ(StreamNameHead("abc"), "streaming-abc-");
  EXPECT_EQ(kTableKindNames[0], "pin");
  EXPECT_EQ(kTableKindNames[2], "user");
}

TEST(NamesTest, StreamNamesAreRecognisedAndGiveTheirKind) {
  EXPECT_TRUE(IsStreamName(StreamName("a-b", "pin")));
  EXPECT_FALSE(IsStreamName(TopicName("a", "pin")));
  // A prefix may hold dashes: the kind is what follows the last one.
  EXPECT_EQ(StreamKind(StreamName("a-b", "geo")), "geo");
  EXPECT_EQ(StreamKind("streaming-pin"), "");
  EXPECT_EQ(StreamKind("a.pin"), "");
  for (auto kind : kTableKindNames) {
    EXPECT_EQ(StreamKind(StreamName("p", kind)), kind);
    EXPECT_TRUE(StreamName("p", kind).starts_with(StreamNameHead("p")));
  }
}

}  // namespace
}  // namespace pinpipe
