// Internal to the source module: the column-level view of the three row
// types that every backend shares (DDL, binding rows as cells, decoding rows
// from a result set), so each backend only speaks its driver's API.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"
#include "pinpipe/model/rows.h"

namespace pinpipe::source::internal {

enum class Dialect { kSqlite, kMysql, kPostgres };
using ColType = model::ColumnType;

// The key column: "index" for pinterest_data, "ind" otherwise.
std::string_view KeyColumn(model::Table table);
std::string QuoteIdent(Dialect dialect, std::string_view name);
std::string CreateTableSql(Dialect dialect, model::Table table);
// "SELECT <cols> FROM <t> WHERE <key> >= P1 AND <key> < P2 ORDER BY <key>" with the
// dialect's parameter markers (? or $1/$2).
std::string SelectRangeSql(Dialect dialect, model::Table table);
// "INSERT INTO <t> (<cols>) VALUES (..),(..)" for `rows` rows.
std::string InsertSql(Dialect dialect, model::Table table, int rows);

// One bound value. Text views point into the row or into a scratch buffer.
struct Cell {
  ColType type = ColType::kInt;
  int64_t i = 0;
  double d = 0;
  std::string_view s;
};

// Datetime cells are formatted into `scratch`, which must hold 40 chars and
// outlive the cells.
void ToCells(const model::PinRow& row, Cell* cells, char* scratch);
void ToCells(const model::GeoRow& row, Cell* cells, char* scratch);
void ToCells(const model::UserRow& row, Cell* cells, char* scratch);

// A row of a result set. Backends override what their driver gives natively.
class RowView {
 public:
  virtual ~RowView() = default;
  virtual std::string_view Text(int col) const = 0;
  virtual Result<int64_t> Int(int col) const;
  virtual Result<double> Double(int col) const;
};

Result<model::PinRow> DecodePin(const RowView& row);
Result<model::GeoRow> DecodeGeo(const RowView& row);
Result<model::UserRow> DecodeUser(const RowView& row);

// Shortest round-trip text of a number (for text-protocol parameters).
std::string_view NumberText(int64_t v, char* buf /*>=24*/);
std::string_view NumberText(double v, char* buf /*>=32*/);

}  // namespace pinpipe::source::internal
