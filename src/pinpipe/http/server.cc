#include "pinpipe/http/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "pinpipe/base/uri.h"
#include "pinpipe/http/tls.h"

namespace pinpipe::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

constexpr uint32_t kHeaderLimit = 64 * 1024;

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

bool Request::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return true;
  }
  return false;
}

std::string Request::QueryParam(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = part.find('=');
    auto key = PercentDecode(part.substr(0, eq));
    if (!key.ok() || *key != name) continue;
    if (eq == std::string_view::npos) return "";
    auto value = PercentDecode(part.substr(eq + 1));
    return value.ok() ? *value : std::string();
  }
  return "";
}

Result<std::pair<std::string, int>> SplitHostPort(std::string_view address) {
  std::string host;
  std::string_view port_text;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return InvalidArgumentError("bad listen address '" + std::string(address) + "'");
    }
    host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError("listen address '" + std::string(address) + "' needs host:port");
    }
    host = std::string(address.substr(0, colon));
    port_text = address.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5) {
    return InvalidArgumentError("bad port in '" + std::string(address) + "'");
  }
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9')
      return InvalidArgumentError("bad port in '" + std::string(address) + "'");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return InvalidArgumentError("bad port in '" + std::string(address) + "'");
  return std::make_pair(std::move(host), port);
}

std::string_view ReasonPhrase(int status) {
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  return std::string_view(reason.data(), reason.size());
}

// ---------------------------------------------------------------------------

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection if it is waiting for a new request.
  virtual void OnStop() = 0;
  // The TLS context the connection was accepted with, kept alive across a reload.
  std::shared_ptr<void> tls_context;
};

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler, AsyncHandler async_handler,
       ErrorHandler error_handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        async_handler_(std::move(async_handler)),
        error_handler_(std::move(error_handler)),
        iocs_(MakeContexts(std::max(1, options_.io_threads))),
        acceptor_(*iocs_.front()) {}

  ~Impl() { Stop(0); }

  Status Start();
  void Stop(int64_t grace_ms);

  void Accept();
  void Register(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(sessions_mu_);
    sessions_[s.get()] = s;
  }
  void Unregister(SessionBase* s) {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(s);
  }

  // Runs the handler for `request` (an AsyncHandler inline, a Handler on the
  // worker pool or inline) and then `done(response)` on `executor`.
  template <class Executor, class Done>
  void Dispatch(Request request, Executor executor, Done done) {
    in_flight_.fetch_add(1);
    Responder respond = [this, executor, done = std::move(done)](Response response) mutable {
      asio::post(executor, [done = std::move(done), response = std::move(response)]() mutable {
        done(std::move(response));
      });
      in_flight_.fetch_sub(1);
    };
    if (async_handler_) return async_handler_(std::move(request), std::move(respond));
    auto run = [this, request = std::move(request), respond = std::move(respond)]() mutable {
      Response response;
      handler_(request, response);
      respond(std::move(response));
    };
    if (workers_) {
      asio::post(*workers_, std::move(run));
    } else {
      run();
    }
  }

  void Offload(std::function<void()> work) {
    if (workers_) {
      asio::post(*workers_, std::move(work));
    } else {
      work();
    }
  }

  void ErrorResponse(int status, std::string_view reason, const Request& request,
                     Response& response) {
    response.status = status;
    if (error_handler_) {
      error_handler_(status, reason, request, response);
    } else {
      response.content_type = "text/plain";
      response.body = std::string(reason) + "\n";
    }
  }

  ServerOptions options_;
  Handler handler_;
  AsyncHandler async_handler_;
  ErrorHandler error_handler_;
  // Requests handed to a handler whose response has not been posted yet.
  std::atomic<int64_t> in_flight_{0};
  // Declared before iocs_ so they outlive the sessions their queues still hold.
  std::mutex sessions_mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  std::atomic<int64_t> connections_{0};
  // One single-threaded io_context per I/O thread: a connection lives on one
  // of them (round robin), so its handlers need no strand and the contexts
  // share no locks; only responses finished elsewhere are posted across.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  size_t next_ioc_ = 0;  // the accepting thread's round robin
  tcp::acceptor acceptor_;
  std::shared_ptr<ServerTls> tls_;
  std::unique_ptr<asio::thread_pool> workers_;
  // Keep run() going while the only outstanding work sits elsewhere.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool stopped_ = false;
  int port_ = 0;
};

namespace {

// One connection. Stream is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
// All of a session's handlers run on the one thread of its io_context.
template <class Stream>
class Session : public SessionBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(Server::Impl* server, tcp::socket socket, Args&&... args)
      : server_(server),
        stream_(std::move(socket), std::forward<Args>(args)...),
        timer_(stream_.get_executor()) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    server_->connections_.fetch_add(1);
  }

  ~Session() override {
    server_->Unregister(this);
    server_->connections_.fetch_sub(1);
  }

  void Run() {
    server_->Register(shared_from_this());
    asio::dispatch(stream_.get_executor(), [self = Self()] { self->Begin(); });
  }

  void OnStop() override {
    asio::post(stream_.get_executor(), [self = Self()] {
      if (self->idle_) self->Close();
    });
  }

 private:
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  // Arms the session's deadline; when it passes, the pending socket
  // operation is cancelled and its handler sees timed_out_ (so a request
  // still being read can get a 408 instead of a silent close).
  void SetTimeout(int64_t ms) {
    timed_out_ = false;
    timer_.expires_after(std::chrono::milliseconds(ms));
    timer_.async_wait(
        [weak = std::weak_ptr<SessionBase>(shared_from_this())](beast::error_code ec) {
          if (ec) return;
          auto base = weak.lock();
          if (!base) return;
          auto self = std::static_pointer_cast<Session>(base);
          self->timed_out_ = true;
          beast::error_code ignored;
          beast::get_lowest_layer(self->stream_).socket().cancel(ignored);
        });
  }
  void ClearTimeout() { timer_.cancel(); }

  void Begin() {
    if constexpr (kTls) {
      SetTimeout(server_->options_.header_timeout_ms);
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        self->ClearTimeout();
        if (ec) return self->Close();
        self->WaitForRequest();
      });
    } else {
      WaitForRequest();
    }
  }

  // Waits (idle timeout) until the first bytes of the next request arrive,
  // then reads the headers (header timeout).
  void WaitForRequest() {
    if (server_->stopping_.load()) return Close();
    if (buffer_.size() > 0) return ReadHeader();
    idle_ = true;
    SetTimeout(server_->options_.idle_timeout_ms);
    stream_.async_read_some(buffer_.prepare(8192), [self = Self()](beast::error_code ec, size_t n) {
      self->idle_ = false;
      self->ClearTimeout();
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_->options_.body_limit);
    SetTimeout(server_->options_.header_timeout_ms);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  Request PartialRequest() {
    Request r;
    if (!parser_) return r;
    const auto& msg = parser_->get();
    r.method = std::string(msg.method_string());
    r.target = std::string(msg.target());
    SplitTarget(r);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = ToLower(c);
      r.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    r.remote = remote_;
    return r;
  }

  static void SplitTarget(Request& r) {
    size_t q = r.target.find('?');
    if (q == std::string::npos) {
      r.path = r.target;
    } else {
      r.path = r.target.substr(0, q);
      r.query = r.target.substr(q + 1);
    }
  }

  void FailRequest(int status, std::string_view reason) {
    Request partial = PartialRequest();
    Response response;
    server_->ErrorResponse(status, reason, partial, response);
    keep_alive_ = false;
    Write(std::move(response));
  }

  void OnHeader(beast::error_code ec) {
    ClearTimeout();
    if (ec && timed_out_) return FailRequest(408, "Request Timeout");
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == beast::error::timeout) return FailRequest(408, "Request Timeout");
    if (ec == bhttp::error::body_limit) return FailRequest(413, "Payload Too Large");
    if (ec == bhttp::error::header_limit)
      return FailRequest(431, "Request Header Fields Too Large");
    if (ec) return FailRequest(400, "Bad Request: " + ec.message());
    auto& msg = parser_->get();
    if (msg.has_content_length() && parser_->content_length() &&
        *parser_->content_length() > server_->options_.body_limit) {
      return FailRequest(413, "Payload Too Large");
    }
    auto expect = msg[bhttp::field::expect];
    if (!expect.empty() && beast::iequals(expect, "100-continue")) {
      // curl waits for this before sending a larger body.
      continue_.emplace(bhttp::status::continue_, msg.version());
      SetTimeout(server_->options_.body_timeout_ms);
      bhttp::async_write(stream_, *continue_, [self = Self()](beast::error_code ec, size_t) {
        self->ClearTimeout();
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    SetTimeout(server_->options_.body_timeout_ms);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = Self()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    ClearTimeout();
    if (ec && timed_out_) return FailRequest(408, "Request Timeout");
    if (ec == beast::error::timeout) return FailRequest(408, "Request Timeout");
    if (ec == bhttp::error::body_limit) return FailRequest(413, "Payload Too Large");
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == bhttp::error::partial_message) {
      return Close();
    }
    if (ec) return FailRequest(400, "Bad Request: " + ec.message());
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    Request request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    SplitTarget(request);
    request.headers.reserve(8);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = ToLower(c);
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(msg.body());
    request.remote = remote_;
    parser_.reset();
    server_->Dispatch(std::move(request), stream_.get_executor(),
                      [self = Self()](Response response) { self->Write(std::move(response)); });
  }

  void Write(Response response) {
    res_.emplace();
    res_->version(version_ == 10 ? 10 : 11);
    res_->result(static_cast<unsigned>(response.status));
    res_->set(bhttp::field::server, server_->options_.server_name);
    if (!response.content_type.empty()) {
      res_->set(bhttp::field::content_type, response.content_type);
    }
    for (auto& [name, value] : response.headers) res_->insert(name, value);
    if (server_->stopping_.load()) keep_alive_ = false;
    res_->keep_alive(keep_alive_);
    res_->body() = std::move(response.body);
    res_->prepare_payload();
    SetTimeout(server_->options_.body_timeout_ms);
    bhttp::async_write(stream_, *res_, [self = Self()](beast::error_code ec, size_t) {
      self->ClearTimeout();
      self->res_.reset();
      if (ec || !self->keep_alive_) return self->Close();
      self->WaitForRequest();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    idle_ = false;
    ClearTimeout();
    beast::error_code ec;
    if constexpr (kTls) {
      SetTimeout(1000);
      stream_.async_shutdown([self = Self()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.socket().close(ec);
    }
  }

  Server::Impl* server_;
  Stream stream_;
  asio::steady_timer timer_;
  bool timed_out_ = false;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool idle_ = false;
  bool closed_ = false;
};

}  // namespace

Status Server::Impl::Start() {
  if (started_) return FailedPreconditionError("server already started");
  PINPIPE_ASSIGN_OR_RETURN(auto host_port, SplitHostPort(options_.listen));
  auto [host, port] = host_port;
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("bad listen host '" + host + "': " + ec.message());
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    PINPIPE_ASSIGN_OR_RETURN(tls_, ServerTls::Open(options_.tls_cert_file, options_.tls_key_file));
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return UnavailableError("open socket: " + ec.message());
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return UnavailableError("bind " + options_.listen + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("listen " + options_.listen + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  if (options_.worker_threads > 0) {
    workers_ = std::make_unique<asio::thread_pool>(options_.worker_threads);
  }
  started_ = true;
  for (auto& ioc : iocs_) work_.emplace_back(ioc->get_executor());
  Accept();
  for (auto& ioc : iocs_) threads_.emplace_back([ioc = ioc.get()] { ioc->run(); });
  return Status::Ok();
}

void Server::Impl::Accept() {
  asio::io_context& home = *iocs_[next_ioc_++ % iocs_.size()];
  acceptor_.async_accept(home, [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      spdlog::warn("http: accept failed: {}", ec.message());
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_) {
        auto ctx = tls_->Current();
        auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            this, std::move(socket), *ctx);
        session->tls_context = std::move(ctx);
        session->Run();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->Run();
      }
    }
    if (!stopping_.load()) Accept();
  });
}

void Server::Impl::Stop(int64_t grace_ms) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  asio::post(*iocs_.front(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(sessions_mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->OnStop();
  live.clear();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (connections_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Connections that went idle after finishing their request close themselves
    // (stopping_ is set); idle ones were closed by OnStop.
  }
  // A response still owed (an AsyncHandler waiting, e.g., for a group
  // commit) will be posted to a session's executor: wait for it, so that
  // nothing posts into a server that is gone.
  const auto hard_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < hard_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (in_flight_.load() > 0) {
    spdlog::error("http: stopping with {} responses never sent", in_flight_.load());
  }
  work_.clear();
  for (auto& ioc : iocs_) ioc->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (workers_) {
    workers_->stop();
    workers_->join();
  }
}

Server::Server(ServerOptions options, Handler handler, ErrorHandler error_handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), nullptr,
                                   std::move(error_handler))) {}

Server::Server(ServerOptions options, AsyncHandler handler, ErrorHandler error_handler)
    : impl_(std::make_unique<Impl>(std::move(options), nullptr, std::move(handler),
                                   std::move(error_handler))) {}

Server::~Server() = default;

Status Server::Start() { return impl_->Start(); }
int Server::port() const { return impl_->port_; }
void Server::Stop(int64_t grace_ms) { impl_->Stop(grace_ms); }
Status Server::ReloadTls() { return impl_->tls_ ? impl_->tls_->Reload() : Status::Ok(); }
int64_t Server::open_connections() const { return impl_->connections_.load(); }
void Server::Offload(std::function<void()> work) { impl_->Offload(std::move(work)); }

}  // namespace pinpipe::http
