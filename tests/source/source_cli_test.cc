// `pinpipe seed` and `pinpipe source stats` as a user meets them.
#include <gtest/gtest.h>

#include "harness.h"

namespace pinpipe::testing {
namespace {

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(SourceCliTest, SeedThenStats) {
  TempDir dir;
  std::string url = "sqlite://" + (dir / "sub/source.db");
  auto seed = RunCommand({PinpipeBinary(), "seed", "--rows", "1200", "--source", url});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  EXPECT_NE(seed.out.find("1200 rows"), std::string::npos) << seed.out;
  auto stats = RunCommand({PinpipeBinary(), "source", "stats", "--source", url});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("pinterest_data    1200 rows"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("geolocation_data  1200 rows"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("user_data         1200 rows"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("categories"), std::string::npos);

  // A second seed refuses to overwrite; --replace does.
  auto again = RunCommand({PinpipeBinary(), "seed", "--rows", "10", "--source", url});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(CountLines(again.err), 1) << again.err;
  EXPECT_NE(again.err.find("--replace"), std::string::npos);
  auto replace =
      RunCommand({PinpipeBinary(), "seed", "--rows", "10", "--replace", "--source", url});
  EXPECT_EQ(replace.exit_code, 0) << replace.err;
}

TEST(SourceCliTest, SameSeedGivesIdenticalFiles) {
  TempDir dir;
  for (const char* name : {"a.db", "b.db"}) {
    auto r = RunCommand({PinpipeBinary(), "seed", "--rows", "300", "--seed", "5", "--source",
                         "sqlite://" + (dir / name)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto dump = [&](const char* name) {
    return RunCommand({"sqlite3", dir / name,
                       "SELECT * FROM pinterest_data; SELECT * FROM geolocation_data; "
                       "SELECT * FROM user_data;"})
        .out;
  };
  std::string a = dump("a.db");
  EXPECT_GT(a.size(), 10000u);
  EXPECT_EQ(a, dump("b.db"));
}

TEST(SourceCliTest, BadInputGivesOneClearLine) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string needle;
  } cases[] = {
      {{"seed", "--source", "nosuchscheme://x"}, 2, "unknown source URL scheme"},
      {{"seed", "--rows", "-5", "--source", "sqlite://" + (dir / "x.db")}, 2, "rows"},
      {{"seed", "--rows", "abc"}, 2, "rows"},
      {{"seed", "--no-such-flag"}, 2, "no-such-flag"},
      {{"source", "stats", "--source", "sqlite://" + (dir / "missing.db")}, 1, "pinpipe seed"},
      {{"source", "stats", "--source", "mysql://u:hunter2@127.0.0.1:1/db"}, 1, "***"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {PinpipeBinary()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args[0] << " " << r.err;
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  }
}

TEST(SourceCliTest, PasswordFromEnvironmentIsUsedAndNeverPrinted) {
  auto r =
      RunCommand({PinpipeBinary(), "source", "stats", "--source", "postgresql://u@127.0.0.1:1/db"},
                 "", {{"PINPIPE_SOURCE_PASSWORD", "envsecret"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.find("envsecret"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pinpipe::testing
