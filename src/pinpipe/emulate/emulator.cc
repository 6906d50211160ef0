#include "pinpipe/emulate/emulator.h"

#include <algorithm>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "pinpipe/base/json_escape.h"
#include "pinpipe/base/names.h"
#include "pinpipe/http/client.h"
#include "pinpipe/source/generator.h"

namespace pinpipe::emulate {

using model::Table;

Result<Mode> ParseMode(std::string_view text) {
  if (text == "batch") return Mode::kBatch;
  if (text == "stream") return Mode::kStream;
  return InvalidArgumentError("--mode must be batch or stream, not '" + std::string(text) + "'");
}

Status ValidateOptions(const Options& o) {
  if (o.concurrency < 1 || o.concurrency > 1024) {
    return InvalidArgumentError("--concurrency must be 1..1024");
  }
  if (o.batch_size < 1 || o.batch_size > 500) {
    // 500 is Kinesis PutRecords' limit; Kafka REST has none, but requests stay sane.
    return InvalidArgumentError("--batch-size must be 1..500");
  }
  if (o.rate < 0) return InvalidArgumentError("--rate must be >= 0");
  if (o.count < -1) return InvalidArgumentError("--count must be >= 0");
  if (o.duration_ms < 0) return InvalidArgumentError("--duration must be >= 0");
  if (o.max_retries < 0) return InvalidArgumentError("retries must be >= 0");
  if (o.prefix.empty() ||
      o.prefix.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
          std::string::npos) {
    return InvalidArgumentError("--prefix must be non-empty [a-zA-Z0-9_.-]: '" + o.prefix + "'");
  }
  PINPIPE_RETURN_IF_ERROR(http::ParseBaseUrl(o.api).status());
  return Status::Ok();
}

Request BuildRequest(const Options& o, Table table, const std::vector<const std::string*>& records,
                     const std::vector<int64_t>& indexes) {
  Request r;
  const std::string suffix(model::TableSuffix(table));
  auto partition_key = [&](size_t i) {
    return o.partition_key == "index" ? std::to_string(indexes[i]) : o.partition_key;
  };
  size_t total = 64;
  for (const auto* rec : records) total += rec->size() + 48;
  r.body.reserve(total);
  if (o.mode == Mode::kBatch) {
    r.method = "POST";
    r.path = "/topics/" + TopicName(o.prefix, suffix);
    r.content_type = "application/vnd.kafka.json.v2+json";
    r.body = "{\"records\":[";
    for (size_t i = 0; i < records.size(); ++i) {
      if (i) r.body.push_back(',');
      r.body.append("{\"value\":");
      r.body.append(*records[i]);
      r.body.push_back('}');
    }
    r.body.append("]}");
    return r;
  }
  const std::string stream = StreamName(o.prefix, suffix);
  r.method = "PUT";
  r.content_type = "application/json";
  if (records.size() == 1) {
    r.path = "/streams/" + stream + "/record";
    r.body = "{\"StreamName\":";
    AppendJsonString(stream, &r.body);
    r.body.append(",\"Data\":");
    r.body.append(*records[0]);
    r.body.append(",\"PartitionKey\":");
    AppendJsonString(partition_key(0), &r.body);
    r.body.push_back('}');
    return r;
  }
  r.path = "/streams/" + stream + "/records";
  r.body = "{\"records\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) r.body.push_back(',');
    r.body.append("{\"data\":");
    AppendJsonString(*records[i], &r.body);
    r.body.append(",\"partition-key\":");
    AppendJsonString(partition_key(i), &r.body);
    r.body.push_back('}');
  }
  r.body.append("]}");
  return r;
}

namespace {

std::string Truncate(std::string_view s, size_t n = 200) {
  std::string out(s.substr(0, n));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (s.size() > n) out += "...";
  return out;
}

// The server's own words: Kafka REST {"error_code","message"}, API Gateway
// {"message"} / {"Message"}, Kinesis {"__type","message"}; else the body.
std::string ServerMessage(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    std::string msg;
    for (const char* key : {"message", "Message", "error", "errorMessage"}) {
      if (j.contains(key) && j[key].is_string()) {
        msg = j[key].get<std::string>();
        break;
      }
    }
    if (j.contains("error_code") && !j["error_code"].is_null()) {
      msg += " (error_code " + j["error_code"].dump() + ")";
    } else if (j.contains("__type") && j["__type"].is_string()) {
      msg = j["__type"].get<std::string>() + ": " + msg;
    }
    if (!msg.empty()) return Truncate(msg);
  }
  return body.empty() ? "(empty body)" : Truncate(body);
}

}  // namespace

Outcome Judge(const Options& o, size_t records, int status, std::string_view body) {
  Outcome out;
  const auto n = static_cast<int64_t>(records);
  if (status >= 500 || status == 429) {
    out.retry_all = true;
    out.error = "HTTP " + std::to_string(status) + ": " + ServerMessage(body);
    return out;
  }
  if (status < 200 || status >= 300) {
    out.failed = n;
    out.error = "HTTP " + std::to_string(status) + ": " + ServerMessage(body);
    return out;
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  auto bad_shape = [&](std::string_view want) {
    out = Outcome{};
    out.failed = n;
    out.error = "HTTP " + std::to_string(status) + " without " + std::string(want) + ": " +
                Truncate(body, 120);
    return out;
  };
  if (j.is_discarded() || !j.is_object()) return bad_shape("a JSON object");
  if (o.mode == Mode::kBatch) {
    if (!j.contains("offsets") || !j["offsets"].is_array() || j["offsets"].size() != records) {
      return bad_shape(std::to_string(records) + " offsets");
    }
    for (size_t i = 0; i < records; ++i) {
      const auto& e = j["offsets"][i];
      if (!e.is_object()) return bad_shape("offset objects");
      if (e.contains("error_code") && !e["error_code"].is_null()) {
        // 50003: retriable Kafka error; anything else failed for good.
        if (e["error_code"] == 50003) {
          out.retry.push_back(i);
          if (out.error.empty()) out.error = "record error " + e.dump();
        } else {
          out.failed++;
          out.error = "record error_code " + e["error_code"].dump() + ": " +
                      (e.contains("error") && e["error"].is_string() ? e["error"].get<std::string>()
                                                                     : std::string("?"));
        }
      } else if (e.contains("offset") && e["offset"].is_number_integer()) {
        out.sent++;
      } else {
        return bad_shape("an offset per record");
      }
    }
    return out;
  }
  if (records == 1 && !j.contains("Records")) {
    if (j.contains("SequenceNumber") && j["SequenceNumber"].is_string()) {
      out.sent = 1;
      return out;
    }
    return bad_shape("SequenceNumber");
  }
  if (!j.contains("Records") || !j["Records"].is_array() || j["Records"].size() != records) {
    return bad_shape(std::to_string(records) + " Records");
  }
  for (size_t i = 0; i < records; ++i) {
    const auto& e = j["Records"][i];
    if (e.is_object() && e.contains("ErrorCode") && !e["ErrorCode"].is_null()) {
      std::string code = e["ErrorCode"].is_string() ? e["ErrorCode"].get<std::string>() : "?";
      if (code == "ProvisionedThroughputExceededException" || code == "InternalFailure") {
        out.retry.push_back(i);
        if (out.error.empty()) out.error = "record error " + code;
      } else {
        out.failed++;
        out.error = "record error " + code + ": " +
                    (e.contains("ErrorMessage") && e["ErrorMessage"].is_string()
                         ? e["ErrorMessage"].get<std::string>()
                         : std::string());
      }
    } else if (e.is_object() && e.contains("SequenceNumber")) {
      out.sent++;
    } else {
      return bad_shape("a SequenceNumber per record");
    }
  }
  return out;
}

std::string Summary::ToString() const {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "sent %" PRId64 " records (%" PRId64 " posts) in %" PRId64 " requests over %" PRId64
                " connections; failed %" PRId64 "; retried %" PRId64
                "\n%.2f s, %.0f records/s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                records_sent, posts, requests, connects, records_failed, retried, seconds,
                records_per_second, p50_ms, p99_ms, max_ms);
  std::string out = buf;
  for (const auto& [msg, n] : errors) {
    out += "  " + std::to_string(n) + "x " + msg + "\n";
  }
  return out;
}

namespace {

constexpr size_t kMaxDistinctErrors = 10;

class Runner {
 public:
  Runner(const PostCache& cache, const Options& o)
      : cache_(cache), o_(o), clock_(o.clock != nullptr ? o.clock : &Clock::Real()) {}

  Summary Run() {
    start_us_ = clock_->MonotonicMicros();
    deadline_us_ = o_.duration_ms > 0 ? start_us_ + o_.duration_ms * 1000 : INT64_MAX;
    std::vector<std::thread> workers;
    std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(o_.concurrency));
    std::vector<int64_t> connects(static_cast<size_t>(o_.concurrency), 0);
    for (int w = 0; w < o_.concurrency; ++w) {
      workers.emplace_back([this, w, &latencies, &connects] {
        Work(w, &latencies[static_cast<size_t>(w)], &connects[static_cast<size_t>(w)]);
      });
    }
    std::thread monitor;
    std::atomic<bool> finished{false};
    std::mutex mu;
    std::condition_variable cv;
    if (o_.progress) {
      monitor = std::thread([&] {
        std::unique_lock lock(mu);
        while (!cv.wait_for(lock, std::chrono::seconds(1), [&] { return finished.load(); })) {
          o_.progress(sent_.load(), failed_.load(), Elapsed());
        }
      });
    }
    for (auto& t : workers) t.join();
    {
      std::lock_guard lock(mu);
      finished = true;
    }
    cv.notify_all();
    if (monitor.joinable()) monitor.join();

    Summary s;
    s.posts = posts_.load();
    s.records_sent = sent_.load();
    s.records_failed = failed_.load();
    s.requests = requests_.load();
    s.retried = retried_.load();
    for (int64_t c : connects) s.connects += c;
    s.seconds = Elapsed();
    s.records_per_second = s.seconds > 0 ? static_cast<double>(s.records_sent) / s.seconds : 0;
    std::vector<int64_t> all;
    for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
    if (!all.empty()) {
      std::sort(all.begin(), all.end());
      auto at = [&](double q) {
        size_t i = static_cast<size_t>(q * static_cast<double>(all.size() - 1) + 0.5);
        return static_cast<double>(all[std::min(i, all.size() - 1)]) / 1000.0;
      };
      s.p50_ms = at(0.50);
      s.p99_ms = at(0.99);
      s.max_ms = static_cast<double>(all.back()) / 1000.0;
    }
    s.errors = errors_;
    return s;
  }

 private:
  double Elapsed() { return static_cast<double>(clock_->MonotonicMicros() - start_us_) / 1e6; }

  bool Stopped() {
    if (o_.stop && o_.stop->load()) return true;
    return clock_->MonotonicMicros() >= deadline_us_;
  }

  // Sleeps up to `micros`, waking early when the run stops.
  void SleepFor(int64_t micros) {
    while (micros > 0 && !Stopped()) {
      int64_t step = std::min<int64_t>(micros, 50'000);
      clock_->SleepMicros(step);
      micros -= step;
    }
  }

  // Global pacing: the n-th record may leave at start + n / rate.
  void Pace(int64_t records) {
    if (o_.rate <= 0) return;
    int64_t before = reserved_.fetch_add(records);
    auto due = start_us_ + static_cast<int64_t>(static_cast<double>(before) * 1e6 / o_.rate);
    int64_t now = clock_->MonotonicMicros();
    if (due > now) SleepFor(due - now);
  }

  void AddError(const std::string& message, int64_t n) {
    std::lock_guard lock(errors_mu_);
    auto it = errors_.find(message);
    if (it != errors_.end()) {
      it->second += n;
    } else if (errors_.size() < kMaxDistinctErrors) {
      errors_[message] = n;
    } else {
      errors_["(other errors)"] += n;
    }
  }

  void Send(http::Client* client, Table table, const std::vector<size_t>& posts,
            std::vector<int64_t>* latencies, source::Rng& rng) {
    std::vector<size_t> pending = posts;
    std::vector<const std::string*> records;
    std::vector<int64_t> indexes;
    std::vector<std::pair<std::string, std::string>> headers;
    for (int attempt = 0;; ++attempt) {
      records.clear();
      indexes.clear();
      for (size_t p : pending) {
        records.push_back(&cache_.json(table, p));
        indexes.push_back(cache_.index(p));
      }
      Request req = BuildRequest(o_, table, records, indexes);
      headers.clear();
      headers.emplace_back("Content-Type", req.content_type);
      headers.emplace_back(
          "Accept", o_.mode == Mode::kBatch ? "application/vnd.kafka.v2+json" : "application/json");
      if (!o_.api_key.empty()) headers.emplace_back("x-api-key", o_.api_key);
      if (attempt == 0) Pace(static_cast<int64_t>(pending.size()));
      int64_t t0 = clock_->MonotonicMicros();
      auto res = client->Send(req.method, req.path, headers, req.body);
      latencies->push_back(clock_->MonotonicMicros() - t0);
      requests_++;
      Outcome out;
      if (res.ok()) {
        out = Judge(o_, pending.size(), res->status, res->body);
      } else {
        out.retry_all = true;
        out.error = res.status().message();
      }
      const std::string where = req.method + " " + req.path + ": ";
      sent_ += out.sent;
      if (out.failed > 0) {
        failed_ += out.failed;
        AddError(where + out.error, out.failed);
      }
      std::vector<size_t> again;
      if (out.retry_all) {
        again = pending;
      } else {
        for (size_t i : out.retry) again.push_back(pending[i]);
      }
      if (again.empty()) return;
      if (attempt >= o_.max_retries || (o_.stop && o_.stop->load())) {
        failed_ += static_cast<int64_t>(again.size());
        AddError(where + out.error + " (gave up after " + std::to_string(attempt) + " retries)",
                 static_cast<int64_t>(again.size()));
        return;
      }
      retried_++;
      // Exponential backoff with full jitter, capped at 5 s.
      int64_t cap = std::min<int64_t>(o_.backoff_ms << std::min(attempt, 16), 5'000) * 1000;
      int64_t delay = cap / 2 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(cap / 2 + 1)));
      if (o_.stop == nullptr || !o_.stop->load()) clock_->SleepMicros(delay);
      pending = std::move(again);
    }
  }

  void Work(int worker, std::vector<int64_t>* latencies, int64_t* connects) {
    http::ClientOptions copts;
    copts.request_timeout_ms = o_.request_timeout_ms;
    copts.user_agent = "pinpipe-emulate";
    auto client = http::Client::Create(o_.api, copts);
    if (!client.ok()) {
      AddError(client.status().message(), 0);
      return;
    }
    source::Rng rng(o_.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(worker) + 1);
    const auto batch = static_cast<int64_t>(o_.batch_size);
    std::vector<size_t> posts;
    while (!Stopped()) {
      int64_t first = next_.fetch_add(batch);
      int64_t n = batch;
      if (o_.count >= 0) {
        if (first >= o_.count) break;
        n = std::min(batch, o_.count - first);
      }
      posts.clear();
      for (int64_t p = first; p < first + n; ++p) {
        uint64_t pos;
        if (o_.sequential) {
          pos = static_cast<uint64_t>(p) % cache_.size();
        } else {
          // Seeded draw with replacement, independent of which worker sends it.
          source::Rng draw(o_.seed ^ (static_cast<uint64_t>(p) * 0xD1B54A32D192ED03ULL));
          pos = draw.Below(cache_.size());
        }
        posts.push_back(static_cast<size_t>(pos));
      }
      posts_ += n;
      for (Table t : model::kAllTables) Send(client->get(), t, posts, latencies, rng);
      if (o_.original_pacing) SleepFor(static_cast<int64_t>(rng.Below(1'000'001)));
    }
    *connects = (*client)->connects();
  }

  const PostCache& cache_;
  const Options& o_;
  Clock* clock_;
  int64_t start_us_ = 0;
  int64_t deadline_us_ = INT64_MAX;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> reserved_{0};
  std::atomic<int64_t> posts_{0}, sent_{0}, failed_{0}, requests_{0}, retried_{0};
  std::mutex errors_mu_;
  std::map<std::string, int64_t> errors_;
};

}  // namespace

Result<Summary> Run(const PostCache& cache, const Options& options) {
  PINPIPE_RETURN_IF_ERROR(ValidateOptions(options));
  if (cache.size() == 0) return FailedPreconditionError("no posts to send");
  if (options.count < 0 && options.duration_ms == 0 && options.stop == nullptr) {
    return InvalidArgumentError("give --count or --duration (or run until interrupted)");
  }
  Runner runner(cache, options);
  return runner.Run();
}

}  // namespace pinpipe::emulate
