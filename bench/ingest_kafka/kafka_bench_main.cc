// kafka_bench: KafkaBroker::Produce against librdkafka's in-process mock
// cluster (3 brokers, 6 partitions), 1/100/500 records per call from one
// caller (keyed over all partitions, and all to partition 0), and kcat producing the same records
// in bulk as the peer. Prints one JSON document for bench/ingest_kafka/run.
//
//   kafka_bench SECONDS_PER_CASE [KEY=VALUE]...   (extra librdkafka properties)
//
// The mock keeps everything in memory and is not a real cluster: the numbers
// measure the client side (pinpipe + librdkafka), not Kafka.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pinpipe/kafka/kafka_broker.h"
#include "pinpipe/kafka/mock_cluster.h"

namespace {

using Clock = std::chrono::steady_clock;

// A pin-like JSON value of about 600 bytes.
std::string PinValue(int i) {
  std::string v = "{\"index\":" + std::to_string(i) +
                  ",\"unique_id\":\"fbe53c66-3442-4773-b19e-d3ec6f54dddf\",\"title\":\"No Title "
                  "Data Available\",\"description\":\"No description available Story format\","
                  "\"poster_name\":\"User Info Error\",\"follower_count\":\"User Info Error\","
                  "\"tag_list\":\"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e\",\"is_image_or_video\":"
                  "\"multi-video(story page format)\",\"image_src\":\"Image src error.\","
                  "\"downloaded\":0,\"save_location\":\"Local save in /data/home-decor\","
                  "\"category\":\"home-decor\",\"padding\":\"";
  v.append(600 - std::min<size_t>(600, v.size() + 2), 'x');
  v += "\"}";
  return v;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  auto mock = pinpipe::kafka::MockCluster::Start(3);
  if (!mock.ok()) return 1;
  if (!(*mock)->CreateTopic("bench", 6).ok() || !(*mock)->CreateTopic("bench_kcat", 6).ok()) {
    return 1;
  }
  auto broker = pinpipe::kafka::NewKafkaBroker(pinpipe::kafka::Properties{
      {"bootstrap.servers", (*mock)->bootstrap_servers()}, {"log_level", "3"}});
  if (!broker.ok()) {
    std::fprintf(stderr, "%s\n", broker.status().ToString().c_str());
    return 1;
  }
  std::string out =
      "{\"mock_brokers\":3,\"partitions\":6,\"value_bytes\":" + std::to_string(PinValue(0).size()) +
      ",\"cases\":[";
  int seq = 0;
  const std::pair<int, bool> cases[] = {
      {1, false}, {100, false}, {500, false}, {100, true}, {500, true}};
  for (const auto& [batch, one_partition] : cases) {
    std::vector<pinpipe::broker::Record> records(batch);
    std::vector<double> latencies_ms;
    int64_t count = 0, bytes = 0, errors = 0;
    auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
      for (auto& r : records) {
        r.key = "user-" + std::to_string(seq % 1000);
        r.partition = one_partition ? 0 : pinpipe::broker::kAnyPartition;
        r.value = PinValue(seq++);
        bytes += static_cast<int64_t>(r.key->size() + r.value->size());
      }
      auto t0 = Clock::now();
      auto acks = (*broker)->Produce("bench", records);
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!acks.ok()) return 1;
      for (const auto& a : *acks) errors += a.error.ok() ? 0 : 1;
      count += batch;
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s{\"records_per_call\":%d,\"one_partition\":%s,\"calls\":%zu,\"records\":%lld,"
                  "\"errors\":%lld,"
                  "\"seconds\":%.3f,\"records_per_s\":%.0f,\"mb_per_s\":%.2f,\"p50_ms\":%.3f,"
                  "\"p99_ms\":%.3f}",
                  out.back() == '[' ? "" : ",", batch, one_partition ? "true" : "false",
                  latencies_ms.size(), static_cast<long long>(count),
                  static_cast<long long>(errors), elapsed, static_cast<double>(count) / elapsed,
                  static_cast<double>(bytes) / elapsed / 1e6, Percentile(latencies_ms, 0.5),
                  Percentile(latencies_ms, 0.99));
    out += buf;
  }
  out += "]";

  // Peer: kcat (librdkafka underneath, asynchronous, same idempotent acks=all
  // settings) producing 50000 of the same values in bulk from a file.
  const int kcat_records = 50000;
  std::string path = "/tmp/kafka_bench_values_" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return 1;
  int64_t kcat_bytes = 0;
  for (int i = 0; i < kcat_records; ++i) {
    std::string v = PinValue(i);
    kcat_bytes += static_cast<int64_t>(v.size());
    std::fprintf(f, "%s\n", v.c_str());
  }
  std::fclose(f);
  std::string cmd = "kcat -P -q -b " + (*mock)->bootstrap_servers() +
                    " -t bench_kcat -X enable.idempotence=true -X acks=all -l " + path +
                    " >/dev/null 2>&1";
  auto t0 = Clock::now();
  int rc = std::system(cmd.c_str());
  double kcat_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::remove(path.c_str());
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      ",\"kcat\":{\"exit_code\":%d,\"records\":%d,\"seconds\":%.3f,\"records_per_s\":%.0f,"
      "\"mb_per_s\":%.2f}}",
      rc, kcat_records, kcat_s, kcat_records / kcat_s,
      static_cast<double>(kcat_bytes) / kcat_s / 1e6);
  out += buf;
  std::printf("%s\n", out.c_str());
  return 0;
}
