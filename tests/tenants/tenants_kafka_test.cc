// The Kafka protocol of a shared `pinpipe serve` with [[tenants]]: kcat,
// confluent-kafka and kafkajs over SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, with a
// certificate made by openssl here), the isolation matrix on topics and
// consumer groups, the produce quota answered with throttle_time_ms, a
// certificate reload on SIGHUP that keeps open connections (Kafka and HTTP),
// and no secret in any output of the program.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

namespace pinpipe::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kAlicePassword[] = "alice-kafka-pass-77";
constexpr char kBobPassword[] = "bob-kafka-pass-88";

std::string Python() {
  const char* dir = std::getenv("PINPIPE_PEERS_DIR");
  const char* home = std::getenv("HOME");
  return (dir ? dir : std::string(home ? home : "/root") + "/.cache/pinpipe/peers") +
         "/venv/bin/python";
}

class TenantsKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_ / "cert.pem";
    key_ = dir_ / "key.pem";
    auto gen = RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           key_, "-out", cert_, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                           "subjectAltName=IP:127.0.0.1,DNS:localhost", "-set_serial", "1001"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    std::filesystem::copy_file(cert_, dir_ / "ca.pem");  // the client trusts this one
    // bob's verifiers come from `pinpipe auth scram`: the file holds no password.
    auto scram = RunCommand({PinpipeBinary(), "auth", "scram", "--user", "bob"},
                            std::string(kBobPassword) + "\n");
    ASSERT_EQ(scram.exit_code, 0) << scram.err;
    ASSERT_EQ(scram.out.find(kBobPassword), std::string::npos);
    bob_verifiers_ = scram.out;
    config_ = dir_ / "tenants.toml";
    std::ofstream(config_) << "[api]\ntls_cert = \"" << cert_.string() << "\"\ntls_key = \""
                           << key_.string() << "\"\n"
                           << R"(
[[tenants]]
name = "alice"
prefixes = ["alice"]
api_keys = ["alice-rest-key-5"]
[[tenants.sasl]]
user = "alice"
password = ")" << kAlicePassword
                           << R"("

[[tenants]]
name = "bob"
prefixes = ["bob"]
api_keys = ["bob-rest-key-6"]
records_per_s = 100
)" << bob_verifiers_ << R"(
[[tenants]]
name = "ops"
admin = true
api_keys = ["ops-admin-key-7"]
)";
    http_port_ = PickFreePort();
    kafka_port_ = PickFreePort();
    server_ = std::make_unique<Process>(
        ProcessOptions{.argv = {PinpipeBinary(), "--config", config_, "serve", "--listen",
                                "127.0.0.1:" + std::to_string(http_port_), "--kafka-listen",
                                Bootstrap(), "--data-dir", dir_ / "data"}});
    ASSERT_TRUE(WaitForPort(kafka_port_, 20s)) << server_->Output();
    ASSERT_TRUE(WaitForPort(http_port_, 20s)) << server_->Output();
  }

  std::string Bootstrap() const { return "127.0.0.1:" + std::to_string(kafka_port_); }

  // kcat as `user` over SASL_SSL with `mechanism` ("" = SSL without SASL).
  CommandResult Kcat(const std::string& mechanism, const std::string& user,
                     const std::string& password, std::vector<std::string> args,
                     const std::string& input = "") {
    std::vector<std::string> argv = {"kcat", "-b", Bootstrap(), "-X",
                                     "ssl.ca.location=" + std::string(dir_ / "ca.pem")};
    if (mechanism.empty()) {
      argv.insert(argv.end(), {"-X", "security.protocol=SSL"});
    } else {
      argv.insert(argv.end(),
                  {"-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=" + mechanism, "-X",
                   "sasl.username=" + user, "-X", "sasl.password=" + password});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, input, {}, 60s);
    outputs_ += r.out + r.err;
    return r;
  }

  // Everything the program printed or answered, and `config show`.
  std::string Everything() {
    auto show = RunCommand({PinpipeBinary(), "--config", config_, "config", "show"});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    return outputs_ + show.out + show.err + server_->Output();
  }

  TempDir dir_;
  std::filesystem::path cert_, key_, config_;
  std::string bob_verifiers_;
  int http_port_ = 0, kafka_port_ = 0;
  std::unique_ptr<Process> server_;
  std::string outputs_;
};

TEST_F(TenantsKafkaTest, KcatOverSaslSslWithPlainAndScram) {
  ASSERT_EQ(RunCommand({"kcat", "-V"}).exit_code, 0)
      << "kcat is missing: run scripts/install-deps --test";
  // alice with PLAIN, bob with SCRAM-SHA-512: each produces and reads back its own topic.
  auto p = Kcat("PLAIN", "alice", kAlicePassword, {"-P", "-t", "alice.kcat"}, "a1\na2\n");
  ASSERT_EQ(p.exit_code, 0) << p.err << server_->Output();
  auto c = Kcat("PLAIN", "alice", kAlicePassword,
                {"-C", "-t", "alice.kcat", "-o", "beginning", "-e", "-q"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "a1\na2\n");
  p = Kcat("SCRAM-SHA-512", "bob", kBobPassword, {"-P", "-t", "bob.kcat"}, "b1\n");
  ASSERT_EQ(p.exit_code, 0) << p.err << server_->Output();
  c = Kcat("SCRAM-SHA-512", "bob", kBobPassword,
           {"-C", "-t", "bob.kcat", "-o", "beginning", "-e", "-q"});
  EXPECT_EQ(c.out, "b1\n") << c.err;

  // Metadata lists only the tenant's topics.
  auto l = Kcat("SCRAM-SHA-512", "bob", kBobPassword, {"-L"});
  EXPECT_NE(l.out.find("\"bob.kcat\""), std::string::npos) << l.out;
  EXPECT_EQ(l.out.find("alice"), std::string::npos) << l.out;

  // alice on bob's topic: refused, nothing stored, nothing read.
  p = Kcat("PLAIN", "alice", kAlicePassword, {"-P", "-t", "bob.kcat"}, "intruder\n");
  EXPECT_NE(p.exit_code, 0);
  EXPECT_NE((p.out + p.err).find("Topic authorization failed"), std::string::npos) << p.err;
  c = Kcat("PLAIN", "alice", kAlicePassword, {"-C", "-t", "bob.kcat", "-o", "beginning", "-e"});
  EXPECT_EQ(c.out.find("b1"), std::string::npos) << c.out;
  c = Kcat("SCRAM-SHA-512", "bob", kBobPassword,
           {"-C", "-t", "bob.kcat", "-o", "beginning", "-e", "-q"});
  EXPECT_EQ(c.out, "b1\n");

  // Wrong password, wrong mechanism's user, and TLS without SASL: refused.
  auto bad = Kcat("PLAIN", "alice", "not-the-password", {"-L", "-m", "5"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("Authentication failed"), std::string::npos) << bad.err;
  bad = Kcat("SCRAM-SHA-256", "alice", "not-the-password", {"-L", "-m", "5"});
  EXPECT_NE(bad.exit_code, 0);
  bad = Kcat("", "", "", {"-L", "-m", "5"});
  EXPECT_NE(bad.exit_code, 0) << bad.out;
  EXPECT_EQ(bad.out.find("alice.kcat"), std::string::npos);

  const std::string everything = Everything();
  for (const std::string& secret :
       {std::string(kAlicePassword), std::string(kBobPassword), std::string("alice-rest-key-5"),
        std::string("bob-rest-key-6"), std::string("ops-admin-key-7")}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << "leaked: " << secret;
  }
  // Nor the verifiers (they are secrets too: `config show` masks them).
  for (const std::string& line :
       {std::string("scram_sha256 = \""), std::string("scram_sha512 = \"")}) {
    const size_t at = bob_verifiers_.find(line);
    ASSERT_NE(at, std::string::npos);
    const std::string stored_key = bob_verifiers_.substr(at + line.size(), 40);
    EXPECT_EQ(everything.find(stored_key), std::string::npos) << "verifier leaked";
  }
}

TEST_F(TenantsKafkaTest, ConfluentKafkaIsolationMatrixAndQuota) {
  auto r = RunCommand({Python(), SourceDir() + "/tests/tenants/tenant_kafka.py", Bootstrap(),
                       dir_ / "ca.pem", kAlicePassword, kBobPassword},
                      "", {}, 180s);
  outputs_ += r.out + r.err;
  ASSERT_EQ(r.exit_code, 0) << "(confluent-kafka from scripts/install-peers) " << r.err
                            << server_->Output();
  const json o = json::parse(r.out);
  SCOPED_TRACE(o.dump(1));
  EXPECT_EQ(o["bob_produce_own"], json({"ok"}));
  EXPECT_EQ(o["alice_produce_own"], json({"ok"}));
  EXPECT_EQ(o["alice_produce_bobs"], json({"TOPIC_AUTHORIZATION_FAILED"}));
  for (const auto& t : o["alice_topics"]) {
    EXPECT_TRUE(t.get<std::string>().starts_with("alice.")) << t;
  }
  EXPECT_EQ(o["alice_consume_own"][0], json({"alice0", "alice1"}));
  EXPECT_EQ(o["alice_consume_own"][1], json::array());
  EXPECT_EQ(o["alice_consume_bobs_topic"][0], json::array());
  EXPECT_EQ(o["alice_consume_bobs_topic"][1], json({"TOPIC_AUTHORIZATION_FAILED"}));
  EXPECT_EQ(o["alice_with_bobs_group"][0], json::array());
  EXPECT_EQ(o["alice_with_bobs_group"][1], json({"GROUP_AUTHORIZATION_FAILED"}));
  // bob reads exactly his three records: alice's refused produce stored nothing.
  EXPECT_EQ(o["bob_consume_own"][0], json({"bob0", "bob1", "bob2"}));
  for (const char* refused : {"wrong_password", "unknown_user"}) {
    const auto& errors = o[refused];
    EXPECT_NE(std::find(errors.begin(), errors.end(), "_AUTHENTICATION"), errors.end()) << refused;
    EXPECT_EQ(std::find(errors.begin(), errors.end(), "accepted"), errors.end()) << refused;
  }
  // 300 records at 100/s: the next produce is held about two seconds.
  EXPECT_GE(o["quota_throttle_ms"].get<double>(), 1000);
  EXPECT_GE(o["quota_second_flush_s"].get<double>(), 1.0);

  const std::string everything = Everything();
  EXPECT_EQ(everything.find(kAlicePassword), std::string::npos);
  EXPECT_EQ(everything.find(kBobPassword), std::string::npos);
}

TEST_F(TenantsKafkaTest, KafkajsOverSaslSslWithPlainAndScram) {
  const std::string modules = SourceDir() + "/tests/peers/node_modules";
  ASSERT_TRUE(std::filesystem::exists(modules + "/kafkajs"))
      << "kafkajs missing: run (cd tests/peers && npm ci)";
  auto r = RunCommand({"node", SourceDir() + "/tests/tenants/tenant_kafkajs.js", Bootstrap(),
                       dir_ / "ca.pem", kAlicePassword, kBobPassword},
                      "", {{"NODE_PATH", modules}}, 150s);
  outputs_ += r.out + r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err << server_->Output();
  const json o = json::parse(r.out);
  SCOPED_TRACE(o.dump(1));
  // alice logs in with each mechanism, writes her topic and lists only her topics.
  for (const char* mechanism : {"plain", "scram-sha-256", "scram-sha-512"}) {
    EXPECT_EQ(o["alice"][mechanism]["produce_own"], "ok") << mechanism;
    EXPECT_EQ(o["alice"][mechanism]["list_topics"], json({"alice.js"})) << mechanism;
  }
  // Her group alice-js reads the three records, one per mechanism.
  json values = o["alice_consume_own"]["values"];
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, json({"plain", "scram-sha-256", "scram-sha-512"}));
  EXPECT_TRUE(o["alice_consume_own"]["error"].is_null());
  // bob's topic and bob's group: refused with Kafka's ACL errors.
  EXPECT_EQ(o["alice_produce_bobs"], "TOPIC_AUTHORIZATION_FAILED");
  // kafkajs turns the refused FindCoordinator into an error of its own; the
  // broker's answer is in its debug log.
  EXPECT_EQ(o["alice_with_bobs_group"]["error"],
            "KafkaJSGroupCoordinatorNotFound: Failed to find group coordinator");
  EXPECT_EQ(o["alice_with_bobs_group"]["broker_errors"], json({"GROUP_AUTHORIZATION_FAILED"}));
  EXPECT_EQ(o["alice_with_bobs_group"]["values"], json::array());
  EXPECT_EQ(o["alice_metadata_topics"], json({"alice.js"}));
  EXPECT_EQ(o["alice_metadata_bobs"], "TOPIC_AUTHORIZATION_FAILED");
  // AlterConfigs on her topic works; bob's topic and the broker are refused, and
  // bob's retention stays the default.
  EXPECT_EQ(o["alice_alter_own"], "ok");
  EXPECT_EQ(o["alice_retention"], json({"7200000"}));
  EXPECT_EQ(o["alice_alter_bobs"], "TOPIC_AUTHORIZATION_FAILED");
  EXPECT_EQ(o["alice_alter_broker"], "CLUSTER_AUTHORIZATION_FAILED");
  EXPECT_EQ(o["bob_retention_source"], json({5}));  // DEFAULT_CONFIG
  // ListGroups: each tenant sees only its own groups.
  EXPECT_EQ(o["alice_groups"], json({"alice-js"}));
  EXPECT_EQ(o["bob_groups"], json({"bob-js"}));
  // A wrong password is refused at login.
  for (const char* mechanism : {"plain", "scram-sha-256"}) {
    const std::string refused = o["wrong_password"][mechanism];
    EXPECT_TRUE(refused.starts_with("KafkaJSSASLAuthenticationError: SASL")) << refused;
    EXPECT_NE(refused.find("authentication failed"), std::string::npos) << refused;
  }
  // bob's topic holds exactly his two records: nothing of alice's refused produce.
  EXPECT_EQ(o["bob_high_watermark"], 2);
  EXPECT_EQ(o["bob_consume_own"]["values"], json({"b0", "b1"}));

  const std::string everything = Everything();
  EXPECT_EQ(everything.find(kAlicePassword), std::string::npos);
  EXPECT_EQ(everything.find(kBobPassword), std::string::npos);
}

TEST_F(TenantsKafkaTest, SighupReloadsCertificatesAndKeepsConnections) {
  auto r = RunCommand(
      {"python3", SourceDir() + "/tests/tenants/tls_reload.py", std::to_string(server_->pid()),
       std::to_string(kafka_port_), std::to_string(http_port_), cert_, key_, "2002"},
      "", {}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err << server_->Output();
  const json o = json::parse(r.out);
  SCOPED_TRACE(o.dump(1));
  EXPECT_EQ(o["kafka_serial_before"], "03E9");  // 1001
  EXPECT_EQ(o["http_serial_before"], "03E9");
  EXPECT_EQ(o["kafka_serial_after"], "07D2");  // 2002
  EXPECT_EQ(o["http_serial_after"], "07D2");
  EXPECT_EQ(o["kafka_old_before"], json({1, 0}));
  EXPECT_EQ(o["kafka_old_after"], json({2, 0}));  // the old connection still answers
  EXPECT_EQ(o["http_old_before"], "HTTP/1.1 200 OK");
  EXPECT_EQ(o["http_old_after"], "HTTP/1.1 200 OK");
}

}  // namespace
}  // namespace pinpipe::testing
