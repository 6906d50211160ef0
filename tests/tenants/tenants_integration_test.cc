// A shared `pinpipe serve` with [[tenants]]: the isolation matrix over real
// HTTP (curl) and the AWS SDK for JavaScript (SigV4 with a tenant's key),
// wrong, missing and stale credentials, a SIGHUP reload that keeps open
// connections, quotas, and no secret in any output of the program.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

namespace pinpipe::testing {
namespace {

using nlohmann::json;

constexpr char kKafkaJson[] = "Content-Type: application/vnd.kafka.json.v2+json";

// Every secret of the configuration below; none may appear in any output.
const std::vector<std::string> kSecrets = {"alice-secret-key-1",      "bob-secret-key-from-file",
                                           "ops-admin-secret-key",    "alice-sigv4-secret-env",
                                           "bob-sigv4-secret-inline", "alice-sasl-password"};

std::string TenantsToml(const std::string& bob_key_file, const std::string& bob_key_field) {
  return R"(
[[tenants]]
name = "alice"
prefixes = ["alice"]
api_keys = ["alice-secret-key-1"]
max_consumer_instances = 1
[[tenants.sigv4]]
access_key = "AKIDALICE"
secret_key_env = "TEST_ALICE_SIGV4"
[[tenants.sasl]]
user = "alice"
password = "alice-sasl-password"

[[tenants]]
name = "bob"
prefixes = ["bob"]
)" + bob_key_field +
         " = \"" + bob_key_file + R"("
records_per_s = 20
[[tenants.sigv4]]
access_key = "AKIDBOB"
secret_key = "bob-sigv4-secret-inline"

[[tenants]]
name = "ops"
admin = true
api_keys = ["ops-admin-secret-key"]
)";
}

struct HttpResult {
  int status = 0;
  std::string body;
  std::string headers;
};

class TenantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "bob.key") << "bob-secret-key-from-file\n";
    config_ = dir_ / "tenants.toml";
    std::ofstream(config_) << TenantsToml(dir_ / "bob.key", "api_keys_file");
    port_ = PickFreePort();
    server_ = std::make_unique<Process>(
        ProcessOptions{.argv = {PinpipeBinary(), "--config", config_, "serve", "--listen",
                                "127.0.0.1:" + std::to_string(port_), "--data-dir", dir_ / "data"},
                       .env = {{"TEST_ALICE_SIGV4", "alice-sigv4-secret-env"}}});
    ASSERT_TRUE(WaitForPort(port_, std::chrono::seconds(20))) << server_->Output();
  }
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  HttpResult Curl(const std::string& key, std::vector<std::string> args) {
    std::vector<std::string> argv = {"curl", "-s", "-D", dir_ / "headers",
                                     "-o",   "-",  "-w", "\n%{http_code}"};
    if (!key.empty()) {
      argv.push_back("-H");
      argv.push_back("x-api-key: " + key);
    }
    for (auto& a : args) argv.push_back(a);
    auto r = RunCommand(argv);
    HttpResult out;
    size_t nl = r.out.rfind('\n');
    if (nl != std::string::npos) {
      out.body = r.out.substr(0, nl);
      out.status = std::atoi(r.out.c_str() + nl + 1);
    }
    std::ifstream h(dir_ / "headers");
    out.headers.assign(std::istreambuf_iterator<char>(h), {});
    answers_ += out.headers + out.body + "\n";
    return out;
  }
  HttpResult Produce(const std::string& key, const std::string& topic, int records = 1) {
    std::string body = R"({"records":[)";
    for (int i = 0; i < records; ++i) body += std::string(i ? "," : "") + R"({"value":{"i":1}})";
    return Curl(
        key, {"-X", "POST", "-H", kKafkaJson, "--data", body + "]}", Base() + "/topics/" + topic});
  }
  HttpResult PutRecord(const std::string& key, const std::string& stream) {
    return Curl(
        key, {"-X", "PUT", "-H", "Content-Type: application/json", "--data",
              R"({"Data":{"a":1},"PartitionKey":"p"})", Base() + "/streams/" + stream + "/record"});
  }
  CommandResult Node(std::vector<std::string> args) {
    std::vector<std::string> argv = {"node", SourceDir() + "/tests/tenants/tenant_sdk.js", Base()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, "", {{"NODE_PATH", PeersDir() + "/node_modules"}});
    answers_ += r.out + r.err;
    return r;
  }

  TempDir dir_;
  std::string config_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
  std::string answers_;  // every HTTP answer and client output, for the secret check
};

TEST_F(TenantsTest, IsolationMatrixAcrossKafkaRestAndKinesis) {
  const std::string alice = "alice-secret-key-1", bob = "bob-secret-key-from-file";
  ASSERT_EQ(Produce(alice, "alice.pin").status, 200);
  ASSERT_EQ(Produce(bob, "bob.pin").status, 200);
  ASSERT_EQ(PutRecord(bob, "streaming-bob-pin").status, 200);

  // Kafka REST: alice's key on bob's topic, for every operation.
  struct Case {
    std::vector<std::string> args;
  };
  const std::vector<Case> kafka = {
      {{"-X", "POST", "-H", kKafkaJson, "--data", R"({"records":[{"value":1}]})",
        Base() + "/topics/bob.pin"}},
      {{"-X", "POST", "-H", kKafkaJson, "--data", R"({"records":[{"value":1}]})",
        Base() + "/topics/bob.new"}},
      {{"-X", "POST", "-H", kKafkaJson, "--data", R"({"records":[{"value":1}]})",
        Base() + "/topics/bob.pin/partitions/0"}},
      {{Base() + "/topics/bob.pin"}},
      {{Base() + "/topics/bob.pin/partitions"}},
      {{"-X", "POST", "-H", "Content-Type: application/vnd.kafka.v2+json", "--data",
        R"({"name":"c","format":"json"})", Base() + "/consumers/bob-group"}},
  };
  for (const auto& c : kafka) {
    auto r = Curl(alice, c.args);
    EXPECT_EQ(r.status, 403) << c.args.back() << " " << r.body;
    EXPECT_EQ(json::parse(r.body)["error_code"], 40301) << r.body;
  }
  EXPECT_EQ(json::parse(Curl(alice, {Base() + "/topics"}).body), json::parse(R"(["alice.pin"])"));
  EXPECT_EQ(json::parse(Curl(bob, {Base() + "/topics"}).body), json::parse(R"(["bob.pin"])"));
  // A consumer in alice's own group may not subscribe to bob's topic.
  ASSERT_EQ(
      Curl(alice, {"-X", "POST", "-H", "Content-Type: application/vnd.kafka.v2+json", "--data",
                   R"({"name":"c","format":"json"})", Base() + "/consumers/alice-group"})
          .status,
      200);
  auto sub = Curl(alice, {"-X", "POST", "-H", "Content-Type: application/vnd.kafka.v2+json",
                          "--data", R"({"topics":["bob.pin"]})",
                          Base() + "/consumers/alice-group/instances/c/subscription"});
  EXPECT_EQ(sub.status, 403) << sub.body;
  // Her cap is one instance.
  auto second =
      Curl(alice, {"-X", "POST", "-H", "Content-Type: application/vnd.kafka.v2+json", "--data",
                   R"({"name":"c2","format":"json"})", Base() + "/consumers/alice-group"});
  EXPECT_EQ(second.status, 429) << second.body;

  // Kinesis through the API Gateway routes.
  for (auto args : std::vector<std::vector<std::string>>{
           {"-X", "PUT", "-H", "Content-Type: application/json", "--data",
            R"({"Data":1,"PartitionKey":"p"})", Base() + "/streams/streaming-bob-pin/record"},
           {"-X", "POST", "--data", "{}", Base() + "/streams/streaming-bob-other"},
           {"-X", "DELETE", Base() + "/streams/streaming-bob-pin"},
           {Base() + "/streams/streaming-bob-pin"}}) {
    auto r = Curl(alice, args);
    EXPECT_EQ(r.status, 400) << args.back();
    EXPECT_EQ(json::parse(r.body)["__type"], "AccessDeniedException") << r.body;
  }
  auto streams = json::parse(Curl(alice, {Base() + "/streams"}).body);
  EXPECT_EQ(streams["StreamNames"], json::array());

  // Kinesis JSON 1.1 with the AWS SDK, signed with alice's key.
  auto sdk =
      Node({"AKIDALICE", "alice-sigv4-secret-env", "streaming-alice-sdk", "streaming-bob-pin"});
  EXPECT_EQ(sdk.exit_code, 0) << sdk.out << sdk.err;
  EXPECT_NE(sdk.out.find(R"(listed ["streaming-alice-sdk"])"), std::string::npos) << sdk.out;
  EXPECT_NE(sdk.out.find("OK"), std::string::npos) << sdk.out;
  // Wrong secret, unknown key, a signature 20 minutes old.
  auto wrong = Node({"AKIDALICE", "not-the-secret", "expect-auth-failure"});
  EXPECT_NE(wrong.out.find("auth-error InvalidSignatureException"), std::string::npos)
      << wrong.out << wrong.err;
  auto unknown = Node({"AKIDNOBODY", "whatever", "expect-auth-failure"});
  EXPECT_NE(unknown.out.find("auth-error UnrecognizedClientException"), std::string::npos)
      << unknown.out << unknown.err;
  auto stale = Node({"AKIDALICE", "alice-sigv4-secret-env", "expect-expired"});
  EXPECT_NE(stale.out.find("auth-error InvalidSignatureException Signature expired"),
            std::string::npos)
      << stale.out << stale.err;

  // Missing and wrong API keys; /metrics is the admin's.
  EXPECT_EQ(Produce("", "alice.pin").status, 401);
  EXPECT_EQ(Produce("alice-secret-key-2", "alice.pin").status, 403);
  EXPECT_EQ(Curl(alice, {Base() + "/metrics"}).status, 403);
  auto metrics = Curl("ops-admin-secret-key", {Base() + "/metrics"});
  EXPECT_EQ(metrics.status, 200);
  // The admin sees both tenants' topics; nothing of bob's was stored by alice.
  auto all = json::parse(Curl("ops-admin-secret-key", {Base() + "/topics"}).body);
  EXPECT_NE(std::find(all.begin(), all.end(), "bob.pin"), all.end());
  EXPECT_EQ(std::find(all.begin(), all.end(), "bob.new"), all.end());
  EXPECT_EQ(std::find(all.begin(), all.end(), "streaming-bob-other"), all.end());

  // Quota: bob has 20 records/s; a burst of 25 passes, then 429 + Retry-After.
  EXPECT_EQ(Produce(bob, "bob.pin", 25).status, 200);
  auto throttled = Produce(bob, "bob.pin", 1);
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  EXPECT_NE(throttled.headers.find("Retry-After: 1"), std::string::npos) << throttled.headers;
  EXPECT_EQ(Produce(alice, "alice.pin", 25).status, 200);  // alice is not held back

  // No secret in any answer, the server's log or `config show`.
  auto show = RunCommand({PinpipeBinary(), "--config", config_, "config", "show"}, "",
                         {{"TEST_ALICE_SIGV4", "alice-sigv4-secret-env"}});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("AKIDALICE"), std::string::npos);
  server_->Signal(SIGTERM);
  server_->Wait();
  const std::string everything = answers_ + show.out + show.err + server_->Output();
  for (const auto& secret : kSecrets) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
}

// One keep-alive connection across a SIGHUP that rotates bob's key: the
// connection stays open and its next request is judged by the new tenants.
TEST_F(TenantsTest, SighupReloadKeepsConnections) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto get = [&](const std::string& key) {
    const std::string req = "GET /topics HTTP/1.1\r\nHost: x\r\nx-api-key: " + key + "\r\n\r\n";
    EXPECT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    // Read one whole response (headers, then Content-Length bytes of body).
    std::string got;
    char buf[4096];
    size_t end = std::string::npos, length = 0;
    while (end == std::string::npos || got.size() < end + 4 + length) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return -1;
      got.append(buf, static_cast<size_t>(n));
      end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        const auto cl = got.find("Content-Length: ");
        length = cl < end ? std::stoul(got.substr(cl + 16)) : 0;
      }
    }
    return std::atoi(got.substr(9, 3).c_str());
  };
  EXPECT_EQ(get("bob-secret-key-from-file"), 200);
  std::ofstream(dir_ / "bob2.key") << "bob-rotated-key-0002\n";
  std::ofstream(config_) << TenantsToml(dir_ / "bob2.key", "api_keys_file");
  server_->Signal(SIGHUP);
  for (int i = 0; i < 50 && server_->Output().find("tenants: reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(get("bob-secret-key-from-file"), 403);  // same connection, new tenants
  EXPECT_EQ(get("bob-rotated-key-0002"), 200);
  // A broken file keeps the tenants in force.
  std::ofstream(config_) << "[[tenants]]\nname = \"x\"\n";
  server_->Signal(SIGHUP);
  for (int i = 0; i < 50 && server_->Output().find("reload of") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(get("bob-rotated-key-0002"), 200);
  close(fd);
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(server_->Output().find("bob-rotated-key-0002"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::testing
