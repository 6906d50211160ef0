#include "pinpipe/batch/job.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "pinpipe/base/gzip.h"
#include "pinpipe/base/json_escape.h"
#include "pinpipe/base/names.h"
#include "pinpipe/batch/answers.h"
#include "pinpipe/batch/parquet_tables.h"
#include "pinpipe/batch/render.h"
#include "pinpipe/clean/rules.h"
#include "pinpipe/clean/schema.h"
#include "pinpipe/frame/ops.h"

namespace pinpipe::batch {
namespace {

using clean::TableKind;

constexpr int64_t kGroupBytes = 8 << 20;
constexpr size_t kGroupObjects = 512;
constexpr size_t kMaxGroupsAhead = 6;

struct Item {
  TableKind kind;
  objstore::ObjectInfo info;
};

struct GroupResult {
  Status status;
  clean::CleanedBatch batch;
};

bool IsDataKey(std::string_view key) { return key.ends_with(".json") || key.ends_with(".json.gz"); }

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Cleans the objects items[first, last) with `cleaner`.
Status CleanGroup(objstore::ObjectStore& store, const std::vector<Item>& items, size_t first,
                  size_t last, clean::BatchCleaner* cleaner) {
  for (size_t i = first; i < last; ++i) {
    const Item& item = items[i];
    auto got = store.Get(item.info.key);
    if (!got.ok()) return got.status().WithContext("reading " + item.info.key);
    std::string data = std::move(got).value();
    if (item.info.key.ends_with(".gz")) {
      auto plain = Gunzip(data);
      if (!plain.ok()) {
        // A corrupt object is bad input: reject it whole and go on.
        cleaner->RejectUnreadable(item.kind, item.info.key, 0,
                                  clean::reasons::UnreadableObject(plain.status().message()));
        continue;
      }
      data = std::move(plain).value();
    }
    // No padding appended: that would reallocate and copy the whole object;
    // without it only a last line within simdjson's padding of the end is copied.
    cleaner->AddLines(item.kind, data.data(), data.size(), data.size(), item.info.key);
  }
  return Status::Ok();
}

void AppendTable(frame::Table* into, const frame::Table& from) {
  for (size_t c = 0; c < into->num_columns(); ++c) {
    into->mutable_column(c).AppendColumn(from.column(c));
  }
}

std::string SummaryJson(const objstore::ObjectStore& store, const JobOptions& options,
                        const JobReport& report) {
  std::ostringstream j;
  j << "{\n  \"store\": " << JsonQuote(store.Url())
    << ",\n  \"prefix\": " << JsonQuote(options.load.prefix) << ",\n  \"tables\": {";
  for (TableKind kind : clean::kAllTables) {
    const TableStats& s = report.loaded.stats[static_cast<int>(kind)];
    j << (kind == TableKind::kPin ? "\n" : ",\n") << "    " << JsonQuote(clean::TableKindName(kind))
      << ": {\"objects\": " << s.objects << ", \"bytes\": " << s.bytes
      << ", \"records\": " << s.records << ", \"rejected\": " << s.rejected
      << ", \"duplicates_dropped\": " << s.duplicates << ", \"rows\": " << s.rows << "}";
  }
  int64_t rejected = 0, duplicates = 0, records = 0;
  for (const auto& s : report.loaded.stats) {
    rejected += s.rejected;
    duplicates += s.duplicates;
    records += s.records;
  }
  j << "\n  },\n  \"records\": " << records << ",\n  \"rejected\": " << rejected
    << ",\n  \"duplicates_dropped\": " << duplicates
    << ",\n  \"follower_count_rejected\": " << report.loaded.follower_count_rejected
    << ",\n  \"questions\": {";
  for (size_t i = 0; i < report.results.size(); ++i) {
    j << (i ? ", " : "") << JsonQuote(report.results[i].first) << ": "
      << report.results[i].second.num_rows();
  }
  j << "},\n  \"timings_ms\": {";
  for (size_t i = 0; i < report.timings_ms.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", report.timings_ms[i].second);
    j << (i ? ", " : "") << JsonQuote(report.timings_ms[i].first) << ": " << buf;
  }
  j << "},\n  \"peak_rss_bytes\": " << report.peak_rss_bytes << "\n}\n";
  return j.str();
}

Status WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return UnavailableError("cannot write " + path.string());
  return Status::Ok();
}

template <typename Fn>
Status WriteWith(const std::filesystem::path& path, Fn fn) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return UnavailableError("cannot create " + path.string());
  fn(out);
  out.close();
  if (!out) return UnavailableError("cannot write " + path.string());
  return Status::Ok();
}

// First sightings of `ind`, as DropDuplicates decides them, but incrementally:
// a bitmap for the usual small non-negative inds (1.25 MB per 10M), a hash set
// for the rest.
class StreamingDeduper {
 public:
  bool FirstTime(int64_t ind) {
    if (ind >= 0 && ind < kBitmapLimit) {
      size_t k = static_cast<size_t>(ind);
      if (k >= bits_.size()) bits_.resize(std::max(k + 1, bits_.size() * 2));
      if (bits_[k]) return false;
      bits_[k] = true;
      return true;
    }
    return others_.FirstTime(ind);
  }

 private:
  static constexpr int64_t kBitmapLimit = int64_t{1} << 28;  // at most 32 MiB of bits
  std::vector<bool> bits_;
  clean::Deduper others_;
};

// Cleaned group tables that are done with (merged, or written), handed back
// to the cleaners: a group's columns then grow in memory that is already
// mapped instead of in fresh pages, whose zeroing by the kernel cost more CPU
// than the encoding of the tables. Holds at most kSpare tables per table kind
// (about one group's worth each). Thread-safe.
class TablePool {
 public:
  void Put(int kind, frame::Table table) {
    std::lock_guard lock(mu_);
    if (!closed_ && spare_[kind].size() < kSpare) spare_[kind].push_back(std::move(table));
  }
  // Frees the spares and every table put from now on: once the cleaning is
  // done, their memory is better left to the questions.
  void Close() {
    std::vector<frame::Table> freed[3];
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      for (int k = 0; k < 3; ++k) freed[k].swap(spare_[k]);
    }
  }
  // A spare table of `kind`, if there is one.
  std::optional<frame::Table> Get(int kind) {
    std::lock_guard lock(mu_);
    if (spare_[kind].empty()) return std::nullopt;
    frame::Table table = std::move(spare_[kind].back());
    spare_[kind].pop_back();
    return table;
  }

 private:
  static constexpr size_t kSpare = 2;
  std::mutex mu_;
  std::vector<frame::Table> spare_[3];  // guarded by mu_
  bool closed_ = false;                 // guarded by mu_
};

// One cleaned table streamed to a Parquet file while the groups merge: rows
// are de-duplicated as they arrive (first ind wins, null inds dropped, like
// DropDuplicates), and each merged group's kept rows go to the file as one row
// group, so memory holds about one merged group per table, not the table or
// the file. The row groups are encoded (straight from the cleaned group's
// columns, CleanedViews), compressed and written on the stream's own thread,
// so that work overlaps with the cleaning and merging of the next groups; at
// most kQueuedGroups groups wait for it.
class TableStream {
 public:
  // Written groups go to `pool` (which must outlive the stream).
  static Result<std::unique_ptr<TableStream>> Open(const std::filesystem::path& path,
                                                   TableKind kind, TablePool* pool) {
    table::WriterOptions options;
    // UUIDs, timestamps and dictionary indices compress by a few percent at
    // most; snappy on them cost more CPU than it saved bytes.
    options.min_compression_saving = 0.125;
    PINPIPE_ASSIGN_OR_RETURN(auto writer,
                             table::ParquetWriter::Create(clean::CleanedSchema(kind), options));
    auto stream = std::unique_ptr<TableStream>(new TableStream(kind, std::move(writer), pool));
    stream->path_ = path;
    stream->file_.open(path, std::ios::binary | std::ios::trunc);
    if (!stream->file_) return UnavailableError("cannot write " + path.string());
    stream->thread_ = std::thread([s = stream.get()] { s->Run(); });
    return stream;
  }

  ~TableStream() { Stop(); }

  // The rows of `cleaned` that are first sightings, in order (the others are
  // duplicates). Call once per group, in arrival order, before Add.
  Result<std::vector<uint32_t>> Keep(const frame::Table& cleaned) {
    int index = cleaned.Find("ind");
    if (index < 0) return InvalidArgumentError("cleaned table without ind");
    const frame::Column& ind = cleaned.column(index);
    std::vector<uint32_t> rows;
    rows.reserve(ind.size());
    for (size_t r = 0; r < ind.size(); ++r) {
      if (!ind.IsNull(r) && dedup_.FirstTime(ind.Int64At(r))) {
        rows.push_back(static_cast<uint32_t>(r));
      }
    }
    return rows;
  }

  // Queues rows `rows` (from Keep) of `cleaned` (every column) for writing as
  // one row group. Fails with the writer's error once a write has failed.
  Status Add(frame::Table cleaned, std::vector<uint32_t> rows) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !failure_.ok() || queue_.size() < kQueuedGroups; });
    if (!failure_.ok()) return failure_;
    if (rows.empty()) return Status::Ok();
    queue_.push_back({std::move(cleaned), std::move(rows)});
    cv_.notify_all();
    return Status::Ok();
  }

  // Writes what is queued, the last row group and the footer, and closes the file.
  Status Finish() {
    Stop();
    if (!failure_.ok()) return failure_;
    PINPIPE_ASSIGN_OR_RETURN(std::string tail, writer_->Finish());
    PINPIPE_RETURN_IF_ERROR(Flush(tail));
    file_.close();
    if (!file_) return UnavailableError("cannot write " + path_.string());
    return Status::Ok();
  }

 private:
  static constexpr size_t kQueuedGroups = 1;

  struct Group {
    frame::Table cleaned;
    std::vector<uint32_t> rows;
  };

  TableStream(TableKind kind, std::unique_ptr<table::ParquetWriter> writer, TablePool* pool)
      : kind_(kind), writer_(std::move(writer)), pool_(pool) {}

  // Lets the thread write what is queued, and waits for it.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  void Run() {
    std::string bytes;
    CleanedViews views;
    while (true) {
      Group group;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        group = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
      }
      Status status = views.Reset(group.cleaned, kind_);
      if (status.ok()) status = writer_->WriteRowGroup(views.columns(), group.rows);
      if (status.ok()) {
        writer_->TakeBytes(&bytes);
        status = Flush(bytes);
      }
      pool_->Put(static_cast<int>(kind_), std::move(group.cleaned));
      if (!status.ok()) {
        std::lock_guard lock(mu_);
        failure_ = status;
        queue_.clear();
        cv_.notify_all();
        return;
      }
    }
  }

  Status Flush(const std::string& bytes) {
    if (bytes.empty()) return Status::Ok();
    file_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!file_) return UnavailableError("cannot write " + path_.string());
    return Status::Ok();
  }

  TableKind kind_;
  std::unique_ptr<table::ParquetWriter> writer_;  // used by thread_ until Stop
  TablePool* pool_;
  std::filesystem::path path_;
  std::ofstream file_;
  StreamingDeduper dedup_;  // used by the caller's thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Group> queue_;  // guarded by mu_
  bool closing_ = false;     // guarded by mu_
  Status failure_;           // guarded by mu_; final after Stop
  std::thread thread_;
};

}  // namespace

// The three table files being written, and the spare tables their threads
// hand back (declared first: the streams use it until they finish).
class TableFiles {
 public:
  TablePool spares;
  std::unique_ptr<TableStream> streams[3];

  Status Finish() {
    Status first;
    for (auto& stream : streams) {
      if (!stream) continue;
      Status status = stream->Finish();  // rows already de-duplicated
      if (first.ok()) first = status;
      stream.reset();
    }
    return first;
  }
};

Status FinishTables(Loaded* loaded) {
  if (!loaded->table_files) return Status::Ok();
  Status status = loaded->table_files->Finish();
  loaded->table_files.reset();
  return status;
}

Result<Loaded> LoadCleanTables(objstore::ObjectStore& store, const LoadOptions& options) {
  std::vector<Item> items;
  Loaded loaded;
  for (TableKind kind : clean::kAllTables) {
    std::string prefix =
        options.topics_dir + "/" + TopicName(options.prefix, clean::TableKindName(kind)) + "/";
    // S3 pages hold at most 1,000 keys; a local folder lists in one walk, which
    // matters with the seed's one-object-per-record layout (300,000 files).
    const int page_keys = store.Url().starts_with("s3://") ? 1000 : (1 << 24);
    std::vector<objstore::ObjectInfo> listed;
    std::string token;
    while (true) {
      auto page = store.List(prefix, token, page_keys);
      if (!page.ok()) {
        return page.status().WithContext("listing " + prefix + " in " + store.Url());
      }
      for (auto& info : page->objects) listed.push_back(std::move(info));
      if (page->next_token.empty() || page->next_token == token) break;
      token = std::move(page->next_token);
    }
    for (auto& info : listed) {
      if (!IsDataKey(info.key)) continue;
      TableStats& s = loaded.stats[static_cast<int>(kind)];
      ++s.objects;
      s.bytes += info.size;
      items.push_back({kind, std::move(info)});
    }
  }
  if (items.empty()) {
    return NotFoundError("no data: no .json or .json.gz objects under " + options.topics_dir + "/" +
                         options.prefix + ".{pin,geo,user}/ in " + store.Url());
  }
  // Groups of consecutive objects, bounded by bytes and count.
  std::vector<std::pair<size_t, size_t>> groups;
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    int64_t bytes = 0;
    while (j < items.size() && (j == i || (bytes < kGroupBytes && j - i < kGroupObjects &&
                                           items[j].kind == items[i].kind))) {
      bytes += items[j].info.size;
      ++j;
    }
    groups.emplace_back(i, j);
    i = j;
  }

  loaded.tables.pin = clean::EmptyTable(TableKind::kPin, options.columns);
  loaded.tables.geo = clean::EmptyTable(TableKind::kGeo, options.columns);
  loaded.tables.user = clean::EmptyTable(TableKind::kUser, options.columns);
  frame::Table* finals[3] = {&loaded.tables.pin, &loaded.tables.geo, &loaded.tables.user};

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<GroupResult>> results(groups.size());
  size_t merged = 0;
  bool stop = false;
  std::atomic<size_t> next{0};
  // Streaming the tables out needs every column from the cleaners; only the
  // query columns (options.columns) stay in memory.
  const bool stream_tables = !options.tables_dir.empty();
  auto files = std::make_shared<TableFiles>();
  TablePool& spares = files->spares;
  std::unique_ptr<TableStream>* streams = files->streams;
  if (stream_tables) {
    std::error_code ec;
    std::filesystem::create_directories(options.tables_dir, ec);
    if (ec) return UnavailableError("cannot create " + options.tables_dir + ": " + ec.message());
    for (TableKind kind : clean::kAllTables) {
      PINPIPE_ASSIGN_OR_RETURN(
          streams[static_cast<int>(kind)],
          TableStream::Open(std::filesystem::path(options.tables_dir) /
                                (std::string(clean::TableKindName(kind)) + ".parquet"),
                            kind, &spares));
    }
  }
  const clean::ColumnSet cleaned_columns = stream_tables ? clean::ColumnSet::kAll : options.columns;
  auto worker = [&] {
    clean::BatchCleaner cleaner(cleaned_columns);
    while (true) {
      size_t g = next.fetch_add(1);
      if (g >= groups.size()) return;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || g < merged + kMaxGroupsAhead; });
        if (stop) return;
      }
      GroupResult result;
      result.status = CleanGroup(store, items, groups[g].first, groups[g].second, &cleaner);
      result.batch = cleaner.Take();
      for (TableKind kind : clean::kAllTables) {
        if (auto spare = spares.Get(static_cast<int>(kind))) cleaner.Reuse(kind, std::move(*spare));
      }
      std::lock_guard lock(mu);
      results[g] = std::move(result);
      cv.notify_all();
    }
  };
  int threads = std::max(1, options.threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  Status failure;
  int64_t objects_done = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    GroupResult result;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return results[g].has_value(); });
      result = std::move(*results[g]);
      results[g].reset();
    }
    if (!result.status.ok()) {
      failure = result.status;
      break;
    }
    for (int k = 0; k < 3; ++k) {
      frame::Table& cleaned = result.batch.tables[k];
      if (stream_tables) {
        // The kept rows of the query columns go straight to the final table;
        // the whole group (every column) to the table's file.
        auto keep = streams[k]->Keep(cleaned);
        if (!keep.ok()) {
          failure = keep.status();
          break;
        }
        loaded.stats[k].duplicates += static_cast<int64_t>(cleaned.num_rows() - keep->size());
        for (size_t c = 0; c < finals[k]->num_columns(); ++c) {
          int index = cleaned.Find(finals[k]->name(c));
          if (index < 0) {
            failure = InternalError("cleaned table without " + finals[k]->name(c));
            break;
          }
          finals[k]->mutable_column(c).AppendRows(cleaned.column(index), *keep);
        }
        if (!failure.ok()) break;
        failure = streams[k]->Add(std::move(cleaned), std::move(keep).value());
        if (!failure.ok()) break;
      } else {
        AppendTable(finals[k], cleaned);
        spares.Put(k, std::move(cleaned));
      }
      loaded.stats[k].records += result.batch.records[k];
      loaded.stats[k].rejected += result.batch.rejected[k];
    }
    if (!failure.ok()) break;
    loaded.follower_count_rejected += result.batch.follower_count_rejected;
    for (auto& r : result.batch.rejects) loaded.rejects.push_back(std::move(r));
    objects_done += static_cast<int64_t>(groups[g].second - groups[g].first);
    {
      std::lock_guard lock(mu);
      merged = g + 1;
      cv.notify_all();
    }
    if (options.progress) options.progress(objects_done, static_cast<int64_t>(items.size()));
  }
  {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  }
  for (auto& t : pool) t.join();
  spares.Close();
  if (!failure.ok()) return failure;
  for (int k = 0; k < 3; ++k) {
    if (!stream_tables) loaded.stats[k].duplicates = clean::DropDuplicates(finals[k]);
    loaded.stats[k].rows = static_cast<int64_t>(finals[k]->num_rows());
  }
  if (stream_tables) {
    loaded.table_files = std::move(files);
    if (options.finish_tables) PINPIPE_RETURN_IF_ERROR(FinishTables(&loaded));
  }
  return loaded;
}

int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

Result<JobReport> RunBatchJob(objstore::ObjectStore& store, const JobOptions& options) {
  JobReport report;
  std::vector<std::string> ids = options.questions;
  if (ids.empty()) {
    for (const auto& q : Questions()) ids.emplace_back(q.id);
  }
  auto start = std::chrono::steady_clock::now();
  LoadOptions load = options.load;
  if (!options.out_dir.empty() && options.write_tables) {
    // Written while loading, row group by row group (see TableStream).
    load.tables_dir = (std::filesystem::path(options.out_dir) / "cleaned").string();
  }
  // The tables' last row groups are written while the questions run.
  load.finish_tables = false;
  PINPIPE_ASSIGN_OR_RETURN(report.loaded, LoadCleanTables(store, load));
  report.timings_ms.emplace_back("read_and_clean", MillisSince(start));
  for (const auto& id : ids) {
    auto q_start = std::chrono::steady_clock::now();
    PINPIPE_ASSIGN_OR_RETURN(frame::Table result, RunQuestion(id, report.loaded.tables));
    report.timings_ms.emplace_back(id, MillisSince(q_start));
    report.results.emplace_back(id, std::move(result));
  }
  if (report.loaded.table_files) {
    auto t_start = std::chrono::steady_clock::now();
    PINPIPE_RETURN_IF_ERROR(FinishTables(&report.loaded));
    report.timings_ms.emplace_back("finish_tables", MillisSince(t_start));
  }
  if (options.terminal) {
    std::ostream& out = *options.terminal;
    for (const auto& [id, table] : report.results) {
      std::string_view title;
      for (const auto& q : Questions()) {
        if (q.id == id) title = q.title;
      }
      out << "\n" << id << ": " << title << "\n";
      WriteTextTable(table, out);
    }
  }
  if (!options.out_dir.empty()) {
    auto w_start = std::chrono::steady_clock::now();
    namespace fs = std::filesystem;
    fs::path dir(options.out_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());
    for (const auto& [id, table] : report.results) {
      PINPIPE_RETURN_IF_ERROR(
          WriteWith(dir / (id + ".csv"), [&](std::ostream& o) { WriteCsv(table, o); }));
      PINPIPE_RETURN_IF_ERROR(
          WriteWith(AnswerFile(dir, id), [&](std::ostream& o) { WriteAnswer(table, o); }));
    }
    PINPIPE_RETURN_IF_ERROR(WriteWith(dir / "rejects.jsonl", [&](std::ostream& o) {
      for (const auto& r : report.loaded.rejects) {
        o << "{\"table\": " << JsonQuote(clean::TableKindName(r.table))
          << ", \"source\": " << JsonQuote(r.source) << ", \"position\": " << r.position
          << ", \"reason\": " << JsonQuote(r.reason)
          << ", \"row_kept\": " << (r.row_kept ? "true" : "false")
          << ", \"record\": " << JsonQuote(r.record) << "}\n";
      }
    }));
    report.timings_ms.emplace_back("write", MillisSince(w_start));
  }
  report.timings_ms.emplace_back("total", MillisSince(start));
  report.peak_rss_bytes = PeakRssBytes();
  report.summary_json = SummaryJson(store, options, report);
  if (!options.out_dir.empty()) {
    PINPIPE_RETURN_IF_ERROR(
        WriteFile(std::filesystem::path(options.out_dir) / "summary.json", report.summary_json));
  }
  return report;
}

}  // namespace pinpipe::batch
