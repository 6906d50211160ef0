#include "pinpipe/http/client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

namespace pinpipe::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string BaseUrl::ToString() const {
  return std::string(tls ? "https://" : "http://") + host + ":" + port + base_path;
}

Result<BaseUrl> ParseBaseUrl(std::string_view url) {
  BaseUrl out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
    out.port = "80";
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
    out.tls = true;
    out.port = "443";
  } else {
    return InvalidArgumentError("API URL must start with http:// or https://: '" +
                                std::string(url.substr(0, 80)) + "'");
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    out.base_path = std::string(path);
  }
  if (hostport.find('@') != std::string_view::npos) {
    return InvalidArgumentError("API URL must not carry credentials (use --api-key)");
  }
  size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    std::string_view port = hostport.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535) {
      return InvalidArgumentError("bad port in API URL: '" + std::string(url.substr(0, 80)) + "'");
    }
    out.port = std::string(port);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.starts_with("[") && hostport.ends_with("]")) {
    hostport = hostport.substr(1, hostport.size() - 2);
  }
  if (hostport.empty())
    return InvalidArgumentError("API URL has no host: '" + std::string(url) + "'");
  out.host = std::string(hostport);
  return out;
}

std::string_view ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, beast::string_view(name.data(), name.size()))) return v;
  }
  return {};
}

struct Client::Impl {
  BaseUrl url;
  ClientOptions options;
  asio::io_context ioc;
  std::unique_ptr<asio::ssl::context> ssl_ctx;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  tcp::resolver::results_type endpoints;
  bool resolved = false;
  bool connected = false;
  int64_t connects = 0;
  std::string host_header;

  beast::tcp_stream& Tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs the queued asynchronous operation to completion on this thread.
  // Asynchronous operations are used only because they honour the stream's
  // expiry (timeouts); the client itself is synchronous.
  void RunUntilDone() {
    ioc.restart();
    ioc.run();
  }

  Status TransportError(const beast::error_code& ec, std::string_view what) const {
    std::string msg = std::string(what) + " " + url.ToString() + ": " + ec.message();
    if (ec == beast::error::timeout) return DeadlineExceededError(msg);
    return UnavailableError(msg);
  }

  void Close() {
    if (plain || secure) {
      beast::error_code ec;
      Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
      Tcp().socket().close(ec);
    }
    plain.reset();
    secure.reset();
    buffer.clear();
    connected = false;
  }

  Status Connect() {
    Close();
    beast::error_code ec;
    if (!resolved) {
      tcp::resolver resolver(ioc);
      endpoints = resolver.resolve(url.host, url.port, ec);
      if (ec) return TransportError(ec, "cannot resolve");
      resolved = true;
    }
    if (url.tls) {
      secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, *ssl_ctx);
      // SNI, required by most HTTPS front ends (API Gateway among them).
      SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str());
      if (options.verify_tls) {
        secure->set_verify_mode(asio::ssl::verify_peer);
        secure->set_verify_callback(asio::ssl::host_name_verification(url.host));
      }
    } else {
      plain = std::make_unique<beast::tcp_stream>(ioc);
    }
    Tcp().expires_after(std::chrono::milliseconds(options.connect_timeout_ms));
    Tcp().async_connect(endpoints,
                        [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
    RunUntilDone();
    if (ec) {
      Close();
      return TransportError(ec, "cannot connect to");
    }
    Tcp().socket().set_option(tcp::no_delay(true), ec);
    if (secure) {
      Tcp().expires_after(std::chrono::milliseconds(options.connect_timeout_ms));
      secure->async_handshake(asio::ssl::stream_base::client,
                              [&](const beast::error_code& e) { ec = e; });
      RunUntilDone();
      if (ec) {
        Close();
        return TransportError(ec, "TLS handshake with");
      }
    }
    connected = true;
    ++connects;
    return Status::Ok();
  }

  template <typename Stream>
  Result<ClientResponse> RoundTrip(Stream& stream, bhttp::request<bhttp::string_body>& req,
                                   bool* got_bytes) {
    *got_bytes = false;
    beast::error_code ec;
    Tcp().expires_after(std::chrono::milliseconds(options.request_timeout_ms));
    bhttp::async_write(stream, req, [&](const beast::error_code& e, size_t) { ec = e; });
    RunUntilDone();
    if (ec) return TransportError(ec, "cannot send to");
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256 << 20);
    bhttp::async_read(stream, buffer, parser, [&](const beast::error_code& e, size_t) { ec = e; });
    RunUntilDone();
    *got_bytes = parser.got_some();
    if (ec) return TransportError(ec, "no response from");
    auto res = parser.release();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (!res.keep_alive()) Close();
    return out;
  }

  Result<ClientResponse> SendOnce(bhttp::request<bhttp::string_body>& req, bool* got_bytes) {
    if (secure) return RoundTrip(*secure, req, got_bytes);
    return RoundTrip(*plain, req, got_bytes);
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() {
  if (impl_) impl_->Close();
}

Result<std::unique_ptr<Client>> Client::Create(std::string_view base_url, ClientOptions options) {
  PINPIPE_ASSIGN_OR_RETURN(BaseUrl url, ParseBaseUrl(base_url));
  auto impl = std::make_unique<Impl>();
  impl->url = url;
  impl->options = std::move(options);
  bool default_port = (url.tls && url.port == "443") || (!url.tls && url.port == "80");
  impl->host_header = default_port ? url.host : url.host + ":" + url.port;
  if (url.tls) {
    impl->ssl_ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    impl->ssl_ctx->set_default_verify_paths(ec);
    if (ec) return InternalError("cannot load the system CA certificates: " + ec.message());
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const BaseUrl& Client::url() const { return impl_->url; }
int64_t Client::connects() const { return impl_->connects; }

Result<ClientResponse> Client::Send(std::string_view method, std::string_view path,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    std::string_view body) {
  Impl& c = *impl_;
  bhttp::request<bhttp::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  std::string target = c.url.base_path + std::string(path);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, c.host_header);
  req.set(bhttp::field::user_agent, c.options.user_agent);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::string(body);
  req.keep_alive(true);
  req.prepare_payload();

  bool reused = c.connected;
  if (!c.connected) PINPIPE_RETURN_IF_ERROR(c.Connect());
  bool got_bytes = false;
  auto result = c.SendOnce(req, &got_bytes);
  if (!result.ok() && reused && !got_bytes && result.status().code() == StatusCode::kUnavailable) {
    // The server closed the idle keep-alive connection under us: the request
    // never reached a handler, so sending it again is safe.
    PINPIPE_RETURN_IF_ERROR(c.Connect());
    result = c.SendOnce(req, &got_bytes);
  }
  if (!result.ok()) c.Close();
  return result;
}

}  // namespace pinpipe::http
