// Wiring shared by the commands: the one place that picks implementations of
// the seams (Broker, ObjectStore, stream sources) from the configuration.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pinpipe/auth/tenants.h"
#include "pinpipe/base/clock.h"
#include "pinpipe/base/config.h"
#include "pinpipe/broker/broker.h"
#include "pinpipe/http/server.h"
#include "pinpipe/kafka_api/server.h"
#include "pinpipe/objstore/object_store.h"
#include "pinpipe/runtime/signals.h"
#include "pinpipe/stream/job.h"

namespace pinpipe::runtime {

// The broker of a CLI command (attach::OpenCommandBroker): broker.bootstrap
// (--bootstrap) names one; else broker.type "embedded" (the log under
// general.data_dir, or a Kafka client of the running `serve`/`up` that holds
// it) or "kafka" (librdkafka, every kafka.* key passed through).
Result<std::unique_ptr<broker::Broker>> OpenBroker(const Config& config);

// The streaming job for general.prefix: streams StreamName(prefix, kind) ->
// Delta tables TableName(prefix, kind) under `tables` (base/names.h), with
// CheckedStreamSettings. stream.source picks where streams are read:
// "broker" (the given broker) or "kinesis" (KinesisFromConfig).
Result<std::unique_ptr<stream::StreamJob>> BuildStreamJob(const Config& config,
                                                          broker::Broker* broker,
                                                          objstore::ObjectStore* tables,
                                                          Clock* clock = nullptr);

// Where the streaming job of general.prefix keeps its status file:
// <general.data_dir>/stream/<prefix>.status.json (BuildStreamJob sets it).
std::string StreamStatusPath(const Config& config);

// The Kafka protocol server on `broker` from kafka_api.* (and the API's
// auto-create and TLS settings), started; nullptr when kafka_api.listen is
// empty. `tenants` and `quotas` (may be null) are shared with the HTTP APIs.
Result<std::unique_ptr<kafka_api::Server>> StartKafkaApi(const Config& config,
                                                         broker::Broker& broker,
                                                         auth::Registry* tenants = nullptr,
                                                         auth::QuotaLimiter* quotas = nullptr);

// Re-reads the TLS certificate and key of each server given (SIGHUP); a pair
// that cannot be used is logged and the one in force stays.
void ReloadTls(http::Server* http_server, kafka_api::Server* kafka_server);

// The [[tenants]] of the config file, secrets resolved from files and the
// process environment (an empty set when there are none).
Result<std::shared_ptr<const auth::TenantSet>> LoadTenants(const Config& config);

// Re-reads the tenants of `config`'s file on every SIGHUP `signals` receives
// and swaps them into `registry`; a file that does not parse keeps the
// tenants in force (and is logged without secrets). Connections stay open:
// each request reads the snapshot in force when it arrives. `on_reload` runs
// after each SIGHUP, whether or not the tenants parsed (it reloads the TLS
// certificates). `registry` must live until the watch ends
// (signals.OnHangup(nullptr)) or `signals` goes.
void WatchTenantReloads(SignalWaiter& signals, const Config& config, auth::Registry* registry,
                        std::function<void()> on_reload = nullptr);

// <general.data_dir>/kafka_api.address: "host:port pid" of the running
// server that holds the log, written by StartKafkaApi; RunningServer reads
// it (NotFound when absent), RemoveKafkaAddressFile deletes it on stop.
std::string KafkaAddressFile(const Config& config);
Result<std::pair<std::string, std::string>> RunningServer(const Config& config);
void RemoveKafkaAddressFile(const Config& config);

}  // namespace pinpipe::runtime
