#include "pinpipe/kafka_api/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/http/server.h"
#include "pinpipe/http/tls.h"
#include "pinpipe/kafka_api/admin.h"
#include "pinpipe/kafka_api/group_coordinator.h"
#include "pinpipe/kafka_api/protocol.h"
#include "pinpipe/kafka_api/records.h"
#include "pinpipe/kafka_api/sasl.h"

namespace pinpipe::kafka_api {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Served {
  int16_t key, min, max;
};
// Versions chosen so current clients (librdkafka 2.x, Java 4.x, kafkajs)
// negotiate a common one; see docs/kafka-protocol.md.
constexpr Served kServed[] = {
    {kProduce, 0, 9},
    {kFetch, 0, 12},
    {kListOffsets, 0, 7},
    {kMetadata, 0, 12},
    {kApiVersions, 0, 3},
    {kInitProducerId, 0, 4},
    {kFindCoordinator, 0, 4},
    {kJoinGroup, 0, 7},
    {kSyncGroup, 0, 5},
    {kHeartbeat, 0, 4},
    {kLeaveGroup, 0, 4},
    {kOffsetCommit, 0, 8},
    {kOffsetFetch, 0, 7},
    {kListGroups, 0, 4},
    {kCreateTopics, 0, 7},
    {kDeleteTopics, 0, 6},
    // admin.h
    {kDescribeGroups, 0, 5},
    {kDescribeConfigs, 0, 4},
    {kAlterConfigs, 0, 2},
    {kIncrementalAlterConfigs, 0, 1},
    {kCreatePartitions, 0, 3},
    {kDescribeCluster, 0, 1},
    // sasl.h
    {kSaslHandshake, 0, 1},
    {kSaslAuthenticate, 0, 2},
};

// Requests read ahead on one connection before reading pauses.
constexpr int kMaxInFlight = 64;

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  bool flexible = false;
  std::string client_id;
};

ErrorCode ToErrorCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kNone;
    case StatusCode::kNotFound:
      return kUnknownTopicOrPartition;
    case StatusCode::kOutOfRange:
      return kOffsetOutOfRange;
    case StatusCode::kInvalidArgument:
      return kInvalidRequest;
    case StatusCode::kUnavailable:
    case StatusCode::kDataLoss:
      return kKafkaStorageError;
    default:
      return kUnknownServerError;
  }
}

// A stable, non-zero topic id derived from the name (the embedded log has
// no ids; clients only compare them).
std::string TopicId(std::string_view name) {
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  for (char c : name) {
    a = (a ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    b = (b ^ static_cast<uint8_t>(c)) * 0x100000001b3ull + 1;
  }
  std::string id(16, '\0');
  for (int i = 0; i < 8; ++i) {
    id[i] = static_cast<char>(a >> (8 * i));
    id[8 + i] = static_cast<char>(b >> (8 * i));
  }
  id[0] |= 1;
  return id;
}

// Starts a response frame: size placeholder, correlation id, and the
// response header's tagged fields for flexible versions (ApiVersions
// always answers with header v0).
// Starts the response frame to `h` in `s` (empty, maybe with capacity).
void StartFrameIn(const RequestHeader& h, std::string* s) {
  Writer w(s);
  w.Int32(0);
  w.Int32(h.correlation_id);
  if (h.flexible && h.api_key != kApiVersions) w.EmptyTaggedFields();
}

std::string StartFrame(const RequestHeader& h) {
  std::string s;
  StartFrameIn(h, &s);
  return s;
}

void EndFrame(std::string* frame) {
  Writer w(frame);
  w.PatchInt32(0, static_cast<int32_t>(frame->size() - 4));
}

}  // namespace

std::pair<int16_t, int16_t> SupportedVersions(int16_t api_key) {
  for (const Served& s : kServed) {
    if (s.key == api_key) return {s.min, s.max};
  }
  return {-1, -1};
}

class Connection;

// A produce request waiting for its tenant's quota.
struct HeldProduce {
  Principal principal;
  int64_t records = 0;
  int64_t bytes = 0;
  std::shared_ptr<int32_t> held_ms;
  std::function<void()> submit;
};

// Idempotent producer state of one (producer id, topic, partition).
struct ProducerState {
  int16_t epoch = 0;
  int32_t next_sequence = 0;
  struct Batch {
    int32_t first, last;
    int64_t base_offset;  // -1 while the append is in flight
  };
  std::deque<Batch> recent;  // the last 5, like Kafka
};

struct FetchPartition {
  int32_t partition;
  int64_t offset;
  int32_t max_bytes;
};
struct FetchTopic {
  std::string name;
  bool denied = false;  // outside the caller's scope
  std::vector<FetchPartition> partitions;
};
struct FetchedPartition;
struct FetchState {
  std::shared_ptr<Connection> conn;
  uint64_t seq = 0;
  RequestHeader header;
  int32_t min_bytes = 1;
  int32_t max_bytes = 0x7fffffff;
  std::vector<FetchTopic> topics;
  Clock::time_point deadline;
  std::unique_ptr<asio::steady_timer> timer;
  bool done = false;
};

class Server::Impl {
 public:
  Impl(ServerOptions options, broker::Broker& broker)
      : options_(std::move(options)),
        broker_(broker),
        embedded_(dynamic_cast<embedded::EmbeddedBroker*>(&broker)) {
    next_producer_id_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  }

  Status Start();
  void Stop();
  int port() const { return port_; }
  std::string advertised() const { return advertised_host_ + ":" + std::to_string(port_); }

  // Runs on the connection's thread; false closes the connection.
  bool Handle(const std::shared_ptr<Connection>& c, uint64_t seq, const RequestHeader& h,
              Reader& r);
  int64_t max_request_bytes() const { return options_.max_request_bytes; }
  Status ReloadTls() { return tls_ ? tls_->Reload() : Status::Ok(); }

 private:
  friend class Connection;
  void Accept();
  void WaitLoop();
  bool HandleApiVersions(const std::shared_ptr<Connection>& c, uint64_t seq, const RequestHeader& h,
                         Reader& r);
  bool HandleMetadata(const std::shared_ptr<Connection>& c, uint64_t seq, const RequestHeader& h,
                      Reader& r);
  bool HandleProduce(const std::shared_ptr<Connection>& c, uint64_t seq, const RequestHeader& h,
                     Reader& r);
  bool HandleFetch(const std::shared_ptr<Connection>& c, uint64_t seq, const RequestHeader& h,
                   Reader& r);
  bool HandleListOffsets(const std::shared_ptr<Connection>& c, uint64_t seq, const RequestHeader& h,
                         Reader& r);
  bool HandleInitProducerId(const std::shared_ptr<Connection>& c, uint64_t seq,
                            const RequestHeader& h, Reader& r);
  using Conn = std::shared_ptr<Connection>;
  bool HandleFindCoordinator(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleJoinGroup(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleSyncGroup(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleHeartbeat(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleLeaveGroup(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleOffsetCommit(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleOffsetFetch(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleCreateTopics(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleDeleteTopics(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  bool HandleSasl(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r);
  // Sets the connection's principal for request `h`; false when the request
  // needs an authenticated connection and this one is not (it is closed).
  bool Admit(Connection& c, const RequestHeader& h);
  // Runs `submit` once `records`/`bytes` fit the tenant's produce quota,
  // after waiting on a timer of `c`'s thread (no thread is held); *held_ms
  // adds up the wait, reported as throttle_time_ms.
  // Requests held by the quota wait in the connection's order (so an
  // idempotent producer's sequence stays in order).
  void WithinQuota(const Conn& c, const Principal& p, int64_t records, int64_t bytes,
                   std::shared_ptr<int32_t> held_ms, std::function<void()> submit);
  void DrainHeld(const Conn& c);
  // Runs `body` on the blocking pool (broker calls that may wait on the disk), where it
  // writes the response after the header; then closes the frame and answers `c` in order.
  // Counted in produces_in_flight_, so Stop waits for it.
  template <typename Body>
  void AnswerOffThread(const Conn& c, uint64_t seq, const RequestHeader& h, Body body);
  // An admin.h API: decodes with `decode`, answers off thread; false when it does not decode.
  template <typename Decode>
  bool HandleAdmin(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r, Decode decode);
  // Reads the partitions of a Fetch into `parts` (into the connection's
  // read buffers); returns the record bytes of the answer.
  int64_t ReadFetch(FetchState& st, std::vector<FetchedPartition>* parts);
  // Encodes and answers them (the connection's thread).
  void WriteFetch(FetchState& st, const std::vector<FetchedPartition>& parts);
  void RetryFetch(const std::shared_ptr<FetchState>& st, bool final);
  void Park(const std::shared_ptr<FetchState>& st);
  // Idempotence check at submit time: kNone to append, else the error; a
  // duplicate sets *duplicate_offset.
  ErrorCode CheckSequence(std::string_view topic, int32_t partition, const ProducedBatches& b,
                          int64_t* duplicate_offset);
  void SequenceDone(std::string_view topic, int32_t partition, const ProducedBatches& b,
                    int64_t base_offset, bool ok);

  ServerOptions options_;
  broker::Broker& broker_;
  embedded::EmbeddedBroker* embedded_;
  std::shared_ptr<http::ServerTls> tls_;  // null: plaintext
  auth::QuotaLimiter own_quotas_;         // when options_.quotas is null
  auth::QuotaLimiter* quotas_ = nullptr;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  size_t next_context_ = 0;
  int port_ = 0;
  std::string advertised_host_;
  bool running_ = false;

  std::atomic<int64_t> produces_in_flight_{0};

  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  bool stop_waiter_ = false;
  std::vector<std::weak_ptr<FetchState>> waiting_;
  std::thread waiter_;

  GroupCoordinator groups_;
  AdminContext admin_;  // set by Start
  // Offset commits wait for the log's fsync: off the I/O threads.
  std::unique_ptr<asio::thread_pool> blocking_;

  std::mutex producers_mu_;
  std::map<std::tuple<int64_t, std::string, int32_t>, ProducerState, std::less<>> producers_;
  std::atomic<int64_t> next_producer_id_;
};

// One client connection: reads frames, hands them to Impl::Handle, and
// writes the responses in request order. Lives on one io_context thread.
// With TLS the bytes go through `tls_` (holding the context it was accepted
// with, so a certificate reload leaves it alone), else straight to the socket.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl* server, tcp::socket socket,
             std::shared_ptr<asio::ssl::context> tls_context)
      : server_(server),
        executor_(socket.get_executor()),
        socket_(std::move(socket)),
        tls_context_(std::move(tls_context)) {
    boost::system::error_code ec;
    const auto peer = socket_.remote_endpoint(ec);
    if (!ec) client_host_ = "/" + peer.address().to_string();
    if (tls_context_) {
      tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket_), *tls_context_);
    }
  }
  // The peer's address as Kafka shows it ("/127.0.0.1").
  const std::string& client_host() const { return client_host_; }

  void Start() {
    if (!tls_) return ReadSize();
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self = shared_from_this()](boost::system::error_code ec) {
                            if (ec) {
                              spdlog::debug("kafka_api: TLS handshake: {}", ec.message());
                              return self->Close();
                            }
                            self->ReadSize();
                          });
  }
  asio::any_io_executor executor() { return executor_; }

  // The response to request `seq`; nullopt when none is sent (acks=0).
  // Must run on this connection's thread.
  void Finish(uint64_t seq, std::optional<std::string> frame) {
    done_.emplace(seq, std::move(frame));
    --in_flight_;
    Flush();
    if (read_paused_ && in_flight_ < kMaxInFlight && !closed_) {
      read_paused_ = false;
      ReadSize();
    }
  }
  // Finish from any thread.
  void FinishFromAnyThread(uint64_t seq, std::optional<std::string> frame) {
    asio::post(executor(), [self = shared_from_this(), seq, f = std::move(frame)]() mutable {
      self->Finish(seq, std::move(f));
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Socket().close(ec);
  }
  // Closes once every answer owed so far has been written (a failed login).
  void CloseAfterAnswers() {
    close_after_answers_ = true;
    Flush();
  }

  // The read buffer of a Fetch's i-th partition (kept for the next Fetch).
  log::ReadBuffer& read_buffer(size_t i) {
    while (read_buffers_.size() <= i) read_buffers_.push_back(std::make_unique<log::ReadBuffer>());
    return *read_buffers_[i];
  }
  // Frees the read buffers beyond the first few (a Fetch of many partitions).
  void TrimReadBuffers() {
    constexpr size_t kKept = 8;
    if (read_buffers_.size() > kKept) read_buffers_.resize(kKept);
  }
  // Writes what the socket takes now of `frame`, the answer to request `seq`
  // being built, when it is the next answer to go out and nothing is being
  // written: the rest follows through Finish. Plain TCP only (TLS records
  // are written by the stream).
  void SendEarly(uint64_t seq, const std::string& frame) {
    if (tls_ || closed_ || writing_ || !ready_.empty() || write_seq_ != seq) return;
    if (early_seq_ != seq) {
      early_seq_ = seq;
      early_sent_ = 0;
    }
    boost::system::error_code ec;
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    if (ec) return;
    const size_t n = socket_.write_some(
        asio::buffer(frame.data() + early_sent_, frame.size() - early_sent_), ec);
    if (!ec) early_sent_ += n;  // would_block: the rest goes later
  }
  // An empty buffer for a large response (Fetch), with the memory of one
  // written before when there is one: no allocation and no page faults per
  // response in the steady state. Must run on this connection's thread.
  std::string TakeBuffer() {
    if (spare_.empty()) return {};
    std::string b = std::move(spare_.back());
    spare_.pop_back();
    b.clear();
    return b;
  }
  // Keeps the memory of `b` for TakeBuffer when it is worth keeping.
  void Recycle(std::string b) {
    constexpr size_t kMin = 64 << 10, kMax = 64 << 20;
    constexpr size_t kSpares = 2;
    if (b.capacity() >= kMin && b.capacity() <= kMax && spare_.size() < kSpares) {
      spare_.push_back(std::move(b));
    }
  }
  SaslSession& sasl() { return sasl_; }
  std::deque<HeldProduce>& held_produces() { return held_produces_; }
  // Who sent the request being handled (set by Impl::Admit).
  const Principal& principal() const { return principal_; }
  void set_principal(Principal p) { principal_ = std::move(p); }

 private:
  tcp::socket& Socket() { return tls_ ? tls_->next_layer() : socket_; }
  template <typename Buffers, typename Handler>
  void Read(const Buffers& buffers, Handler&& handler) {
    if (tls_) return asio::async_read(*tls_, buffers, std::forward<Handler>(handler));
    asio::async_read(socket_, buffers, std::forward<Handler>(handler));
  }
  template <typename Buffers, typename Handler>
  void Write(const Buffers& buffers, Handler&& handler) {
    if (tls_) return asio::async_write(*tls_, buffers, std::forward<Handler>(handler));
    asio::async_write(socket_, buffers, std::forward<Handler>(handler));
  }

  void ReadSize() {
    Read(asio::buffer(size_buf_, 4),
         [self = shared_from_this()](boost::system::error_code ec, size_t) {
           if (ec) return self->Close();
           Reader r(std::string_view(self->size_buf_, 4));
           const int32_t size = r.Int32();
           // A bare SASL token (after a v0 handshake) may be short.
           const int32_t min = self->sasl_.expects_raw_token() ? 0 : 8;
           if (size < min || size > self->server_->max_request_bytes()) {
             spdlog::warn("kafka_api: frame of {} bytes (limit {}): closing", size,
                          self->server_->max_request_bytes());
             return self->Close();
           }
           self->ReadBody(static_cast<size_t>(size));
         });
  }

  void ReadBody(size_t size) {
    body_.resize(size);
    Read(asio::buffer(body_.data(), size),
         [self = shared_from_this()](boost::system::error_code ec, size_t) {
           if (ec) return self->Close();
           self->Dispatch();
         });
  }

  void Dispatch() {
    if (sasl_.expects_raw_token()) {
      const uint64_t seq = next_seq_++;
      ++in_flight_;
      auto answer = sasl_.RawToken(body_);
      if (!answer) {
        Finish(seq, std::nullopt);
        return CloseAfterAnswers();
      }
      Finish(seq, std::move(*answer));
      return ReadSize();
    }
    Reader r(body_);
    RequestHeader h;
    h.api_key = r.Int16();
    h.api_version = r.Int16();
    h.correlation_id = r.Int32();
    h.client_id = std::string(r.NullableString(false).value_or("client"));
    const auto [min, max] = SupportedVersions(h.api_key);
    if (min < 0) {
      spdlog::debug("kafka_api: unknown API key {}: closing", h.api_key);
      return Close();
    }
    h.flexible = IsFlexible(h.api_key, h.api_version);
    if (h.flexible) r.SkipTaggedFields();
    if (!r.ok()) return Close();
    if (!server_->Admit(*this, h)) return Close();
    const uint64_t seq = next_seq_++;
    ++in_flight_;
    if (!server_->Handle(shared_from_this(), seq, h, r)) {
      spdlog::debug("kafka_api: malformed request (API {} v{}): closing", h.api_key, h.api_version);
      return Close();
    }
    if (closed_ || close_after_answers_) return;
    if (in_flight_ >= kMaxInFlight) {
      read_paused_ = true;
      return;
    }
    ReadSize();
  }

  // Writes the answers ready in request order, each frame from its own
  // buffer (one writev for all of them, no copy into a common buffer).
  void Flush() {
    while (true) {
      auto it = done_.find(write_seq_);
      if (it == done_.end()) break;
      size_t sent = 0;
      if (write_seq_ == early_seq_) {
        sent = early_sent_;
        early_seq_ = UINT64_MAX;
      }
      if (it->second && it->second->size() > sent) {
        ready_.push_back({std::move(*it->second), sent});
      }
      done_.erase(it);
      ++write_seq_;
    }
    if (writing_ || closed_) return;
    if (ready_.empty()) {
      if (close_after_answers_ && done_.empty() && in_flight_ == 0) Close();
      return;
    }
    writing_ = true;
    std::swap(ready_, out_);
    out_buffers_.clear();
    for (const Pending& f : out_) {
      out_buffers_.push_back(asio::buffer(f.bytes.data() + f.from, f.bytes.size() - f.from));
    }
    Write(out_buffers_, [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->writing_ = false;
      for (Pending& f : self->out_) self->Recycle(std::move(f.bytes));
      self->out_.clear();
      if (ec) return self->Close();
      self->Flush();
    });
  }

  Server::Impl* server_;
  asio::any_io_executor executor_;
  tcp::socket socket_;
  std::string client_host_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  char size_buf_[4];
  std::string body_;
  uint64_t next_seq_ = 0;
  uint64_t write_seq_ = 0;
  int in_flight_ = 0;
  bool read_paused_ = false;
  bool closed_ = false;
  bool close_after_answers_ = false;
  std::map<uint64_t, std::optional<std::string>> done_;
  struct Pending {
    std::string bytes;
    size_t from = 0;  // bytes SendEarly wrote already
  };
  std::vector<Pending> ready_;  // frames ready, not yet handed to the socket
  std::vector<Pending> out_;    // being written
  std::vector<asio::const_buffer> out_buffers_;
  bool writing_ = false;
  std::vector<std::string> spare_;  // written frames' memory, for the next large ones
  std::vector<std::unique_ptr<log::ReadBuffer>> read_buffers_;
  uint64_t early_seq_ = UINT64_MAX;  // the answer SendEarly started, and its bytes sent
  size_t early_sent_ = 0;
  SaslSession sasl_;
  Principal principal_;
  std::deque<HeldProduce> held_produces_;
};

Status Server::Impl::Start() {
  PINPIPE_ASSIGN_OR_RETURN(auto hp, http::SplitHostPort(options_.listen));
  if (options_.io_threads < 1) return InvalidArgumentError("kafka_api: io_threads must be >= 1");
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    auto tls = http::ServerTls::Open(options_.tls_cert_file, options_.tls_key_file);
    if (!tls.ok()) return tls.status().WithContext("kafka_api");
    tls_ = *tls;
  }
  quotas_ = options_.quotas ? options_.quotas : &own_quotas_;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(hp.first.empty() ? "0.0.0.0" : hp.first, ec);
  if (ec) return InvalidArgumentError("kafka_api.listen: bad address '" + options_.listen + "'");
  for (int i = 0; i < options_.io_threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
  acceptor_ = std::make_unique<tcp::acceptor>(*contexts_[0]);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(hp.second));
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.reset();
    guards_.clear();
    contexts_.clear();
    return UnavailableError("kafka_api: cannot listen on " + options_.listen + ": " + ec.message());
  }
  port_ = acceptor_->local_endpoint().port();
  if (!options_.advertised.empty()) {
    auto adv = http::SplitHostPort(options_.advertised);
    if (!adv.ok()) return adv.status().WithContext("kafka_api.advertised");
    advertised_host_ = adv->first;
    if (adv->second != 0) port_ = adv->second;
  } else {
    advertised_host_ = hp.first.empty() || hp.first == "0.0.0.0" ? "127.0.0.1" : hp.first;
  }
  admin_.broker = &broker_;
  admin_.log = embedded_ ? &embedded_->log() : nullptr;
  admin_.groups = &groups_;
  admin_.options = &options_;
  admin_.host = advertised_host_;
  admin_.port = port_;
  Accept();
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] { c->run(); });
  }
  blocking_ = std::make_unique<asio::thread_pool>(2);
  waiter_ = std::thread([this] { WaitLoop(); });
  running_ = true;
  return Status::Ok();
}

void Server::Impl::Stop() {
  if (!running_) return;
  running_ = false;
  asio::post(*contexts_[0], [this] {
    boost::system::error_code ec;
    acceptor_->close(ec);
  });
  // Produce callbacks post to the I/O contexts: let them land first.
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (produces_in_flight_.load() > 0 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  {
    std::lock_guard lock(wait_mu_);
    stop_waiter_ = true;
  }
  wait_cv_.notify_all();
  if (waiter_.joinable()) waiter_.join();
  blocking_->join();  // commits in flight finish and post their answers
  for (auto& ctx : contexts_) ctx->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  acceptor_.reset();
  guards_.clear();
  waiting_.clear();
  contexts_.clear();  // destroys the connections still open
}

void Server::Impl::Accept() {
  asio::io_context& ctx = *contexts_[next_context_];
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor_->async_accept(ctx, [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
      spdlog::warn("kafka_api: accept: {}", ec.message());
    } else {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Connection>(this, std::move(socket), tls_ ? tls_->Current() : nullptr)
          ->Start();
    }
    Accept();
  });
}

// Wakes parked fetches when the log changes: the embedded log's notifier
// when there is one, else every 10 ms.
void Server::Impl::WaitLoop() {
  log::DataNotifier* notifier = embedded_ ? &embedded_->log().notifier() : nullptr;
  uint64_t seen = notifier ? notifier->sequence() : 0;
  auto next_tick = Clock::now();
  while (true) {
    if (Clock::now() >= next_tick) {
      groups_.Tick();  // session timeouts and overdue rebalances
      next_tick = Clock::now() + std::chrono::milliseconds(100);
    }
    {
      std::unique_lock lock(wait_mu_);
      if (stop_waiter_) return;
      if (waiting_.empty()) {
        wait_cv_.wait_for(lock, std::chrono::milliseconds(100));
        if (stop_waiter_) return;
        if (waiting_.empty()) continue;
      }
    }
    bool changed;
    if (notifier) {
      changed = notifier->WaitChange(seen, Clock::now() + std::chrono::milliseconds(50));
      seen = notifier->sequence();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      changed = true;
    }
    std::vector<std::weak_ptr<FetchState>> wake;
    {
      std::lock_guard lock(wait_mu_);
      if (changed) {
        wake.swap(waiting_);
      } else {
        std::erase_if(waiting_, [](const auto& w) { return w.expired(); });
      }
    }
    for (auto& w : wake) {
      if (auto st = w.lock()) {
        asio::post(st->conn->executor(), [this, st] { RetryFetch(st, false); });
      }
    }
  }
}

template <typename Decode>
bool Server::Impl::HandleAdmin(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r,
                               Decode decode) {
  AdminContext ctx = admin_;
  ctx.principal = c->principal();  // the scope of this request's tenant
  std::optional<BodyWriter> body = decode(ctx, h.api_version, h.flexible, r);
  if (!body) return false;
  AnswerOffThread(c, seq, h, std::move(*body));
  return true;
}

bool Server::Impl::Handle(const std::shared_ptr<Connection>& c, uint64_t seq,
                          const RequestHeader& h, Reader& r) {
  const auto [min, max] = SupportedVersions(h.api_key);
  if (h.api_version < min || h.api_version > max) {
    if (h.api_key == kApiVersions) {
      // Kafka answers an ApiVersions it does not know with a v0 response
      // carrying UNSUPPORTED_VERSION and its versions, so the client can
      // retry with one both speak.
      RequestHeader v0 = h;
      v0.api_version = 0;
      v0.flexible = false;
      std::string frame = StartFrame(v0);
      Writer w(&frame);
      w.Int16(kUnsupportedVersion);
      w.ArrayLength(static_cast<int32_t>(std::size(kServed)), false);
      for (const Served& s : kServed) {
        w.Int16(s.key);
        w.Int16(s.min);
        w.Int16(s.max);
      }
      EndFrame(&frame);
      c->Finish(seq, std::move(frame));
      return true;
    }
    spdlog::debug("kafka_api: API {} v{} not served: closing", h.api_key, h.api_version);
    return false;
  }
  switch (h.api_key) {
    case kApiVersions:
      return HandleApiVersions(c, seq, h, r);
    case kMetadata:
      return HandleMetadata(c, seq, h, r);
    case kProduce:
      return HandleProduce(c, seq, h, r);
    case kFetch:
      return HandleFetch(c, seq, h, r);
    case kListOffsets:
      return HandleListOffsets(c, seq, h, r);
    case kInitProducerId:
      return HandleInitProducerId(c, seq, h, r);
    case kFindCoordinator:
      return HandleFindCoordinator(c, seq, h, r);
    case kJoinGroup:
      return HandleJoinGroup(c, seq, h, r);
    case kSyncGroup:
      return HandleSyncGroup(c, seq, h, r);
    case kHeartbeat:
      return HandleHeartbeat(c, seq, h, r);
    case kLeaveGroup:
      return HandleLeaveGroup(c, seq, h, r);
    case kOffsetCommit:
      return HandleOffsetCommit(c, seq, h, r);
    case kOffsetFetch:
      return HandleOffsetFetch(c, seq, h, r);
    case kListGroups:
      return HandleAdmin(c, seq, h, r, ListGroups);
    case kCreateTopics:
      return HandleCreateTopics(c, seq, h, r);
    case kDeleteTopics:
      return HandleDeleteTopics(c, seq, h, r);
    case kDescribeGroups:
      return HandleAdmin(c, seq, h, r, DescribeGroups);
    case kDescribeConfigs:
      return HandleAdmin(c, seq, h, r, DescribeConfigs);
    case kAlterConfigs:
      return HandleAdmin(c, seq, h, r, AlterConfigs);
    case kIncrementalAlterConfigs:
      return HandleAdmin(c, seq, h, r, IncrementalAlterConfigs);
    case kCreatePartitions:
      return HandleAdmin(c, seq, h, r, CreatePartitions);
    case kDescribeCluster:
      return HandleAdmin(c, seq, h, r, DescribeCluster);
    case kSaslHandshake:
    case kSaslAuthenticate:
      return HandleSasl(c, seq, h, r);
    default:
      return false;
  }
}

bool Server::Impl::Admit(Connection& c, const RequestHeader& h) {
  std::shared_ptr<const auth::TenantSet> current =
      options_.tenants ? options_.tenants->Current() : nullptr;
  if (!current || current->empty()) {
    c.set_principal(Principal{});  // tenants off: everything, as without tenants
    return true;
  }
  if (h.api_key == kApiVersions || h.api_key == kSaslHandshake || h.api_key == kSaslAuthenticate) {
    return true;
  }
  auto p = c.sasl().PrincipalIn(std::move(current));
  if (!p) {
    spdlog::info("kafka_api: {} request (API {}) from client '{}': closing",
                 c.sasl().authenticated() ? "no longer authorized" : "unauthenticated", h.api_key,
                 h.client_id);
    return false;
  }
  c.set_principal(std::move(*p));
  return true;
}

bool Server::Impl::HandleSasl(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r) {
  std::string frame = StartFrame(h);
  Writer w(&frame);
  const bool ok =
      h.api_key == kSaslHandshake
          ? c->sasl().Handshake(h.api_version,
                                options_.tenants ? options_.tenants->Current() : nullptr, r, w)
          : c->sasl().Authenticate(h.api_version, h.flexible, r, w);
  if (!ok) return false;
  if (h.flexible) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  if (c->sasl().failed()) c->CloseAfterAnswers();
  return true;
}

void Server::Impl::WithinQuota(const Conn& c, const Principal& p, int64_t records, int64_t bytes,
                               std::shared_ptr<int32_t> held_ms, std::function<void()> submit) {
  auto& queue = c->held_produces();
  queue.push_back({p, records, bytes, std::move(held_ms), std::move(submit)});
  if (queue.size() == 1) DrainHeld(c);
}

void Server::Impl::DrainHeld(const Conn& c) {
  auto& queue = c->held_produces();
  while (!queue.empty()) {
    HeldProduce& front = queue.front();
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count();
    const int64_t wait = quotas_->Admit(*front.principal.tenant, front.records, front.bytes, now);
    if (wait > 0) {
      *front.held_ms += static_cast<int32_t>(std::min<int64_t>(wait, 1 << 30));
      auto timer =
          std::make_shared<asio::steady_timer>(c->executor(), std::chrono::milliseconds(wait));
      timer->async_wait([this, c, timer](boost::system::error_code ec) {
        if (!ec) DrainHeld(c);
      });
      return;
    }
    auto submit = std::move(front.submit);
    queue.pop_front();
    submit();
  }
}

bool Server::Impl::HandleApiVersions(const std::shared_ptr<Connection>& c, uint64_t seq,
                                     const RequestHeader& h, Reader& r) {
  const bool flex = h.flexible;
  if (h.api_version >= 3) {
    (void)r.String(true);  // client software name
    (void)r.String(true);  // and version
    r.SkipTaggedFields();
  }
  if (!r.ok()) return false;
  std::string frame = StartFrame(h);
  Writer w(&frame);
  w.Int16(kNone);
  w.ArrayLength(static_cast<int32_t>(std::size(kServed)), flex);
  for (const Served& s : kServed) {
    w.Int16(s.key);
    w.Int16(s.min);
    w.Int16(s.max);
    if (flex) w.EmptyTaggedFields();
  }
  if (h.api_version >= 1) w.Int32(0);  // throttle
  if (flex) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

bool Server::Impl::HandleMetadata(const std::shared_ptr<Connection>& c, uint64_t seq,
                                  const RequestHeader& h, Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  const int32_t n = r.ArrayLength(flex);
  std::optional<std::vector<std::string>> requested;
  if (n >= 0 && !(v == 0 && n == 0)) {
    requested.emplace();
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      if (v >= 10) (void)r.Uuid();
      auto name = v >= 10 ? r.NullableString(flex) : std::optional(r.String(flex));
      if (name) requested->emplace_back(*name);
      if (flex) r.SkipTaggedFields();
    }
  }
  bool allow_auto = true;
  if (v >= 4) allow_auto = r.Bool();
  if (v >= 8 && v <= 10) (void)r.Bool();
  if (v >= 8) (void)r.Bool();
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;

  std::vector<std::string> names;
  if (requested) {
    names = std::move(*requested);
  } else if (auto all = broker_.ListTopics(); all.ok()) {
    names = std::move(*all);
    std::erase_if(names, [&](const std::string& n) { return !c->principal().MayTopic(n); });
  }
  std::string frame = StartFrame(h);
  Writer w(&frame);
  if (v >= 3) w.Int32(0);
  w.ArrayLength(1, flex);  // brokers: this process is node 0
  w.Int32(0);
  w.String(advertised_host_, flex);
  w.Int32(port_);
  if (v >= 1) w.NullableString(std::nullopt, flex);  // rack
  if (flex) w.EmptyTaggedFields();
  if (v >= 2) w.NullableString(options_.cluster_id, flex);
  if (v >= 1) w.Int32(0);  // controller
  w.ArrayLength(static_cast<int32_t>(names.size()), flex);
  for (const std::string& name : names) {
    ErrorCode error = kNone;
    Result<broker::TopicDescription> desc = NotFoundError("");
    if (!ValidTopicName(name)) {
      error = kInvalidTopicException;
    } else if (!c->principal().MayTopic(name)) {
      error = kTopicAuthorizationFailed;  // neither described nor created
    } else {
      desc = broker_.DescribeTopic(name);
      if (!desc.ok() && desc.status().code() == StatusCode::kNotFound && allow_auto &&
          options_.auto_create_topics && requested) {
        broker::TopicConfig tc;
        tc.partitions = options_.default_partitions;
        Status cs = broker_.CreateTopic(name, tc);
        if (cs.ok() || cs.code() == StatusCode::kAlreadyExists) desc = broker_.DescribeTopic(name);
      }
      if (!desc.ok()) error = ToErrorCode(desc.status());
    }
    w.Int16(error);
    w.String(name, flex);
    if (v >= 10) w.Uuid(error == kNone ? TopicId(name) : std::string(16, '\0'));
    if (v >= 1) w.Bool(false);
    const int32_t parts = desc.ok() ? static_cast<int32_t>(desc->partitions.size()) : 0;
    w.ArrayLength(parts, flex);
    for (int32_t p = 0; p < parts; ++p) {
      w.Int16(kNone);
      w.Int32(desc->partitions[static_cast<size_t>(p)].partition);
      w.Int32(0);              // leader
      if (v >= 7) w.Int32(0);  // leader epoch
      w.ArrayLength(1, flex);
      w.Int32(0);  // replicas
      w.ArrayLength(1, flex);
      w.Int32(0);  // isr
      if (v >= 5) w.ArrayLength(0, flex);
      if (flex) w.EmptyTaggedFields();
    }
    if (v >= 8) w.Int32(INT32_MIN);
    if (flex) w.EmptyTaggedFields();
  }
  if (v >= 8 && v <= 10) w.Int32(INT32_MIN);
  if (flex) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

ErrorCode Server::Impl::CheckSequence(std::string_view topic, int32_t partition,
                                      const ProducedBatches& b, int64_t* duplicate_offset) {
  if (b.producer_id < 0) return kNone;
  std::lock_guard lock(producers_mu_);
  auto key = std::make_tuple(b.producer_id, std::string(topic), partition);
  auto it = producers_.find(key);
  const int32_t last = b.base_sequence + b.record_count - 1;
  if (it == producers_.end()) {
    // Unknown here (a new producer, or state lost with a restart): start
    // from what it sends, as Kafka does for a producer without state.
    ProducerState st;
    st.epoch = b.producer_epoch;
    st.next_sequence = last + 1;
    st.recent.push_back({b.base_sequence, last, -1});
    producers_.emplace(std::move(key), std::move(st));
    return kNone;
  }
  ProducerState& st = it->second;
  if (b.producer_epoch < st.epoch) return kInvalidProducerEpoch;
  if (b.producer_epoch > st.epoch) {
    if (b.base_sequence != 0) return kOutOfOrderSequenceNumber;
    st = ProducerState{};
    st.epoch = b.producer_epoch;
  } else {
    for (const auto& batch : st.recent) {
      if (batch.first == b.base_sequence && batch.last == last) {
        *duplicate_offset = batch.base_offset;
        return kNone;
      }
    }
    if (b.base_sequence != st.next_sequence) return kOutOfOrderSequenceNumber;
  }
  st.next_sequence = last + 1;
  st.recent.push_back({b.base_sequence, last, -1});
  if (st.recent.size() > 5) st.recent.pop_front();
  return kNone;
}

void Server::Impl::SequenceDone(std::string_view topic, int32_t partition, const ProducedBatches& b,
                                int64_t base_offset, bool ok) {
  if (b.producer_id < 0) return;
  std::lock_guard lock(producers_mu_);
  auto it = producers_.find(std::make_tuple(b.producer_id, std::string(topic), partition));
  if (it == producers_.end()) return;
  ProducerState& st = it->second;
  for (auto& batch : st.recent) {
    if (batch.first == b.base_sequence) {
      if (ok) batch.base_offset = base_offset;
    }
  }
  if (!ok && !st.recent.empty() && st.recent.back().first == b.base_sequence) {
    // Not stored: the retry of this batch must be accepted again.
    st.recent.pop_back();
    st.next_sequence = b.base_sequence;
  }
}

bool Server::Impl::HandleProduce(const std::shared_ptr<Connection>& c, uint64_t seq,
                                 const RequestHeader& h, Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  if (v >= 3) (void)r.NullableString(flex);  // transactional id (transactions are not served)
  const int16_t acks = r.Int16();
  (void)r.Int32();  // timeout
  struct Part {
    int32_t index;
    ErrorCode error = kNone;
    int64_t base_offset = -1;
    int64_t log_start = -1;
    std::vector<broker::Record> records;
    ProducedBatches batches;
    bool submit = false;
  };
  struct Topic {
    std::string name;
    std::vector<Part> parts;
  };
  struct State {
    std::vector<Topic> topics;
    std::atomic<int> pending{1};
    RequestHeader header;
    bool acks0 = false;
    std::shared_ptr<int32_t> held_ms = std::make_shared<int32_t>(0);  // by the quota
  };
  auto st = std::make_shared<State>();
  st->header = h;
  st->acks0 = acks == 0;
  std::vector<std::string> scratch;
  const int32_t nt = r.ArrayLength(flex);
  for (int32_t i = 0; i < nt && r.ok(); ++i) {
    Topic& t = st->topics.emplace_back();
    t.name = std::string(r.String(flex));
    const int32_t np = r.ArrayLength(flex);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      Part& p = t.parts.emplace_back();
      p.index = r.Int32();
      auto bytes = r.NullableBytes(flex);
      if (flex) r.SkipTaggedFields();
      if (!r.ok()) break;
      if (acks != 0 && acks != 1 && acks != -1) {
        p.error = kInvalidRequiredAcks;
      } else if (!ValidTopicName(t.name)) {
        p.error = kInvalidTopicException;
      } else if (!c->principal().MayTopic(t.name)) {
        p.error = kTopicAuthorizationFailed;
      } else if (bytes) {
        p.error = DecodeBatches(*bytes, p.index, &p.records, &p.batches, &scratch);
      }
      p.submit = p.error == kNone && !p.records.empty();
    }
    if (flex) r.SkipTaggedFields();
  }
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;  // nothing was submitted: a malformed request stores nothing

  auto respond = [this, c, seq, st, v, flex]() {
    if (st->acks0) return c->FinishFromAnyThread(seq, std::nullopt);
    std::string frame = StartFrame(st->header);
    Writer w(&frame);
    w.ArrayLength(static_cast<int32_t>(st->topics.size()), flex);
    for (const Topic& t : st->topics) {
      w.String(t.name, flex);
      w.ArrayLength(static_cast<int32_t>(t.parts.size()), flex);
      for (const Part& p : t.parts) {
        w.Int32(p.index);
        w.Int16(p.error);
        w.Int64(p.base_offset);
        if (v >= 2) w.Int64(-1);  // log append time: CreateTime topics
        if (v >= 5) w.Int64(p.log_start);
        if (v >= 8) {
          w.ArrayLength(0, flex);
          w.NullableString(std::nullopt, flex);
        }
        if (flex) w.EmptyTaggedFields();
      }
      if (flex) w.EmptyTaggedFields();
    }
    if (v >= 1) w.Int32(*st->held_ms);  // throttle_time_ms: how long the quota held it
    if (flex) w.EmptyTaggedFields();
    EndFrame(&frame);
    c->FinishFromAnyThread(seq, std::move(frame));
  };
  int64_t quota_records = 0, quota_bytes = 0;
  for (const Topic& t : st->topics) {
    for (const Part& p : t.parts) {
      if (!p.submit) continue;
      quota_records += static_cast<int64_t>(p.records.size());
      for (const auto& rec : p.records) {
        quota_bytes += static_cast<int64_t>((rec.value ? rec.value->size() : 0) +
                                            (rec.key ? rec.key->size() : 0));
      }
    }
  }
  auto submit = [this, st, respond]() {
    for (Topic& t : st->topics) {
      for (Part& p : t.parts) {
        if (!p.submit) continue;
        int64_t duplicate = -2;
        p.error = CheckSequence(t.name, p.index, p.batches, &duplicate);
        if (p.error != kNone) continue;
        if (duplicate != -2) {
          p.base_offset = duplicate;  // a retry of a stored batch: stored once
          continue;
        }
        st->pending.fetch_add(1);
        produces_in_flight_.fetch_add(1);
        broker_.ProduceAsync(
            t.name, p.records,
            [this, st, &t, &p, respond](Result<std::vector<broker::ProduceAck>> acks) {
              bool ok = acks.ok();
              if (!acks.ok()) {
                p.error = ToErrorCode(acks.status());
              } else if (!acks->empty()) {
                for (const auto& a : *acks) {
                  if (!a.error.ok()) {
                    p.error = ToErrorCode(a.error);
                    ok = false;
                    break;
                  }
                }
                if (ok) p.base_offset = acks->front().offset;
              }
              SequenceDone(t.name, p.index, p.batches, p.base_offset, ok);
              p.records.clear();
              if (st->pending.fetch_sub(1) == 1) respond();
              produces_in_flight_.fetch_sub(1);
            });
      }
    }
    if (st->pending.fetch_sub(1) == 1) respond();
  };
  if (quota_records > 0 && !c->principal().SeesAll()) {
    WithinQuota(c, c->principal(), quota_records, quota_bytes, st->held_ms, std::move(submit));
  } else {
    submit();
  }
  return true;
}

// One partition of a Fetch answer, read before anything is written.
struct FetchedPartition {
  ErrorCode error = kNone;
  int64_t hw = -1;
  int64_t log_start = -1;
  const std::vector<log::LogRecordRef>* refs = nullptr;  // the embedded log's
  std::vector<broker::StoredRecord> stored;              // another broker's
  size_t size = 0;                                       // of the encoded batch
};

int64_t Server::Impl::ReadFetch(FetchState& st, std::vector<FetchedPartition>* parts) {
  const int64_t budget = st.max_bytes > 0 ? st.max_bytes : 0x7fffffff;
  int64_t total = 0;
  size_t n = 0;
  for (const FetchTopic& t : st.topics) n += t.partitions.size();
  parts->clear();
  parts->resize(n);
  size_t i = 0;
  for (const FetchTopic& t : st.topics) {
    std::shared_ptr<log::Topic> log_topic;
    if (embedded_ && !t.denied) {
      auto lt = embedded_->log().GetTopic(t.name);
      if (lt.ok()) log_topic = *lt;
    }
    for (const FetchPartition& p : t.partitions) {
      FetchedPartition& out = (*parts)[i];
      broker::FetchOptions fo;
      fo.max_records = 1 << 20;
      fo.max_bytes = std::max<int64_t>(1, std::min<int64_t>(p.max_bytes, budget - total));
      // Kafka returns at least one batch of the first partition with data,
      // even over the limits, so a consumer always progresses.
      if (total > 0 && budget - total <= 0) fo.max_bytes = 0;
      if (t.denied) {
        out.error = kTopicAuthorizationFailed;
      } else if (embedded_) {
        if (!log_topic || p.partition < 0 || p.partition >= log_topic->partition_count()) {
          out.error = kUnknownTopicOrPartition;
        } else {
          log::Partition* lp = log_topic->partition(p.partition);
          out.hw = lp->high_watermark();
          out.log_start = lp->log_start_offset();
          if (p.offset < out.log_start || p.offset > out.hw) {
            out.error = kOffsetOutOfRange;
          } else if (p.offset < out.hw && fo.max_bytes > 0) {
            log::ReadBuffer& rb = st.conn->read_buffer(i);
            Status s =
                lp->ReadInto(p.offset, static_cast<size_t>(fo.max_records), fo.max_bytes, &rb);
            if (!s.ok()) {
              out.error = ToErrorCode(s);
            } else {
              out.refs = &rb.records();
              out.size = EncodedBatchSize(rb.records());
            }
          }
        }
      } else if (fo.max_bytes > 0) {
        auto res = broker_.Fetch(t.name, p.partition, p.offset, fo);
        if (!res.ok()) {
          out.error = ToErrorCode(res.status());
        } else {
          out.hw = res->high_watermark;
          out.log_start = res->log_start_offset;
          out.stored = std::move(res->records);
          out.size = EncodedBatchSize(out.stored);
        }
      }
      total += static_cast<int64_t>(out.size);
      ++i;
    }
  }
  return total;
}

void Server::Impl::WriteFetch(FetchState& st, const std::vector<FetchedPartition>& parts) {
  const RequestHeader& h = st.header;
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  // First everything but the records, noting where each partition's go:
  // then the frame's length is known before its first byte is sent.
  std::string skeleton;
  std::vector<size_t> holes;
  holes.reserve(parts.size());
  StartFrameIn(h, &skeleton);
  Writer w(&skeleton);
  if (v >= 1) w.Int32(0);  // throttle
  if (v >= 7) {
    w.Int16(kNone);
    w.Int32(0);  // session id: no fetch sessions, clients send full requests
  }
  size_t records = 0;
  size_t i = 0;
  w.ArrayLength(static_cast<int32_t>(st.topics.size()), flex);
  for (const FetchTopic& t : st.topics) {
    w.String(t.name, flex);
    w.ArrayLength(static_cast<int32_t>(t.partitions.size()), flex);
    for (const FetchPartition& p : t.partitions) {
      const FetchedPartition& f = parts[i++];
      w.Int32(p.partition);
      w.Int16(f.error);
      w.Int64(f.hw);
      if (v >= 4) w.Int64(f.hw);  // last stable offset: no transactions
      if (v >= 5) w.Int64(f.log_start);
      if (v >= 4) w.ArrayLength(0, flex);  // aborted transactions
      if (v >= 11) w.Int32(-1);
      // Records: non-null bytes, possibly empty.
      if (flex) {
        w.UnsignedVarint(static_cast<uint32_t>(f.size + 1));
      } else {
        w.Int32(static_cast<int32_t>(f.size));
      }
      holes.push_back(skeleton.size());
      records += f.size;
      if (flex) w.EmptyTaggedFields();
    }
    if (flex) w.EmptyTaggedFields();
  }
  if (flex) w.EmptyTaggedFields();
  w.PatchInt32(0, static_cast<int32_t>(skeleton.size() + records - 4));
  // Then the frame, partition by partition, each handed to the socket as
  // soon as it is encoded when this answer is next in line: the client
  // reads the first partitions while the others are encoded.
  std::string frame = st.conn->TakeBuffer();
  frame.reserve(skeleton.size() + records);
  size_t from = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    frame.append(skeleton, from, holes[k] - from);
    from = holes[k];
    if (parts[k].refs) {
      EncodeBatch(*parts[k].refs, &frame);
    } else {
      EncodeBatch(parts[k].stored, &frame);
    }
    if (parts[k].size > 0) st.conn->SendEarly(st.seq, frame);
  }
  frame.append(skeleton, from, std::string::npos);
  st.conn->TrimReadBuffers();
  st.conn->Finish(st.seq, std::move(frame));
}

void Server::Impl::Park(const std::shared_ptr<FetchState>& st) {
  {
    std::lock_guard lock(wait_mu_);
    waiting_.push_back(st);
  }
  wait_cv_.notify_all();
}

void Server::Impl::RetryFetch(const std::shared_ptr<FetchState>& st, bool final) {
  if (st->done) return;
  std::vector<FetchedPartition> parts;
  const int64_t bytes = ReadFetch(*st, &parts);
  if (!final && bytes < st->min_bytes && Clock::now() < st->deadline) {
    Park(st);  // nothing encoded for an answer not sent
    return;
  }
  st->done = true;
  st->timer->cancel();
  WriteFetch(*st, parts);
}

bool Server::Impl::HandleFetch(const std::shared_ptr<Connection>& c, uint64_t seq,
                               const RequestHeader& h, Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  auto st = std::make_shared<FetchState>();
  st->conn = c;
  st->seq = seq;
  st->header = h;
  (void)r.Int32();  // replica id
  const int32_t max_wait = r.Int32();
  st->min_bytes = r.Int32();
  if (v >= 3) st->max_bytes = r.Int32();
  if (v >= 4) (void)r.Int8();  // isolation level
  if (v >= 7) {
    (void)r.Int32();  // session id
    (void)r.Int32();  // session epoch
  }
  const int32_t nt = r.ArrayLength(flex);
  for (int32_t i = 0; i < nt && r.ok(); ++i) {
    FetchTopic& t = st->topics.emplace_back();
    t.name = std::string(r.String(flex));
    t.denied = !c->principal().MayTopic(t.name);
    const int32_t np = r.ArrayLength(flex);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      FetchPartition& p = t.partitions.emplace_back();
      p.partition = r.Int32();
      if (v >= 9) (void)r.Int32();  // current leader epoch
      p.offset = r.Int64();
      if (v >= 12) (void)r.Int32();  // last fetched epoch
      if (v >= 5) (void)r.Int64();   // log start offset
      p.max_bytes = r.Int32();
      if (flex) r.SkipTaggedFields();
    }
    if (flex) r.SkipTaggedFields();
  }
  if (v >= 7) {
    const int32_t nf = r.ArrayLength(flex);
    for (int32_t i = 0; i < nf && r.ok(); ++i) {
      (void)r.String(flex);
      const int32_t np = r.ArrayLength(flex, 4);
      (void)r.Raw(static_cast<size_t>(std::max(np, 0)) * 4);
      if (flex) r.SkipTaggedFields();
    }
  }
  if (v >= 11) (void)r.String(flex);  // rack id
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  st->deadline = Clock::now() + std::chrono::milliseconds(std::max(0, max_wait));
  st->timer = std::make_unique<asio::steady_timer>(c->executor());
  st->timer->expires_at(st->deadline);
  st->timer->async_wait([this, st](boost::system::error_code ec) {
    if (!ec) RetryFetch(st, true);
  });
  RetryFetch(st, max_wait <= 0);
  return true;
}

bool Server::Impl::HandleListOffsets(const std::shared_ptr<Connection>& c, uint64_t seq,
                                     const RequestHeader& h, Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  (void)r.Int32();  // replica id
  if (v >= 2) (void)r.Int8();
  std::string frame = StartFrame(h);
  Writer w(&frame);
  if (v >= 2) w.Int32(0);
  const int32_t nt = r.ArrayLength(flex);
  w.ArrayLength(std::max(nt, 0), flex);
  for (int32_t i = 0; i < nt && r.ok(); ++i) {
    const std::string name(r.String(flex));
    w.String(name, flex);
    const bool denied = !c->principal().MayTopic(name);
    auto desc = denied ? Result<broker::TopicDescription>(NotFoundError(name))
                       : broker_.DescribeTopic(name);
    const int32_t np = r.ArrayLength(flex);
    w.ArrayLength(std::max(np, 0), flex);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      const int32_t partition = r.Int32();
      if (v >= 4) (void)r.Int32();
      const int64_t ts = r.Int64();
      if (v == 0) (void)r.Int32();  // max number of offsets
      if (flex) r.SkipTaggedFields();
      ErrorCode error = kNone;
      int64_t offset = -1;
      if (denied) {
        error = kTopicAuthorizationFailed;
      } else if (!desc.ok()) {
        error = ToErrorCode(desc.status());
      } else if (partition < 0 || partition >= static_cast<int32_t>(desc->partitions.size())) {
        error = kUnknownTopicOrPartition;
      } else {
        const auto& info = desc->partitions[static_cast<size_t>(partition)];
        if (ts == -2) {
          offset = info.log_start_offset;
        } else if (ts < 0) {
          offset = info.high_watermark;  // -1 latest (and -3 max timestamp: its end)
        } else {
          auto o = broker_.OffsetForTimestamp(name, partition, ts);
          if (o.ok()) {
            offset = *o;
          } else {
            error = ToErrorCode(o.status());
          }
        }
      }
      w.Int32(partition);
      w.Int16(error);
      if (v == 0) {
        w.ArrayLength(offset >= 0 ? 1 : 0, false);
        if (offset >= 0) w.Int64(offset);
      } else {
        w.Int64(-1);  // timestamp of the offset found: not tracked
        w.Int64(offset);
      }
      if (v >= 4) w.Int32(0);
      if (flex) w.EmptyTaggedFields();
    }
    if (flex) r.SkipTaggedFields();
    if (flex) w.EmptyTaggedFields();
  }
  if (flex) r.SkipTaggedFields();
  if (flex) w.EmptyTaggedFields();
  if (!r.ok()) return false;
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

bool Server::Impl::HandleInitProducerId(const std::shared_ptr<Connection>& c, uint64_t seq,
                                        const RequestHeader& h, Reader& r) {
  const bool flex = h.flexible;
  auto txn = r.NullableString(flex);
  (void)r.Int32();  // transaction timeout
  int64_t pid = -1;
  int16_t epoch = -1;
  if (h.api_version >= 3) {
    pid = r.Int64();
    epoch = r.Int16();
  }
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  std::string frame = StartFrame(h);
  Writer w(&frame);
  w.Int32(0);
  if (txn) {
    w.Int16(kInvalidRequest);  // transactions are not served
    w.Int64(-1);
    w.Int16(-1);
  } else {
    w.Int16(kNone);
    if (pid >= 0 && epoch >= 0 && epoch < 32767) {
      w.Int64(pid);  // an epoch bump of a known producer
      w.Int16(static_cast<int16_t>(epoch + 1));
    } else {
      w.Int64(next_producer_id_.fetch_add(1));
      w.Int16(0);
    }
  }
  if (flex) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

bool Server::Impl::HandleFindCoordinator(const Conn& c, uint64_t seq, const RequestHeader& h,
                                         Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  std::vector<std::string> keys;
  if (v <= 3) keys.emplace_back(r.String(flex));
  const int8_t key_type = v >= 1 ? r.Int8() : 0;  // group or transaction: one coordinator
  if (v >= 4) {
    const int32_t n = r.ArrayLength(flex);
    for (int32_t i = 0; i < n && r.ok(); ++i) keys.emplace_back(r.String(flex));
  }
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  std::string frame = StartFrame(h);
  Writer w(&frame);
  if (v >= 1) w.Int32(0);
  auto error_for = [&](const std::string& key) {
    return key_type == 0 && !c->principal().MayGroup(key) ? int16_t{kGroupAuthorizationFailed}
                                                          : int16_t{kNone};
  };
  if (v <= 3) {
    w.Int16(error_for(keys.front()));
    if (v >= 1) w.NullableString(std::nullopt, flex);
    w.Int32(0);
    w.String(advertised_host_, flex);
    w.Int32(port_);
  } else {
    w.ArrayLength(static_cast<int32_t>(keys.size()), flex);
    for (const std::string& k : keys) {
      w.String(k, flex);
      w.Int32(0);
      w.String(advertised_host_, flex);
      w.Int32(port_);
      w.Int16(error_for(k));
      w.NullableString(std::nullopt, flex);
      w.EmptyTaggedFields();
    }
  }
  if (flex) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

bool Server::Impl::HandleJoinGroup(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  const std::string group(r.String(flex));
  const int32_t session_timeout = r.Int32();
  const int32_t rebalance_timeout = v >= 1 ? r.Int32() : session_timeout;
  const std::string member(r.String(flex));
  if (v >= 5) (void)r.NullableString(flex);  // static membership is not served
  const std::string protocol_type(r.String(flex));
  GroupCoordinator::Protocols protocols;
  const int32_t n = r.ArrayLength(flex);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    std::string name(r.String(flex));
    std::string meta(r.NullableBytes(flex).value_or(""));
    if (flex) r.SkipTaggedFields();
    protocols.emplace_back(std::move(name), std::move(meta));
  }
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  RequestHeader hdr = h;
  auto answer = [c, seq, hdr](JoinResult res) {
    const int16_t v = hdr.api_version;
    const bool flex = hdr.flexible;
    std::string frame = StartFrame(hdr);
    Writer w(&frame);
    if (v >= 2) w.Int32(0);
    w.Int16(res.error);
    w.Int32(res.generation);
    if (v >= 7) w.NullableString(res.protocol_type, flex);
    if (v >= 7) {
      w.NullableString(res.protocol_name, flex);
    } else {
      w.String(res.protocol_name, flex);
    }
    w.String(res.leader, flex);
    w.String(res.member_id, flex);
    w.ArrayLength(static_cast<int32_t>(res.members.size()), flex);
    for (const auto& [id, meta] : res.members) {
      w.String(id, flex);
      if (v >= 5) w.NullableString(std::nullopt, flex);
      w.Bytes(meta, flex);
      if (flex) w.EmptyTaggedFields();
    }
    if (flex) w.EmptyTaggedFields();
    EndFrame(&frame);
    c->FinishFromAnyThread(seq, std::move(frame));
  };
  if (!c->principal().MayGroup(group)) {
    JoinResult denied;
    denied.error = kGroupAuthorizationFailed;
    denied.member_id = member;
    answer(std::move(denied));
    return true;
  }
  groups_.Join(group, member, h.client_id, c->client_host(), session_timeout, rebalance_timeout,
               protocol_type, std::move(protocols), std::move(answer));
  return true;
}

bool Server::Impl::HandleSyncGroup(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  const std::string group(r.String(flex));
  const int32_t generation = r.Int32();
  const std::string member(r.String(flex));
  if (v >= 3) (void)r.NullableString(flex);
  if (v >= 5) {
    (void)r.NullableString(flex);
    (void)r.NullableString(flex);
  }
  std::vector<std::pair<std::string, std::string>> assignments;
  const int32_t n = r.ArrayLength(flex);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    std::string id(r.String(flex));
    std::string a(r.NullableBytes(flex).value_or(""));
    if (flex) r.SkipTaggedFields();
    assignments.emplace_back(std::move(id), std::move(a));
  }
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  RequestHeader hdr = h;
  auto answer = [c, seq, hdr](SyncResult res) {
    const int16_t v = hdr.api_version;
    const bool flex = hdr.flexible;
    std::string frame = StartFrame(hdr);
    Writer w(&frame);
    if (v >= 1) w.Int32(0);
    w.Int16(res.error);
    if (v >= 5) {
      w.NullableString(res.protocol_type, flex);
      w.NullableString(res.protocol_name, flex);
    }
    w.Bytes(res.assignment, flex);
    if (flex) w.EmptyTaggedFields();
    EndFrame(&frame);
    c->FinishFromAnyThread(seq, std::move(frame));
  };
  if (!c->principal().MayGroup(group)) {
    SyncResult denied;
    denied.error = kGroupAuthorizationFailed;
    answer(std::move(denied));
    return true;
  }
  groups_.Sync(group, generation, member, std::move(assignments), std::move(answer));
  return true;
}

bool Server::Impl::HandleHeartbeat(const Conn& c, uint64_t seq, const RequestHeader& h, Reader& r) {
  const bool flex = h.flexible;
  const std::string group(r.String(flex));
  const int32_t generation = r.Int32();
  const std::string member(r.String(flex));
  if (h.api_version >= 3) (void)r.NullableString(flex);
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  std::string frame = StartFrame(h);
  Writer w(&frame);
  if (h.api_version >= 1) w.Int32(0);
  w.Int16(c->principal().MayGroup(group) ? groups_.Heartbeat(group, generation, member)
                                         : int16_t{kGroupAuthorizationFailed});
  if (flex) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

bool Server::Impl::HandleLeaveGroup(const Conn& c, uint64_t seq, const RequestHeader& h,
                                    Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  const std::string group(r.String(flex));
  std::vector<std::string> members;
  if (v <= 2) {
    members.emplace_back(r.String(flex));
  } else {
    const int32_t n = r.ArrayLength(flex);
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      members.emplace_back(r.String(flex));
      (void)r.NullableString(flex);
      if (flex) r.SkipTaggedFields();
    }
  }
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  const bool denied = !c->principal().MayGroup(group);
  std::vector<int16_t> errors;
  for (const auto& m : members) {
    errors.push_back(denied ? int16_t{kGroupAuthorizationFailed} : groups_.Leave(group, m));
  }
  std::string frame = StartFrame(h);
  Writer w(&frame);
  if (v >= 1) w.Int32(0);
  w.Int16(denied ? int16_t{kGroupAuthorizationFailed}
                 : (v <= 2 && !errors.empty() ? errors[0] : int16_t{kNone}));
  if (v >= 3) {
    w.ArrayLength(static_cast<int32_t>(members.size()), flex);
    for (size_t i = 0; i < members.size(); ++i) {
      w.String(members[i], flex);
      w.NullableString(std::nullopt, flex);
      w.Int16(errors[i]);
      if (flex) w.EmptyTaggedFields();
    }
  }
  if (flex) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

bool Server::Impl::HandleOffsetCommit(const Conn& c, uint64_t seq, const RequestHeader& h,
                                      Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  std::string group(r.String(flex));
  int32_t generation = -1;
  std::string member;
  if (v >= 1) {
    generation = r.Int32();
    member = std::string(r.String(flex));
  }
  if (v >= 7) (void)r.NullableString(flex);
  if (v >= 2 && v <= 4) (void)r.Int64();  // retention
  struct Topic {
    std::string name;
    std::vector<std::pair<int32_t, int64_t>> parts;
    bool denied = false;
  };
  std::vector<Topic> topics;
  const int32_t nt = r.ArrayLength(flex);
  for (int32_t i = 0; i < nt && r.ok(); ++i) {
    Topic& t = topics.emplace_back();
    t.name = std::string(r.String(flex));
    t.denied = !c->principal().MayTopic(t.name);
    const int32_t np = r.ArrayLength(flex);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      const int32_t p = r.Int32();
      const int64_t offset = r.Int64();
      if (v >= 6) (void)r.Int32();
      if (v == 1) (void)r.Int64();
      (void)r.NullableString(flex);  // metadata
      if (flex) r.SkipTaggedFields();
      t.parts.emplace_back(p, offset);
    }
    if (flex) r.SkipTaggedFields();
  }
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  const int16_t check = c->principal().MayGroup(group)
                            ? groups_.CheckCommit(group, generation, member)
                            : int16_t{kGroupAuthorizationFailed};
  AnswerOffThread(
      c, seq, h,
      [this, hdr = h, group = std::move(group), topics = std::move(topics), check](Writer& w) {
        const bool flex = hdr.flexible;
        if (hdr.api_version >= 3) w.Int32(0);
        w.ArrayLength(static_cast<int32_t>(topics.size()), flex);
        for (const Topic& t : topics) {
          int16_t error = check;
          if (error == kNone && t.denied) error = kTopicAuthorizationFailed;
          if (error == kNone) {
            std::vector<broker::TopicPartitionOffset> offsets;
            for (const auto& [p, o] : t.parts) offsets.push_back({t.name, p, o});
            error = ToErrorCode(broker_.CommitOffsets(group, offsets));
          }
          w.String(t.name, flex);
          w.ArrayLength(static_cast<int32_t>(t.parts.size()), flex);
          for (const auto& [p, o] : t.parts) {
            w.Int32(p);
            w.Int16(error);
            if (flex) w.EmptyTaggedFields();
          }
          if (flex) w.EmptyTaggedFields();
        }
      });
  return true;
}

bool Server::Impl::HandleOffsetFetch(const Conn& c, uint64_t seq, const RequestHeader& h,
                                     Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  const std::string group(r.String(flex));
  std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> topics;
  const int32_t nt = r.ArrayLength(flex);
  if (nt >= 0) {
    topics.emplace();
    for (int32_t i = 0; i < nt && r.ok(); ++i) {
      auto& t = topics->emplace_back();
      t.first = std::string(r.String(flex));
      const int32_t np = r.ArrayLength(flex, 4);
      for (int32_t j = 0; j < np && r.ok(); ++j) t.second.push_back(r.Int32());
      if (flex) r.SkipTaggedFields();
    }
  }
  if (v >= 7) (void)r.Bool();
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  const bool group_denied = !c->principal().MayGroup(group);
  if (!topics) {  // every topic with a committed offset
    topics.emplace();
    if (auto all = group_denied ? Result<std::vector<std::string>>(std::vector<std::string>())
                                : broker_.ListTopics();
        all.ok()) {
      for (const auto& name : *all) {
        if (!c->principal().MayTopic(name)) continue;
        auto committed = broker_.FetchCommittedOffsets(group, name);
        if (!committed.ok() || committed->empty()) continue;
        auto& t = topics->emplace_back();
        t.first = name;
        for (const auto& o : *committed) t.second.push_back(o.partition);
      }
    }
  }
  std::string frame = StartFrame(h);
  Writer w(&frame);
  if (v >= 3) w.Int32(0);
  w.ArrayLength(static_cast<int32_t>(topics->size()), flex);
  for (const auto& [name, parts] : *topics) {
    const int16_t denied = group_denied                     ? int16_t{kGroupAuthorizationFailed}
                           : !c->principal().MayTopic(name) ? int16_t{kTopicAuthorizationFailed}
                                                            : int16_t{kNone};
    auto committed = denied != kNone
                         ? Result<std::vector<broker::TopicPartitionOffset>>(NotFoundError(name))
                         : broker_.FetchCommittedOffsets(group, name);
    w.String(name, flex);
    w.ArrayLength(static_cast<int32_t>(parts.size()), flex);
    for (int32_t p : parts) {
      int64_t offset = -1;
      if (committed.ok()) {
        for (const auto& o : *committed) {
          if (o.partition == p) offset = o.offset;
        }
      }
      w.Int32(p);
      w.Int64(offset);
      if (v >= 5) w.Int32(-1);
      w.NullableString("", flex);
      w.Int16(denied != kNone ? denied
              : committed.ok() || committed.status().code() == StatusCode::kNotFound
                  ? int16_t{kNone}
                  : int16_t{ToErrorCode(committed.status())});
      if (flex) w.EmptyTaggedFields();
    }
    if (flex) w.EmptyTaggedFields();
  }
  if (v >= 2) w.Int16(group_denied ? kGroupAuthorizationFailed : kNone);
  if (flex) w.EmptyTaggedFields();
  EndFrame(&frame);
  c->Finish(seq, std::move(frame));
  return true;
}

bool Server::Impl::HandleCreateTopics(const Conn& c, uint64_t seq, const RequestHeader& h,
                                      Reader& r) {
  const bool flex = h.flexible;
  struct Create {
    std::string name;
    int32_t partitions;
    int16_t replication;
    bool explicit_assignment = false;
    std::vector<std::pair<std::string, std::optional<std::string>>> configs;
  };
  std::vector<Create> creates;
  const int32_t n = r.ArrayLength(flex);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    Create& t = creates.emplace_back();
    t.name = std::string(r.String(flex));
    t.partitions = r.Int32();
    t.replication = r.Int16();
    const int32_t na = r.ArrayLength(flex);
    for (int32_t j = 0; j < na && r.ok(); ++j) {
      (void)r.Int32();
      const int32_t nb = r.ArrayLength(flex, 4);
      (void)r.Raw(static_cast<size_t>(std::max(nb, 0)) * 4);
      if (flex) r.SkipTaggedFields();
      t.explicit_assignment = true;
    }
    const int32_t nc = r.ArrayLength(flex);
    for (int32_t j = 0; j < nc && r.ok(); ++j) {
      std::string key(r.String(flex));
      auto value = r.NullableString(flex);
      if (flex) r.SkipTaggedFields();
      t.configs.emplace_back(std::move(key),
                             value ? std::optional<std::string>(*value) : std::nullopt);
    }
    if (flex) r.SkipTaggedFields();
  }
  (void)r.Int32();  // timeout
  const bool validate_only = h.api_version >= 1 && r.Bool();
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  AnswerOffThread(
      c, seq, h,
      [this, hdr = h, creates = std::move(creates), validate_only,
       principal = c->principal()](Writer& w) {
        const int16_t v = hdr.api_version;
        const bool flex = hdr.flexible;
        if (v >= 2) w.Int32(0);
        w.ArrayLength(static_cast<int32_t>(creates.size()), flex);
        for (const Create& t : creates) {
          broker::TopicConfig tc;
          tc.partitions = t.partitions < 0 ? options_.default_partitions : t.partitions;
          int16_t error = kNone;
          std::string message;
          for (const auto& [key, value] : t.configs) {
            if (!value) continue;
            char* end = nullptr;
            const long long num = std::strtoll(value->c_str(), &end, 10);
            const bool numeric = end != value->c_str() && *end == '\0';
            if (key == "retention.ms" && numeric) {
              tc.retention_ms = num;
            } else if (key == "retention.bytes" && numeric) {
              tc.retention_bytes = num;
            } else if (key == "segment.bytes" && numeric) {
              tc.segment_bytes = num;
            } else if (key == "segment.ms" && numeric && num > 0) {
              tc.segment_ms = num;
            } else if (key == "retention.ms" || key == "retention.bytes" ||
                       key == "segment.bytes" || key == "segment.ms") {
              error = kInvalidConfig;
              message = "bad value for " + key;
            }  // other topic configs are accepted and not applied (docs/kafka-protocol.md)
          }
          if (!ValidTopicName(t.name)) {
            error = kInvalidTopicException;
            message = "topic names are 1-249 of [a-zA-Z0-9._-], not . or ..";
          } else if (!principal.MayTopic(t.name)) {
            error = kTopicAuthorizationFailed;
            message = "topic is outside this tenant's prefixes";
          } else if (t.explicit_assignment || (t.replication != -1 && t.replication != 1)) {
            error = kInvalidReplicationFactor;
            message = "this broker has one node: replication factor 1 only";
          } else if (tc.partitions < 1) {
            error = kInvalidPartitions;
            message = "partitions must be at least 1";
          } else if (error == kNone && !validate_only) {
            Status s = broker_.CreateTopic(t.name, tc);
            if (s.code() == StatusCode::kAlreadyExists) {
              error = kTopicAlreadyExists;
            } else if (s.code() == StatusCode::kInvalidArgument) {
              error = kInvalidConfig;
            } else {
              error = ToErrorCode(s);
            }
            if (!s.ok()) message = s.message();
          } else if (error == kNone && broker_.DescribeTopic(t.name).ok()) {
            error = kTopicAlreadyExists;
          }
          w.String(t.name, flex);
          if (v >= 7) w.Uuid(error == kNone ? TopicId(t.name) : std::string(16, '\0'));
          w.Int16(error);
          if (v >= 1) {
            w.NullableString(
                message.empty() ? std::nullopt : std::optional<std::string_view>(message), flex);
          }
          if (v >= 5) {
            w.Int32(error == kNone ? tc.partitions : -1);
            w.Int16(error == kNone ? 1 : -1);
            // configs: none reported, but an empty list rather than null on success: the Java
            // admin client reads the list of every created topic (NullPointerException on null).
            w.ArrayLength(error == kNone ? 0 : -1, flex);
          }
          if (flex) w.EmptyTaggedFields();
        }
      });
  return true;
}

bool Server::Impl::HandleDeleteTopics(const Conn& c, uint64_t seq, const RequestHeader& h,
                                      Reader& r) {
  const int16_t v = h.api_version;
  const bool flex = h.flexible;
  std::vector<std::optional<std::string>> names;
  const int32_t n = r.ArrayLength(flex);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    if (v >= 6) {
      auto name = r.NullableString(flex);
      (void)r.Uuid();
      if (flex) r.SkipTaggedFields();
      names.push_back(name ? std::optional<std::string>(*name) : std::nullopt);
    } else {
      names.emplace_back(std::string(r.String(flex)));
    }
  }
  (void)r.Int32();
  if (flex) r.SkipTaggedFields();
  if (!r.ok()) return false;
  AnswerOffThread(
      c, seq, h, [this, hdr = h, names = std::move(names), principal = c->principal()](Writer& w) {
        const int16_t v = hdr.api_version;
        const bool flex = hdr.flexible;
        if (v >= 1) w.Int32(0);
        w.ArrayLength(static_cast<int32_t>(names.size()), flex);
        for (const auto& name : names) {
          // Topics by id only: the embedded log has no ids to look up.
          const int16_t error = !name ? int16_t{kUnknownTopicOrPartition}
                                      : (!ValidTopicName(*name) ? int16_t{kInvalidTopicException}
                                         : !principal.MayTopic(*name)
                                             ? int16_t{kTopicAuthorizationFailed}
                                             : int16_t{ToErrorCode(broker_.DeleteTopic(*name))});
          if (v >= 6) {
            w.NullableString(name ? std::optional<std::string_view>(*name) : std::nullopt, flex);
            w.Uuid(name ? TopicId(*name) : std::string(16, '\0'));
          } else {
            w.String(name.value_or(""), flex);
          }
          w.Int16(error);
          if (v >= 5) w.NullableString(std::nullopt, flex);
          if (flex) w.EmptyTaggedFields();
        }
      });
  return true;
}

template <typename Body>
void Server::Impl::AnswerOffThread(const Conn& c, uint64_t seq, const RequestHeader& h, Body body) {
  produces_in_flight_.fetch_add(1);
  asio::post(*blocking_, [this, c, seq, h, body = std::move(body)]() mutable {
    std::string frame = StartFrame(h);
    Writer w(&frame);
    body(w);
    if (h.flexible) w.EmptyTaggedFields();
    EndFrame(&frame);
    c->FinishFromAnyThread(seq, std::move(frame));
    produces_in_flight_.fetch_sub(1);
  });
}

Server::Server(ServerOptions options, broker::Broker& broker)
    : impl_(std::make_unique<Impl>(std::move(options), broker)) {}
Server::~Server() { Stop(); }
Status Server::Start() { return impl_->Start(); }
Status Server::ReloadTls() { return impl_->ReloadTls(); }
int Server::port() const { return impl_->port(); }
std::string Server::advertised() const { return impl_->advertised(); }
void Server::Stop() { impl_->Stop(); }

}  // namespace pinpipe::kafka_api
