// kafka_api::Server: the Kafka wire protocol on a broker::Broker, so Kafka
// clients (kcat, librdkafka, the Java client, kafkajs) produce to and fetch
// from the same topics the REST and Kinesis APIs use.
//
// Threads: `io_threads` threads, each running its own io_context; the
// acceptor hands connections out round-robin and a connection stays on its
// thread. Requests on one connection are read as they arrive (pipelined) and
// answered in order, as Kafka requires. Nothing blocks an I/O thread:
// produce waits for durability through Broker::ProduceAsync, and a Fetch
// that must wait (max_wait_ms / min_bytes) parks on a timer and is retried
// when the log reports new data (one waiter thread watches the log).
//
// Bad input: a frame size below 0 or above max_request_bytes, an unknown API
// key, a version outside the served range (except ApiVersions, answered with
// UNSUPPORTED_VERSION and the served versions, as Kafka does) or a body
// that cannot be decoded closes the connection; nothing of a request that
// failed to decode is stored.
//
// Security (optional): TLS from PEM files (reloadable), and with tenants SASL
// authentication before any request (sasl.h), each request checked against the
// tenant's names (authz.h), and produces held until they fit the tenant's quota
// (on a timer of the connection's thread; the answer carries throttle_time_ms).
//
// Thread-safety: Start/Stop from one thread; the broker must be thread-safe
// and outlive the server.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pinpipe/auth/tenants.h"
#include "pinpipe/base/status.h"
#include "pinpipe/broker/broker.h"

namespace pinpipe::kafka_api {

struct ServerOptions {
  std::string listen = "127.0.0.1:9092";  // host:port; port 0 picks a free one
  // host:port returned in Metadata and FindCoordinator; "" = the listen
  // address (127.0.0.1 for a wildcard host) with the bound port.
  std::string advertised;
  int io_threads = 2;
  int64_t max_request_bytes = 100 << 20;  // socket.request.max.bytes
  bool auto_create_topics = true;         // on Metadata, like auto.create.topics.enable
  int32_t default_partitions = 1;
  std::string cluster_id = "pinpipe";
  // PEM files; both set serves TLS (SSL / SASL_SSL) on the listener.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The tenants in force (see sasl.h and authz.h); null or an empty set:
  // no authentication, every name allowed. Must outlive the server.
  auth::Registry* tenants = nullptr;
  // The per-tenant ingest quotas, shared with the HTTP APIs so a tenant has
  // one budget; null: the server keeps its own. Must outlive the server.
  auth::QuotaLimiter* quotas = nullptr;
};

class Server {
 public:
  Server(ServerOptions options, broker::Broker& broker);
  ~Server();  // Stop()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the threads. InvalidArgument for a bad address,
  // Unavailable when it is in use.
  Status Start();
  int port() const;
  // The address clients are told to connect to (valid after Start).
  std::string advertised() const;
  // Re-reads the TLS files (no-op without TLS): new connections use them,
  // open ones keep theirs. On error the old pair stays in force.
  Status ReloadTls();
  // Closes the listener and every connection and joins the threads.
  void Stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The versions served per API key, [min, max]; {-1, -1} when not served.
std::pair<int16_t, int16_t> SupportedVersions(int16_t api_key);

}  // namespace pinpipe::kafka_api
