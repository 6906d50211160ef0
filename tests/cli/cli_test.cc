// The command line as a user meets it: exit codes and one-line errors.
#include <gtest/gtest.h>

#include "harness.h"

namespace pinpipe::testing {
namespace {

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(CliTest, VersionAndHelpExitZero) {
  auto version = RunCommand({PinpipeBinary(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_FALSE(version.out.empty());
  auto help = RunCommand({PinpipeBinary(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("config"), std::string::npos);
}

TEST(CliTest, UnknownCommandIsUsageError) {
  auto r = RunCommand({PinpipeBinary(), "no-such-command"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("pinpipe: error:"), std::string::npos);
}

TEST(CliTest, BadConfigOverrideIsUsageError) {
  auto r = RunCommand({PinpipeBinary(), "--set", "general.nope=1", "config", "show"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("general.nope"), std::string::npos);
}

TEST(CliTest, ConfigShowMasksSecretsAndHonoursEnv) {
  auto r =
      RunCommand({PinpipeBinary(), "config", "show"}, "",
                 {{"PINPIPE_SOURCE_PASSWORD", "s3cr3t"}, {"PINPIPE_GENERAL_PREFIX", "abc123"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("s3cr3t"), std::string::npos);
  EXPECT_NE(r.out.find("prefix = \"abc123\"  # env"), std::string::npos) << r.out;
}

TEST(CliTest, ConfigFileIsRead) {
  TempDir dir;
  WriteFile(dir / "p.toml", "[general]\nprefix = \"fromfile\"\n");
  auto r = RunCommand({PinpipeBinary(), "--config", dir / "p.toml", "config", "show"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("prefix = \"fromfile\"  # file"), std::string::npos) << r.out;
  WriteFile(dir / "bad.toml", "[general\n");
  auto bad = RunCommand({PinpipeBinary(), "--config", dir / "bad.toml", "config", "show"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(CountLines(bad.err), 1) << bad.err;
}

// The in-memory broker is a test double only: the binary refuses it in one line.
TEST(CliTest, MemoryBrokerTypeIsAConfigError) {
  TempDir dir;
  auto r = RunCommand({PinpipeBinary(), "--set", "general.data_dir=" + dir / "data", "--set",
                       "broker.type=memory", "serve"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("broker.type must be 'embedded' or 'kafka', not 'memory'"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace pinpipe::testing
