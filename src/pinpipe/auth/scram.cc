#include "pinpipe/auth/scram.h"

#include <openssl/rand.h>

#include "pinpipe/base/encoding.h"

namespace pinpipe::auth {
namespace {

Status Malformed(std::string_view what) {
  return InvalidArgumentError(std::string("malformed SASL message: ") + std::string(what));
}

Status Refused() { return UnauthenticatedError("invalid username or password"); }

// RFC 5802 saslname: "=2C" is ',' and "=3D" is '='; any other '=' is an error.
std::optional<std::string> DecodeSaslName(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    if (s.substr(i, 3) == "=2C") {
      out.push_back(',');
    } else if (s.substr(i, 3) == "=3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

// The value of attribute `key` ("r" of "r=abc") among comma-separated attributes.
std::optional<std::string_view> Attribute(std::string_view message, char key) {
  size_t at = 0;
  while (at <= message.size()) {
    size_t comma = message.find(',', at);
    if (comma == std::string_view::npos) comma = message.size();
    std::string_view part = message.substr(at, comma - at);
    if (part.size() >= 2 && part[0] == key && part[1] == '=') return part.substr(2);
    at = comma + 1;
  }
  return std::nullopt;
}

// Per-process key for the salts of unknown users.
const std::string& FakeSaltKey() {
  static const std::string key = [] {
    std::string k(32, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), static_cast<int>(k.size()));
    return k;
  }();
  return key;
}

}  // namespace

std::optional<SaslExchange::Mechanism> SaslExchange::ByName(std::string_view name) {
  if (name == "PLAIN") return Mechanism::kPlain;
  if (name == "SCRAM-SHA-256") return Mechanism::kScramSha256;
  if (name == "SCRAM-SHA-512") return Mechanism::kScramSha512;
  return std::nullopt;
}

SaslExchange::SaslExchange(Mechanism mechanism, std::shared_ptr<const TenantSet> tenants)
    : mechanism_(mechanism), tenants_(std::move(tenants)) {}

Result<std::string> SaslExchange::Step(std::string_view token) {
  Result<std::string> out = InvalidArgumentError("SASL exchange already finished");
  switch (state_) {
    case State::kStart:
      out = mechanism_ == Mechanism::kPlain ? Plain(token) : ScramFirst(token);
      break;
    case State::kFinal:
      out = ScramFinal(token);
      break;
    case State::kDone:
    case State::kFailed:
      break;
  }
  if (!out.ok()) {
    state_ = State::kFailed;
    tenant_ = nullptr;
  }
  return out;
}

Result<std::string> SaslExchange::Plain(std::string_view token) {
  // [authzid] NUL authcid NUL passwd
  const size_t a = token.find('\0');
  const size_t b = a == std::string_view::npos ? a : token.find('\0', a + 1);
  if (b == std::string_view::npos) return Malformed("PLAIN needs authzid NUL user NUL password");
  const std::string_view authzid = token.substr(0, a);
  const std::string_view user = token.substr(a + 1, b - a - 1);
  const std::string_view password = token.substr(b + 1);
  if (!authzid.empty() && authzid != user) {
    return UnauthenticatedError("an authorization id other than the user is not served");
  }
  const SaslUser* sasl = nullptr;
  const Tenant* tenant = tenants_->BySaslUser(user, &sasl);
  if (!tenant || !sasl->CheckPassword(password)) return Refused();
  tenant_ = tenant;
  user_ = std::string(user);
  state_ = State::kDone;
  return std::string();
}

Result<std::string> SaslExchange::ScramFirst(std::string_view token) {
  // gs2-header = cbind-flag "," [authzid] ","; channel binding is not served.
  if (token.size() < 3 || (token[0] != 'n' && token[0] != 'y') || token[1] != ',') {
    return Malformed("SCRAM client-first must start with n, or y, (no channel binding)");
  }
  const size_t second = token.find(',', 2);
  if (second == std::string_view::npos) return Malformed("SCRAM gs2 header");
  const std::string_view authzid = token.substr(2, second - 2);
  gs2_header_ = std::string(token.substr(0, second + 1));
  const std::string_view bare = token.substr(second + 1);
  if (bare.substr(0, 2) != "n=") return Malformed("SCRAM client-first needs n=<user>");
  auto name = Attribute(bare, 'n');
  auto nonce = Attribute(bare, 'r');
  if (!name || !nonce || nonce->empty()) return Malformed("SCRAM client-first needs n= and r=");
  auto user = DecodeSaslName(*name);
  if (!user || user->empty()) return Malformed("SCRAM user name");
  if (!authzid.empty() && (authzid.substr(0, 2) != "a=" || authzid.substr(2) != *name)) {
    return UnauthenticatedError("an authorization id other than the user is not served");
  }
  user_ = *user;
  const SaslUser* sasl = nullptr;
  tenant_ = tenants_->BySaslUser(user_, &sasl);
  const ScramMechanism m =
      mechanism_ == Mechanism::kScramSha256 ? ScramMechanism::kSha256 : ScramMechanism::kSha512;
  if (tenant_ && sasl) {
    const auto& v = m == ScramMechanism::kSha256 ? sasl->scram_sha256 : sasl->scram_sha512;
    if (v) verifier_ = &*v;
  }
  std::string salt;
  int32_t iterations = 4096;
  if (verifier_) {
    salt = verifier_->salt;
    iterations = verifier_->iterations;
  } else {
    salt = ScramHmac(ScramMechanism::kSha256, FakeSaltKey(), user_).substr(0, 16);
  }
  std::string random(18, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(random.size()));
  client_nonce_ = std::string(*nonce);
  nonce_ = client_nonce_ + Base64Encode(random);  // base64 has no ','
  std::string server_first =
      "r=" + nonce_ + ",s=" + Base64Encode(salt) + ",i=" + std::to_string(iterations);
  auth_message_ = std::string(bare) + "," + server_first;
  state_ = State::kFinal;
  return server_first;
}

Result<std::string> SaslExchange::ScramFinal(std::string_view token) {
  const size_t p = token.rfind(",p=");
  if (p == std::string_view::npos) return Malformed("SCRAM client-final needs p=<proof>");
  const std::string_view without_proof = token.substr(0, p);
  auto binding = Attribute(without_proof, 'c');
  auto nonce = Attribute(without_proof, 'r');
  auto proof = Base64Decode(token.substr(p + 3));
  if (!binding || !nonce || !proof) return Malformed("SCRAM client-final needs c=, r= and p=");
  if (*binding != Base64Encode(gs2_header_)) return Malformed("SCRAM channel binding differs");
  // librdkafka before 2.6.1 (Debian 12's kcat) prepends its own nonce once
  // more (librdkafka #4895); the server's part still binds the exchange.
  if (*nonce != nonce_ && *nonce != client_nonce_ + nonce_) {
    return Malformed("SCRAM nonce differs");
  }
  if (!verifier_) return Refused();
  const ScramMechanism m =
      mechanism_ == Mechanism::kScramSha256 ? ScramMechanism::kSha256 : ScramMechanism::kSha512;
  const std::string auth_message = auth_message_ + "," + std::string(without_proof);
  const std::string signature = ScramHmac(m, verifier_->stored_key, auth_message);
  if (proof->size() != signature.size()) return Refused();
  std::string client_key(signature.size(), '\0');
  for (size_t i = 0; i < signature.size(); ++i) client_key[i] = (*proof)[i] ^ signature[i];
  if (!SecretEquals(ScramHash(m, client_key), verifier_->stored_key)) return Refused();
  state_ = State::kDone;
  return "v=" + Base64Encode(ScramHmac(m, verifier_->server_key, auth_message));
}

}  // namespace pinpipe::auth
