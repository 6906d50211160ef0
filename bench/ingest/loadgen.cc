// ingest_loadgen: a closed-loop HTTP/1.1 load generator with keep-alive
// connections (one epoll thread), for the ingestion API benchmark. Each
// connection sends a request, waits for the whole response, and sends the
// next; latency is measured per request. Prints one JSON object.
//
//   ingest_loadgen --port 8082 --api kafka|kinesis|gateway --records 500
//                  --record-bytes 600 --connections 64 --seconds 5 [--host 127.0.0.1]
//                  [--stream NAME] [--topic NAME]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// A pin record of about `bytes` bytes as the emulator posts it.
std::string PinRecord(int index, size_t bytes) {
  std::string r = "{\"index\":" + std::to_string(index) +
                  ",\"unique_id\":\"fbe53c66-3442-4773-b19e-d3ec6f54dddf\",\"title\":\"No Title "
                  "Data Available\",\"description\":\"";
  const std::string tail =
      "\",\"poster_name\":\"User Info Error\",\"follower_count\":\"1k\",\"is_image_or_video\":"
      "\"image\",\"downloaded\":1,\"save_location\":\"Local save in /data/mens-fashion\","
      "\"category\":\"mens-fashion\"}";
  while (r.size() + tail.size() < bytes) r += "lorem ipsum ";
  r.resize(std::max(r.size(), bytes - std::min(bytes, tail.size())));
  return r + tail;
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 8082;
  std::string api = "kafka";
  int records = 1;
  size_t record_bytes = 600;
  int connections = 64;
  double seconds = 5;
  std::string stream = "bench-stream";
  std::string topic = "bench.pin";
};

std::string BuildRequest(const Options& o, int seq) {
  std::string body, path, headers;
  if (o.api == "kafka") {
    path = "/topics/" + o.topic;
    body = "{\"records\":[";
    for (int i = 0; i < o.records; ++i) {
      if (i) body += ',';
      body += "{\"value\":" + PinRecord(seq * o.records + i, o.record_bytes) + "}";
    }
    body += "]}";
    headers = "Content-Type: application/vnd.kafka.json.v2+json\r\n";
  } else if (o.api == "gateway") {
    path = "/streams/" + o.stream + (o.records == 1 ? "/record" : "/records");
    if (o.records == 1) {
      body = "{\"StreamName\":\"" + o.stream + "\",\"Data\":" + PinRecord(seq, o.record_bytes) +
             ",\"PartitionKey\":\"partition-" + std::to_string(seq % 7) + "\"}";
    } else {
      body = "{\"records\":[";
      for (int i = 0; i < o.records; ++i) {
        std::string rec = PinRecord(seq * o.records + i, o.record_bytes);
        std::string escaped;
        for (char c : rec) {
          if (c == '"' || c == '\\') escaped += '\\';
          escaped += c;
        }
        if (i) body += ',';
        body +=
            "{\"data\":\"" + escaped + "\",\"partition-key\":\"p" + std::to_string(i % 7) + "\"}";
      }
      body += "]}";
    }
    headers = "Content-Type: application/json\r\n";
  } else {  // native kinesis
    path = "/";
    const char* action = o.records == 1 ? "PutRecord" : "PutRecords";
    if (o.records == 1) {
      body = "{\"StreamName\":\"" + o.stream + "\",\"Data\":\"" +
             Base64(PinRecord(seq, o.record_bytes)) + "\",\"PartitionKey\":\"partition-" +
             std::to_string(seq % 7) + "\"}";
    } else {
      body = "{\"StreamName\":\"" + o.stream + "\",\"Records\":[";
      for (int i = 0; i < o.records; ++i) {
        if (i) body += ',';
        body += "{\"Data\":\"" + Base64(PinRecord(seq * o.records + i, o.record_bytes)) +
                "\",\"PartitionKey\":\"p" + std::to_string(i % 7) + "\"}";
      }
      body += "]}";
    }
    headers = std::string("Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: ") +
              "Kinesis_20131202." + action +
              "\r\nX-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
              "Credential=AKID/20240101/us-east-1/kinesis/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00\r\n";
  }
  return "POST " + path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) + "\r\n" +
         headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Conn {
  int fd = -1;
  const std::string* request = nullptr;
  size_t sent = 0;
  std::string in;
  Clock::time_point started;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host")
      o.host = v;
    else if (k == "--port")
      o.port = std::atoi(v.c_str());
    else if (k == "--api")
      o.api = v;
    else if (k == "--records")
      o.records = std::atoi(v.c_str());
    else if (k == "--record-bytes")
      o.record_bytes = std::strtoul(v.c_str(), nullptr, 10);
    else if (k == "--connections")
      o.connections = std::atoi(v.c_str());
    else if (k == "--seconds")
      o.seconds = std::atof(v.c_str());
    else if (k == "--stream")
      o.stream = v;
    else if (k == "--topic")
      o.topic = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  // A few distinct request bodies, reused round-robin (building them is not what we measure).
  std::vector<std::string> requests;
  for (int i = 0; i < 16; ++i) requests.push_back(BuildRequest(o, i));
  const double payload_bytes = static_cast<double>(o.records) * static_cast<double>(o.record_bytes);

  int ep = epoll_create1(0);
  std::vector<Conn> conns(o.connections);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  int next = 0;
  auto start_request = [&](Conn& c) {
    c.request = &requests[next++ % requests.size()];
    c.sent = 0;
    c.in.clear();
    c.started = Clock::now();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  };
  for (auto& c : conns) {
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("connect");
      return 1;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  std::vector<double> latencies_us;
  latencies_us.reserve(1 << 20);
  std::map<int, int64_t> statuses;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::microseconds(static_cast<int64_t>(o.seconds * 1e6));
  for (auto& c : conns) start_request(c);
  std::vector<epoll_event> events(256);
  char buf[1 << 16];
  int open = o.connections;
  while (open > 0) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    for (int i = 0; i < n; ++i) {
      Conn& c = *static_cast<Conn*>(events[i].data.ptr);
      if ((events[i].events & EPOLLOUT) && c.sent < c.request->size()) {
        ssize_t w =
            send(c.fd, c.request->data() + c.sent, c.request->size() - c.sent, MSG_NOSIGNAL);
        if (w > 0) c.sent += static_cast<size_t>(w);
        if (c.sent == c.request->size()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.ptr = &c;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        while (true) {
          ssize_t r = recv(c.fd, buf, sizeof(buf), 0);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            continue;
          }
          if (r == 0) {
            std::fprintf(stderr, "server closed a connection\n");
            return 1;
          }
          break;
        }
        size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        size_t cl = 0;
        for (const char* h : {"Content-Length: ", "content-length: "}) {
          size_t p = c.in.find(h);
          if (p != std::string::npos && p < end)
            cl = std::strtoul(c.in.c_str() + p + 16, nullptr, 10);
        }
        if (c.in.size() < end + 4 + cl) continue;
        const int status = std::atoi(c.in.c_str() + 9);
        ++statuses[status];
        const auto now = Clock::now();
        latencies_us.push_back(std::chrono::duration<double, std::micro>(now - c.started).count());
        if (now >= deadline) {
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          close(c.fd);
          --open;
        } else {
          start_request(c);
        }
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    size_t idx = std::min(latencies_us.size() - 1, static_cast<size_t>(p * latencies_us.size()));
    return latencies_us[idx] / 1000.0;
  };
  const double reqs = static_cast<double>(latencies_us.size());
  int64_t ok = statuses.count(200) ? statuses[200] : 0;
  std::printf(
      "{\"api\":\"%s\",\"records_per_request\":%d,\"record_bytes\":%zu,\"connections\":%d,"
      "\"seconds\":%.2f,\"requests\":%.0f,\"ok\":%lld,\"requests_per_s\":%.0f,\"records_per_s\":%."
      "0f,"
      "\"mb_per_s\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f}\n",
      o.api.c_str(), o.records, o.record_bytes, o.connections, elapsed, reqs,
      static_cast<long long>(ok), reqs / elapsed, ok * o.records / elapsed,
      ok * payload_bytes / elapsed / 1e6, pct(0.5), pct(0.99), pct(0.999));
  if (ok != static_cast<int64_t>(reqs)) {
    for (auto& [s, n] : statuses)
      std::fprintf(stderr, "status %d: %lld\n", s, static_cast<long long>(n));
  }
  return 0;
}
