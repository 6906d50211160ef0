// kafka_group_worker: one consumer-group member for multi-process tests.
//
//   kafka_group_worker BOOTSTRAP TOPIC GROUP
//
// Polls, prints "R <partition> <offset> <value>" for every record, commits the
// batch, then prints "C <partition> <next-offset>" per committed partition and
// "A <n>" whenever it is assigned n partitions. Lines are flushed at once, so a
// test that kills the process knows what it read and what it committed.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "pinpipe/kafka/kafka_broker.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP TOPIC GROUP\n", argv[0]);
    return 2;
  }
  pinpipe::kafka::Properties props = {{"bootstrap.servers", argv[1]},
                                      {"session.timeout.ms", "4500"},
                                      {"heartbeat.interval.ms", "300"},
                                      {"log_level", "3"}};
  // KAFKA_DEBUG=cgrp,fetch,...: librdkafka debug contexts, logged to stderr.
  if (const char* debug = std::getenv("KAFKA_DEBUG"); debug != nullptr) {
    props["debug"] = debug;
    props["log_level"] = "7";
    spdlog::set_default_logger(spdlog::stderr_logger_mt("worker"));
    spdlog::set_level(spdlog::level::debug);
  }
  auto broker = pinpipe::kafka::NewKafkaBroker(props);
  if (!broker.ok()) {
    std::fprintf(stderr, "%s\n", broker.status().ToString().c_str());
    return 1;
  }
  auto consumer = (*broker)->CreateConsumer({.group = argv[3], .client_id = "worker"});
  if (!consumer.ok()) {
    std::fprintf(stderr, "%s\n", consumer.status().ToString().c_str());
    return 1;
  }
  (*consumer)->SetRebalanceListener(
      {.on_assign =
           [](const std::vector<pinpipe::broker::TopicPartition>& tps) {
             std::printf("A %zu\n", tps.size());
             std::fflush(stdout);
           },
       .on_revoke = {}});
  if (auto s = (*consumer)->Subscribe({argv[2]}); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  while (true) {
    auto records = (*consumer)->Poll(50, 200);
    if (!records.ok()) {
      std::fprintf(stderr, "%s\n", records.status().ToString().c_str());
      continue;
    }
    std::map<int32_t, int64_t> next;
    for (const auto& r : *records) {
      std::printf("R %d %lld %s\n", r.partition, static_cast<long long>(r.offset),
                  r.value.value_or("").c_str());
      next[r.partition] = r.offset + 1;
    }
    std::fflush(stdout);
    if (next.empty()) continue;
    std::vector<pinpipe::broker::TopicPartitionOffset> offsets;
    for (const auto& [p, o] : next) offsets.push_back({argv[2], p, o});
    if (auto s = (*consumer)->Commit(offsets); !s.ok()) {
      std::fprintf(stderr, "commit: %s\n", s.ToString().c_str());
      continue;
    }
    for (const auto& [p, o] : next) std::printf("C %d %lld\n", p, static_cast<long long>(o));
    std::fflush(stdout);
  }
}
