#include "pinpipe/api/errors.h"

#include "pinpipe/api/codec.h"

namespace pinpipe::api {

void KafkaError(http::Response& response, int error_code, std::string_view message) {
  response.status = error_code >= 1000 ? error_code / 100 : error_code;
  response.content_type = std::string(kKafkaV2ContentType);
  response.body.clear();
  response.body.append("{\"error_code\":");
  AppendInt(response.body, error_code);
  response.body.append(",\"message\":");
  AppendJsonString(message, &response.body);
  response.body.push_back('}');
}

void KafkaErrorFromStatus(http::Response& response, const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return KafkaError(response, kKafkaTopicNotFound, "Topic not found.");
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return KafkaError(response, kKafkaPayloadError, "Payload error. " + status.message());
    case StatusCode::kResourceExhausted:
      return KafkaError(response, kKafkaTooManyRequests, "Too many requests. " + status.message());
    case StatusCode::kUnauthenticated:
      return KafkaError(response, kKafkaUnauthenticated, status.message());
    case StatusCode::kPermissionDenied:
      return KafkaError(response, kKafkaUnauthorized, status.message());
    default:
      return KafkaError(response, KafkaRecordErrorCode(status), "Kafka error: " + status.message());
  }
}

int KafkaRecordErrorCode(const Status& status) {
  return IsRetriable(status) ? kKafkaRetriableError : kKafkaError;
}

void KinesisError(http::Response& response, std::string_view type, std::string_view message,
                  int http_status) {
  response.status = http_status;
  response.content_type = std::string(kKinesisContentType);
  response.headers.emplace_back("x-amzn-ErrorType", std::string(type));
  response.body.clear();
  response.body.append("{\"__type\":");
  AppendJsonString(type, &response.body);
  response.body.append(",\"message\":");
  AppendJsonString(message, &response.body);
  response.body.push_back('}');
}

std::string_view KinesisErrorType(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return "ResourceNotFoundException";
    case StatusCode::kAlreadyExists:
      return "ResourceInUseException";
    case StatusCode::kFailedPrecondition:
      return "ResourceInUseException";
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return "InvalidArgumentException";
    case StatusCode::kResourceExhausted:
      return "LimitExceededException";
    case StatusCode::kUnauthenticated:
      return "UnrecognizedClientException";
    case StatusCode::kPermissionDenied:
      return "AccessDeniedException";
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return "ServiceUnavailable";
    default:
      return "InternalFailure";
  }
}

void KinesisErrorFromStatus(http::Response& response, const Status& status) {
  std::string_view type = KinesisErrorType(status);
  int http_status = 400;
  if (type == "ServiceUnavailable") http_status = 503;
  if (type == "InternalFailure") http_status = 500;
  KinesisError(response, type, status.message(), http_status);
}

void PlainResponse(http::Response& response, int status, std::string_view text) {
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::string(text);
}

}  // namespace pinpipe::api
