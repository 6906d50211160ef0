#include "pinpipe/source/seed.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "pinpipe/source/generator.h"

namespace pinpipe::source {
namespace {

struct Batch {
  std::vector<PinRow> pins;
  std::vector<GeoRow> geos;
  std::vector<UserRow> users;
  int64_t begin = 0;
  int64_t count = 0;
};

// A bounded hand-off of filled batches and a return path for empty ones, so
// string buffers are reused instead of reallocated for every row.
class BatchQueue {
 public:
  void PushFull(Batch* b) {
    std::lock_guard lock(mu_);
    full_.push_back(b);
    cv_.notify_all();
  }
  Batch* PopFull() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || done_; });
    if (full_.empty()) return nullptr;
    Batch* b = full_.front();
    full_.erase(full_.begin());
    return b;
  }
  void PushFree(Batch* b) {
    std::lock_guard lock(mu_);
    free_.push_back(b);
    cv_.notify_all();
  }
  // Returns nullptr once cancelled.
  Batch* PopFree() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || cancelled_; });
    if (cancelled_) return nullptr;
    Batch* b = free_.back();
    free_.pop_back();
    return b;
  }
  void Done() {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch*> full_, free_;
  bool done_ = false;
  bool cancelled_ = false;
};

}  // namespace

Status Seed(SourceDb& db, const SeedOptions& options) {
  if (options.rows < 0) return InvalidArgumentError("--rows must be >= 0");
  if (options.batch_rows <= 0) return InvalidArgumentError("batch size must be > 0");
  PINPIPE_RETURN_IF_ERROR(db.CreateTables());
  for (Table t : model::kAllTables) {
    PINPIPE_ASSIGN_OR_RETURN(int64_t n, db.CountRows(t));
    if (n > 0 && !options.replace) {
      return AlreadyExistsError("table " + std::string(model::TableName(t)) + " already holds " +
                                std::to_string(n) + " rows (use --replace to overwrite)");
    }
    if (n > 0) {
      PINPIPE_RETURN_IF_ERROR(db.DropTables());
      PINPIPE_RETURN_IF_ERROR(db.CreateTables());
      break;
    }
  }
  PINPIPE_RETURN_IF_ERROR(db.PrepareBulkLoad());

  const Generator gen(options.seed, options.rows);
  const int64_t per_batch = std::min(options.batch_rows, std::max<int64_t>(options.rows, 1));
  std::vector<Batch> batches(3);
  BatchQueue queue;
  for (auto& b : batches) {
    b.pins.resize(per_batch);
    b.geos.resize(per_batch);
    b.users.resize(per_batch);
    queue.PushFree(&b);
  }
  std::thread producer([&] {
    for (int64_t begin = 0; begin < options.rows; begin += per_batch) {
      Batch* b = queue.PopFree();
      if (b == nullptr) return;
      b->begin = begin;
      b->count = std::min(per_batch, options.rows - begin);
      for (int64_t i = 0; i < b->count; ++i) {
        gen.Post(begin + i, &b->pins[i], &b->geos[i], &b->users[i]);
      }
      queue.PushFull(b);
    }
    queue.Done();
  });
  Status status;
  int64_t done = 0;
  while (Batch* b = queue.PopFull()) {
    auto n = static_cast<size_t>(b->count);
    status = db.Insert(std::span(b->pins).first(n), std::span(b->geos).first(n),
                       std::span(b->users).first(n));
    if (!status.ok()) {
      queue.Cancel();
      break;
    }
    done += b->count;
    queue.PushFree(b);
    if (options.progress) options.progress(done, options.rows);
  }
  producer.join();
  return status;
}

}  // namespace pinpipe::source
