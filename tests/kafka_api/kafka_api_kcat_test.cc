// `pinpipe serve` speaking the Kafka protocol to kcat (librdkafka), to the
// REST API on the same topics, and to raw malformed frames.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>

#include "harness.h"
#include "pinpipe/kafka_api/protocol.h"
#include "pinpipe/kafka_api/records.h"
#include "pinpipe/log/crc32c.h"

namespace pinpipe::testing {
namespace {

using namespace std::chrono_literals;

class KafkaApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunCommand({"kcat", "-V"}).exit_code, 0)
        << "kcat is missing: run scripts/install-deps --test";
    http_port_ = PickFreePort();
    kafka_port_ = PickFreePort();
    server_ = std::make_unique<Process>(
        ProcessOptions{.argv = {PinpipeBinary(), "--set", "kafka_api.max_request_bytes=1MiB",
                                "serve", "--listen", "127.0.0.1:" + std::to_string(http_port_),
                                "--kafka-listen", Bootstrap(), "--data-dir", dir_ / "data"}});
    ASSERT_TRUE(WaitForPort(kafka_port_, 20s)) << server_->Output();
    ASSERT_TRUE(WaitForPort(http_port_, 20s)) << server_->Output();
  }

  std::string Bootstrap() const { return "127.0.0.1:" + std::to_string(kafka_port_); }
  std::string Rest() const { return "http://127.0.0.1:" + std::to_string(http_port_); }

  CommandResult Kcat(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"kcat", "-b", Bootstrap()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, input, {}, 60s);
  }

  // A connected raw socket to the Kafka port.
  int Connect() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(kafka_port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
  }
  // Reads one response frame; "" when the server closed the connection.
  static std::string ReadFrame(int fd) {
    char size[4];
    if (recv(fd, size, 4, MSG_WAITALL) != 4) return "";
    kafka_api::Reader r(std::string_view(size, 4));
    std::string body(static_cast<size_t>(r.Int32()), '\0');
    if (recv(fd, body.data(), body.size(), MSG_WAITALL) != static_cast<ssize_t>(body.size())) {
      return "";
    }
    return body;
  }
  static bool Closed(int fd) {
    char c;
    return recv(fd, &c, 1, 0) == 0;
  }
  static std::string Frame(int16_t key, int16_t version, std::string_view body_after_header) {
    std::string s;
    kafka_api::Writer w(&s);
    const size_t at = w.ReserveInt32();
    w.Int16(key);
    w.Int16(version);
    w.Int32(7);  // correlation id
    w.NullableString("raw", false);
    if (kafka_api::IsFlexible(key, version)) w.EmptyTaggedFields();
    w.Raw(body_after_header);
    w.PatchInt32(at, static_cast<int32_t>(s.size() - 4));
    return s;
  }

  TempDir dir_;
  int http_port_ = 0;
  int kafka_port_ = 0;
  std::unique_ptr<Process> server_;
};

TEST_F(KafkaApiTest, MetadataProduceAndConsumeWithKeysHeadersAndOffsets) {
  ASSERT_EQ(
      Kcat({"-P", "-t", "orders", "-K", ":", "-H", "src=kcat"}, "k1:v1\nk2:v2\nk3:v3\n").exit_code,
      0);
  CommandResult meta = Kcat({"-L", "-t", "orders"});
  ASSERT_EQ(meta.exit_code, 0) << meta.err;
  EXPECT_NE(meta.out.find("broker 0 at " + Bootstrap()), std::string::npos) << meta.out;
  EXPECT_NE(meta.out.find("topic \"orders\" with 1 partitions"), std::string::npos) << meta.out;

  CommandResult got = Kcat({"-C", "-t", "orders", "-e", "-f", "%k=%s@%o %h\\n"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "k1=v1@0 src=kcat\nk2=v2@1 src=kcat\nk3=v3@2 src=kcat\n");
  // From an offset, and the last one.
  EXPECT_EQ(Kcat({"-C", "-t", "orders", "-o", "1", "-e", "-f", "%s\\n"}).out, "v2\nv3\n");
  EXPECT_EQ(Kcat({"-C", "-t", "orders", "-o", "-1", "-e", "-f", "%s\\n"}).out, "v3\n");
  // ListOffsets by timestamp: a time before every record gives offset 0, one
  // in the future the end.
  CommandResult q = Kcat({"-Q", "-t", "orders:0:1000"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("offset 0"), std::string::npos) << q.out;
  q = Kcat({"-Q", "-t", "orders:0:99999999999999"});
  EXPECT_NE(q.out.find("offset 3"), std::string::npos) << q.out;
}

TEST_F(KafkaApiTest, CompressedBatchesAndIdempotentProducerRoundTrip) {
  const std::string big(20000, 'x');
  for (const char* codec : {"gzip", "snappy", "lz4", "zstd"}) {
    CommandResult p = Kcat({"-P", "-t", "packed", "-X", std::string("compression.codec=") + codec,
                            "-X", "enable.idempotence=true", "-d", "msg"},
                           big + codec + "\n");
    ASSERT_EQ(p.exit_code, 0) << p.err;
    // librdkafka really compressed the batch (it sends uncompressed when the
    // broker lacks the feature).
    EXPECT_NE(p.err.find(std::string(codec) + ")"), std::string::npos) << codec;
  }
  CommandResult got = Kcat({"-C", "-t", "packed", "-e", "-f", "%S %o\\n"});
  EXPECT_EQ(got.out, "20004 0\n20006 1\n20003 2\n20004 3\n");
}

TEST_F(KafkaApiTest, RestAndKafkaShareTopics) {
  CommandResult post = RunCommand(
      {"curl", "-s", "-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json",
       "--data", R"({"records":[{"value":{"from":"rest"}}]})", Rest() + "/topics/shared"});
  ASSERT_NE(post.out.find("\"offset\":0"), std::string::npos) << post.out << post.err;
  EXPECT_EQ(Kcat({"-C", "-t", "shared", "-e", "-f", "%s\\n"}).out, "{\"from\":\"rest\"}\n");

  ASSERT_EQ(Kcat({"-P", "-t", "shared"}, "{\"from\":\"kafka\"}\n").exit_code, 0);
  const std::string base = Rest() + "/consumers/g1";
  RunCommand({"curl", "-s", "-X", "POST", "-H", "Content-Type: application/vnd.kafka.v2+json",
              "--data", R"({"name":"c1","format":"json","auto.offset.reset":"earliest"})", base});
  RunCommand({"curl", "-s", "-X", "POST", "-H", "Content-Type: application/vnd.kafka.v2+json",
              "--data", R"({"topics":["shared"]})", base + "/instances/c1/subscription"});
  std::string seen;
  for (int i = 0; i < 20 && seen.find("kafka") == std::string::npos; ++i) {
    seen += RunCommand({"curl", "-s", "-H", "Accept: application/vnd.kafka.json.v2+json",
                        base + "/instances/c1/records?timeout=500"})
                .out;
  }
  EXPECT_NE(seen.find(R"({"from":"kafka"})"), std::string::npos) << seen;
}

TEST_F(KafkaApiTest, FetchLongPollReturnsWhenARecordArrives) {
  ASSERT_EQ(Kcat({"-P", "-t", "poll"}, "first\n").exit_code, 0);
  Process consumer(ProcessOptions{.argv = {"kcat", "-b", Bootstrap(), "-C", "-t", "poll", "-o", "1",
                                           "-c", "1", "-f", "%s\\n"}});
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(consumer.running());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Kcat({"-P", "-t", "poll"}, "second\n").exit_code, 0);
  EXPECT_EQ(consumer.Wait(20s), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_NE(consumer.Output().find("second"), std::string::npos) << consumer.Output();
}

TEST_F(KafkaApiTest, BadFramesCloseTheConnectionAndStoreNothing) {
  ASSERT_EQ(Kcat({"-P", "-t", "safe"}, "ok\n").exit_code, 0);
  {  // ApiVersions of an unknown version: a v0 answer with UNSUPPORTED_VERSION
    int fd = Connect();
    const std::string f = Frame(kafka_api::kApiVersions, 99, "");
    ASSERT_EQ(send(fd, f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
    const std::string resp = ReadFrame(fd);
    kafka_api::Reader r(resp);
    EXPECT_EQ(r.Int32(), 7);
    EXPECT_EQ(r.Int16(), kafka_api::kUnsupportedVersion);
    EXPECT_GT(r.Int32(), 3);  // the served APIs
    close(fd);
  }
  {  // unknown API key
    int fd = Connect();
    const std::string f = Frame(999, 0, "");
    send(fd, f.data(), f.size(), 0);
    EXPECT_TRUE(Closed(fd));
    close(fd);
  }
  {  // a frame over max_request_bytes (1 MiB here)
    int fd = Connect();
    std::string f;
    kafka_api::Writer w(&f);
    w.Int32(2 << 20);
    send(fd, f.data(), f.size(), 0);
    EXPECT_TRUE(Closed(fd));
    close(fd);
  }
  {  // a Produce v7 whose record batch is cut short inside the request
    int fd = Connect();
    std::string body;
    kafka_api::Writer w(&body);
    w.NullableString(std::nullopt, false);
    w.Int16(-1);
    w.Int32(1000);
    w.Int32(1);
    w.String("safe", false);
    w.Int32(1);
    w.Int32(0);
    w.Int32(500);  // records: claims 500 bytes
    w.Raw(std::string(40, '\x01'));
    const std::string f = Frame(kafka_api::kProduce, 7, body);
    send(fd, f.data(), f.size(), 0);
    EXPECT_TRUE(Closed(fd));
    close(fd);
  }
  {  // a well-framed Produce whose batch has a bad CRC: CORRUPT_MESSAGE
    int fd = Connect();
    std::string batch;
    kafka_api::Writer bw(&batch);
    bw.Int64(0);
    bw.Int32(49 + 10);
    bw.Int32(0);
    bw.Int8(2);
    bw.Int32(12345);  // wrong CRC
    bw.Raw(std::string(40 + 10, '\0'));
    std::string body;
    kafka_api::Writer w(&body);
    w.NullableString(std::nullopt, false);
    w.Int16(1);
    w.Int32(1000);
    w.Int32(1);
    w.String("safe", false);
    w.Int32(1);
    w.Int32(0);
    w.Bytes(batch, false);
    const std::string f = Frame(kafka_api::kProduce, 7, body);
    send(fd, f.data(), f.size(), 0);
    const std::string resp = ReadFrame(fd);
    ASSERT_FALSE(resp.empty());
    kafka_api::Reader r(resp);
    r.Int32();        // correlation
    r.Int32();        // topics
    r.String(false);  // name
    r.Int32();        // partitions
    r.Int32();        // index
    EXPECT_EQ(r.Int16(), kafka_api::kCorruptMessage);
    close(fd);
  }
  // Nothing partial was stored and the server still serves.
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(Kcat({"-C", "-t", "safe", "-e", "-f", "%s\\n"}).out, "ok\n");
}

TEST_F(KafkaApiTest, PinpipeKafkaBrokerCreatesProducesAndConsumesInAGroup) {
  // pinpipe's own Kafka backend (librdkafka's admin, producer and consumer
  // group) pointed at this pinpipe.
  const std::vector<std::string> kafka = {PinpipeBinary(), "--set", "broker.type=kafka", "--set",
                                          "kafka.bootstrap.servers=" + Bootstrap()};
  auto run = [&](std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = kafka;
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, input, {}, 60s);
  };
  CommandResult r = run({"topics", "create", "--topic", "two", "--partitions", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run({"topics", "create", "--topic", "bad name"});
  EXPECT_NE(r.exit_code, 0);
  r = run({"topics", "describe", "--topic", "two"});
  EXPECT_NE(r.out.find("PartitionCount: 2"), std::string::npos) << r.out << r.err;
  r = run({"produce", "--topic", "two"}, "a\nb\nc\nd\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run({"consume", "--topic", "two", "--group", "cli", "--from-beginning", "--max", "4",
           "--timeout", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string sorted = r.out;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, "\n\n\n\nabcd") << r.out;
  // The group's offsets are the broker's: a second run has nothing left.
  r = run({"consume", "--topic", "two", "--group", "cli", "--from-beginning", "--timeout", "5"});
  EXPECT_EQ(r.out, "") << r.err;
  r = run({"topics", "delete", "--topic", "two"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run({"topics", "list"}).out.find("two"), std::string::npos);
}

TEST_F(KafkaApiTest, TwoKcatGroupMembersSplitThePartitions) {
  // kcat cannot create topics: create two partitions through the protocol
  // (CreateTopics) with pinpipe's Kafka backend.
  CommandResult r = RunCommand({PinpipeBinary(), "--set", "broker.type=kafka", "--set",
                                "kafka.bootstrap.servers=" + Bootstrap(), "topics", "create",
                                "--topic", "split", "--partitions", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Kcat({"-P", "-t", "split", "-p", "0"}, "a0\nb0\n").exit_code, 0);
  ASSERT_EQ(Kcat({"-P", "-t", "split", "-p", "1"}, "a1\nb1\n").exit_code, 0);
  auto member = [&](const std::string& name) {
    return std::make_unique<Process>(
        ProcessOptions{.argv = {"kcat", "-b", Bootstrap(), "-G", "pair", "split", "-o", "beginning",
                                "-f", name + " %s p%p\\n", "-X", "heartbeat.interval.ms=200", "-X",
                                "session.timeout.ms=6000"}});
  };
  auto one = member("one");
  std::this_thread::sleep_for(2s);
  auto two = member("two");
  // Wait until both have an assignment of one partition each.
  bool split = false;
  for (int i = 0; i < 100 && !split; ++i) {
    std::this_thread::sleep_for(200ms);
    const std::string a = one->Output(), b = two->Output();
    // One rebalanced when two joined: it revoked and was assigned again.
    split = b.find("assigned: split [") != std::string::npos &&
            a.find("revoked") != std::string::npos && a.rfind("assigned: ") > a.rfind("revoked");
  }
  const std::string a = one->Output(), b = two->Output();
  ASSERT_TRUE(split) << "one:\n" << a << "\ntwo:\n" << b;
  // The last assignment of each names one partition, and they differ.
  auto last_assigned = [](const std::string& out) {
    const size_t at = out.rfind("assigned: ");
    return out.substr(at, out.find('\n', at) - at);
  };
  EXPECT_NE(last_assigned(a), last_assigned(b));
  EXPECT_EQ(last_assigned(b).find(','), std::string::npos) << b;
  one->Stop();
  two->Stop();
  // kcat flushes the records it printed when it stops.
  const std::string all = one->Output() + two->Output();
  for (const char* rec : {"a0 p0", "b0 p0", "a1 p1", "b1 p1"}) {
    EXPECT_NE(all.find(rec), std::string::npos) << rec << "\n" << all;
  }
  EXPECT_EQ(all.find("COMMITFAIL"), std::string::npos) << all;
}

// A one-record batch of producer `pid` with base sequence `seq`.
std::string IdempotentBatch(int64_t pid, int32_t seq, const std::string& value) {
  broker::StoredRecord rec;
  rec.timestamp_ms = 1'700'000'000'000;
  rec.value = value;
  std::string batch;
  kafka_api::EncodeBatch({rec}, &batch);
  std::string ids;
  kafka_api::Writer w(&ids);
  w.Int64(pid);
  w.Int16(0);
  w.Int32(seq);
  batch.replace(43, ids.size(), ids);  // producerId, producerEpoch, baseSequence
  const uint32_t crc = log::Crc32cExtend(0, batch.data() + 21, batch.size() - 21);
  for (int b = 0; b < 4; ++b) batch[17 + b] = static_cast<char>(crc >> (8 * (3 - b)));
  return batch;
}

TEST_F(KafkaApiTest, IdempotentRetriesAreStoredOnceAndGapsAreRefused) {
  ASSERT_EQ(Kcat({"-P", "-t", "idem"}, "first\n").exit_code, 0);  // creates the topic
  int fd = Connect();
  // Produce v7, acks=all, one batch; returns (error, base offset).
  auto produce = [&](int32_t seq, const std::string& value) {
    std::string body;
    kafka_api::Writer w(&body);
    w.NullableString(std::nullopt, false);
    w.Int16(-1);
    w.Int32(10'000);
    w.Int32(1);
    w.String("idem", false);
    w.Int32(1);
    w.Int32(0);
    w.Bytes(IdempotentBatch(4242, seq, value), false);
    const std::string f = Frame(kafka_api::kProduce, 7, body);
    EXPECT_EQ(send(fd, f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
    const std::string resp = ReadFrame(fd);
    kafka_api::Reader r(resp);
    r.Int32();
    r.Int32();
    r.String(false);
    r.Int32();
    r.Int32();
    const int16_t error = r.Int16();
    const int64_t offset = r.Int64();
    EXPECT_TRUE(r.ok());
    return std::make_pair(error, offset);
  };
  EXPECT_EQ(produce(0, "s0"), std::make_pair(int16_t{0}, int64_t{1}));
  EXPECT_EQ(produce(0, "s0"), std::make_pair(int16_t{0}, int64_t{1}));  // a retry: stored once
  EXPECT_EQ(produce(5, "gap").first, kafka_api::kOutOfOrderSequenceNumber);
  EXPECT_EQ(produce(1, "s1"), std::make_pair(int16_t{0}, int64_t{2}));
  close(fd);
  EXPECT_EQ(Kcat({"-C", "-t", "idem", "-e", "-f", "%s\\n"}).out, "first\ns0\ns1\n");
}

TEST_F(KafkaApiTest, CliCommandsBesideARunningServerGoThroughIt) {
  const std::string data = dir_ / "data";
  auto cli = [&](std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {PinpipeBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--data-dir", data});
    return RunCommand(argv, input, {}, 60s);
  };
  EXPECT_NE(ReadFile(data + "/kafka_api.address").find(Bootstrap()), std::string::npos);
  CommandResult r = cli({"topics", "create", "--topic", "beside"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"produce", "--topic", "beside"}, "one\ntwo\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"consume", "--topic", "beside", "--from-beginning", "--max", "2", "--timeout", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "one\ntwo\n");
  EXPECT_EQ(Kcat({"-C", "-t", "beside", "-e", "-f", "%s\\n"}).out, "one\ntwo\n");
  // --bootstrap names the server explicitly, from a folder where nothing runs: the
  // log there is never opened.
  const std::string elsewhere = dir_ / "elsewhere";
  auto via = [&](std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {PinpipeBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--bootstrap", Bootstrap(), "--data-dir", elsewhere});
    return RunCommand(argv, input, {}, 60s);
  };
  r = via({"produce", "--topic", "beside"}, "three\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = via({"consume", "--topic", "beside", "--from-beginning", "--max", "3", "--timeout", "20"});
  EXPECT_EQ(r.out, "one\ntwo\nthree\n") << r.err;
  r = via({"topics", "describe", "--topic", "beside"});
  EXPECT_NE(r.out.find("PartitionCount: 1"), std::string::npos) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(elsewhere + "/log"));
  // A --bootstrap where nothing listens is a one-line error, not a hang or a crash.
  r = RunCommand(
      {PinpipeBinary(), "--set", "kafka.pinpipe.timeout.ms=3000", "topics", "list", "--bootstrap",
       "127.0.0.1:" + std::to_string(PickFreePort()), "--data-dir", elsewhere},
      "", {}, 60s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("pinpipe: error:"), std::string::npos) << r.err;
  // `pinpipe sink --once` beside the server: a consumer group over its protocol; its
  // object holds the three records.
  ASSERT_EQ(cli({"topics", "create", "--topic", "beside.json"}).exit_code, 0);
  r = cli({"produce", "--topic", "beside.json"}, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WriteFile(dir_ / "beside.properties", "name=beside\ntopics=beside.json\nflush.size=3\n");
  r = cli({"sink", "--config", dir_ / "beside.properties", "--store",
           "file://" + (dir_ / "beside-lake"), "--once"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << server_->Output();
  const auto lake = ReadTree(dir_ / "beside-lake");
  ASSERT_EQ(lake.size(), 1u) << r.err;
  EXPECT_EQ(lake.begin()->first, "topics/beside.json/partition=0/beside.json+0+0000000000.json");
  EXPECT_EQ(lake.begin()->second, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  // A second server on the same folder still fails, naming the first.
  r = cli({"serve", "--listen", "127.0.0.1:" + std::to_string(PickFreePort()), "--kafka-listen",
           "127.0.0.1:" + std::to_string(PickFreePort())});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("pid " + std::to_string(server_->pid())), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(Bootstrap()), std::string::npos) << r.err;
  // So does `pinpipe up` (a server too: it never becomes a client of the first).
  r = cli({"up", "--listen", "127.0.0.1:" + std::to_string(PickFreePort()), "--kafka-listen",
           "127.0.0.1:" + std::to_string(PickFreePort())});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("held by pinpipe pid " + std::to_string(server_->pid()) +
                       " serving Kafka at " + Bootstrap()),
            std::string::npos)
      << r.err;
  // Stopped, the server removes its address file and the CLI opens the log.
  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(data + "/kafka_api.address"));
  r = cli({"consume", "--topic", "beside", "--from-beginning", "--max", "2", "--timeout", "5"});
  EXPECT_EQ(r.out, "one\ntwo\n") << r.err;
}

}  // namespace
}  // namespace pinpipe::testing
