// MariaDB / MySQL backend (libmariadb), also for Amazon RDS for MySQL.
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <cstring>

#include "pinpipe/source/row_codec.h"
#include "pinpipe/source/source_db.h"
#include "pinpipe/source/sql_source.h"

namespace pinpipe::source {
namespace {

using internal::Cell;
using internal::ColType;
using internal::Dialect;

// Rows per multi-row prepared INSERT; the rest of a batch goes row by row.
constexpr int kChunkRows = 100;

Status MapError(unsigned int code, const std::string& message) {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_UNKNOWN_HOST:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_LOCK_DEADLOCK:
      return UnavailableError(message);
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
      return UnauthenticatedError(message);
    case ER_BAD_DB_ERROR:
    case ER_NO_SUCH_TABLE:
      return NotFoundError(message);
    case ER_DUP_ENTRY:
      return AlreadyExistsError(message);
    default:
      return InternalError(message);
  }
}

class MysqlRowView final : public internal::RowView {
 public:
  MysqlRowView(MYSQL_ROW row, unsigned long* lengths) : row_(row), lengths_(lengths) {}
  std::string_view Text(int col) const override {
    return row_[col] ? std::string_view(row_[col], lengths_[col]) : std::string_view();
  }

 private:
  MYSQL_ROW row_;
  unsigned long* lengths_;
};

// One prepared INSERT of `rows` rows into one table, with bind storage.
class InsertStatement {
 public:
  InsertStatement(MYSQL* conn, Table table, int rows) : table_(table), rows_(rows) {
    ncols_ = static_cast<int>(model::Columns(table).size());
    stmt_ = mysql_stmt_init(conn);
    sql_ = internal::InsertSql(Dialect::kMysql, table, rows);
    binds_.resize(static_cast<size_t>(rows * ncols_));
    ints_.resize(binds_.size());
    doubles_.resize(binds_.size());
    lengths_.resize(binds_.size());
    scratch_.resize(static_cast<size_t>(rows) * 48);
  }
  ~InsertStatement() {
    if (stmt_) mysql_stmt_close(stmt_);
  }

  Status Prepare() {
    if (!stmt_) return InternalError("mysql_stmt_init failed");
    if (mysql_stmt_prepare(stmt_, sql_.data(), sql_.size()) != 0) return Error("prepare insert");
    return Status::Ok();
  }

  template <typename Row>
  Status Execute(std::span<const Row> rows) {
    Cell cells[16];
    size_t p = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      internal::ToCells(rows[r], cells, scratch_.data() + r * 48);
      for (int c = 0; c < ncols_; ++c, ++p) {
        MYSQL_BIND& b = binds_[p];
        std::memset(&b, 0, sizeof(b));
        const Cell& cell = cells[c];
        switch (cell.type) {
          case ColType::kInt:
            ints_[p] = cell.i;
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = &ints_[p];
            break;
          case ColType::kDouble:
            doubles_[p] = cell.d;
            b.buffer_type = MYSQL_TYPE_DOUBLE;
            b.buffer = &doubles_[p];
            break;
          case ColType::kText:
          case ColType::kDatetime:
            lengths_[p] = cell.s.size();
            b.buffer_type = MYSQL_TYPE_STRING;
            b.buffer = const_cast<char*>(cell.s.data());
            b.buffer_length = cell.s.size();
            b.length = &lengths_[p];
            break;
        }
      }
    }
    if (mysql_stmt_bind_param(stmt_, binds_.data()) != 0) return Error("bind");
    if (mysql_stmt_execute(stmt_) != 0) {
      return Error("insert into " + std::string(model::TableName(table_)));
    }
    return Status::Ok();
  }

  int rows() const { return rows_; }

 private:
  Status Error(const std::string& what) {
    return MapError(mysql_stmt_errno(stmt_), "mysql " + what + ": " + mysql_stmt_error(stmt_));
  }

  Table table_;
  int rows_;
  int ncols_;
  MYSQL_STMT* stmt_;
  std::string sql_;
  std::vector<MYSQL_BIND> binds_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<unsigned long> lengths_;
  std::vector<char> scratch_;
};

class MysqlSource final : public internal::SqlSource {
 public:
  MysqlSource(MYSQL* conn, std::string where)
      : SqlSource(Dialect::kMysql), conn_(conn), where_(std::move(where)) {}
  ~MysqlSource() override {
    ResetStatements();
    mysql_close(conn_);
  }

  std::string_view Kind() const override { return "mysql"; }

  Result<bool> TableExists(Table table) override {
    PINPIPE_ASSIGN_OR_RETURN(
        auto rows, QueryText("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                             "DATABASE() AND table_name = '" +
                             std::string(model::TableName(table)) + "'"));
    return !rows.empty() && rows[0][0] != "0";
  }

  Result<std::vector<std::vector<std::string>>> QueryText(const std::string& sql) override {
    std::vector<std::vector<std::string>> out;
    PINPIPE_RETURN_IF_ERROR(Query(sql, [&](const MysqlRowView& row, unsigned ncols) {
      auto& r = out.emplace_back();
      for (unsigned c = 0; c < ncols; ++c) r.emplace_back(row.Text(static_cast<int>(c)));
      return Status::Ok();
    }));
    return out;
  }

 private:
  Status Error(const std::string& what) {
    return MapError(mysql_errno(conn_),
                    "mysql " + what + " on " + where_ + ": " + mysql_error(conn_));
  }

  void ResetStatements() override {
    for (auto& s : chunk_) s.reset();
    for (auto& s : single_) s.reset();
  }

  Status Exec(const std::string& sql) override {
    if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) return Error("exec");
    return Status::Ok();
  }

  template <typename Fn>
  Status Query(const std::string& sql, Fn fn) {
    if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) return Error("query");
    MYSQL_RES* res = mysql_use_result(conn_);
    if (!res) return Error("query");
    unsigned ncols = mysql_num_fields(res);
    Status status;
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      if (!status.ok()) continue;  // drain the result so the connection stays usable
      MysqlRowView view(row, mysql_fetch_lengths(res));
      status = fn(view, ncols);
    }
    bool failed = mysql_errno(conn_) != 0;
    mysql_free_result(res);
    if (failed && status.ok()) return Error("fetch");
    return status;
  }

  template <typename Row>
  Status InsertAll(Table table, std::span<const Row> rows) {
    auto idx = static_cast<size_t>(table);
    size_t done = 0;
    while (rows.size() - done >= static_cast<size_t>(kChunkRows)) {
      if (!chunk_[idx]) {
        auto st = std::make_unique<InsertStatement>(conn_, table, kChunkRows);
        PINPIPE_RETURN_IF_ERROR(st->Prepare());
        chunk_[idx] = std::move(st);
      }
      PINPIPE_RETURN_IF_ERROR(chunk_[idx]->Execute(rows.subspan(done, kChunkRows)));
      done += kChunkRows;
    }
    while (done < rows.size()) {
      if (!single_[idx]) {
        auto st = std::make_unique<InsertStatement>(conn_, table, 1);
        PINPIPE_RETURN_IF_ERROR(st->Prepare());
        single_[idx] = std::move(st);
      }
      PINPIPE_RETURN_IF_ERROR(single_[idx]->Execute(rows.subspan(done, 1)));
      ++done;
    }
    return Status::Ok();
  }

  Status InsertRows(Table table, internal::RowSpan rows) override {
    return std::visit([&](auto span) { return InsertAll(table, span); }, rows);
  }

  Status ScanRows(Table table, int64_t begin, int64_t end,
                  const std::function<Status(const internal::RowView&)>& each) override {
    std::string sql = internal::SelectRangeSql(Dialect::kMysql, table);
    // The bounds are integers, so inlining them is safe.
    sql.replace(sql.find('?'), 1, std::to_string(begin));
    sql.replace(sql.find('?'), 1, std::to_string(end));
    return Query(sql, [&](const MysqlRowView& view, unsigned) { return each(view); });
  }

  MYSQL* conn_;
  std::string where_;
  std::unique_ptr<InsertStatement> chunk_[3];
  std::unique_ptr<InsertStatement> single_[3];
};

}  // namespace

Result<std::unique_ptr<SourceDb>> OpenMysql(const SourceUrl& url, const OpenOptions& options) {
  MYSQL* conn = mysql_init(nullptr);
  if (!conn) return InternalError("mysql_init failed");
  unsigned int timeout = 10;
  mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const std::string& password = options.password.empty() ? url.password : options.password;
  if (!mysql_real_connect(conn, url.host.c_str(), url.user.empty() ? nullptr : url.user.c_str(),
                          password.empty() ? nullptr : password.c_str(), url.database.c_str(),
                          static_cast<unsigned>(url.port), nullptr, 0)) {
    Status s = MapError(mysql_errno(conn),
                        "cannot connect to " + url.Redacted() + ": " + mysql_error(conn));
    mysql_close(conn);
    return s;
  }
  return std::unique_ptr<SourceDb>(std::make_unique<MysqlSource>(conn, url.Redacted()));
}

}  // namespace pinpipe::source
