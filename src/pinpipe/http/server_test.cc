#include "pinpipe/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pinpipe::http {
namespace {

// A blocking loopback client speaking raw HTTP/1.1.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  // Reads one response (headers + Content-Length body). "" on EOF/timeout.
  std::string ReadResponse() {
    while (true) {
      size_t end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = 0;
        size_t p = buf_.find("Content-Length: ");
        if (p != std::string::npos && p < end) cl = std::stoul(buf_.substr(p + 16));
        if (buf_.size() >= end + 4 + cl) {
          std::string out = buf_.substr(0, end + 4 + cl);
          buf_.erase(0, end + 4 + cl);
          return out;
        }
      }
      char tmp[65536];
      ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // True when the server closed the connection.
  bool Closed() {
    char c;
    const ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(
        options,
        [this](Request& req, Response& res) {
          ++handled_;
          if (req.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
          res.content_type = "text/plain";
          res.body = req.method + " " + req.path + " q=" + req.QueryParam("x") +
                     " body=" + req.body + " h=" + std::string(req.Header("x-test"));
        },
        [](int status, std::string_view reason, const Request& req, Response& res) {
          res.content_type = "application/json";
          res.body = "{\"error\":" + std::to_string(status) + ",\"path\":\"" + req.path + "\"," +
                     "\"reason\":\"" + std::string(reason.substr(0, 5)) + "\"}";
        });
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
  }
  std::unique_ptr<Server> server_;
  std::atomic<int> handled_{0};
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer({.worker_threads = 4});
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    c.Send(
        "POST /a%20b?x=1%2B2 HTTP/1.1\r\nHost: h\r\nX-Test: yes\r\nContent-Length: 3\r\n\r\nabc");
    std::string r = c.ReadResponse();
    EXPECT_NE(r.find("HTTP/1.1 200 OK"), std::string::npos) << r;
    EXPECT_NE(r.find("POST /a%20b q=1+2 body=abc h=yes"), std::string::npos) << r;
  }
  // Pipelined requests are answered in order.
  c.Send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("GET /1"), std::string::npos);
  EXPECT_NE(c.ReadResponse().find("GET /2"), std::string::npos);
  EXPECT_EQ(handled_.load(), 5);
}

TEST_F(ServerTest, OversizedBodyGets413WithTheApiErrorBody) {
  StartServer({.body_limit = 100});
  RawClient c(server_->port());
  c.Send("POST /topics/t HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n" +
         std::string(101, 'x'));
  std::string r = c.ReadResponse();
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_NE(r.find("{\"error\":413,\"path\":\"/topics/t\""), std::string::npos) << r;
  EXPECT_EQ(handled_.load(), 0);
  // Chunked bodies over the limit are refused too.
  RawClient c2(server_->port());
  c2.Send("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" +
          std::string(128, 'y') + "\r\n0\r\n\r\n");
  EXPECT_NE(c2.ReadResponse().find("HTTP/1.1 413"), std::string::npos);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ServerTest, MalformedRequestGets400) {
  StartServer();
  RawClient c(server_->port());
  c.Send("GARBAGE\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ServerTest, ExpectContinueIsAnswered) {
  StartServer();
  RawClient c(server_->port());
  c.Send("POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  std::string cont = c.ReadResponse();
  EXPECT_NE(cont.find("100 Continue"), std::string::npos) << cont;
  c.Send("hi");
  EXPECT_NE(c.ReadResponse().find("body=hi"), std::string::npos);
}

TEST_F(ServerTest, SlowHeadersTimeOut) {
  StartServer({.header_timeout_ms = 200});
  RawClient c(server_->port());
  c.Send("GET / HTTP/1.1\r\nHost:");
  std::string r = c.ReadResponse();
  EXPECT_NE(r.find("HTTP/1.1 408"), std::string::npos) << r;
}

TEST_F(ServerTest, IdleConnectionsAreClosed) {
  StartServer({.idle_timeout_ms = 200});
  RawClient c(server_->port());
  EXPECT_TRUE(c.Closed());
}

TEST_F(ServerTest, StopFinishesRequestsInFlight) {
  StartServer({.worker_threads = 2});
  RawClient busy(server_->port());
  RawClient idle(server_->port());
  busy.Send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
  // Stop only once the request is in the handler (in flight).
  for (int i = 0; i < 500 && handled_.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(handled_.load(), 1);
  std::thread stopper([&] { server_->Stop(5000); });
  std::string r = busy.ReadResponse();
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  EXPECT_TRUE(idle.Closed());
  stopper.join();
  EXPECT_EQ(server_->open_connections(), 0);
  RawClient late(server_->port());
  EXPECT_FALSE(late.connected());
}

// An AsyncHandler answers from another thread, after it returned; Stop waits
// for that answer instead of tearing the connection down under it.
TEST(AsyncServerTest, AnswersLaterFromAnotherThreadAndStopWaitsForIt) {
  std::mutex mu;
  std::vector<Responder> parked;
  std::atomic<int> offloaded{0};
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.worker_threads = 1;
  Server* self = nullptr;
  Server server(options, [&](Request req, Responder respond) {
    if (req.path == "/offload") {
      self->Offload([&offloaded, respond] {
        ++offloaded;
        respond(Response{.status = 202, .content_type = "text/plain", .body = "offloaded"});
      });
      return;
    }
    std::lock_guard lock(mu);
    parked.push_back(std::move(respond));
  });
  self = &server;
  ASSERT_TRUE(server.Start().ok());
  RawClient c(server.port());
  c.Send("GET /offload HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(c.ReadResponse().find("HTTP/1.1 202"), std::string::npos);
  EXPECT_EQ(offloaded.load(), 1);

  c.Send("POST /later HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx");
  for (int i = 0; i < 500; ++i) {
    std::lock_guard lock(mu);
    if (!parked.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::thread stopper([&] { server.Stop(100); });  // the grace passes; the answer is owed
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::thread answerer([&] {
    std::lock_guard lock(mu);
    ASSERT_EQ(parked.size(), 1u);
    parked[0](Response{.status = 200, .content_type = "text/plain", .body = "late"});
  });
  answerer.join();
  stopper.join();
}

TEST(SplitHostPortTest, Forms) {
  auto a = SplitHostPort("127.0.0.1:8082");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8082);
  auto b = SplitHostPort("[::1]:80");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "::1");
  EXPECT_TRUE(SplitHostPort(":9").ok());
  EXPECT_FALSE(SplitHostPort("nohost").ok());
  EXPECT_FALSE(SplitHostPort("h:99999").ok());
  EXPECT_FALSE(SplitHostPort("h:x").ok());
}

}  // namespace
}  // namespace pinpipe::http
