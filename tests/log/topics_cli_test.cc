// `pinpipe topics|produce|consume` end to end: the real binary on a temporary
// data directory, checking outputs and exit codes (2 = usage, 1 = failure).
#include <gtest/gtest.h>

#include "harness.h"

namespace pinpipe::testing {
namespace {

class TopicsCliTest : public ::testing::Test {
 protected:
  CommandResult Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), PinpipeBinary());
    args.push_back("--data-dir");
    args.push_back(dir_.path().string());
    return RunCommand(args, input, {}, std::chrono::seconds(60));
  }
  TempDir dir_;
};

TEST_F(TopicsCliTest, CreateProduceConsumeDescribeDelete) {
  auto r = Run({"topics", "create", "--topic", "abc.pin", "--partitions", "3", "--fsync", "always",
                "--retention-ms", "1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Run({"topics", "create", "--topic", "abc.pin"}).exit_code, 1);  // exists
  EXPECT_EQ(Run({"topics", "create", "--topic", "abc.pin", "--if-not-exists"}).exit_code, 0);
  r = Run({"topics", "create", "--topic", "../escape"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only ASCII letters"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"topics", "create", "--topic", "x", "--fsync", "sometimes"}).exit_code, 2);
  EXPECT_EQ(Run({"topics", "create", "--topic", "x", "--partitions", "0"}).exit_code, 2);

  r = Run({"produce", "--topic", "abc.pin"}, "one\ntwo\nthree\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run({"produce", "--topic", "abc.pin", "--key-separator", ":", "--partition", "1"},
          "k1:v1\nk2:v2\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Run({"produce", "--topic", "nope"}, "x\n").exit_code, 1);

  r = Run({"topics", "list"});
  EXPECT_EQ(r.out, "abc.pin\n");
  r = Run({"topics", "describe", "--topic", "abc.pin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("PartitionCount: 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fsync: always"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("retention.ms: 86400000"), std::string::npos) << r.out;

  r = Run({"consume", "--topic", "abc.pin", "--from-beginning", "--group", "g", "--max", "4",
           "--timeout", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;
  // The group resumes after what it consumed; then times out with nothing new.
  r = Run({"consume", "--topic", "abc.pin", "--from-beginning", "--group", "g", "--timeout", "1",
           "--print-key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  // Without --from-beginning and without a group, only new records show.
  r = Run({"consume", "--topic", "abc.pin", "--timeout", "0.3"});
  EXPECT_EQ(r.out, "");

  ASSERT_EQ(Run({"topics", "delete", "--topic", "abc.pin"}).exit_code, 0);
  EXPECT_EQ(Run({"topics", "describe", "--topic", "abc.pin"}).exit_code, 1);
  EXPECT_EQ(Run({"topics", "delete", "--topic", "abc.pin"}).exit_code, 1);
}

}  // namespace
}  // namespace pinpipe::testing
