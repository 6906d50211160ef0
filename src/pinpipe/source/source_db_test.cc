#include "pinpipe/source/source_db.h"

#include <gtest/gtest.h>

namespace pinpipe::source {
namespace {

TEST(SourceUrlTest, ParsesEveryScheme) {
  auto abs = ParseSourceUrl("sqlite:///var/lib/pin.db");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->kind, SourceUrl::Kind::kSqlite);
  EXPECT_EQ(abs->path, "/var/lib/pin.db");
  EXPECT_EQ(ParseSourceUrl("sqlite://./data/source.db")->path, "./data/source.db");

  auto my = ParseSourceUrl("mysql://pin:p%40ss:w@db.example.com:3307/pinterest");
  ASSERT_TRUE(my.ok()) << my.status().ToString();
  EXPECT_EQ(my->kind, SourceUrl::Kind::kMysql);
  EXPECT_EQ(my->user, "pin");
  EXPECT_EQ(my->password, "p@ss:w");
  EXPECT_EQ(my->host, "db.example.com");
  EXPECT_EQ(my->port, 3307);
  EXPECT_EQ(my->database, "pinterest");
  EXPECT_EQ(my->Redacted(), "mysql://pin:***@db.example.com:3307/pinterest");

  auto pg = ParseSourceUrl("postgresql://me@localhost/pins");
  ASSERT_TRUE(pg.ok());
  EXPECT_EQ(pg->kind, SourceUrl::Kind::kPostgres);
  EXPECT_EQ(pg->port, 5432);
  EXPECT_EQ(pg->password, "");
  EXPECT_EQ(ParseSourceUrl("postgres://u:p@h:1/d")->port, 1);
}

TEST(SourceUrlTest, RejectsBadUrlsClearly) {
  for (const char* bad :
       {"", "source.db", "http://x/y", "mysql://u:p@h:99999/db", "mysql://u:p@h:3306",
        "postgresql://h:abc/db", "sqlite://", "mysql://u:p%zz@h/db"}) {
    auto r = ParseSourceUrl(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto r = ParseSourceUrl("mysql://u:topsecret@h:0/db");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("topsecret"), std::string::npos);
}

TEST(SourceDbTest, MissingSqliteFileIsNotFoundUnlessCreating) {
  auto r = OpenSourceDb("sqlite:///nonexistent-dir-xyz/source.db", {});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("pinpipe seed"), std::string::npos);
}

TEST(SourceDbTest, UnreachableServerIsUnavailableAndHidesPassword) {
  // Port 1 on loopback refuses connections at once.
  for (const char* url :
       {"mysql://u:hunter2@127.0.0.1:1/db", "postgresql://u:hunter2@127.0.0.1:1/db"}) {
    auto r = OpenSourceDb(url, {});
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
    EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace pinpipe::source
