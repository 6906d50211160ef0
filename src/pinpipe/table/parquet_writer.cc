#include "pinpipe/table/parquet_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>

#include "pinpipe/table/encoding.h"

namespace pinpipe::table {

using parquet::ColumnChunk;
using parquet::SchemaElement;

Result<Codec> ParseCodec(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "snappy") return Codec::kSnappy;
  if (n == "zstd") return Codec::kZstd;
  if (n == "uncompressed" || n == "none") return Codec::kUncompressed;
  return InvalidArgumentError("unknown parquet codec '" + std::string(name) +
                              "' (use snappy, zstd or uncompressed)");
}

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kUncompressed:
      return "uncompressed";
    case Codec::kSnappy:
      return "snappy";
    case Codec::kZstd:
      return "zstd";
  }
  return "?";
}

namespace {

parquet::CompressionCodec ToThrift(Codec c) {
  switch (c) {
    case Codec::kSnappy:
      return parquet::kSnappy;
    case Codec::kZstd:
      return parquet::kZstd;
    default:
      return parquet::kUncompressed;
  }
}

struct LeafSpec {
  std::vector<std::string> path;
  int32_t physical = parquet::kInt64;
  int max_def = 0;
  int max_rep = 0;
};

// One column chunk's entries: levels (absent when the max level is 0) and
// the values of the entries whose definition level is the maximum, densely.
struct LeafInput {
  const uint8_t* def = nullptr;
  const uint8_t* rep = nullptr;
  size_t num_entries = 0;
  size_t num_values = 0;
  const uint8_t* b = nullptr;
  const int32_t* i32 = nullptr;
  const int64_t* i64 = nullptr;
  const double* f64 = nullptr;
  const std::string_view* str = nullptr;
  // Strings given as codes into a dictionary instead of `str`: value i is
  // code_dict[codes[i]].
  const int32_t* codes = nullptr;
  const std::string_view* code_dict = nullptr;
  size_t code_dict_size = 0;
};

struct ChunkStats {
  bool has = false;
  int64_t imin = 0, imax = 0;
  double dmin = 0, dmax = 0;
  std::string_view smin, smax;
  int64_t nulls = 0;
};

ChunkStats ComputeStats(int32_t physical, const LeafInput& in) {
  ChunkStats s;
  s.nulls = static_cast<int64_t>(in.num_entries - in.num_values);
  size_t n = in.num_values;
  if (n == 0) return s;
  switch (physical) {
    case parquet::kBoolean: {
      uint8_t mn = 1, mx = 0;
      for (size_t i = 0; i < n; ++i) {
        mn = std::min(mn, in.b[i]);
        mx = std::max(mx, in.b[i]);
      }
      s.has = true;
      s.imin = mn;
      s.imax = mx;
      break;
    }
    case parquet::kInt32: {
      auto [mn, mx] = std::minmax_element(in.i32, in.i32 + n);
      s.has = true;
      s.imin = *mn;
      s.imax = *mx;
      break;
    }
    case parquet::kInt64: {
      int64_t mn = in.i64[0], mx = in.i64[0];
      for (size_t i = 1; i < n; ++i) {
        mn = std::min(mn, in.i64[i]);
        mx = std::max(mx, in.i64[i]);
      }
      s.has = true;
      s.imin = mn;
      s.imax = mx;
      break;
    }
    case parquet::kDouble: {
      bool any = false;
      double mn = 0, mx = 0;
      for (size_t i = 0; i < n; ++i) {
        double v = in.f64[i];
        if (std::isnan(v)) continue;  // NaN is excluded from min/max (parquet-format)
        if (!any) {
          mn = mx = v;
          any = true;
        } else {
          mn = std::min(mn, v);
          mx = std::max(mx, v);
        }
      }
      if (any) {
        s.has = true;
        s.dmin = mn == 0 ? -0.0 : mn;
        s.dmax = mx == 0 ? 0.0 : mx;
      }
      break;
    }
    case parquet::kByteArray: {
      std::string_view mn = in.str[0], mx = in.str[0];
      for (size_t i = 1; i < n; ++i) {
        // string_view compares as unsigned bytes (char_traits<char>::compare uses memcmp).
        if (in.str[i] < mn) mn = in.str[i];
        if (in.str[i] > mx) mx = in.str[i];
      }
      s.has = true;
      s.smin = mn;
      s.smax = mx;
      break;
    }
  }
  return s;
}

template <typename T>
std::string RawBytes(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}

parquet::Statistics ToThriftStats(int32_t physical, const ChunkStats& s) {
  parquet::Statistics t;
  t.null_count = s.nulls;
  if (!s.has) return t;
  t.has_min = t.has_max = true;
  switch (physical) {
    case parquet::kBoolean:
      t.min_value = std::string(1, static_cast<char>(s.imin));
      t.max_value = std::string(1, static_cast<char>(s.imax));
      break;
    case parquet::kInt32:
      t.min_value = RawBytes(static_cast<int32_t>(s.imin));
      t.max_value = RawBytes(static_cast<int32_t>(s.imax));
      break;
    case parquet::kInt64:
      t.min_value = RawBytes(s.imin);
      t.max_value = RawBytes(s.imax);
      break;
    case parquet::kDouble:
      t.min_value = RawBytes(s.dmin);
      t.max_value = RawBytes(s.dmax);
      break;
    case parquet::kByteArray:
      t.min_value = std::string(s.smin);
      t.max_value = std::string(s.smax);
      break;
  }
  return t;
}

void PutU32(uint32_t v, std::string* out) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

// PLAIN-encodes values [begin, end) of `in`.
void EncodePlain(int32_t physical, const LeafInput& in, size_t begin, size_t end,
                 std::string* out) {
  size_t n = end - begin;
  switch (physical) {
    case parquet::kBoolean: {
      size_t start = out->size();
      out->resize(start + (n + 7) / 8, 0);
      auto* p = reinterpret_cast<uint8_t*>(out->data() + start);
      for (size_t i = 0; i < n; ++i) {
        if (in.b[begin + i]) p[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
      }
      break;
    }
    case parquet::kInt32:
      out->append(reinterpret_cast<const char*>(in.i32 + begin), n * 4);
      break;
    case parquet::kInt64:
      out->append(reinterpret_cast<const char*>(in.i64 + begin), n * 8);
      break;
    case parquet::kDouble:
      out->append(reinterpret_cast<const char*>(in.f64 + begin), n * 8);
      break;
    case parquet::kByteArray: {
      size_t total = 0;
      for (size_t i = begin; i < end; ++i) total += 4 + in.str[i].size();
      size_t pos = out->size();
      out->resize(pos + total);
      char* p = out->data() + pos;
      for (size_t i = begin; i < end; ++i) {
        uint32_t len = static_cast<uint32_t>(in.str[i].size());
        std::memcpy(p, &len, 4);
        std::memcpy(p + 4, in.str[i].data(), len);
        p += 4 + len;
      }
      break;
    }
  }
}

size_t ValueWidth(int32_t physical) {
  switch (physical) {
    case parquet::kInt32:
      return 4;
    case parquet::kBoolean:
      return 1;
    default:
      return 8;
  }
}

// Writes one page (header + body compressed with the chunk's codec) and
// accounts its sizes. `scratch` holds the compressed body; it only grows, so
// that it is neither reallocated nor cleared page after page. With `probe`
// (a chunk's first page), a body that compresses by less than `min_saving`
// (a fraction) is written as it is and the chunk becomes UNCOMPRESSED.
Status WritePage(parquet::PageHeader header, std::string_view body, int level, bool probe,
                 double min_saving, std::string* scratch, std::string* out, ColumnChunk* cc) {
  std::string_view compressed = body;
  const auto codec = static_cast<parquet::CompressionCodec>(cc->meta_data.codec);
  if (codec != parquet::kUncompressed) {
    const size_t cap = MaxCompressedSize(codec, body.size());
    if (scratch->size() < cap) scratch->resize(cap);
    PINPIPE_ASSIGN_OR_RETURN(size_t n,
                             CompressTo(codec, level, body, scratch->data(), scratch->size()));
    compressed = std::string_view(scratch->data(), n);
    if (probe && static_cast<double>(n) > static_cast<double>(body.size()) * (1 - min_saving)) {
      compressed = body;
      cc->meta_data.codec = parquet::kUncompressed;
    }
  }
  header.uncompressed_page_size = static_cast<int32_t>(body.size());
  header.compressed_page_size = static_cast<int32_t>(compressed.size());
  size_t before = out->size();
  parquet::SerializePageHeader(header, out);
  size_t header_size = out->size() - before;
  out->append(compressed);
  cc->meta_data.total_uncompressed_size += static_cast<int64_t>(header_size + body.size());
  cc->meta_data.total_compressed_size += static_cast<int64_t>(header_size + compressed.size());
  return Status::Ok();
}

}  // namespace

// Buffers of WriteColumnChunk kept from one column chunk to the next.
struct ChunkBuffers {
  std::string body;     // one page, uncompressed
  std::string scratch;  // one page, compressed (see WritePage)
  std::vector<uint32_t> indices;
  std::vector<std::string_view> dict;
  std::vector<uint32_t> remap;             // caller's dictionary code -> index in `dict`
  std::vector<std::string_view> expanded;  // coded strings as values, when PLAIN
  // A column's leaf gathered for WriteColumnChunk (EncodeRowGroup, WriteRowGroup).
  std::vector<uint8_t> def, rep, b;
  std::vector<uint8_t> row_def;  // WriteRowGroup: 1 for each row that is not null
  std::vector<int32_t> i32, codes;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<std::string_view> views, code_dict;
};

namespace {

// `compress` false: the chunk is written UNCOMPRESSED whatever opts.codec is.
Status WriteColumnChunk(const LeafSpec& spec, LeafInput in, const WriterOptions& opts,
                        bool compress, ChunkBuffers* buffers, std::string* out, ColumnChunk* cc,
                        ChunkStats* stats) {
  auto& md = cc->meta_data;
  md.type = spec.physical;
  md.path_in_schema = spec.path;
  md.codec = compress ? ToThrift(opts.codec) : parquet::kUncompressed;
  // Whether the next page is the chunk's first, which decides its codec.
  bool probe = opts.min_compression_saving > 0;
  md.num_values = static_cast<int64_t>(in.num_entries);
  cc->file_offset = static_cast<int64_t>(out->size());

  // Dictionary: only for strings, and only when it pays off.
  bool use_dict = false;
  std::vector<uint32_t>& indices = buffers->indices;
  std::vector<std::string_view>& dict = buffers->dict;
  dict.clear();
  if (opts.dictionary && in.codes != nullptr && in.num_values > 0) {
    // The caller's dictionary: entries in order of first use, without hashing.
    use_dict = true;
    std::vector<uint32_t>& remap = buffers->remap;
    remap.assign(in.code_dict_size, UINT32_MAX);
    indices.resize(in.num_values);
    int64_t dict_bytes = 0;
    for (size_t i = 0; i < in.num_values; ++i) {
      const auto code = static_cast<uint32_t>(in.codes[i]);
      if (remap[code] == UINT32_MAX) {
        remap[code] = static_cast<uint32_t>(dict.size());
        dict.push_back(in.code_dict[code]);
        dict_bytes += 4 + static_cast<int64_t>(in.code_dict[code].size());
        if (dict_bytes > opts.dictionary_page_bytes) {
          use_dict = false;
          break;
        }
      }
      indices[i] = remap[code];
    }
    if (use_dict && dict.size() * 2 > in.num_values && in.num_values > 16) use_dict = false;
  } else if (opts.dictionary && spec.physical == parquet::kByteArray && in.num_values > 0) {
    use_dict = true;
    std::unordered_map<std::string_view, uint32_t> map;
    map.reserve(std::min<size_t>(in.num_values, 4096));
    indices.resize(in.num_values);
    int64_t dict_bytes = 0;
    for (size_t i = 0; i < in.num_values; ++i) {
      auto [it, inserted] = map.try_emplace(in.str[i], static_cast<uint32_t>(dict.size()));
      if (inserted) {
        dict.push_back(in.str[i]);
        dict_bytes += 4 + static_cast<int64_t>(in.str[i].size());
        // Mostly distinct values, or a dictionary too large: PLAIN is better.
        if (dict_bytes > opts.dictionary_page_bytes ||
            (i >= 1024 && dict.size() * 4 > (i + 1) * 3)) {
          use_dict = false;
          break;
        }
      }
      indices[i] = it->second;
    }
    if (use_dict && dict.size() * 2 > in.num_values && in.num_values > 16) use_dict = false;
  }
  if (!use_dict && in.codes != nullptr) {
    // PLAIN after all: the values themselves.
    dict.clear();
    std::vector<std::string_view>& expanded = buffers->expanded;
    expanded.resize(in.num_values);
    for (size_t i = 0; i < in.num_values; ++i) expanded[i] = in.code_dict[in.codes[i]];
    in.str = expanded.data();
    in.codes = nullptr;
  }
  if (use_dict) {
    // The values' min and max are the dictionary's.
    LeafInput d;
    d.str = dict.data();
    d.num_values = d.num_entries = dict.size();
    *stats = ComputeStats(spec.physical, d);
    stats->nulls = static_cast<int64_t>(in.num_entries - in.num_values);
  } else {
    *stats = ComputeStats(spec.physical, in);
  }
  md.statistics = ToThriftStats(spec.physical, *stats);

  std::string& body = buffers->body;
  std::string& scratch = buffers->scratch;
  body.clear();
  std::vector<int32_t> encodings;
  if (use_dict) {
    LeafInput d;
    d.str = dict.data();
    d.num_values = dict.size();
    EncodePlain(parquet::kByteArray, d, 0, dict.size(), &body);
    parquet::PageHeader h;
    h.type = parquet::kDictionaryPage;
    h.num_values = static_cast<int32_t>(dict.size());
    h.encoding = opts.legacy_dictionary_encoding ? parquet::kPlainDictionary : parquet::kPlain;
    md.dictionary_page_offset = static_cast<int64_t>(out->size());
    PINPIPE_RETURN_IF_ERROR(
        WritePage(h, body, opts.zstd_level, probe, opts.min_compression_saving, &scratch, out, cc));
    probe = false;
    encodings.push_back(h.encoding);
  }
  md.data_page_offset = static_cast<int64_t>(out->size());

  // Entries per page from the average encoded size of an entry.
  size_t value_bytes = 0;
  if (use_dict) {
    value_bytes = in.num_values;  // about a byte per index
  } else if (spec.physical == parquet::kByteArray) {
    for (size_t i = 0; i < in.num_values; ++i) value_bytes += 4 + in.str[i].size();
  } else {
    value_bytes = in.num_values * ValueWidth(spec.physical);
  }
  size_t per_entry = std::max<size_t>(1, value_bytes / std::max<size_t>(1, in.num_entries));
  size_t page_entries = std::max<size_t>(64, static_cast<size_t>(opts.page_bytes) / per_entry);
  const int def_bw = BitWidth(spec.max_def);
  const int rep_bw = BitWidth(spec.max_rep);
  const int dict_bw = std::max(1, BitWidth(dict.empty() ? 0 : dict.size() - 1));

  size_t entry = 0, value = 0;
  do {
    size_t end = std::min(in.num_entries, entry + page_entries);
    // A page starts at a row boundary (repetition level 0).
    while (spec.max_rep > 0 && end < in.num_entries && in.rep[end] != 0) ++end;
    size_t values_in_page = end - entry;
    body.clear();
    if (spec.max_rep > 0) {
      size_t len_pos = body.size();
      PutU32(0, &body);
      RleEncode(in.rep + entry, end - entry, rep_bw, &body);
      uint32_t len = static_cast<uint32_t>(body.size() - len_pos - 4);
      std::memcpy(body.data() + len_pos, &len, 4);
    }
    if (spec.max_def > 0) {
      size_t len_pos = body.size();
      PutU32(0, &body);
      RleEncode(in.def + entry, end - entry, def_bw, &body);
      uint32_t len = static_cast<uint32_t>(body.size() - len_pos - 4);
      std::memcpy(body.data() + len_pos, &len, 4);
      values_in_page = 0;
      for (size_t i = entry; i < end; ++i) values_in_page += in.def[i] == spec.max_def;
    }
    parquet::PageHeader h;
    h.type = parquet::kDataPage;
    h.num_values = static_cast<int32_t>(end - entry);
    if (use_dict) {
      body.push_back(static_cast<char>(dict_bw));
      RleEncode(indices.data() + value, values_in_page, dict_bw, &body);
      h.encoding =
          opts.legacy_dictionary_encoding ? parquet::kPlainDictionary : parquet::kRleDictionary;
    } else {
      EncodePlain(spec.physical, in, value, value + values_in_page, &body);
      h.encoding = parquet::kPlain;
    }
    PINPIPE_RETURN_IF_ERROR(
        WritePage(h, body, opts.zstd_level, probe, opts.min_compression_saving, &scratch, out, cc));
    probe = false;
    entry = end;
    value += values_in_page;
  } while (entry < in.num_entries);

  encodings.push_back(use_dict ? (opts.legacy_dictionary_encoding ? parquet::kPlainDictionary
                                                                  : parquet::kRleDictionary)
                               : parquet::kPlain);
  if (spec.max_def > 0 || spec.max_rep > 0) encodings.push_back(parquet::kRle);
  std::sort(encodings.begin(), encodings.end());
  encodings.erase(std::unique(encodings.begin(), encodings.end()), encodings.end());
  md.encodings = std::move(encodings);
  return Status::Ok();
}

// Accumulates the leaf data of whole files / row groups for the generic path.
struct LeafBuffer {
  std::vector<uint8_t> def, rep;
  size_t entries = 0;
  std::vector<uint8_t> b;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<std::string> strings;
  std::vector<std::string_view> views;

  LeafInput View(const LeafSpec& spec) {
    LeafInput in;
    in.num_entries = entries;
    in.def = spec.max_def > 0 ? def.data() : nullptr;
    in.rep = spec.max_rep > 0 ? rep.data() : nullptr;
    switch (spec.physical) {
      case parquet::kBoolean:
        in.b = b.data();
        in.num_values = b.size();
        break;
      case parquet::kInt32:
        in.i32 = i32.data();
        in.num_values = i32.size();
        break;
      case parquet::kInt64:
        in.i64 = i64.data();
        in.num_values = i64.size();
        break;
      case parquet::kDouble:
        in.f64 = f64.data();
        in.num_values = f64.size();
        break;
      default:
        views.assign(strings.begin(), strings.end());
        in.str = views.data();
        in.num_values = views.size();
    }
    return in;
  }
};

void AppendSchemaElements(const Field& f, std::vector<SchemaElement>* out, LeafSpec* spec) {
  SchemaElement e;
  e.name = f.name;
  e.repetition = f.nullable ? parquet::kOptional : parquet::kRequired;
  spec->path = {f.name};
  spec->max_def = f.nullable ? 1 : 0;
  switch (f.type) {
    case ColumnType::kBoolean:
      e.type = parquet::kBoolean;
      break;
    case ColumnType::kInt32:
      e.type = parquet::kInt32;
      break;
    case ColumnType::kInt64:
      e.type = parquet::kInt64;
      break;
    case ColumnType::kDouble:
      e.type = parquet::kDouble;
      break;
    case ColumnType::kString:
      e.type = parquet::kByteArray;
      e.converted_type = parquet::kUtf8;
      e.logical = parquet::kStringLogical;
      break;
    case ColumnType::kTimestampMicros:
      e.type = parquet::kInt64;
      e.converted_type = parquet::kTimestampMicros;
      e.logical = parquet::kTimestampLogical;
      e.ts_adjusted_to_utc = true;
      e.ts_unit = 2;
      break;
    case ColumnType::kDoubleList: {
      e.num_children = 1;
      e.converted_type = parquet::kList;
      e.logical = parquet::kListLogical;
      out->push_back(e);
      SchemaElement list;
      list.name = "list";
      list.repetition = parquet::kRepeated;
      list.num_children = 1;
      out->push_back(list);
      SchemaElement elem;
      elem.name = "element";
      elem.repetition = parquet::kOptional;
      elem.type = parquet::kDouble;
      out->push_back(elem);
      spec->path = {f.name, "list", "element"};
      spec->physical = parquet::kDouble;
      spec->max_def = spec->max_def + 2;
      spec->max_rep = 1;
      return;
    }
  }
  spec->physical = e.type;
  out->push_back(e);
}

void MergeStats(ColumnType type, const ChunkStats& s, ColumnStats* c) {
  if (!s.has || type == ColumnType::kDoubleList) return;
  if (!c->has_min_max) {
    c->has_min_max = true;
    c->min_int = s.imin;
    c->max_int = s.imax;
    c->min_double = s.dmin;
    c->max_double = s.dmax;
    c->min_string = s.smin;
    c->max_string = s.smax;
    return;
  }
  c->min_int = std::min(c->min_int, s.imin);
  c->max_int = std::max(c->max_int, s.imax);
  c->min_double = std::min(c->min_double, s.dmin);
  c->max_double = std::max(c->max_double, s.dmax);
  if (s.smin < c->min_string) c->min_string = s.smin;
  if (s.smax > c->max_string) c->max_string = s.smax;
}

void FinishFile(parquet::FileMetaData* meta, std::string* out) {
  size_t start = out->size();
  parquet::SerializeFileMetaData(*meta, out);
  PutU32(static_cast<uint32_t>(out->size() - start), out);
  out->append("PAR1");
}

}  // namespace

ParquetWriter::ParquetWriter(Schema schema, WriterOptions options)
    : schema_(std::move(schema)),
      options_(std::move(options)),
      pending_(schema_),
      buffers_(std::make_unique<ChunkBuffers>()) {
  out_ = "PAR1";
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(schema_.fields.size());
  meta_.schema.push_back(root);
  for (const Field& f : schema_.fields) {
    LeafSpec unused;
    AppendSchemaElements(f, &meta_.schema, &unused);
  }
  meta_.created_by = options_.created_by;
  stats_.resize(schema_.fields.size());
  uncompressed_left_.resize(schema_.fields.size());
}

ParquetWriter::~ParquetWriter() = default;

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Create(Schema schema, WriterOptions options) {
  if (schema.fields.empty()) return InvalidArgumentError("parquet: schema has no fields");
  std::set<std::string> names;
  for (const Field& f : schema.fields) {
    if (f.name.empty()) return InvalidArgumentError("parquet: empty field name");
    if (!names.insert(f.name).second) {
      return InvalidArgumentError("parquet: duplicate field name " + f.name);
    }
  }
  return std::unique_ptr<ParquetWriter>(new ParquetWriter(std::move(schema), std::move(options)));
}

Status ParquetWriter::Write(const RecordBatch& batch) { return WriteImpl(batch, false); }

Status ParquetWriter::WriteRowGroups(const RecordBatch& batch) { return WriteImpl(batch, true); }

Status ParquetWriter::WriteImpl(const RecordBatch& batch, bool end_row_group) {
  if (finished_) return FailedPreconditionError("parquet: writer already finished");
  if (!(batch.schema == schema_)) return InvalidArgumentError("parquet: batch schema differs");
  PINPIPE_RETURN_IF_ERROR(batch.Validate());
  size_t rows = batch.num_rows();
  if (rows == 0) return Status::Ok();
  size_t bytes = batch.ByteSize();
  size_t per_row = std::max<size_t>(1, bytes / rows);
  size_t begin = 0;
  if (pending_.num_rows() == 0) {
    // Whole row groups straight from the caller's batch, without a copy.
    size_t group_rows =
        std::max<size_t>(1, static_cast<size_t>(options_.row_group_bytes) / per_row);
    while (rows - begin >= group_rows || (end_row_group && begin < rows)) {
      size_t take = std::min(group_rows, rows - begin);
      PINPIPE_RETURN_IF_ERROR(EncodeRowGroup(batch, begin, begin + take));
      begin += take;
    }
  }
  while (begin < rows) {
    size_t room = static_cast<size_t>(
        std::max<int64_t>(0, options_.row_group_bytes - static_cast<int64_t>(pending_.ByteSize())));
    size_t take = std::clamp<size_t>(room / per_row, 1, rows - begin);
    for (size_t c = 0; c < pending_.columns.size(); ++c) {
      pending_.columns[c].AppendFrom(batch.columns[c], begin, begin + take);
    }
    begin += take;
    if (static_cast<int64_t>(pending_.ByteSize()) >= options_.row_group_bytes) {
      PINPIPE_RETURN_IF_ERROR(FlushRowGroup());
    }
  }
  if (end_row_group) PINPIPE_RETURN_IF_ERROR(FlushRowGroup());
  return Status::Ok();
}

Status ParquetWriter::FlushRowGroup() {
  PINPIPE_RETURN_IF_ERROR(EncodeRowGroup(pending_, 0, pending_.num_rows()));
  pending_ = RecordBatch(schema_);
  return Status::Ok();
}

template <typename Gather>
Status ParquetWriter::EncodeLeaves(size_t rows, Gather gather) {
  if (rows == 0) return Status::Ok();
  parquet::RowGroup rg;
  rg.num_rows = static_cast<int64_t>(rows);
  const int64_t base = taken_;  // WriteColumnChunk's offsets are relative to out_
  rg.file_offset = base + static_cast<int64_t>(out_.size());
  rg.ordinal = static_cast<int32_t>(meta_.row_groups.size());
  ChunkBuffers& b = *buffers_;
  for (size_t c = 0; c < schema_.fields.size(); ++c) {
    const Field& f = schema_.fields[c];
    std::vector<SchemaElement> unused;
    LeafSpec spec;
    AppendSchemaElements(f, &unused, &spec);
    LeafInput in;
    in.num_entries = rows;
    size_t nulls = 0;  // null rows
    PINPIPE_RETURN_IF_ERROR(gather(c, f, &b, &in, &nulls));
    ColumnChunk cc;
    ChunkStats cs;
    // A column whose pages did not compress enough is written uncompressed
    // for the next kUncompressedRowGroups row groups, then tried again.
    const bool compress = uncompressed_left_[c] == 0;
    PINPIPE_RETURN_IF_ERROR(WriteColumnChunk(spec, in, options_, compress, &b, &out_, &cc, &cs));
    if (!compress) {
      --uncompressed_left_[c];
    } else if (options_.codec != Codec::kUncompressed &&
               cc.meta_data.codec == parquet::kUncompressed) {
      uncompressed_left_[c] = kUncompressedRowGroups;
    }
    cc.file_offset += base;
    cc.meta_data.data_page_offset += base;
    if (cc.meta_data.dictionary_page_offset >= 0) cc.meta_data.dictionary_page_offset += base;
    // File-level stats for Delta: string bounds must outlive the pending batch.
    MergeStats(f.type, cs, &stats_[c]);
    stats_[c].null_count += static_cast<int64_t>(nulls);
    rg.total_byte_size += cc.meta_data.total_uncompressed_size;
    rg.columns.push_back(std::move(cc));
  }
  rg.total_compressed_size = base + static_cast<int64_t>(out_.size()) - rg.file_offset;
  meta_.num_rows += rg.num_rows;
  num_rows_ += rg.num_rows;
  meta_.row_groups.push_back(std::move(rg));
  return Status::Ok();
}

namespace {

// The list levels of one row: null list d=0 (nullable only), empty list
// d=base, element null d=base+1, element d=base+2; rep 0 at a row's first entry.
template <typename ElementNull>
void AppendListLevels(bool null, size_t lb, size_t le, uint8_t base, const double* values,
                      ElementNull element_null, ChunkBuffers* b) {
  if (null || lb == le) {
    b->def.push_back(null ? 0 : base);
    b->rep.push_back(0);
    return;
  }
  for (size_t k = lb; k < le; ++k) {
    b->rep.push_back(k == lb ? 0 : 1);
    if (element_null(k)) {
      b->def.push_back(base + 1);
    } else {
      b->def.push_back(base + 2);
      b->f64.push_back(values[k]);
    }
  }
}

void PointAtList(ChunkBuffers* b, LeafInput* in) {
  in->def = b->def.data();
  in->rep = b->rep.data();
  in->num_entries = b->def.size();
  in->num_values = b->f64.size();
  in->f64 = b->f64.data();
}

// Densely the values of the non-null rows [begin, end) of `values`.
template <typename T>
const T* DenseValues(const std::vector<T>& values, const Column& col, size_t begin, size_t end,
                     bool has_nulls, std::vector<T>* dense) {
  if (!has_nulls) return values.data() + begin;
  dense->clear();
  for (size_t i = begin; i < end; ++i) {
    if (!col.IsNull(i)) dense->push_back(values[i]);
  }
  return dense->data();
}

bool Bit(const uint64_t* words, size_t i) { return (words[i >> 6] >> (i & 63)) & 1; }

// Densely the values of the non-null rows `rows` of `values`.
template <typename T>
const T* GatherValues(const T* values, const uint8_t* def, std::span<const uint32_t> rows,
                      std::vector<T>* dense) {
  dense->clear();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (def[i]) dense->push_back(values[rows[i]]);
  }
  return dense->data();
}

}  // namespace

Status ParquetWriter::EncodeRowGroup(const RecordBatch& src, size_t begin, size_t end) {
  return EncodeLeaves(
      end - begin, [&](size_t c, const Field& f, ChunkBuffers* b, LeafInput* in, size_t* nulls) {
        const Column& col = src.columns[c];
        *nulls = static_cast<size_t>(
            std::count(col.valid().begin() + begin, col.valid().begin() + end, uint8_t{0}));
        const bool has_nulls = *nulls > 0;
        if (f.nullable) in->def = col.valid().data() + begin;  // 0/1 per row is the def level
        in->num_values = end - begin - *nulls;
        switch (f.type) {
          case ColumnType::kBoolean:
            in->b = DenseValues(col.fixed8(), col, begin, end, has_nulls, &b->b);
            break;
          case ColumnType::kInt32:
            in->i32 = DenseValues(col.i32(), col, begin, end, has_nulls, &b->i32);
            break;
          case ColumnType::kInt64:
          case ColumnType::kTimestampMicros:
            in->i64 = DenseValues(col.i64(), col, begin, end, has_nulls, &b->i64);
            break;
          case ColumnType::kDouble:
            in->f64 = DenseValues(col.f64(), col, begin, end, has_nulls, &b->f64);
            break;
          case ColumnType::kString:
            b->views.clear();
            b->views.reserve(in->num_values);
            for (size_t i = begin; i < end; ++i) {
              if (!col.IsNull(i)) b->views.push_back(col.GetString(i));
            }
            in->str = b->views.data();
            break;
          case ColumnType::kDoubleList: {
            const uint8_t base = f.nullable ? 1 : 0;
            b->def.clear();
            b->rep.clear();
            b->f64.clear();
            for (size_t i = begin; i < end; ++i) {
              AppendListLevels(
                  col.IsNull(i), col.ListBegin(i), col.ListEnd(i), base, col.f64().data(),
                  [&](size_t k) { return col.ListValueIsNull(k); }, b);
            }
            PointAtList(b, in);
            break;
          }
        }
        return Status::Ok();
      });
}

Status ParquetWriter::WriteRowGroup(std::span<const ColumnView> columns,
                                    std::span<const uint32_t> rows) {
  if (finished_) return FailedPreconditionError("parquet: writer already finished");
  if (columns.size() != schema_.fields.size()) {
    return InvalidArgumentError(fmt::format("parquet: {} columns for a schema of {} fields",
                                            columns.size(), schema_.fields.size()));
  }
  // Checked before anything is encoded, so that a refused call leaves the file as it was.
  const uint32_t max_row = rows.empty() ? 0 : *std::max_element(rows.begin(), rows.end());
  for (size_t c = 0; c < columns.size() && !rows.empty(); ++c) {
    const ColumnView& v = columns[c];
    const Field& f = schema_.fields[c];
    if (max_row >= v.size) {
      return InvalidArgumentError(
          fmt::format("parquet: row {} is past column {}'s {} rows", max_row, f.name, v.size));
    }
    if (!f.nullable && v.valid != nullptr) {
      for (uint32_t r : rows) {
        if (!Bit(v.valid, r)) {
          return InvalidArgumentError("parquet: column " + f.name +
                                      " is not nullable but has nulls");
        }
      }
    }
    if (f.type == ColumnType::kString && v.codes != nullptr) {
      for (uint32_t r : rows) {
        const int32_t code = v.codes[r];
        if ((v.valid == nullptr || Bit(v.valid, r)) &&
            (code < 0 || static_cast<size_t>(code) >= v.dict_size)) {
          return InvalidArgumentError(
              fmt::format("parquet: column {} has code {} outside its dictionary of {} entries",
                          f.name, code, v.dict_size));
        }
      }
    }
  }
  if (pending_.num_rows() > 0) PINPIPE_RETURN_IF_ERROR(FlushRowGroup());
  return EncodeLeaves(rows.size(), [&](size_t c, const Field& f, ChunkBuffers* b, LeafInput* in,
                                       size_t* nulls) {
    const ColumnView& v = columns[c];
    const size_t n = rows.size();
    // Definition levels of the rows (also when not nullable: they find the nulls).
    std::vector<uint8_t>& row_def = b->row_def;
    row_def.resize(n);
    if (v.valid == nullptr) {
      std::fill(row_def.begin(), row_def.end(), uint8_t{1});
    } else {
      for (size_t i = 0; i < n; ++i) row_def[i] = Bit(v.valid, rows[i]);
    }
    *nulls = n - static_cast<size_t>(std::count(row_def.begin(), row_def.end(), uint8_t{1}));
    if (f.nullable) in->def = row_def.data();
    in->num_values = n - *nulls;
    const uint8_t* def = row_def.data();
    switch (f.type) {
      case ColumnType::kBoolean:
        in->b = GatherValues(v.b, def, rows, &b->b);
        break;
      case ColumnType::kInt32:
        in->i32 = GatherValues(v.i32, def, rows, &b->i32);
        break;
      case ColumnType::kInt64:
      case ColumnType::kTimestampMicros:
        in->i64 = GatherValues(v.i64, def, rows, &b->i64);
        break;
      case ColumnType::kDouble:
        in->f64 = GatherValues(v.f64, def, rows, &b->f64);
        break;
      case ColumnType::kString:
        if (v.codes != nullptr) {
          in->codes = GatherValues(v.codes, def, rows, &b->codes);
          b->code_dict.resize(v.dict_size);
          for (size_t e = 0; e < v.dict_size; ++e) {
            b->code_dict[e] = std::string_view(v.dict_bytes + v.dict_offsets[e],
                                               v.dict_offsets[e + 1] - v.dict_offsets[e]);
          }
          in->code_dict = b->code_dict.data();
          in->code_dict_size = v.dict_size;
        } else {
          b->views.clear();
          for (size_t i = 0; i < n; ++i) {
            if (!def[i]) continue;
            const uint32_t r = rows[i];
            b->views.emplace_back(v.bytes + v.offsets[r], v.offsets[r + 1] - v.offsets[r]);
          }
          in->str = b->views.data();
        }
        break;
      case ColumnType::kDoubleList: {
        const uint8_t base = f.nullable ? 1 : 0;
        b->def.clear();
        b->rep.clear();
        b->f64.clear();
        for (size_t i = 0; i < n; ++i) {
          const uint32_t r = rows[i];
          AppendListLevels(
              !row_def[i], row_def[i] ? v.offsets[r] : 0, row_def[i] ? v.offsets[r + 1] : 0, base,
              v.f64,
              [&](size_t k) { return v.element_valid != nullptr && !Bit(v.element_valid, k); }, b);
        }
        PointAtList(b, in);
        break;
      }
    }
    return Status::Ok();
  });
}

std::string ParquetWriter::TakeBytes() {
  taken_ += static_cast<int64_t>(out_.size());
  std::string bytes = std::move(out_);
  out_.clear();
  return bytes;
}

void ParquetWriter::TakeBytes(std::string* bytes) {
  taken_ += static_cast<int64_t>(out_.size());
  bytes->clear();
  out_.swap(*bytes);
}

Result<std::string> ParquetWriter::Finish() {
  if (finished_) return FailedPreconditionError("parquet: writer already finished");
  PINPIPE_RETURN_IF_ERROR(FlushRowGroup());
  finished_ = true;
  FinishFile(&meta_, &out_);
  return std::move(out_);
}

Result<std::string> WriteParquet(const RecordBatch& batch, const WriterOptions& options) {
  PINPIPE_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Create(batch.schema, options));
  PINPIPE_RETURN_IF_ERROR(writer->WriteRowGroups(batch));
  return writer->Finish();
}

// ---- Generic nested writer (Dremel shredding of JSON rows) ----

NestedField NestedField::String(std::string name, bool required) {
  NestedField f;
  f.name = std::move(name);
  f.repetition = required ? parquet::kRequired : parquet::kOptional;
  f.physical = parquet::kByteArray;
  f.converted = parquet::kUtf8;
  f.logical = parquet::kStringLogical;
  return f;
}
NestedField NestedField::Int64(std::string name, bool required) {
  NestedField f;
  f.name = std::move(name);
  f.repetition = required ? parquet::kRequired : parquet::kOptional;
  f.physical = parquet::kInt64;
  return f;
}
NestedField NestedField::Int32(std::string name, bool required) {
  NestedField f = Int64(std::move(name), required);
  f.physical = parquet::kInt32;
  return f;
}
NestedField NestedField::Bool(std::string name, bool required) {
  NestedField f = Int64(std::move(name), required);
  f.physical = parquet::kBoolean;
  return f;
}
NestedField NestedField::Struct(std::string name, std::vector<NestedField> children) {
  NestedField f;
  f.name = std::move(name);
  f.children = std::move(children);
  return f;
}
NestedField NestedField::StringMap(std::string name) {
  NestedField kv;
  kv.name = "key_value";
  kv.repetition = parquet::kRepeated;
  kv.converted = parquet::kMapKeyValue;
  kv.children = {String("key", true), String("value")};
  NestedField f;
  f.name = std::move(name);
  f.converted = parquet::kMap;
  f.logical = parquet::kMapLogical;
  f.children = {std::move(kv)};
  return f;
}
NestedField NestedField::StringList(std::string name) {
  NestedField list;
  list.name = "list";
  list.repetition = parquet::kRepeated;
  list.children = {String("element")};
  NestedField f;
  f.name = std::move(name);
  f.converted = parquet::kList;
  f.logical = parquet::kListLogical;
  f.children = {std::move(list)};
  return f;
}

namespace {

struct Shredder {
  std::vector<LeafSpec> specs;
  std::vector<LeafBuffer> leaves;

  // Flattens `f` into schema elements and leaf specs; returns the leaf range.
  void Flatten(const NestedField& f, std::vector<std::string> path, int def, int rep,
               std::vector<SchemaElement>* out) {
    SchemaElement e;
    e.name = f.name;
    e.repetition = f.repetition;
    e.converted_type = f.converted;
    e.logical = f.logical;
    path.push_back(f.name);
    if (f.repetition != parquet::kRequired) ++def;
    if (f.repetition == parquet::kRepeated) ++rep;
    if (f.physical >= 0) {
      e.type = f.physical;
      out->push_back(e);
      LeafSpec s;
      s.path = path;
      s.physical = f.physical;
      s.max_def = def;
      s.max_rep = rep;
      specs.push_back(s);
      return;
    }
    e.num_children = static_cast<int32_t>(f.children.size());
    out->push_back(e);
    for (const auto& c : f.children) Flatten(c, path, def, rep, out);
  }

  static size_t LeafCount(const NestedField& f) {
    if (f.physical >= 0) return 1;
    size_t n = 0;
    for (const auto& c : f.children) n += LeafCount(c);
    return n;
  }

  void EmitNull(const NestedField& f, size_t first_leaf, uint8_t rep, uint8_t def) {
    size_t n = LeafCount(f);
    for (size_t i = first_leaf; i < first_leaf + n; ++i) {
      leaves[i].def.push_back(def);
      leaves[i].rep.push_back(rep);
      ++leaves[i].entries;
    }
  }

  // `def` counts the defined optional/repeated ancestors of f.
  // `depth` counts its repeated ancestors.
  Status Shred(const NestedField& f, const nlohmann::json* v, size_t first_leaf, uint8_t rep,
               uint8_t def, uint8_t depth) {
    if (v == nullptr || v->is_null()) {
      if (f.repetition == parquet::kRequired) {
        return InvalidArgumentError("parquet: missing required field " + f.name);
      }
      EmitNull(f, first_leaf, rep, def);
      return Status::Ok();
    }
    uint8_t d = def + (f.repetition == parquet::kOptional ? 1 : 0);
    if (f.physical >= 0) {
      LeafBuffer& lb = leaves[first_leaf];
      lb.def.push_back(d);
      lb.rep.push_back(rep);
      ++lb.entries;
      switch (f.physical) {
        case parquet::kBoolean:
          if (!v->is_boolean()) return InvalidArgumentError("parquet: " + f.name + " not a bool");
          lb.b.push_back(v->get<bool>() ? 1 : 0);
          break;
        case parquet::kInt32:
        case parquet::kInt64:
          if (!v->is_number_integer()) {
            return InvalidArgumentError("parquet: " + f.name + " not an integer");
          }
          if (f.physical == parquet::kInt32) {
            lb.i32.push_back(v->get<int32_t>());
          } else {
            lb.i64.push_back(v->get<int64_t>());
          }
          break;
        case parquet::kDouble:
          if (!v->is_number()) return InvalidArgumentError("parquet: " + f.name + " not a number");
          lb.f64.push_back(v->get<double>());
          break;
        default:
          if (v->is_string()) {
            lb.strings.push_back(v->get<std::string>());
          } else {
            lb.strings.push_back(v->dump());
          }
      }
      return Status::Ok();
    }
    const bool is_list = f.converted == parquet::kList || f.logical == parquet::kListLogical;
    const bool is_map = f.converted == parquet::kMap || f.logical == parquet::kMapLogical;
    if (is_list || is_map) {
      const NestedField& repeated = f.children[0];
      const uint8_t rep_level = depth + 1;
      if ((is_list && !v->is_array()) || (is_map && !v->is_object())) {
        return InvalidArgumentError("parquet: " + f.name + " has the wrong JSON kind");
      }
      if (v->empty()) {
        EmitNull(f, first_leaf, rep, d);
        return Status::Ok();
      }
      bool first = true;
      if (is_list) {
        for (const auto& item : *v) {
          PINPIPE_RETURN_IF_ERROR(Shred(repeated.children[0], &item, first_leaf,
                                        first ? rep : rep_level, d + 1, rep_level));
          first = false;
        }
      } else {
        for (auto it = v->begin(); it != v->end(); ++it) {
          nlohmann::json key = it.key();
          uint8_t r = first ? rep : rep_level;
          PINPIPE_RETURN_IF_ERROR(
              Shred(repeated.children[0], &key, first_leaf, r, d + 1, rep_level));
          PINPIPE_RETURN_IF_ERROR(
              Shred(repeated.children[1], &it.value(), first_leaf + 1, r, d + 1, rep_level));
          first = false;
        }
      }
      return Status::Ok();
    }
    if (!v->is_object()) return InvalidArgumentError("parquet: " + f.name + " is not an object");
    size_t leaf = first_leaf;
    for (const auto& c : f.children) {
      auto it = v->find(c.name);
      PINPIPE_RETURN_IF_ERROR(Shred(c, it == v->end() ? nullptr : &*it, leaf, rep, d, depth));
      leaf += LeafCount(c);
    }
    return Status::Ok();
  }
};

}  // namespace

Result<std::string> WriteNestedParquet(const std::vector<NestedField>& fields,
                                       const std::vector<nlohmann::json>& rows,
                                       const WriterOptions& options) {
  parquet::FileMetaData meta;
  meta.created_by = options.created_by;
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(fields.size());
  meta.schema.push_back(root);
  Shredder sh;
  for (const auto& f : fields) sh.Flatten(f, {}, 0, 0, &meta.schema);
  sh.leaves.resize(sh.specs.size());
  for (const auto& row : rows) {
    if (!row.is_object()) return InvalidArgumentError("parquet: a row is not a JSON object");
    size_t leaf = 0;
    for (const auto& f : fields) {
      auto it = row.find(f.name);
      PINPIPE_RETURN_IF_ERROR(sh.Shred(f, it == row.end() ? nullptr : &*it, leaf, 0, 0, 0));
      leaf += Shredder::LeafCount(f);
    }
  }
  std::string out = "PAR1";
  ChunkBuffers buffers;
  parquet::RowGroup rg;
  rg.num_rows = static_cast<int64_t>(rows.size());
  rg.file_offset = 4;
  rg.ordinal = 0;
  for (size_t i = 0; i < sh.specs.size() && !rows.empty(); ++i) {
    LeafInput in = sh.leaves[i].View(sh.specs[i]);
    ColumnChunk cc;
    ChunkStats cs;
    PINPIPE_RETURN_IF_ERROR(
        WriteColumnChunk(sh.specs[i], in, options, true, &buffers, &out, &cc, &cs));
    rg.total_byte_size += cc.meta_data.total_uncompressed_size;
    rg.columns.push_back(std::move(cc));
  }
  rg.total_compressed_size = static_cast<int64_t>(out.size()) - 4;
  meta.num_rows = rg.num_rows;
  if (!rows.empty()) meta.row_groups.push_back(std::move(rg));
  FinishFile(&meta, &out);
  return out;
}

}  // namespace pinpipe::table
