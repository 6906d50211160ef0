// SourceDb: the relational database that holds the three source tables
// (pinterest_data, geolocation_data, user_data; spec/data.md).
//
// Implementations: SQLite (embedded default), MariaDB/MySQL (libmariadb) and
// PostgreSQL (libpq), chosen by URL through OpenSourceDb. Every backend keeps
// the original table and column names and order; datetimes are stored as the
// database's datetime type (TEXT `YYYY-MM-DD HH:MM:SS` in SQLite).
//
// Thread-safety: one SourceDb is one connection; use it from one thread at a
// time. Open one per thread for parallel readers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/model/rows.h"

namespace pinpipe::source {

using model::GeoRow;
using model::PinRow;
using model::Table;
using model::UserRow;

// A parsed source URL. The password is kept apart so that ToString() never
// shows it.
struct SourceUrl {
  enum class Kind { kSqlite, kMysql, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string path;  // sqlite: file path ("./data/source.db", "/abs/x.db")
  std::string user, password, host, database;
  int port = 0;

  // The URL with the password replaced by "***" (safe to print).
  std::string Redacted() const;
};

// Parses sqlite:///abs/path, sqlite://./rel/path, mysql://user:pass@host:port/db,
// postgresql://user:pass@host:port/db (also postgres://, mariadb://).
// User and password may be percent-encoded. InvalidArgument on anything else.
Result<SourceUrl> ParseSourceUrl(std::string_view url);

// Table statistics for `pinpipe source stats`.
struct TableStats {
  Table table;
  int64_t rows = 0;
  std::vector<std::pair<std::string, std::string>> facts;  // label -> value, display order
};

class SourceDb {
 public:
  virtual ~SourceDb() = default;

  // "sqlite", "mysql" or "postgresql".
  virtual std::string_view Kind() const = 0;

  // Creates the three tables if they do not exist.
  virtual Status CreateTables() = 0;
  // Drops the three tables if they exist.
  virtual Status DropTables() = 0;
  // Tunes the connection for a large one-off load (SQLite: no fsync, no
  // journal). Data already committed is unaffected; a crash mid-load may lose
  // the load itself.
  virtual Status PrepareBulkLoad() { return Status::Ok(); }

  // Inserts one batch of posts in one transaction with prepared statements.
  // Either all rows are stored or none (the transaction is rolled back).
  virtual Status Insert(std::span<const PinRow> pins, std::span<const GeoRow> geos,
                        std::span<const UserRow> users) = 0;

  // Whether `table` exists.
  virtual Result<bool> TableExists(Table table) = 0;
  // Number of rows in `table`; NotFound if the table does not exist.
  Result<int64_t> CountRows(Table table);

  // Calls `fn` for every row with begin <= index < end, in index order.
  // A non-OK Status from `fn` stops the scan and is returned.
  virtual Status ScanPins(int64_t begin, int64_t end,
                          const std::function<Status(PinRow&&)>& fn) = 0;
  virtual Status ScanGeos(int64_t begin, int64_t end,
                          const std::function<Status(GeoRow&&)>& fn) = 0;
  virtual Status ScanUsers(int64_t begin, int64_t end,
                           const std::function<Status(UserRow&&)>& fn) = 0;

  // Runs a read-only SQL query; every cell as text (NULL as "").
  virtual Result<std::vector<std::vector<std::string>>> QueryText(const std::string& sql) = 0;
  // `name` quoted as an identifier in this database's dialect.
  virtual std::string QuoteIdentifier(std::string_view name) const = 0;

  // One row by its index value; NotFound if absent.
  Result<PinRow> ReadPin(int64_t index);
  Result<GeoRow> ReadGeo(int64_t index);
  Result<UserRow> ReadUser(int64_t index);

  // Row counts and a summary of each table.
  Result<std::vector<TableStats>> Stats();
};

struct OpenOptions {
  // Overrides the URL's password when non-empty (source.password,
  // PINPIPE_SOURCE_PASSWORD).
  std::string password;
  // SQLite: create the file (and its folder) if missing. When false a missing
  // file is NotFound.
  bool create = false;
};

// Opens the database named by `url`.
Result<std::unique_ptr<SourceDb>> OpenSourceDb(std::string_view url, const OpenOptions& options);

// Backends (also usable directly).
Result<std::unique_ptr<SourceDb>> OpenSqlite(const SourceUrl& url, const OpenOptions& options);
Result<std::unique_ptr<SourceDb>> OpenMysql(const SourceUrl& url, const OpenOptions& options);
Result<std::unique_ptr<SourceDb>> OpenPostgres(const SourceUrl& url, const OpenOptions& options);

}  // namespace pinpipe::source
