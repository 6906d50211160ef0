// KafkaBroker: broker::Broker on Apache Kafka (MSK, Confluent, Redpanda, ...)
// through librdkafka.
//
// Every `kafka.*` configuration key is handed to librdkafka unchanged (without
// the `kafka.` prefix), so TLS and SASL (PLAIN, SCRAM, OAUTHBEARER) and every
// tuning knob (linger.ms, batch.size, compression.type, ...) work as documented
// in librdkafka's CONFIGURATION.md. pinpipe adds defaults the user may override:
//   producer  enable.idempotence=true, acks=all, partitioner=murmur2_random (the
//             Java client's key hashing), message.timeout.ms=30000,
//             allow.auto.create.topics=false (unknown topic -> NotFound)
// and forces, for consumers, enable.auto.commit=false (owners commit what they
// have finished). One key is pinpipe's own and is not passed on:
//   pinpipe.timeout.ms  bound for metadata, admin, commit and offset calls (30000).
// `test.mock.num.brokers=N` starts librdkafka's mock cluster inside this broker
// and points every client it makes at it (tests; CreateTopic then works too).
//
// Errors map to Status codes as kafka_errors.h describes; Produce reports
// per-record failures in ProduceAck::error.
//
// Thread-safety: as broker.h requires (a Consumer is used by one thread).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"
#include "pinpipe/broker/broker.h"

namespace pinpipe::kafka {

// librdkafka configuration properties, e.g. {"bootstrap.servers", "b1:9092"}.
using Properties = std::map<std::string, std::string>;

// The broker for `[broker] type = "kafka"`, configured by the `kafka.*` keys
// (Config::Section("kafka")). InvalidArgument for an unknown or malformed
// librdkafka property or a missing kafka.bootstrap.servers.
Result<std::unique_ptr<broker::Broker>> NewKafkaBroker(const Config& config);
Result<std::unique_ptr<broker::Broker>> NewKafkaBroker(const Properties& properties);

}  // namespace pinpipe::kafka
