#include "pinpipe/table/delta_table.h"

#include <fmt/format.h>

#include <random>
#include <set>

#include "pinpipe/table/parquet_reader.h"

namespace pinpipe::table {

using nlohmann::json;

namespace {

constexpr std::string_view kLog = "_delta_log/";

std::string NewUuid() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }());
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffull) | 0x0000000000004000ull;  // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffull);
}

std::string_view SparkType(ColumnType t) {
  // ColumnTypeName's names are Spark's, but a list's type is a struct whose "type" is "array".
  return t == ColumnType::kDoubleList ? "array" : ColumnTypeName(t);
}

// "2020-09-13T12:26:40.123Z" (the form Spark writes in Delta stats).
std::string IsoMillis(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000;
  int64_t rem = ms - days * 86'400'000;
  // Civil-from-days (Howard Hinnant's algorithm).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", y, m, d, rem / 3'600'000,
                     rem / 60'000 % 60, rem / 1000 % 60, rem % 1000);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Delta file statistics of a written file. Strings longer than 32 bytes get
// no bound (Delta's readers treat missing bounds as unknown).
std::string StatsJson(const Schema& schema, const std::vector<ColumnStats>& stats, int64_t rows) {
  json mins = json::object(), maxs = json::object(), nulls = json::object();
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const Field& f = schema.fields[i];
    const ColumnStats& s = stats[i];
    nulls[f.name] = s.null_count;
    if (!s.has_min_max) continue;
    switch (f.type) {
      case ColumnType::kBoolean:
        break;  // Spark keeps no bounds for booleans
      case ColumnType::kInt32:
      case ColumnType::kInt64:
        mins[f.name] = s.min_int;
        maxs[f.name] = s.max_int;
        break;
      case ColumnType::kDouble:
        mins[f.name] = s.min_double;
        maxs[f.name] = s.max_double;
        break;
      case ColumnType::kString:
        if (s.min_string.size() <= 32) mins[f.name] = s.min_string;
        if (s.max_string.size() <= 32) maxs[f.name] = s.max_string;
        break;
      case ColumnType::kTimestampMicros:
        // Millisecond bounds: floor the minimum, ceil the maximum.
        mins[f.name] = IsoMillis(FloorDiv(s.min_int, 1000));
        maxs[f.name] = IsoMillis(FloorDiv(s.max_int + 999, 1000));
        break;
      case ColumnType::kDoubleList:
        break;
    }
  }
  json j = {{"numRecords", rows}, {"minValues", mins}, {"maxValues", maxs}, {"nullCount", nulls}};
  return j.dump();
}

Result<json> ParseJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLossError("delta: malformed JSON");
  return j;
}

std::string StrOr(const json& j, const char* key, std::string fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
int64_t IntOr(const json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}
bool BoolOr(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}
std::vector<std::string> StringsOr(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// Applies one action object to the snapshot.
Status ApplyAction(const json& a, Snapshot* s) {
  if (!a.is_object()) return DataLossError("delta: action is not an object");
  if (auto it = a.find("add"); it != a.end() && it->is_object()) {
    AddFile f;
    f.path = StrOr(*it, "path");
    if (f.path.empty()) return DataLossError("delta: add without path");
    f.size = IntOr(*it, "size");
    f.modification_time = IntOr(*it, "modificationTime");
    f.data_change = BoolOr(*it, "dataChange", true);
    f.stats = StrOr(*it, "stats");
    s->tombstones.erase(f.path);
    s->files[f.path] = std::move(f);
  } else if (auto it = a.find("remove"); it != a.end() && it->is_object()) {
    RemoveFile r;
    r.path = StrOr(*it, "path");
    r.deletion_timestamp = IntOr(*it, "deletionTimestamp");
    r.data_change = BoolOr(*it, "dataChange", true);
    r.size = IntOr(*it, "size");
    s->files.erase(r.path);
    s->tombstones[r.path] = std::move(r);
  } else if (auto it = a.find("txn"); it != a.end() && it->is_object()) {
    TxnState t;
    t.version = IntOr(*it, "version", -1);
    t.last_updated = IntOr(*it, "lastUpdated");
    s->txns[StrOr(*it, "appId")] = t;
  } else if (auto it = a.find("metaData"); it != a.end() && it->is_object()) {
    s->table_id = StrOr(*it, "id");
    s->schema_string = StrOr(*it, "schemaString");
    s->created_time = IntOr(*it, "createdTime");
    s->configuration.clear();
    if (auto c = it->find("configuration"); c != it->end() && c->is_object()) {
      for (auto kv = c->begin(); kv != c->end(); ++kv) {
        if (kv.value().is_string()) s->configuration[kv.key()] = kv.value().get<std::string>();
      }
    }
    s->partition_columns = StringsOr(*it, "partitionColumns");
    PINPIPE_ASSIGN_OR_RETURN(s->schema, ParseSparkSchema(s->schema_string));
  } else if (auto it = a.find("protocol"); it != a.end() && it->is_object()) {
    s->min_reader_version = static_cast<int>(IntOr(*it, "minReaderVersion", 1));
    s->min_writer_version = static_cast<int>(IntOr(*it, "minWriterVersion", 2));
    s->reader_features = StringsOr(*it, "readerFeatures");
    s->writer_features = StringsOr(*it, "writerFeatures");
  }
  return Status::Ok();
}

// The table features a legacy protocol version implies (PROTOCOL.md, "Table
// Features"): each version adds to the ones below it.
std::string LegacyWriterFeatures(int writer_version) {
  static const char* const kAdded[] = {"",
                                       "",
                                       "appendOnly, invariants",
                                       "checkConstraints",
                                       "changeDataFeed, generatedColumns",
                                       "columnMapping",
                                       "identityColumns"};
  std::string out;
  for (int v = 3; v <= std::min(writer_version, 6); ++v) {
    out += (out.empty() ? "" : ", ") + std::string(kAdded[v]);
  }
  return out;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// True if a column of the schema JSON carries a delta.invariants expression.
bool HasInvariants(std::string_view schema_string) {
  json j = json::parse(schema_string, nullptr, false);
  if (j.is_discarded() || !j.contains("fields") || !j["fields"].is_array()) return false;
  for (const auto& f : j["fields"]) {
    if (f.contains("metadata") && f["metadata"].is_object() &&
        f["metadata"].contains("delta.invariants")) {
      return true;
    }
  }
  return false;
}

// The checkpoint schema of the Delta protocol (the parts of reader 1 / writer 2).
std::vector<NestedField> CheckpointSchema() {
  using F = NestedField;
  return {
      F::Struct("txn", {F::String("appId"), F::Int64("version"), F::Int64("lastUpdated")}),
      F::Struct("add", {F::String("path"), F::StringMap("partitionValues"), F::Int64("size"),
                        F::Int64("modificationTime"), F::Bool("dataChange"), F::String("stats"),
                        F::StringMap("tags")}),
      F::Struct("remove", {F::String("path"), F::Int64("deletionTimestamp"), F::Bool("dataChange"),
                           F::Bool("extendedFileMetadata"), F::StringMap("partitionValues"),
                           F::Int64("size")}),
      F::Struct("metaData", {F::String("id"), F::String("name"), F::String("description"),
                             F::Struct("format", {F::String("provider"), F::StringMap("options")}),
                             F::String("schemaString"), F::StringList("partitionColumns"),
                             F::StringMap("configuration"), F::Int64("createdTime")}),
      F::Struct("protocol", {F::Int32("minReaderVersion"), F::Int32("minWriterVersion"),
                             F::StringList("readerFeatures"), F::StringList("writerFeatures")}),
  };
}

json MetaDataAction(const Snapshot& s) {
  json conf = json::object();
  for (const auto& [k, v] : s.configuration) conf[k] = v;
  return {{"metaData",
           {{"id", s.table_id},
            {"format", {{"provider", "parquet"}, {"options", json::object()}}},
            {"schemaString", s.schema_string},
            {"partitionColumns", json::array()},
            {"configuration", conf},
            {"createdTime", s.created_time}}}};
}

json AddAction(const AddFile& f) {
  return {{"add",
           {{"path", f.path},
            {"partitionValues", json::object()},
            {"size", f.size},
            {"modificationTime", f.modification_time},
            {"dataChange", f.data_change},
            {"stats", f.stats}}}};
}

json RemoveAction(const RemoveFile& r) {
  return {{"remove",
           {{"path", r.path},
            {"deletionTimestamp", r.deletion_timestamp},
            {"dataChange", r.data_change},
            {"extendedFileMetadata", true},
            {"partitionValues", json::object()},
            {"size", r.size}}}};
}

}  // namespace

std::string DeltaVersionName(int64_t version) { return fmt::format("{:020d}", version); }

std::string SparkSchemaString(const Schema& schema) {
  json fields = json::array();
  for (const Field& f : schema.fields) {
    json type = std::string(SparkType(f.type));
    if (f.type == ColumnType::kDoubleList) {
      type = {{"type", "array"}, {"elementType", "double"}, {"containsNull", true}};
    }
    fields.push_back(
        {{"name", f.name}, {"type", type}, {"nullable", f.nullable}, {"metadata", json::object()}});
  }
  return json{{"type", "struct"}, {"fields", fields}}.dump();
}

Result<Schema> ParseSparkSchema(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("fields") || !j["fields"].is_array()) {
    return InvalidArgumentError("delta: schemaString is not a struct schema");
  }
  Schema s;
  for (const auto& f : j["fields"]) {
    Field field;
    field.name = StrOr(f, "name");
    field.nullable = BoolOr(f, "nullable", true);
    const json& t = f.contains("type") ? f["type"] : json();
    std::string name = t.is_string() ? t.get<std::string>() : "";
    if (name == "boolean") {
      field.type = ColumnType::kBoolean;
    } else if (name == "integer") {
      field.type = ColumnType::kInt32;
    } else if (name == "long") {
      field.type = ColumnType::kInt64;
    } else if (name == "double") {
      field.type = ColumnType::kDouble;
    } else if (name == "string") {
      field.type = ColumnType::kString;
    } else if (name == "timestamp") {
      field.type = ColumnType::kTimestampMicros;
    } else if (t.is_object() && StrOr(t, "type") == "array" &&
               StrOr(t, "elementType") == "double") {
      field.type = ColumnType::kDoubleList;
    } else {
      std::string type = t.is_string()   ? name
                         : t.is_object() ? StrOr(t, "type", t.dump())
                                         : t.dump();
      if (type == "array") {
        const json element = t.contains("elementType") ? t["elementType"] : json();
        type = "array<" + (element.is_string() ? element.get<std::string>() : element.dump()) + ">";
      }
      std::string feature;
      if (type == "timestamp_ntz") feature = " (table feature timestampNtz)";
      if (type == "variant") feature = " (table feature variantType)";
      return UnimplementedError(fmt::format(
          "delta: column {} has type {}{}, which pinpipe does not support (it reads boolean, "
          "integer, long, double, string, timestamp and array<double>)",
          field.name, type, feature));
    }
    s.fields.push_back(std::move(field));
  }
  return s;
}

Status CheckReadable(const Snapshot& s) {
  // Reader features whose data pinpipe reads correctly without doing anything.
  static const std::set<std::string> kReads = {"vacuumProtocolCheck"};
  if (s.min_reader_version == 2) {
    return UnimplementedError(
        "delta: the table needs reader version 2 (table feature columnMapping), which pinpipe "
        "does not support");
  }
  if (s.min_reader_version > 3) {
    return UnimplementedError(
        fmt::format("delta: reader version {} is not supported", s.min_reader_version));
  }
  std::vector<std::string> missing;
  for (const auto& f : s.reader_features) {
    if (!kReads.count(f)) missing.push_back(f);
  }
  if (!missing.empty()) {
    return UnimplementedError(
        fmt::format("delta: the table uses reader table feature{} {}, which pinpipe does not "
                    "support",
                    missing.size() > 1 ? "s" : "", Join(missing)));
  }
  if (!s.partition_columns.empty()) {
    return UnimplementedError(fmt::format(
        "delta: the table is partitioned (partitionColumns {}), which pinpipe does not support",
        Join(s.partition_columns)));
  }
  return Status::Ok();
}

Status CheckWritable(const Snapshot& s) {
  PINPIPE_RETURN_IF_ERROR(CheckReadable(s));
  static const std::set<std::string> kWrites = {"appendOnly", "invariants", "vacuumProtocolCheck"};
  if (s.min_writer_version > 2 && s.min_writer_version < 7) {
    return UnimplementedError(fmt::format(
        "delta: the table needs writer version {} (table features {}), which pinpipe does not "
        "write",
        s.min_writer_version, LegacyWriterFeatures(s.min_writer_version)));
  }
  if (s.min_writer_version > 7) {
    return UnimplementedError(
        fmt::format("delta: writer version {} is not supported", s.min_writer_version));
  }
  std::vector<std::string> missing;
  for (const auto& f : s.writer_features) {
    if (!kWrites.count(f)) missing.push_back(f);
  }
  if (!missing.empty()) {
    return UnimplementedError(
        fmt::format("delta: the table uses writer table feature{} {}, which pinpipe does not "
                    "write",
                    missing.size() > 1 ? "s" : "", Join(missing)));
  }
  if (HasInvariants(s.schema_string)) {
    return UnimplementedError(
        "delta: a column has a delta.invariants constraint (table feature invariants), which "
        "pinpipe does not enforce");
  }
  return Status::Ok();
}

int64_t AddFile::NumRecords() const {
  json j = json::parse(stats, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return -1;
  return IntOr(j, "numRecords", -1);
}

int64_t Snapshot::NumRecords() const {
  int64_t n = 0;
  for (const auto& [p, f] : files) n += std::max<int64_t>(0, f.NumRecords());
  return n;
}

int64_t Snapshot::NumBytes() const {
  int64_t n = 0;
  for (const auto& [p, f] : files) n += f.size;
  return n;
}

DeltaTable::DeltaTable(objstore::ObjectStore& store, std::string root, Clock* clock)
    : DeltaTable(store, std::move(root), clock, DeltaOptions{}) {}

DeltaTable::DeltaTable(objstore::ObjectStore& store, std::string root, Clock* clock,
                       DeltaOptions options)
    : store_(&store),
      root_(std::move(root)),
      clock_(clock != nullptr ? clock : &Clock::Real()),
      options_(std::move(options)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
  if (!root_.empty()) root_ += '/';
}

std::string DeltaTable::Key(std::string_view relative) const {
  return root_ + std::string(relative);
}

Result<std::vector<objstore::ObjectInfo>> DeltaTable::ListAll(const std::string& prefix) {
  std::vector<objstore::ObjectInfo> all;
  std::string token;
  do {
    PINPIPE_ASSIGN_OR_RETURN(objstore::ListPage page, store_->List(prefix, token, 1000));
    for (auto& o : page.objects) all.push_back(std::move(o));
    token = page.next_token;
  } while (!token.empty());
  return all;
}

Result<bool> DeltaTable::Exists() {
  auto head = store_->Head(Key(std::string(kLog) + DeltaVersionName(0) + ".json"));
  if (head.ok()) return true;
  if (head.status().code() == StatusCode::kNotFound) return false;
  return head.status();
}

Result<CommitResult> DeltaTable::Create(const Schema& schema, std::string name) {
  if (schema.fields.empty()) return InvalidArgumentError("delta: schema has no fields");
  Snapshot s;
  s.table_id = NewUuid();
  s.schema = schema;
  s.schema_string = SparkSchemaString(schema);
  s.created_time = clock_->NowMillis();
  if (options_.append_only) s.configuration["delta.appendOnly"] = "true";
  json meta = MetaDataAction(s);
  if (!name.empty()) meta["metaData"]["name"] = name;
  std::vector<json> actions = {{{"protocol", {{"minReaderVersion", 1}, {"minWriterVersion", 2}}}},
                               meta};
  json commit_info = {{"timestamp", clock_->NowMillis()},
                      {"operation", "CREATE TABLE"},
                      {"operationParameters",
                       {{"isManaged", "false"},
                        {"description", nullptr},
                        {"partitionBy", "[]"},
                        {"properties", meta["metaData"]["configuration"].dump()}}},
                      {"isolationLevel", "Serializable"},
                      {"isBlindAppend", true},
                      {"engineInfo", options_.engine_info},
                      {"txnId", NewUuid()}};
  actions.push_back({{"commitInfo", commit_info}});
  std::string text;
  for (const auto& a : actions) text += a.dump() + "\n";
  objstore::PutOptions po;
  po.if_absent = true;
  po.content_type = "application/json";
  Status st = store_->Put(Key(std::string(kLog) + DeltaVersionName(0) + ".json"), text, po);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("delta: table already exists at " + store_->Url() + "/" + root_);
  }
  PINPIPE_RETURN_IF_ERROR(st);
  CommitResult r;
  r.version = 0;
  r.attempts = 1;
  return r;
}

Status DeltaTable::CreateIfAbsent(const Schema& schema, std::string name) {
  auto created = Create(schema, std::move(name));
  if (created.ok()) return Status::Ok();
  if (created.status().code() != StatusCode::kAlreadyExists) return created.status();
  PINPIPE_ASSIGN_OR_RETURN(Snapshot s, Load());
  if (!(s.schema == schema)) {
    return FailedPreconditionError("delta: table at " + root_ +
                                   " exists with a different schema: " + s.schema_string);
  }
  return Status::Ok();
}

Status DeltaTable::ApplyCommit(std::string_view text, Snapshot* s) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    PINPIPE_ASSIGN_OR_RETURN(json a, ParseJson(line));
    PINPIPE_RETURN_IF_ERROR(ApplyAction(a, s));
  }
  return Status::Ok();
}

Status DeltaTable::LoadCheckpoint(int64_t version, Snapshot* s) {
  PINPIPE_ASSIGN_OR_RETURN(
      std::string data,
      store_->Get(Key(std::string(kLog) + DeltaVersionName(version) + ".checkpoint.parquet")));
  PINPIPE_ASSIGN_OR_RETURN(ParquetFile file, ParquetFile::Open(std::move(data)));
  // Only the actions pinpipe applies: Spark's checkpoints also hold columns
  // such as add.stats_parsed, with any type (INT96 timestamps, decimals).
  PINPIPE_ASSIGN_OR_RETURN(
      std::vector<json> rows,
      file.ReadJsonRows({"txn", "add.path", "add.size", "add.modificationTime", "add.dataChange",
                         "add.stats", "remove.path", "remove.deletionTimestamp",
                         "remove.dataChange", "remove.size", "metaData", "protocol"}));
  for (const json& row : rows) {
    // Each row holds one non-null action column; keep just that one.
    for (auto it = row.begin(); it != row.end(); ++it) {
      if (it.value().is_null()) continue;
      json action = {{it.key(), it.value()}};
      PINPIPE_RETURN_IF_ERROR(ApplyAction(action, s));
    }
  }
  s->version = version;
  s->checkpoint_version = version;
  return Status::Ok();
}

Result<Snapshot> DeltaTable::Load() {
  Snapshot s;
  auto last = store_->Get(Key(std::string(kLog) + "_last_checkpoint"));
  if (last.ok()) {
    auto j = ParseJson(*last);
    if (j.ok() && j->is_object() && IntOr(*j, "version", -1) >= 0) {
      Snapshot cp;
      Status st = LoadCheckpoint(IntOr(*j, "version"), &cp);
      if (st.ok()) {
        s = std::move(cp);
      } else if (st.code() != StatusCode::kNotFound && st.code() != StatusCode::kDataLoss) {
        return st;
      }
      // A missing or corrupt checkpoint: replay the JSON log from version 0.
    }
  } else if (last.status().code() != StatusCode::kNotFound) {
    return last.status();
  }
  PINPIPE_RETURN_IF_ERROR(Refresh(&s));
  if (s.version < 0) return NotFoundError("delta: no table at " + store_->Url() + "/" + root_);
  return s;
}

Status DeltaTable::Refresh(Snapshot* s) {
  while (true) {
    auto text = store_->Get(Key(std::string(kLog) + DeltaVersionName(s->version + 1) + ".json"));
    if (!text.ok()) {
      if (text.status().code() != StatusCode::kNotFound) return text.status();
      return s->version < 0 ? Status::Ok() : CheckReadable(*s);
    }
    PINPIPE_RETURN_IF_ERROR(
        ApplyCommit(*text, s).WithContext("delta: version " + std::to_string(s->version + 1)));
    ++s->version;
  }
}

Result<std::optional<int64_t>> DeltaTable::LatestTxnVersion(const std::string& app_id) {
  PINPIPE_ASSIGN_OR_RETURN(Snapshot s, Load());
  auto it = s.txns.find(app_id);
  if (it == s.txns.end()) return std::optional<int64_t>();
  return std::optional<int64_t>(it->second.version);
}

Result<std::string> DeltaTable::WriteDataFile(const RecordBatch& batch, AddFile* add) {
  PINPIPE_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Create(batch.schema, options_.parquet));
  PINPIPE_RETURN_IF_ERROR(writer->WriteRowGroups(batch));
  PINPIPE_ASSIGN_OR_RETURN(std::string data, writer->Finish());
  std::string ext = options_.parquet.codec == Codec::kUncompressed
                        ? ""
                        : "." + std::string(CodecName(options_.parquet.codec));
  add->path = "part-00000-" + NewUuid() + "-c000" + ext + ".parquet";
  add->size = static_cast<int64_t>(data.size());
  add->modification_time = clock_->NowMillis();
  add->stats = StatsJson(batch.schema, writer->column_stats(), writer->num_rows());
  objstore::PutOptions po;
  PINPIPE_RETURN_IF_ERROR(store_->Put(Key(add->path), data, po));
  return add->path;
}

Result<CommitResult> DeltaTable::CommitWithRetry(
    Snapshot* s, std::vector<json> actions, const std::string& operation, json parameters,
    const std::function<Result<bool>(const Snapshot&)>& prepare, CommitResult result) {
  const int64_t read_version = s->version;
  bool blind_append = true;
  for (const auto& a : actions) blind_append = blind_append && !a.contains("remove");
  for (int attempt = 1; attempt <= options_.max_commit_attempts; ++attempt) {
    PINPIPE_RETURN_IF_ERROR(CheckWritable(*s));
    PINPIPE_ASSIGN_OR_RETURN(bool skip, prepare(*s));
    if (skip) {
      result.skipped = true;
      result.version = s->version;
      result.attempts = attempt;
      return result;
    }
    json info = {{"timestamp", clock_->NowMillis()},   {"operation", operation},
                 {"operationParameters", parameters},  {"readVersion", read_version},
                 {"isolationLevel", "Serializable"},   {"isBlindAppend", blind_append},
                 {"engineInfo", options_.engine_info}, {"txnId", NewUuid()}};
    int64_t bytes = 0, files = 0;
    for (const auto& a : actions) {
      if (a.contains("add")) {
        bytes += a["add"]["size"].get<int64_t>();
        ++files;
      }
    }
    info["operationMetrics"] = {{"numFiles", std::to_string(files)},
                                {"numOutputRows", std::to_string(result.rows)},
                                {"numOutputBytes", std::to_string(bytes)}};
    std::string text;
    for (const auto& a : actions) text += a.dump() + "\n";
    text += json{{"commitInfo", info}}.dump() + "\n";
    const int64_t version = s->version + 1;
    objstore::PutOptions po;
    po.if_absent = true;
    po.content_type = "application/json";
    Status st = store_->Put(Key(std::string(kLog) + DeltaVersionName(version) + ".json"), text, po);
    if (st.ok()) {
      PINPIPE_RETURN_IF_ERROR(ApplyCommit(text, s));
      s->version = version;
      result.version = version;
      result.attempts = attempt;
      if (options_.checkpoint_interval > 0 && version % options_.checkpoint_interval == 0) {
        // Best effort: a failed checkpoint only makes opening slower.
        (void)WriteCheckpoint(*s);
      }
      return result;
    }
    if (st.code() != StatusCode::kAlreadyExists) return st;
    // Lost the race: read what won and try again at the next version.
    PINPIPE_RETURN_IF_ERROR(Refresh(s));
  }
  return AbortedError(fmt::format("delta: gave up after {} conflicting commit attempts",
                                  options_.max_commit_attempts));
}

Result<Snapshot*> DeltaTable::Latest() {
  if (latest_) {
    if (Status st = Refresh(&*latest_); !st.ok()) {
      latest_.reset();
      return st;
    }
    return &*latest_;
  }
  PINPIPE_ASSIGN_OR_RETURN(Snapshot s, Load());
  latest_ = std::move(s);
  return &*latest_;
}

Result<CommitResult> DeltaTable::Append(const RecordBatch& batch, const AppendOptions& options) {
  auto committed = AppendTo(batch, options);
  if (!committed.ok()) latest_.reset();  // it may hold half of a commit
  return committed;
}

Result<CommitResult> DeltaTable::AppendTo(const RecordBatch& batch, const AppendOptions& options) {
  PINPIPE_ASSIGN_OR_RETURN(Snapshot * latest, Latest());
  Snapshot& s = *latest;
  PINPIPE_RETURN_IF_ERROR(CheckWritable(s));
  if (!(batch.schema == s.schema)) {
    return InvalidArgumentError("delta: batch schema differs from the table's: " +
                                SparkSchemaString(batch.schema) + " vs " + s.schema_string);
  }
  const bool with_txn = !options.app_id.empty();
  auto already_done = [&](const Snapshot& snap) -> Result<bool> {
    if (!with_txn) return false;
    auto it = snap.txns.find(options.app_id);
    return it != snap.txns.end() && it->second.version >= options.txn_version;
  };
  PINPIPE_ASSIGN_OR_RETURN(bool done, already_done(s));
  CommitResult result;
  if (done) {
    result.skipped = true;
    result.version = s.version;
    return result;
  }
  std::vector<json> actions;
  if (batch.num_rows() > 0) {
    AddFile add;
    PINPIPE_ASSIGN_OR_RETURN(std::string path, WriteDataFile(batch, &add));
    actions.push_back(AddAction(add));
    result.added.push_back(path);
    result.rows = static_cast<int64_t>(batch.num_rows());
  }
  if (with_txn) {
    actions.push_back({{"txn",
                        {{"appId", options.app_id},
                         {"version", options.txn_version},
                         {"lastUpdated", clock_->NowMillis()}}}});
  }
  json params = {{"mode", "Append"}};
  if (with_txn) {
    params = {{"outputMode", "Append"},
              {"queryId", options.app_id},
              {"epochId", std::to_string(options.txn_version)}};
  }
  auto committed = CommitWithRetry(&s, actions, options.operation, params, already_done, result);
  if (committed.ok() && committed->skipped) {
    // Another writer committed this micro-batch first; our file is an orphan.
    for (const auto& p : result.added) (void)store_->Delete(Key(p));
    committed->added.clear();
    committed->rows = 0;
  }
  return committed;
}

Status DeltaTable::WriteCheckpoint(const Snapshot& s) {
  std::vector<json> rows;
  json protocol = {{"minReaderVersion", s.min_reader_version},
                   {"minWriterVersion", s.min_writer_version}};
  if (s.min_reader_version >= 3) protocol["readerFeatures"] = s.reader_features;
  if (s.min_writer_version >= 7) protocol["writerFeatures"] = s.writer_features;
  rows.push_back({{"protocol", protocol}});
  rows.push_back(MetaDataAction(s));
  for (const auto& [app, t] : s.txns) {
    rows.push_back(
        {{"txn", {{"appId", app}, {"version", t.version}, {"lastUpdated", t.last_updated}}}});
  }
  for (const auto& [p, f] : s.files) {
    json a = AddAction(f);
    a["add"]["dataChange"] = false;
    rows.push_back(std::move(a));
  }
  for (const auto& [p, r] : s.tombstones) rows.push_back(RemoveAction(r));
  WriterOptions po = options_.parquet;
  po.codec = Codec::kSnappy;
  PINPIPE_ASSIGN_OR_RETURN(std::string data, WriteNestedParquet(CheckpointSchema(), rows, po));
  objstore::PutOptions put;
  PINPIPE_RETURN_IF_ERROR(store_->Put(
      Key(std::string(kLog) + DeltaVersionName(s.version) + ".checkpoint.parquet"), data, put));
  json last = {{"version", s.version},
               {"size", rows.size()},
               {"sizeInBytes", data.size()},
               {"numOfAddFiles", s.files.size()}};
  put.content_type = "application/json";
  return store_->Put(Key(std::string(kLog) + "_last_checkpoint"), last.dump(), put);
}

Result<RecordBatch> DeltaTable::ReadAll(const Snapshot& s) {
  RecordBatch all(s.schema);
  for (const auto& [p, f] : s.files) {
    PINPIPE_ASSIGN_OR_RETURN(std::string data, store_->Get(Key(p)));
    PINPIPE_ASSIGN_OR_RETURN(ParquetFile file, ParquetFile::Open(std::move(data)));
    PINPIPE_ASSIGN_OR_RETURN(RecordBatch b, file.ReadAll());
    b.schema = s.schema;  // nullability comes from the table
    PINPIPE_RETURN_IF_ERROR(all.Append(b));
  }
  return all;
}

Result<CommitResult> DeltaTable::Optimize(int64_t target_file_bytes) {
  PINPIPE_ASSIGN_OR_RETURN(Snapshot s, Load());
  PINPIPE_RETURN_IF_ERROR(CheckWritable(s));
  // Bins of small files, in path order, each up to about the target size.
  std::vector<std::vector<const AddFile*>> bins(1);
  int64_t bin_bytes = 0;
  for (const auto& [p, f] : s.files) {
    if (f.size >= target_file_bytes / 2) continue;
    if (bin_bytes + f.size > target_file_bytes && !bins.back().empty()) {
      bins.emplace_back();
      bin_bytes = 0;
    }
    bins.back().push_back(&f);
    bin_bytes += f.size;
  }
  CommitResult result;
  std::vector<json> actions;
  std::vector<std::string> removed;
  const int64_t now = clock_->NowMillis();
  for (const auto& bin : bins) {
    if (bin.size() < 2) continue;
    RecordBatch merged(s.schema);
    for (const AddFile* f : bin) {
      PINPIPE_ASSIGN_OR_RETURN(std::string data, store_->Get(Key(f->path)));
      PINPIPE_ASSIGN_OR_RETURN(ParquetFile file, ParquetFile::Open(std::move(data)));
      PINPIPE_ASSIGN_OR_RETURN(RecordBatch b, file.ReadAll());
      b.schema = s.schema;
      PINPIPE_RETURN_IF_ERROR(merged.Append(b));
      RemoveFile r;
      r.path = f->path;
      r.deletion_timestamp = now;
      r.data_change = false;
      r.size = f->size;
      actions.push_back(RemoveAction(r));
      removed.push_back(f->path);
    }
    AddFile add;
    PINPIPE_ASSIGN_OR_RETURN(std::string path, WriteDataFile(merged, &add));
    add.data_change = false;
    actions.push_back(AddAction(add));
    result.added.push_back(path);
    result.rows += static_cast<int64_t>(merged.num_rows());
  }
  result.removed = removed;
  if (removed.empty()) return result;  // version -1: nothing to do
  auto check = [&](const Snapshot& snap) -> Result<bool> {
    for (const auto& p : removed) {
      if (!snap.files.count(p)) {
        return AbortedError("delta: optimize conflicts with a concurrent removal of " + p);
      }
    }
    return false;
  };
  json params = {{"predicate", "[]"}, {"zOrderBy", "[]"}};
  auto committed = CommitWithRetry(&s, actions, "OPTIMIZE", params, check, result);
  if (!committed.ok()) {
    for (const auto& p : result.added) (void)store_->Delete(Key(p));
  }
  return committed;
}

Result<VacuumResult> DeltaTable::Vacuum(int64_t retention_ms, bool dry_run) {
  PINPIPE_ASSIGN_OR_RETURN(Snapshot s, Load());
  PINPIPE_RETURN_IF_ERROR(CheckWritable(s));
  PINPIPE_ASSIGN_OR_RETURN(auto objects, ListAll(root_));
  const int64_t cutoff = clock_->NowMillis() - retention_ms;
  VacuumResult result;
  for (const auto& o : objects) {
    std::string rel = o.key.substr(root_.size());
    if (rel.rfind(kLog, 0) == 0 || rel.rfind("_", 0) == 0 || rel.rfind(".", 0) == 0) continue;
    if (s.files.count(rel)) continue;
    auto tomb = s.tombstones.find(rel);
    int64_t since = tomb != s.tombstones.end() ? tomb->second.deletion_timestamp : o.modified_ms;
    if (since > cutoff) continue;
    if (!dry_run) PINPIPE_RETURN_IF_ERROR(store_->Delete(o.key));
    result.deleted.push_back(rel);
    result.bytes += o.size;
  }
  return result;
}

Result<std::vector<json>> DeltaTable::History(int limit) {
  Snapshot probe;
  // The latest version: start from the checkpoint hint, then probe forward.
  auto last = store_->Get(Key(std::string(kLog) + "_last_checkpoint"));
  if (last.ok()) {
    auto j = ParseJson(*last);
    if (j.ok() && j->is_object()) probe.version = IntOr(*j, "version", -1);
  }
  int64_t latest = probe.version;
  while (true) {
    auto head = store_->Head(Key(std::string(kLog) + DeltaVersionName(latest + 1) + ".json"));
    if (!head.ok()) {
      if (head.status().code() != StatusCode::kNotFound) return head.status();
      break;
    }
    ++latest;
  }
  if (latest < 0) return NotFoundError("delta: no table at " + store_->Url() + "/" + root_);
  std::vector<json> out;
  for (int64_t v = latest; v >= 0 && static_cast<int>(out.size()) < limit; --v) {
    auto text = store_->Get(Key(std::string(kLog) + DeltaVersionName(v) + ".json"));
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) break;  // cleaned up
      return text.status();
    }
    json info = {{"version", v}};
    size_t pos = 0;
    while (pos < text->size()) {
      size_t nl = text->find('\n', pos);
      if (nl == std::string::npos) nl = text->size();
      auto a = ParseJson(std::string_view(*text).substr(pos, nl - pos));
      pos = nl + 1;
      if (a.ok() && a->contains("commitInfo")) {
        for (auto it = (*a)["commitInfo"].begin(); it != (*a)["commitInfo"].end(); ++it) {
          info[it.key()] = it.value();
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace pinpipe::table
