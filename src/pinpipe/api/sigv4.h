// AWS Signature Version 4 verification for the native Kinesis protocol.
// Used only when an access key and secret are configured; then a request must
// carry `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/
// <service>/aws4_request, SignedHeaders=..., Signature=...` computed over the
// canonical request (headers listed in SignedHeaders, the body's SHA-256).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pinpipe/http/server.h"

namespace pinpipe::api {

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  int64_t max_skew_ms = 15 * 60 * 1000;
};

struct SigV4Failure {
  std::string type;  // Kinesis error type, e.g. "InvalidSignatureException"
  std::string message;
};

// nullopt when the request is signed by `credentials`; else why not.
std::optional<SigV4Failure> VerifySigV4(const http::Request& request,
                                        const SigV4Credentials& credentials, int64_t now_ms);

// Lower-case hex SHA-256 and raw HMAC-SHA256, shared with the iterator signer.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace pinpipe::api
