#include "pinpipe/source/row_codec.h"

#include <cstdlib>

namespace pinpipe::source::internal {

using model::Table;

std::string_view KeyColumn(Table table) { return table == Table::kPin ? "index" : "ind"; }

std::string QuoteIdent(Dialect dialect, std::string_view name) {
  char q = dialect == Dialect::kMysql ? '`' : '"';
  std::string out(1, q);
  for (char c : name) {
    if (c == q) out.push_back(q);
    out.push_back(c);
  }
  out.push_back(q);
  return out;
}

namespace {

std::string_view SqlType(Dialect dialect, ColType type, bool key, std::string_view name) {
  switch (type) {
    case ColType::kInt:
      if (key) return dialect == Dialect::kSqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY";
      return dialect == Dialect::kSqlite ? "INTEGER" : "BIGINT";
    case ColType::kDouble:
      return dialect == Dialect::kSqlite ? "REAL" : "DOUBLE PRECISION";
    case ColType::kDatetime:
      return dialect == Dialect::kPostgres ? "TIMESTAMP(0)" : "DATETIME";
    case ColType::kText:
      // Short identifying columns get bounded types where the dialect prefers them.
      if (dialect == Dialect::kMysql && (name == "unique_id" || name == "category" ||
                                         name == "follower_count" || name == "is_image_or_video")) {
        return "VARCHAR(64)";
      }
      return "TEXT";
  }
  return "TEXT";
}

}  // namespace

std::string CreateTableSql(Dialect dialect, Table table) {
  const auto columns = model::Columns(table);
  std::string sql =
      "CREATE TABLE IF NOT EXISTS " + QuoteIdent(dialect, model::TableName(table)) + " (";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) sql += ", ";
    sql += QuoteIdent(dialect, columns[i].name);
    sql += ' ';
    sql += SqlType(dialect, columns[i].type, i == 0, columns[i].name);
  }
  sql += ")";
  if (dialect == Dialect::kMysql) sql += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
  return sql;
}

namespace {

std::string ColumnList(Dialect dialect, Table table) {
  std::string out;
  for (const model::Column& column : model::Columns(table)) {
    if (!out.empty()) out += ", ";
    out += QuoteIdent(dialect, column.name);
  }
  return out;
}

}  // namespace

std::string SelectRangeSql(Dialect dialect, Table table) {
  std::string key = QuoteIdent(dialect, KeyColumn(table));
  std::string cols = ColumnList(dialect, table);
  if (dialect == Dialect::kPostgres) {
    // Text output of timestamps is ISO `YYYY-MM-DD HH:MM:SS` under DateStyle ISO,
    // which the connection sets.
    return "SELECT " + cols + " FROM " + QuoteIdent(dialect, model::TableName(table)) + " WHERE " +
           key + " >= $1 AND " + key + " < $2 ORDER BY " + key;
  }
  return "SELECT " + cols + " FROM " + QuoteIdent(dialect, model::TableName(table)) + " WHERE " +
         key + " >= ? AND " + key + " < ? ORDER BY " + key;
}

std::string InsertSql(Dialect dialect, Table table, int rows) {
  const auto columns = model::Columns(table);
  std::string sql = "INSERT INTO " + QuoteIdent(dialect, model::TableName(table)) + " (" +
                    ColumnList(dialect, table) + ") VALUES ";
  int param = 1;
  for (int r = 0; r < rows; ++r) {
    if (r) sql += ',';
    sql += '(';
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c) sql += ',';
      if (dialect == Dialect::kPostgres) {
        sql += '$';
        sql += std::to_string(param++);
        if (columns[c].type == ColType::kDatetime) sql += "::timestamp";
      } else {
        sql += '?';
      }
    }
    sql += ')';
  }
  return sql;
}

namespace {

Cell IntCell(int64_t v) { return Cell{ColType::kInt, v, 0, {}}; }
Cell TextCell(std::string_view s) { return Cell{ColType::kText, 0, 0, s}; }
Cell DoubleCell(double d) { return Cell{ColType::kDouble, 0, d, {}}; }
Cell DatetimeCell(int64_t t, char* scratch) {
  std::string s;
  model::AppendDatetime(t, &s);
  std::copy(s.begin(), s.end(), scratch);
  return Cell{ColType::kDatetime, t, 0, std::string_view(scratch, s.size())};
}

}  // namespace

void ToCells(const model::PinRow& r, Cell* c, char*) {
  c[0] = IntCell(r.index);
  c[1] = TextCell(r.unique_id);
  c[2] = TextCell(r.title);
  c[3] = TextCell(r.description);
  c[4] = TextCell(r.poster_name);
  c[5] = TextCell(r.follower_count);
  c[6] = TextCell(r.tag_list);
  c[7] = TextCell(r.is_image_or_video);
  c[8] = TextCell(r.image_src);
  c[9] = IntCell(r.downloaded);
  c[10] = TextCell(r.save_location);
  c[11] = TextCell(r.category);
}

void ToCells(const model::GeoRow& r, Cell* c, char* scratch) {
  c[0] = IntCell(r.ind);
  c[1] = DatetimeCell(r.timestamp, scratch);
  c[2] = DoubleCell(r.latitude);
  c[3] = DoubleCell(r.longitude);
  c[4] = TextCell(r.country);
}

void ToCells(const model::UserRow& r, Cell* c, char* scratch) {
  c[0] = IntCell(r.ind);
  c[1] = TextCell(r.first_name);
  c[2] = TextCell(r.last_name);
  c[3] = IntCell(r.age);
  c[4] = DatetimeCell(r.date_joined, scratch + 20);
}

Result<int64_t> RowView::Int(int col) const {
  std::string_view t = Text(col);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) {
    return DataLossError("column " + std::to_string(col) + " is not an integer: '" +
                         std::string(t.substr(0, 40)) + "'");
  }
  return v;
}

Result<double> RowView::Double(int col) const {
  std::string t(Text(col));
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size()) {
    return DataLossError("column " + std::to_string(col) + " is not a number: '" + t.substr(0, 40) +
                         "'");
  }
  return v;
}

namespace {

Result<int64_t> DatetimeAt(const RowView& row, int col) {
  auto r = model::ParseDatetime(row.Text(col));
  if (!r.ok()) return DataLossError(r.status().message());
  return r;
}

}  // namespace

Result<model::PinRow> DecodePin(const RowView& row) {
  model::PinRow r;
  PINPIPE_ASSIGN_OR_RETURN(r.index, row.Int(0));
  r.unique_id = row.Text(1);
  r.title = row.Text(2);
  r.description = row.Text(3);
  r.poster_name = row.Text(4);
  r.follower_count = row.Text(5);
  r.tag_list = row.Text(6);
  r.is_image_or_video = row.Text(7);
  r.image_src = row.Text(8);
  PINPIPE_ASSIGN_OR_RETURN(r.downloaded, row.Int(9));
  r.save_location = row.Text(10);
  r.category = row.Text(11);
  return r;
}

Result<model::GeoRow> DecodeGeo(const RowView& row) {
  model::GeoRow r;
  PINPIPE_ASSIGN_OR_RETURN(r.ind, row.Int(0));
  PINPIPE_ASSIGN_OR_RETURN(r.timestamp, DatetimeAt(row, 1));
  PINPIPE_ASSIGN_OR_RETURN(r.latitude, row.Double(2));
  PINPIPE_ASSIGN_OR_RETURN(r.longitude, row.Double(3));
  r.country = row.Text(4);
  return r;
}

Result<model::UserRow> DecodeUser(const RowView& row) {
  model::UserRow r;
  PINPIPE_ASSIGN_OR_RETURN(r.ind, row.Int(0));
  r.first_name = row.Text(1);
  r.last_name = row.Text(2);
  PINPIPE_ASSIGN_OR_RETURN(r.age, row.Int(3));
  PINPIPE_ASSIGN_OR_RETURN(r.date_joined, DatetimeAt(row, 4));
  return r;
}

std::string_view NumberText(int64_t v, char* buf) {
  auto [end, ec] = std::to_chars(buf, buf + 24, v);
  (void)ec;
  return std::string_view(buf, end - buf);
}

std::string_view NumberText(double v, char* buf) {
  auto [end, ec] = std::to_chars(buf, buf + 32, v);
  (void)ec;
  return std::string_view(buf, end - buf);
}

}  // namespace pinpipe::source::internal
