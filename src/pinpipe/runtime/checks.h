// Configuration checks: each reads the keys of one part once, refuses a bad
// value with InvalidArgument naming the key and its allowed range, and
// returns the part's typed options. `up`, `serve`, `stream` and the tests use
// these, so one rule holds for every command (before, `serve` rejected an
// api.threads that `up` silently clamped).
//
// Thread-safety: pure functions of the Config (and of the process
// environment for KinesisFromConfig).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "pinpipe/base/config.h"
#include "pinpipe/http/server.h"
#include "pinpipe/kafka_api/server.h"
#include "pinpipe/stream/query.h"
#include "pinpipe/stream/source.h"

namespace pinpipe::runtime {

// The HTTP API server: api.listen, api.threads (1..256), api.body_limit
// (> 0), api.tls_cert/api.tls_key, with `handler_threads` (1..4096) threads
// for requests that may block.
Result<http::ServerOptions> CheckedHttpOptions(const Config& config, int handler_threads = 64);

// The Kafka protocol server: kafka_api.* (threads 1..256, max_request_bytes
// >= 1 KiB) and the API's topic auto-creation; nullopt when kafka_api.listen
// is empty (the protocol is off).
Result<std::optional<kafka_api::ServerOptions>> CheckedKafkaApiOptions(const Config& config);

// The streaming job's settings for general.prefix.
struct StreamSettings {
  int64_t trigger_ms = 200;
  int max_records_per_batch = 50'000;
  stream::InitialPosition initial = stream::InitialPosition::kEarliest;
  bool from_kinesis = false;  // stream.source: kinesis (else broker)
};
Result<StreamSettings> CheckedStreamSettings(const Config& config);

// Where stream.source=kinesis reads: stream.kinesis_endpoint, credentials
// from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, and the
// region from kinesis.region when set in a file, the environment or a flag,
// else $AWS_REGION, else $AWS_DEFAULT_REGION, else kinesis.region's default
// (us-east-1): the rule s3.region follows for the object store. `env` looks
// up one environment variable (nullopt: unset); by default the process's.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
stream::KinesisOptions KinesisFromConfig(const Config& config, const EnvLookup& env = nullptr);

}  // namespace pinpipe::runtime
