#include "pinpipe/api/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <vector>

#include "pinpipe/api/codec.h"
#include "pinpipe/base/uri.h"

namespace pinpipe::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Header values in the canonical form: trimmed, inner runs of spaces collapsed.
std::string CanonicalValue(std::string_view v) {
  v = Trim(v);
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto k = PercentDecode(part.substr(0, eq));
    auto v = eq == std::string_view::npos ? Result<std::string>(std::string())
                                          : PercentDecode(part.substr(eq + 1));
    params.emplace_back(UriEncode(k.ok() ? *k : std::string(part.substr(0, eq)), false),
                        UriEncode(v.ok() ? *v : std::string(), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

// Parses "20231201T120000Z" into epoch milliseconds.
std::optional<int64_t> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
      tm.tm_sec < 0) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<char*>(digest), length));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<char*>(digest), length);
}

std::optional<SigV4Failure> VerifySigV4(const http::Request& request,
                                        const SigV4Credentials& credentials, int64_t now_ms) {
  std::string_view auth = request.Header("authorization");
  if (auth.empty()) {
    return SigV4Failure{"MissingAuthenticationTokenException", "Missing Authentication Token"};
  }
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
  if (auth.substr(0, kAlgorithm.size()) != kAlgorithm) {
    return SigV4Failure{"IncompleteSignatureException",
                        "Authorization header requires the AWS4-HMAC-SHA256 algorithm."};
  }
  std::string_view credential, signed_headers, signature;
  std::string_view rest = auth.substr(kAlgorithm.size());
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    if (key == "Credential") credential = value;
    if (key == "SignedHeaders") signed_headers = value;
    if (key == "Signature") signature = value;
  }
  if (credential.empty() || signed_headers.empty() || signature.empty()) {
    return SigV4Failure{"IncompleteSignatureException",
                        "Authorization header requires 'Credential', 'Signature' and "
                        "'SignedHeaders' parameters."};
  }
  // Credential = key/date/region/service/aws4_request
  std::vector<std::string_view> scope_parts;
  for (std::string_view c = credential;;) {
    size_t slash = c.find('/');
    scope_parts.push_back(c.substr(0, slash));
    if (slash == std::string_view::npos) break;
    c = c.substr(slash + 1);
  }
  if (scope_parts.size() != 5 || scope_parts[4] != "aws4_request") {
    return SigV4Failure{"IncompleteSignatureException", "Credential should be scoped correctly."};
  }
  if (scope_parts[0] != credentials.access_key) {
    return SigV4Failure{"UnrecognizedClientException",
                        "The security token included in the request is invalid."};
  }
  std::string_view amz_date = request.Header("x-amz-date");
  auto when = ParseAmzDate(amz_date);
  if (!when || amz_date.substr(0, 8) != scope_parts[1]) {
    return SigV4Failure{"IncompleteSignatureException",
                        "X-Amz-Date header is missing or malformed."};
  }
  if (credentials.max_skew_ms > 0 &&
      (*when > now_ms + credentials.max_skew_ms || *when < now_ms - credentials.max_skew_ms)) {
    return SigV4Failure{"InvalidSignatureException", "Signature expired: " + std::string(amz_date)};
  }
  std::string canonical_headers;
  for (std::string_view h = signed_headers;;) {
    size_t semi = h.find(';');
    std::string_view name = h.substr(0, semi);
    std::string value;
    bool found = false;
    for (const auto& [k, v] : request.headers) {
      if (k != name) continue;
      if (found) value.push_back(',');
      value += CanonicalValue(v);
      found = true;
    }
    canonical_headers += std::string(name) + ":" + value + "\n";
    if (semi == std::string_view::npos) break;
    h = h.substr(semi + 1);
  }
  std::string payload_hash(request.Header("x-amz-content-sha256"));
  if (payload_hash.empty()) payload_hash = Sha256Hex(request.body);
  // Non-S3 services encode each path segment a second time.
  auto decoded_path = PercentDecode(request.path);
  std::string canonical_uri =
      UriEncode(UriEncode(decoded_path.ok() ? *decoded_path : request.path, true), true);
  if (canonical_uri.empty()) canonical_uri = "/";
  std::string canonical_request = request.method + "\n" + canonical_uri + "\n" +
                                  CanonicalQuery(request.query) + "\n" + canonical_headers + "\n" +
                                  std::string(signed_headers) + "\n" + payload_hash;
  std::string scope = std::string(scope_parts[1]) + "/" + std::string(scope_parts[2]) + "/" +
                      std::string(scope_parts[3]) + "/aws4_request";
  std::string string_to_sign = std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
                               scope + "\n" + Sha256Hex(canonical_request);
  std::string key = HmacSha256("AWS4" + credentials.secret_key, scope_parts[1]);
  key = HmacSha256(key, scope_parts[2]);
  key = HmacSha256(key, scope_parts[3]);
  key = HmacSha256(key, "aws4_request");
  std::string expected = HexEncode(HmacSha256(key, string_to_sign));
  if (expected.size() != signature.size() ||
      CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return SigV4Failure{"InvalidSignatureException",
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method."};
  }
  return std::nullopt;
}

}  // namespace pinpipe::api
