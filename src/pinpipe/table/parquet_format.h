// Parquet file metadata: the subset of apache/parquet-format's parquet.thrift
// that pinpipe writes and reads, with its Thrift compact serialization.
//
// Field ids and enum values follow parquet.thrift exactly. Unknown fields are
// skipped when parsing, so files from other writers parse too. Plain values;
// not synchronized.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::table::parquet {

enum PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};
enum Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
enum Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kRleDictionary = 8,
};
enum CompressionCodec : int32_t { kUncompressed = 0, kSnappy = 1, kGzip = 2, kZstd = 6 };
enum ConvertedType : int32_t {
  kNoConverted = -1,
  kUtf8 = 0,
  kMap = 1,
  kMapKeyValue = 2,
  kList = 3,
  kTimestampMillis = 9,
  kTimestampMicros = 10,
};
// The LogicalType union's field ids (0 = absent).
enum LogicalKind : int32_t {
  kNoLogical = 0,
  kStringLogical = 1,
  kMapLogical = 2,
  kListLogical = 3,
  kTimestampLogical = 8,
};
enum PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

struct SchemaElement {
  int32_t type = -1;  // PhysicalType, -1 for groups
  int32_t type_length = -1;
  int32_t repetition = -1;  // -1 only for the root
  std::string name;
  int32_t num_children = -1;  // -1 for leaves
  int32_t converted_type = kNoConverted;
  int32_t logical = kNoLogical;
  bool ts_adjusted_to_utc = true;
  int32_t ts_unit = 2;  // TimeUnit union field: 1 MILLIS, 2 MICROS, 3 NANOS
};

struct Statistics {
  bool has_min = false;
  bool has_max = false;
  std::string min_value;  // plain encoding of the value
  std::string max_value;
  int64_t null_count = -1;  // -1 = absent
};

struct ColumnMetaData {
  int32_t type = 0;
  std::vector<int32_t> encodings;
  std::vector<std::string> path_in_schema;
  int32_t codec = kUncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;  // -1 = absent
  Statistics statistics;
};

struct ColumnChunk {
  int64_t file_offset = 0;
  ColumnMetaData meta_data;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
  int64_t file_offset = -1;
  int64_t total_compressed_size = -1;
  int32_t ordinal = -1;
};

struct FileMetaData {
  int32_t version = 1;
  std::vector<SchemaElement> schema;  // depth-first, root first
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  std::string created_by;
  bool type_defined_column_order = true;  // write column_orders (TypeDefinedOrder per leaf)
};

struct PageHeader {
  int32_t type = kDataPage;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  // DATA_PAGE / DICTIONARY_PAGE / DATA_PAGE_V2 common parts
  int32_t num_values = 0;
  int32_t encoding = kPlain;
  int32_t definition_level_encoding = kRle;
  int32_t repetition_level_encoding = kRle;
  // DATA_PAGE_V2 only (read support)
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

void SerializeFileMetaData(const FileMetaData& meta, std::string* out);
void SerializePageHeader(const PageHeader& header, std::string* out);

// DataLoss on malformed input.
Status ParseFileMetaData(std::string_view data, FileMetaData* meta);
// Sets *header_size to the bytes the header took.
Status ParsePageHeader(std::string_view data, PageHeader* header, size_t* header_size);

}  // namespace pinpipe::table::parquet
