// The /ui files through the real gateway (issue #19): public (no key needed to load the page,
// which holds no data), served with a strict CSP and the right content types; anything else
// under /ui is a 404, and a body sent to /ui is never read without a key.
#include <string>

#include <gtest/gtest.h>

#include "claudegate/ui/ui_assets.hpp"

#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

TEST(Ui, ThePageAndItsFilesArePublicWithAStrictPolicy) {
  FakeUpstream upstream(
      [](const RecordedRequest&) { return JsonResponse(nlohmann::json::object()); });
  TestGateway gw(ConfigFor(upstream));
  const std::vector<std::pair<std::string, std::string>> files = {
      {"/ui", "text/html; charset=utf-8"},
      {"/ui/", "text/html; charset=utf-8"},
      {"/ui/app.js", "text/javascript; charset=utf-8"},
      {"/ui/app.css", "text/css; charset=utf-8"}};
  for (const auto& [path, type] : files) {
    auto reply = Fetch(gw.port(), http::verb::get, path);
    ASSERT_TRUE(reply) << path;
    EXPECT_EQ(reply->status, 200) << path;
    EXPECT_EQ(reply->header("content-type"), type) << path;
    const std::string csp = reply->header("content-security-policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(reply->header("x-content-type-options"), "nosniff");
    EXPECT_EQ(reply->header("x-frame-options"), "DENY");
    EXPECT_FALSE(reply->body().empty());
  }
  auto page = Fetch(gw.port(), http::verb::get, "/ui");
  ASSERT_TRUE(page);
  // No inline script or style: the CSP would block them.
  EXPECT_EQ(page->body().find("<script>"), std::string::npos);
  EXPECT_EQ(page->body().find("style="), std::string::npos);
  EXPECT_EQ(page->body().find("<style"), std::string::npos);
  EXPECT_EQ(upstream.requests().size(), 0U);
}

TEST(Ui, OtherPathsAndMethodsAreNotPublic) {
  FakeUpstream upstream(
      [](const RecordedRequest&) { return JsonResponse(nlohmann::json::object()); });
  TestGateway gw(ConfigFor(upstream));
  auto missing = Fetch(gw.port(), http::verb::get, "/ui/secrets.json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto posted = Fetch(gw.port(), http::verb::post, "/ui", {}, std::string(1000, 'x'));
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 401);
  auto uix = Fetch(gw.port(), http::verb::get, "/uix");
  ASSERT_TRUE(uix);
  EXPECT_EQ(uix->status, 401);
}

TEST(Ui, EveryEmbeddedFileIsFound) {
  ASSERT_EQ(ui::UiAssets().size(), 3U);
  for (const auto& asset : ui::UiAssets()) {
    EXPECT_EQ(ui::FindUiAsset(asset.path), &asset) << asset.path;
  }
  EXPECT_EQ(ui::FindUiAsset("/ui/"), ui::FindUiAsset("/ui"));
  EXPECT_EQ(ui::FindUiAsset("/ui/../etc/passwd"), nullptr);
}

}  // namespace
}  // namespace claudegate::testing
