// `pinpipe table show|history|optimize|vacuum|checkpoint <table>`: inspect and maintain
// a Delta table (logic in src/pinpipe/table/delta_table.h).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/table/delta_table.h"

namespace pinpipe::app {

namespace {

struct TableArgs {
  std::string url;
  int limit = 20;
  double target_mb = 128;
  double retention_hours = 168;
  bool dry_run = false;
};

Result<std::unique_ptr<objstore::ObjectStore>> OpenTableStore(const std::string& url,
                                                              const Config& config) {
  if (url.empty()) return InvalidArgumentError("table: give the table's folder or URL");
  return objstore::OpenObjectStore(url, config);
}

Status Show(const TableArgs& a, const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenTableStore(a.url, config));
  table::DeltaTable t(*store, "");
  PINPIPE_ASSIGN_OR_RETURN(table::Snapshot s, t.Load());
  std::cout << fmt::format("table:      {}\n", store->Url());
  std::cout << fmt::format("id:         {}\n", s.table_id);
  std::cout << fmt::format(
      "version:    {}{}\n", s.version,
      s.checkpoint_version >= 0 ? fmt::format(" (checkpoint {})", s.checkpoint_version) : "");
  std::cout << fmt::format("protocol:   reader {}, writer {}\n", s.min_reader_version,
                           s.min_writer_version);
  std::cout << fmt::format("files:      {}\n", s.files.size());
  std::cout << fmt::format("rows:       {}\n", s.NumRecords());
  std::cout << fmt::format("bytes:      {}\n", s.NumBytes());
  for (const auto& [k, v] : s.configuration) std::cout << fmt::format("config:     {}={}\n", k, v);
  for (const auto& [app, txn] : s.txns) {
    std::cout << fmt::format("txn:        {} version {}\n", app, txn.version);
  }
  std::cout << "schema:\n";
  for (const auto& f : s.schema.fields) {
    std::cout << fmt::format("  {} {}{}\n", f.name, table::ColumnTypeName(f.type),
                             f.nullable ? "" : " not null");
  }
  return Status::Ok();
}

Status History(const TableArgs& a, const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenTableStore(a.url, config));
  table::DeltaTable t(*store, "");
  PINPIPE_ASSIGN_OR_RETURN(auto history, t.History(a.limit));
  std::cout << fmt::format("{:>8}  {:>13}  {:<18}  {}\n", "version", "timestamp", "operation",
                           "metrics");
  for (const auto& h : history) {
    std::string metrics = h.contains("operationMetrics") ? h["operationMetrics"].dump() : "{}";
    std::cout << fmt::format("{:>8}  {:>13}  {:<18}  {}\n", h.value("version", int64_t{-1}),
                             h.value("timestamp", int64_t{0}),
                             h.value("operation", std::string("?")), metrics);
  }
  return Status::Ok();
}

Status Optimize(const TableArgs& a, const Config& config) {
  if (a.target_mb <= 0) return InvalidArgumentError("--target-size-mb must be positive");
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenTableStore(a.url, config));
  table::DeltaTable t(*store, "");
  PINPIPE_ASSIGN_OR_RETURN(auto r, t.Optimize(static_cast<int64_t>(a.target_mb * 1024 * 1024)));
  if (r.version < 0) {
    std::cout << "nothing to compact\n";
  } else {
    std::cout << fmt::format("version {}: compacted {} files into {} ({} rows)\n", r.version,
                             r.removed.size(), r.added.size(), r.rows);
  }
  return Status::Ok();
}

Status Vacuum(const TableArgs& a, const Config& config) {
  if (a.retention_hours < 0) return InvalidArgumentError("--retention-hours must be >= 0");
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenTableStore(a.url, config));
  table::DeltaTable t(*store, "");
  PINPIPE_ASSIGN_OR_RETURN(
      auto r, t.Vacuum(static_cast<int64_t>(a.retention_hours * 3600 * 1000), a.dry_run));
  for (const auto& p : r.deleted)
    std::cout << (a.dry_run ? "would delete " : "deleted ") << p << "\n";
  std::cout << fmt::format("{} {} files ({} bytes)\n", a.dry_run ? "would delete" : "deleted",
                           r.deleted.size(), r.bytes);
  return Status::Ok();
}

Status Checkpoint(const TableArgs& a, const Config& config) {
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenTableStore(a.url, config));
  table::DeltaTable t(*store, "");
  PINPIPE_ASSIGN_OR_RETURN(table::Snapshot s, t.Load());
  PINPIPE_RETURN_IF_ERROR(table::CheckWritable(s));
  PINPIPE_RETURN_IF_ERROR(t.WriteCheckpoint(s));
  std::cout << fmt::format("checkpoint at version {} ({} files)\n", s.version, s.files.size());
  return Status::Ok();
}

}  // namespace

void RegisterTableCommands(CLI::App& app, CommandContext& ctx) {
  auto* table = app.add_subcommand("table", "Inspect and maintain Delta tables");
  table->require_subcommand(1);
  auto args = std::make_shared<TableArgs>();
  auto add = [&](const char* name, const std::string& help) {
    auto* cmd = table->add_subcommand(name, help);
    cmd->add_option("table", args->url, "The table: a folder, file:// or s3:// URL")->required();
    return cmd;
  };
  auto* show = add("show",
                   "Print a table's version, schema, files, rows and transactions.\n"
                   "Example: pinpipe table show ./lake/tables/abc_pin_table");
  ctx.SetAction(show, [args](const Config& c) { return Show(*args, c); });
  auto* history = add("history",
                      "List the newest commits (version, time, operation, metrics).\n"
                      "Example: pinpipe table history --limit 5 s3://bucket/tables/abc_geo_table");
  history->add_option("--limit", args->limit, "How many versions (default 20)");
  ctx.SetAction(history, [args](const Config& c) { return History(*args, c); });
  auto* optimize = add("optimize",
                       "Compact small files into large ones (remove + add, dataChange false).\n"
                       "Example: pinpipe table optimize ./lake/tables/abc_pin_table");
  optimize->add_option("--target-size-mb", args->target_mb, "Target file size (default 128)");
  ctx.SetAction(optimize, [args](const Config& c) { return Optimize(*args, c); });
  auto* vacuum = add("vacuum",
                     "Delete data files the table no longer references, once older than the "
                     "retention period.\nExample: pinpipe table vacuum --dry-run ./lake/t");
  vacuum->add_option("--retention-hours", args->retention_hours, "Retention (default 168)");
  vacuum->add_flag("--dry-run", args->dry_run, "Only list what would be deleted");
  ctx.SetAction(vacuum, [args](const Config& c) { return Vacuum(*args, c); });
  auto* checkpoint = add("checkpoint",
                         "Write a checkpoint of the latest version (readers then start from it).\n"
                         "Example: pinpipe table checkpoint ./lake/tables/abc_user_table");
  ctx.SetAction(checkpoint, [args](const Config& c) { return Checkpoint(*args, c); });
}

}  // namespace pinpipe::app
