// PostgreSQL backend (libpq), also for Amazon RDS for PostgreSQL.
#include <libpq-fe.h>

#include <cstring>
#include <deque>
#include <set>

#include "pinpipe/source/row_codec.h"
#include "pinpipe/source/source_db.h"
#include "pinpipe/source/sql_source.h"

namespace pinpipe::source {
namespace {

using internal::Cell;
using internal::ColType;
using internal::Dialect;

constexpr int kChunkRows = 100;

// SQLSTATE classes decide the code; message text is only for people.
Status MapError(const char* sqlstate, const std::string& message) {
  std::string_view state = sqlstate ? sqlstate : "";
  if (state.starts_with("08") || state == "57P01" || state == "40001" || state == "40P01" ||
      state == "55P03" || state.empty()) {
    return UnavailableError(message);
  }
  if (state == "28P01" || state == "28000") return UnauthenticatedError(message);
  if (state == "3D000" || state == "42P01") return NotFoundError(message);
  if (state == "23505") return AlreadyExistsError(message);
  if (state.starts_with("22")) return DataLossError(message);
  return InternalError(message);
}

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

class PgRowView final : public internal::RowView {
 public:
  PgRowView(PGresult* res, int row) : res_(res), row_(row) {}
  std::string_view Text(int col) const override {
    return std::string_view(PQgetvalue(res_, row_, col),
                            static_cast<size_t>(PQgetlength(res_, row_, col)));
  }

 private:
  PGresult* res_;
  int row_;
};

class PostgresSource final : public internal::SqlSource {
 public:
  PostgresSource(PGconn* conn, std::string where)
      : SqlSource(Dialect::kPostgres), conn_(conn), where_(std::move(where)) {}
  ~PostgresSource() override { PQfinish(conn_); }

  std::string_view Kind() const override { return "postgresql"; }

  Result<bool> TableExists(Table table) override {
    PINPIPE_ASSIGN_OR_RETURN(
        auto rows, QueryText("SELECT to_regclass('" + QuoteIdentifier(model::TableName(table)) +
                             "') IS NOT NULL"));
    return !rows.empty() && rows[0][0] == "t";
  }

  Result<std::vector<std::vector<std::string>>> QueryText(const std::string& sql) override {
    PgResult res(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) return Error("query", res.get());
    std::vector<std::vector<std::string>> out;
    int nrows = PQntuples(res.get()), ncols = PQnfields(res.get());
    for (int r = 0; r < nrows; ++r) {
      auto& row = out.emplace_back();
      for (int c = 0; c < ncols; ++c) row.emplace_back(PQgetvalue(res.get(), r, c));
    }
    return out;
  }

 private:
  Status Error(const std::string& what, PGresult* res) {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    if (msg.empty()) msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (PQstatus(conn_) == CONNECTION_BAD) state = "08006";
    return MapError(state, "postgresql " + what + " on " + where_ + ": " + msg);
  }

  Status Exec(const std::string& sql) override {
    PgResult res(PQexec(conn_, sql.c_str()));
    auto st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Error("exec", res.get());
    return Status::Ok();
  }

  Status EnsurePrepared(Table table, int rows, std::string* name) {
    *name = "ins_" + std::string(model::TableSuffix(table)) + "_" + std::to_string(rows);
    if (prepared_.count(*name)) return Status::Ok();
    std::string sql = internal::InsertSql(Dialect::kPostgres, table, rows);
    PgResult res(PQprepare(conn_, name->c_str(), sql.c_str(), 0, nullptr));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return Error("prepare insert", res.get());
    prepared_.insert(*name);
    return Status::Ok();
  }

  template <typename Row>
  Status InsertRows(Table table, std::span<const Row> rows) {
    std::string name;
    PINPIPE_RETURN_IF_ERROR(EnsurePrepared(table, static_cast<int>(rows.size()), &name));
    const size_t ncols = model::Columns(table).size();
    const size_t nparams = rows.size() * ncols;
    values_.resize(nparams);
    lengths_.resize(nparams);
    numbers_.resize(nparams * 32);
    scratch_.resize(rows.size() * 48);
    Cell cells[16];
    size_t p = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      internal::ToCells(rows[r], cells, scratch_.data() + r * 48);
      for (size_t c = 0; c < ncols; ++c, ++p) {
        const Cell& cell = cells[c];
        std::string_view text;
        char* buf = numbers_.data() + p * 32;
        switch (cell.type) {
          case ColType::kInt:
            text = internal::NumberText(cell.i, buf);
            break;
          case ColType::kDouble:
            text = internal::NumberText(cell.d, buf);
            break;
          case ColType::kText:
          case ColType::kDatetime:
            text = cell.s;
            break;
        }
        // Text parameters need NUL termination unless a length is given with
        // binary format; copy short numbers' terminators in place.
        if (cell.type == ColType::kInt || cell.type == ColType::kDouble) {
          buf[text.size()] = '\0';
          values_[p] = buf;
        } else {
          owned_.emplace_back(text);
          values_[p] = owned_.back().c_str();
        }
        lengths_[p] = static_cast<int>(text.size());
      }
    }
    PgResult res(PQexecPrepared(conn_, name.c_str(), static_cast<int>(nparams), values_.data(),
                                lengths_.data(), nullptr, 0));
    owned_.clear();
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      return Error("insert into " + std::string(model::TableName(table)), res.get());
    }
    return Status::Ok();
  }

  template <typename Row>
  Status InsertAll(Table table, std::span<const Row> rows) {
    size_t done = 0;
    while (rows.size() - done >= static_cast<size_t>(kChunkRows)) {
      PINPIPE_RETURN_IF_ERROR(InsertRows(table, rows.subspan(done, kChunkRows)));
      done += kChunkRows;
    }
    if (done < rows.size()) {
      PINPIPE_RETURN_IF_ERROR(InsertRows(table, rows.subspan(done)));
    }
    return Status::Ok();
  }

  Status InsertRows(Table table, internal::RowSpan rows) override {
    return std::visit([&](auto span) { return InsertAll(table, span); }, rows);
  }

  Status ScanRows(Table table, int64_t begin, int64_t end,
                  const std::function<Status(const internal::RowView&)>& each) override {
    std::string sql = internal::SelectRangeSql(Dialect::kPostgres, table);
    std::string b = std::to_string(begin), e = std::to_string(end);
    const char* params[2] = {b.c_str(), e.c_str()};
    PgResult res(PQexecParams(conn_, sql.c_str(), 2, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
      return Error("scan " + std::string(model::TableName(table)), res.get());
    }
    int nrows = PQntuples(res.get());
    for (int r = 0; r < nrows; ++r) {
      PINPIPE_RETURN_IF_ERROR(each(PgRowView(res.get(), r)));
    }
    return Status::Ok();
  }

  PGconn* conn_;
  std::string where_;
  std::set<std::string> prepared_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<char> numbers_;
  std::vector<char> scratch_;
  std::deque<std::string> owned_;
};

}  // namespace

Result<std::unique_ptr<SourceDb>> OpenPostgres(const SourceUrl& url, const OpenOptions& options) {
  const std::string& password = options.password.empty() ? url.password : options.password;
  std::string port = std::to_string(url.port);
  const char* keys[] = {
      "host",    "port", "dbname", "user", "password", "connect_timeout", "client_encoding",
      "options", nullptr};
  const char* values[] = {url.host.c_str(),
                          port.c_str(),
                          url.database.c_str(),
                          url.user.empty() ? nullptr : url.user.c_str(),
                          password.empty() ? nullptr : password.c_str(),
                          "10",
                          "UTF8",
                          "-c DateStyle=ISO -c client_min_messages=warning",
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  if (!conn) return InternalError("PQconnectdbParams failed");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    for (char& c : msg) {
      if (c == '\n') c = ' ';
    }
    PQfinish(conn);
    Status s = (msg.find("password authentication failed") != std::string::npos)
                   ? UnauthenticatedError("cannot connect to " + url.Redacted() + ": " + msg)
                   : UnavailableError("cannot connect to " + url.Redacted() + ": " + msg);
    return s;
  }
  return std::unique_ptr<SourceDb>(std::make_unique<PostgresSource>(conn, url.Redacted()));
}

}  // namespace pinpipe::source
