#include "pipeline.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pinpipe/batch/job.h"
#include "pinpipe/batch/queries.h"
#include "pinpipe/stream/status.h"
#include "wiring.h"

namespace pinpipe::app {
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

const char* kKinds[] = {"pin", "geo", "user"};

std::string ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

Pipeline::Pipeline(Config config) : config_(std::move(config)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::RecordError(const std::string& component, const std::string& message) {
  std::lock_guard lock(errors_mu_);
  errors_.push_back(
      {{"time_ms", Clock::Real().NowMillis()}, {"component", component}, {"message", message}});
  if (errors_.size() > 50) errors_.erase(errors_.begin());
}

Status Pipeline::Start() {
  started_ms_ = Clock::Real().NowMillis();
  const std::string& prefix = config_.Get("general.prefix");
  const std::filesystem::path data_dir = config_.Get("general.data_dir");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return UnavailableError("cannot create data dir '" + data_dir.string() + "': " + ec.message());

  PINPIPE_ASSIGN_OR_RETURN(broker_, OpenBroker(config_));
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
    for (const char* kind : kKinds) {
      broker::TopicConfig topic;
      topic.partitions = static_cast<int32_t>(partitions);
      Status s = broker_->CreateTopic(p + "." + kind, topic);
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    }
  }
  PINPIPE_ASSIGN_OR_RETURN(lake_, objstore::OpenObjectStore(config_.Get("lake.url"), config_));
  PINPIPE_ASSIGN_OR_RETURN(tables_,
                           objstore::OpenObjectStore(config_.Get("stream.tables"), config_));

  // The API and the dashboard share one server.
  PINPIPE_ASSIGN_OR_RETURN(auto service_options, api::ServiceOptionsFromConfig(config_));
  service_ = std::make_unique<api::Service>(*broker_, Clock::Real(), std::move(service_options));
  PINPIPE_RETURN_IF_ERROR(service_->Open());

  PINPIPE_ASSIGN_OR_RETURN(bool sink_on, config_.GetBool("sink.enabled"));
  if (sink_on) {
    PINPIPE_ASSIGN_OR_RETURN(auto sink_config,
                             sink::SinkConfig::FromPinpipeConfig(config_, tenant_prefixes));
    PINPIPE_ASSIGN_OR_RETURN(sink_, sink::Sink::Create(std::move(sink_config), broker_.get(),
                                                       lake_.get(), &Clock::Real()));
    PINPIPE_RETURN_IF_ERROR(sink_->Start());
    AddFamilies(service_->metrics(), [this] { return sink_->GetStatus().ToMetrics(); });
    sink_thread_ = std::thread([this] {
      while (!sink_stop_) {
        Status s = sink_->Run(sink_stop_);
        if (s.ok()) break;
        RecordError("sink", s.ToString());
        spdlog::error("sink: {}", s.ToString());
        for (int i = 0; i < 20 && !sink_stop_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }

  PINPIPE_ASSIGN_OR_RETURN(bool stream_on, config_.GetBool("stream.enabled"));
  if (stream_on) {
    PINPIPE_ASSIGN_OR_RETURN(stream_,
                             BuildStreamJob(config_, broker_.get(), tables_.get(), Clock::Real()));
    PINPIPE_RETURN_IF_ERROR(stream_->Recover());
    // The live answers start from what the tables hold and then fold in each
    // committed micro-batch (live/answers.h: exactly once by construction).
    live_ = std::make_unique<live::LiveAnswers>(Clock::Real());
    PINPIPE_ASSIGN_OR_RETURN(auto rebuilt, live_->Rebuild(*tables_, prefix));
    spdlog::info("live answers: rebuilt from {} + {} + {} table rows in {} ms", rebuilt.rows[0],
                 rebuilt.rows[1], rebuilt.rows[2], rebuilt.millis);
    for (const auto& q : stream_->queries())
      live_->SetPositions(q->options().kind, q->status().positions);
    stream_->SetCommitListener(live_->Listener());
    AddFamilies(service_->metrics(),
                [this] { return stream::StatusesToMetrics(stream_->Statuses()); });
    stream_->Start();
    for (auto& part : tenant_parts_) {
      Config tenant_config = config_;
      PINPIPE_RETURN_IF_ERROR(tenant_config.Set("general.prefix", part.prefix));
      PINPIPE_ASSIGN_OR_RETURN(
          part.stream, BuildStreamJob(tenant_config, broker_.get(), tables_.get(), Clock::Real()));
      PINPIPE_RETURN_IF_ERROR(part.stream->Recover());
      part.stream->Start();
    }
  }

  PINPIPE_ASSIGN_OR_RETURN(runs_, schedule::RunStore::Open((data_dir / "runs.db").string()));
  scheduler_ = std::make_unique<schedule::Scheduler>(Clock::Real(), *runs_);
  PINPIPE_RETURN_IF_ERROR(
      scheduler_->AddDag(BuildBatchDag(config_, lake_.get(), started_ms_ / 1000)));
  for (const auto& part : tenant_parts_) {
    Config tenant_config = config_;
    PINPIPE_RETURN_IF_ERROR(tenant_config.Set("general.prefix", part.prefix));
    PINPIPE_RETURN_IF_ERROR(tenant_config.Set(
        "batch.out", (std::filesystem::path(config_.Get("batch.out")) / part.prefix).string()));
    auto dag = BuildBatchDag(tenant_config, lake_.get(), started_ms_ / 1000);
    dag.name = "batch-" + part.prefix;
    PINPIPE_RETURN_IF_ERROR(scheduler_->AddDag(std::move(dag)));
  }
  PINPIPE_ASSIGN_OR_RETURN(bool schedule_on, config_.GetBool("schedule.enabled"));
  if (schedule_on) scheduler_->Start(1000);

  hooks_.status = [this] { return StatusJson(); };
  hooks_.latest_results = [this] { return LatestResults(); };
  hooks_.live_answers = [this]() -> Result<nlohmann::json> {
    if (!live_) return FailedPreconditionError("the streaming job is off (stream.enabled=false)");
    return live_->ToJson();
  };
  hooks_.runs = [this](int limit) -> Result<nlohmann::json> {
    PINPIPE_ASSIGN_OR_RETURN(auto runs, runs_->ListRuns("", limit));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) {
      out.push_back({{"id", r.id},
                     {"dag", r.dag},
                     {"trigger", r.trigger},
                     {"state", schedule::StateName(r.state)},
                     {"logical_date_s", r.logical_date_s},
                     {"start_ms", r.start_ms},
                     {"end_ms", r.end_ms},
                     {"results", r.results_location},
                     {"error", r.error}});
    }
    return out;
  };
  hooks_.trigger = [this](const std::string& dag) { return scheduler_->Trigger(dag); };
  hooks_.broker = broker_.get();
  hooks_.tables = tables_.get();
  hooks_.run_store = runs_.get();
  history_ = std::make_unique<web::StatusHistory>();  // 15 minutes at one sample a second
  hooks_.history = history_.get();
  history_->Start([this] { return StatusJson(); });

  PINPIPE_ASSIGN_OR_RETURN(int64_t io_threads, config_.GetInt("api.threads"));
  PINPIPE_ASSIGN_OR_RETURN(int64_t body_limit, config_.GetBytes("api.body_limit"));
  http::ServerOptions so;
  so.listen = config_.Get("api.listen");
  so.io_threads = static_cast<int>(std::max<int64_t>(1, io_threads));
  so.worker_threads = 64;
  so.body_limit = static_cast<uint64_t>(body_limit);
  so.tls_cert_file = config_.Get("api.tls_cert");
  so.tls_key_file = config_.Get("api.tls_key");
  server_ = std::make_unique<http::Server>(
      so,
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

void Pipeline::ReloadTls() { app::ReloadTls(server_.get(), kafka_server_.get()); }

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

schedule::DagSpec BuildBatchDag(const Config& config, objstore::ObjectStore* lake,
                                int64_t start_date_s) {
  schedule::DagSpec dag;
  dag.name = "batch";
  dag.schedule = config.Get("schedule.batch_cron");
  dag.timezone = config.Get("schedule.timezone");
  dag.start_date_s = start_date_s;  // no catch-up of days before the first start
  dag.catchup = false;
  const std::string prefix = config.Get("general.prefix");
  const std::filesystem::path out_root = std::filesystem::absolute(config.Get("batch.out"));
  // Like the seed's Airflow DAG: check the sink's output exists, then read,
  // clean and answer the questions, then publish the run as the latest.
  schedule::TaskSpec check{
      "check_input", {}, [lake, prefix](schedule::TaskContext& ctx) -> Status {
        for (const char* kind : kKinds) {
          auto page = lake->List("topics/" + prefix + "." + kind + "/", "", 1);
          if (!page.ok()) return page.status();
          if (page->objects.empty()) {
            return NotFoundError("no objects under topics/" + prefix + "." + kind + "/ yet");
          }
        }
        ctx.log("input present for all three topics");
        return Status::Ok();
      }};
  check.retries = 2;
  check.retry_delay_ms = 5'000;
  schedule::TaskSpec run{
      "clean_and_query",
      {"check_input"},
      [lake, prefix, out_root](schedule::TaskContext& ctx) -> Status {
        batch::JobOptions options;
        options.load.prefix = prefix;
        // The cleaned tables stream to Parquet while loading; memory keeps
        // only the columns the questions read.
        options.load.columns = clean::ColumnSet::kQueryOnly;
        options.out_dir = (out_root / ("run-" + std::to_string(ctx.run_id))).string();
        PINPIPE_ASSIGN_OR_RETURN(auto report, batch::RunBatchJob(*lake, options));
        ctx.log(report.summary_json);
        ctx.results_location = options.out_dir;
        return Status::Ok();
      }};
  run.timeout_ms = 2 * 3600 * 1000;
  dag.tasks = {check, run};
  return dag;
}

Result<nlohmann::json> LatestBatchResults(schedule::RunStore& runs, const std::string& dag) {
  PINPIPE_ASSIGN_OR_RETURN(auto latest, runs.LatestSuccess(dag));
  if (!latest) return NotFoundError("no batch run has finished yet");
  const std::filesystem::path dir = latest->results_location;
  nlohmann::json out = {{"run_id", latest->id},
                        {"finished_ms", latest->end_ms},
                        {"location", latest->results_location},
                        {"questions", nlohmann::json::array()}};
  for (const auto& q : batch::Questions()) {
    const std::string text = ReadWholeFile(dir / (std::string(q.id) + ".json"));
    auto rows = nlohmann::ordered_json::parse(text, nullptr, false);
    nlohmann::json question = {{"id", q.id},
                               {"title", q.title},
                               {"columns", nlohmann::json::array()},
                               {"rows", nlohmann::json::array()}};
    if (rows.is_array()) {
      for (const auto& row : rows) {
        if (!row.is_object()) continue;
        if (question["columns"].empty()) {
          for (const auto& item : row.items()) question["columns"].push_back(item.key());
        }
        nlohmann::json values = nlohmann::json::array();
        for (const auto& item : row.items())
          values.push_back(nlohmann::json::parse(item.value().dump()));
        question["rows"].push_back(std::move(values));
      }
    }
    out["questions"].push_back(std::move(question));
  }
  return out;
}

Result<nlohmann::json> Pipeline::LatestResults() { return LatestBatchResults(*runs_); }

web::DashboardHooks Pipeline::TenantHooks(const auth::Tenant& tenant) {
  // The tenant's DAGs: one per prefix it owns.
  std::vector<std::string> dags;
  for (const auto& p : tenant.prefixes) {
    dags.push_back(p == config_.Get("general.prefix") ? "batch" : "batch-" + p);
  }
  auto owns_dag = [dags](const std::string& d) {
    return std::find(dags.begin(), dags.end(), d) != dags.end();
  };
  web::DashboardHooks h;
  h.status = [this, &tenant, owns_dag] {
    nlohmann::json s = StatusJson();
    auto keep = [](nlohmann::json& list, auto pred) {
      nlohmann::json out = nlohmann::json::array();
      for (auto& item : list) {
        if (pred(item)) out.push_back(std::move(item));
      }
      list = std::move(out);
    };
    const std::string who = tenant.name;
    s["tenant"] = who;
    s["prefix"] = tenant.prefixes.empty() ? "" : tenant.prefixes.front();
    keep(s["topics"],
         [&](const nlohmann::json& t) { return tenant.OwnsTopic(t.value("name", "")); });
    keep(s["streams"],
         [&](const nlohmann::json& t) { return tenant.OwnsStream(t.value("name", "")); });
    keep(s["sink"]["partitions"],
         [&](const nlohmann::json& p) { return tenant.OwnsTopic(p.value("topic", "")); });
    int64_t lag = 0;
    for (const auto& p : s["sink"]["partitions"]) lag += std::max<int64_t>(0, p.value("lag", 0));
    s["sink"]["lag"] = lag;
    keep(s["stream_job"]["tables"],
         [&](const nlohmann::json& t) { return tenant.OwnsTable(t.value("name", "")); });
    keep(s["scheduler"]["dags"],
         [&](const nlohmann::json& d) { return owns_dag(d.value("name", "")); });
    keep(s["scheduler"]["runs"],
         [&](const nlohmann::json& r) { return owns_dag(r.value("dag", "")); });
    // Pipeline-wide figures would tell one tenant about the others.
    s.erase("api");
    s.erase("lake");
    s["errors"] = nlohmann::json::array();
    return s;
  };
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

nlohmann::json Pipeline::StatusJson() {
  const std::string prefix = config_.Get("general.prefix");
  nlohmann::json s = {{"time_ms", Clock::Real().NowMillis()},
                      {"started_ms", started_ms_},
                      {"prefix", prefix},
                      {"broker", broker_ ? std::string(broker_->Kind()) : ""}};
  int64_t requests = 0, records = 0;
  std::string text;
  if (service_) {
    // Counters from the API's own metrics: every request, every record in.
    text = service_->metrics().Render();
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto space = line.rfind(' ');
      if (space == std::string::npos) continue;
      const double value = std::atof(line.c_str() + space + 1);
      if (line.rfind("pinpipe_http_requests_total", 0) == 0)
        requests += static_cast<int64_t>(value);
      if (line.rfind("pinpipe_api_records_in_total", 0) == 0)
        records += static_cast<int64_t>(value);
    }
  }
  s["api"] = {{"requests", requests},
              {"records", records},
              {"produce_latency", web::ProduceHistogram(text)}};
  nlohmann::json topics = nlohmann::json::array(), streams = nlohmann::json::array();
  if (broker_) {
    auto names = broker_->ListTopics();
    if (names.ok()) {
      for (const auto& name : *names) {
        auto d = broker_->DescribeTopic(name);
        if (!d.ok()) continue;
        int64_t n = 0, bytes = 0;
        for (const auto& p : d->partitions) {
          n += p.high_watermark - p.log_start_offset;
          bytes += p.size_bytes;
        }
        nlohmann::json t = {
            {"name", name}, {"partitions", d->partitions.size()}, {"records", n}, {"bytes", bytes}};
        (name.rfind("streaming-", 0) == 0 ? streams : topics).push_back(std::move(t));
      }
    }
  }
  s["topics"] = topics;
  s["streams"] = streams;

  nlohmann::json sink = {
      {"enabled", sink_ != nullptr}, {"lag", 0}, {"partitions", nlohmann::json::array()}};
  if (sink_) {
    auto status = nlohmann::json::parse(sink_->GetStatus().ToJson(), nullptr, false);
    int64_t lag = 0;
    if (status.is_object() && status.contains("partitions")) {
      for (const auto& p : status["partitions"]) {
        lag += std::max<int64_t>(0, p.value("lag", int64_t{0}));
        sink["partitions"].push_back(p);
      }
    }
    sink["lag"] = lag;
  }
  s["sink"] = sink;

  nlohmann::json job = {{"enabled", stream_ != nullptr}, {"tables", nlohmann::json::array()}};
  std::vector<std::pair<stream::StreamJob*, std::string>> jobs;
  if (stream_) jobs.emplace_back(stream_.get(), prefix);
  for (auto& part : tenant_parts_) {
    if (part.stream) jobs.emplace_back(part.stream.get(), part.prefix);
  }
  for (const auto& [stream_job, job_prefix] : jobs) {
    for (const auto& q : stream_job->Statuses()) {
      std::string kind = q.stream.substr(q.stream.rfind('-') + 1);
      job["tables"].push_back({{"name", job_prefix + "_" + kind + "_table"},
                               {"stream", q.stream},
                               {"version", q.table_version},
                               {"rows", q.rows},
                               {"batches", q.batches},
                               {"rejected", q.rejected},
                               {"duplicates", q.duplicates},
                               {"lag_ms", q.lag_ms},
                               {"latency_p50_ms", q.last_latency_p50_ms},
                               {"latency_p99_ms", q.last_latency_p99_ms},
                               {"last_error", q.last_error}});
      if (!q.last_error.empty()) RecordError("stream", q.last_error);
    }
  }
  s["stream_job"] = job;

  {
    // Listing the lake is not free: at most every 5 s.
    std::lock_guard lock(lake_mu_);
    const int64_t now = Clock::Real().NowMillis();
    if (lake_ && now - lake_scanned_ms_ > 5000) {
      lake_scanned_ms_ = now;
      auto all = lake_->ListAll("topics/");
      if (all.ok()) {
        int64_t bytes = 0;
        for (const auto& o : *all) bytes += o.size;
        lake_cache_ = {{"objects", all->size()}, {"bytes", bytes}};
      }
    }
    s["lake"] = lake_cache_;
  }

  nlohmann::json sched = {{"dags", nlohmann::json::array()}, {"runs", nlohmann::json::array()}};
  if (scheduler_) {
    for (const auto& name : scheduler_->DagNames()) {
      auto next = scheduler_->NextFireTime(name);
      sched["dags"].push_back(
          {{"name", name},
           {"schedule", name == "batch" ? config_.Get("schedule.batch_cron") : ""},
           {"next_fire_ms", next.ok() && *next > 0 ? *next * 1000 : 0}});
    }
  }
  if (runs_) {
    auto runs = hooks_.runs ? hooks_.runs(10) : Result<nlohmann::json>(nlohmann::json::array());
    if (runs.ok()) sched["runs"] = *runs;
  }
  s["scheduler"] = sched;
  {
    std::lock_guard lock(errors_mu_);
    s["errors"] = errors_;
  }
  return s;
}

}  // namespace pinpipe::app
