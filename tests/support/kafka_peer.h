// Apache Kafka as a test peer: KRaft brokers on 127.0.0.1 (scripts/kafka-peer
// runs them from the Maven Central jars scripts/install-peers fetched) and its
// console tools. A JVM takes seconds to start on a busy 2-core machine, so a
// test binary starts its brokers once and shares them between its tests.
//
// Each node listens on PLAINTEXT; with `secure`, node 1 also listens on SSL and
// on SASL_SSL (SCRAM-SHA-256), with a CA and a server certificate for
// 127.0.0.1 made here with openssl; SASL users: SCRAM-SHA-256 (made when the
// storage is formatted) and PLAIN (in the listener's JAAS config).
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace pinpipe::testing {

struct KafkaPeerOptions {
  int nodes = 1;
  bool secure = false;
  std::vector<std::string> sets;  // extra server.properties lines for every node
};

class KafkaPeer {
 public:
  static constexpr const char* kScramUser = "pinpipe-test";
  static constexpr const char* kScramPassword = "scram-secret-17";
  static constexpr const char* kPlainUser = "pinpipe-plain";
  static constexpr const char* kPlainPassword = "plain-secret-17";

  // Starts the nodes and waits until the cluster answers. On failure returns
  // null and says why in `error` (a missing peer is a failure, never a skip).
  static std::unique_ptr<KafkaPeer> Start(const KafkaPeerOptions& options, std::string* error) {
    auto peer = std::unique_ptr<KafkaPeer>(new KafkaPeer());
    auto libs = RunCommand({peer->Script(), "--libs"});
    if (libs.exit_code != 0) {
      *error = "Apache Kafka peer missing: " + libs.err;
      return nullptr;
    }
    if (options.secure && !peer->MakeCertificates(error)) return nullptr;
    std::string voters;
    for (int i = 0; i < options.nodes; ++i) {
      peer->ports_.push_back(PickFreePort());
      peer->controller_ports_.push_back(PickFreePort());
      voters += (i ? "," : "") + std::to_string(i + 1) +
                "@127.0.0.1:" + std::to_string(peer->controller_ports_.back());
    }
    if (options.secure) {
      peer->ssl_port_ = PickFreePort();
      peer->sasl_port_ = PickFreePort();
    }
    peer->voters_ = voters;
    peer->options_ = options;
    for (int i = 0; i < options.nodes; ++i) {
      peer->nodes_.push_back(peer->StartNode(i, voters, options));
    }
    for (int i = 0; i < options.nodes; ++i) {
      if (!WaitForPort(peer->ports_[i], std::chrono::seconds(120))) {
        *error =
            "Kafka node " + std::to_string(i + 1) + " did not start:\n" + peer->nodes_[i]->Output();
        return nullptr;
      }
    }
    // The port opens before the broker has joined the quorum: wait until an
    // admin request succeeds.
    for (int attempt = 0;; ++attempt) {
      auto r = peer->Tool({"topics", "--bootstrap-server", peer->bootstrap(), "--list"});
      if (r.exit_code == 0) break;
      if (attempt == 20) {
        *error = "Kafka did not answer kafka-topics --list: " + r.err;
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    return peer;
  }

  // PLAINTEXT bootstrap of every running node.
  std::string bootstrap() const {
    std::string out;
    for (size_t i = 0; i < ports_.size(); ++i) {
      out += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(ports_[i]);
    }
    return out;
  }
  std::string ssl_bootstrap() const { return "127.0.0.1:" + std::to_string(ssl_port_); }
  std::string sasl_bootstrap() const { return "127.0.0.1:" + std::to_string(sasl_port_); }
  std::string ca_file() const { return dir_ / "ca.pem"; }
  const TempDir& dir() const { return dir_; }

  // The environment that points pinpipe (broker.type=kafka) at this cluster.
  std::map<std::string, std::string> Env() const {
    return {{"PINPIPE_BROKER_TYPE", "kafka"}, {"PINPIPE_KAFKA_BOOTSTRAP_SERVERS", bootstrap()}};
  }

  // Stops node i (0-based) the way an operator does (SIGTERM, controlled shutdown).
  int StopNode(int i) { return nodes_[i]->Stop(std::chrono::seconds(60)); }

  // Starts node i again after StopNode (same folder, ports and cluster); false
  // if its port does not open within two minutes.
  bool RestartNode(int i) {
    nodes_[i] = StartNode(i, voters_, options_);
    return WaitForPort(ports_[i], std::chrono::seconds(120));
  }

  // A Kafka console tool (scripts/kafka-peer TOOL ARGS...).
  CommandResult Tool(std::vector<std::string> args, const std::string& input = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(120)) const {
    args.insert(args.begin(), Script());
    return RunCommand(args, input, {}, timeout);
  }

  static std::string Script() { return SourceDir() + "/scripts/kafka-peer"; }

 private:
  KafkaPeer() = default;

  std::unique_ptr<Process> StartNode(int i, const std::string& voters,
                                     const KafkaPeerOptions& options) {
    const std::string node = std::to_string(i + 1);
    std::vector<std::string> argv = {Script(),
                                     "broker",
                                     "--dir",
                                     dir_ / ("node" + node),
                                     "--node-id",
                                     node,
                                     "--port",
                                     std::to_string(ports_[i]),
                                     "--controller-port",
                                     std::to_string(controller_ports_[i]),
                                     "--voters",
                                     voters};
    auto set = [&](const std::string& line) {
      argv.push_back("--set");
      argv.push_back(line);
    };
    if (options.secure && i == 0) {
      const std::string p = std::to_string(ports_[i]), c = std::to_string(controller_ports_[i]);
      const std::string s = std::to_string(ssl_port_), a = std::to_string(sasl_port_);
      set("listeners=PLAINTEXT://127.0.0.1:" + p + ",CONTROLLER://127.0.0.1:" + c +
          ",SSL://127.0.0.1:" + s + ",SASL_SSL://127.0.0.1:" + a);
      set("advertised.listeners=PLAINTEXT://127.0.0.1:" + p + ",SSL://127.0.0.1:" + s +
          ",SASL_SSL://127.0.0.1:" + a);
      set("ssl.keystore.type=PEM");
      set("ssl.keystore.location=" + (dir_ / "server.pem"));
      set("ssl.truststore.type=PEM");
      set("ssl.truststore.location=" + ca_file());
      set("sasl.enabled.mechanisms=SCRAM-SHA-256,PLAIN");
      set("listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config="
          "org.apache.kafka.common.security.scram.ScramLoginModule required;");
      set(std::string("listener.name.sasl_ssl.plain.sasl.jaas.config="
                      "org.apache.kafka.common.security.plain.PlainLoginModule required user_") +
          kPlainUser + "=\"" + kPlainPassword + "\";");
      argv.push_back("--scram");
      argv.push_back(std::string("SCRAM-SHA-256=[name=") + kScramUser +
                     ",password=" + kScramPassword + "]");
    }
    for (const auto& line : options.sets) set(line);
    return std::make_unique<Process>(ProcessOptions{argv, {}});
  }

  // A CA and a server certificate for 127.0.0.1 (the name clients verify).
  bool MakeCertificates(std::string* error) {
    const std::string d = dir_.path().string();
    const std::vector<std::vector<std::string>> steps = {
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
         "/CN=pinpipe test CA", "-keyout", d + "/ca.key", "-out", d + "/ca.pem"},
        {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
         d + "/server.key", "-out", d + "/server.csr"},
        {"sh", "-c",
         "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > " + d + "/san.ext && " +
             "openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
             "/ca.key -CAcreateserial -days 2 -extfile " + d + "/san.ext -out " + d +
             "/server.crt"},
        // Kafka's PEM keystore: an unencrypted PKCS#8 key, then the certificate chain.
        {"sh", "-c",
         "openssl pkcs8 -topk8 -nocrypt -in " + d + "/server.key > " + d + "/server.pem && cat " +
             d + "/server.crt >> " + d + "/server.pem"},
    };
    for (const auto& step : steps) {
      auto r = RunCommand(step);
      if (r.exit_code != 0) {
        *error = "openssl failed: " + r.err;
        return false;
      }
    }
    return true;
  }

  TempDir dir_;
  std::string voters_;
  KafkaPeerOptions options_;
  std::vector<int> ports_, controller_ports_;
  int ssl_port_ = 0, sasl_port_ = 0;
  std::vector<std::unique_ptr<Process>> nodes_;
};

}  // namespace pinpipe::testing
