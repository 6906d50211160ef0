#include "pinpipe/runtime/pipeline.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "pinpipe/attach/attach.h"
#include "pinpipe/base/names.h"
#include "pinpipe/runtime/batch_dag.h"
#include "pinpipe/runtime/checks.h"
#include "pinpipe/runtime/wiring.h"
#include "pinpipe/stream/status.h"

namespace pinpipe::runtime {
namespace {

// Adds every family `families()` reports to /metrics, read afresh at each scrape.
void AddFamilies(api::Metrics& metrics, std::function<std::vector<MetricFamily>()> families) {
  for (const auto& f : families()) {
    metrics.AddGauge(f.name, f.help, [families, name = f.name] {
      for (auto& g : families()) {
        if (g.name == name) return std::move(g.samples);
      }
      return std::vector<std::pair<std::string, double>>{};
    });
  }
}

}  // namespace

Pipeline::Pipeline(Config config) : config_(std::move(config)) {}

Pipeline::~Pipeline() { Stop(); }

Status Pipeline::Start() {
  started_ms_ = Clock::Real().NowMillis();
  // Settings first: a bad value stops `up` before anything starts.
  PINPIPE_ASSIGN_OR_RETURN(http::ServerOptions server_options, CheckedHttpOptions(config_));
  PINPIPE_RETURN_IF_ERROR(CheckedKafkaApiOptions(config_).status());
  const std::string& prefix = config_.Get("general.prefix");
  const std::filesystem::path data_dir = config_.Get("general.data_dir");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return UnavailableError("cannot create data dir '" + data_dir.string() + "': " + ec.message());

  // A server: a log held by another server is an error naming it, not a client of it.
  PINPIPE_ASSIGN_OR_RETURN(broker_, attach::OpenServerBroker(config_));
  // A shared pipeline (see README "Sharing one pipeline"): each tenant's
  // prefix gets its topics, its stream job and its batch DAG, like general.prefix.
  PINPIPE_ASSIGN_OR_RETURN(auto tenants, LoadTenants(config_));
  std::vector<std::string> tenant_prefixes;
  for (const auto& t : tenants->tenants()) {
    for (const auto& p : t.prefixes) {
      if (p == prefix) continue;
      tenant_parts_.push_back(TenantPart{t.name, p, nullptr});
      tenant_prefixes.push_back(p);
    }
  }
  PINPIPE_ASSIGN_OR_RETURN(int64_t partitions, config_.GetInt("api.default_partitions"));
  std::vector<std::string> all_prefixes = tenant_prefixes;
  all_prefixes.insert(all_prefixes.begin(), prefix);
  for (const auto& p : all_prefixes) {
    for (std::string_view kind : kTableKindNames) {
      broker::TopicConfig topic;
      topic.partitions = static_cast<int32_t>(partitions);
      Status s = broker_->CreateTopic(TopicName(p, kind), topic);
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    }
  }
  PINPIPE_ASSIGN_OR_RETURN(lake_, objstore::OpenObjectStore(config_.Get("lake.url"), config_));
  PINPIPE_ASSIGN_OR_RETURN(tables_,
                           objstore::OpenObjectStore(config_.Get("stream.tables"), config_));

  // The API and the dashboard share one server.
  PINPIPE_ASSIGN_OR_RETURN(auto service_options, api::ServiceOptionsFromConfig(config_));
  service_ = std::make_unique<api::Service>(*broker_, std::move(service_options));
  PINPIPE_RETURN_IF_ERROR(service_->Open());

  PINPIPE_ASSIGN_OR_RETURN(bool sink_on, config_.GetBool("sink.enabled"));
  if (sink_on) {
    PINPIPE_ASSIGN_OR_RETURN(auto sink_config,
                             sink::SinkConfig::FromPinpipeConfig(config_, tenant_prefixes));
    PINPIPE_ASSIGN_OR_RETURN(
        sink_, sink::Sink::Create(std::move(sink_config), *broker_, *lake_, &Clock::Real()));
    PINPIPE_RETURN_IF_ERROR(sink_->Start());
    AddFamilies(service_->metrics(), [this] { return sink_->GetStatus().ToMetrics(); });
    sink_thread_ = std::thread([this] {
      while (!sink_stop_) {
        Status s = sink_->Run(sink_stop_);
        if (s.ok()) break;
        errors_.Record(Clock::Real().NowMillis(), "sink", s.ToString());
        spdlog::error("sink: {}", s.ToString());
        for (int i = 0; i < 20 && !sink_stop_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }

  // A stream query's failure is recorded when it happens (once per failure,
  // not again while it retries the same one), never by a status read.
  auto record_stream_error = [this](const stream::QueryOptions& query, const Status& error) {
    errors_.Record(Clock::Real().NowMillis(), "stream", query.app_id + ": " + error.ToString());
  };
  PINPIPE_ASSIGN_OR_RETURN(bool stream_on, config_.GetBool("stream.enabled"));
  if (stream_on) {
    PINPIPE_ASSIGN_OR_RETURN(stream_, BuildStreamJob(config_, broker_.get(), tables_.get()));
    PINPIPE_RETURN_IF_ERROR(stream_->Recover());
    // The live answers start from what the tables hold and then fold in each
    // committed micro-batch (live/answers.h: exactly once by construction).
    live_ = std::make_unique<live::LiveAnswers>();
    PINPIPE_ASSIGN_OR_RETURN(auto rebuilt, live_->Rebuild(*tables_, prefix));
    spdlog::info("live answers: rebuilt from {} + {} + {} table rows in {} ms", rebuilt.rows[0],
                 rebuilt.rows[1], rebuilt.rows[2], rebuilt.millis);
    for (const auto& q : stream_->queries())
      live_->SetPositions(q->options().kind, q->status().positions);
    stream_->SetCommitListener(live_->Listener());
    stream_->SetErrorListener(record_stream_error);
    AddFamilies(service_->metrics(),
                [this] { return stream::StatusesToMetrics(stream_->Statuses()); });
    stream_->Start();
    for (auto& part : tenant_parts_) {
      Config tenant_config = config_;
      PINPIPE_RETURN_IF_ERROR(tenant_config.Set("general.prefix", part.prefix));
      PINPIPE_ASSIGN_OR_RETURN(part.stream,
                               BuildStreamJob(tenant_config, broker_.get(), tables_.get()));
      PINPIPE_RETURN_IF_ERROR(part.stream->Recover());
      part.stream->SetErrorListener(record_stream_error);
      part.stream->Start();
    }
  }

  PINPIPE_ASSIGN_OR_RETURN(runs_, OpenRunStore(config_));
  scheduler_ = std::make_unique<schedule::Scheduler>(*runs_);
  PINPIPE_RETURN_IF_ERROR(
      scheduler_->AddDag(BuildBatchDag(config_, lake_.get(), started_ms_ / 1000)));
  for (const auto& part : tenant_parts_) {
    Config tenant_config = config_;
    PINPIPE_RETURN_IF_ERROR(tenant_config.Set("general.prefix", part.prefix));
    PINPIPE_RETURN_IF_ERROR(tenant_config.Set(
        "batch.out", (std::filesystem::path(config_.Get("batch.out")) / part.prefix).string()));
    auto dag = BuildBatchDag(tenant_config, lake_.get(), started_ms_ / 1000);
    dag.name = BatchDagName(prefix, part.prefix);
    PINPIPE_RETURN_IF_ERROR(scheduler_->AddDag(std::move(dag)));
  }
  PINPIPE_ASSIGN_OR_RETURN(bool schedule_on, config_.GetBool("schedule.enabled"));
  if (schedule_on) scheduler_->Start(1000);

  hooks_.status = [this] { return StatusToJson(GetStatus()); };
  hooks_.latest_results = [this] { return LatestResults(); };
  hooks_.live_answers = [this]() -> Result<nlohmann::json> {
    if (!live_) return FailedPreconditionError("the streaming job is off (stream.enabled=false)");
    return live_->ToJson();
  };
  hooks_.runs = [this](int limit) -> Result<nlohmann::json> {
    PINPIPE_ASSIGN_OR_RETURN(auto runs, runs_->ListRuns("", limit));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(RunToJson(r));
    return out;
  };
  hooks_.trigger = [this](const std::string& dag) { return scheduler_->Trigger(dag); };
  hooks_.broker = broker_.get();
  hooks_.tables = tables_.get();
  hooks_.run_store = runs_.get();
  history_ = std::make_unique<web::StatusHistory>();  // 15 minutes at one sample a second
  hooks_.history = history_.get();
  history_->Start([this] { return StatusToJson(GetStatus()); });

  server_ = std::make_unique<http::Server>(
      server_options,
      [this](http::Request req, http::Responder respond) {
        if (req.path.starts_with("/ui") || req.path.starts_with("/api/") ||
            (req.path == "/" && req.method == "GET")) {
          // The dashboard's routes read files and databases: off the I/O thread.
          server_->Offload([this, req = std::move(req), respond = std::move(respond)]() mutable {
            http::Response res;
            if (req.path.starts_with("/api/")) {
              // The dashboard's data: with tenants, each sees its own.
              auto caller = service_->Identify(req, res);
              if (!caller) return respond(std::move(res));
              if (caller->tenant && !caller->tenant->admin) {
                if (web::HandleDashboard(TenantHooks(*caller->tenant), req, res)) {
                  return respond(std::move(res));
                }
              }
            }
            if (web::HandleDashboard(hooks_, req, res)) return respond(std::move(res));
            service_->HandleAsync(std::move(req), std::move(respond));
          });
          return;
        }
        service_->HandleAsync(std::move(req), std::move(respond));
      },
      [this](int status, std::string_view reason, const http::Request& req, http::Response& res) {
        service_->HandleError(status, reason, req, res);
      });
  service_->SetConnectionGauge([this] { return server_->open_connections(); });
  service_->SetOffloader([this](std::function<void()> work) { server_->Offload(std::move(work)); });
  PINPIPE_RETURN_IF_ERROR(server_->Start());
  PINPIPE_ASSIGN_OR_RETURN(
      kafka_server_, StartKafkaApi(config_, *broker_, &service_->tenants(), &service_->quotas()));
  return Status::Ok();
}

void Pipeline::Stop() {
  if (history_) history_->Stop();  // it reads every part below
  if (server_) {
    server_->Stop(10'000);  // finish requests in flight first: they may still produce
    server_.reset();
  }
  if (kafka_server_) {
    kafka_server_->Stop();  // before the sink and the log: its produces finish first
    kafka_server_.reset();
    if (broker_ && broker_->Kind() == "embedded") RemoveKafkaAddressFile(config_);
  }
  if (scheduler_) {
    scheduler_->Stop();
    scheduler_.reset();
  }
  if (stream_) {
    stream_->Stop();  // each query commits the micro-batch in hand
    stream_.reset();
    live_.reset();
  }
  for (auto& part : tenant_parts_) {
    if (part.stream) part.stream->Stop();
  }
  tenant_parts_.clear();
  if (sink_) {
    sink_stop_ = true;
    if (sink_thread_.joinable()) sink_thread_.join();
    if (Status s = sink_->FlushAll(); !s.ok()) spdlog::warn("sink: final flush: {}", s.ToString());
    (void)sink_->Close();
    sink_.reset();
  }
  service_.reset();
  broker_.reset();  // closes the log
}

void Pipeline::ReloadTls() { runtime::ReloadTls(server_.get(), kafka_server_.get()); }

int Pipeline::port() const { return server_ ? server_->port() : 0; }

std::string Pipeline::KafkaAddress() const {
  return kafka_server_ ? kafka_server_->advertised() : std::string();
}

std::string Pipeline::BaseUrl() const {
  auto hp = http::SplitHostPort(config_.Get("api.listen"));
  std::string host = hp.ok() ? hp->first : "127.0.0.1";
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  return (config_.Get("api.tls_cert").empty() ? "http://" : "https://") + host + ":" +
         std::to_string(port());
}

Result<nlohmann::json> Pipeline::LatestResults() { return LatestBatchResults(*runs_); }

web::DashboardHooks Pipeline::TenantHooks(const auth::Tenant& tenant) {
  // The tenant's DAGs: one per prefix it owns.
  std::vector<std::string> dags;
  for (const auto& p : tenant.prefixes)
    dags.push_back(BatchDagName(config_.Get("general.prefix"), p));
  auto owns_dag = [dags](const std::string& d) {
    return std::find(dags.begin(), dags.end(), d) != dags.end();
  };
  web::DashboardHooks h;
  h.status = [this, &tenant, dags] { return StatusToJson(ForTenant(GetStatus(), tenant, dags)); };
  h.latest_results = [this, dags]() -> Result<nlohmann::json> {
    return LatestBatchResults(*runs_, dags.empty() ? "" : dags.front());
  };
  h.runs = [this, owns_dag](int limit) -> Result<nlohmann::json> {
    PINPIPE_ASSIGN_OR_RETURN(auto all, hooks_.runs(std::max(limit, 1) * 10));
    nlohmann::json out = nlohmann::json::array();
    for (auto& r : all) {
      if (owns_dag(r.value("dag", "")) && static_cast<int>(out.size()) < limit) out.push_back(r);
    }
    return out;
  };
  h.trigger = [this, owns_dag](const std::string& dag) -> Result<int64_t> {
    if (!owns_dag(dag)) return NotFoundError("no DAG named '" + dag + "'");
    return scheduler_->Trigger(dag);
  };
  return h;
}

PipelineStatus Pipeline::GetStatus() {
  const std::string prefix = config_.Get("general.prefix");
  PipelineStatus s;
  s.time_ms = Clock::Real().NowMillis();
  s.started_ms = started_ms_;
  s.prefix = prefix;
  s.broker = broker_ ? std::string(broker_->Kind()) : "";
  ApiStatus api;
  if (service_) {
    const api::Metrics& metrics = service_->metrics();
    api.requests = metrics.TotalRequests();
    api.records = metrics.TotalRecordsIn();
    api.produce_latency = metrics.ProduceLatency();
  }
  s.api = std::move(api);
  if (broker_) {
    auto names = broker_->ListTopics();
    if (names.ok()) {
      for (const auto& name : *names) {
        auto d = broker_->DescribeTopic(name);
        if (!d.ok()) continue;
        TopicStatus t;
        t.name = name;
        t.partitions = static_cast<int64_t>(d->partitions.size());
        for (const auto& p : d->partitions) {
          t.records += p.high_watermark - p.log_start_offset;
          t.bytes += p.size_bytes;
        }
        (IsStreamName(name) ? s.streams : s.topics).push_back(std::move(t));
      }
    }
  }
  s.sink.enabled = sink_ != nullptr;
  if (sink_) s.sink.partitions = sink_->GetStatus().partitions;

  s.stream_job.enabled = stream_ != nullptr;
  std::vector<std::pair<stream::StreamJob*, std::string>> jobs;
  if (stream_) jobs.emplace_back(stream_.get(), prefix);
  for (auto& part : tenant_parts_) {
    if (part.stream) jobs.emplace_back(part.stream.get(), part.prefix);
  }
  for (const auto& [stream_job, job_prefix] : jobs) {
    for (auto& q : stream_job->Statuses()) {
      std::string table = TableName(job_prefix, StreamKind(q.stream));
      s.stream_job.tables.push_back({std::move(table), std::move(q)});
    }
  }

  {
    // Listing the lake is not free: at most every 5 s.
    std::lock_guard lock(lake_mu_);
    const int64_t now = Clock::Real().NowMillis();
    if (lake_ && now - lake_scanned_ms_ > 5000) {
      lake_scanned_ms_ = now;
      auto all = lake_->ListAll("topics/");
      if (all.ok()) {
        LakeStatus lake;
        lake.objects = static_cast<int64_t>(all->size());
        for (const auto& o : *all) lake.bytes += o.size;
        lake_cache_ = lake;
      }
    }
    s.lake = lake_cache_;
  }

  if (scheduler_) {
    for (const auto& name : scheduler_->DagNames()) {
      auto next = scheduler_->NextFireTime(name);
      s.scheduler.dags.push_back({name, name == "batch" ? config_.Get("schedule.batch_cron") : "",
                                  next.ok() && *next > 0 ? *next * 1000 : 0});
    }
  }
  if (runs_) {
    auto runs = runs_->ListRuns("", 10);
    if (runs.ok()) s.scheduler.runs = std::move(*runs);
  }
  s.errors = errors_.Newest();
  return s;
}

Status RunUp(const Config& config, SignalWaiter& signals, std::ostream& out) {
  Pipeline pipeline(config);
  if (Status s = pipeline.Start(); !s.ok()) {
    pipeline.Stop();
    return s;
  }
  WatchTenantReloads(signals, config, pipeline.tenants(), [&pipeline] { pipeline.ReloadTls(); });
  const std::string& prefix = config.Get("general.prefix");
  const std::string url = pipeline.BaseUrl();
  out << "pinpipe up: prefix " << prefix << ", data in " << config.Get("general.data_dir") << "\n"
      << "  Kafka REST v2:   " << url << "/topics/" << TopicName(prefix, "pin") << "\n"
      << "  Kafka protocol:  "
      << (pipeline.KafkaAddress().empty() ? std::string("off") : pipeline.KafkaAddress()) << "\n"
      << "  Kinesis:         " << url << "/streams/" << StreamName(prefix, "pin")
      << "/record  (and POST / with X-Amz-Target)\n"
      << "  lake (sink):     " << config.Get("lake.url") << "\n"
      << "  Delta tables:    " << config.Get("stream.tables") << "\n"
      << "  batch schedule:  " << config.Get("schedule.batch_cron") << " ("
      << config.Get("schedule.timezone") << ")\n"
      << "  metrics:         " << url << "/metrics\n"
      << "  dashboard:       " << url << "/ui/\n"
      << "Ctrl-C stops cleanly; a second Ctrl-C exits at once." << std::endl;
  const int sig = signals.Wait();
  spdlog::info("up: signal {}: stopping (finishing requests, flushing the sink and the stream)",
               sig);
  // A second signal during shutdown exits at once; recovery on the next start
  // still loses nothing that was acknowledged.
  signals.OnSecondSignal([] {
    std::cerr << "pinpipe: second signal, exiting now" << std::endl;
    std::_Exit(130);
  });
  signals.OnHangup(nullptr);  // the registry goes with the pipeline
  pipeline.Stop();
  spdlog::info("up: stopped cleanly");
  return Status::Ok();
}

}  // namespace pinpipe::runtime
