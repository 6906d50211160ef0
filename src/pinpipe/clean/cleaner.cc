#include "pinpipe/clean/cleaner.h"

#include <simdjson.h>

#include <cstring>
#include <span>

#include "pinpipe/clean/rules.h"
#include "pinpipe/clean/schema.h"
#include "pinpipe/frame/ops.h"

namespace pinpipe::clean {
namespace {

using frame::Column;
using frame::DataType;

// How a JSON value arrived, before coercion.
enum class Kind { kMissing, kNull, kString, kNumber, kBool, kComposite };

struct Val {
  Kind kind = Kind::kMissing;
  std::string_view text;  // string contents, number token, or "true"/"false"
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Reads a value's kind and text. Strings are unescaped into the parser's buffer.
simdjson::error_code ReadVal(simdjson::ondemand::value value, Val* out) {
  simdjson::ondemand::json_type type;
  if (auto err = value.type().get(type)) return err;
  switch (type) {
    case simdjson::ondemand::json_type::string:
      out->kind = Kind::kString;
      return value.get_string().get(out->text);
    case simdjson::ondemand::json_type::number:
      out->kind = Kind::kNumber;
      out->text = Trim(value.raw_json_token());
      return simdjson::SUCCESS;
    case simdjson::ondemand::json_type::boolean: {
      bool b = false;
      if (auto err = value.get_bool().get(b)) return err;
      out->kind = Kind::kBool;
      out->text = b ? "true" : "false";
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::null:
      out->kind = Kind::kNull;
      return value.is_null().error();
    default:
      out->kind = Kind::kComposite;
      return simdjson::SUCCESS;  // skipped by the object iterator
  }
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kMissing:
      return "missing";
    case Kind::kNull:
      return "null";
    case Kind::kString:
      return "a string";
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "a boolean";
    case Kind::kComposite:
      return "an object or array";
  }
  return "?";
}

Status WrongKind(std::string_view field, const Val& v, std::string_view wanted) {
  return InvalidArgumentError(reasons::WrongKind(field, KindName(v.kind), wanted));
}

Status NotA(std::string_view field, const Val& v, std::string_view wanted) {
  return InvalidArgumentError(reasons::NotA(field, v.text, wanted));
}

// A text column: missing/null/empty/placeholder -> null; numbers and booleans
// are kept as their JSON text; objects and arrays cannot be coerced.
Status TextField(std::string_view field, const Val& v, std::optional<std::string_view>* out) {
  out->reset();
  switch (v.kind) {
    case Kind::kMissing:
    case Kind::kNull:
      return Status::Ok();
    case Kind::kComposite:
      return WrongKind(field, v, "text");
    default:
      if (v.text.empty() || IsPlaceholder(field, v.text)) return Status::Ok();
      *out = v.text;
      return Status::Ok();
  }
}

// What a typed column accepts, for TypedField.
struct TypedSpec {
  std::string_view wanted;      // "an integer": a token that does not parse is "not <wanted>"
  std::string_view wrong_kind;  // what other kinds are told they are not
  bool required = false;        // missing or null rejects the row
  bool numbers = true;          // JSON numbers are parsed too, not only strings
  bool empty_is_null = false;   // "" is null instead of a parse failure
};

// A typed column: missing/null -> null (or a rejection when required); the
// accepted kinds are parsed with `parse`; anything else cannot be coerced.
template <typename T, typename Parse>
Status TypedField(std::string_view field, const Val& v, const TypedSpec& spec, Parse parse,
                  std::optional<T>* out) {
  out->reset();
  switch (v.kind) {
    case Kind::kMissing:
    case Kind::kNull:
      if (spec.required) return InvalidArgumentError(reasons::MissingField(field));
      return Status::Ok();
    case Kind::kString:
    case Kind::kNumber:
      if (v.kind == Kind::kNumber && !spec.numbers) break;
      if (spec.empty_is_null && v.text.empty()) return Status::Ok();
      *out = parse(v.text);
      if (!*out) return NotA(field, v, spec.wanted);
      return Status::Ok();
    default:
      break;
  }
  return WrongKind(field, v, spec.wrong_kind);
}

// An integer column; `required` fields reject when missing or null.
Status IntField(std::string_view field, const Val& v, bool required, std::optional<int64_t>* out) {
  const TypedSpec spec{.wanted = "an integer", .wrong_kind = "an integer", .required = required};
  return TypedField(field, v, spec, ParseInteger, out);
}

Status DoubleField(std::string_view field, const Val& v, std::optional<double>* out) {
  return TypedField(field, v, {.wanted = "a number", .wrong_kind = "a number"}, ParseDouble, out);
}

Status TimestampField(std::string_view field, const Val& v, std::optional<int64_t>* out) {
  const TypedSpec spec{.wanted = "a timestamp",
                       .wrong_kind = "a timestamp string",
                       .numbers = false,
                       .empty_is_null = true};
  return TypedField(
      field, v, spec, [](std::string_view text) { return ParseTimestampMicros(text); }, out);
}

// The records' fields are the source tables' columns (model::Columns), in
// that order; the enums below index them.
enum PinField {
  kIndex,
  kUniqueId,
  kTitle,
  kDescription,
  kPosterName,
  kFollowerCount,
  kTagList,
  kIsImageOrVideo,
  kImageSrc,
  kDownloaded,
  kSaveLocation,
  kCategory
};
enum GeoField { kGeoInd, kTimestamp, kLatitude, kLongitude, kCountry };
enum UserField { kUserInd, kFirstName, kLastName, kAge, kDateJoined };
constexpr size_t kMaxFields = 12;

}  // namespace

struct RecordCleaner::Impl {
  simdjson::ondemand::parser parser;
  std::string padded;
  std::string name_buffer;
  Val vals[kMaxFields];

  // Parses `json` as an object and fills vals[] for the fields in `columns`.
  Status Parse(std::string_view json, size_t readable, std::span<const model::Column> columns) {
    for (auto& v : vals) v = Val{};
    const char* data = json.data();
    size_t capacity = readable;
    if (capacity < json.size() + simdjson::SIMDJSON_PADDING) {
      padded.assign(json.data(), json.size());
      padded.resize(json.size() + simdjson::SIMDJSON_PADDING, '\0');
      data = padded.data();
      capacity = padded.size();
    }
    simdjson::ondemand::document doc;
    if (parser.iterate(data, json.size(), capacity).get(doc)) {
      return InvalidArgumentError(std::string(reasons::kNotValidJson));
    }
    simdjson::ondemand::object object;
    if (doc.get_object().get(object))
      return InvalidArgumentError(std::string(reasons::kNotJsonObject));
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key))
        return InvalidArgumentError(std::string(reasons::kNotValidJson));
      for (size_t i = 0; i < columns.size(); ++i) {
        if (key == columns[i].name) {
          if (ReadVal(field.value(), &vals[i]))
            return InvalidArgumentError(std::string(reasons::kNotValidJson));
          break;
        }
      }
    }
    return Status::Ok();
  }

  // Parse, then the row's required integer key (columns[key], "ind" or "index").
  Status ParseKeyed(std::string_view json, size_t readable, TableKind table, size_t key,
                    int64_t* ind) {
    const std::span<const model::Column> columns = model::Columns(table);
    if (columns.size() > kMaxFields) return InternalError("too many columns");
    PINPIPE_RETURN_IF_ERROR(Parse(json, readable, columns));
    std::optional<int64_t> value;
    PINPIPE_RETURN_IF_ERROR(IntField(columns[key].name, vals[key], true, &value));
    *ind = *value;
    return Status::Ok();
  }
};

RecordCleaner::RecordCleaner() : impl_(std::make_unique<Impl>()) {}
RecordCleaner::~RecordCleaner() = default;

Status RecordCleaner::CleanPin(std::string_view json, PinRow* row, size_t readable) {
  PINPIPE_RETURN_IF_ERROR(impl_->ParseKeyed(json, readable, TableKind::kPin, kIndex, &row->ind));
  const Val* v = impl_->vals;
  std::optional<int64_t> downloaded;
  PINPIPE_RETURN_IF_ERROR(IntField("downloaded", v[kDownloaded], false, &downloaded));
  PINPIPE_RETURN_IF_ERROR(TextField("unique_id", v[kUniqueId], &row->unique_id));
  PINPIPE_RETURN_IF_ERROR(TextField("title", v[kTitle], &row->title));
  PINPIPE_RETURN_IF_ERROR(TextField("description", v[kDescription], &row->description));
  PINPIPE_RETURN_IF_ERROR(TextField("poster_name", v[kPosterName], &row->poster_name));
  PINPIPE_RETURN_IF_ERROR(TextField("tag_list", v[kTagList], &row->tag_list));
  PINPIPE_RETURN_IF_ERROR(
      TextField("is_image_or_video", v[kIsImageOrVideo], &row->is_image_or_video));
  PINPIPE_RETURN_IF_ERROR(TextField("image_src", v[kImageSrc], &row->image_src));
  PINPIPE_RETURN_IF_ERROR(TextField("save_location", v[kSaveLocation], &row->save_location));
  if (row->save_location) {
    std::string_view path = SaveLocationPath(*row->save_location);
    row->save_location = path.empty() ? std::nullopt : std::optional(path);
  }
  PINPIPE_RETURN_IF_ERROR(TextField("category", v[kCategory], &row->category));
  // follower_count never rejects the row: a bad value is a field-level rejection.
  row->follower_count.reset();
  row->follower_count_rejected = false;
  const Val& fc = v[kFollowerCount];
  if (fc.kind == Kind::kString || fc.kind == Kind::kNumber) {
    if (!fc.text.empty() && !IsPlaceholder("follower_count", fc.text)) {
      row->follower_count = ParseFollowerCount(fc.text);
      row->follower_count_rejected = !row->follower_count;
    }
  } else if (fc.kind == Kind::kBool || fc.kind == Kind::kComposite) {
    row->follower_count_rejected = true;
  }
  return Status::Ok();
}

Status RecordCleaner::CleanGeo(std::string_view json, GeoRow* row, size_t readable) {
  PINPIPE_RETURN_IF_ERROR(impl_->ParseKeyed(json, readable, TableKind::kGeo, kGeoInd, &row->ind));
  const Val* v = impl_->vals;
  PINPIPE_RETURN_IF_ERROR(TextField("country", v[kCountry], &row->country));
  PINPIPE_RETURN_IF_ERROR(DoubleField("latitude", v[kLatitude], &row->latitude));
  PINPIPE_RETURN_IF_ERROR(DoubleField("longitude", v[kLongitude], &row->longitude));
  PINPIPE_RETURN_IF_ERROR(TimestampField("timestamp", v[kTimestamp], &row->timestamp));
  return Status::Ok();
}

Status RecordCleaner::CleanUser(std::string_view json, UserRow* row, size_t readable) {
  PINPIPE_RETURN_IF_ERROR(impl_->ParseKeyed(json, readable, TableKind::kUser, kUserInd, &row->ind));
  const Val* v = impl_->vals;
  std::optional<std::string_view> first, last;
  PINPIPE_RETURN_IF_ERROR(TextField("first_name", v[kFirstName], &first));
  PINPIPE_RETURN_IF_ERROR(TextField("last_name", v[kLastName], &last));
  row->user_name = UserName(first, last, &impl_->name_buffer);
  PINPIPE_RETURN_IF_ERROR(IntField("age", v[kAge], false, &row->age));
  PINPIPE_RETURN_IF_ERROR(TimestampField("date_joined", v[kDateJoined], &row->date_joined));
  return Status::Ok();
}

std::vector<std::string> OutputColumns(TableKind kind, ColumnSet set) {
  std::vector<std::string> names;
  for (const CleanedColumn& c : CleanedColumns(kind)) {
    if (set == ColumnSet::kAll || c.queried) names.emplace_back(c.name);
  }
  return names;
}

namespace {

void PutText(frame::Table& t, int index, const std::optional<std::string_view>& v) {
  if (index < 0) return;
  Column& c = t.mutable_column(index);
  if (v) {
    c.AppendString(*v);
  } else {
    c.AppendNull();
  }
}

void PutInt(frame::Table& t, int index, const std::optional<int64_t>& v) {
  if (index < 0) return;
  Column& c = t.mutable_column(index);
  if (v) {
    c.AppendInt64(*v);
  } else {
    c.AppendNull();
  }
}

// Appends a cleaned row to its table: all columns, or the query-only ones
// (OutputColumns).
void AppendRow(const PinRow& row, bool all, frame::Table& t) {
  t.mutable_column(0).AppendInt64(row.ind);
  if (all) {
    PutText(t, 1, row.unique_id);
    PutText(t, 2, row.title);
    PutText(t, 3, row.description);
    PutInt(t, 4, row.follower_count);
    PutText(t, 5, row.poster_name);
    PutText(t, 6, row.tag_list);
    PutText(t, 7, row.is_image_or_video);
    PutText(t, 8, row.image_src);
    PutText(t, 9, row.save_location);
    PutText(t, 10, row.category);
  } else {
    PutInt(t, 1, row.follower_count);
    PutText(t, 2, row.poster_name);
    PutText(t, 3, row.category);
  }
}

void AppendRow(const GeoRow& row, bool all, frame::Table& t) {
  t.mutable_column(0).AppendInt64(row.ind);
  PutText(t, 1, row.country);
  if (all) {
    Column& c = t.mutable_column(2);
    if (row.has_coordinates()) {
      double values[2] = {row.latitude.value_or(0), row.longitude.value_or(0)};
      bool valid[2] = {row.latitude.has_value(), row.longitude.has_value()};
      c.AppendList(values, valid);
    } else {
      c.AppendNull();
    }
    PutInt(t, 3, row.timestamp);
  } else {
    PutInt(t, 2, row.timestamp);
  }
}

void AppendRow(const UserRow& row, bool all, frame::Table& t) {
  t.mutable_column(0).AppendInt64(row.ind);
  if (all) {
    PutText(t, 1, row.user_name);
    PutInt(t, 2, row.age);
    PutInt(t, 3, row.date_joined);
  } else {
    PutInt(t, 1, row.age);
    PutInt(t, 2, row.date_joined);
  }
}

// Cleans one record with `clean` into *row and, if it is kept, appends it to `t`.
template <typename Row>
Status CleanInto(RecordCleaner& cleaner,
                 Status (RecordCleaner::*clean)(std::string_view, Row*, size_t),
                 std::string_view json, size_t readable, bool all, frame::Table& t, Row* row) {
  PINPIPE_RETURN_IF_ERROR((cleaner.*clean)(json, row, readable));
  AppendRow(*row, all, t);
  return Status::Ok();
}

}  // namespace

frame::Table EmptyTable(TableKind kind, ColumnSet set) {
  frame::Table table;
  for (const CleanedColumn& c : CleanedColumns(kind)) {
    if (set == ColumnSet::kAll || c.queried)
      table.AddColumn(std::string(c.name), Column(c.frame_type));
  }
  return table;
}

BatchCleaner::BatchCleaner(ColumnSet set) : set_(set) {
  for (TableKind kind : kAllTables) batch_.tables[static_cast<int>(kind)] = EmptyTable(kind, set);
}

void BatchCleaner::AddRecord(TableKind kind, std::string_view json, std::string_view source,
                             int64_t position) {
  Add(kind, json, 0, source, position);
}

void BatchCleaner::AddLines(TableKind kind, const char* data, size_t size, size_t capacity,
                            std::string_view source) {
  size_t pos = 0;
  int64_t line = 0;
  while (pos < size) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
    size_t end = nl ? static_cast<size_t>(nl - data) : size;
    ++line;
    std::string_view text(data + pos, end - pos);
    bool blank = true;
    for (char c : text) {
      if (c != ' ' && c != '\t' && c != '\r') {
        blank = false;
        break;
      }
    }
    if (!blank) Add(kind, text, capacity - pos, source, line);
    pos = end + 1;
  }
}

void BatchCleaner::AddReject(TableKind kind, std::string_view json, std::string_view source,
                             int64_t position, std::string reason, bool row_kept) {
  Reject r;
  r.table = kind;
  r.source = std::string(source);
  r.position = position;
  r.reason = std::move(reason);
  size_t cut = std::min<size_t>(json.size(), 1000);
  // Do not split a UTF-8 sequence.
  while (cut < json.size() && cut > 0 && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  r.record = std::string(json.substr(0, cut));
  r.row_kept = row_kept;
  batch_.rejects.push_back(std::move(r));
}

void BatchCleaner::Add(TableKind kind, std::string_view json, size_t readable,
                       std::string_view source, int64_t position) {
  int k = static_cast<int>(kind);
  ++batch_.records[k];
  frame::Table& t = batch_.tables[k];
  const bool all = set_ == ColumnSet::kAll;
  Status status;
  switch (kind) {
    case TableKind::kPin: {
      PinRow row;
      status = CleanInto(cleaner_, &RecordCleaner::CleanPin, json, readable, all, t, &row);
      if (status.ok() && row.follower_count_rejected) {
        ++batch_.follower_count_rejected;
        AddReject(kind, json, source, position, std::string(reasons::kFollowerCount), true);
      }
      break;
    }
    case TableKind::kGeo: {
      GeoRow row;
      status = CleanInto(cleaner_, &RecordCleaner::CleanGeo, json, readable, all, t, &row);
      break;
    }
    case TableKind::kUser: {
      UserRow row;
      status = CleanInto(cleaner_, &RecordCleaner::CleanUser, json, readable, all, t, &row);
      break;
    }
  }
  if (!status.ok()) {
    ++batch_.rejected[k];
    AddReject(kind, json, source, position, status.message(), false);
  }
}

void BatchCleaner::RejectUnreadable(TableKind kind, std::string_view source, int64_t position,
                                    std::string reason) {
  int k = static_cast<int>(kind);
  ++batch_.records[k];
  ++batch_.rejected[k];
  AddReject(kind, std::string_view(), source, position, std::move(reason), false);
}

CleanedBatch BatchCleaner::Take() {
  CleanedBatch out = std::move(batch_);
  batch_ = CleanedBatch();
  for (TableKind kind : kAllTables) batch_.tables[static_cast<int>(kind)] = EmptyTable(kind, set_);
  return out;
}

bool BatchCleaner::Reuse(TableKind kind, frame::Table table) {
  frame::Table& current = batch_.tables[static_cast<int>(kind)];
  if (current.num_rows() != 0 || table.names() != current.names()) return false;
  for (size_t c = 0; c < table.num_columns(); ++c) {
    if (table.column(c).type() != current.column(c).type()) return false;
  }
  table.ClearRows();
  current = std::move(table);
  return true;
}

int64_t DropDuplicates(frame::Table* table) {
  int index = table->Find("ind");
  if (index < 0 || table->num_rows() == 0) return 0;
  const Column& ind = table->column(index);
  size_t n = ind.size();
  std::vector<uint32_t> keep;
  keep.reserve(n);
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t r = 0; r < n; ++r) {
    if (ind.IsNull(r)) continue;
    lo = std::min(lo, ind.Int64At(r));
    hi = std::max(hi, ind.Int64At(r));
  }
  // Dense keys (the usual 0..rows-1) use a bitmap; sparse keys a hash set.
  if (lo <= hi && static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) < 8 * n + 4096) {
    std::vector<bool> seen(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1);
    for (size_t r = 0; r < n; ++r) {
      if (ind.IsNull(r)) continue;
      uint64_t k = static_cast<uint64_t>(ind.Int64At(r)) - static_cast<uint64_t>(lo);
      if (!seen[k]) {
        seen[k] = true;
        keep.push_back(static_cast<uint32_t>(r));
      }
    }
  } else {
    Deduper dedup;
    for (size_t r = 0; r < n; ++r) {
      if (!ind.IsNull(r) && dedup.FirstTime(ind.Int64At(r)))
        keep.push_back(static_cast<uint32_t>(r));
    }
  }
  int64_t dropped = static_cast<int64_t>(n - keep.size());
  if (dropped > 0) *table = frame::TakeRows(*table, keep);
  return dropped;
}

}  // namespace pinpipe::clean
