// `pinpipe emulate`: the posting emulator (logic in src/pinpipe/emulate/).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.h"
#include "pinpipe/emulate/emulator.h"
#include "pinpipe/emulate/post_cache.h"
#include "pinpipe/runtime/signals.h"
#include "pinpipe/source/source_db.h"

namespace pinpipe::app {
namespace {

struct EmulateFlags {
  std::string mode = "batch";
  int64_t count = -1;
  std::string duration;
  double rate = 0;
  int concurrency = 1;
  int batch_size = 1;
  bool sequential = false;
  bool original_pacing = false;
  uint64_t seed = 100;
  int max_retries = 5;
  int64_t max_index = 11000;
  std::string partition_key = "partition-1";
  std::string timeout = "30s";
};

Status RunEmulate(const Config& config, const EmulateFlags& f) {
  runtime::SignalWaiter signals;  // Ctrl-C stops the posting; before any thread starts
  emulate::Options o;
  PINPIPE_ASSIGN_OR_RETURN(o.mode, emulate::ParseMode(f.mode));
  o.api = config.Get("emulate.api");
  o.api_key = config.Get("emulate.api_key");
  o.prefix = config.Get("general.prefix");
  o.count = f.count;
  if (!f.duration.empty()) {
    auto ms = ParseMillis(f.duration);
    if (!ms.ok()) return InvalidArgumentError("--duration: " + ms.status().message());
    o.duration_ms = *ms;
  }
  auto timeout = ParseMillis(f.timeout);
  if (!timeout.ok() || *timeout <= 0) return InvalidArgumentError("--timeout: want e.g. 30s");
  o.request_timeout_ms = *timeout;
  o.rate = f.rate;
  o.concurrency = f.concurrency;
  o.batch_size = f.batch_size;
  o.sequential = f.sequential;
  o.original_pacing = f.original_pacing;
  o.seed = f.seed;
  o.max_retries = f.max_retries;
  o.partition_key = f.partition_key;
  o.stop = signals.stop_flag();
  PINPIPE_RETURN_IF_ERROR(emulate::ValidateOptions(o));

  source::OpenOptions open;
  open.password = config.Get("source.password");
  PINPIPE_ASSIGN_OR_RETURN(auto db, source::OpenSourceDb(config.Get("source.url"), open));
  PINPIPE_ASSIGN_OR_RETURN(auto cache, emulate::PostCache::Load(*db, f.max_index));
  db.reset();

  const bool tty = isatty(STDERR_FILENO) == 1;
  if (tty) {
    o.progress = [](int64_t sent, int64_t failed, double secs) {
      std::fprintf(stderr, "\rsent %lld  failed %lld  %.0f records/s   ",
                   static_cast<long long>(sent), static_cast<long long>(failed),
                   secs > 0 ? static_cast<double>(sent) / secs : 0.0);
      std::fflush(stderr);
    };
  }
  std::printf("emulate: %s mode, %zu posts cached, api %s, prefix %s\n", f.mode.c_str(),
              cache.size(), o.api.c_str(), o.prefix.c_str());
  std::fflush(stdout);
  PINPIPE_ASSIGN_OR_RETURN(auto summary, emulate::Run(cache, o));
  if (tty) std::fprintf(stderr, "\n");
  std::printf("%s", summary.ToString().c_str());
  std::fflush(stdout);
  if (summary.records_failed > 0) {
    return UnavailableError(std::to_string(summary.records_failed) + " of " +
                            std::to_string(summary.records_failed + summary.records_sent) +
                            " records failed (see the summary above)");
  }
  if (summary.records_sent == 0 && !summary.errors.empty()) {
    return UnavailableError("nothing was sent: " + summary.errors.begin()->first);
  }
  return Status::Ok();
}

}  // namespace

void RegisterEmulateCommands(CLI::App& app, CommandContext& ctx) {
  auto f = std::make_shared<EmulateFlags>();
  auto* cmd = app.add_subcommand("emulate", "Replay source posts onto the ingestion API");
  cmd->footer(
      "Replay source posts onto the ingestion API like the original posting emulator: each post "
      "is three records (pin, geo, user) sent to the Kafka REST topics <prefix>.pin|geo|user "
      "(--mode batch) or the Kinesis streams streaming-<prefix>-pin|geo|user (--mode stream).\n"
      "Examples:\n"
      "  pinpipe emulate --count 1000                      # to http://127.0.0.1:8082\n"
      "  pinpipe emulate --mode stream --duration 30s --rate 500\n"
      "  pinpipe emulate --count 1000000 --batch-size 100 --concurrency 4\n"
      "  pinpipe emulate --original-pacing --api "
      "https://abc.execute-api.us-east-1.amazonaws.com/prod");
  cmd->add_option("--mode", f->mode, "batch (Kafka REST v2) or stream (Kinesis via API Gateway)")
      ->check(CLI::IsMember({"batch", "stream"}))
      ->capture_default_str();
  ctx.BindFlag(cmd, "--api", "emulate.api", "API base URL");
  ctx.BindFlag(cmd, "--prefix", "general.prefix", "User prefix of topic and stream names");
  ctx.BindFlag(cmd, "--api-key", "emulate.api_key", "Send this x-api-key header");
  ctx.BindFlag(cmd, "--source", "source.url", "Source database URL");
  cmd->add_option("--count", f->count,
                  "Posts to send (each is three records); default: until "
                  "--duration or Ctrl-C")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_option("--duration", f->duration, "Stop after this long, e.g. 30s, 5m");
  cmd->add_option("--rate", f->rate, "Records per second over all connections (0 = unlimited)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--concurrency", f->concurrency, "Parallel keep-alive connections")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--batch-size", f->batch_size, "Posts per request (records per table)")
      ->check(CLI::Range(1, 500))
      ->capture_default_str();
  cmd->add_flag("--sequential", f->sequential, "Walk posts in index order instead of random draws");
  cmd->add_flag("--original-pacing", f->original_pacing,
                "Sleep a random 0-1 s between posts, like the original script");
  cmd->add_option("--seed", f->seed, "Seed of the random post draws")->capture_default_str();
  cmd->add_option("--max-retries", f->max_retries, "Retries of a 5xx/429/connection failure")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--max-index", f->max_index, "Draw posts with index 0..N (the original: 11000)")
      ->check(CLI::Range(int64_t{0}, INT64_MAX))
      ->capture_default_str();
  cmd->add_option("--partition-key", f->partition_key,
                  "Stream mode PartitionKey; 'index' uses the post's index")
      ->capture_default_str();
  cmd->add_option("--timeout", f->timeout, "Per-request timeout")->capture_default_str();
  ctx.SetAction(cmd, [f](const Config& c) { return RunEmulate(c, *f); });
}

}  // namespace pinpipe::app
