#include "pinpipe/stream/job.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "pinpipe/stream/status.h"

namespace pinpipe::stream {

StreamJob::StreamJob(std::vector<std::unique_ptr<StreamQuery>> queries, int64_t trigger_ms,
                     Clock* clock)
    : queries_(std::move(queries)),
      trigger_ms_(std::max<int64_t>(1, trigger_ms)),
      clock_(clock != nullptr ? clock : &Clock::Real()) {}

StreamJob::~StreamJob() { Stop(); }

Status StreamJob::Recover() {
  for (auto& q : queries_) {
    PINPIPE_RETURN_IF_ERROR(q->Recover().WithContext("stream query " + q->options().app_id));
  }
  return Status::Ok();
}

Status StreamJob::RunUntilDrained() {
  for (auto& q : queries_) {
    while (true) {
      auto n = q->RunBatch(0);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
    }
  }
  return WriteStatusFile();
}

void StreamJob::Start() {
  stop_ = false;
  for (auto& q : queries_) threads_.emplace_back([this, query = q.get()] { Loop(query); });
  if (!status_file_.empty()) {
    threads_.emplace_back([this] {
      Status last;
      while (!stop_) {
        // Reported when it changes, not every second while the disk is full.
        Status s = WriteStatusFile();
        if (!s.ok() && s != last) spdlog::warn("stream: status file: {}", s.ToString());
        last = std::move(s);
        for (int i = 0; i < 20 && !stop_; ++i) clock_->SleepMicros(50'000);
      }
    });
  }
}

void StreamJob::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  const bool ran = !threads_.empty();
  threads_.clear();
  if (ran) {
    if (Status s = WriteStatusFile(); !s.ok())
      spdlog::warn("stream: status file: {}", s.ToString());
  }
}

Status StreamJob::WriteStatusFile() const {
  if (status_file_.empty()) return Status::Ok();
  FileSystem& files = FileSystem::OrDefault(status_fs_);
  if (status_file_.has_parent_path()) {
    PINPIPE_RETURN_IF_ERROR(files.CreateDirs(status_file_.parent_path()));
  }
  return files.WriteFileAtomically(status_file_, StatusesToJson(Statuses(), clock_->NowMillis()));
}

void StreamJob::Loop(StreamQuery* query) {
  int64_t backoff_ms = 100;
  std::string reported;  // the failure last given to the error listener
  while (!stop_) {
    const int64_t started = clock_->MonotonicMicros();
    auto n = query->RunBatch(std::min<int64_t>(trigger_ms_, 250));
    if (!n.ok()) {
      if (error_listener_ && n.status().ToString() != reported) {
        reported = n.status().ToString();
        error_listener_(query->options(), n.status());
      }
      if (!IsRetriable(n.status()) && n.status().code() != StatusCode::kInternal) {
        spdlog::error("stream {}: stopped: {}", query->options().app_id, n.status().ToString());
        return;
      }
      spdlog::warn("stream {}: {} (retrying in {} ms)", query->options().app_id,
                   n.status().ToString(), backoff_ms);
      for (int64_t waited = 0; waited < backoff_ms && !stop_; waited += 50)
        clock_->SleepMicros(50'000);
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 10'000);
      continue;
    }
    backoff_ms = 100;
    reported.clear();
    // The next micro-batch starts one trigger interval after this one started.
    const int64_t elapsed_ms = (clock_->MonotonicMicros() - started) / 1000;
    for (int64_t left = trigger_ms_ - elapsed_ms; left > 0 && !stop_; left -= 50) {
      clock_->SleepMicros(std::min<int64_t>(left, 50) * 1000);
    }
  }
}

std::vector<QueryStatus> StreamJob::Statuses() const {
  std::vector<QueryStatus> out;
  for (const auto& q : queries_) out.push_back(q->status());
  return out;
}

}  // namespace pinpipe::stream
