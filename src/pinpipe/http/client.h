// http::Client: a small synchronous HTTP/1.1 client over one keep-alive
// connection (plain TCP or TLS), on Boost.Beast. Used by the posting emulator,
// one Client per worker thread.
//
// A request that fails on a reused connection before any response byte
// arrives (the server closed an idle keep-alive connection) is resent once on
// a fresh connection; every other failure is returned to the caller, who
// decides about retries by code: Unavailable (connect/reset/closed),
// DeadlineExceeded (timeout), InvalidArgument (bad URL).
//
// Thread-safety: not thread-safe; one thread per Client.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::http {

// A parsed http:// or https:// base URL, e.g.
// https://abc.execute-api.us-east-1.amazonaws.com/prod.
struct BaseUrl {
  bool tls = false;
  std::string host;
  std::string port;       // "80"/"443" when not given
  std::string base_path;  // "" or "/prod" (no trailing slash)
  std::string ToString() const;
};
Result<BaseUrl> ParseBaseUrl(std::string_view url);

struct ClientOptions {
  int64_t connect_timeout_ms = 5'000;
  int64_t request_timeout_ms = 30'000;  // write + read of one request
  bool verify_tls = true;               // verify the server certificate and host name
  std::string user_agent = "pinpipe";
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view Header(std::string_view name) const;  // case-insensitive, "" if absent
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(std::string_view base_url,
                                                ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `method base_path+path` with `body` and extra `headers`
  // (Content-Type among them) and reads the whole response.
  Result<ClientResponse> Send(std::string_view method, std::string_view path,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string_view body);

  const BaseUrl& url() const;
  // Connections opened so far (1 while keep-alive holds).
  int64_t connects() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinpipe::http
