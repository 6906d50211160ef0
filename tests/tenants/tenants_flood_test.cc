// One tenant at its quota must not slow another down: tenant A floods the
// REST produce route at 20x its quota (answered 429 on the I/O thread,
// without a handler thread or the log), tenant B's produce latency p99 stays
// within 2x of its unloaded value. Both measured in this test, interleaved.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "harness.h"

namespace pinpipe::testing {
namespace {

TEST(TenantsFloodTest, OneTenantAtItsQuotaLeavesTheOtherAlone) {
  TempDir dir;
  const std::string config = dir / "tenants.toml";
  std::ofstream(config) << R"(
[[tenants]]
name = "alice"
prefixes = ["alice"]
api_keys = ["alice-flood-key"]
records_per_s = 50

[[tenants]]
name = "bob"
prefixes = ["bob"]
api_keys = ["bob-flood-key"]
)";
  const int port = PickFreePort();
  Process server(
      {.argv = {PinpipeBinary(), "--config", config, "serve", "--listen",
                "127.0.0.1:" + std::to_string(port), "--kafka-listen",
                "127.0.0.1:" + std::to_string(PickFreePort()), "--data-dir", dir / "data"}});
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(20))) << server.Output();
  auto r = RunCommand({"python3", SourceDir() + "/tests/tenants/flood.py",
                       "http://127.0.0.1:" + std::to_string(port), "alice-flood-key", "alice.flood",
                       "bob-flood-key", "bob.flood"},
                      "", {}, std::chrono::seconds(150));
  ASSERT_EQ(r.exit_code, 0) << r.err << server.Output();
  const auto o = nlohmann::json::parse(r.out);
  std::cout << "flood: " << o.dump() << std::endl;
  // A was mostly refused (quota 50/s, sent about 1000/s).
  const int refused = o["a_answers"].value("429", 0), accepted = o["a_answers"].value("200", 0);
  EXPECT_GT(refused, 5 * accepted) << o.dump();
  // B's p99 within 2x of unloaded (plus 1 ms: a scheduler tick on a shared machine).
  EXPECT_LE(o["loaded_p99_ms"].get<double>(), 2 * o["unloaded_p99_ms"].get<double>() + 1.0)
      << o.dump();
}

}  // namespace
}  // namespace pinpipe::testing
