// Kafka SASL for one connection: SaslHandshake (v0-1) picks a mechanism and
// SaslAuthenticate (v0-2) carries its tokens (auth/scram.h checks them:
// PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). After a v0 handshake the client sends
// the tokens as bare size-prefixed frames instead (KIP-43), see RawToken.
//
// With tenants configured a connection must authenticate before any request
// but ApiVersions and the two SASL requests (the server closes it otherwise);
// the principal is then the SASL user's tenant, looked up again by name in
// the snapshot in force at each request, so a reload that removes the tenant
// ends its connections' rights. Without tenants SASL is not offered
// (UNSUPPORTED_SASL_MECHANISM with no mechanisms) and no request needs it.
//
// A failed authentication answers SASL_AUTHENTICATION_FAILED (the message
// never holds a secret) and the connection is closed after the answer.
// Thread-safety: one connection's thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pinpipe/auth/scram.h"
#include "pinpipe/kafka_api/authz.h"
#include "pinpipe/kafka_api/protocol.h"

namespace pinpipe::kafka_api {

class SaslSession {
 public:
  // Decodes a SaslHandshake request body of `version` from `r` and writes
  // the response body into `w`; false when the body cannot be decoded.
  bool Handshake(int16_t version, std::shared_ptr<const auth::TenantSet> tenants, Reader& r,
                 Writer& w);
  // The same for SaslAuthenticate.
  bool Authenticate(int16_t version, bool flexible, Reader& r, Writer& w);
  // After a v0 handshake: whether the next frame is a bare token, and the
  // bare response frame (size-prefixed) to it; nullopt ends the connection.
  bool expects_raw_token() const { return state_ == State::kRawTokens; }
  std::optional<std::string> RawToken(std::string_view token);

  bool authenticated() const { return state_ == State::kAuthenticated; }
  // The connection should be closed once the answers written so far are sent.
  bool failed() const { return state_ == State::kFailed; }
  // The principal for a request under `current` (the snapshot in force);
  // nullopt when the tenant is no longer there.
  std::optional<Principal> PrincipalIn(std::shared_ptr<const auth::TenantSet> current) const;
  const std::string& user() const { return user_; }

 private:
  enum class State { kNew, kHandshaken, kRawTokens, kAuthenticated, kFailed };
  // Runs one token; fills *error and *message on failure.
  std::optional<std::string> Step(std::string_view token, int16_t* error, std::string* message);

  State state_ = State::kNew;
  std::optional<auth::SaslExchange> exchange_;
  std::string mechanism_;
  std::string user_;
  std::string tenant_;
};

}  // namespace pinpipe::kafka_api
