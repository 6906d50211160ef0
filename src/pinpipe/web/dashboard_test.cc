#include "pinpipe/web/dashboard.h"

#include <gtest/gtest.h>

#include "pinpipe/web/assets.h"

namespace pinpipe::web {
namespace {

http::Request Get(std::string path) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.target = r.path;
  return r;
}

TEST(AssetsTest, PageScriptAndStylesAreEmbedded) {
  auto page = FindAsset("/ui/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->data.find("/ui/app.js"), std::string_view::npos);
  auto js = FindAsset("/ui/app.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_NE(js->data.find("/api/status"), std::string_view::npos);
  EXPECT_TRUE(FindAsset("/ui/app.css").has_value());
  EXPECT_FALSE(FindAsset("/ui/../CMakeLists.txt").has_value());
  EXPECT_FALSE(FindAsset("/other").has_value());
}

TEST(DashboardTest, ServesStatusFromHook) {
  DashboardHooks hooks;
  hooks.status = [] { return nlohmann::json{{"prefix", "abc"}}; };
  http::Response response;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/status"), response));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body)["prefix"], "abc");
}

TEST(DashboardTest, ResultsNotFoundUntilABatchRunFinished) {
  DashboardHooks hooks;
  hooks.latest_results = []() -> Result<nlohmann::json> { return NotFoundError("no run yet"); };
  http::Response response;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/results/latest"), response));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(nlohmann::json::parse(response.body)["message"], "no run yet");
}

TEST(DashboardTest, LiveAnswersFromHookAnd409WithoutAStreamingJob) {
  DashboardHooks hooks;
  http::Response none;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/answers/live"), none));
  EXPECT_EQ(none.status, 409);
  hooks.live_answers = []() -> Result<nlohmann::json> {
    return nlohmann::json{{"questions", nlohmann::json::array()}, {"freshness_ms", 12}};
  };
  http::Response live;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/answers/live"), live));
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(nlohmann::json::parse(live.body)["freshness_ms"], 12);
  // The dashboard's panel reads the same endpoint.
  auto js = FindAsset("/ui/live-answers.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_NE(js->data.find("/api/answers/live"), std::string_view::npos);
  EXPECT_NE(FindAsset("/ui/")->data.find("/ui/live-answers.js"), std::string_view::npos);
}

TEST(DashboardTest, TriggerNeedsPostAndKnownDag) {
  DashboardHooks hooks;
  hooks.trigger = [](const std::string& dag) -> Result<int64_t> {
    if (dag != "batch") return NotFoundError("no DAG named '" + dag + "'");
    return 7;
  };
  http::Response get;
  ASSERT_TRUE(HandleDashboard(hooks, Get("/api/runs/batch"), get));
  EXPECT_EQ(get.status, 405);
  auto post = Get("/api/runs/batch");
  post.method = "POST";
  http::Response ok;
  ASSERT_TRUE(HandleDashboard(hooks, post, ok));
  EXPECT_EQ(ok.status, 202);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["run_id"], 7);
  post.path = "/api/runs/nope";
  http::Response missing;
  ASSERT_TRUE(HandleDashboard(hooks, post, missing));
  EXPECT_EQ(missing.status, 404);
}

TEST(DashboardTest, LeavesOtherRoutesAlone) {
  DashboardHooks hooks;
  http::Response response;
  EXPECT_FALSE(HandleDashboard(hooks, Get("/topics/x"), response));
  EXPECT_FALSE(HandleDashboard(hooks, Get("/api/unknown"), response));
}

}  // namespace
}  // namespace pinpipe::web
