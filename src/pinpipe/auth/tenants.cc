#include "pinpipe/auth/tenants.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>

#include "pinpipe/base/config.h"
#include "pinpipe/base/encoding.h"
#include "pinpipe/base/names.h"

namespace pinpipe::auth {
namespace {

const EVP_MD* Digest(ScramMechanism m) {
  return m == ScramMechanism::kSha256 ? EVP_sha256() : EVP_sha512();
}

std::string Hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Hash(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A prefix is letters and digits only, so no prefix's names can be another's
// ("a-b" would own streaming-a-b-* inside prefix "a"'s streaming-a-*).
bool ValidPrefix(std::string_view p) {
  if (p.empty() || p.size() > 64) return false;
  for (char c : p) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string EnvValue(const std::vector<std::string>& environ, std::string_view name) {
  for (const auto& var : environ) {
    if (var.size() > name.size() && var[name.size()] == '=' && StartsWith(var, name)) {
      return var.substr(name.size() + 1);
    }
  }
  return std::string();
}

class Reader {
 public:
  Reader(const toml::table& table, std::string where, const std::vector<std::string>& environ)
      : table_(table), where_(std::move(where)), environ_(environ) {}

  Status Error(std::string_view field, std::string_view problem) const {
    return InvalidArgumentError(where_ + ": " + std::string(field) + ": " + std::string(problem));
  }

  Result<std::optional<std::string>> String(std::string_view field) const {
    const toml::node* n = table_.get(field);
    if (!n) return std::optional<std::string>();
    auto s = n->value<std::string>();
    if (!s) return Error(field, "must be a string");
    return std::optional<std::string>(*s);
  }

  // A secret: `field`, `field_file` (first line of the file) or `field_env`.
  // Exactly one may be given. nullopt when none is.
  Result<std::optional<std::string>> Secret(std::string_view field) const {
    const std::string f(field);
    PINPIPE_ASSIGN_OR_RETURN(auto inline_value, String(f));
    PINPIPE_ASSIGN_OR_RETURN(auto file, String(f + "_file"));
    PINPIPE_ASSIGN_OR_RETURN(auto env, String(f + "_env"));
    const int given = inline_value.has_value() + file.has_value() + env.has_value();
    if (given > 1) return Error(f, "give only one of " + f + ", " + f + "_file, " + f + "_env");
    if (inline_value) return inline_value;
    if (file) {
      std::ifstream in(*file, std::ios::binary);
      if (!in) return Error(f + "_file", "cannot read '" + *file + "'");
      std::string line;
      std::getline(in, line);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty()) return Error(f + "_file", "'" + *file + "' is empty");
      return std::optional<std::string>(line);
    }
    if (env) {
      std::string value = EnvValue(environ_, *env);
      if (value.empty()) return Error(f + "_env", "environment variable " + *env + " is not set");
      return std::optional<std::string>(value);
    }
    return std::optional<std::string>();
  }

  Result<std::vector<std::string>> StringList(std::string_view field) const {
    std::vector<std::string> out;
    const toml::node* n = table_.get(field);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) return Error(field, "must be an array of strings");
    for (const auto& item : *a) {
      auto s = item.value<std::string>();
      if (!s) return Error(field, "must be an array of strings");
      out.push_back(*s);
    }
    return out;
  }

  Result<double> Number(std::string_view field, double fallback) const {
    const toml::node* n = table_.get(field);
    if (!n) return fallback;
    if (auto i = n->value_exact<int64_t>()) return static_cast<double>(*i);
    if (auto d = n->value_exact<double>()) return *d;
    return Error(field, "must be a number");
  }

  Result<bool> Bool(std::string_view field) const {
    const toml::node* n = table_.get(field);
    if (!n) return false;
    auto b = n->value_exact<bool>();
    if (!b) return Error(field, "must be true or false");
    return *b;
  }

  // The tables of array `field` ([[tenants.sigv4]]).
  Result<std::vector<const toml::table*>> Tables(std::string_view field) const {
    std::vector<const toml::table*> out;
    const toml::node* n = table_.get(field);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) return Error(field, "must be an array of tables ([[...]])");
    for (const auto& item : *a) {
      const toml::table* t = item.as_table();
      if (!t) return Error(field, "must be an array of tables ([[...]])");
      out.push_back(t);
    }
    return out;
  }

  Status OnlyKnown(std::initializer_list<std::string_view> known) const {
    for (const auto& [k, v] : table_) {
      bool ok = false;
      for (auto name : known) ok |= k.str() == name;
      if (!ok) return Error(k.str(), "unknown field");
    }
    return Status::Ok();
  }

  const std::string& where() const { return where_; }

 private:
  const toml::table& table_;
  std::string where_;
  const std::vector<std::string>& environ_;
};

std::string RandomSalt() {
  unsigned char salt[16];
  RAND_bytes(salt, sizeof salt);
  return std::string(reinterpret_cast<char*>(salt), sizeof salt);
}

Result<SaslUser> ParseSasl(const Reader& r) {
  PINPIPE_RETURN_IF_ERROR(r.OnlyKnown({"user", "password", "password_file", "password_env",
                                       "scram_sha256", "scram_sha512", "iterations"}));
  SaslUser u;
  PINPIPE_ASSIGN_OR_RETURN(auto user, r.String("user"));
  if (!user || user->empty()) return r.Error("user", "is required");
  u.name = *user;
  PINPIPE_ASSIGN_OR_RETURN(auto password, r.Secret("password"));
  PINPIPE_ASSIGN_OR_RETURN(auto s256, r.Secret("scram_sha256"));
  PINPIPE_ASSIGN_OR_RETURN(auto s512, r.Secret("scram_sha512"));
  PINPIPE_ASSIGN_OR_RETURN(double iterations, r.Number("iterations", 4096));
  if (iterations < 4096 || iterations > 1'000'000) {
    return r.Error("iterations", "must be between 4096 and 1000000");
  }
  if (password && (s256 || s512)) {
    return r.Error("password", "give either a password or SCRAM verifiers, not both");
  }
  if (password) {
    // Only the verifiers are kept; the password is dropped here.
    u.scram_sha256 = MakeScramVerifier(ScramMechanism::kSha256, *password, RandomSalt(),
                                       static_cast<int32_t>(iterations));
    u.scram_sha512 = MakeScramVerifier(ScramMechanism::kSha512, *password, RandomSalt(),
                                       static_cast<int32_t>(iterations));
    return u;
  }
  if (s256) {
    auto v = ParseScramVerifier(*s256);
    if (!v.ok()) return r.Error("scram_sha256", v.status().message());
    u.scram_sha256 = *v;
  }
  if (s512) {
    auto v = ParseScramVerifier(*s512);
    if (!v.ok()) return r.Error("scram_sha512", v.status().message());
    u.scram_sha512 = *v;
  }
  if (!u.scram_sha256 && !u.scram_sha512) {
    return r.Error("password", "give a password or scram_sha256/scram_sha512 verifiers");
  }
  return u;
}

Result<Tenant> ParseTenant(const toml::table& table, std::string where,
                           const std::vector<std::string>& environ) {
  Reader r(table, where, environ);
  PINPIPE_RETURN_IF_ERROR(
      r.OnlyKnown({"name", "admin", "prefixes", "api_keys", "api_keys_file", "api_keys_env",
                   "records_per_s", "bytes_per_s", "max_consumer_instances", "sigv4", "sasl"}));
  Tenant t;
  PINPIPE_ASSIGN_OR_RETURN(auto name, r.String("name"));
  if (!name || name->empty()) return r.Error("name", "is required");
  t.name = *name;
  Reader named(table, "tenant '" + t.name + "'", environ);
  PINPIPE_ASSIGN_OR_RETURN(t.admin, named.Bool("admin"));
  PINPIPE_ASSIGN_OR_RETURN(t.prefixes, named.StringList("prefixes"));
  for (const auto& p : t.prefixes) {
    if (!ValidPrefix(p)) {
      return named.Error("prefixes", "'" + p + "' must be 1-64 letters and digits");
    }
  }
  if (t.prefixes.empty() && !t.admin) return named.Error("prefixes", "needs at least one prefix");
  PINPIPE_ASSIGN_OR_RETURN(t.api_keys, named.StringList("api_keys"));
  // api_keys_file / api_keys_env: one secret holding comma-separated keys.
  PINPIPE_ASSIGN_OR_RETURN(auto extra_file, named.String("api_keys_file"));
  PINPIPE_ASSIGN_OR_RETURN(auto extra_env, named.String("api_keys_env"));
  if (extra_file || extra_env) {
    toml::table one;
    if (extra_file) one.insert("api_keys_file", *extra_file);
    if (extra_env) one.insert("api_keys_env", *extra_env);
    Reader sub(one, named.where(), environ);
    PINPIPE_ASSIGN_OR_RETURN(auto joined, sub.Secret("api_keys"));
    std::string_view rest = joined.value_or("");
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string key(rest.substr(0, comma));
      while (!key.empty() && key.back() == ' ') key.pop_back();
      while (!key.empty() && key.front() == ' ') key.erase(key.begin());
      if (!key.empty()) t.api_keys.push_back(key);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  for (const auto& k : t.api_keys) {
    if (k.size() < 8) return named.Error("api_keys", "keys must be at least 8 characters");
  }
  PINPIPE_ASSIGN_OR_RETURN(t.quota.records_per_s, named.Number("records_per_s", 0));
  PINPIPE_ASSIGN_OR_RETURN(t.quota.bytes_per_s, named.Number("bytes_per_s", 0));
  PINPIPE_ASSIGN_OR_RETURN(double instances, named.Number("max_consumer_instances", 0));
  if (t.quota.records_per_s < 0 || t.quota.bytes_per_s < 0 || instances < 0) {
    return named.Error("quota",
                       "records_per_s, bytes_per_s and max_consumer_instances must be >= 0");
  }
  t.quota.max_consumer_instances = static_cast<int64_t>(instances);

  PINPIPE_ASSIGN_OR_RETURN(auto sigv4, named.Tables("sigv4"));
  for (size_t i = 0; i < sigv4.size(); ++i) {
    Reader s(*sigv4[i], named.where() + " sigv4[" + std::to_string(i) + "]", environ);
    PINPIPE_RETURN_IF_ERROR(
        s.OnlyKnown({"access_key", "secret_key", "secret_key_file", "secret_key_env"}));
    PINPIPE_ASSIGN_OR_RETURN(auto access, s.String("access_key"));
    PINPIPE_ASSIGN_OR_RETURN(auto secret, s.Secret("secret_key"));
    if (!access || access->empty()) return s.Error("access_key", "is required");
    if (!secret || secret->empty()) return s.Error("secret_key", "is required");
    t.sigv4.push_back(SigV4Key{*access, *secret});
  }
  PINPIPE_ASSIGN_OR_RETURN(auto sasl, named.Tables("sasl"));
  for (size_t i = 0; i < sasl.size(); ++i) {
    Reader s(*sasl[i], named.where() + " sasl[" + std::to_string(i) + "]", environ);
    PINPIPE_ASSIGN_OR_RETURN(auto user, ParseSasl(s));
    t.sasl.push_back(std::move(user));
  }
  return t;
}

}  // namespace

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string ScramHmac(ScramMechanism mechanism, std::string_view key, std::string_view data) {
  return Hmac(Digest(mechanism), key, data);
}
std::string ScramHash(ScramMechanism mechanism, std::string_view data) {
  return Hash(Digest(mechanism), data);
}

ScramVerifier MakeScramVerifier(ScramMechanism mechanism, std::string_view password,
                                std::string_view salt, int32_t iterations) {
  const EVP_MD* md = Digest(mechanism);
  unsigned char salted[EVP_MAX_MD_SIZE];
  const int len = EVP_MD_size(md);
  // Hi() of RFC 5802 is PBKDF2 with HMAC-H and dkLen = the hash length.
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, md, len, salted);
  std::string salted_password(reinterpret_cast<char*>(salted), len);
  ScramVerifier v;
  v.salt = std::string(salt);
  v.iterations = iterations;
  v.stored_key = Hash(md, Hmac(md, salted_password, "Client Key"));
  v.server_key = Hmac(md, salted_password, "Server Key");
  OPENSSL_cleanse(salted, sizeof salted);
  return v;
}

std::string FormatScramVerifier(const ScramVerifier& v) {
  return Base64Encode(v.salt) + ":" + std::to_string(v.iterations) + ":" +
         Base64Encode(v.stored_key) + ":" + Base64Encode(v.server_key);
}

Result<ScramVerifier> ParseScramVerifier(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::string_view rest = text;;) {
    const auto colon = rest.find(':');
    parts.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (parts.size() != 4) {
    return InvalidArgumentError(
        "a SCRAM verifier is <salt base64>:<iterations>:<StoredKey base64>:<ServerKey base64>");
  }
  ScramVerifier v;
  auto salt = Base64Decode(parts[0]);
  auto stored = Base64Decode(parts[2]);
  auto server = Base64Decode(parts[3]);
  auto iterations = ParseInt(parts[1]);
  if (!salt || !stored || !server || salt->empty()) {
    return InvalidArgumentError("a SCRAM verifier's salt and keys must be base64");
  }
  if (!iterations.ok() || *iterations < 4096 || *iterations > 1'000'000) {
    return InvalidArgumentError("a SCRAM verifier's iterations must be between 4096 and 1000000");
  }
  if ((stored->size() != 32 && stored->size() != 64) || server->size() != stored->size()) {
    return InvalidArgumentError("a SCRAM verifier's keys must be 32 (SHA-256) or 64 bytes");
  }
  v.salt = *salt;
  v.iterations = static_cast<int32_t>(*iterations);
  v.stored_key = *stored;
  v.server_key = *server;
  return v;
}

bool SaslUser::CheckPassword(std::string_view password) const {
  if (scram_sha256) {
    auto v = MakeScramVerifier(ScramMechanism::kSha256, password, scram_sha256->salt,
                               scram_sha256->iterations);
    return SecretEquals(v.stored_key, scram_sha256->stored_key);
  }
  if (scram_sha512) {
    auto v = MakeScramVerifier(ScramMechanism::kSha512, password, scram_sha512->salt,
                               scram_sha512->iterations);
    return SecretEquals(v.stored_key, scram_sha512->stored_key);
  }
  return false;
}

bool Tenant::OwnsTopic(std::string_view topic) const {
  if (admin) return true;
  for (const auto& p : prefixes) {
    if (topic.size() > p.size() + 1 && StartsWith(topic, p) && topic[p.size()] == '.') return true;
  }
  return false;
}

bool Tenant::OwnsStream(std::string_view stream) const {
  if (admin) return true;
  for (const auto& p : prefixes) {
    const std::string head = StreamNameHead(p);
    if (stream.size() > head.size() && StartsWith(stream, head)) return true;
  }
  return false;
}

bool Tenant::OwnsTable(std::string_view table) const {
  if (admin) return true;
  for (const auto& p : prefixes) {
    if (table.size() > p.size() + 1 && StartsWith(table, p) && table[p.size()] == '_') return true;
  }
  return false;
}

bool Tenant::OwnsGroup(std::string_view group) const {
  if (admin) return true;
  for (const auto& p : prefixes) {
    if (group.size() > p.size() + 1 && StartsWith(group, p)) {
      const char c = group[p.size()];
      if (c == '.' || c == '-' || c == '_') return true;
    }
  }
  return false;
}

bool Tenant::OwnsName(std::string_view name) const {
  return OwnsTopic(name) || OwnsStream(name) || OwnsTable(name);
}

Result<std::shared_ptr<const TenantSet>> TenantSet::Parse(std::string_view toml_text,
                                                          std::string_view source_name,
                                                          const std::vector<std::string>& environ) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return InvalidArgumentError(std::string(source_name) + ":" + std::to_string(where.line) + ":" +
                                std::to_string(where.column) + ": " + std::string(e.description()));
  }
  auto set = std::make_shared<TenantSet>();
  const toml::node* node = doc.get("tenants");
  if (!node) return std::shared_ptr<const TenantSet>(set);
  const toml::array* array = node->as_array();
  if (!array) {
    return InvalidArgumentError(std::string(source_name) + ": tenants must be [[tenants]] tables");
  }
  std::set<std::string> names, access_keys, sasl_users;
  std::set<std::string> api_keys;  // never printed: a duplicate is reported by tenant
  std::map<std::string, std::string> prefix_owner;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table* table = (*array)[i].as_table();
    const std::string where = std::string(source_name) + ": tenants[" + std::to_string(i) + "]";
    if (!table) return InvalidArgumentError(where + ": must be a table");
    PINPIPE_ASSIGN_OR_RETURN(Tenant t, ParseTenant(*table, where, environ));
    if (!names.insert(t.name).second) {
      return InvalidArgumentError(where + ": tenant name '" + t.name + "' is used twice");
    }
    for (const auto& p : t.prefixes) {
      auto [it, fresh] = prefix_owner.emplace(p, t.name);
      if (!fresh) {
        return InvalidArgumentError("tenant '" + t.name + "': prefix '" + p +
                                    "' already belongs to tenant '" + it->second + "'");
      }
    }
    for (const auto& k : t.api_keys) {
      if (!api_keys.insert(k).second) {
        return InvalidArgumentError("tenant '" + t.name +
                                    "': an API key is used twice (keys must be unique)");
      }
    }
    for (const auto& k : t.sigv4) {
      if (!access_keys.insert(k.access_key).second) {
        return InvalidArgumentError("tenant '" + t.name + "': access key '" + k.access_key +
                                    "' is used twice");
      }
    }
    for (const auto& u : t.sasl) {
      if (!sasl_users.insert(u.name).second) {
        return InvalidArgumentError("tenant '" + t.name + "': SASL user '" + u.name +
                                    "' is used twice");
      }
    }
    set->tenants_.push_back(std::move(t));
  }
  return std::shared_ptr<const TenantSet>(set);
}

Result<std::shared_ptr<const TenantSet>> TenantSet::Load(const std::string& path,
                                                         const std::vector<std::string>& environ) {
  if (path.empty()) return std::shared_ptr<const TenantSet>(std::make_shared<TenantSet>());
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read config file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return Parse(buffer.str(), path, environ);
}

const Tenant* TenantSet::Find(std::string_view name) const {
  for (const auto& t : tenants_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const Tenant* TenantSet::ByApiKey(std::string_view key) const {
  if (key.empty()) return nullptr;
  const Tenant* found = nullptr;
  // Every key is compared, so the time does not tell which tenant matched.
  for (const auto& t : tenants_) {
    for (const auto& k : t.api_keys) {
      if (SecretEquals(k, key)) found = &t;
    }
  }
  return found;
}

const Tenant* TenantSet::BySigV4(std::string_view access_key, const SigV4Key** key) const {
  for (const auto& t : tenants_) {
    for (const auto& k : t.sigv4) {
      if (k.access_key == access_key) {
        if (key) *key = &k;
        return &t;
      }
    }
  }
  return nullptr;
}

const Tenant* TenantSet::BySaslUser(std::string_view user, const SaslUser** sasl) const {
  for (const auto& t : tenants_) {
    for (const auto& u : t.sasl) {
      if (u.name == user) {
        if (sasl) *sasl = &u;
        return &t;
      }
    }
  }
  return nullptr;
}

std::string TenantSet::Describe() const {
  std::ostringstream out;
  auto quoted = [](std::string_view s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\"";
  };
  for (const auto& t : tenants_) {
    out << "\n[[tenants]]\nname = " << quoted(t.name) << "\n";
    if (t.admin) out << "admin = true\n";
    out << "prefixes = [";
    for (size_t i = 0; i < t.prefixes.size(); ++i) out << (i ? ", " : "") << quoted(t.prefixes[i]);
    out << "]\napi_keys = [";
    for (size_t i = 0; i < t.api_keys.size(); ++i) out << (i ? ", " : "") << "\"********\"";
    out << "]\n";
    if (t.quota.records_per_s > 0)
      out << "records_per_s = " << static_cast<int64_t>(t.quota.records_per_s) << "\n";
    if (t.quota.bytes_per_s > 0)
      out << "bytes_per_s = " << static_cast<int64_t>(t.quota.bytes_per_s) << "\n";
    if (t.quota.max_consumer_instances > 0) {
      out << "max_consumer_instances = " << t.quota.max_consumer_instances << "\n";
    }
    for (const auto& k : t.sigv4) {
      out << "[[tenants.sigv4]]\naccess_key = " << quoted(k.access_key)
          << "\nsecret_key = \"********\"\n";
    }
    for (const auto& u : t.sasl) {
      out << "[[tenants.sasl]]\nuser = " << quoted(u.name) << "\n";
      if (u.scram_sha256) out << "scram_sha256 = \"********\"\n";
      if (u.scram_sha512) out << "scram_sha512 = \"********\"\n";
    }
  }
  return out.str();
}

struct QuotaLimiter::Bucket {
  std::mutex mu;
  double records = 0;  // tokens; negative = in debt
  double bytes = 0;
  int64_t last_ms = -1;
};

struct QuotaLimiter::Impl {
  std::mutex mu;
  std::unordered_map<std::string, std::unique_ptr<Bucket>> buckets;
};

QuotaLimiter::QuotaLimiter() : impl_(std::make_unique<Impl>()) {}
QuotaLimiter::~QuotaLimiter() = default;

int64_t QuotaLimiter::Admit(const Tenant& tenant, int64_t records, int64_t bytes, int64_t now_ms) {
  const Quota& q = tenant.quota;
  if (q.records_per_s <= 0 && q.bytes_per_s <= 0) return 0;
  Bucket* b = nullptr;
  {
    std::lock_guard lock(impl_->mu);
    auto& slot = impl_->buckets[tenant.name];
    if (!slot) slot = std::make_unique<Bucket>();
    b = slot.get();
  }
  std::lock_guard lock(b->mu);
  if (b->last_ms < 0) {
    b->records = q.records_per_s;
    b->bytes = q.bytes_per_s;
  } else if (now_ms > b->last_ms) {
    const double s = static_cast<double>(now_ms - b->last_ms) / 1000.0;
    // One second of burst at most.
    b->records = std::min(q.records_per_s, b->records + s * q.records_per_s);
    b->bytes = std::min(q.bytes_per_s, b->bytes + s * q.bytes_per_s);
  }
  b->last_ms = std::max(b->last_ms, now_ms);
  double wait_s = 0;
  if (q.records_per_s > 0 && b->records <= 0) {
    wait_s = std::max(wait_s, (1 - b->records) / q.records_per_s);
  }
  if (q.bytes_per_s > 0 && b->bytes <= 0) {
    wait_s = std::max(wait_s, (1 - b->bytes) / q.bytes_per_s);
  }
  if (wait_s > 0) return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_s * 1000)));
  if (q.records_per_s > 0) b->records -= static_cast<double>(records);
  if (q.bytes_per_s > 0) b->bytes -= static_cast<double>(bytes);
  return 0;
}

}  // namespace pinpipe::auth
