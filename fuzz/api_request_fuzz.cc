// Fuzzes the ingestion API's request handlers (Kafka REST produce, consumer
// and metadata routes, the Kinesis API Gateway routes and the native JSON 1.1
// actions) on an in-memory broker. The first input byte picks the route, the
// rest is the body. Invariants: no crash, every error response has the API's
// JSON error body, and a rejected produce stores nothing.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "memory_broker.h"
#include "pinpipe/api/service.h"

namespace {

struct Route {
  const char* method;
  const char* target;
  const char* content_type;
  const char* target_header;
};

constexpr Route kRoutes[] = {
    {"POST", "/topics/fuzz", "application/vnd.kafka.json.v2+json", nullptr},
    {"POST", "/topics/fuzz", "application/vnd.kafka.binary.v2+json", nullptr},
    {"POST", "/topics/fuzz/partitions/0", "application/vnd.kafka.json.v2+json", nullptr},
    {"POST", "/consumers/g", "application/vnd.kafka.v2+json", nullptr},
    {"POST", "/consumers/g/instances/i/subscription", "application/vnd.kafka.v2+json", nullptr},
    {"POST", "/consumers/g/instances/i/offsets", "application/vnd.kafka.v2+json", nullptr},
    {"PUT", "/streams/fz/record", "application/json", nullptr},
    {"PUT", "/streams/fz/records", "application/json", nullptr},
    {"POST", "/streams/fz", "application/json", nullptr},
    {"POST", "/", "application/x-amz-json-1.1", "Kinesis_20131202.PutRecord"},
    {"POST", "/", "application/x-amz-json-1.1", "Kinesis_20131202.PutRecords"},
    {"POST", "/", "application/x-amz-json-1.1", "Kinesis_20131202.CreateStream"},
    {"POST", "/", "application/x-amz-json-1.1", "Kinesis_20131202.GetShardIterator"},
    {"POST", "/", "application/x-amz-json-1.1", "Kinesis_20131202.GetRecords"},
    {"POST", "/", "application/x-amz-json-1.1", "Kinesis_20131202.ListShards"},
    {"GET", "/streams/fz/records", "", nullptr},
};

struct Fixture {
  pinpipe::testing::MemoryBroker broker;
  pinpipe::ManualClock clock;
  static pinpipe::api::ServiceOptions On(pinpipe::Clock* clock) {
    pinpipe::api::ServiceOptions options;
    options.clock = clock;
    return options;
  }
  pinpipe::api::Service service{broker, On(&clock)};
  Fixture() {
    (void)service.Open();
    (void)broker.CreateTopic("fuzz", {});
  }
};

int64_t StoredIn(pinpipe::testing::MemoryBroker& broker, const char* topic) {
  auto d = broker.DescribeTopic(topic);
  if (!d.ok()) return 0;
  int64_t n = 0;
  for (auto& p : d->partitions) n += p.high_watermark;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  if (size == 0) return 0;
  const Route& route = kRoutes[data[0] % (sizeof(kRoutes) / sizeof(kRoutes[0]))];
  pinpipe::http::Request req;
  req.method = route.method;
  req.target = req.path = route.target;
  if (route.content_type[0] != '\0') req.headers.emplace_back("content-type", route.content_type);
  if (route.target_header) req.headers.emplace_back("x-amz-target", route.target_header);
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  if (req.method == "GET") req.headers.emplace_back("shard-iterator", req.body);
  const int64_t before = StoredIn(f->broker, "fuzz");
  pinpipe::http::Response res;
  f->service.Handle(req, res);
  if (res.status < 200 || res.status > 599) std::abort();
  if (res.status >= 400) {
    simdjson::dom::parser parser;
    auto doc = parser.parse(res.body);
    if (doc.error() || !doc.is_object()) std::abort();
    if (StoredIn(f->broker, "fuzz") != before) std::abort();
  }
  return 0;
}
