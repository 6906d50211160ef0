#include "pinpipe/runtime/serve.h"

#include <spdlog/spdlog.h>

#include "pinpipe/api/service.h"
#include "pinpipe/attach/attach.h"
#include "pinpipe/http/server.h"
#include "pinpipe/runtime/checks.h"
#include "pinpipe/runtime/wiring.h"

namespace pinpipe::runtime {
Status RunServe(const Config& config, const ServeOptions& options, SignalWaiter& signals) {
  PINPIPE_ASSIGN_OR_RETURN(auto service_options, api::ServiceOptionsFromConfig(config));
  PINPIPE_ASSIGN_OR_RETURN(http::ServerOptions so,
                           CheckedHttpOptions(config, options.handler_threads));
  PINPIPE_RETURN_IF_ERROR(CheckedKafkaApiOptions(config).status());
  PINPIPE_ASSIGN_OR_RETURN(auto broker, attach::OpenServerBroker(config));
  api::Service service(*broker, std::move(service_options));
  PINPIPE_RETURN_IF_ERROR(service.Open());

  http::Server server(
      so,
      [&service](http::Request req, http::Responder respond) {
        service.HandleAsync(std::move(req), std::move(respond));
      },
      [&service](int status, std::string_view reason, const http::Request& req,
                 http::Response& res) { service.HandleError(status, reason, req, res); });
  service.SetOffloader([&server](std::function<void()> work) { server.Offload(std::move(work)); });
  service.SetConnectionGauge([&server] { return server.open_connections(); });

  PINPIPE_RETURN_IF_ERROR(server.Start());
  spdlog::info("serve: listening on {} (port {}{}), broker {}", so.listen, server.port(),
               so.tls_cert_file.empty() ? "" : ", TLS", broker->Kind());
  auto kafka_server = StartKafkaApi(config, *broker, &service.tenants(), &service.quotas());
  if (!kafka_server.ok()) {
    server.Stop(options.grace_ms);
    return kafka_server.status();
  }
  if (*kafka_server) {
    spdlog::info("serve: Kafka protocol on {} (advertised {})", config.Get("kafka_api.listen"),
                 (*kafka_server)->advertised());
  }
  // SIGHUP reloads the tenants and both listeners' certificates.
  WatchTenantReloads(signals, config, &service.tenants(),
                     [&server, kafka = kafka_server->get()] { ReloadTls(&server, kafka); });
  struct EndWatch {
    SignalWaiter& signals;
    ~EndWatch() { signals.OnHangup(nullptr); }  // before `service` and the servers go
  } end_watch{signals};
  const int sig = signals.Wait();
  spdlog::info("serve: signal {}, finishing requests in flight", sig);
  server.Stop(options.grace_ms);
  if (*kafka_server) {
    (*kafka_server)->Stop();
    if (broker->Kind() == "embedded") RemoveKafkaAddressFile(config);
  }
  spdlog::info("serve: stopped");
  return Status::Ok();
}

}  // namespace pinpipe::runtime
