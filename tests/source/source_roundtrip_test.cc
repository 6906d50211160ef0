// The same round-trip suite against every source backend: SQLite on a temp
// file, and a real MariaDB and PostgreSQL server started by the test.
#include <gtest/gtest.h>

#include <memory>

#include "harness.h"
#include "pinpipe/source/generator.h"
#include "pinpipe/source/seed.h"
#include "pinpipe/source/source_db.h"
#include "servers.h"

namespace pinpipe::source {
namespace {

using testing::DbServer;
using testing::MariaDbServer;
using testing::PostgresServer;
using testing::TempDir;

class SqliteServer final : public DbServer {
 public:
  std::string url() const override { return "sqlite://" + (dir_ / "nested/source.db"); }

 private:
  TempDir dir_;
};

DbServer* ServerFor(const std::string& kind) {
  static std::map<std::string, std::unique_ptr<DbServer>> servers;
  auto& s = servers[kind];
  if (!s) {
    if (kind == "sqlite") s = std::make_unique<SqliteServer>();
    if (kind == "mariadb") s = std::make_unique<MariaDbServer>();
    if (kind == "postgresql") s = std::make_unique<PostgresServer>();
  }
  return s.get();
}

class SourceRoundTripTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = ServerFor(GetParam());
    ASSERT_TRUE(server_->error().empty()) << server_->error();
    auto db = OpenSourceDb(server_->url(), {.create = true});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->DropTables().ok());
  }

  void SeedRows(int64_t rows, uint64_t seed, bool replace = false) {
    SeedOptions options;
    options.rows = rows;
    options.seed = seed;
    options.batch_rows = 700;  // several transactions, full chunks and a remainder
    options.replace = replace;
    Status s = Seed(*db_, options);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Starts each check from empty tables.
  void Reset() { ASSERT_TRUE(db_->DropTables().ok()); }

  void MissingTablesAreNotFound();
  void SeededRowsReadBackExactly();
  void ReadByIndexAndUnicode();
  void FailedBatchIsRolledBack();
  void SeedRefusesNonEmptyTablesUnlessReplace();
  void StatsSummariseEachTable();
  void WrongPasswordIsUnauthenticatedAndNotPrinted();

  DbServer* server_ = nullptr;
  std::unique_ptr<SourceDb> db_;
};

void SourceRoundTripTest::MissingTablesAreNotFound() {
  auto exists = db_->TableExists(Table::kPin);
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_FALSE(*exists);
  auto n = db_->CountRows(Table::kGeo);
  EXPECT_EQ(n.status().code(), StatusCode::kNotFound);
  EXPECT_NE(n.status().message().find("pinpipe seed"), std::string::npos);
}

void SourceRoundTripTest::SeededRowsReadBackExactly() {
  constexpr int64_t kRows = 2345;
  SeedRows(kRows, 100);
  for (Table t : model::kAllTables) {
    auto n = db_->CountRows(t);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, kRows) << model::TableName(t);
  }
  Generator gen(100, kRows);
  PinRow pin;
  GeoRow geo;
  UserRow user;
  int64_t next = 0;
  Status s = db_->ScanPins(0, kRows, [&](PinRow&& row) {
    gen.Post(next++, &pin, &geo, &user);
    EXPECT_EQ(row, pin) << "index " << row.index;
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(next, kRows);
  next = 0;
  s = db_->ScanGeos(0, kRows, [&](GeoRow&& row) {
    gen.Post(next++, &pin, &geo, &user);
    EXPECT_EQ(model::ToJson(row), model::ToJson(geo));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(next, kRows);
  next = 0;
  s = db_->ScanUsers(1000, 1010, [&](UserRow&& row) {
    gen.Post(1000 + next++, &pin, &geo, &user);
    EXPECT_EQ(row, user);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(next, 10);
}

void SourceRoundTripTest::ReadByIndexAndUnicode() {
  SeedRows(500, 9);
  auto pin = db_->ReadPin(123);
  ASSERT_TRUE(pin.ok()) << pin.status().ToString();
  EXPECT_EQ(pin->index, 123);
  EXPECT_EQ(db_->ReadGeo(499)->ind, 499);
  EXPECT_EQ(db_->ReadUser(0)->ind, 0);
  auto missing = db_->ReadPin(500);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  // Any Unicode survives the round trip (emoji need utf8mb4 on MariaDB).
  PinRow odd = *pin;
  odd.index = 10'000;
  odd.description = "48ｘ18cm 🎄 naïve “quoted” \\ back'slash \"dq\"";
  GeoRow g{10'000, 1508544000, -89.9787, -173.293, "Cote d'Ivoire"};
  UserRow u{10'000, "Zoë", "O'Brien", 20, 1445385600};
  ASSERT_TRUE(db_->Insert(std::span(&odd, 1), std::span(&g, 1), std::span(&u, 1)).ok());
  EXPECT_EQ(*db_->ReadPin(10'000), odd);
  EXPECT_EQ(*db_->ReadGeo(10'000), g);
  EXPECT_EQ(*db_->ReadUser(10'000), u);
}

void SourceRoundTripTest::FailedBatchIsRolledBack() {
  SeedRows(100, 1);
  Generator gen(1, 100);
  std::vector<PinRow> pins(2);
  std::vector<GeoRow> geos(2);
  std::vector<UserRow> users(2);
  gen.Post(5, &pins[0], &geos[0], &users[0]);
  gen.Post(6, &pins[1], &geos[1], &users[1]);
  pins[0].index = 200;  // new
  geos[0].ind = 200;
  users[0].ind = 200;
  users[1].ind = 7;  // duplicate key in the last table of the batch
  pins[1].index = 201;
  geos[1].ind = 201;
  Status s = db_->Insert(pins, geos, users);
  EXPECT_FALSE(s.ok());
  for (Table t : model::kAllTables) EXPECT_EQ(*db_->CountRows(t), 100) << model::TableName(t);
  EXPECT_EQ(db_->ReadPin(200).status().code(), StatusCode::kNotFound);
}

void SourceRoundTripTest::SeedRefusesNonEmptyTablesUnlessReplace() {
  SeedRows(50, 1);
  SeedOptions options;
  options.rows = 10;
  Status s = Seed(*db_, options);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("--replace"), std::string::npos);
  EXPECT_EQ(*db_->CountRows(Table::kPin), 50);
  SeedRows(30, 2, /*replace=*/true);
  for (Table t : model::kAllTables) EXPECT_EQ(*db_->CountRows(t), 30);
  EXPECT_EQ(*db_->ReadUser(29), [] {
    Generator gen(2, 30);
    PinRow p;
    GeoRow g;
    UserRow u;
    gen.Post(29, &p, &g, &u);
    return u;
  }());
}

void SourceRoundTripTest::StatsSummariseEachTable() {
  SeedRows(1500, 100);
  auto stats = db_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_EQ(stats->size(), 3u);
  std::map<std::string, std::string> facts;
  for (const auto& t : *stats) {
    EXPECT_EQ(t.rows, 1500);
    for (const auto& [k, v] : t.facts) facts[std::string(model::TableName(t.table)) + "." + k] = v;
  }
  EXPECT_EQ(facts["pinterest_data.categories"], "13");
  EXPECT_EQ(facts["pinterest_data.index range"], "0 .. 1499");
  EXPECT_EQ(facts["user_data.age range"], "20 .. 59");
  EXPECT_EQ(facts["geolocation_data.timestamp range"].substr(0, 4), "2017");
  EXPECT_EQ(facts["user_data.date_joined range"].substr(0, 4), "2015");
}

void SourceRoundTripTest::WrongPasswordIsUnauthenticatedAndNotPrinted() {
  if (GetParam() == "sqlite") return;  // SQLite has no passwords
  auto db = OpenSourceDb(server_->url(), {.password = "wrong-password-xyz"});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnauthenticated) << db.status().ToString();
  EXPECT_EQ(db.status().message().find("wrong-password-xyz"), std::string::npos);
  EXPECT_NE(db.status().message().find("***"), std::string::npos) << db.status().message();
}

// One test per backend (each ctest entry is its own process, and starting a
// server is the slow part), running every check in order on fresh tables.
TEST_P(SourceRoundTripTest, Suite) {
  {
    SCOPED_TRACE("MissingTablesAreNotFound");
    Reset();
    MissingTablesAreNotFound();
  }
  {
    SCOPED_TRACE("SeededRowsReadBackExactly");
    Reset();
    SeededRowsReadBackExactly();
  }
  {
    SCOPED_TRACE("ReadByIndexAndUnicode");
    Reset();
    ReadByIndexAndUnicode();
  }
  {
    SCOPED_TRACE("FailedBatchIsRolledBack");
    Reset();
    FailedBatchIsRolledBack();
  }
  {
    SCOPED_TRACE("SeedRefusesNonEmptyTablesUnlessReplace");
    Reset();
    SeedRefusesNonEmptyTablesUnlessReplace();
  }
  {
    SCOPED_TRACE("StatsSummariseEachTable");
    Reset();
    StatsSummariseEachTable();
  }
  {
    SCOPED_TRACE("WrongPasswordIsUnauthenticatedAndNotPrinted");
    Reset();
    WrongPasswordIsUnauthenticatedAndNotPrinted();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SourceRoundTripTest,
                         ::testing::Values("sqlite", "mariadb", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pinpipe::source
