// The server side of SASL authentication for one connection: PLAIN (RFC 4616)
// and SCRAM-SHA-256/512 (RFC 5802, RFC 7677) against the SASL users of a
// TenantSet. Kafka-agnostic: the caller carries the tokens (kafka_api/sasl.h).
//
// SCRAM never sees a password: the client proves it knows one by its proof
// against the stored verifier, and the server proves it holds the verifier by
// its signature. An unknown user gets a salt derived from its name (the same
// on every attempt) and fails at the proof, like a wrong password, so the
// answers do not tell which users exist. No message of this module contains a
// secret or a proof.
//
// Thread-safety: one object per exchange, one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pinpipe/auth/tenants.h"
#include "pinpipe/base/status.h"

namespace pinpipe::auth {

class SaslExchange {
 public:
  enum class Mechanism { kPlain, kScramSha256, kScramSha512 };
  // "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"; nullopt for any other name.
  static std::optional<Mechanism> ByName(std::string_view name);
  // The mechanisms served, in preference order.
  static constexpr const char* kMechanismNames[] = {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"};

  SaslExchange(Mechanism mechanism, std::shared_ptr<const TenantSet> tenants);

  // Feeds the client's next token; returns the server's token (empty for
  // PLAIN). InvalidArgument for a malformed token or a token after the end;
  // Unauthenticated for a wrong user or password. done() after the last one.
  Result<std::string> Step(std::string_view client_token);

  bool done() const { return state_ == State::kDone; }
  // The authenticated tenant and SASL user name (valid once done()).
  const Tenant* tenant() const { return tenant_; }
  const std::string& user() const { return user_; }

 private:
  enum class State { kStart, kFinal, kDone, kFailed };
  Result<std::string> Plain(std::string_view token);
  Result<std::string> ScramFirst(std::string_view token);
  Result<std::string> ScramFinal(std::string_view token);

  Mechanism mechanism_;
  std::shared_ptr<const TenantSet> tenants_;
  State state_ = State::kStart;
  const Tenant* tenant_ = nullptr;
  const ScramVerifier* verifier_ = nullptr;  // nullptr: unknown user, fails at the proof
  std::string user_;
  std::string gs2_header_;
  std::string client_nonce_;
  std::string nonce_;
  std::string auth_message_;  // client-first-bare "," server-first
};

}  // namespace pinpipe::auth
