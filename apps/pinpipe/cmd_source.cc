// `pinpipe seed` and `pinpipe source stats`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.h"
#include "pinpipe/source/generator.h"
#include "pinpipe/source/seed.h"
#include "pinpipe/source/source_db.h"

namespace pinpipe::app {
namespace {

struct SeedFlags {
  int64_t rows = source::kDefaultRows;
  uint64_t seed = source::kDefaultSeed;
  int64_t batch = 20000;
  bool replace = false;
};

Result<std::unique_ptr<source::SourceDb>> OpenFromConfig(const Config& config, bool create) {
  source::OpenOptions options;
  options.password = config.Get("source.password");
  options.create = create;
  return source::OpenSourceDb(config.Get("source.url"), options);
}

Status RunSeed(const Config& config, const SeedFlags& flags) {
  PINPIPE_ASSIGN_OR_RETURN(auto url, source::ParseSourceUrl(config.Get("source.url")));
  PINPIPE_ASSIGN_OR_RETURN(auto db, OpenFromConfig(config, true));
  source::SeedOptions options;
  options.rows = flags.rows;
  options.seed = flags.seed;
  options.batch_rows = flags.batch;
  options.replace = flags.replace;
  const bool tty = isatty(STDERR_FILENO) == 1;
  auto start = std::chrono::steady_clock::now();
  if (tty) {
    options.progress = [start](int64_t done, int64_t total) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      int width = 30;
      int filled = total > 0 ? static_cast<int>(width * done / total) : width;
      std::fprintf(stderr, "\r[%s%s] %lld/%lld posts  %.0f posts/s ",
                   std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                   static_cast<long long>(done), static_cast<long long>(total),
                   secs > 0 ? done / secs : 0.0);
      std::fflush(stderr);
    };
  }
  Status s = source::Seed(*db, options);
  if (tty) std::fprintf(stderr, "\n");
  PINPIPE_RETURN_IF_ERROR(s.WithContext("seed " + url.Redacted()));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "seeded %s: %lld rows in each of pinterest_data, geolocation_data, user_data "
      "(seed %llu) in %.2f s (%.0f rows/s per table)\n",
      url.Redacted().c_str(), static_cast<long long>(flags.rows),
      static_cast<unsigned long long>(flags.seed), secs,
      secs > 0 ? static_cast<double>(flags.rows) / secs : 0.0);
  return Status::Ok();
}

Status RunStats(const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(auto url, source::ParseSourceUrl(config.Get("source.url")));
  PINPIPE_ASSIGN_OR_RETURN(auto db, OpenFromConfig(config, false));
  PINPIPE_ASSIGN_OR_RETURN(auto stats, db->Stats());
  std::printf("source %s (%s)\n", url.Redacted().c_str(), std::string(db->Kind()).c_str());
  for (const auto& t : stats) {
    std::printf("%-17s %lld rows\n", std::string(model::TableName(t.table)).c_str(),
                static_cast<long long>(t.rows));
    for (const auto& [label, value] : t.facts) {
      std::printf("  %-28s %s\n", label.c_str(), value.c_str());
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterSourceCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<SeedFlags>();
  auto* seed = app.add_subcommand(
      "seed", "Create the source tables and fill them with deterministic generated posts");
  seed->footer(
      "Creates pinterest_data, geolocation_data and user_data and fills them with the "
      "generator's posts (same --seed and --rows = same data).\n"
      "Examples:\n"
      "  pinpipe seed                                  # 11,153 posts into "
      "sqlite://./data/source.db\n"
      "  pinpipe seed --rows 10000000 --replace --source sqlite:///tmp/big.db\n"
      "  PINPIPE_SOURCE_PASSWORD=secret pinpipe seed --source "
      "mysql://pin@127.0.0.1:3306/pinterest");
  ctx.BindFlag(seed, "--source", "source.url", "Source database URL");
  seed->add_option("--rows", flags->rows, "Posts to generate (rows per table)")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000'000}))
      ->capture_default_str();
  seed->add_option("--seed", flags->seed, "Generator seed; same seed and rows = same data")
      ->capture_default_str();
  seed->add_option("--batch", flags->batch, "Posts per transaction")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
      ->capture_default_str();
  seed->add_flag("--replace", flags->replace, "Drop and recreate tables that already hold rows");
  ctx.SetAction(seed, [flags](const Config& c) { return RunSeed(c, *flags); });

  auto* source = app.add_subcommand("source", "Inspect the source database");
  source->require_subcommand(1);
  auto* stats =
      source->add_subcommand("stats",
                             "Row counts and a summary of each source table.\n"
                             "Example: pinpipe source stats --source sqlite://./data/source.db");
  ctx.BindFlag(stats, "--source", "source.url", "Source database URL");
  ctx.SetAction(stats, [](const Config& c) { return RunStats(c); });
}

}  // namespace pinpipe::app
