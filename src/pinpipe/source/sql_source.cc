#include "pinpipe/source/sql_source.h"

namespace pinpipe::source::internal {
namespace {

template <class Row>
Status ScanDecoded(Table table, Result<Row> (*decode)(const RowView&),
                   const std::function<Status(Row&&)>& fn, const RowView& view) {
  auto row = decode(view);
  if (!row.ok()) return row.status().WithContext(std::string(model::TableName(table)));
  return fn(std::move(row).value());
}

}  // namespace

Status SqlSource::CreateTables() {
  for (Table t : model::kAllTables) PINPIPE_RETURN_IF_ERROR(Exec(CreateTableSql(dialect_, t)));
  return Status::Ok();
}

Status SqlSource::DropTables() {
  ResetStatements();
  for (Table t : model::kAllTables) {
    PINPIPE_RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS " + QuoteIdentifier(model::TableName(t))));
  }
  return Status::Ok();
}

Status SqlSource::Insert(std::span<const PinRow> pins, std::span<const GeoRow> geos,
                         std::span<const UserRow> users) {
  PINPIPE_RETURN_IF_ERROR(Exec(dialect_ == Dialect::kMysql ? "START TRANSACTION" : "BEGIN"));
  Status s = pins.empty() ? Status::Ok() : InsertRows(Table::kPin, pins);
  if (s.ok() && !geos.empty()) s = InsertRows(Table::kGeo, geos);
  if (s.ok() && !users.empty()) s = InsertRows(Table::kUser, users);
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) (void)Exec("ROLLBACK");
  return s;
}

Status SqlSource::ScanPins(int64_t begin, int64_t end, const std::function<Status(PinRow&&)>& fn) {
  return ScanRows(Table::kPin, begin, end, [&](const RowView& v) {
    return ScanDecoded<PinRow>(Table::kPin, DecodePin, fn, v);
  });
}

Status SqlSource::ScanGeos(int64_t begin, int64_t end, const std::function<Status(GeoRow&&)>& fn) {
  return ScanRows(Table::kGeo, begin, end, [&](const RowView& v) {
    return ScanDecoded<GeoRow>(Table::kGeo, DecodeGeo, fn, v);
  });
}

Status SqlSource::ScanUsers(int64_t begin, int64_t end,
                            const std::function<Status(UserRow&&)>& fn) {
  return ScanRows(Table::kUser, begin, end, [&](const RowView& v) {
    return ScanDecoded<UserRow>(Table::kUser, DecodeUser, fn, v);
  });
}

}  // namespace pinpipe::source::internal
