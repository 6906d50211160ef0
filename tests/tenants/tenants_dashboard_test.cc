// The dashboard of a shared `pinpipe up` with [[tenants]] in a real browser
// (tests/tenants/tenant_dashboard.cjs): a tenant's key shows only its names,
// the admin's key shows everyone's.
#include <gtest/gtest.h>

#include <fstream>

#include "harness.h"

namespace pinpipe::testing {
namespace {

TEST(TenantsDashboardTest, EachTenantSeesOnlyItsOwnAndTheAdminSeesAll) {
  TempDir dir;
  const int port = PickFreePort();
  const std::string api = "http://127.0.0.1:" + std::to_string(port);
  const std::string config = dir / "tenants.toml";
  std::ofstream(config) << R"(
[[tenants]]
name = "alice"
prefixes = ["alice"]
api_keys = ["alice-dash-key"]

[[tenants]]
name = "bob"
prefixes = ["bob"]
api_keys = ["bob-dash-key"]

[[tenants]]
name = "ops"
admin = true
api_keys = ["ops-dash-key"]
)";
  std::map<std::string, std::string> env = {
      {"PINPIPE_GENERAL_DATA_DIR", dir / "data"},
      {"PINPIPE_SOURCE_URL", "sqlite://" + (dir / "source.db")},
      {"PINPIPE_LAKE_URL", "file://" + (dir / "lake")},
      {"PINPIPE_STREAM_TABLES", "file://" + (dir / "tables")},
      {"PINPIPE_BATCH_OUT", dir / "results"},
      {"PINPIPE_KAFKA_API_LISTEN", "127.0.0.1:" + std::to_string(PickFreePort())},
      {"PINPIPE_API_LISTEN", "127.0.0.1:" + std::to_string(port)}};
  auto seed = RunCommand({PinpipeBinary(), "--config", config, "seed", "--rows", "200"}, "", env);
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  Process up({{PinpipeBinary(), "--config", config, "up"}, env});
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << up.Output();
  for (const std::string who : {"alice", "bob"}) {
    const std::string key = who + "-dash-key";
    for (const char* mode : {"batch", "stream"}) {
      auto e = RunCommand({PinpipeBinary(), "--config", config, "emulate", "--mode", mode, "--api",
                           api, "--prefix", who, "--api-key", key, "--count", "20"},
                          "", env);
      ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
    }
    auto run = RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                           "-H", "x-api-key: " + key, api + "/api/runs/batch-" + who});
    ASSERT_EQ(run.out, "202") << run.err;
  }
  auto browser =
      RunCommand({"node", SourceDir() + "/tests/tenants/tenant_dashboard.cjs", api,
                  "alice-dash-key", "ops-dash-key"},
                 "", {{"NODE_PATH", PeersDir() + "/node_modules"}}, std::chrono::seconds(150));
  EXPECT_EQ(browser.exit_code, 0) << browser.out << browser.err << up.Output();
  EXPECT_NE(browser.out.find("tenant dashboard ok"), std::string::npos) << browser.out;
}

}  // namespace
}  // namespace pinpipe::testing
