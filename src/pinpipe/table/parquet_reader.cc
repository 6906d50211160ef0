#include "pinpipe/table/parquet_reader.h"

#include <fmt/format.h>

#include <cstring>

#include "pinpipe/table/encoding.h"

namespace pinpipe::table {

namespace {

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Walks the depth-first schema list, filling leaves with their levels.
Status CollectLeaves(const std::vector<parquet::SchemaElement>& schema, size_t* index,
                     std::vector<std::string> path, int def, int rep, int depth,
                     std::vector<LeafColumn>* leaves) {
  if (*index >= schema.size() || depth > 64) return DataLossError("parquet: bad schema tree");
  const auto& e = schema[*index];
  int my = static_cast<int>(*index);
  ++*index;
  if (depth > 0) {
    path.push_back(e.name);
    if (e.repetition == parquet::kOptional || e.repetition == parquet::kRepeated) ++def;
    if (e.repetition == parquet::kRepeated) ++rep;
  }
  if (e.num_children <= 0 && depth > 0) {
    if (e.type < 0) return DataLossError("parquet: leaf without a type");
    leaves->push_back({path, my, e.type, def, rep});
    return Status::Ok();
  }
  for (int i = 0; i < e.num_children; ++i) {
    PINPIPE_RETURN_IF_ERROR(CollectLeaves(schema, index, path, def, rep, depth + 1, leaves));
  }
  return Status::Ok();
}

// Appends `count` PLAIN values of `physical` from [p, end) to out.
Status DecodePlain(int32_t physical, const char* p, const char* end, size_t count, LeafData* out) {
  if (count == 0) return Status::Ok();  // (memcpy from an empty page's null pointer is UB)
  size_t avail = static_cast<size_t>(end - p);
  switch (physical) {
    case parquet::kBoolean: {
      if ((count + 7) / 8 > avail) return DataLossError("parquet: truncated booleans");
      for (size_t i = 0; i < count; ++i) out->b.push_back((p[i / 8] >> (i % 8)) & 1);
      return Status::Ok();
    }
    case parquet::kInt32: {
      if (count * 4 > avail) return DataLossError("parquet: truncated int32 values");
      size_t old = out->i32.size();
      out->i32.resize(old + count);
      std::memcpy(out->i32.data() + old, p, count * 4);
      return Status::Ok();
    }
    case parquet::kInt64:
    case parquet::kDouble: {
      if (count * 8 > avail) return DataLossError("parquet: truncated 8-byte values");
      if (physical == parquet::kInt64) {
        size_t old = out->i64.size();
        out->i64.resize(old + count);
        std::memcpy(out->i64.data() + old, p, count * 8);
      } else {
        size_t old = out->f64.size();
        out->f64.resize(old + count);
        std::memcpy(out->f64.data() + old, p, count * 8);
      }
      return Status::Ok();
    }
    case parquet::kByteArray: {
      for (size_t i = 0; i < count; ++i) {
        if (end - p < 4) return DataLossError("parquet: truncated byte array");
        uint32_t len = LoadU32(p);
        p += 4;
        if (static_cast<size_t>(end - p) < len)
          return DataLossError("parquet: truncated byte array");
        out->bytes.append(p, len);
        out->offsets.push_back(static_cast<uint32_t>(out->bytes.size()));
        p += len;
      }
      return Status::Ok();
    }
    default:
      return UnimplementedError(fmt::format("parquet: physical type {} not supported", physical));
  }
}

// Appends dict[indices] to out.
Status AppendFromDict(int32_t physical, const LeafData& dict, size_t dict_size,
                      const std::vector<uint32_t>& idx, LeafData* out) {
  for (uint32_t i : idx) {
    if (i >= dict_size) return DataLossError("parquet: dictionary index out of range");
  }
  switch (physical) {
    case parquet::kBoolean:
      for (uint32_t i : idx) out->b.push_back(dict.b[i]);
      break;
    case parquet::kInt32:
      for (uint32_t i : idx) out->i32.push_back(dict.i32[i]);
      break;
    case parquet::kInt64:
      for (uint32_t i : idx) out->i64.push_back(dict.i64[i]);
      break;
    case parquet::kDouble:
      for (uint32_t i : idx) out->f64.push_back(dict.f64[i]);
      break;
    case parquet::kByteArray:
      for (uint32_t i : idx) {
        out->bytes.append(dict.String(i));
        out->offsets.push_back(static_cast<uint32_t>(out->bytes.size()));
      }
      break;
    default:
      return UnimplementedError("parquet: dictionary of unsupported type");
  }
  return Status::Ok();
}

}  // namespace

Result<ParquetFile> ParquetFile::Open(std::string data) {
  if (data.size() < 12 || data.compare(0, 4, "PAR1") != 0 ||
      data.compare(data.size() - 4, 4, "PAR1") != 0) {
    return DataLossError("parquet: not a Parquet file (magic missing)");
  }
  uint32_t len = LoadU32(data.data() + data.size() - 8);
  if (len > data.size() - 12) return DataLossError("parquet: bad footer length");
  ParquetFile f;
  PINPIPE_RETURN_IF_ERROR(parquet::ParseFileMetaData(
      std::string_view(data).substr(data.size() - 8 - len, len), &f.meta_));
  if (f.meta_.schema.empty()) return DataLossError("parquet: empty schema");
  size_t index = 0;
  PINPIPE_RETURN_IF_ERROR(CollectLeaves(f.meta_.schema, &index, {}, 0, 0, 0, &f.leaves_));
  for (const auto& rg : f.meta_.row_groups) {
    if (rg.columns.size() != f.leaves_.size()) {
      return DataLossError("parquet: row group column count differs from the schema");
    }
  }
  f.data_ = std::move(data);
  return f;
}

Result<LeafData> ParquetFile::ReadLeaf(int row_group, int leaf) const {
  if (row_group < 0 || row_group >= num_row_groups() || leaf < 0 ||
      leaf >= static_cast<int>(leaves_.size())) {
    return OutOfRangeError("parquet: no such row group or column");
  }
  const LeafColumn& lc = leaves_[leaf];
  const auto& md = meta_.row_groups[row_group].columns[leaf].meta_data;
  int64_t start = md.data_page_offset;
  if (md.dictionary_page_offset > 0 && md.dictionary_page_offset < start) {
    start = md.dictionary_page_offset;
  }
  int64_t end = start + md.total_compressed_size;
  if (start < 4 || md.total_compressed_size < 0 || end > static_cast<int64_t>(data_.size()) - 8) {
    return DataLossError("parquet: column chunk outside the file");
  }
  LeafData out;
  LeafData dict;
  size_t dict_size = 0;
  bool has_dict = false;
  std::string page;
  std::vector<uint32_t> idx;
  const int def_bw = BitWidth(lc.max_def), rep_bw = BitWidth(lc.max_rep);
  int64_t pos = start;
  while (out.num_entries < static_cast<size_t>(md.num_values) && pos < end) {
    parquet::PageHeader h;
    size_t hs = 0;
    PINPIPE_RETURN_IF_ERROR(
        parquet::ParsePageHeader(std::string_view(data_).substr(pos, end - pos), &h, &hs));
    pos += static_cast<int64_t>(hs);
    if (h.compressed_page_size > end - pos) return DataLossError("parquet: page beyond chunk");
    std::string_view body(data_.data() + pos, h.compressed_page_size);
    pos += h.compressed_page_size;
    if (h.type == parquet::kDictionaryPage) {
      PINPIPE_RETURN_IF_ERROR(Decompress(md.codec, body, h.uncompressed_page_size, &page));
      dict = LeafData();
      PINPIPE_RETURN_IF_ERROR(
          DecodePlain(lc.physical, page.data(), page.data() + page.size(), h.num_values, &dict));
      dict_size = h.num_values;
      has_dict = true;
      continue;
    }
    if (h.type != parquet::kDataPage && h.type != parquet::kDataPageV2) continue;
    size_t n = h.num_values;
    if (n > (size_t{1} << 28)) return DataLossError("parquet: too many values in a page");
    size_t old = out.num_entries;
    out.def.resize(old + n, 0);
    out.rep.resize(old + n, 0);
    const char* p;
    const char* pend;
    if (h.type == parquet::kDataPage) {
      PINPIPE_RETURN_IF_ERROR(Decompress(md.codec, body, h.uncompressed_page_size, &page));
      p = page.data();
      pend = p + page.size();
      if (lc.max_rep > 0) {
        if (pend - p < 4) return DataLossError("parquet: truncated levels");
        uint32_t len = LoadU32(p);
        p += 4;
        if (static_cast<size_t>(pend - p) < len) return DataLossError("parquet: truncated levels");
        PINPIPE_RETURN_IF_ERROR(RleDecode({p, len}, rep_bw, n, out.rep.data() + old));
        p += len;
      }
      if (lc.max_def > 0) {
        if (pend - p < 4) return DataLossError("parquet: truncated levels");
        uint32_t len = LoadU32(p);
        p += 4;
        if (static_cast<size_t>(pend - p) < len) return DataLossError("parquet: truncated levels");
        PINPIPE_RETURN_IF_ERROR(RleDecode({p, len}, def_bw, n, out.def.data() + old));
        p += len;
      }
    } else {
      size_t rl = h.repetition_levels_byte_length, dl = h.definition_levels_byte_length;
      if (rl + dl > body.size()) return DataLossError("parquet: bad v2 level lengths");
      if (lc.max_rep > 0) {
        PINPIPE_RETURN_IF_ERROR(RleDecode(body.substr(0, rl), rep_bw, n, out.rep.data() + old));
      }
      if (lc.max_def > 0) {
        PINPIPE_RETURN_IF_ERROR(RleDecode(body.substr(rl, dl), def_bw, n, out.def.data() + old));
      }
      std::string_view values = body.substr(rl + dl);
      if (h.is_compressed) {
        if (static_cast<size_t>(h.uncompressed_page_size) < rl + dl) {
          return DataLossError("parquet: bad v2 page size");
        }
        PINPIPE_RETURN_IF_ERROR(
            Decompress(md.codec, values, h.uncompressed_page_size - rl - dl, &page));
      } else {
        page.assign(values);
      }
      p = page.data();
      pend = p + page.size();
    }
    size_t count = n;
    if (lc.max_def > 0) {
      count = 0;
      for (size_t i = old; i < old + n; ++i) {
        if (out.def[i] > lc.max_def) return DataLossError("parquet: definition level too high");
        count += out.def[i] == lc.max_def;
      }
    }
    if (h.encoding == parquet::kPlain) {
      PINPIPE_RETURN_IF_ERROR(DecodePlain(lc.physical, p, pend, count, &out));
    } else if (h.encoding == parquet::kRleDictionary || h.encoding == parquet::kPlainDictionary) {
      if (!has_dict) return DataLossError("parquet: dictionary page missing");
      if (count > 0) {
        if (p >= pend) return DataLossError("parquet: truncated dictionary indices");
        int bw = static_cast<uint8_t>(*p++);
        if (bw > 32) return DataLossError("parquet: bad dictionary bit width");
        idx.resize(count);
        PINPIPE_RETURN_IF_ERROR(
            RleDecode({p, static_cast<size_t>(pend - p)}, bw, count, idx.data()));
        PINPIPE_RETURN_IF_ERROR(AppendFromDict(lc.physical, dict, dict_size, idx, &out));
      }
    } else {
      return UnimplementedError(fmt::format("parquet: encoding {} not supported", h.encoding));
    }
    out.num_entries += n;
  }
  if (out.num_entries != static_cast<size_t>(md.num_values)) {
    return DataLossError("parquet: column chunk has fewer values than its metadata says");
  }
  return out;
}

namespace {

bool IsListGroup(const parquet::SchemaElement& e) {
  return e.converted_type == parquet::kList || e.logical == parquet::kListLogical;
}
bool IsMapGroup(const parquet::SchemaElement& e) {
  return e.converted_type == parquet::kMap || e.converted_type == parquet::kMapKeyValue ||
         e.logical == parquet::kMapLogical;
}

}  // namespace

Result<Schema> ParquetFile::FlatSchema() const {
  Schema s;
  const auto& sc = meta_.schema;
  size_t i = 1;
  for (int c = 0; c < sc[0].num_children; ++c) {
    if (i >= sc.size()) return DataLossError("parquet: bad schema");
    const auto& e = sc[i];
    Field f;
    f.name = e.name;
    f.nullable = e.repetition != parquet::kRequired;
    if (e.num_children > 0) {
      if (!IsListGroup(e) || e.num_children != 1 || i + 2 >= sc.size() ||
          sc[i + 1].num_children != 1 || sc[i + 2].type != parquet::kDouble) {
        return UnimplementedError("parquet: column " + e.name + " has an unsupported nested type");
      }
      f.type = ColumnType::kDoubleList;
      i += 3;
    } else {
      switch (e.type) {
        case parquet::kBoolean:
          f.type = ColumnType::kBoolean;
          break;
        case parquet::kInt32:
          f.type = ColumnType::kInt32;
          break;
        case parquet::kInt64:
          f.type = (e.logical == parquet::kTimestampLogical && e.ts_unit == 2) ||
                           e.converted_type == parquet::kTimestampMicros
                       ? ColumnType::kTimestampMicros
                       : ColumnType::kInt64;
          break;
        case parquet::kDouble:
          f.type = ColumnType::kDouble;
          break;
        case parquet::kByteArray:
          f.type = ColumnType::kString;
          break;
        default:
          return UnimplementedError("parquet: column " + e.name + " has an unsupported type");
      }
      ++i;
    }
    s.fields.push_back(std::move(f));
  }
  return s;
}

Result<RecordBatch> ParquetFile::ReadRowGroup(int row_group) const {
  PINPIPE_ASSIGN_OR_RETURN(Schema schema, FlatSchema());
  if (schema.fields.size() != leaves_.size()) return InternalError("parquet: leaf count mismatch");
  RecordBatch batch(schema);
  const size_t rows = static_cast<size_t>(meta_.row_groups[row_group].num_rows);
  for (size_t c = 0; c < schema.fields.size(); ++c) {
    PINPIPE_ASSIGN_OR_RETURN(LeafData d, ReadLeaf(row_group, static_cast<int>(c)));
    const LeafColumn& lc = leaves_[c];
    Column& col = batch.columns[c];
    col.Reserve(rows);
    const ColumnType t = schema.fields[c].type;
    if (t == ColumnType::kDoubleList) {
      const int base = lc.max_def - 2;  // def of a present-but-empty list
      std::vector<std::optional<double>> items;
      size_t v = 0;
      bool open = false, is_null = false;
      auto close = [&] {
        if (!open) return;
        if (is_null) {
          col.AppendNull();
        } else {
          col.AppendListWithNulls(items);
        }
        items.clear();
        open = false;
      };
      for (size_t i = 0; i < d.num_entries; ++i) {
        if (d.rep[i] == 0) {
          close();
          open = true;
          is_null = d.def[i] < base;
        }
        if (d.def[i] == lc.max_def) {
          if (v >= d.f64.size()) return DataLossError("parquet: too few list values");
          items.push_back(d.f64[v++]);
        } else if (d.def[i] == lc.max_def - 1) {
          items.push_back(std::nullopt);
        }
      }
      close();
    } else {
      size_t v = 0;
      for (size_t i = 0; i < d.num_entries; ++i) {
        if (lc.max_def > 0 && d.def[i] < lc.max_def) {
          col.AppendNull();
          continue;
        }
        switch (t) {
          case ColumnType::kBoolean:
            if (v >= d.b.size()) return DataLossError("parquet: too few values");
            col.AppendBool(d.b[v++] != 0);
            break;
          case ColumnType::kInt32:
            if (v >= d.i32.size()) return DataLossError("parquet: too few values");
            col.AppendInt32(d.i32[v++]);
            break;
          case ColumnType::kInt64:
          case ColumnType::kTimestampMicros:
            if (v >= d.i64.size()) return DataLossError("parquet: too few values");
            col.AppendInt64(d.i64[v++]);
            break;
          case ColumnType::kDouble:
            if (v >= d.f64.size()) return DataLossError("parquet: too few values");
            col.AppendDouble(d.f64[v++]);
            break;
          case ColumnType::kString:
            if (v + 1 >= d.offsets.size()) return DataLossError("parquet: too few values");
            col.AppendString(d.String(v++));
            break;
          default:
            break;
        }
      }
    }
    if (col.size() != rows) {
      return DataLossError(fmt::format("parquet: column {} has {} rows, row group says {}",
                                       schema.fields[c].name, col.size(), rows));
    }
  }
  return batch;
}

Result<RecordBatch> ParquetFile::ReadAll() const {
  PINPIPE_ASSIGN_OR_RETURN(Schema schema, FlatSchema());
  RecordBatch all(schema);
  for (int rg = 0; rg < num_row_groups(); ++rg) {
    PINPIPE_ASSIGN_OR_RETURN(RecordBatch b, ReadRowGroup(rg));
    PINPIPE_RETURN_IF_ERROR(all.Append(b));
  }
  return all;
}

namespace {

struct Node {
  const parquet::SchemaElement* e = nullptr;
  int def = 0;  // definition level at which this node is present
  int rep = 0;  // repetition level of this node (repeated ancestors incl. itself)
  int first_leaf = 0;
  int leaf_count = 0;
  int probe = 0;  // the leaf whose levels tell presence and repetition (a read one)
  std::vector<Node> children;
};

Node BuildTree(const std::vector<parquet::SchemaElement>& sc, size_t* i, int def, int rep,
               int* leaf) {
  Node n;
  n.e = &sc[*i];
  ++*i;
  if (n.e->repetition == parquet::kOptional || n.e->repetition == parquet::kRepeated) ++def;
  if (n.e->repetition == parquet::kRepeated) ++rep;
  n.def = def;
  n.rep = rep;
  n.first_leaf = *leaf;
  n.probe = *leaf;
  if (n.e->num_children <= 0) {
    n.leaf_count = 1;
    ++*leaf;
    return n;
  }
  for (int c = 0; c < n.e->num_children; ++c) {
    n.children.push_back(BuildTree(sc, i, def, rep, leaf));
    n.leaf_count += n.children.back().leaf_count;
  }
  return n;
}

// Drops the parts of `n` (at dotted `path`) that no entry of `columns`
// (dotted paths) selects; false if nothing of `n` is selected.
bool Prune(Node* n, const std::string& path, const std::vector<std::string>& columns) {
  bool inside = false, above = false;
  for (const auto& c : columns) {
    if (path == c || path.rfind(c + ".", 0) == 0) inside = true;
    if (c.rfind(path + ".", 0) == 0) above = true;
  }
  if (inside) return true;
  if (!above || n->children.empty()) return false;
  for (auto it = n->children.begin(); it != n->children.end();) {
    it = Prune(&*it, path + "." + it->e->name, columns) ? it + 1 : n->children.erase(it);
  }
  if (n->children.empty()) return false;
  n->probe = n->children.front().probe;  // read the levels of a kept leaf
  return true;
}

void MarkLeaves(const Node& n, std::vector<bool>* wanted) {
  if (n.children.empty()) {
    for (int l = n.first_leaf; l < n.first_leaf + n.leaf_count; ++l) (*wanted)[l] = true;
    return;
  }
  for (const Node& c : n.children) MarkLeaves(c, wanted);
}

struct Assembler {
  const std::vector<LeafData>* data;
  std::vector<size_t> pos;   // entry cursor per leaf
  std::vector<size_t> vpos;  // value cursor per leaf
  const std::vector<LeafColumn>* leaves;
  bool ok = true;

  int PeekDef(const Node& n) const {
    const auto& d = (*data)[n.probe];
    size_t p = pos[n.probe];
    return p < d.num_entries ? d.def[p] : -1;
  }
  bool NextContinues(const Node& repeated) const {
    const auto& d = (*data)[repeated.probe];
    size_t p = pos[repeated.probe];
    return p < d.num_entries && d.rep[p] >= repeated.rep;
  }
  void Skip(const Node& n) {
    for (int l = n.first_leaf; l < n.first_leaf + n.leaf_count; ++l) ++pos[l];
  }
  nlohmann::json Leaf(const Node& n) {
    const auto& d = (*data)[n.first_leaf];
    size_t& p = pos[n.first_leaf];
    if (p >= d.num_entries) {
      ok = false;
      return nullptr;
    }
    int def = d.def[p++];
    if (def < (*leaves)[n.first_leaf].max_def) return nullptr;
    size_t& v = vpos[n.first_leaf];
    switch (n.e->type) {
      case parquet::kBoolean:
        if (v < d.b.size()) return d.b[v++] != 0;
        break;
      case parquet::kInt32:
        if (v < d.i32.size()) return d.i32[v++];
        break;
      case parquet::kInt64:
        if (v < d.i64.size()) return d.i64[v++];
        break;
      case parquet::kDouble:
        if (v < d.f64.size()) return d.f64[v++];
        break;
      case parquet::kByteArray:
        if (v + 1 < d.offsets.size()) return std::string(d.String(v++));
        break;
    }
    ok = false;
    return nullptr;
  }
  nlohmann::json Value(const Node& n, int depth = 0) {
    if (!ok || depth > 64) {
      ok = false;
      return nullptr;
    }
    if (n.e->repetition == parquet::kOptional && PeekDef(n) < n.def) {
      Skip(n);
      return nullptr;
    }
    if (n.e->num_children <= 0) return Leaf(n);
    bool list = IsListGroup(*n.e), map = IsMapGroup(*n.e);
    if ((list || map) && n.children.size() == 1 &&
        n.children[0].e->repetition == parquet::kRepeated) {
      const Node& r = n.children[0];
      if (PeekDef(r) < r.def) {
        Skip(n);
        return list ? nlohmann::json::array() : nlohmann::json::object();
      }
      nlohmann::json out = list ? nlohmann::json::array() : nlohmann::json::object();
      do {
        if (list) {
          out.push_back(r.children.size() == 1 ? Value(r.children[0], depth + 1)
                                               : Struct(r, depth + 1));
        } else if (r.children.size() == 2) {
          nlohmann::json k = Value(r.children[0], depth + 1);
          nlohmann::json v = Value(r.children[1], depth + 1);
          out[k.is_string() ? k.get<std::string>() : k.dump()] = std::move(v);
        } else {
          ok = false;
        }
      } while (ok && NextContinues(r));
      return out;
    }
    return Struct(n, depth);
  }
  nlohmann::json Struct(const Node& n, int depth) {
    nlohmann::json obj = nlohmann::json::object();
    for (const Node& c : n.children) obj[c.e->name] = Value(c, depth + 1);
    return obj;
  }
};

}  // namespace

Result<std::vector<nlohmann::json>> ParquetFile::ReadJsonRows(
    const std::vector<std::string>& columns) const {
  size_t i = 0;
  int leaf = 0;
  Node root = BuildTree(meta_.schema, &i, 0, 0, &leaf);
  root.def = 0;
  std::vector<bool> wanted(leaves_.size(), columns.empty());
  if (!columns.empty()) {
    for (auto it = root.children.begin(); it != root.children.end();) {
      it = Prune(&*it, it->e->name, columns) ? it + 1 : root.children.erase(it);
    }
    MarkLeaves(root, &wanted);
  }
  std::vector<nlohmann::json> rows;
  for (int rg = 0; rg < num_row_groups(); ++rg) {
    std::vector<LeafData> data(leaves_.size());
    for (size_t l = 0; l < leaves_.size(); ++l) {
      if (!wanted[l]) continue;
      PINPIPE_ASSIGN_OR_RETURN(data[l], ReadLeaf(rg, static_cast<int>(l)));
    }
    Assembler a{&data, std::vector<size_t>(leaves_.size(), 0),
                std::vector<size_t>(leaves_.size(), 0), &leaves_};
    for (int64_t r = 0; r < meta_.row_groups[rg].num_rows; ++r) {
      rows.push_back(a.Struct(root, 0));
      if (!a.ok) return DataLossError("parquet: inconsistent levels in nested columns");
    }
  }
  return rows;
}

}  // namespace pinpipe::table
