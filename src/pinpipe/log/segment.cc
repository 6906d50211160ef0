#include "pinpipe/log/segment.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "pinpipe/log/crc32c.h"
#include "pinpipe/log/little_endian.h"

namespace pinpipe::log {
namespace {

constexpr size_t kReadChunk = 256 << 10;

// Reads a file through a window buffer so that scanning many small batches
// costs one pread per chunk rather than two per batch.
class WindowReader {
 public:
  WindowReader(const File& file, int64_t limit, size_t chunk = kReadChunk)
      : file_(file), limit_(limit), chunk_(static_cast<int64_t>(chunk)) {}

  // Points *out at bytes [pos, pos+n) of the file. OutOfRange when the file
  // (up to `limit`) is shorter.
  Status Get(int64_t pos, size_t n, std::string_view* out) {
    if (pos < 0 || pos + static_cast<int64_t>(n) > limit_) {
      return OutOfRangeError("read beyond end of segment");
    }
    if (pos < buf_pos_ || pos + static_cast<int64_t>(n) > buf_pos_ + static_cast<int64_t>(len_)) {
      const size_t want = std::max<size_t>(n, std::min<int64_t>(chunk_, limit_ - pos));
      if (buf_.size() < want) buf_.resize(want);
      PINPIPE_ASSIGN_OR_RETURN(const size_t got, file_.ReadAt(pos, buf_.data(), want));
      buf_pos_ = pos;
      len_ = got;
      if (got < n) return OutOfRangeError("segment shorter than expected");
    }
    *out = std::string_view(buf_.data() + (pos - buf_pos_), n);
    return Status::Ok();
  }

 private:
  const File& file_;
  int64_t limit_;
  int64_t chunk_;
  std::string buf_;
  int64_t buf_pos_ = 0;
  size_t len_ = 0;
};

// Checks the batch at `pos`: header, expected base offset (when >= 0), bounds
// and CRC.
Result<BatchHeader> CheckBatch(WindowReader& rd, int64_t pos, int64_t file_size, int64_t expected) {
  if (file_size - pos < static_cast<int64_t>(kBatchHeaderSize)) {
    return DataLossError("incomplete batch header");
  }
  std::string_view bytes;
  PINPIPE_RETURN_IF_ERROR(rd.Get(pos, kBatchHeaderSize, &bytes));
  PINPIPE_ASSIGN_OR_RETURN(BatchHeader h, DecodeBatchHeader(bytes));
  if (expected >= 0 && h.base_offset != expected) {
    return DataLossError("batch base offset " + std::to_string(h.base_offset) + ", expected " +
                         std::to_string(expected));
  }
  if (pos + static_cast<int64_t>(h.TotalSize()) > file_size) {
    return DataLossError("incomplete batch");
  }
  PINPIPE_RETURN_IF_ERROR(rd.Get(pos, h.TotalSize(), &bytes));
  PINPIPE_RETURN_IF_ERROR(VerifyBatchCrc(bytes, h));
  return h;
}

// ---- Index files (docs/formats/log.md, "Index files") ----------------------

constexpr char kOffsetIndexMagic[8] = {'P', 'P', 'O', 'F', 'F', 'I', 'D', 'X'};
constexpr char kTimeIndexMagic[8] = {'P', 'P', 'T', 'I', 'M', 'I', 'D', 'X'};
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kIndexHeaderSize = 64;
constexpr size_t kOffsetEntrySize = 12;  // uint32 relative offset, int64 position
constexpr size_t kTimeEntrySize = 20;    // int64 max timestamp, uint32 relative offset, int64 pos
constexpr size_t kIndexCrcSize = 4;
// Index files larger than this are not believed (a segment would need
// hundreds of GiB for it).
constexpr int64_t kMaxIndexFileBytes = 256 << 20;

using internal::GetAt;
using internal::PutLe;

// The fields of an index file's header.
struct IndexHeader {
  uint32_t entry_count = 0;
  int64_t base_offset = 0;
  int64_t segment_size = 0;
  int64_t next_offset = 0;
  int64_t first_timestamp = INT64_MIN;
  int64_t max_timestamp = INT64_MIN;
  int64_t index_interval = 0;
};

void EncodeIndexHeader(const char (&magic)[8], const IndexHeader& h, std::string* out) {
  out->append(magic, 8);
  PutLe<uint32_t>(out, kIndexVersion);
  PutLe<uint32_t>(out, h.entry_count);
  PutLe<int64_t>(out, h.base_offset);
  PutLe<int64_t>(out, h.segment_size);
  PutLe<int64_t>(out, h.next_offset);
  PutLe<int64_t>(out, h.first_timestamp);
  PutLe<int64_t>(out, h.max_timestamp);
  PutLe<int64_t>(out, h.index_interval);
}

// Checks magic, version, length and CRC of a whole index file and decodes
// its header; DataLoss with the reason otherwise.
Result<IndexHeader> DecodeIndexFile(std::string_view file, const char (&magic)[8],
                                    size_t entry_size) {
  if (file.size() < kIndexHeaderSize + kIndexCrcSize) return DataLossError("truncated");
  if (std::memcmp(file.data(), magic, 8) != 0) return DataLossError("bad magic");
  const size_t body = file.size() - kIndexCrcSize;
  if (Crc32cExtend(0, file.data(), body) != GetAt<uint32_t>(file.data() + body)) {
    return DataLossError("bad CRC");
  }
  if (GetAt<uint32_t>(file.data() + 8) != kIndexVersion) return DataLossError("unknown version");
  IndexHeader h;
  h.entry_count = GetAt<uint32_t>(file.data() + 12);
  h.base_offset = GetAt<int64_t>(file.data() + 16);
  h.segment_size = GetAt<int64_t>(file.data() + 24);
  h.next_offset = GetAt<int64_t>(file.data() + 32);
  h.first_timestamp = GetAt<int64_t>(file.data() + 40);
  h.max_timestamp = GetAt<int64_t>(file.data() + 48);
  h.index_interval = GetAt<int64_t>(file.data() + 56);
  if (body - kIndexHeaderSize != static_cast<size_t>(h.entry_count) * entry_size) {
    return DataLossError("entry count does not match the file length");
  }
  return h;
}

// Reads a whole (small) index file. NotFound when it does not exist.
Result<std::string> ReadSmallFile(FileSystem& fs, const std::filesystem::path& path) {
  auto data = fs.ReadFile(path, kMaxIndexFileBytes);
  if (!data.ok() && data.status().code() == StatusCode::kOutOfRange) {
    return DataLossError("implausibly large");
  }
  return data;
}

// Unlinks `path`; a missing file is fine.
Status RemoveIfExists(FileSystem& fs, const std::filesystem::path& path) {
  Status s = fs.Remove(path);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

}  // namespace

Segment::Segment(FileSystem& fs, std::filesystem::path path, std::unique_ptr<File> file,
                 int64_t base_offset, int64_t index_interval)
    : fs_(fs),
      path_(std::move(path)),
      file_(std::move(file)),
      base_offset_(base_offset),
      index_interval_(std::max<int64_t>(index_interval, 1)),
      next_offset_(base_offset),
      max_timestamp_(INT64_MIN) {}

Segment::~Segment() = default;

std::string Segment::FileName(int64_t base_offset) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020lld.log", static_cast<long long>(base_offset));
  return name;
}

std::string Segment::IndexFileName(int64_t base_offset) {
  return FileName(base_offset).substr(0, 20) + ".index";
}

std::string Segment::TimeIndexFileName(int64_t base_offset) {
  return FileName(base_offset).substr(0, 20) + ".timeindex";
}

std::filesystem::path Segment::SiblingPath(const std::string& name) const {
  return path_.parent_path() / name;
}

std::optional<int64_t> Segment::ParseFileName(const std::string& name) {
  if (name.size() != 24 || name.substr(20) != ".log") return std::nullopt;
  int64_t v = 0;
  for (int i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    if (v > (INT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

Result<std::shared_ptr<Segment>> Segment::Create(const std::filesystem::path& dir,
                                                 int64_t base_offset, int64_t index_interval_bytes,
                                                 FileSystem* fs) {
  FileSystem& files = FileSystem::OrDefault(fs);
  auto path = dir / FileName(base_offset);
  PINPIPE_ASSIGN_OR_RETURN(auto file, files.Open(path, OpenMode::kCreateNew));
  return std::shared_ptr<Segment>(
      new Segment(files, path, std::move(file), base_offset, index_interval_bytes));
}

Result<std::shared_ptr<Segment>> Segment::Open(const std::filesystem::path& path,
                                               int64_t base_offset, bool is_last,
                                               int64_t index_interval_bytes, SegmentScan* scan,
                                               FileSystem* fs) {
  FileSystem& files = FileSystem::OrDefault(fs);
  PINPIPE_ASSIGN_OR_RETURN(auto file, files.Open(path, OpenMode::kAppend));
  std::shared_ptr<Segment> seg(
      new Segment(files, path, std::move(file), base_offset, index_interval_bytes));
  Status loaded = seg->LoadIndexFiles(/*prefix=*/is_last);
  if (loaded.code() != StatusCode::kOk && loaded.code() != StatusCode::kDataLoss &&
      loaded.code() != StatusCode::kNotFound && loaded.code() != StatusCode::kOutOfRange) {
    return loaded;  // an IO error: do not paper over it with a rewrite
  }
  if (is_last) {
    // The active segment: index files (from a clean close) describe a prefix
    // of it, and the scan resumes where they end.
    if (loaded.ok()) {
      scan->index_loaded = true;
      PINPIPE_RETURN_IF_ERROR(seg->Scan(true, scan, seg->size(), seg->next_offset()));
    } else {
      PINPIPE_RETURN_IF_ERROR(seg->RemoveIndexFiles());
      PINPIPE_RETURN_IF_ERROR(seg->Scan(true, scan, 0, base_offset));
    }
    return seg;
  }
  if (loaded.ok()) {
    scan->index_loaded = true;
    return seg;
  }
  scan->index_rebuilt = loaded.code() == StatusCode::kNotFound ? "missing" : loaded.message();
  PINPIPE_RETURN_IF_ERROR(seg->Scan(false, scan, 0, base_offset));
  if (scan->losses.empty()) {
    PINPIPE_RETURN_IF_ERROR(seg->WriteIndexFiles());
  } else {
    PINPIPE_RETURN_IF_ERROR(seg->RemoveIndexFiles());
  }
  return seg;
}

Status Segment::LoadIndexFiles(bool prefix) {
  PINPIPE_ASSIGN_OR_RETURN(const int64_t file_size, file_->Size());
  const auto index_path = SiblingPath(IndexFileName(base_offset_));
  const auto time_path = SiblingPath(TimeIndexFileName(base_offset_));
  auto index_file = ReadSmallFile(fs_, index_path);
  if (!index_file.ok()) {
    if (index_file.status().code() == StatusCode::kNotFound) return NotFoundError("missing");
    return index_file.status();
  }
  auto time_file = ReadSmallFile(fs_, time_path);
  if (!time_file.ok()) {
    if (time_file.status().code() == StatusCode::kNotFound) return NotFoundError("missing");
    return time_file.status();
  }
  auto ih = DecodeIndexFile(*index_file, kOffsetIndexMagic, kOffsetEntrySize);
  if (!ih.ok()) return DataLossError(index_path.filename().string() + ": " + ih.status().message());
  auto th = DecodeIndexFile(*time_file, kTimeIndexMagic, kTimeEntrySize);
  if (!th.ok()) return DataLossError(time_path.filename().string() + ": " + th.status().message());
  auto mismatch = [&](const std::string& what) {
    return DataLossError("index files do not match " + path_.filename().string() + ": " + what);
  };
  if (ih->base_offset != base_offset_ || th->base_offset != base_offset_) {
    return mismatch("base offset");
  }
  if (ih->segment_size != th->segment_size ||
      (prefix ? ih->segment_size > file_size : ih->segment_size != file_size)) {
    return mismatch("segment size " + std::to_string(file_size) + ", indexed " +
                    std::to_string(ih->segment_size));
  }
  const int64_t indexed_size = ih->segment_size;
  if (ih->next_offset != th->next_offset || ih->max_timestamp != th->max_timestamp ||
      ih->first_timestamp != th->first_timestamp) {
    return mismatch("the two index files disagree");
  }
  const int64_t span = ih->next_offset - base_offset_;
  if (span < 0 || span > static_cast<int64_t>(UINT32_MAX) + 1) return mismatch("next offset");
  if ((indexed_size == 0) != (span == 0) || (indexed_size == 0) != (ih->entry_count == 0)) {
    return mismatch("empty segment");
  }

  std::vector<IndexEntry> index;
  index.reserve(ih->entry_count);
  const char* p = index_file->data() + kIndexHeaderSize;
  for (uint32_t i = 0; i < ih->entry_count; ++i, p += kOffsetEntrySize) {
    const int64_t rel = GetAt<uint32_t>(p);
    const int64_t pos = GetAt<int64_t>(p + 4);
    if (rel >= span || pos < 0 || pos >= indexed_size) {
      return mismatch("offset index entry out of range");
    }
    if (i == 0 ? (rel != 0 || pos != 0)
               : (rel <= index.back().offset - base_offset_ || pos <= index.back().position)) {
      return mismatch("offset index entries out of order");
    }
    index.push_back({base_offset_ + rel, pos});
  }
  std::vector<TimeEntry> time_index;
  time_index.reserve(th->entry_count);
  p = time_file->data() + kIndexHeaderSize;
  for (uint32_t i = 0; i < th->entry_count; ++i, p += kTimeEntrySize) {
    const int64_t ts = GetAt<int64_t>(p);
    const int64_t rel = GetAt<uint32_t>(p + 8);
    const int64_t pos = GetAt<int64_t>(p + 12);
    if (rel >= span || pos < 0 || pos >= indexed_size || ts > th->max_timestamp) {
      return mismatch("time index entry out of range");
    }
    if (i > 0 &&
        (ts <= time_index.back().max_timestamp || rel <= time_index.back().offset - base_offset_ ||
         pos <= time_index.back().position)) {
      return mismatch("time index entries out of order");
    }
    time_index.push_back({ts, base_offset_ + rel, pos});
  }

  // The batch headers after the last offset index entry must chain from it
  // to exactly the indexed size and end offset: this catches a segment that
  // was rewritten, or zeroed or damaged at its end while keeping its size,
  // for the cost of reading the headers of one index interval. (Batch CRCs
  // are verified by every read.)
  if (!index.empty()) {
    WindowReader rd(*file_, indexed_size, 16 << 10);
    int64_t pos = index.back().position;
    int64_t expected = index.back().offset;
    int64_t tail_max = INT64_MIN;
    while (pos < indexed_size) {
      std::string_view hb;
      if (indexed_size - pos < static_cast<int64_t>(kBatchHeaderSize)) {
        return mismatch("incomplete batch header at the end");
      }
      if (Status s = rd.Get(pos, kBatchHeaderSize, &hb); !s.ok()) {
        if (s.code() == StatusCode::kOutOfRange) return mismatch(s.message());
        return s;
      }
      auto h = DecodeBatchHeader(hb);
      if (!h.ok()) return mismatch("last indexed batches: " + h.status().message());
      if (h->base_offset != expected) return mismatch("last indexed batches: base offset");
      tail_max = std::max(tail_max, h->max_timestamp);
      pos += static_cast<int64_t>(h->TotalSize());
      expected = h->NextOffset();
    }
    if (pos != indexed_size) return mismatch("last batch runs past the end");
    if (expected != ih->next_offset) return mismatch("end offset");
    if (tail_max > ih->max_timestamp) return mismatch("max timestamp");
  }

  std::lock_guard lock(mu_);
  index_ = std::move(index);
  time_index_ = std::move(time_index);
  last_index_pos_ = index_.empty() ? -1 : index_.back().position;
  last_time_pos_ = time_index_.empty() ? -1 : time_index_.back().position;
  if (indexed_size > 0) first_timestamp_ = ih->first_timestamp;
  max_timestamp_.store(ih->max_timestamp, std::memory_order_release);
  size_.store(indexed_size, std::memory_order_release);
  next_offset_.store(ih->next_offset, std::memory_order_release);
  return Status::Ok();
}

Status Segment::WriteIndexFiles() {
  std::lock_guard files_lock(files_mu_);
  if (removed_) return Status::Ok();
  IndexHeader h;
  std::string index_file;
  std::string time_file;
  {
    std::lock_guard lock(mu_);
    if (!lost_.empty()) {
      return FailedPreconditionError(path_.string() + " has lost data; it is not indexed");
    }
    h.base_offset = base_offset_;
    h.segment_size = size();
    h.next_offset = next_offset();
    h.first_timestamp = first_timestamp_.value_or(INT64_MIN);
    h.max_timestamp = max_timestamp();
    h.index_interval = index_interval_;
    if (h.next_offset - base_offset_ > static_cast<int64_t>(UINT32_MAX) + 1) {
      return FailedPreconditionError(path_.string() + " holds too many offsets to index");
    }
    h.entry_count = static_cast<uint32_t>(index_.size());
    index_file.reserve(kIndexHeaderSize + index_.size() * kOffsetEntrySize + kIndexCrcSize);
    EncodeIndexHeader(kOffsetIndexMagic, h, &index_file);
    for (const IndexEntry& e : index_) {
      PutLe<uint32_t>(&index_file, static_cast<uint32_t>(e.offset - base_offset_));
      PutLe<int64_t>(&index_file, e.position);
    }
    h.entry_count = static_cast<uint32_t>(time_index_.size());
    time_file.reserve(kIndexHeaderSize + time_index_.size() * kTimeEntrySize + kIndexCrcSize);
    EncodeIndexHeader(kTimeIndexMagic, h, &time_file);
    for (const TimeEntry& e : time_index_) {
      PutLe<int64_t>(&time_file, e.max_timestamp);
      PutLe<uint32_t>(&time_file, static_cast<uint32_t>(e.offset - base_offset_));
      PutLe<int64_t>(&time_file, e.position);
    }
  }
  PutLe<uint32_t>(&index_file, Crc32c(index_file));
  PutLe<uint32_t>(&time_file, Crc32c(time_file));
  // The caller syncs the folder when it needs the names durable.
  const AtomicWriteOptions no_dir_sync{.sync_dir = false};
  PINPIPE_RETURN_IF_ERROR(fs_.WriteFileAtomically(SiblingPath(TimeIndexFileName(base_offset_)),
                                                  time_file, no_dir_sync));
  return fs_.WriteFileAtomically(SiblingPath(IndexFileName(base_offset_)), index_file, no_dir_sync);
}

Status Segment::RemoveIndexFiles() const {
  for (const auto& name : {IndexFileName(base_offset_), TimeIndexFileName(base_offset_)}) {
    PINPIPE_RETURN_IF_ERROR(RemoveIfExists(fs_, SiblingPath(name)));
  }
  return Status::Ok();
}

Status Segment::Scan(bool is_last, SegmentScan* scan, int64_t start, int64_t expected) {
  PINPIPE_ASSIGN_OR_RETURN(int64_t file_size, file_->Size());
  WindowReader rd(*file_, file_size);
  int64_t pos = start;
  while (pos < file_size) {
    auto checked = CheckBatch(rd, pos, file_size, expected);
    if (checked.ok()) {
      Track(*checked, pos);
      pos += static_cast<int64_t>(checked->TotalSize());
      scan->scanned_bytes = pos - start;
      expected = checked->NextOffset();
      continue;
    }
    if (checked.status().code() != StatusCode::kDataLoss &&
        checked.status().code() != StatusCode::kOutOfRange) {
      return checked.status();
    }
    const std::string reason = checked.status().message();
    // Try to resynchronise: if the header's length is believable and a valid
    // batch with a later offset follows, only this batch is lost; the log
    // after it is intact (mid-log corruption rather than a torn tail).
    std::optional<BatchHeader> resync;
    int64_t resync_pos = 0;
    std::string_view hb;
    if (file_size - pos >= static_cast<int64_t>(kBatchHeaderSize) &&
        rd.Get(pos, kBatchHeaderSize, &hb).ok()) {
      if (auto h = DecodeBatchHeader(hb); h.ok()) {
        const int64_t next = pos + static_cast<int64_t>(h->TotalSize());
        if (next < file_size) {
          auto after = CheckBatch(rd, next, file_size, -1);
          if (after.ok() && after->base_offset > expected) {
            resync = *after;
            resync_pos = next;
          }
        }
      }
    }
    if (resync) {
      std::string msg = path_.string() + ": offsets " + std::to_string(expected) + ".." +
                        std::to_string(resync->base_offset - 1) + " lost at position " +
                        std::to_string(pos) + " (" + reason + ")";
      {
        std::lock_guard lock(mu_);
        lost_.push_back({expected, resync->base_offset, pos, msg});
        last_index_pos_ = INT64_MIN / 2;  // force an index entry at the resync point
      }
      scan->losses.push_back(msg);
      pos = resync_pos;
      expected = resync->base_offset;
      continue;
    }
    if (is_last) {
      PINPIPE_RETURN_IF_ERROR(file_->Truncate(pos));
      PINPIPE_RETURN_IF_ERROR(file_->Sync());
      scan->truncated_bytes = file_size - pos;
      scan->truncated_at = pos;
      file_size = pos;
    } else {
      std::string msg = path_.string() + ": offsets from " + std::to_string(expected) +
                        " to the end of the segment lost at position " + std::to_string(pos) +
                        " (" + reason + ")";
      std::lock_guard lock(mu_);
      lost_.push_back({expected, -1, pos, msg});
      scan->losses.push_back(msg);
    }
    break;
  }
  size_.store(is_last ? pos : file_size, std::memory_order_release);
  next_offset_.store(expected, std::memory_order_release);
  return Status::Ok();
}

void Segment::Track(const BatchHeader& h, int64_t position) {
  std::lock_guard lock(mu_);
  if (index_.empty() || position - last_index_pos_ >= index_interval_) {
    index_.push_back({h.base_offset, position});
    last_index_pos_ = position;
  }
  const int64_t prev_max = max_timestamp_.load(std::memory_order_relaxed);
  if (h.max_timestamp > prev_max) {
    max_timestamp_.store(h.max_timestamp, std::memory_order_release);
    if (time_index_.empty() || position - last_time_pos_ >= index_interval_) {
      time_index_.push_back({h.max_timestamp, h.base_offset, position});
      last_time_pos_ = position;
    }
  }
  if (!first_timestamp_) first_timestamp_ = h.first_timestamp;
  next_offset_.store(h.NextOffset(), std::memory_order_release);
}

std::optional<int64_t> Segment::first_timestamp() const {
  std::lock_guard lock(mu_);
  return first_timestamp_;
}

std::vector<LostRange> Segment::lost_ranges() const {
  std::lock_guard lock(mu_);
  return lost_;
}

size_t Segment::IndexEntries() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

Status Segment::Append(std::string_view bytes, const BatchHeader& header) {
  return AppendMany(bytes, {header});
}

Status Segment::AppendMany(std::string_view bytes, const std::vector<BatchHeader>& headers) {
  const int64_t start = size();
  if (Status written = file_->Append(bytes); !written.ok()) {
    // Cut back what was partially written so the file ends on a batch.
    if (!file_->Truncate(start).ok()) {
      return InternalError("segment " + path_.string() +
                           " could not be cut back after a failed write (" + written.ToString() +
                           ")");
    }
    return written;
  }
  int64_t pos = start;
  for (const BatchHeader& h : headers) {
    Track(h, pos);
    pos += static_cast<int64_t>(h.TotalSize());
  }
  size_.store(pos, std::memory_order_release);
  return Status::Ok();
}

Status Segment::Sync() { return file_->Sync(); }

Status Segment::Remove() {
  std::lock_guard files_lock(files_mu_);
  removed_ = true;
  // Index files first: a crash in between leaves a segment without index
  // files (rebuilt on open), never index files without their segment.
  PINPIPE_RETURN_IF_ERROR(RemoveIndexFiles());
  return RemoveIfExists(fs_, path_);
}

const LostRange* Segment::FindLoss(int64_t offset) const {
  for (const LostRange& l : lost_) {
    if (offset >= l.from && (l.to < 0 || offset < l.to)) return &l;
  }
  return nullptr;
}

std::pair<int64_t, int64_t> Segment::SeekPosition(int64_t offset) const {
  std::lock_guard lock(mu_);
  auto it = std::upper_bound(index_.begin(), index_.end(), offset,
                             [](int64_t o, const IndexEntry& e) { return o < e.offset; });
  if (it == index_.begin()) return {0, base_offset_};
  return {std::prev(it)->position, std::prev(it)->offset};
}

Status Segment::ReadBatches(int64_t offset, int64_t end_offset, size_t max_records,
                            int64_t max_bytes, ReadBuffer* out, size_t* records, int64_t* bytes,
                            int64_t* next) const {
  {
    std::lock_guard lock(mu_);
    if (const LostRange* loss = FindLoss(offset)) return DataLossError(loss->reason);
  }
  const int64_t limit = std::min(end_offset, next_offset());
  if (offset >= limit) return Status::Ok();
  const int64_t size_now = size();
  auto [pos, expected] = SeekPosition(offset);
  // File bytes [file_start, file_end) sit in `out` from position `base`. They
  // are read ahead a chunk at a time, straight into `out`, so that many small
  // batches cost one pread per chunk and large ones are copied only once.
  const size_t base = out->size();
  const int64_t file_start = pos;
  int64_t file_end = pos;
  size_t kept_end = base;  // end of the last batch kept in `out`
  auto fill = [&](int64_t from, size_t n) -> Status {
    const int64_t need = from + static_cast<int64_t>(n);
    if (need <= file_end) return Status::Ok();
    if (need > size_now) return OutOfRangeError("read beyond end of segment");
    const int64_t want =
        std::max(need - file_end, std::min<int64_t>(kReadChunk, size_now - file_end));
    char* dst = out->Extend(static_cast<size_t>(want));
    auto got = file_->ReadAt(file_end, dst, static_cast<size_t>(want));
    if (!got.ok()) {
      out->Shrink(base + static_cast<size_t>(file_end - file_start));
      return got.status();
    }
    file_end += static_cast<int64_t>(*got);
    out->Shrink(base + static_cast<size_t>(file_end - file_start));
    if (need > file_end) return OutOfRangeError("segment shorter than expected");
    return Status::Ok();
  };
  auto at = [&](int64_t p) { return out->bytes_.get() + base + (p - file_start); };
  auto fail = [&](int64_t p, const Status& s) {
    out->Shrink(kept_end);
    return DataLossError(path_.string() + " at position " + std::to_string(p) + ": " + s.message());
  };
  while (pos < size_now && *records < max_records) {
    if (Status s = fill(pos, kBatchHeaderSize); !s.ok()) {
      out->Shrink(kept_end);
      return s.WithContext(path_.string());
    }
    auto h = DecodeBatchHeader(std::string_view(at(pos), kBatchHeaderSize));
    if (!h.ok()) return fail(pos, h.status());
    // The base offset is not under the CRC, and a closed segment opened from
    // its index files was not scanned: check the sequence here.
    if (h->base_offset != expected) {
      return fail(pos, DataLossError("batch base offset " + std::to_string(h->base_offset) +
                                     ", expected " + std::to_string(expected)));
    }
    expected = h->NextOffset();
    if (h->base_offset >= limit) break;
    const int64_t total = static_cast<int64_t>(h->TotalSize());
    if (h->NextOffset() <= offset) {
      pos += total;
      continue;
    }
    if (Status s = fill(pos, h->TotalSize()); !s.ok()) return fail(pos, s);
    if (Status s = VerifyBatchCrc(std::string_view(at(pos), h->TotalSize()), *h); !s.ok()) {
      return fail(pos, s);
    }
    const size_t batch_pos = base + static_cast<size_t>(pos - file_start);
    out->batches_.push_back({batch_pos, *h});
    kept_end = batch_pos + h->TotalSize();
    const int64_t first = std::max(h->base_offset, offset);
    const int64_t in_range = std::min(h->NextOffset(), limit) - first;
    const int64_t room = static_cast<int64_t>(max_records - *records);
    *records += static_cast<size_t>(std::min(in_range, room));
    *next = first + std::min(in_range, room);
    *bytes += total;
    pos += total;
    if (*bytes >= max_bytes) break;
  }
  out->Shrink(kept_end);
  return Status::Ok();
}

Result<std::optional<int64_t>> Segment::FindTimestamp(int64_t ts, int64_t end_offset) const {
  if (max_timestamp() < ts) return std::optional<int64_t>();
  int64_t pos = 0;
  int64_t expected = base_offset_;
  {
    std::lock_guard lock(mu_);
    // The last entry whose running maximum is still below ts: nothing up to
    // it can match, so the scan starts there.
    auto it = std::lower_bound(time_index_.begin(), time_index_.end(), ts,
                               [](const TimeEntry& e, int64_t t) { return e.max_timestamp < t; });
    if (it != time_index_.begin()) {
      pos = std::prev(it)->position;
      expected = std::prev(it)->offset;
    }
  }
  const int64_t size_now = size();
  WindowReader rd(*file_, size_now);
  std::vector<LogRecord> records;
  while (pos < size_now) {
    std::string_view hb;
    PINPIPE_RETURN_IF_ERROR(rd.Get(pos, kBatchHeaderSize, &hb));
    PINPIPE_ASSIGN_OR_RETURN(BatchHeader h, DecodeBatchHeader(hb));
    if (h.base_offset != expected) {
      return DataLossError(path_.string() + " at position " + std::to_string(pos) +
                           ": batch base offset " + std::to_string(h.base_offset) + ", expected " +
                           std::to_string(expected));
    }
    expected = h.NextOffset();
    if (h.base_offset >= end_offset) break;
    if (h.max_timestamp >= ts) {
      std::string_view batch;
      PINPIPE_RETURN_IF_ERROR(rd.Get(pos, h.TotalSize(), &batch));
      records.clear();
      PINPIPE_RETURN_IF_ERROR(DecodeBatch(batch, h, 0, &records));
      for (const LogRecord& r : records) {
        if (r.offset >= end_offset) break;
        if (r.timestamp_ms >= ts) return std::optional<int64_t>(r.offset);
      }
    }
    pos += static_cast<int64_t>(h.TotalSize());
  }
  return std::optional<int64_t>();
}

}  // namespace pinpipe::log
