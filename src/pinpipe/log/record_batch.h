// The record batch: the unit the embedded log writes, checksums and reads.
//
// A batch is a fixed 40-byte header followed by its records; every field is
// little-endian. The layout is specified in docs/formats/log.md:
//
//   0  int64  base_offset     offset of the first record
//   8  uint32 batch_length    bytes after this field (header rest + records)
//   12 uint32 crc             CRC32C of every byte after this field
//   16 uint8  magic           kBatchMagic
//   17 uint8  attributes      0 (reserved for compression)
//   18 uint16 reserved        0
//   20 uint32 record_count    >= 1
//   24 int64  first_timestamp timestamp of the first record (ms)
//   32 int64  max_timestamp   largest record timestamp (ms)
//   40 records, each:
//        uint32 record_length (bytes after this field)
//        int64  timestamp_ms
//        int32  key_length (-1: null key)      key bytes
//        int32  value_length (-1: null value)  value bytes
//        uint32 header_count, then per header: uint32 key_length, key,
//                                              uint32 value_length, value
//
// Record i of a batch has offset base_offset + i. Decoding never trusts a
// length: every field is bounds-checked and a mismatch is a DataLoss Status.
// Thread-safety: pure functions over caller-owned buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::log {

inline constexpr size_t kBatchHeaderSize = 40;
inline constexpr size_t kBatchLengthFieldEnd = 12;  // bytes before batch_length counts
inline constexpr uint8_t kBatchMagic = 1;
// Largest batch accepted on read or write (a sanity bound for lengths).
inline constexpr uint32_t kMaxBatchBytes = 64u << 20;

// A record to append; views into the caller's memory.
struct RecordView {
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  int64_t timestamp_ms = 0;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

// A record read back from the log.
struct LogRecord {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A record read back without copying: views into the bytes it was decoded
// from (see ReadBuffer).
struct LogRecordRef {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

// A copy of `ref` that owns its bytes.
LogRecord ToLogRecord(const LogRecordRef& ref);

struct BatchHeader {
  int64_t base_offset = 0;
  uint32_t batch_length = 0;
  uint32_t crc = 0;
  uint32_t record_count = 0;
  int64_t first_timestamp = 0;
  int64_t max_timestamp = 0;
  // Bytes of the whole batch on disk.
  size_t TotalSize() const { return kBatchLengthFieldEnd + batch_length; }
  int64_t NextOffset() const { return base_offset + record_count; }
};

// Bytes one record occupies inside a batch.
size_t EncodedRecordSize(const RecordView& record);

// Appends the encoded batch of `records` (non-empty) with `base_offset` to `out`.
void EncodeBatch(int64_t base_offset, std::span<const RecordView> records, std::string* out);

// Parses and sanity-checks the 40-byte header at the start of `data` (which
// needs at least kBatchHeaderSize bytes). Does not check the CRC. DataLoss
// for a bad magic, a length out of bounds or a record count of zero.
Result<BatchHeader> DecodeBatchHeader(std::string_view data);

// Verifies the CRC of the whole batch in `batch` (exactly header.TotalSize()
// bytes) and decodes the records whose offset is >= min_offset into `out`.
// DataLoss when the CRC or any record is malformed; `out` is unchanged then.
Status DecodeBatch(std::string_view batch, const BatchHeader& header, int64_t min_offset,
                   std::vector<LogRecord>* out);

// Decodes, without checking the CRC, the records of `batch` whose offsets are
// in [min_offset, end_offset), at most max_records of them, appending views
// into `batch` to `out`. DataLoss when a record is malformed; `out` is
// unchanged then.
Status DecodeBatchRefs(std::string_view batch, const BatchHeader& header, int64_t min_offset,
                       int64_t end_offset, size_t max_records, std::vector<LogRecordRef>* out);

// The bytes and records of Partition::ReadInto: whole batches as read from
// the segments, and views of the records into them. The views stay valid
// until the buffer is read into again or destroyed; reading into the same
// buffer again reuses its memory (no allocation and no page faults in the
// steady state).
class ReadBuffer {
 public:
  ReadBuffer() = default;
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  const std::vector<LogRecordRef>& records() const { return records_; }
  // Bytes of the batches read (read-ahead included).
  size_t size() const { return size_; }

  // Forgets the bytes and records; keeps the memory.
  void Clear();

 private:
  friend class Segment;
  friend class Partition;
  struct Batch {
    size_t pos;  // in bytes_
    BatchHeader header;
  };
  // Makes room for `n` more bytes at the end and returns where they go (not
  // initialized). Moves the bytes when it grows, so positions, not pointers,
  // are kept until Decode.
  char* Extend(size_t n);
  void Shrink(size_t size) { size_ = size; }
  // Decodes the batches into records with offsets in [min_offset,
  // end_offset), at most max_records. A malformed batch ends the records
  // there, or is returned as DataLoss when no record comes before it.
  Status Decode(int64_t min_offset, int64_t end_offset, size_t max_records);

  std::unique_ptr<char[]> bytes_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  std::vector<Batch> batches_;
  std::vector<LogRecordRef> records_;
};

// Verifies the CRC only.
Status VerifyBatchCrc(std::string_view batch, const BatchHeader& header);

}  // namespace pinpipe::log
