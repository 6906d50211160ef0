// The one place that turns errors into HTTP responses, for each API's own
// error body:
//   Kafka REST v2: {"error_code":<int>,"message":"..."}, HTTP status = code / 100
//     (codes below 1000 are HTTP statuses themselves).
//   Kinesis:       {"__type":"<Exception>","message":"..."}, usually HTTP 400.
//   Plain:         text/plain (health and metrics routes).
// Handlers either name a protocol-specific error directly (KafkaError,
// KinesisError) or pass a Status from the broker, whose code picks the error.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "pinpipe/base/status.h"
#include "pinpipe/http/server.h"

namespace pinpipe::api {

inline constexpr std::string_view kKafkaV2ContentType = "application/vnd.kafka.v2+json";
inline constexpr std::string_view kKinesisContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kJsonContentType = "application/json";

// Kafka REST error codes (kafka-rest Errors.java).
inline constexpr int kKafkaTopicNotFound = 40401;
inline constexpr int kKafkaPartitionNotFound = 40402;
inline constexpr int kKafkaConsumerInstanceNotFound = 40403;
inline constexpr int kKafkaUnauthenticated = 40101;
inline constexpr int kKafkaUnauthorized = 40301;
inline constexpr int kKafkaJsonConversion = 42203;
inline constexpr int kKafkaPayloadError = 42206;
inline constexpr int kKafkaTooManyRequests = 42901;
inline constexpr int kKafkaError = 50002;
inline constexpr int kKafkaRetriableError = 50003;

// Sets `response` to a Kafka REST error.
void KafkaError(http::Response& response, int error_code, std::string_view message);
// The Kafka REST error for a broker Status (NotFound -> 40401, retriable
// codes -> 50003, ResourceExhausted -> 42901, InvalidArgument -> 42206, ...).
void KafkaErrorFromStatus(http::Response& response, const Status& status);
// The Kafka error code of a record that failed alone (50003 retriable, else 50002).
int KafkaRecordErrorCode(const Status& status);

// Sets `response` to a Kinesis error (`http_status` usually 400).
void KinesisError(http::Response& response, std::string_view type, std::string_view message,
                  int http_status = 400);
// The Kinesis error for a Status (NotFound -> ResourceNotFoundException,
// AlreadyExists -> ResourceInUseException, InvalidArgument ->
// InvalidArgumentException, ResourceExhausted -> LimitExceededException,
// Unavailable -> 503 ServiceUnavailable, else 500 InternalFailure).
void KinesisErrorFromStatus(http::Response& response, const Status& status);
// The Kinesis error type a Status maps to.
std::string_view KinesisErrorType(const Status& status);

// A plain-text response.
void PlainResponse(http::Response& response, int status, std::string_view text);

}  // namespace pinpipe::api
