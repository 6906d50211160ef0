// Status and Result<T>: how every fallible operation in pinpipe reports failure.
//
// Project code does not throw. A function that can fail returns Status (no
// value) or Result<T> (a value or a Status). Callers branch on code(), never on
// message text; retry policies are decided by codes (see IsRetriable).
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pinpipe {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed; retrying will not help
  kNotFound,            // a named thing (topic, object, row) does not exist
  kAlreadyExists,       // create / put-if-absent lost against an existing thing
  kFailedPrecondition,  // the system is not in a state where this can run
  kOutOfRange,          // offset or position beyond what exists
  kResourceExhausted,   // a limit was hit (size, rate, quota)
  kUnauthenticated,     // credentials are missing or wrong
  kPermissionDenied,    // credentials are fine but not allowed
  kUnavailable,         // transient: a server or disk is not reachable now
  kDeadlineExceeded,    // a timeout elapsed
  kAborted,             // a concurrent change won (e.g. a commit conflict)
  kDataLoss,            // stored data is corrupt or gone
  kUnimplemented,       // the operation is not supported by this backend
  kInternal,            // a bug or an unexpected library failure
};

// The canonical name, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "InvalidArgument: topic name is empty", or "OK".
  std::string ToString() const;

  // A copy whose message is prefixed with `context: `; codes are unchanged.
  Status WithContext(std::string_view context) const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Transient failures that a caller may retry after a backoff.
bool IsRetriable(const Status& status);

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnauthenticatedError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status AbortedError(std::string message);
Status DataLossError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
    if (std::get<Status>(v_).ok()) v_ = InternalError("Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Precondition: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pinpipe

#define PINPIPE_CONCAT_INNER_(a, b) a##b
#define PINPIPE_CONCAT_(a, b) PINPIPE_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define PINPIPE_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::pinpipe::Status pinpipe_status_ = (expr);        \
    if (!pinpipe_status_.ok()) return pinpipe_status_; \
  } while (0)

// `PINPIPE_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result's value,
// or returns its Status from the enclosing function.
#define PINPIPE_ASSIGN_OR_RETURN(lhs, expr) \
  PINPIPE_ASSIGN_OR_RETURN_IMPL_(PINPIPE_CONCAT_(pinpipe_result_, __LINE__), lhs, expr)
#define PINPIPE_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                   \
  if (!result.ok()) return result.status();               \
  lhs = std::move(result).value()
