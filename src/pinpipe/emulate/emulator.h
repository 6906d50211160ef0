// Emulator: replays source posts onto the ingestion API like the original
// user_posting_emulation scripts, as a load tool.
//
// Each post is sent as three records, one per table, to
//   batch:  POST {api}/topics/{prefix}.{pin|geo|user}          (Kafka REST v2)
//   stream: PUT  {api}/streams/streaming-{prefix}-{pin|geo|user}/record[s]  (Kinesis via
//           API Gateway)
// with --batch-size posts' records per request. Workers (--concurrency) each
// hold one keep-alive connection. Every response is checked: 2xx with the
// expected shape counts as sent; 5xx, 429 and connection errors are retried
// with exponential backoff up to max_retries; other 4xx are failures carrying
// the server's message.
//
// Thread-safety: Run blocks the caller and uses its own worker threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pinpipe/base/clock.h"
#include "pinpipe/base/status.h"
#include "pinpipe/emulate/post_cache.h"

namespace pinpipe::emulate {

enum class Mode { kBatch, kStream };
Result<Mode> ParseMode(std::string_view text);

struct Options {
  Mode mode = Mode::kBatch;
  std::string api = "http://127.0.0.1:8082";  // base URL, may carry a path (/prod)
  std::string prefix = "0a60b9a8a831";
  int64_t count = -1;            // posts to send; -1 = until duration or stop
  int64_t duration_ms = 0;       // 0 = no time limit
  double rate = 0;               // records per second over all workers; 0 = unlimited
  int concurrency = 1;           // workers, one keep-alive connection each
  int batch_size = 1;            // posts (records per table) per request
  bool sequential = false;       // walk posts in order instead of drawing at random
  bool original_pacing = false;  // sleep 0-1 s between posts, per worker
  std::string api_key;           // sent as x-api-key when set
  uint64_t seed = 100;           // draws of random posts
  int max_retries = 5;
  int64_t backoff_ms = 100;  // first retry delay; doubles up to 5 s
  int64_t request_timeout_ms = 30'000;
  std::string partition_key = "partition-1";  // stream mode; "index" = the post's index
  // Polled between requests; setting it stops the run early (Ctrl-C).
  const std::atomic<bool>* stop = nullptr;
  // Called about once a second from a monitor thread while running.
  std::function<void(int64_t records_sent, int64_t records_failed, double seconds)> progress;
  // Paces, times and sleeps the run (retry backoff); nullptr: Clock::Real().
  Clock* clock = nullptr;
};

Status ValidateOptions(const Options& options);

struct Summary {
  int64_t posts = 0;           // posts attempted
  int64_t records_sent = 0;    // acknowledged by the server
  int64_t records_failed = 0;  // given up on (4xx, retries exhausted, bad response)
  int64_t requests = 0;        // HTTP exchanges, retries included
  int64_t retried = 0;         // requests sent again
  int64_t connects = 0;
  double seconds = 0;
  double records_per_second = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // per exchange
  // Failure message -> occurrences (the first few distinct ones).
  std::map<std::string, int64_t> errors;

  std::string ToString() const;
};

// Sends posts from `cache` until count/duration/stop. Returns the summary even
// when records failed (the caller decides the exit code); a non-OK Status
// means the run could not start (bad options or URL).
Result<Summary> Run(const PostCache& cache, const Options& options);

// Exposed for tests: the request for `records` (JSON objects) of `table`.
struct Request {
  std::string method;
  std::string path;  // below the API base path
  std::string content_type;
  std::string body;
};
Request BuildRequest(const Options& options, model::Table table,
                     const std::vector<const std::string*>& records,
                     const std::vector<int64_t>& indexes);

// Exposed for tests: how a response settles the request's records.
struct Outcome {
  int64_t sent = 0;
  std::vector<size_t> retry;  // records to send again (retriable per-record errors)
  int64_t failed = 0;
  std::string error;       // message for failed records ("" if none)
  bool retry_all = false;  // 5xx / 429 / transport error
};
Outcome Judge(const Options& options, size_t records, int status, std::string_view body);

}  // namespace pinpipe::emulate
