// Segment: one file of a partition's log, `<base_offset:020>.log`, holding
// record batches with consecutive offsets starting at base_offset, plus its
// sparse offset index and time index.
//
// The indexes live in memory. Once a segment is closed (rolled), they are
// also persisted as `<base>.index` and `<base>.timeindex` (WriteIndexFiles;
// format in docs/formats/log.md), so that opening a closed segment reads
// those two small files and the segment's last index interval instead of
// scanning the whole segment. Index files that are missing, fail their CRC
// or do not match the segment (size, offsets, the batches after the last
// entry) are ignored: the segment is scanned, which rebuilds the indexes and
// verifies every batch's CRC, and the files are rewritten.
//
// The scan is also where recovery happens: a torn or corrupt tail of the
// partition's last segment is cut off; a corrupt batch elsewhere is recorded
// as a lost offset range that reads report as DataLoss, while everything
// before it stays readable. A segment with lost ranges gets no index files,
// so it is scanned (and its loss reported) on every open.
//
// Ownership: held by shared_ptr from its Partition and from readers in
// flight, so a segment deleted by retention stays readable until they finish.
// Thread-safety: one writer (the partition's append lock holder) and any
// number of concurrent readers.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pinpipe/base/file.h"
#include "pinpipe/base/status.h"
#include "pinpipe/log/record_batch.h"

namespace pinpipe::log {

// What recovery found in one segment.
struct SegmentScan {
  int64_t truncated_bytes = 0;      // torn tail cut off (last segment only)
  int64_t truncated_at = -1;        // file position of the cut
  std::vector<std::string> losses;  // mid-log corruption, one message per lost range
  int64_t scanned_bytes = 0;        // bytes of the segment read batch by batch
  bool index_loaded = false;        // closed segment opened from its index files
  // Closed segment whose index files could not be used: why ("missing",
  // "bad CRC", ...); they were rebuilt by the scan and rewritten (unless the
  // segment lost data). Empty otherwise.
  std::string index_rebuilt;
};

// Offsets [from, to) of a segment that cannot be read back (to == -1: until
// the end of the segment).
struct LostRange {
  int64_t from = 0;
  int64_t to = -1;
  int64_t position = 0;  // file position of the first bad byte
  std::string reason;
};

class Segment {
 public:
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // The file name of the segment starting at base_offset.
  static std::string FileName(int64_t base_offset);
  // Parses a FileName; nullopt for other names.
  static std::optional<int64_t> ParseFileName(const std::string& name);
  // `<base_offset:020>.index` and `<base_offset:020>.timeindex`.
  static std::string IndexFileName(int64_t base_offset);
  static std::string TimeIndexFileName(int64_t base_offset);

  // Creates a new empty segment file (fails if it exists). Files go through
  // `fs` (nullptr: FileSystem::Default()), which must outlive the segment.
  static Result<std::shared_ptr<Segment>> Create(const std::filesystem::path& dir,
                                                 int64_t base_offset, int64_t index_interval_bytes,
                                                 FileSystem* fs = nullptr);

  // Opens an existing segment (see the class comment). When `is_last` (the
  // active segment) it is scanned, from the end of the prefix its index
  // files describe when they are valid (written by a clean close), else from
  // the start (and the files are deleted); a bad tail is truncated
  // (reported in `scan`). Otherwise its index files are loaded when valid;
  // if not, it is scanned, a bad tail is recorded as a LostRange, and the
  // index files are rewritten when nothing was lost. IO errors are returned
  // as Status (codes per base/file.h), never taken for corruption.
  static Result<std::shared_ptr<Segment>> Open(const std::filesystem::path& path,
                                               int64_t base_offset, bool is_last,
                                               int64_t index_interval_bytes, SegmentScan* scan,
                                               FileSystem* fs = nullptr);

  int64_t base_offset() const { return base_offset_; }
  // The offset after the last complete batch.
  int64_t next_offset() const { return next_offset_.load(std::memory_order_acquire); }
  int64_t size() const { return size_.load(std::memory_order_acquire); }
  // Largest record timestamp, or INT64_MIN when empty.
  int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }
  // first_timestamp of the first batch, or nullopt when empty.
  std::optional<int64_t> first_timestamp() const;
  const std::filesystem::path& path() const { return path_; }
  std::vector<LostRange> lost_ranges() const;

  // Appends one encoded batch (writer only). On a write error the file is cut
  // back to its previous size and the error returned.
  Status Append(std::string_view bytes, const BatchHeader& header);
  // Appends several encoded batches with one write(2).
  Status AppendMany(std::string_view bytes, const std::vector<BatchHeader>& headers);

  // fdatasync.
  Status Sync();

  // Appends to `out` the whole batches holding records with offset >=
  // `offset` and < `end_offset`, each checked against its CRC, until
  // `*records` (records in that range read so far, updated) reaches
  // max_records or `*bytes` (batch bytes read so far, updated) reaches
  // max_bytes. `*next` becomes the offset after the last record in range
  // read. DataLoss when the range holds corrupt data; the batches before it
  // stay in `out`.
  Status ReadBatches(int64_t offset, int64_t end_offset, size_t max_records, int64_t max_bytes,
                     ReadBuffer* out, size_t* records, int64_t* bytes, int64_t* next) const;

  // The first offset < end_offset whose record has timestamp >= ts, if any.
  Result<std::optional<int64_t>> FindTimestamp(int64_t ts, int64_t end_offset) const;

  // Writes `<base>.index` and `<base>.timeindex` from the in-memory indexes,
  // each as temp file + fsync + rename (the caller fsyncs the folder if it
  // needs the names durable: a missing index file is only rebuilt). For a
  // closed segment, or the active one while nothing appends to it; does
  // nothing once Remove has run, and refuses a segment with lost ranges
  // (FailedPrecondition).
  Status WriteIndexFiles();

  // Unlinks the file and its index files (the open descriptor stays readable).
  Status Remove();

  // Number of sparse index entries (for tests).
  size_t IndexEntries() const;

 private:
  struct IndexEntry {
    int64_t offset;
    int64_t position;
  };
  struct TimeEntry {
    int64_t max_timestamp;  // running maximum up to and including this batch
    int64_t offset;         // base offset of the batch
    int64_t position;
  };

  Segment(FileSystem& fs, std::filesystem::path path, std::unique_ptr<File> file,
          int64_t base_offset, int64_t index_interval);
  // Scans from file position `start`, where a batch with base offset
  // `expected` begins (0 and base_offset_, or the end of a loaded prefix).
  Status Scan(bool is_last, SegmentScan* scan, int64_t start, int64_t expected);
  // Loads and checks the index files; they must describe the whole segment,
  // or with `prefix` (the active segment) at least a prefix of it. Any
  // problem is returned (DataLoss/NotFound/...) with the reason, and leaves
  // the segment as constructed.
  Status LoadIndexFiles(bool prefix);
  Status RemoveIndexFiles() const;
  std::filesystem::path SiblingPath(const std::string& name) const;
  void Track(const BatchHeader& h, int64_t position);  // index + counters (writer)
  Status ReadAt(int64_t pos, size_t n, std::string* buf) const;
  // Where to start scanning for `offset` (from the sparse index): a batch's
  // file position and its base offset.
  std::pair<int64_t, int64_t> SeekPosition(int64_t offset) const;
  const LostRange* FindLoss(int64_t offset) const;  // caller holds mu_

  FileSystem& fs_;
  std::filesystem::path path_;
  std::unique_ptr<File> file_;
  const int64_t base_offset_;
  const int64_t index_interval_;
  std::atomic<int64_t> next_offset_;
  std::atomic<int64_t> size_{0};
  std::atomic<int64_t> max_timestamp_;

  mutable std::mutex mu_;  // guards the indexes and lost ranges
  std::vector<IndexEntry> index_;
  std::vector<TimeEntry> time_index_;
  std::vector<LostRange> lost_;
  std::optional<int64_t> first_timestamp_;
  int64_t last_index_pos_ = -1;
  int64_t last_time_pos_ = -1;

  std::mutex files_mu_;  // serialises WriteIndexFiles and Remove
  bool removed_ = false;
};

}  // namespace pinpipe::log
