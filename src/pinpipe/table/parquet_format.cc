#include "pinpipe/table/parquet_format.h"

#include "pinpipe/table/thrift_compact.h"

namespace pinpipe::table::parquet {

using thrift::CompactReader;
using thrift::CompactWriter;
using thrift::CType;

namespace {

void WriteStatistics(CompactWriter& w, const Statistics& s) {
  if (s.null_count >= 0) w.FieldI64(3, s.null_count);
  if (s.has_max) w.FieldBinary(5, s.max_value);
  if (s.has_min) w.FieldBinary(6, s.min_value);
  w.EndStruct();
}

void WriteSchemaElement(CompactWriter& w, const SchemaElement& e) {
  w.BeginStruct();
  if (e.type >= 0) w.FieldI32(1, e.type);
  if (e.type_length >= 0) w.FieldI32(2, e.type_length);
  if (e.repetition >= 0) w.FieldI32(3, e.repetition);
  w.FieldBinary(4, e.name);
  if (e.num_children >= 0) w.FieldI32(5, e.num_children);
  if (e.converted_type >= 0) w.FieldI32(6, e.converted_type);
  if (e.logical != kNoLogical) {
    w.FieldStruct(10);  // LogicalType union
    w.FieldStruct(static_cast<int16_t>(e.logical));
    if (e.logical == kTimestampLogical) {
      w.FieldBool(1, e.ts_adjusted_to_utc);
      w.FieldStruct(2);  // TimeUnit union
      w.FieldStruct(static_cast<int16_t>(e.ts_unit));
      w.EndStruct();
      w.EndStruct();
    }
    w.EndStruct();
    w.EndStruct();
  }
  w.EndStruct();
}

void WriteColumnMetaData(CompactWriter& w, const ColumnMetaData& m) {
  w.FieldI32(1, m.type);
  w.FieldList(2, thrift::kI32, m.encodings.size());
  for (int32_t e : m.encodings) w.ElemI32(e);
  w.FieldList(3, thrift::kBinary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) w.ElemBinary(p);
  w.FieldI32(4, m.codec);
  w.FieldI64(5, m.num_values);
  w.FieldI64(6, m.total_uncompressed_size);
  w.FieldI64(7, m.total_compressed_size);
  w.FieldI64(9, m.data_page_offset);
  if (m.dictionary_page_offset >= 0) w.FieldI64(11, m.dictionary_page_offset);
  w.FieldStruct(12);
  WriteStatistics(w, m.statistics);
  w.EndStruct();
}

}  // namespace

void SerializeFileMetaData(const FileMetaData& meta, std::string* out) {
  CompactWriter w(out);
  w.FieldI32(1, meta.version);
  w.FieldList(2, thrift::kStruct, meta.schema.size());
  size_t leaves = 0;
  for (const auto& e : meta.schema) {
    WriteSchemaElement(w, e);
    if (e.num_children < 0) ++leaves;
  }
  w.FieldI64(3, meta.num_rows);
  w.FieldList(4, thrift::kStruct, meta.row_groups.size());
  for (const auto& rg : meta.row_groups) {
    w.BeginStruct();
    w.FieldList(1, thrift::kStruct, rg.columns.size());
    for (const auto& cc : rg.columns) {
      w.BeginStruct();
      w.FieldI64(2, cc.file_offset);
      w.FieldStruct(3);
      WriteColumnMetaData(w, cc.meta_data);
      w.EndStruct();
    }
    w.FieldI64(2, rg.total_byte_size);
    w.FieldI64(3, rg.num_rows);
    if (rg.file_offset >= 0) w.FieldI64(5, rg.file_offset);
    if (rg.total_compressed_size >= 0) w.FieldI64(6, rg.total_compressed_size);
    if (rg.ordinal >= 0) w.FieldI32(7, rg.ordinal);  // i16 in the IDL; same varint encoding
    w.EndStruct();
  }
  if (!meta.key_value_metadata.empty()) {
    w.FieldList(5, thrift::kStruct, meta.key_value_metadata.size());
    for (const auto& [k, v] : meta.key_value_metadata) {
      w.BeginStruct();
      w.FieldBinary(1, k);
      w.FieldBinary(2, v);
      w.EndStruct();
    }
  }
  if (!meta.created_by.empty()) w.FieldBinary(6, meta.created_by);
  if (meta.type_defined_column_order) {
    w.FieldList(7, thrift::kStruct, leaves);
    for (size_t i = 0; i < leaves; ++i) {
      w.BeginStruct();
      w.FieldStruct(1);  // TYPE_ORDER: TypeDefinedOrder {}
      w.EndStruct();
      w.EndStruct();
    }
  }
  w.EndStruct();
}

void SerializePageHeader(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.FieldI32(1, h.type);
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.type == kDataPage) {
    w.FieldStruct(5);
    w.FieldI32(1, h.num_values);
    w.FieldI32(2, h.encoding);
    w.FieldI32(3, h.definition_level_encoding);
    w.FieldI32(4, h.repetition_level_encoding);
    w.EndStruct();
  } else if (h.type == kDictionaryPage) {
    w.FieldStruct(7);
    w.FieldI32(1, h.num_values);
    w.FieldI32(2, h.encoding);
    w.EndStruct();
  }
  w.EndStruct();
}

namespace {

// Calls field(type, id) for every field of the struct the reader stands in;
// `field` reads or Skips the value.
template <class Field>
void ReadFields(CompactReader& r, Field field) {
  CType t;
  int16_t id;
  while (r.NextField(&t, &id)) field(t, id);
}

// ReadFields over a nested struct value.
template <class Field>
void ReadStruct(CompactReader& r, Field field) {
  r.BeginStruct();
  ReadFields(r, field);
  r.EndStruct();
}

// Calls element() once for every element of a list value.
template <class Element>
void ReadList(CompactReader& r, Element element) {
  CType et;
  uint32_t n;
  r.ReadListHeader(&et, &n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) element();
}

// Appends one parsed element per list element to `out`.
template <class T, class Parse>
void ReadListInto(CompactReader& r, std::vector<T>* out, Parse parse) {
  ReadList(r, [&] {
    T item;
    parse(&item);
    out->push_back(std::move(item));
  });
}

void ParseStatistics(CompactReader& r, Statistics* s) {
  std::string legacy_min, legacy_max;
  bool has_legacy_min = false, has_legacy_max = false;
  ReadStruct(r, [&](CType t, int16_t id) {
    if (id == 1 && t == thrift::kBinary) {
      legacy_max = r.ReadBinary();
      has_legacy_max = true;
    } else if (id == 2 && t == thrift::kBinary) {
      legacy_min = r.ReadBinary();
      has_legacy_min = true;
    } else if (id == 3 && t == thrift::kI64) {
      s->null_count = r.ReadI64();
    } else if (id == 5 && t == thrift::kBinary) {
      s->max_value = r.ReadBinary();
      s->has_max = true;
    } else if (id == 6 && t == thrift::kBinary) {
      s->min_value = r.ReadBinary();
      s->has_min = true;
    } else {
      r.Skip(t);
    }
  });
  if (!s->has_min && has_legacy_min) {
    s->min_value = legacy_min;
    s->has_min = true;
  }
  if (!s->has_max && has_legacy_max) {
    s->max_value = legacy_max;
    s->has_max = true;
  }
}

void ParseLogical(CompactReader& r, SchemaElement* e) {
  ReadStruct(r, [&](CType t, int16_t id) {
    if (t != thrift::kStruct) return r.Skip(t);
    e->logical = id;
    if (id != kTimestampLogical) return r.Skip(t);
    ReadStruct(r, [&](CType t2, int16_t id2) {
      if (id2 == 1) {
        e->ts_adjusted_to_utc = t2 == thrift::kBoolTrue;
      } else if (id2 == 2 && t2 == thrift::kStruct) {
        ReadStruct(r, [&](CType t3, int16_t id3) {
          e->ts_unit = id3;
          r.Skip(t3);
        });
      } else {
        r.Skip(t2);
      }
    });
  });
}

void ParseSchemaElement(CompactReader& r, SchemaElement* e) {
  ReadStruct(r, [&](CType t, int16_t id) {
    switch (id) {
      case 1:
        e->type = r.ReadI32();
        break;
      case 2:
        e->type_length = r.ReadI32();
        break;
      case 3:
        e->repetition = r.ReadI32();
        break;
      case 4:
        e->name = r.ReadBinary();
        break;
      case 5:
        e->num_children = r.ReadI32();
        break;
      case 6:
        e->converted_type = r.ReadI32();
        break;
      case 10:
        if (t == thrift::kStruct) {
          ParseLogical(r, e);
        } else {
          r.Skip(t);
        }
        break;
      default:
        r.Skip(t);
    }
  });
}

void ParseColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  ReadStruct(r, [&](CType t, int16_t id) {
    switch (id) {
      case 1:
        m->type = r.ReadI32();
        break;
      case 2:
        ReadList(r, [&] { m->encodings.push_back(r.ReadI32()); });
        break;
      case 3:
        ReadList(r, [&] { m->path_in_schema.emplace_back(r.ReadBinary()); });
        break;
      case 4:
        m->codec = r.ReadI32();
        break;
      case 5:
        m->num_values = r.ReadI64();
        break;
      case 6:
        m->total_uncompressed_size = r.ReadI64();
        break;
      case 7:
        m->total_compressed_size = r.ReadI64();
        break;
      case 9:
        m->data_page_offset = r.ReadI64();
        break;
      case 11:
        m->dictionary_page_offset = r.ReadI64();
        break;
      case 12:
        if (t == thrift::kStruct) {
          ParseStatistics(r, &m->statistics);
        } else {
          r.Skip(t);
        }
        break;
      default:
        r.Skip(t);
    }
  });
}

void ParseColumnChunk(CompactReader& r, ColumnChunk* cc) {
  ReadStruct(r, [&](CType t, int16_t id) {
    if (id == 2) {
      cc->file_offset = r.ReadI64();
    } else if (id == 3 && t == thrift::kStruct) {
      ParseColumnMetaData(r, &cc->meta_data);
    } else {
      r.Skip(t);
    }
  });
}

void ParseRowGroup(CompactReader& r, RowGroup* rg) {
  ReadStruct(r, [&](CType t, int16_t id) {
    if (id == 1 && t == thrift::kList) {
      ReadListInto(r, &rg->columns, [&](ColumnChunk* cc) { ParseColumnChunk(r, cc); });
    } else if (id == 2) {
      rg->total_byte_size = r.ReadI64();
    } else if (id == 3) {
      rg->num_rows = r.ReadI64();
    } else {
      r.Skip(t);
    }
  });
}

void ParseKeyValue(CompactReader& r, std::pair<std::string, std::string>* kv) {
  ReadStruct(r, [&](CType t, int16_t id) {
    if (id == 1) {
      kv->first = r.ReadBinary();
    } else if (id == 2) {
      kv->second = r.ReadBinary();
    } else {
      r.Skip(t);
    }
  });
}

}  // namespace

Status ParseFileMetaData(std::string_view data, FileMetaData* meta) {
  CompactReader r(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  meta->type_defined_column_order = false;
  ReadFields(r, [&](CType t, int16_t id) {
    if (id == 1) {
      meta->version = r.ReadI32();
    } else if (id == 2 && t == thrift::kList) {
      ReadListInto(r, &meta->schema, [&](SchemaElement* e) { ParseSchemaElement(r, e); });
    } else if (id == 3) {
      meta->num_rows = r.ReadI64();
    } else if (id == 4 && t == thrift::kList) {
      ReadListInto(r, &meta->row_groups, [&](RowGroup* rg) { ParseRowGroup(r, rg); });
    } else if (id == 5 && t == thrift::kList) {
      ReadListInto(r, &meta->key_value_metadata,
                   [&](std::pair<std::string, std::string>* kv) { ParseKeyValue(r, kv); });
    } else if (id == 6) {
      meta->created_by = r.ReadBinary();
    } else if (id == 7) {
      meta->type_defined_column_order = true;
      r.Skip(t);
    } else {
      r.Skip(t);
    }
  });
  if (!r.ok()) return DataLossError("parquet: malformed FileMetaData");
  return Status::Ok();
}

Status ParsePageHeader(std::string_view data, PageHeader* h, size_t* header_size) {
  CompactReader r(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  ReadFields(r, [&](CType t, int16_t id) {
    if (id == 1) {
      h->type = r.ReadI32();
    } else if (id == 2) {
      h->uncompressed_page_size = r.ReadI32();
    } else if (id == 3) {
      h->compressed_page_size = r.ReadI32();
    } else if ((id == 5 || id == 7 || id == 8) && t == thrift::kStruct) {
      // Data page (5), dictionary page (7), data page v2 (8).
      ReadStruct(r, [&](CType t2, int16_t id2) {
        if (id2 == 1) {
          h->num_values = r.ReadI32();
        } else if (id == 8 && id2 == 2) {
          h->num_nulls = r.ReadI32();
        } else if (id == 8 && id2 == 3) {
          h->num_rows = r.ReadI32();
        } else if ((id != 8 && id2 == 2) || (id == 8 && id2 == 4)) {
          h->encoding = r.ReadI32();
        } else if (id == 5 && id2 == 3) {
          h->definition_level_encoding = r.ReadI32();
        } else if (id == 5 && id2 == 4) {
          h->repetition_level_encoding = r.ReadI32();
        } else if (id == 8 && id2 == 5) {
          h->definition_levels_byte_length = r.ReadI32();
        } else if (id == 8 && id2 == 6) {
          h->repetition_levels_byte_length = r.ReadI32();
        } else if (id == 8 && id2 == 7) {
          h->is_compressed = t2 == thrift::kBoolTrue;
        } else {
          r.Skip(t2);
        }
      });
    } else {
      r.Skip(t);
    }
  });
  if (!r.ok() || h->compressed_page_size < 0 || h->uncompressed_page_size < 0 ||
      h->num_values < 0) {
    return DataLossError("parquet: malformed page header");
  }
  *header_size = r.position();
  return Status::Ok();
}

}  // namespace pinpipe::table::parquet
