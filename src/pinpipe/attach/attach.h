// attach: how a command reaches the log of a data folder.
//
// A server (`pinpipe serve` / `up`) opens the embedded log, which takes the
// folder's LOCK, and writes <general.data_dir>/kafka_api.address with the
// address of its Kafka protocol listener and its pid. A CLI command started
// beside it (consume, produce, topics, sink, stream, ...) then goes through
// that listener with pinpipe's KafkaBroker, so it sees the same topics, records
// and group offsets. `broker.bootstrap` (flag --bootstrap HOST:PORT) names the
// broker explicitly; with neither, the command opens the log itself.
//
// Thread-safety: free functions, safe to call from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"
#include "pinpipe/broker/broker.h"

namespace pinpipe::attach {

// The server that holds a data folder's log, from its address file.
struct RunningServer {
  std::string address;  // host:port of its Kafka protocol listener
  int64_t pid = 0;
};

// <general.data_dir>/kafka_api.address
std::string AddressFile(const Config& config);
// Writes "address pid\n" for this process (atomically: a reader never sees
// half a file). Unavailable when it cannot be written.
Status WriteAddressFile(const Config& config, const std::string& address);
// Removes the file if this process wrote it.
void RemoveAddressFile(const Config& config);
// The server named by the address file. NotFound when there is no file, it
// does not parse, or its process is gone (a server that was killed).
Result<RunningServer> ReadAddressFile(const Config& config);

// The broker of a CLI command:
//  - broker.bootstrap set: a Kafka client of that broker (a pinpipe or Kafka);
//  - else broker.type=kafka: a Kafka client of kafka.bootstrap.servers;
//  - else the embedded log in general.data_dir, or, when a running server
//    holds it, a Kafka client of that server. A log held by a process that
//    serves no Kafka protocol keeps its Unavailable (LOCK) error.
Result<std::unique_ptr<broker::Broker>> OpenCommandBroker(const Config& config);

// The broker of a server (serve, up): broker.type=kafka as above, else the
// embedded log itself; when another server holds it, Unavailable naming that
// process and its address ("... held by pinpipe pid N serving Kafka at H:P").
Result<std::unique_ptr<broker::Broker>> OpenServerBroker(const Config& config);

}  // namespace pinpipe::attach
