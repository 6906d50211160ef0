#include "pinpipe/batch/render.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "pinpipe/base/json_escape.h"
#include "pinpipe/clean/rules.h"

namespace pinpipe::batch {
namespace {

using frame::Column;
using frame::DataType;

std::string DoubleText(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, ptr);
}

// Display width: counts UTF-8 code points (good enough for aligned tables).
size_t Width(std::string_view s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

bool NeedsCsvQuotes(std::string_view s) {
  return s.find_first_of(",\"\r\n") != std::string_view::npos || s.empty();
}

}  // namespace

std::string CellText(const Column& column, size_t row, bool* is_null) {
  bool null = column.IsNull(row);
  if (is_null) *is_null = null;
  if (null) return "";
  switch (column.type()) {
    case DataType::kInt64:
      return std::to_string(column.Int64At(row));
    case DataType::kDouble:
      return DoubleText(column.DoubleAt(row));
    case DataType::kString:
    case DataType::kDict:
      return std::string(column.StringAt(row));
    case DataType::kTimestamp:
      return FormatTimestampMicros(column.Int64At(row));
    case DataType::kListDouble: {
      std::string s = "[";
      for (size_t j = 0; j < column.ListSize(row); ++j) {
        if (j) s += ", ";
        s += column.ListValueValid(row, j) ? DoubleText(column.ListValue(row, j)) : "null";
      }
      return s + "]";
    }
  }
  return "";
}

void WriteTextTable(const frame::Table& table, std::ostream& out, size_t max_rows) {
  size_t rows = std::min(table.num_rows(), max_rows);
  size_t cols = table.num_columns();
  std::vector<std::vector<std::string>> cells(rows, std::vector<std::string>(cols));
  std::vector<size_t> width(cols);
  for (size_t c = 0; c < cols; ++c) width[c] = Width(table.name(c));
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      bool null = false;
      cells[r][c] = CellText(table.column(c), r, &null);
      if (null) cells[r][c] = "NULL";
      width[c] = std::max(width[c], Width(cells[r][c]));
    }
  }
  auto line = [&] {
    out << '+';
    for (size_t c = 0; c < cols; ++c) out << std::string(width[c] + 2, '-') << '+';
    out << '\n';
  };
  auto row_out = [&](size_t r, const std::vector<std::string>& v) {
    out << '|';
    for (size_t c = 0; c < cols; ++c) {
      bool numeric = r != SIZE_MAX && (table.column(c).type() == DataType::kInt64 ||
                                       table.column(c).type() == DataType::kDouble);
      std::string pad(width[c] - Width(v[c]), ' ');
      out << ' ' << (numeric ? pad + v[c] : v[c] + pad) << " |";
    }
    out << '\n';
  };
  line();
  row_out(SIZE_MAX, table.names());
  line();
  for (size_t r = 0; r < rows; ++r) row_out(r, cells[r]);
  line();
  if (table.num_rows() > rows) {
    out << "(" << table.num_rows() << " rows, first " << rows << " shown)\n";
  } else {
    out << "(" << table.num_rows() << (table.num_rows() == 1 ? " row)\n" : " rows)\n");
  }
}

void WriteCsv(const frame::Table& table, std::ostream& out) {
  auto field = [&](std::string_view s, bool null) {
    // An empty string is quoted so that it differs from a null (empty field).
    if (!null && NeedsCsvQuotes(s)) {
      out << '"';
      for (char c : s) {
        if (c == '"') out << '"';
        out << c;
      }
      out << '"';
    } else {
      out << s;
    }
  };
  for (size_t c = 0; c < table.num_columns(); ++c) {
    if (c) out << ',';
    field(table.name(c), false);
  }
  out << '\n';
  std::string text;
  for (size_t r = 0; r < table.num_rows(); ++r) {
    for (size_t c = 0; c < table.num_columns(); ++c) {
      if (c) out << ',';
      bool null = false;
      text = CellText(table.column(c), r, &null);
      field(text, null);
    }
    out << '\n';
  }
}

void WriteJson(const frame::Table& table, std::ostream& out) {
  out << '[';
  for (size_t r = 0; r < table.num_rows(); ++r) {
    out << (r ? ",\n " : "\n ") << '{';
    for (size_t c = 0; c < table.num_columns(); ++c) {
      if (c) out << ", ";
      out << JsonQuote(table.name(c)) << ": ";
      const Column& col = table.column(c);
      bool null = false;
      std::string text = CellText(col, r, &null);
      if (null) {
        out << "null";
      } else if (col.type() == DataType::kString || col.type() == DataType::kDict ||
                 col.type() == DataType::kTimestamp) {
        out << JsonQuote(text);
      } else {
        out << text;  // numbers and [a, b] lists are JSON already
      }
    }
    out << '}';
  }
  out << (table.num_rows() ? "\n]\n" : "]\n");
}

}  // namespace pinpipe::batch
