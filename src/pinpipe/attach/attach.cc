#include "pinpipe/attach/attach.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "pinpipe/embedded/embedded_broker.h"
#include "pinpipe/kafka/kafka_broker.h"

namespace pinpipe::attach {
namespace {

namespace fs = std::filesystem;

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Result<std::unique_ptr<broker::Broker>> KafkaClientOf(const Config& config,
                                                      const std::string& bootstrap) {
  Config through = config;
  PINPIPE_RETURN_IF_ERROR(through.Set("broker.type", "kafka"));
  PINPIPE_RETURN_IF_ERROR(through.Set("kafka.bootstrap.servers", bootstrap));
  return kafka::NewKafkaBroker(through);
}

}  // namespace

std::string AddressFile(const Config& config) {
  return config.Get("general.data_dir") + "/kafka_api.address";
}

Status WriteAddressFile(const Config& config, const std::string& address) {
  const std::string path = AddressFile(config);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << address << " " << ::getpid() << "\n";
    out.close();
    if (!out) return UnavailableError("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return UnavailableError("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

void RemoveAddressFile(const Config& config) {
  auto running = ReadAddressFile(config);
  if (running.ok() && running->pid != ::getpid()) return;  // another server's
  std::error_code ec;
  fs::remove(AddressFile(config), ec);
}

Result<RunningServer> ReadAddressFile(const Config& config) {
  std::ifstream in(AddressFile(config));
  RunningServer s;
  if (!(in >> s.address >> s.pid)) return NotFoundError("no running server");
  if (!ProcessAlive(s.pid)) {
    return NotFoundError("the server in " + AddressFile(config) + " (pid " + std::to_string(s.pid) +
                         ") is gone");
  }
  return s;
}

namespace {

// The broker broker.type names: librdkafka for "kafka", the log under
// general.data_dir for "embedded". `log_locked` is set when that log is held
// by another process (Unavailable), which may be a running `serve`/`up`.
Result<std::unique_ptr<broker::Broker>> OpenBrokerOfType(const Config& config, bool* log_locked) {
  *log_locked = false;
  const std::string& type = config.Get("broker.type");
  if (type == "kafka") return kafka::NewKafkaBroker(config);
  if (type != "embedded") {
    return InvalidArgumentError("broker.type must be 'embedded' or 'kafka', not '" + type + "'");
  }
  auto broker = embedded::EmbeddedBroker::Open(config);
  if (broker.ok()) return std::unique_ptr<broker::Broker>(std::move(*broker));
  *log_locked = broker.status().code() == StatusCode::kUnavailable;
  return broker.status();
}

}  // namespace

Result<std::unique_ptr<broker::Broker>> OpenCommandBroker(const Config& config) {
  if (const std::string& bootstrap = config.Get("broker.bootstrap"); !bootstrap.empty()) {
    return KafkaClientOf(config, bootstrap);
  }
  bool log_locked = false;
  auto broker = OpenBrokerOfType(config, &log_locked);
  if (!log_locked) return broker;
  // The log is locked by a running `serve`/`up`: go through its Kafka
  // protocol instead, with the same topics and group offsets.
  auto running = ReadAddressFile(config);
  if (!running.ok()) return broker;
  spdlog::info("the log is in use by pinpipe (pid {}): going through its Kafka protocol at {}",
               running->pid, running->address);
  return KafkaClientOf(config, running->address);
}

Result<std::unique_ptr<broker::Broker>> OpenServerBroker(const Config& config) {
  bool log_locked = false;
  auto broker = OpenBrokerOfType(config, &log_locked);
  if (log_locked) {
    if (auto running = ReadAddressFile(config); running.ok()) {
      return broker.status().WithContext("held by pinpipe pid " + std::to_string(running->pid) +
                                         " serving Kafka at " + running->address);
    }
  }
  return broker;
}

}  // namespace pinpipe::attach
