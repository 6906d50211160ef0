// Renders frame::Tables for people and programs: an aligned text table for the
// terminal, CSV (RFC 4180, header row) and JSON (an array of objects).
//
// Cell text: integers in decimal, doubles in shortest round-trip form,
// timestamps as `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC), lists as `[a, b]`, nulls as
// an empty CSV field / JSON null / blank cell.
//
// Thread-safety: pure functions.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "pinpipe/frame/column.h"

namespace pinpipe::batch {

// The text of one cell; `*is_null` tells nulls apart from empty strings.
std::string CellText(const frame::Column& column, size_t row, bool* is_null = nullptr);

void WriteTextTable(const frame::Table& table, std::ostream& out, size_t max_rows = 50);
void WriteCsv(const frame::Table& table, std::ostream& out);
// Columns map to JSON numbers (int64, double), strings, or arrays (lists).
void WriteJson(const frame::Table& table, std::ostream& out);

}  // namespace pinpipe::batch
