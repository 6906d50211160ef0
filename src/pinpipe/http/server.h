// http::Server: an HTTP/1.1 server on Boost.Beast/Asio with keep-alive, a
// fixed set of I/O threads, an optional pool of handler threads (for handlers
// that block, e.g. waiting for a durable append), a request body limit, header
// and idle timeouts, optional TLS, and graceful shutdown that finishes the
// requests in flight.
//
// The server knows nothing about the APIs it serves: it parses a request into
// an http::Request, calls the Handler, and writes the http::Response. Beast
// stays out of this header (pimpl) so modules that include it build fast.
//
// Handlers come in two kinds: a Handler fills the response before it
// returns (on a handler thread when worker_threads > 0); an AsyncHandler runs
// on the I/O thread and answers through a Responder whenever it is ready,
// which lets a request wait for a group commit without holding a thread.
//
// Thread-safety: Start/Stop from one thread. The handler is called
// concurrently from many threads and must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path plus optional ?query
  std::string path;    // target up to '?', not decoded
  std::string query;   // after '?', not decoded ("" if none)
  // Header names lower-cased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // peer address, "ip:port"

  // The first header named `name` (lower-case), or "" when absent.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The value of query parameter `name` (percent-decoded), or "" when absent.
  std::string QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type;  // "" = no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Called on a handler thread (or an I/O thread when worker_threads == 0).
using Handler = std::function<void(Request& request, Response& response)>;

// Sends the response to a request: call exactly once, from any thread.
using Responder = std::function<void(Response response)>;
// Called on the I/O thread that read the request, so it must not block: it
// answers through `respond`, now or later, and hands blocking work to
// Server::Offload.
using AsyncHandler = std::function<void(Request request, Responder respond)>;

// Builds the response for a request that could not be read (status 400 for a
// malformed request, 413 for a body over the limit, 408 for a timeout while
// reading the body). `request` has what was parsed so far (method, path,
// headers; no body).
using ErrorHandler = std::function<void(int status, std::string_view reason, const Request& request,
                                        Response& response)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:8082";  // host:port; port 0 picks a free one
  int io_threads = 2;
  // Threads that run the handler; 0 runs it on the I/O thread that read the request.
  int worker_threads = 0;
  uint64_t body_limit = 10 << 20;
  int64_t header_timeout_ms = 10'000;  // from the first byte to the end of the headers
  int64_t body_timeout_ms = 30'000;    // to read the body after the headers
  int64_t idle_timeout_ms = 60'000;    // a keep-alive connection waiting for its next request
  // PEM files; both set enables TLS on the listening port.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string server_name = "pinpipe";
};

class Server {
 public:
  Server(ServerOptions options, Handler handler, ErrorHandler error_handler = nullptr);
  Server(ServerOptions options, AsyncHandler handler, ErrorHandler error_handler = nullptr);
  ~Server();  // Stop()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads. InvalidArgument for a bad address
  // or TLS files; Unavailable when the address is in use.
  Status Start();

  // The bound port (after Start).
  int port() const;

  // Stops accepting, lets requests in flight finish (up to `grace_ms`), closes
  // idle connections and joins the threads. Safe to call more than once.
  void Stop(int64_t grace_ms = 10'000);

  // Re-reads the TLS certificate and key files (no-op without TLS): new
  // connections use them, open ones keep theirs. On error the old pair stays.
  Status ReloadTls();

  // Connections currently open.
  int64_t open_connections() const;

  // Runs `work` on the handler threads (inline when worker_threads == 0).
  // For AsyncHandlers with blocking work; valid between Start and Stop.
  void Offload(std::function<void()> work);

  class Impl;  // implementation detail (server.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:8082" -> host, port. "[::1]:80" and ":8082" (all interfaces) work.
Result<std::pair<std::string, int>> SplitHostPort(std::string_view address);

// The standard reason phrase, "Not Found" for 404.
std::string_view ReasonPhrase(int status);

}  // namespace pinpipe::http
