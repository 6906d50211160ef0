// S3ObjectStore: an ObjectStore on Amazon S3 or any S3-compatible server.
//
// Speaks the S3 REST API through libcurl, which signs every request with AWS
// Signature Version 4 (CURLOPT_AWS_SIGV4); the payload's SHA-256 is sent as
// x-amz-content-sha256. Easy handles are pooled so connections are reused.
// Transient failures (network errors, 5xx, throttling) are retried with
// exponential backoff and jitter. Objects above `multipart_threshold` are
// uploaded in `part_size` parts. Put-if-absent sends `If-None-Match: *`.
// XML responses are read without regard to namespaces (see xml.h).
//
// Credentials are never logged or put into error messages.
//
// Thread-safety: all methods are safe to call concurrently. An Upload is used
// by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pinpipe/objstore/object_store.h"

namespace pinpipe::objstore {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // "" unless temporary credentials
};

// How put-if-absent is enforced.
enum class ConditionalPut {
  kHeader,  // If-None-Match: * (Amazon S3 and most current servers); atomic
  kCheck,   // HEAD, then PUT if absent: for servers that ignore the header; not atomic
};

struct S3Options {
  std::string bucket;
  std::string prefix;  // key prefix inside the bucket, without slashes at the ends
  std::string region = "us-east-1";
  std::string endpoint;  // "" = https://s3.<region>.amazonaws.com
  bool path_style = false;
  S3Credentials credentials;
  ConditionalPut conditional_put = ConditionalPut::kHeader;
  int64_t multipart_threshold = 8 << 20;
  int64_t part_size = 5 << 20;  // S3's minimum for all parts but the last
  int max_attempts = 5;
  int64_t backoff_base_ms = 100;
  int64_t backoff_max_ms = 5000;
  int64_t connect_timeout_ms = 5000;
  int64_t request_timeout_ms = 120000;
  // Tests only: sign with this X-Amz-Date, and route host:port to another
  // address (curl's CONNECT_TO syntax "HOST:PORT:CONNECT-TO-HOST:PORT").
  std::string fixed_amz_date;
  std::vector<std::string> connect_to;
};

// Looks up an environment variable; the default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
std::optional<std::string> ProcessEnv(std::string_view name);

// Builds options for `url` (s3://bucket[/prefix]) from the s3.* config keys,
// then the AWS environment (AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then the
// shared credentials file ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
// profile $AWS_PROFILE or "default"). Explicit config keys win over the
// environment. Unauthenticated when no credentials are found.
Result<S3Options> S3OptionsFromConfig(std::string_view url, const Config& config,
                                      const EnvLookup& env = ProcessEnv);

// Reads [profile] from an AWS shared credentials file's text.
std::optional<S3Credentials> ParseCredentialsFile(std::string_view text, std::string_view profile);

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class S3ObjectStore final : public ObjectStore {
 public:
  static Result<std::unique_ptr<S3ObjectStore>> Open(S3Options options);
  ~S3ObjectStore() override;

  std::string Url() const override;
  Status Put(std::string_view key, std::string_view data, const PutOptions& options) override;
  // Puts on up to 8 connections at once (one request per object).
  std::vector<Status> PutMany(std::span<const PutRequest> requests) override;
  Result<std::string> Get(std::string_view key,
                          std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Result<ListPage> List(std::string_view prefix, std::string_view continuation_token,
                        int max_keys = 1000) override;
  Result<std::unique_ptr<Upload>> StartUpload(std::string_view key,
                                              const PutOptions& options) override;

  const S3Options& options() const { return options_; }

  // One signed request, with retries. `object_key` is the full key inside the
  // bucket ("" for bucket-level calls); `query` pairs are sorted and encoded
  // here. A non-2xx status is returned as an error Status built from the
  // S3 error document. Public for the multipart upload and for tests.
  struct Request {
    std::string method = "GET";
    std::string object_key;
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::string> headers;  // "Name: value"
    std::string_view body;
    bool head = false;
  };
  Result<HttpResponse> Execute(const Request& request);

  // The full key inside the bucket for a store key (adds the prefix).
  std::string FullKey(std::string_view key) const;

 private:
  explicit S3ObjectStore(S3Options options);
  Result<HttpResponse> ExecuteOnce(const Request& request, void* curl);
  std::string BuildUrl(const Request& request) const;
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  S3Options options_;
  std::string base_url_;   // scheme://host[:port] (virtual host: bucket.host)
  std::string path_base_;  // "" or "/bucket" (path style)
  std::mutex mu_;
  std::vector<void*> handles_;  // idle CURL* easy handles
};

// Maps an S3 error response to a Status (codes only from HTTP status and the
// S3 <Code>, never from message text). Exposed for tests.
Status S3ErrorStatus(long http_status, std::string_view body, std::string_view what);

}  // namespace pinpipe::objstore
