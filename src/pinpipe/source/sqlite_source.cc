// SQLite backend: the embedded default source.
#include <sqlite3.h>

#include <filesystem>

#include "pinpipe/source/row_codec.h"
#include "pinpipe/source/source_db.h"
#include "pinpipe/source/sql_source.h"

namespace pinpipe::source {
namespace {

using internal::Cell;
using internal::ColType;
using internal::Dialect;

class SqliteRowView final : public internal::RowView {
 public:
  explicit SqliteRowView(sqlite3_stmt* stmt) : stmt_(stmt) {}
  std::string_view Text(int col) const override {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(stmt_, col)) : std::string_view();
  }
  Result<int64_t> Int(int col) const override {
    if (sqlite3_column_type(stmt_, col) == SQLITE_INTEGER) return sqlite3_column_int64(stmt_, col);
    return RowView::Int(col);
  }
  Result<double> Double(int col) const override {
    int type = sqlite3_column_type(stmt_, col);
    if (type == SQLITE_FLOAT || type == SQLITE_INTEGER) return sqlite3_column_double(stmt_, col);
    return RowView::Double(col);
  }

 private:
  sqlite3_stmt* stmt_;
};

class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteSource final : public internal::SqlSource {
 public:
  SqliteSource(sqlite3* db, std::string path)
      : SqlSource(Dialect::kSqlite), db_(db), path_(std::move(path)) {}
  ~SqliteSource() override {
    for (auto& s : insert_) s.reset();
    sqlite3_close_v2(db_);
  }

  std::string_view Kind() const override { return "sqlite"; }

  Status PrepareBulkLoad() override {
    // The load is one-off and repeatable (`seed --replace`), so durability of
    // each transaction is not worth an fsync or a rollback journal. Rows arrive
    // in key order, so a modest cache holds the pages being appended to.
    PINPIPE_RETURN_IF_ERROR(Exec("PRAGMA synchronous=OFF"));
    PINPIPE_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=OFF"));
    PINPIPE_RETURN_IF_ERROR(Exec("PRAGMA locking_mode=EXCLUSIVE"));
    PINPIPE_RETURN_IF_ERROR(Exec("PRAGMA cache_size=-16384"));
    return Status::Ok();
  }

  Result<bool> TableExists(Table table) override {
    Statement st;
    if (sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1,
                           st.out(), nullptr) != SQLITE_OK) {
      return Error("check table");
    }
    auto name = model::TableName(table);
    sqlite3_bind_text(st.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error("check table");
  }

  Result<std::vector<std::vector<std::string>>> QueryText(const std::string& sql) override {
    Statement st;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, st.out(), nullptr) != SQLITE_OK) {
      return Error("query");
    }
    std::vector<std::vector<std::string>> rows;
    int ncols = sqlite3_column_count(st.get());
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      auto& row = rows.emplace_back();
      for (int c = 0; c < ncols; ++c) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), c));
        row.emplace_back(p ? p : "");
      }
    }
    if (rc != SQLITE_DONE) return Error("query");
    return rows;
  }

 private:
  Status Error(std::string_view what) const {
    int code = sqlite3_errcode(db_);
    std::string msg = "sqlite " + std::string(what) + " on " + path_ + ": " + sqlite3_errmsg(db_);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return UnavailableError(msg);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return DataLossError(msg);
    if (code == SQLITE_CONSTRAINT) return AlreadyExistsError(msg);
    return InternalError(msg);
  }

  void ResetStatements() override {
    for (auto& s : insert_) s.reset();
  }

  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      sqlite3_free(err);
      return Error("exec");
    }
    return Status::Ok();
  }

  template <typename Row>
  Status InsertAll(Table table, std::span<const Row> rows) {
    auto& stmt = insert_[static_cast<int>(table)];
    if (!stmt) {
      stmt = std::make_unique<Statement>();
      std::string sql = internal::InsertSql(Dialect::kSqlite, table, 1);
      if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, stmt->out(),
                             nullptr) != SQLITE_OK) {
        stmt.reset();
        return Error("prepare insert");
      }
    }
    sqlite3_stmt* st = stmt->get();
    const size_t ncols = model::Columns(table).size();
    Cell cells[16];
    char scratch[48];
    for (const Row& row : rows) {
      internal::ToCells(row, cells, scratch);
      for (size_t c = 0; c < ncols; ++c) {
        const Cell& cell = cells[c];
        int col = static_cast<int>(c) + 1;
        switch (cell.type) {
          case ColType::kInt:
            sqlite3_bind_int64(st, col, cell.i);
            break;
          case ColType::kDouble:
            sqlite3_bind_double(st, col, cell.d);
            break;
          case ColType::kText:
          case ColType::kDatetime:
            // SQLITE_TRANSIENT for scratch-backed datetimes; rows outlive the step.
            sqlite3_bind_text(st, col, cell.s.data(), static_cast<int>(cell.s.size()),
                              cell.type == ColType::kText ? SQLITE_STATIC : SQLITE_TRANSIENT);
            break;
        }
      }
      int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) return Error("insert into " + std::string(model::TableName(table)));
    }
    sqlite3_clear_bindings(st);
    return Status::Ok();
  }

  Status InsertRows(Table table, internal::RowSpan rows) override {
    return std::visit([&](auto span) { return InsertAll(table, span); }, rows);
  }

  Status ScanRows(Table table, int64_t begin, int64_t end,
                  const std::function<Status(const internal::RowView&)>& each) override {
    Statement st;
    std::string sql = internal::SelectRangeSql(Dialect::kSqlite, table);
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, st.out(), nullptr) != SQLITE_OK) {
      return Error("scan " + std::string(model::TableName(table)));
    }
    sqlite3_bind_int64(st.get(), 1, begin);
    sqlite3_bind_int64(st.get(), 2, end);
    SqliteRowView view(st.get());
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) PINPIPE_RETURN_IF_ERROR(each(view));
    if (rc != SQLITE_DONE) return Error("scan " + std::string(model::TableName(table)));
    return Status::Ok();
  }

  sqlite3* db_;
  std::string path_;
  std::unique_ptr<Statement> insert_[3];
};

}  // namespace

Result<std::unique_ptr<SourceDb>> OpenSqlite(const SourceUrl& url, const OpenOptions& options) {
  std::filesystem::path path(url.path);
  std::error_code ec;
  if (!options.create && !std::filesystem::exists(path, ec)) {
    return NotFoundError("source database " + url.path +
                         " does not exist (run `pinpipe seed` to create it)");
  }
  if (options.create && path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return UnavailableError("cannot create folder " + path.parent_path().string() + ": " +
                              ec.message());
    }
  }
  const bool new_file = !std::filesystem::exists(path, ec);
  sqlite3* db = nullptr;
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(url.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return UnavailableError("cannot open SQLite source " + url.path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  if (new_file) {
    // Larger pages: fewer B-tree splits and syscalls for the long text rows.
    sqlite3_exec(db, "PRAGMA page_size=16384", nullptr, nullptr, nullptr);
  }
  auto source = std::make_unique<SqliteSource>(db, url.path);
  // A file that is not a database fails here rather than on first use.
  auto probe = source->QueryText("SELECT COUNT(*) FROM sqlite_master");
  if (!probe.ok()) return probe.status();
  return std::unique_ptr<SourceDb>(std::move(source));
}

}  // namespace pinpipe::source
