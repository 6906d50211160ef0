#include "pinpipe/objstore/s3_object_store.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "pinpipe/base/config.h"
#include "pinpipe/base/datetime.h"
#include "pinpipe/base/uri.h"
#include "pinpipe/objstore/key.h"
#include "pinpipe/objstore/xml.h"

namespace pinpipe::objstore {
namespace {

std::once_flag g_curl_init;

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// "2009-10-12T17:50:30.000Z" -> ms since the epoch (0 when unparsable).
int64_t ParseIso8601Ms(std::string_view text) {
  const std::optional<int64_t> micros = ParseTimestampMicros(text);
  return micros ? *micros / 1000 - (*micros % 1000 < 0) : 0;
}

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * nmemb);
  return size * nmemb;
}

size_t WriteHeader(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(userdata);
  std::string_view line(ptr, size * nmemb);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100 Continue or a redirect)
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    (*headers)[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return size * nmemb;
}

bool IsRetriableHttp(long status, std::string_view s3_code) {
  if (status >= 500 || status == 429) return true;
  return s3_code == "SlowDown" || s3_code == "Throttling" || s3_code == "ThrottlingException" ||
         s3_code == "RequestTimeout" || s3_code == "OperationAborted" ||
         s3_code == "ConditionalRequestConflict" || s3_code == "RequestTimeTooSkewed";
}

class S3Upload final : public Upload {
 public:
  S3Upload(S3ObjectStore* store, std::string key, PutOptions options)
      : store_(store), key_(std::move(key)), options_(std::move(options)) {}
  ~S3Upload() override { Abort(); }

  Status Append(std::string_view data) override {
    if (done_) return FailedPreconditionError("upload already finished or aborted");
    buffer_.append(data);
    const size_t part = static_cast<size_t>(store_->options().part_size);
    size_t consumed = 0;
    while (buffer_.size() - consumed >= part &&
           static_cast<int64_t>(buffer_.size()) > store_->options().multipart_threshold) {
      PINPIPE_RETURN_IF_ERROR(UploadPart(std::string_view(buffer_).substr(consumed, part)));
      consumed += part;
    }
    if (consumed > 0) buffer_.erase(0, consumed);
    return Status::Ok();
  }

  Status Finish() override {
    if (done_) return FailedPreconditionError("upload already finished or aborted");
    if (upload_id_.empty()) {
      done_ = true;
      PutOptions single = options_;
      return store_->Put(key_, buffer_, single);
    }
    Status s = FinishMultipart();
    if (!s.ok()) Abort();
    done_ = true;
    return s;
  }

  void Abort() override {
    if (!upload_id_.empty() && !completed_) {
      S3ObjectStore::Request req;
      req.method = "DELETE";
      req.object_key = store_->FullKey(key_);
      req.query = {{"uploadId", upload_id_}};
      (void)store_->Execute(req);  // best effort; lifecycle rules clean up the rest
    }
    upload_id_.clear();
    buffer_.clear();
    done_ = true;
  }

 private:
  Status Initiate() {
    S3ObjectStore::Request req;
    req.method = "POST";
    req.object_key = store_->FullKey(key_);
    req.query = {{"uploads", ""}};
    req.headers = {"Content-Type: " + options_.content_type};
    PINPIPE_ASSIGN_OR_RETURN(HttpResponse resp, store_->Execute(req));
    auto id = xml::Text(resp.body, "UploadId");
    if (!id || id->empty()) return InternalError("CreateMultipartUpload returned no UploadId");
    upload_id_ = *id;
    return Status::Ok();
  }

  Status UploadPart(std::string_view data) {
    if (upload_id_.empty()) PINPIPE_RETURN_IF_ERROR(Initiate());
    const int number = static_cast<int>(etags_.size()) + 1;
    if (number > 10000) return ResourceExhaustedError("multipart upload exceeds 10000 parts");
    S3ObjectStore::Request req;
    req.method = "PUT";
    req.object_key = store_->FullKey(key_);
    req.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    req.headers = {"Content-Type: application/octet-stream"};
    req.body = data;
    PINPIPE_ASSIGN_OR_RETURN(HttpResponse resp, store_->Execute(req));
    auto it = resp.headers.find("etag");
    if (it == resp.headers.end()) return InternalError("UploadPart returned no ETag");
    etags_.push_back(it->second);
    return Status::Ok();
  }

  Status FinishMultipart() {
    if (!buffer_.empty()) {
      PINPIPE_RETURN_IF_ERROR(UploadPart(buffer_));
      buffer_.clear();
    }
    if (options_.if_absent && store_->options().conditional_put == ConditionalPut::kCheck) {
      auto head = store_->Head(key_);
      if (head.ok()) return AlreadyExistsError("object already exists: " + key_);
      if (head.status().code() != StatusCode::kNotFound) return head.status();
    }
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
              xml::Escape(etags_[i]) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    S3ObjectStore::Request req;
    req.method = "POST";
    req.object_key = store_->FullKey(key_);
    req.query = {{"uploadId", upload_id_}};
    req.headers = {"Content-Type: application/xml"};
    if (options_.if_absent && store_->options().conditional_put == ConditionalPut::kHeader) {
      req.headers.push_back("If-None-Match: *");
    }
    req.body = body;
    PINPIPE_ASSIGN_OR_RETURN(HttpResponse resp, store_->Execute(req));
    // CompleteMultipartUpload may fail after a 200 status, with an Error document.
    if (!xml::Elements(resp.body, "Error").empty()) {
      return S3ErrorStatus(500, resp.body, "complete multipart upload");
    }
    completed_ = true;
    return Status::Ok();
  }

  S3ObjectStore* store_;
  std::string key_;
  PutOptions options_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool done_ = false;
  bool completed_ = false;
};

}  // namespace

std::optional<std::string> ProcessEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::optional<S3Credentials> ParseCredentialsFile(std::string_view text, std::string_view profile) {
  S3Credentials creds;
  bool in_profile = false;
  bool found = false;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      std::string name = Trim(std::string_view(t).substr(1, t.size() - 2));
      if (name.starts_with("profile ")) name = Trim(std::string_view(name).substr(8));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string k = Lower(Trim(std::string_view(t).substr(0, eq)));
    std::string v = Trim(std::string_view(t).substr(eq + 1));
    if (k == "aws_access_key_id") creds.access_key = v;
    if (k == "aws_secret_access_key") creds.secret_key = v;
    if (k == "aws_session_token") creds.session_token = v;
  }
  if (!found || creds.access_key.empty() || creds.secret_key.empty()) return std::nullopt;
  return creds;
}

Result<S3Options> S3OptionsFromConfig(std::string_view url, const Config& config,
                                      const EnvLookup& env) {
  if (!url.starts_with("s3://")) return InvalidArgumentError("not an s3:// URL");
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  S3Options o;
  o.bucket = std::string(rest.substr(0, slash));
  if (o.bucket.empty()) return InvalidArgumentError("s3:// URL without a bucket");
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (!prefix.empty()) PINPIPE_RETURN_IF_ERROR(ValidateKey(prefix));
    o.prefix = std::string(prefix);
  }
  auto origin = [&](std::string_view key) {
    auto it = config.entries().find(key);
    return it == config.entries().end() ? Config::Origin::kDefault : it->second.origin;
  };
  o.region = config.Get("s3.region");
  if (origin("s3.region") == Config::Origin::kDefault || o.region.empty()) {
    if (auto r = env("AWS_REGION"); r && !r->empty()) {
      o.region = *r;
    } else if (auto d = env("AWS_DEFAULT_REGION"); d && !d->empty()) {
      o.region = *d;
    }
  }
  if (o.region.empty()) o.region = "us-east-1";
  o.endpoint = config.Get("s3.endpoint");
  if (o.endpoint.empty()) {
    if (auto e = env("AWS_ENDPOINT_URL_S3"); e && !e->empty()) {
      o.endpoint = *e;
    } else if (auto e2 = env("AWS_ENDPOINT_URL"); e2 && !e2->empty()) {
      o.endpoint = *e2;
    }
  }
  if (config.Has("s3.path_style")) {
    PINPIPE_ASSIGN_OR_RETURN(o.path_style, config.GetBool("s3.path_style"));
  }
  if (config.Has("s3.conditional_put")) {
    const std::string& mode = config.Get("s3.conditional_put");
    if (mode == "header") {
      o.conditional_put = ConditionalPut::kHeader;
    } else if (mode == "check") {
      o.conditional_put = ConditionalPut::kCheck;
    } else {
      return InvalidArgumentError("s3.conditional_put must be header or check");
    }
  }
  if (config.Has("s3.access_key") && config.Has("s3.secret_key")) {
    o.credentials.access_key = config.Get("s3.access_key");
    o.credentials.secret_key = config.Get("s3.secret_key");
    if (auto t = env("AWS_SESSION_TOKEN"); t) o.credentials.session_token = *t;
    return o;
  }
  auto ak = env("AWS_ACCESS_KEY_ID");
  auto sk = env("AWS_SECRET_ACCESS_KEY");
  if (ak && sk && !ak->empty() && !sk->empty()) {
    o.credentials.access_key = *ak;
    o.credentials.secret_key = *sk;
    if (auto t = env("AWS_SESSION_TOKEN"); t) o.credentials.session_token = *t;
    return o;
  }
  std::string file;
  if (auto f = env("AWS_SHARED_CREDENTIALS_FILE"); f && !f->empty()) {
    file = *f;
  } else if (auto home = env("HOME"); home && !home->empty()) {
    file = *home + "/.aws/credentials";
  }
  std::string profile = env("AWS_PROFILE").value_or("default");
  if (profile.empty()) profile = "default";
  if (!file.empty()) {
    std::ifstream in(file);
    if (in) {
      std::stringstream buf;
      buf << in.rdbuf();
      if (auto creds = ParseCredentialsFile(buf.str(), profile)) {
        o.credentials = *creds;
        return o;
      }
    }
  }
  return UnauthenticatedError(
      "no S3 credentials: set s3.access_key/s3.secret_key, AWS_ACCESS_KEY_ID/"
      "AWS_SECRET_ACCESS_KEY, or a [" +
      profile + "] profile in ~/.aws/credentials");
}

Status S3ErrorStatus(long http_status, std::string_view body, std::string_view what) {
  std::string code = xml::Text(body, "Code").value_or("");
  std::string message = xml::Text(body, "Message").value_or("");
  std::string text = std::string(what) + ": HTTP " + std::to_string(http_status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += " (" + message + ")";
  if (IsRetriableHttp(http_status, code)) return UnavailableError(text);
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload" ||
      http_status == 404) {
    return NotFoundError(text);
  }
  if (http_status == 412 || code == "PreconditionFailed") return AlreadyExistsError(text);
  if (http_status == 416 || code == "InvalidRange") return OutOfRangeError(text);
  if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "ExpiredToken" ||
      code == "InvalidToken" || http_status == 401) {
    return UnauthenticatedError(text);
  }
  if (http_status == 403) return PermissionDeniedError(text);
  if (code == "EntityTooLarge") return ResourceExhaustedError(text);
  if (http_status == 409) return AbortedError(text);
  if (http_status >= 400 && http_status < 500) return InvalidArgumentError(text);
  return InternalError(text);
}

S3ObjectStore::S3ObjectStore(S3Options options) : options_(std::move(options)) {}

S3ObjectStore::~S3ObjectStore() {
  for (void* h : handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(S3Options options) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options.bucket.empty()) return InvalidArgumentError("S3 bucket name is empty");
  if (options.credentials.access_key.empty() || options.credentials.secret_key.empty()) {
    return UnauthenticatedError("S3 credentials are missing");
  }
  if (options.part_size < 1 || options.multipart_threshold < options.part_size) {
    return InvalidArgumentError("S3 multipart threshold must be >= part size > 0");
  }
  if (options.max_attempts < 1) options.max_attempts = 1;
  std::unique_ptr<S3ObjectStore> store(new S3ObjectStore(std::move(options)));
  const S3Options& o = store->options_;
  std::string endpoint = o.endpoint;
  bool default_endpoint = endpoint.empty();
  if (default_endpoint) endpoint = "https://s3." + o.region + ".amazonaws.com";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos) {
    return InvalidArgumentError("S3 endpoint must start with http:// or https://: " + endpoint);
  }
  std::string scheme = endpoint.substr(0, scheme_end);
  std::string hostport = endpoint.substr(scheme_end + 3);
  if (scheme != "http" && scheme != "https") {
    return InvalidArgumentError("S3 endpoint must start with http:// or https://: " + endpoint);
  }
  if (hostport.empty() || hostport.find('/') != std::string::npos) {
    return InvalidArgumentError("S3 endpoint must be scheme://host[:port]: " + endpoint);
  }
  if (o.path_style) {
    store->base_url_ = scheme + "://" + hostport;
    store->path_base_ = "/" + UriEncode(o.bucket, false);
  } else {
    store->base_url_ = scheme + "://" + o.bucket + "." + hostport;
  }
  return store;
}

std::string S3ObjectStore::Url() const {
  return "s3://" + options_.bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix);
}

std::string S3ObjectStore::FullKey(std::string_view key) const {
  if (options_.prefix.empty()) return std::string(key);
  return options_.prefix + "/" + std::string(key);
}

std::string S3ObjectStore::BuildUrl(const Request& request) const {
  std::string url = base_url_ + path_base_ + "/" + UriEncode(request.object_key, true);
  if (!request.query.empty()) {
    // SigV4's canonical query string: encoded names and values, sorted.
    std::vector<std::pair<std::string, std::string>> q;
    for (const auto& [k, v] : request.query)
      q.emplace_back(UriEncode(k, false), UriEncode(v, false));
    std::sort(q.begin(), q.end());
    char sep = '?';
    for (const auto& [k, v] : q) {
      url += sep;
      url += k + "=" + v;
      sep = '&';
    }
  }
  return url;
}

void* S3ObjectStore::AcquireHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!handles_.empty()) {
      void* h = handles_.back();
      handles_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void S3ObjectStore::ReleaseHandle(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (handles_.size() < 16) {
    handles_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

Result<HttpResponse> S3ObjectStore::ExecuteOnce(const Request& request, void* handle) {
  CURL* curl = static_cast<CURL*>(handle);
  if (curl == nullptr) return InternalError("curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache
  HttpResponse response;
  const std::string url = BuildUrl(request);
  const std::string sigv4 = "aws:amz:" + options_.region + ":s3";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, options_.credentials.access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.credentials.secret_key.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_slist* connect_to = nullptr;
  for (const auto& c : options_.connect_to) connect_to = curl_slist_append(connect_to, c.c_str());
  if (connect_to) curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);

  curl_slist* headers = nullptr;
  std::string content_sha = "x-amz-content-sha256: " + Sha256Hex(request.body);
  headers = curl_slist_append(headers, content_sha.c_str());
  if (!options_.credentials.session_token.empty()) {
    std::string token = "x-amz-security-token: " + options_.credentials.session_token;
    headers = curl_slist_append(headers, token.c_str());
  }
  if (!options_.fixed_amz_date.empty()) {
    std::string date = "X-Amz-Date: " + options_.fixed_amz_date;
    headers = curl_slist_append(headers, date.c_str());
  }
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());

  if (request.head) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_CONNECT_TO, nullptr);
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  if (rc != CURLE_OK) {
    std::string message = std::string("S3 ") + request.method + " " + request.object_key + ": " +
                          curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return InvalidArgumentError(message);
      case CURLE_OPERATION_TIMEDOUT:
        return DeadlineExceededError(message);
      default:
        return UnavailableError(message);  // connect, DNS, reset, partial transfer ...
    }
  }
  return response;
}

Result<HttpResponse> S3ObjectStore::Execute(const Request& request) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      int64_t cap =
          std::min(options_.backoff_max_ms, options_.backoff_base_ms << std::min(attempt, 20));
      int64_t sleep_ms = cap / 2 + static_cast<int64_t>(rng() % static_cast<uint64_t>(cap / 2 + 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    }
    void* handle = AcquireHandle();
    auto result = ExecuteOnce(request, handle);
    if (result.ok()) {
      ReleaseHandle(handle);
      if (result->status >= 200 && result->status < 300) return result;
      last = S3ErrorStatus(result->status, result->body,
                           "S3 " + request.method + " " + request.object_key);
    } else {
      // A failed transfer may leave the connection in an unknown state.
      curl_easy_cleanup(static_cast<CURL*>(handle));
      last = result.status();
    }
    const bool retriable =
        last.code() == StatusCode::kUnavailable || last.code() == StatusCode::kDeadlineExceeded;
    if (!retriable) return last;
  }
  return last;
}

Status S3ObjectStore::Put(std::string_view key, std::string_view data, const PutOptions& options) {
  PINPIPE_RETURN_IF_ERROR(ValidateKey(key));
  if (static_cast<int64_t>(data.size()) > options_.multipart_threshold) {
    PINPIPE_ASSIGN_OR_RETURN(auto upload, StartUpload(key, options));
    PINPIPE_RETURN_IF_ERROR(upload->Append(data));
    return upload->Finish();
  }
  if (options.if_absent && options_.conditional_put == ConditionalPut::kCheck) {
    auto head = Head(key);
    if (head.ok()) return AlreadyExistsError("object already exists: " + std::string(key));
    if (head.status().code() != StatusCode::kNotFound) return head.status();
  }
  Request req;
  req.method = "PUT";
  req.object_key = FullKey(key);
  req.headers.push_back("Content-Type: " + options.content_type);
  if (options.if_absent && options_.conditional_put == ConditionalPut::kHeader) {
    req.headers.push_back("If-None-Match: *");
  }
  req.body = data;
  auto resp = Execute(req);
  return resp.status();
}

std::vector<Status> S3ObjectStore::PutMany(std::span<const PutRequest> requests) {
  std::vector<Status> out(requests.size());
  ForEachConcurrently(requests.size(), 8, [&](size_t i) {
    out[i] = Put(requests[i].key, requests[i].data, requests[i].options);
  });
  return out;
}

Result<std::string> S3ObjectStore::Get(std::string_view key, std::optional<ByteRange> range) {
  PINPIPE_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.object_key = FullKey(key);
  if (range) {
    if (range->first < 0 || (range->last >= 0 && range->last < range->first)) {
      return InvalidArgumentError("invalid byte range");
    }
    req.headers.push_back("Range: bytes=" + std::to_string(range->first) + "-" +
                          (range->last >= 0 ? std::to_string(range->last) : ""));
  }
  PINPIPE_ASSIGN_OR_RETURN(HttpResponse resp, Execute(req));
  if (range) {
    // Some S3-compatible servers ignore the range (200) or return more than
    // asked for; cut the body to the requested bytes.
    int64_t served_first = 0;
    if (resp.status == 206) {
      auto it = resp.headers.find("content-range");
      long long a = 0, b = 0;
      if (it != resp.headers.end() &&
          std::sscanf(it->second.c_str(), "bytes %lld-%lld", &a, &b) == 2) {
        served_first = a;
      } else {
        served_first = range->first;
      }
    }
    const int64_t skip = range->first - served_first;
    if (skip < 0 || skip > static_cast<int64_t>(resp.body.size())) {
      return InternalError("S3 returned an unexpected range for " + std::string(key));
    }
    if (skip > 0) resp.body.erase(0, static_cast<size_t>(skip));
    if (range->last >= 0) {
      const int64_t want = range->last - range->first + 1;
      if (static_cast<int64_t>(resp.body.size()) > want)
        resp.body.resize(static_cast<size_t>(want));
    }
  }
  return std::move(resp.body);
}

Result<ObjectInfo> S3ObjectStore::Head(std::string_view key) {
  PINPIPE_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "HEAD";
  req.head = true;
  req.object_key = FullKey(key);
  PINPIPE_ASSIGN_OR_RETURN(HttpResponse resp, Execute(req));
  ObjectInfo info;
  info.key = std::string(key);
  if (auto it = resp.headers.find("content-length"); it != resp.headers.end()) {
    info.size = std::strtoll(it->second.c_str(), nullptr, 10);
  }
  if (auto it = resp.headers.find("last-modified"); it != resp.headers.end()) {
    time_t t = curl_getdate(it->second.c_str(), nullptr);
    if (t > 0) info.modified_ms = static_cast<int64_t>(t) * 1000;
  }
  if (auto it = resp.headers.find("etag"); it != resp.headers.end()) {
    info.etag = StripQuotes(it->second);
  }
  return info;
}

Status S3ObjectStore::Delete(std::string_view key) {
  PINPIPE_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "DELETE";
  req.object_key = FullKey(key);
  auto resp = Execute(req);
  if (!resp.ok() && resp.status().code() == StatusCode::kNotFound) return Status::Ok();
  return resp.status();
}

Result<ListPage> S3ObjectStore::List(std::string_view prefix, std::string_view continuation_token,
                                     int max_keys) {
  PINPIPE_RETURN_IF_ERROR(ValidatePrefix(prefix));
  if (max_keys <= 0) return InvalidArgumentError("max_keys must be positive");
  const std::string strip = options_.prefix.empty() ? "" : options_.prefix + "/";
  Request req;
  req.object_key = "";
  req.query = {{"list-type", "2"},
               {"max-keys", std::to_string(std::min(max_keys, 1000))},
               {"prefix", strip + std::string(prefix)}};
  if (!continuation_token.empty()) {
    req.query.emplace_back("continuation-token", std::string(continuation_token));
  }
  PINPIPE_ASSIGN_OR_RETURN(HttpResponse resp, Execute(req));
  ListPage page;
  for (std::string_view contents : xml::Elements(resp.body, "Contents")) {
    ObjectInfo info;
    std::string key = xml::Text(contents, "Key").value_or("");
    if (!key.starts_with(strip)) continue;
    info.key = key.substr(strip.size());
    info.size = std::strtoll(xml::Text(contents, "Size").value_or("0").c_str(), nullptr, 10);
    info.modified_ms = ParseIso8601Ms(xml::Text(contents, "LastModified").value_or(""));
    info.etag = StripQuotes(xml::Text(contents, "ETag").value_or(""));
    page.objects.push_back(std::move(info));
  }
  std::sort(page.objects.begin(), page.objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  if (xml::Text(resp.body, "IsTruncated").value_or("false") == "true") {
    page.next_token = xml::Text(resp.body, "NextContinuationToken").value_or("");
    if (page.next_token.empty()) {
      return InternalError("S3 listing is truncated but has no NextContinuationToken");
    }
  }
  return page;
}

Result<std::unique_ptr<Upload>> S3ObjectStore::StartUpload(std::string_view key,
                                                           const PutOptions& options) {
  PINPIPE_RETURN_IF_ERROR(ValidateKey(key));
  return std::unique_ptr<Upload>(new S3Upload(this, std::string(key), options));
}

}  // namespace pinpipe::objstore
