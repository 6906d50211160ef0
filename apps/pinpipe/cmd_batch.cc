// `pinpipe batch`: read the sink's objects, clean, answer the eight questions.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.h"
#include "pinpipe/batch/job.h"
#include "pinpipe/batch/queries.h"
#include "pinpipe/runtime/batch_dag.h"

namespace pinpipe::app {
namespace {

struct BatchFlags {
  std::string query;
  bool write_out = false;  // --out given
  bool no_tables = false;
  bool quiet = false;
  int threads = 2;
};

Status RunBatch(const Config& config, const BatchFlags& flags) {
  batch::JobOptions options;
  options.load.threads = flags.threads;
  options.out_dir = flags.write_out ? config.Get("batch.out") : "";
  options.write_tables = !flags.no_tables;
  // The cleaned tables are streamed to Parquet while loading (every column);
  // memory keeps only what the questions read.
  options.load.columns = clean::ColumnSet::kQueryOnly;
  if (!flags.query.empty()) {
    PINPIPE_ASSIGN_OR_RETURN(options.questions, batch::ResolveQuestionIds(flags.query));
  }
  options.terminal = flags.quiet ? nullptr : &std::cout;
  const bool tty = isatty(STDERR_FILENO) == 1;
  if (tty) {
    options.load.progress = [](int64_t done, int64_t total) {
      std::fprintf(stderr, "\rreading objects %lld/%lld ", static_cast<long long>(done),
                   static_cast<long long>(total));
      std::fflush(stderr);
    };
  }
  auto report = runtime::RunBatchOnce(config, options);
  if (tty) std::fprintf(stderr, "\n");
  if (!report.ok()) return report.status();
  std::int64_t records = 0, rejected = 0, duplicates = 0;
  for (const auto& s : report->loaded.stats) {
    records += s.records;
    rejected += s.rejected;
    duplicates += s.duplicates;
  }
  double total_ms = report->timings_ms.back().second;
  std::fprintf(
      stdout,
      "\n%lld records (pin %lld, geo %lld, user %lld rows after cleaning), %lld rejected, "
      "%lld duplicates dropped, %lld follower counts rejected; %.2f s, peak RSS %.1f MiB\n",
      static_cast<long long>(records), static_cast<long long>(report->loaded.stats[0].rows),
      static_cast<long long>(report->loaded.stats[1].rows),
      static_cast<long long>(report->loaded.stats[2].rows), static_cast<long long>(rejected),
      static_cast<long long>(duplicates),
      static_cast<long long>(report->loaded.follower_count_rejected), total_ms / 1000,
      report->peak_rss_bytes / 1048576.0);
  if (!options.out_dir.empty()) std::fprintf(stdout, "results in %s\n", options.out_dir.c_str());
  return Status::Ok();
}

}  // namespace

void RegisterBatchCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<BatchFlags>();
  auto* cmd = app.add_subcommand(
      "batch",
      "Read every .json/.json.gz object of topics/<prefix>.{pin,geo,user}/ in the object store, "
      "clean and de-duplicate them, and answer the eight questions (q1, q2, q3a, q3b, q4..q8).\n"
      "Example: pinpipe batch --store file://./data/lake --prefix 0a60b9a8a831 --out results");
  ctx.BindFlag(cmd, "--store", "lake.url",
               "Object store to read: file:///path or s3://bucket/prefix");
  ctx.BindFlag(cmd, "--prefix", "general.prefix", "User prefix of the topics");
  ctx.BindFlag(cmd, "--out", "batch.out",
               "Write q*.csv, q*.json, cleaned/{pin,geo,user}.parquet, rejects.jsonl and "
               "summary.json here")
      ->each([flags](const std::string&) { flags->write_out = true; });
  cmd->add_option("--query", flags->query,
                  "Answer one question: 1, 2, 3 (3a and 3b), 3a, 3b, 4..8");
  cmd->add_flag("--no-tables", flags->no_tables, "With --out, do not write the cleaned tables");
  cmd->add_flag("-q,--quiet", flags->quiet, "Do not print the result tables");
  cmd->add_option("--threads", flags->threads, "Reader threads (default 2)")
      ->check(CLI::Range(1, 64));
  ctx.SetAction(cmd, [flags](const Config& config) { return RunBatch(config, *flags); });
}

}  // namespace pinpipe::app
