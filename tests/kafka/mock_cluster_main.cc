// kafka_mock_cluster: librdkafka's mock Kafka cluster as a process, so that
// several processes (pinpipe servers, workers, kcat) share one cluster.
//
//   kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...
//
// Prints the bootstrap servers ("127.0.0.1:p1,127.0.0.1:p2,...") as the first
// line of stdout once the cluster is up and the topics exist, then runs until
// SIGTERM or SIGINT. The mock is not a real broker: see docs/kafka.md.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pinpipe/kafka/mock_cluster.h"

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (arg == "--topic" && i + 1 < argc) {
      std::string spec = argv[++i];
      auto colon = spec.rfind(':');
      if (colon == std::string::npos) {
        topics.emplace_back(spec, 1);
      } else {
        topics.emplace_back(spec.substr(0, colon), std::atoi(spec.c_str() + colon + 1));
      }
    } else {
      std::fprintf(stderr, "usage: %s [--brokers N] [--topic NAME:PARTITIONS]...\n", argv[0]);
      return 2;
    }
  }
  // Block the stop signals before librdkafka starts its threads, then wait for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto cluster = pinpipe::kafka::MockCluster::Start(brokers);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    pinpipe::Status s = (*cluster)->CreateTopic(name, partitions);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::printf("%s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}
