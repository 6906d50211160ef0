#include "pinpipe/base/status.h"

namespace pinpipe {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case StatusCode::kOutOfRange:
      return "OutOfRange";
    case StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case StatusCode::kUnauthenticated:
      return "Unauthenticated";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kDeadlineExceeded:
      return "DeadlineExceeded";
    case StatusCode::kAborted:
      return "Aborted";
    case StatusCode::kDataLoss:
      return "DataLoss";
    case StatusCode::kUnimplemented:
      return "Unimplemented";
    case StatusCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

bool IsRetriable(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

#define PINPIPE_DEFINE_ERROR_(Name, code) \
  Status Name(std::string message) { return Status(StatusCode::code, std::move(message)); }
PINPIPE_DEFINE_ERROR_(InvalidArgumentError, kInvalidArgument)
PINPIPE_DEFINE_ERROR_(NotFoundError, kNotFound)
PINPIPE_DEFINE_ERROR_(AlreadyExistsError, kAlreadyExists)
PINPIPE_DEFINE_ERROR_(FailedPreconditionError, kFailedPrecondition)
PINPIPE_DEFINE_ERROR_(OutOfRangeError, kOutOfRange)
PINPIPE_DEFINE_ERROR_(ResourceExhaustedError, kResourceExhausted)
PINPIPE_DEFINE_ERROR_(UnauthenticatedError, kUnauthenticated)
PINPIPE_DEFINE_ERROR_(PermissionDeniedError, kPermissionDenied)
PINPIPE_DEFINE_ERROR_(UnavailableError, kUnavailable)
PINPIPE_DEFINE_ERROR_(DeadlineExceededError, kDeadlineExceeded)
PINPIPE_DEFINE_ERROR_(AbortedError, kAborted)
PINPIPE_DEFINE_ERROR_(DataLossError, kDataLoss)
PINPIPE_DEFINE_ERROR_(UnimplementedError, kUnimplemented)
PINPIPE_DEFINE_ERROR_(InternalError, kInternal)
#undef PINPIPE_DEFINE_ERROR_

}  // namespace pinpipe
