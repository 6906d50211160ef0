// Tenants: who may use one shared pipeline, with which credentials, on which
// names, at what rate.
//
// A TenantSet is parsed from the `[[tenants]]` tables of the configuration
// file (see README "Sharing one pipeline"). Each tenant owns prefixes; a
// prefix `p` owns topics `p.*`, streams `streaming-p-*`, Delta tables `p_*`
// and consumer groups `p.*`, `p-*`, `p_*`. A tenant with `admin = true` owns
// everything (and may read /metrics). Credentials per tenant: REST API keys
// (x-api-key), SigV4 access key/secret pairs (Kinesis) and SASL users whose
// SCRAM-SHA-256/512 verifiers are kept instead of passwords (PLAIN is checked
// against a verifier too). Every secret may be given inline, as `<field>_file`
// (the file's first line) or `<field>_env` (an environment variable).
//
// Secrets never leave this module in text: Describe() masks them and error
// messages name the tenant and field, never the value.
//
// Thread-safety: a TenantSet is immutable after Parse and shared through
// Registry, which swaps whole snapshots atomically (SIGHUP reload), so a
// request holds one consistent snapshot for its whole life.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::auth {

enum class ScramMechanism { kSha256, kSha512 };

// RFC 5802 server-side verifier: SaltedPassword = Hi(password, salt, i),
// StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey =
// HMAC(SaltedPassword, "Server Key"). Byte strings, not base64.
struct ScramVerifier {
  std::string salt;
  int32_t iterations = 4096;
  std::string stored_key;
  std::string server_key;
};

// Derives the verifier of `password` (RFC 5802 with SHA-256 or SHA-512).
ScramVerifier MakeScramVerifier(ScramMechanism mechanism, std::string_view password,
                                std::string_view salt, int32_t iterations);
// "<salt b64>:<iterations>:<StoredKey b64>:<ServerKey b64>" <-> verifier.
std::string FormatScramVerifier(const ScramVerifier& v);
// HMAC-H(key, data) and H(data) of the mechanism's hash (raw bytes).
std::string ScramHmac(ScramMechanism mechanism, std::string_view key, std::string_view data);
std::string ScramHash(ScramMechanism mechanism, std::string_view data);
Result<ScramVerifier> ParseScramVerifier(std::string_view text);

struct SaslUser {
  std::string name;
  std::optional<ScramVerifier> scram_sha256;
  std::optional<ScramVerifier> scram_sha512;
  // PLAIN: the password is checked by deriving a verifier with the stored salt.
  bool CheckPassword(std::string_view password) const;
};

struct SigV4Key {
  std::string access_key;  // not secret (it is sent in every request)
  std::string secret_key;
};

// Ingest limits; 0 means unlimited.
struct Quota {
  double records_per_s = 0;
  double bytes_per_s = 0;
  int64_t max_consumer_instances = 0;
};

struct Tenant {
  std::string name;
  bool admin = false;
  std::vector<std::string> prefixes;
  std::vector<std::string> api_keys;
  std::vector<SigV4Key> sigv4;
  std::vector<SaslUser> sasl;
  Quota quota;

  bool OwnsTopic(std::string_view topic) const;    // <prefix>.*
  bool OwnsStream(std::string_view stream) const;  // streaming-<prefix>-*
  bool OwnsTable(std::string_view table) const;    // <prefix>_*
  bool OwnsGroup(std::string_view group) const;    // <prefix>{.,-,_}*
  // Any of the above: the dashboard's filter for names of every kind.
  bool OwnsName(std::string_view name) const;
};

class TenantSet {
 public:
  // No tenants: auth is off.
  TenantSet() = default;

  // Parses the `[[tenants]]` tables of a TOML document (other tables are
  // ignored: they are the Config's). `environ` serves `*_env` fields.
  // InvalidArgument names the tenant and field, never a secret.
  static Result<std::shared_ptr<const TenantSet>> Parse(std::string_view toml_text,
                                                        std::string_view source_name,
                                                        const std::vector<std::string>& environ);
  // Reads `path` ("" or a file without tenants: an empty set) and parses it.
  static Result<std::shared_ptr<const TenantSet>> Load(const std::string& path,
                                                       const std::vector<std::string>& environ);

  bool empty() const { return tenants_.empty(); }
  const std::vector<Tenant>& tenants() const { return tenants_; }
  const Tenant* Find(std::string_view name) const;

  // Lookups compare secrets in constant time; nullptr when nothing matches.
  const Tenant* ByApiKey(std::string_view key) const;
  // The tenant and the secret of SigV4 `access_key`.
  const Tenant* BySigV4(std::string_view access_key, const SigV4Key** key) const;
  const Tenant* BySaslUser(std::string_view user, const SaslUser** sasl) const;

  // The tenants as TOML, every secret replaced by "********" (config show).
  std::string Describe() const;

 private:
  std::vector<Tenant> tenants_;
};

// The current snapshot; Swap replaces it for every later Current().
class Registry {
 public:
  Registry() : current_(std::make_shared<const TenantSet>()) {}
  explicit Registry(std::shared_ptr<const TenantSet> set) : current_(std::move(set)) {}
  std::shared_ptr<const TenantSet> Current() const { return current_.load(); }
  void Swap(std::shared_ptr<const TenantSet> set) { current_.store(std::move(set)); }

 private:
  std::atomic<std::shared_ptr<const TenantSet>> current_;
};

// Token buckets per tenant (by name, so they survive a reload), one second of
// burst. A request is admitted while the bucket is not in debt and then
// charged in full, so large batches pass and the long-run rate is the quota.
// Thread-safety: Admit may be called concurrently; tenants do not share a lock
// with each other beyond a short map lookup.
class QuotaLimiter {
 public:
  QuotaLimiter();
  ~QuotaLimiter();
  // 0 when admitted (and charged); else the milliseconds until it would be.
  int64_t Admit(const Tenant& tenant, int64_t records, int64_t bytes, int64_t now_ms);

 private:
  struct Bucket;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `a` equals `b`, in time independent of where they differ.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace pinpipe::auth
