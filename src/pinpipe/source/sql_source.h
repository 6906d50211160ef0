// Internal to the source module: what the three SQL backends share. A
// backend speaks its driver (Exec, InsertRows, ScanRows, ResetStatements);
// SqlSource turns that into SourceDb: DDL, the insert transaction and row
// decoding are written once.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "pinpipe/source/row_codec.h"
#include "pinpipe/source/source_db.h"

namespace pinpipe::source::internal {

// Rows of one of the three tables.
using RowSpan = std::variant<std::span<const model::PinRow>, std::span<const model::GeoRow>,
                             std::span<const model::UserRow>>;

class SqlSource : public SourceDb {
 public:
  explicit SqlSource(Dialect dialect) : dialect_(dialect) {}

  std::string QuoteIdentifier(std::string_view name) const override {
    return QuoteIdent(dialect_, name);
  }
  Status CreateTables() override;
  Status DropTables() override;
  // One transaction: all three tables' rows or none.
  Status Insert(std::span<const PinRow> pins, std::span<const GeoRow> geos,
                std::span<const UserRow> users) override;
  Status ScanPins(int64_t begin, int64_t end, const std::function<Status(PinRow&&)>& fn) override;
  Status ScanGeos(int64_t begin, int64_t end, const std::function<Status(GeoRow&&)>& fn) override;
  Status ScanUsers(int64_t begin, int64_t end, const std::function<Status(UserRow&&)>& fn) override;

 protected:
  // Runs a statement that returns no rows.
  virtual Status Exec(const std::string& sql) = 0;
  // Inserts `rows` (inside the transaction Insert opened).
  virtual Status InsertRows(Table table, RowSpan rows) = 0;
  // Calls `each` for every row of SelectRangeSql(dialect, table) with the
  // key in [begin, end), in key order, stopping at its first error.
  virtual Status ScanRows(Table table, int64_t begin, int64_t end,
                          const std::function<Status(const RowView&)>& each) = 0;
  // Drops prepared statements (before the tables they refer to go).
  virtual void ResetStatements() {}

  Dialect dialect() const { return dialect_; }

 private:
  Dialect dialect_;
};

}  // namespace pinpipe::source::internal
