// A small HTTP/1.1 server for emulator tests: records every request (method,
// target, headers, body) and answers through a scripted handler. One thread
// per connection, keep-alive, plain Boost.Beast.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pinpipe::testing {

struct Recorded {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int connection = 0;  // which accepted connection carried it
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class RecordingServer {
 public:
  using Handler = std::function<Reply(const Recorded&, int n /*0-based request number*/)>;

  explicit RecordingServer(Handler handler)
      : handler_(std::move(handler)),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~RecordingServer() {
    stopping_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    // Wake the blocked accept() with a throwaway connection.
    try {
      boost::asio::io_context ioc;
      boost::asio::ip::tcp::socket s(ioc);
      s.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)},
                ec);
    } catch (...) {
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      // shutdown() wakes a connection thread blocked in read().
      for (auto& s : sockets_) s->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
      threads.swap(conn_threads_);
    }
    for (auto& t : threads) t.join();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<Recorded> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int connections() {
    std::lock_guard lock(mu_);
    return connections_;
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopping_) return;
      std::lock_guard lock(mu_);
      int id = connections_++;
      sockets_.push_back(socket);
      conn_threads_.emplace_back([this, socket, id] { Serve(socket, id); });
    }
  }

  void Serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket, int id) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(*socket, buffer, req, ec);
      if (ec) return;
      Recorded r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      r.body = req.body();
      r.connection = id;
      int n;
      {
        std::lock_guard lock(mu_);
        n = static_cast<int>(requests_.size());
        requests_.push_back(r);
      }
      Reply reply = handler_(r, n);
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, reply.content_type);
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(*socket, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<Recorded> requests_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> conn_threads_;
  int connections_ = 0;
};

}  // namespace pinpipe::testing
