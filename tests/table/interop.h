// Helpers of the table integration tests: run DuckDB / parquetjs-lite (npm
// peers) on files and parse what they print.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "harness.h"

namespace pinpipe::table {

// Runs each statement on one in-memory DuckDB (one node process); returns
// one {"columns","types","rows"} per statement.
inline std::vector<nlohmann::json> DuckDbMany(const std::vector<std::string>& sqls) {
  std::vector<std::string> argv = {"node", testing::SourceDir() + "/tests/table/duckdb_query.js"};
  argv.insert(argv.end(), sqls.begin(), sqls.end());
  auto r = testing::RunCommand(argv, "", {{"NODE_PATH", testing::PeersDir() + "/node_modules"}});
  EXPECT_EQ(r.exit_code, 0) << sqls[0] << "\n" << r.err;
  std::vector<nlohmann::json> out(sqls.size(), nlohmann::json::object());
  if (r.exit_code != 0) return out;
  auto all = nlohmann::json::parse(r.out);
  for (size_t i = 0; i < sqls.size() && i < all.size(); ++i) out[i] = all[i];
  return out;
}

inline nlohmann::json DuckDb(const std::string& sql) { return DuckDbMany({sql})[0]; }

// Every record of `path` as read by parquetjs-lite.
inline nlohmann::json ParquetJs(const std::string& path) {
  auto r =
      testing::RunCommand({"node", testing::SourceDir() + "/tests/table/parquetjs_read.js", path},
                          "", {{"NODE_PATH", testing::PeersDir() + "/node_modules"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return nlohmann::json::array();
  return nlohmann::json::parse(r.out);
}

}  // namespace pinpipe::table
