#include "pinpipe/kafka_api/sasl.h"

#include <spdlog/spdlog.h>

namespace pinpipe::kafka_api {

bool SaslSession::Handshake(int16_t version, std::shared_ptr<const auth::TenantSet> tenants,
                            Reader& r, Writer& w) {
  const std::string mechanism(r.String(false));
  if (!r.ok()) return false;
  int16_t error = kNone;
  const bool offered = tenants && !tenants->empty();
  auto m = auth::SaslExchange::ByName(mechanism);
  if (state_ != State::kNew) {
    error = kIllegalSaslState;
  } else if (!offered || !m) {
    error = kUnsupportedSaslMechanism;
  } else {
    exchange_.emplace(*m, std::move(tenants));
    mechanism_ = mechanism;
    state_ = version == 0 ? State::kRawTokens : State::kHandshaken;
  }
  w.Int16(error);
  if (offered) {
    w.ArrayLength(static_cast<int32_t>(std::size(auth::SaslExchange::kMechanismNames)), false);
    for (const char* name : auth::SaslExchange::kMechanismNames) w.String(name, false);
  } else {
    w.ArrayLength(0, false);
  }
  return true;
}

std::optional<std::string> SaslSession::Step(std::string_view token, int16_t* error,
                                             std::string* message) {
  if (state_ != State::kHandshaken && state_ != State::kRawTokens) {
    *error = kIllegalSaslState;
    *message = "SaslAuthenticate before SaslHandshake";
    state_ = State::kFailed;
    return std::nullopt;
  }
  auto out = exchange_->Step(token);
  if (!out.ok()) {
    *error = kSaslAuthenticationFailed;
    *message =
        "Authentication failed with SASL mechanism " + mechanism_ + ": " + out.status().message();
    spdlog::info("kafka_api: SASL {} authentication failed: {}", mechanism_,
                 out.status().message());
    state_ = State::kFailed;
    return std::nullopt;
  }
  if (exchange_->done()) {
    user_ = exchange_->user();
    tenant_ = exchange_->tenant()->name;
    state_ = State::kAuthenticated;
    exchange_.reset();
  }
  *error = kNone;
  return std::move(*out);
}

bool SaslSession::Authenticate(int16_t version, bool flexible, Reader& r, Writer& w) {
  const std::string token(r.NullableBytes(flexible).value_or(""));
  if (flexible) r.SkipTaggedFields();
  if (!r.ok()) return false;
  int16_t error = kNone;
  std::string message;
  std::optional<std::string> answer;
  if (state_ == State::kRawTokens) {
    error = kIllegalSaslState;
    message = "SaslAuthenticate after a v0 SaslHandshake";
    state_ = State::kFailed;
  } else {
    answer = Step(token, &error, &message);
  }
  w.Int16(error);
  w.NullableString(error == kNone ? std::nullopt : std::optional<std::string_view>(message),
                   flexible);
  w.Bytes(answer.value_or(""), flexible);
  if (version >= 1) w.Int64(0);  // session lifetime: no re-authentication required
  return true;
}

std::optional<std::string> SaslSession::RawToken(std::string_view token) {
  int16_t error = kNone;
  std::string message;
  auto answer = Step(token, &error, &message);
  if (!answer) return std::nullopt;  // KIP-43: a failure closes the connection
  std::string frame;
  Writer w(&frame);
  w.Int32(static_cast<int32_t>(answer->size()));
  w.Raw(*answer);
  return frame;
}

std::optional<Principal> SaslSession::PrincipalIn(
    std::shared_ptr<const auth::TenantSet> current) const {
  if (!authenticated()) return std::nullopt;
  const auth::Tenant* t = current->Find(tenant_);
  if (!t) return std::nullopt;
  const auth::SaslUser* sasl = nullptr;
  if (current->BySaslUser(user_, &sasl) != t) return std::nullopt;  // the user was removed
  return Principal{std::move(current), t};
}

}  // namespace pinpipe::kafka_api
