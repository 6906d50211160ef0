#include "pinpipe/source/source_db.h"

#include <charconv>
#include <optional>

#include "pinpipe/base/uri.h"
#include "pinpipe/source/row_codec.h"

namespace pinpipe::source {

namespace {

constexpr std::string_view kUrlHelp =
    "want sqlite:///abs/path.db, sqlite://./rel/path.db, mysql://user:pass@host:port/db or "
    "postgresql://user:pass@host:port/db";

}  // namespace

std::string SourceUrl::Redacted() const {
  if (kind == Kind::kSqlite) {
    return "sqlite://" + path;
  }
  std::string out = kind == Kind::kMysql ? "mysql://" : "postgresql://";
  if (!user.empty()) {
    out += user;
    if (!password.empty()) out += ":***";
    out += '@';
  }
  out += host;
  if (port) out += ":" + std::to_string(port);
  out += "/" + database;
  return out;
}

Result<SourceUrl> ParseSourceUrl(std::string_view url) {
  SourceUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidArgumentError("bad source URL '" + std::string(url.substr(0, 60)) +
                                "': " + std::string(kUrlHelp));
  }
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  if (scheme == "sqlite" || scheme == "sqlite3") {
    out.kind = SourceUrl::Kind::kSqlite;
    if (rest.empty())
      return InvalidArgumentError("source URL has no SQLite file path: " + std::string(kUrlHelp));
    out.path = std::string(rest);
    return out;
  }
  if (scheme == "mysql" || scheme == "mariadb") {
    out.kind = SourceUrl::Kind::kMysql;
    out.port = 3306;
  } else if (scheme == "postgresql" || scheme == "postgres") {
    out.kind = SourceUrl::Kind::kPostgres;
    out.port = 5432;
  } else {
    return InvalidArgumentError("unknown source URL scheme '" + std::string(scheme.substr(0, 20)) +
                                "': " + std::string(kUrlHelp));
  }
  // Strip query parameters; none are used.
  if (size_t q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    PINPIPE_ASSIGN_OR_RETURN(out.user, PercentDecode(cred.substr(0, colon)));
    if (colon != std::string_view::npos) {
      PINPIPE_ASSIGN_OR_RETURN(out.password, PercentDecode(cred.substr(colon + 1)));
    }
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size()) {
    return InvalidArgumentError("source URL names no database (" + out.Redacted() +
                                "): " + std::string(kUrlHelp));
  }
  out.database = std::string(rest.substr(slash + 1));
  std::string_view hostport = rest.substr(0, slash);
  size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    std::string_view port = hostport.substr(colon + 1);
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p <= 0 || p > 65535) {
      return InvalidArgumentError("bad port '" + std::string(port.substr(0, 10)) +
                                  "' in source URL");
    }
    out.port = p;
    hostport = hostport.substr(0, colon);
  }
  out.host = hostport.empty() ? "127.0.0.1" : std::string(hostport);
  return out;
}

Result<int64_t> SourceDb::CountRows(Table table) {
  PINPIPE_ASSIGN_OR_RETURN(bool exists, TableExists(table));
  if (!exists) {
    return NotFoundError("table " + std::string(model::TableName(table)) +
                         " does not exist (run `pinpipe seed` first)");
  }
  PINPIPE_ASSIGN_OR_RETURN(
      auto rows, QueryText("SELECT COUNT(*) FROM " + QuoteIdentifier(model::TableName(table))));
  if (rows.empty() || rows[0].empty()) return InternalError("COUNT(*) returned no row");
  return std::stoll(rows[0][0]);
}

namespace {

template <typename Row>
Result<Row> ReadOne(
    int64_t index, std::string_view table,
    const std::function<Status(int64_t, int64_t, const std::function<Status(Row&&)>&)>& scan) {
  std::optional<Row> found;
  PINPIPE_RETURN_IF_ERROR(scan(index, index + 1, [&](Row&& row) {
    found = std::move(row);
    return Status::Ok();
  }));
  if (!found) {
    return NotFoundError("no row with index " + std::to_string(index) + " in " +
                         std::string(table));
  }
  return std::move(*found);
}

}  // namespace

Result<PinRow> SourceDb::ReadPin(int64_t index) {
  return ReadOne<PinRow>(index, "pinterest_data",
                         [this](int64_t b, int64_t e, const std::function<Status(PinRow &&)>& f) {
                           return ScanPins(b, e, f);
                         });
}

Result<GeoRow> SourceDb::ReadGeo(int64_t index) {
  return ReadOne<GeoRow>(index, "geolocation_data",
                         [this](int64_t b, int64_t e, const std::function<Status(GeoRow &&)>& f) {
                           return ScanGeos(b, e, f);
                         });
}

Result<UserRow> SourceDb::ReadUser(int64_t index) {
  return ReadOne<UserRow>(index, "user_data",
                          [this](int64_t b, int64_t e, const std::function<Status(UserRow &&)>& f) {
                            return ScanUsers(b, e, f);
                          });
}

Result<std::vector<TableStats>> SourceDb::Stats() {
  std::vector<TableStats> out;
  auto q = [this](std::string_view name) { return QuoteIdentifier(name); };
  auto one = [this](const std::string& sql) -> Result<std::string> {
    PINPIPE_ASSIGN_OR_RETURN(auto rows, QueryText(sql));
    if (rows.empty() || rows[0].empty()) return std::string();
    return rows[0][0];
  };
  // "a (12), b (10), c (9)"
  auto top = [&](Table t, std::string_view col, int n) -> Result<std::string> {
    std::string sql = "SELECT " + q(col) + ", COUNT(*) AS n FROM " + q(model::TableName(t)) +
                      " GROUP BY " + q(col) + " ORDER BY n DESC, " + q(col) + " LIMIT " +
                      std::to_string(n);
    PINPIPE_ASSIGN_OR_RETURN(auto rows, QueryText(sql));
    std::string s;
    for (const auto& r : rows) {
      if (!s.empty()) s += ", ";
      s += r[0] + " (" + r[1] + ")";
    }
    return s;
  };
  for (Table t : model::kAllTables) {
    TableStats st;
    st.table = t;
    PINPIPE_ASSIGN_OR_RETURN(st.rows, CountRows(t));
    std::string name = q(model::TableName(t));
    std::string key = q(internal::KeyColumn(t));
    if (st.rows > 0) {
      PINPIPE_ASSIGN_OR_RETURN(auto range,
                               QueryText("SELECT MIN(" + key + "), MAX(" + key + ") FROM " + name));
      st.facts.emplace_back(std::string(internal::KeyColumn(t)) + " range",
                            range[0][0] + " .. " + range[0][1]);
    }
    if (t == Table::kPin && st.rows > 0) {
      PINPIPE_ASSIGN_OR_RETURN(auto cats, one("SELECT COUNT(DISTINCT category) FROM " + name));
      st.facts.emplace_back("categories", cats);
      PINPIPE_ASSIGN_OR_RETURN(auto top_cats, top(t, "category", 3));
      st.facts.emplace_back("top categories", top_cats);
      PINPIPE_ASSIGN_OR_RETURN(auto media, top(t, "is_image_or_video", 3));
      st.facts.emplace_back("media", media);
      PINPIPE_ASSIGN_OR_RETURN(auto broken, one("SELECT COUNT(*) FROM " + name +
                                                " WHERE follower_count = 'User Info Error'"));
      st.facts.emplace_back("follower_count placeholders", broken);
    } else if (t == Table::kGeo && st.rows > 0) {
      PINPIPE_ASSIGN_OR_RETURN(auto n, one("SELECT COUNT(DISTINCT country) FROM " + name));
      st.facts.emplace_back("countries", n);
      PINPIPE_ASSIGN_OR_RETURN(auto top_c, top(t, "country", 3));
      st.facts.emplace_back("top countries", top_c);
      PINPIPE_ASSIGN_OR_RETURN(auto ts, QueryText("SELECT MIN(" + q("timestamp") + "), MAX(" +
                                                  q("timestamp") + ") FROM " + name));
      st.facts.emplace_back("timestamp range", ts[0][0] + " .. " + ts[0][1]);
    } else if (t == Table::kUser && st.rows > 0) {
      PINPIPE_ASSIGN_OR_RETURN(
          auto people,
          one("SELECT COUNT(*) FROM (SELECT DISTINCT first_name, last_name FROM " + name + ") p"));
      st.facts.emplace_back("distinct people", people);
      PINPIPE_ASSIGN_OR_RETURN(auto ages, QueryText("SELECT MIN(age), MAX(age) FROM " + name));
      st.facts.emplace_back("age range", ages[0][0] + " .. " + ages[0][1]);
      PINPIPE_ASSIGN_OR_RETURN(auto top_ages, top(t, "age", 3));
      st.facts.emplace_back("top ages", top_ages);
      PINPIPE_ASSIGN_OR_RETURN(auto dj,
                               QueryText("SELECT MIN(date_joined), MAX(date_joined) FROM " + name));
      st.facts.emplace_back("date_joined range", dj[0][0] + " .. " + dj[0][1]);
    }
    out.push_back(std::move(st));
  }
  return out;
}

Result<std::unique_ptr<SourceDb>> OpenSourceDb(std::string_view url, const OpenOptions& options) {
  PINPIPE_ASSIGN_OR_RETURN(SourceUrl parsed, ParseSourceUrl(url));
  switch (parsed.kind) {
    case SourceUrl::Kind::kSqlite:
      return OpenSqlite(parsed, options);
    case SourceUrl::Kind::kMysql:
      return OpenMysql(parsed, options);
    case SourceUrl::Kind::kPostgres:
      return OpenPostgres(parsed, options);
  }
  return InternalError("unreachable");
}

}  // namespace pinpipe::source
