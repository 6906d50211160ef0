// `pinpipe serve` against real clients: curl, the original emulator's Python
// requests calls, and the AWS SDK for JavaScript (Kinesis, SigV4-signed).
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness.h"
#include "pinpipe/base/config.h"
#include "pinpipe/embedded/embedded_broker.h"

namespace pinpipe::testing {
namespace {

using nlohmann::json;

struct HttpResult {
  int status = 0;
  std::string body;
};

class ServeTest : public ::testing::Test {
 protected:
  void StartServe(std::vector<std::string> extra = {}) {
    port_ = PickFreePort();
    std::vector<std::string> argv = {PinpipeBinary()};
    for (auto& e : extra) argv.push_back(e);
    const std::vector<std::string> tail = {
        "serve", "--listen", "127.0.0.1:" + std::to_string(port_), "--data-dir", dir_ / "data"};
    argv.insert(argv.end(), tail.begin(), tail.end());
    server_ = std::make_unique<Process>(ProcessOptions{.argv = argv});
    ASSERT_TRUE(WaitForPort(port_, std::chrono::seconds(20))) << server_->Output();
  }
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  HttpResult Curl(std::vector<std::string> args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {"curl", "-s", "-o", "-", "-w", "\n%{http_code}"};
    for (auto& a : args) argv.push_back(a);
    auto r = RunCommand(argv, stdin_data);
    HttpResult out;
    size_t nl = r.out.rfind('\n');
    if (nl == std::string::npos) return out;
    out.body = r.out.substr(0, nl);
    out.status = std::atoi(r.out.c_str() + nl + 1);
    return out;
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

TEST_F(ServeTest, CurlProducesAndReadsMetadata) {
  StartServe({"--set", "api.body_limit=4KiB"});
  auto r = Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json", "--data",
                 R"({"records":[{"value":{"a":1}},{"key":"k","value":[1,2]}]})",
                 Base() + "/topics/curl.t"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"key_schema_id":null,"value_schema_id":null,"offsets":[)"
                    R"({"partition":0,"offset":0,"error_code":null,"error":null},)"
                    R"({"partition":0,"offset":1,"error_code":null,"error":null}]})");
  r = Curl({Base() + "/topics"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"(["curl.t"])");
  r = Curl({Base() + "/topics/curl.t/partitions/0"});
  EXPECT_EQ(r.status, 200);
  r = Curl({Base() + "/topics/missing"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error_code":40401,"message":"Topic not found."})");
  r = Curl({"-X", "POST", "-H", "Content-Type: text/plain", "--data", "x", Base() + "/topics/t"});
  EXPECT_EQ(r.status, 415);
  r = Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json", "--data",
            R"({"records":[{"value":)", Base() + "/topics/curl.t"});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error_code"], 400);
  // Over api.body_limit: 413 with the Kafka error body; nothing appended.
  r = Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json", "--data-binary",
            "@-", Base() + "/topics/curl.t"},
           R"({"records":[{"value":")" + std::string(5000, 'x') + R"("}]})");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json::parse(r.body)["error_code"], 413);
  r = Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kafka.json.v2+json", "--data",
            R"({"records":[{"value":3}]})", Base() + "/topics/curl.t"});
  EXPECT_EQ(json::parse(r.body)["offsets"][0]["offset"], 2);  // the rejected ones took no offsets
  r = Curl({Base() + "/healthz"});
  EXPECT_EQ(r.status, 200);
  r = Curl({Base() + "/metrics"});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"(pinpipe_http_requests_total{route="kafka.produce",status="200"} 2)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"(route="http.protocol_error",status="413"} 1)"), std::string::npos);
  EXPECT_NE(r.body.find(R"(route="kafka.produce",status="415"} 1)"), std::string::npos);
  EXPECT_NE(r.body.find("pinpipe_http_open_connections"), std::string::npos);
}

TEST_F(ServeTest, OriginalEmulatorRequestsWorkAndReadBackIdentical) {
  StartServe();
  // The pinned requests of the peers venv (tests/peers/requirements-aws.txt).
  auto r = RunCommand({SourceDir() + "/tests/support/peer-python", "venv",
                       SourceDir() + "/tests/api/seed_emulator.py", Base()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << server_->Output();
  EXPECT_NE(r.out.find("kafka readback identical"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kinesis readback identical"), std::string::npos) << r.out;
  // Stop the server and read the log directly through the Broker.
  ASSERT_EQ(server_->Stop(), 0);
  Config config;
  ASSERT_TRUE(config.Set("general.data_dir", dir_ / "data").ok());
  auto broker = embedded::EmbeddedBroker::Open(config);
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  int checked = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("expect\t", 0) != 0) continue;
    size_t tab = line.find('\t', 7);
    std::string topic = line.substr(7, tab - 7);
    auto expected = RunCommand({"base64", "-d"}, line.substr(tab + 1)).out;
    auto fetched = (*broker)->Fetch(topic, 0, 0, {});
    ASSERT_TRUE(fetched.ok()) << topic << ": " << fetched.status().ToString();
    ASSERT_EQ(fetched->records.size(), 1u) << topic;
    EXPECT_EQ(fetched->records[0].value, expected) << topic;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST_F(ServeTest, AwsSdkKinesisClientWithSigV4) {
  StartServe({"--set", "api.kinesis_access_key=AKIDPINPIPETEST", "--set",
              "api.kinesis_secret_key=pinpipe-secret"});
  std::map<std::string, std::string> env = {{"NODE_PATH", PeersDir() + "/node_modules"}};
  auto r = RunCommand({"node", SourceDir() + "/tests/api/kinesis_sdk.js", Base(), "AKIDPINPIPETEST",
                       "pinpipe-secret"},
                      "", env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("get-records 105"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OK"), std::string::npos) << r.out;
  r = RunCommand({"node", SourceDir() + "/tests/api/kinesis_sdk.js", Base(), "AKIDPINPIPETEST",
                  "wrong-secret", "expect-auth-failure"},
                 "", env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("auth-error InvalidSignatureException"), std::string::npos) << r.out;
}

TEST_F(ServeTest, ApiKeysAreEnforced) {
  StartServe({"--set", "api.keys=key-one,key-two"});
  const std::string body = R"({"StreamName":"s","Data":{"a":1},"PartitionKey":"p"})";
  auto r = Curl({"-X", "PUT", "--data", body, Base() + "/streams/s/record"});
  EXPECT_EQ(r.status, 401);
  r = Curl({"-X", "PUT", "-H", "x-api-key: nope", "--data", body, Base() + "/streams/s/record"});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"message":"Forbidden"})");
  r = Curl({"-X", "PUT", "-H", "x-api-key: key-two", "--data", body, Base() + "/streams/s/record"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Curl({Base() + "/healthz"}).status, 200);
}

TEST_F(ServeTest, StreamMetadataSurvivesRestart) {
  StartServe();
  auto r = Curl({"-X", "POST", "--data", R"({"ShardCount":3})", Base() + "/streams/kept"});
  ASSERT_EQ(r.status, 200) << r.body;
  r = Curl({Base() + "/streams/kept"});
  auto before = json::parse(r.body)["StreamDescription"];
  ASSERT_EQ(server_->Stop(), 0);
  StartServe();
  r = Curl({Base() + "/streams/kept"});
  ASSERT_EQ(r.status, 200) << r.body;
  auto after = json::parse(r.body)["StreamDescription"];
  EXPECT_EQ(after["Shards"].size(), 3u);
  EXPECT_EQ(after["StreamCreationTimestamp"], before["StreamCreationTimestamp"]);
  EXPECT_EQ(Curl({Base() + "/streams"}).body, R"({"HasMoreStreams":false,"StreamNames":["kept"]})");
}

TEST_F(ServeTest, SigtermFinishesAndExitsZero) {
  StartServe();
  EXPECT_EQ(Curl({Base() + "/healthz"}).status, 200);
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait(std::chrono::seconds(15)), 0) << server_->Output();
}

// A produce waiting for its group commit when SIGTERM arrives is answered
// (200, with its offset) before the server exits, and the record is there
// after a restart.
TEST_F(ServeTest, SigtermAnswersAProduceStillWaitingForItsGroupCommit) {
  StartServe({"--set", "log.fsync=interval:1500"});
  const std::string type = "Content-Type: application/vnd.kafka.json.v2+json";
  ASSERT_EQ(Curl({"-X", "POST", "-H", type, "--data", R"({"records":[{"value":0}]})",
                  Base() + "/topics/inflight"})
                .status,
            200);
  HttpResult in_flight;
  std::thread client([&] {
    in_flight = Curl({"-X", "POST", "-H", type, "--data", R"({"records":[{"value":1}]})",
                      Base() + "/topics/inflight"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the append is waiting
  server_->Signal(SIGTERM);
  client.join();
  EXPECT_EQ(in_flight.status, 200) << in_flight.body;
  EXPECT_EQ(in_flight.body, R"({"key_schema_id":null,"value_schema_id":null,"offsets":[)"
                            R"({"partition":0,"offset":1,"error_code":null,"error":null}]})");
  EXPECT_EQ(server_->Wait(std::chrono::seconds(15)), 0) << server_->Output();
  StartServe();  // both records survived: the next one gets offset 2
  auto r = Curl({"-X", "POST", "-H", type, "--data", R"({"records":[{"value":2}]})",
                 Base() + "/topics/inflight"});
  EXPECT_EQ(json::parse(r.body)["offsets"][0]["offset"], 2) << r.body;
}

// TLS from api.tls_cert / api.tls_key: curl trusting the certificate gets
// through; plain HTTP on the same port does not.
TEST_F(ServeTest, ServesTlsWithTheConfiguredCertificate) {
  const std::string cert = dir_ / "cert.pem";
  const std::string key = dir_ / "key.pem";
  auto made = RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                          "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  StartServe({"--set", "api.tls_cert=" + cert, "--set", "api.tls_key=" + key});
  const std::string https = "https://127.0.0.1:" + std::to_string(port_);
  auto r = Curl({"--cacert", cert, "-X", "POST", "-H",
                 "Content-Type: application/vnd.kafka.json.v2+json", "--data",
                 R"({"records":[{"value":{"tls":true}}]})", https + "/topics/secure"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Curl({"--cacert", cert, https + "/healthz"}).body, "ok\n");
  EXPECT_NE(Curl({https + "/healthz"}).status, 200);  // an untrusted certificate is refused
  EXPECT_NE(Curl({"--max-time", "5", Base() + "/healthz"}).status, 200);  // plain HTTP
}

}  // namespace
}  // namespace pinpipe::testing
