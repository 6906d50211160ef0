#include "pinpipe/log/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace pinpipe::log {
namespace {

Status ErrnoStatus(int err, std::string_view what, const std::filesystem::path& path) {
  std::string msg = std::string(what) + " " + path.string() + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhaustedError(msg);
  if (err == ENOENT) return NotFoundError(msg);
  return UnavailableError(msg);
}

constexpr size_t kReadChunk = 256 << 10;

// Reads a file through a window buffer so that scanning many small batches
// costs one pread per chunk rather than two per batch.
class WindowReader {
 public:
  WindowReader(int fd, int64_t limit) : fd_(fd), limit_(limit) {}

  // Points *out at bytes [pos, pos+n) of the file. OutOfRange when the file
  // (up to `limit`) is shorter.
  Status Get(int64_t pos, size_t n, std::string_view* out) {
    if (pos < 0 || pos + static_cast<int64_t>(n) > limit_) {
      return OutOfRangeError("read beyond end of segment");
    }
    if (pos < buf_pos_ || pos + static_cast<int64_t>(n) > buf_pos_ + static_cast<int64_t>(len_)) {
      const size_t want = std::max<size_t>(n, std::min<int64_t>(kReadChunk, limit_ - pos));
      if (buf_.size() < want) buf_.resize(want);
      size_t got = 0;
      while (got < want) {
        ssize_t r = ::pread(fd_, buf_.data() + got, want - got, pos + static_cast<int64_t>(got));
        if (r < 0) {
          if (errno == EINTR) continue;
          return UnavailableError(std::string("pread: ") + std::strerror(errno));
        }
        if (r == 0) break;
        got += static_cast<size_t>(r);
      }
      buf_pos_ = pos;
      len_ = got;
      if (got < n) return OutOfRangeError("segment shorter than expected");
    }
    *out = std::string_view(buf_.data() + (pos - buf_pos_), n);
    return Status::Ok();
  }

 private:
  int fd_;
  int64_t limit_;
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

}  // namespace

Segment::Segment(std::filesystem::path path, int fd, int64_t base_offset, int64_t index_interval)
    : path_(std::move(path)),
      fd_(fd),
      base_offset_(base_offset),
      index_interval_(std::max<int64_t>(index_interval, 1)),
      next_offset_(base_offset),
      max_timestamp_(INT64_MIN) {}

Segment::~Segment() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Segment::FileName(int64_t base_offset) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020lld.log", static_cast<long long>(base_offset));
  return name;
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
                                                 int64_t base_offset,
                                                 int64_t index_interval_bytes) {
  auto path = dir / FileName(base_offset);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create segment", path);
  return std::shared_ptr<Segment>(new Segment(path, fd, base_offset, index_interval_bytes));
}

Result<std::shared_ptr<Segment>> Segment::Open(const std::filesystem::path& path,
                                               int64_t base_offset, bool is_last,
                                               int64_t index_interval_bytes, SegmentScan* scan) {
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open segment", path);
  std::shared_ptr<Segment> seg(new Segment(path, fd, base_offset, index_interval_bytes));
  PINPIPE_RETURN_IF_ERROR(seg->Scan(is_last, scan));
  return seg;
}

Status Segment::Scan(bool is_last, SegmentScan* scan) {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, "stat", path_);
  int64_t file_size = st.st_size;
  WindowReader rd(fd_, file_size);
  int64_t pos = 0;
  int64_t expected = base_offset_;
  while (pos < file_size) {
    auto checked = CheckBatch(rd, pos, file_size, expected);
    if (checked.ok()) {
      Track(*checked, pos);
      pos += static_cast<int64_t>(checked->TotalSize());
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
      if (::ftruncate(fd_, pos) != 0) return ErrnoStatus(errno, "truncate", path_);
      if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync", path_);
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
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      // Cut back what was partially written so the file ends on a batch.
      if (::ftruncate(fd_, start) != 0) {
        return InternalError("segment " + path_.string() +
                             " could not be cut back after a failed write");
      }
      return ErrnoStatus(err, "write", path_);
    }
    done += static_cast<size_t>(w);
  }
  int64_t pos = start;
  for (const BatchHeader& h : headers) {
    Track(h, pos);
    pos += static_cast<int64_t>(h.TotalSize());
  }
  size_.store(pos, std::memory_order_release);
  return Status::Ok();
}

Status Segment::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync", path_);
  return Status::Ok();
}

Status Segment::Remove() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "unlink", path_);
  }
  return Status::Ok();
}

const LostRange* Segment::FindLoss(int64_t offset) const {
  for (const LostRange& l : lost_) {
    if (offset >= l.from && (l.to < 0 || offset < l.to)) return &l;
  }
  return nullptr;
}

int64_t Segment::SeekPosition(int64_t offset) const {
  std::lock_guard lock(mu_);
  auto it = std::upper_bound(index_.begin(), index_.end(), offset,
                             [](int64_t o, const IndexEntry& e) { return o < e.offset; });
  if (it == index_.begin()) return 0;
  return std::prev(it)->position;
}

Status Segment::Read(int64_t offset, int64_t end_offset, size_t max_records, int64_t max_bytes,
                     std::vector<LogRecord>* out, int64_t* bytes) const {
  {
    std::lock_guard lock(mu_);
    if (const LostRange* loss = FindLoss(offset)) return DataLossError(loss->reason);
  }
  const int64_t limit = std::min(end_offset, next_offset());
  if (offset >= limit) return Status::Ok();
  const int64_t size_now = size();
  WindowReader rd(fd_, size_now);
  int64_t pos = SeekPosition(offset);
  while (pos < size_now && out->size() < max_records) {
    std::string_view hb;
    PINPIPE_RETURN_IF_ERROR(rd.Get(pos, kBatchHeaderSize, &hb).WithContext(path_.string()));
    auto h = DecodeBatchHeader(hb);
    if (!h.ok()) {
      return DataLossError(path_.string() + " at position " + std::to_string(pos) + ": " +
                           h.status().message());
    }
    if (h->base_offset >= limit) break;
    const int64_t total = static_cast<int64_t>(h->TotalSize());
    if (h->NextOffset() <= offset) {
      pos += total;
      continue;
    }
    std::string_view batch;
    if (Status s = rd.Get(pos, h->TotalSize(), &batch); !s.ok()) {
      return DataLossError(path_.string() + " at position " + std::to_string(pos) + ": " +
                           s.message());
    }
    const size_t before = out->size();
    if (Status s = DecodeBatch(batch, *h, offset, out); !s.ok()) {
      return DataLossError(path_.string() + " at position " + std::to_string(pos) + ": " +
                           s.message());
    }
    while (out->size() > before && out->back().offset >= limit) out->pop_back();
    if (out->size() > max_records) out->resize(max_records);
    *bytes += total;
    pos += total;
    if (*bytes >= max_bytes) break;
  }
  return Status::Ok();
}

Result<std::optional<int64_t>> Segment::FindTimestamp(int64_t ts, int64_t end_offset) const {
  if (max_timestamp() < ts) return std::optional<int64_t>();
  int64_t pos = 0;
  {
    std::lock_guard lock(mu_);
    // The last entry whose running maximum is still below ts: nothing up to
    // it can match, so the scan starts there.
    auto it = std::lower_bound(time_index_.begin(), time_index_.end(), ts,
                               [](const TimeEntry& e, int64_t t) { return e.max_timestamp < t; });
    if (it != time_index_.begin()) pos = std::prev(it)->position;
  }
  const int64_t size_now = size();
  WindowReader rd(fd_, size_now);
  std::vector<LogRecord> records;
  while (pos < size_now) {
    std::string_view hb;
    PINPIPE_RETURN_IF_ERROR(rd.Get(pos, kBatchHeaderSize, &hb));
    PINPIPE_ASSIGN_OR_RETURN(BatchHeader h, DecodeBatchHeader(hb));
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
