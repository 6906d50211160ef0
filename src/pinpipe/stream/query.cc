#include "pinpipe/stream/query.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pinpipe/stream/rows.h"

namespace pinpipe::stream {
namespace {

std::string BatchName(int64_t batch) {
  std::string digits = std::to_string(batch);
  return std::string(20 - std::min<size_t>(20, digits.size()), '0') + digits;
}

int64_t Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

StreamQuery::StreamQuery(QueryOptions options, std::unique_ptr<StreamSource> source,
                         std::unique_ptr<TableWriter> table, objstore::ObjectStore& checkpoints)
    : options_(std::move(options)),
      source_(std::move(source)),
      table_(std::move(table)),
      checkpoints_(checkpoints),
      clock_(options_.clock != nullptr ? options_.clock : &Clock::Real()) {
  status_.stream = source_->stream();
}

std::string StreamQuery::PlanKey(int64_t batch) const {
  return options_.checkpoint_prefix + "offsets/" + BatchName(batch) + ".json";
}

Status StreamQuery::WritePlan(int64_t batch, const Plan& plan) {
  nlohmann::json json = {
      {"batch", batch}, {"app_id", options_.app_id}, {"shards", nlohmann::json::object()}};
  for (const auto& [shard, range] : plan) {
    json["shards"][shard] = {{"start", range.start}, {"end", range.end}};
  }
  const std::string body = json.dump();
  objstore::PutOptions put;
  put.if_absent = true;
  put.content_type = "application/json";
  Status s = checkpoints_.Put(PlanKey(batch), body, put);
  if (s.code() == StatusCode::kAlreadyExists) {
    // Someone planned this batch already: fine if it is the same plan (our own
    // earlier attempt), otherwise another writer runs the same query.
    PINPIPE_ASSIGN_OR_RETURN(auto existing, checkpoints_.Get(PlanKey(batch)));
    if (existing == body) return Status::Ok();
    return AbortedError("stream query '" + options_.app_id + "': batch " + std::to_string(batch) +
                        " was planned differently by another writer");
  }
  return s;
}

Result<StreamQuery::Plan> StreamQuery::ReadPlan(int64_t batch) {
  PINPIPE_ASSIGN_OR_RETURN(auto body, checkpoints_.Get(PlanKey(batch)));
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("shards") || !json["shards"].is_object()) {
    return DataLossError("corrupt stream checkpoint " + PlanKey(batch));
  }
  Plan plan;
  for (const auto& [shard, range] : json["shards"].items()) {
    if (!range.is_object() || !range.contains("start") || !range.contains("end") ||
        !range["start"].is_string() || !range["end"].is_string()) {
      return DataLossError("corrupt stream checkpoint " + PlanKey(batch));
    }
    plan[shard] = {range["start"].get<std::string>(), range["end"].get<std::string>()};
  }
  return plan;
}

void StreamQuery::SetError(const Status& s) {
  std::lock_guard lock(status_mu_);
  status_.last_error = s.ToString();
}

Status StreamQuery::Recover() {
  PINPIPE_ASSIGN_OR_RETURN(auto plans,
                           checkpoints_.ListAll(options_.checkpoint_prefix + "offsets/"));
  int64_t newest = -1;
  for (const auto& info : plans) {
    const auto slash = info.key.rfind('/');
    const std::string name = info.key.substr(slash + 1);
    if (name.size() != 25 || name.substr(20) != ".json" ||
        name.find_first_not_of("0123456789") != 20) {
      continue;
    }
    newest = std::max<int64_t>(newest, std::stoll(name.substr(0, 20)));
  }
  PINPIPE_ASSIGN_OR_RETURN(int64_t committed, table_->TxnVersion(options_.app_id));
  positions_.clear();
  replay_.reset();
  if (newest >= 0) {
    PINPIPE_ASSIGN_OR_RETURN(Plan plan, ReadPlan(newest));
    if (committed >= newest) {
      for (const auto& [shard, range] : plan) positions_[shard] = range.end;
      next_batch_ = newest + 1;
    } else if (committed == newest - 1) {
      for (const auto& [shard, range] : plan) positions_[shard] = range.start;
      replay_ = std::move(plan);
      next_batch_ = newest;
      spdlog::info("stream {}: replaying uncommitted batch {}", options_.app_id, newest);
    } else {
      return DataLossError("stream query '" + options_.app_id + "': checkpoint is at batch " +
                           std::to_string(newest) + " but the table's txn version is " +
                           std::to_string(committed));
    }
  } else {
    next_batch_ = committed + 1;
  }
  PINPIPE_ASSIGN_OR_RETURN(auto inds, table_->ReadInds());
  seen_ = std::unordered_set<int64_t>(inds.begin(), inds.end());
  recovered_ = true;
  std::lock_guard lock(status_mu_);
  status_.next_batch = next_batch_;
  status_.positions = positions_;
  status_.table_version = table_->version();
  return Status::Ok();
}

Result<int64_t> StreamQuery::RunBatch(int64_t wait_ms) {
  if (!recovered_) PINPIPE_RETURN_IF_ERROR(Recover());
  const int64_t batch = next_batch_;
  const int64_t read_started_ms = clock_->NowMillis();
  Plan plan;
  struct Pending {
    std::string shard;
    SourceRecord record;
  };
  std::vector<Pending> records;
  int64_t lag_ms = 0;

  auto status_or = [&](const Status& s) -> Status {
    if (!s.ok()) SetError(s);
    return s;
  };

  if (replay_) {
    plan = *replay_;
    for (const auto& [shard, range] : plan) {
      std::string at = range.start;
      while (at != range.end) {
        auto read = source_->Read(shard, at, range.end, options_.max_records_per_batch, 0);
        if (!read.ok()) return status_or(read.status());
        if (read->records.empty()) {
          return status_or(DataLossError("stream " + source_->stream() + " shard " + shard +
                                         ": records of planned batch " + std::to_string(batch) +
                                         " are no longer readable (retention?)"));
        }
        for (auto& r : read->records) records.push_back({shard, std::move(r)});
        at = read->next_position;
      }
    }
  } else {
    auto shards = source_->Shards();
    if (!shards.ok() && shards.status().code() == StatusCode::kNotFound) {
      return int64_t{0};  // the stream does not exist yet: nothing to read
    }
    if (!shards.ok()) return status_or(shards.status());
    const int per_shard = std::max<int>(
        1, options_.max_records_per_batch / std::max<int>(1, static_cast<int>(shards->size())));
    // Long-poll the first shard only; the others are read without waiting.
    bool first = true;
    for (const auto& shard : *shards) {
      auto it = positions_.find(shard);
      if (it == positions_.end()) {
        auto start = source_->StartPosition(shard, options_.initial);
        if (!start.ok()) return status_or(start.status());
        it = positions_.emplace(shard, *start).first;
      }
      auto read = source_->Read(shard, it->second, "", per_shard, first ? wait_ms : 0);
      first = false;
      if (!read.ok()) return status_or(read.status());
      lag_ms = std::max(lag_ms, read->millis_behind);
      plan[shard] = {it->second, read->next_position};
      for (auto& r : read->records) records.push_back({shard, std::move(r)});
    }
    if (records.empty()) {
      if (listener_) {
        CommitEvent e;
        e.kind = options_.kind;
        e.table_version = table_->version();
        e.positions = positions_;
        e.read_started_ms = read_started_ms;
        e.lag_ms = lag_ms;
        listener_(e);
      }
      std::lock_guard lock(status_mu_);
      status_.lag_ms = lag_ms;
      return int64_t{0};
    }
    if (Status s = WritePlan(batch, plan); !s.ok()) return status_or(s);
  }

  // Arrival order across shards (ties by shard, then position order) decides
  // which duplicate is "first"; a replay sorts the same records the same way.
  std::stable_sort(records.begin(), records.end(), [](const Pending& a, const Pending& b) {
    if (a.record.arrival_ms != b.record.arrival_ms)
      return a.record.arrival_ms < b.record.arrival_ms;
    return a.shard < b.shard;
  });
  std::vector<RecordRef> refs;
  refs.reserve(records.size());
  const std::string stream = source_->stream();
  std::vector<std::string> sources;
  sources.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    sources.push_back(stream + "/" + records[i].shard + "@" + records[i].record.position);
  }
  for (size_t i = 0; i < records.size(); ++i) {
    refs.push_back({records[i].record.data, sources[i], static_cast<int64_t>(i)});
  }
  CleanResult cleaned = CleanRecords(options_.kind, refs, seen_);

  if (!cleaned.rejects.empty()) {
    // Rejects are data: keep them beside the checkpoint, one file per batch.
    std::string lines;
    for (const auto& r : cleaned.rejects) {
      lines += nlohmann::json{{"source", r.source},
                              {"reason", r.reason},
                              {"row_kept", r.row_kept},
                              {"record", r.record}}
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      lines += '\n';
    }
    objstore::PutOptions put;
    put.content_type = "application/x-ndjson";
    Status s = checkpoints_.Put(
        options_.checkpoint_prefix + "rejects/" + BatchName(batch) + ".jsonl", lines, put);
    if (!s.ok()) return status_or(s);
  }

  if (Status s = table_->Append(cleaned.rows, options_.app_id, batch); !s.ok()) {
    return status_or(s.WithContext("stream " + stream + " batch " + std::to_string(batch)));
  }
  const int64_t committed_ms = clock_->NowMillis();
  for (int64_t ind : cleaned.new_inds) seen_.insert(ind);
  for (const auto& [shard, range] : plan) positions_[shard] = range.end;
  replay_.reset();
  next_batch_ = batch + 1;
  if (listener_) {
    CommitEvent e;
    e.kind = options_.kind;
    e.rows = &cleaned.rows;
    e.table_version = table_->version();
    e.positions = positions_;
    e.read_started_ms = read_started_ms;
    e.lag_ms = lag_ms;
    for (const auto& p : records)
      e.newest_arrival_ms = std::max(e.newest_arrival_ms, p.record.arrival_ms);
    listener_(e);
  }

  std::vector<int64_t> latencies;
  latencies.reserve(records.size());
  for (const auto& p : records) {
    if (p.record.arrival_ms > 0)
      latencies.push_back(std::max<int64_t>(0, committed_ms - p.record.arrival_ms));
  }
  std::lock_guard lock(status_mu_);
  status_.next_batch = next_batch_;
  status_.batches += 1;
  status_.rows += static_cast<int64_t>(cleaned.rows.num_rows());
  status_.rejected += cleaned.rejected;
  status_.duplicates += cleaned.duplicates;
  status_.table_version = table_->version();
  status_.lag_ms = lag_ms;
  status_.positions = positions_;
  status_.last_latency_p50_ms = Percentile(latencies, 0.5);
  status_.last_latency_p99_ms = Percentile(latencies, 0.99);
  status_.last_error.clear();
  return static_cast<int64_t>(records.size());
}

QueryStatus StreamQuery::status() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

}  // namespace pinpipe::stream
