// Mapping of librdkafka / Kafka protocol errors to pinpipe Status codes.
//
// One table decides how every Kafka error surfaces, so that the REST layer can
// map Status codes to its own answers without knowing Kafka:
//   NotFound                  unknown topic or partition          -> 40401 / 40402
//   PermissionDenied          topic/group/cluster authorization   -> 40301
//   Unauthenticated           SASL / TLS authentication           -> 40101
//   Unavailable, DeadlineExceeded, ResourceExhausted, Aborted
//                             transient (IsRetriable)             -> 50003
//   everything else (InvalidArgument, Internal, ...)             -> 50002
// docs/kafka.md lists the table in full.
//
// Thread-safety: pure functions.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe::kafka {

// The Status code for a Kafka error (kOk for RD_KAFKA_RESP_ERR_NO_ERROR).
StatusCode KafkaErrorCode(rd_kafka_resp_err_t err);

// "Kafka error: <NAME>: <description>" with `context: ` in front when given;
// OK for RD_KAFKA_RESP_ERR_NO_ERROR. `detail` replaces the generic description
// when librdkafka gave a more specific one.
Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view context = {},
                   std::string_view detail = {});

}  // namespace pinpipe::kafka
