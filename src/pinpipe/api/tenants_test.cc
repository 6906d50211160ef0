// The isolation matrix at the API layer: tenant alice's credentials on bob's
// topics, groups and streams are refused with each API's own error and
// nothing is stored; listings show only the tenant's names; quotas answer as
// the API would. Through Service::Handle on a MemoryBroker.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "memory_broker.h"
#include "pinpipe/api/service.h"

namespace pinpipe::api {
namespace {

using nlohmann::json;

constexpr char kRestJsonType[] = "application/vnd.kafka.json.v2+json";
constexpr char kTenants[] = R"(
[[tenants]]
name = "alice"
prefixes = ["alice"]
api_keys = ["alice-demo-key"]
max_consumer_instances = 2
[[tenants.sigv4]]
access_key = "AKIDALICE"
secret_key = "alice-sigv4-secret"

[[tenants]]
name = "bob"
prefixes = ["bob"]
api_keys = ["bob-demo-key"]
records_per_s = 10

[[tenants]]
name = "ops"
admin = true
api_keys = ["ops-admin-key"]
)";

class TenantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto set = auth::TenantSet::Parse(kTenants, "tenants.toml", {});
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    options_.tenants = std::make_shared<auth::Registry>(*set);
    options_.clock = &clock_;
    service_ = std::make_unique<Service>(broker_, options_);
    ASSERT_TRUE(service_->Open().ok());
  }
  http::Response Call(std::string method, std::string path, std::string body, std::string key,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = std::move(method);
    req.target = path;
    req.path = path;
    req.headers = std::move(headers);
    if (!key.empty()) req.headers.emplace_back("x-api-key", key);
    req.body = std::move(body);
    http::Response res;
    service_->Handle(req, res);
    return res;
  }
  http::Response Produce(const std::string& topic, const std::string& key, int n = 1) {
    std::string body = R"({"records":[)";
    for (int i = 0; i < n; ++i) body += std::string(i ? "," : "") + R"({"value":{"i":1}})";
    return Call("POST", "/topics/" + topic, body + "]}", key, {{"content-type", kRestJsonType}});
  }
  int64_t Stored(const std::string& topic) {
    auto d = broker_.DescribeTopic(topic);
    if (!d.ok()) return -1;
    int64_t n = 0;
    for (auto& p : d->partitions) n += p.high_watermark;
    return n;
  }

  testing::MemoryBroker broker_;
  ManualClock clock_{1'700'000'000'000'000};
  ServiceOptions options_;
  std::unique_ptr<Service> service_;
};

TEST_F(TenantsTest, KafkaRestIsolation) {
  EXPECT_EQ(Produce("alice.pin", "alice-demo-key").status, 200);
  EXPECT_EQ(Produce("bob.pin", "bob-demo-key").status, 200);

  // alice on bob's topic: produce, metadata, partitions, partition produce.
  for (auto [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/topics/bob.pin"},
                                                        {"POST", "/topics/bob.geo"},
                                                        {"GET", "/topics/bob.pin"},
                                                        {"GET", "/topics/bob.pin/partitions"},
                                                        {"GET", "/topics/bob.pin/partitions/0"},
                                                        {"POST", "/topics/bob.pin/partitions/0"}}) {
    auto res = Call(method, path, R"({"records":[{"value":1}]})", "alice-demo-key",
                    {{"content-type", kRestJsonType}});
    EXPECT_EQ(res.status, 403) << method << " " << path;
    EXPECT_EQ(json::parse(res.body)["error_code"], 40301) << path;
  }
  EXPECT_EQ(Stored("bob.pin"), 1);
  EXPECT_EQ(Stored("bob.geo"), -1);  // not auto-created either

  // Listing: each sees its own; the admin sees all.
  EXPECT_EQ(json::parse(Call("GET", "/topics", "", "alice-demo-key").body),
            json::parse(R"(["alice.pin"])"));
  EXPECT_EQ(json::parse(Call("GET", "/topics", "", "bob-demo-key").body),
            json::parse(R"(["bob.pin"])"));
  EXPECT_EQ(json::parse(Call("GET", "/topics", "", "ops-admin-key").body).size(), 2u);
  EXPECT_EQ(Produce("bob.pin", "ops-admin-key").status, 200);

  // Consumers: bob's group, bob's topics in alice's group, topic patterns.
  auto res = Call("POST", "/consumers/bob-group", R"({"name":"c1","format":"json"})",
                  "alice-demo-key", {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(json::parse(res.body)["error_code"], 40301);
  res = Call("POST", "/consumers/alice-group", R"({"name":"c1","format":"json"})", "alice-demo-key",
             {{"content-type", "application/vnd.kafka.v2+json"}});
  ASSERT_EQ(res.status, 200) << res.body;
  const std::string sub = "/consumers/alice-group/instances/c1/subscription";
  res = Call("POST", sub, R"({"topics":["alice.pin","bob.pin"]})", "alice-demo-key",
             {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.body.find("bob.pin"), std::string::npos);
  res = Call("POST", sub, R"({"topic_pattern":".*"})", "alice-demo-key",
             {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 403);
  res = Call("POST", "/consumers/alice-group/instances/c1/assignments",
             R"({"partitions":[{"topic":"bob.pin","partition":0}]})", "alice-demo-key",
             {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 403);
  res = Call("POST", sub, R"({"topics":["alice.pin"]})", "alice-demo-key",
             {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 204) << res.body;
  // bob cannot touch alice's instance.
  res = Call("GET", "/consumers/alice-group/instances/c1/records", "", "bob-demo-key",
             {{"accept", "application/vnd.kafka.json.v2+json"}});
  EXPECT_EQ(res.status, 403);
  res = Call("DELETE", "/consumers/alice-group/instances/c1", "", "bob-demo-key");
  EXPECT_EQ(res.status, 403);
}

TEST_F(TenantsTest, ConsumerInstanceCap) {
  for (int i = 0; i < 2; ++i) {
    auto res = Call("POST", "/consumers/alice-g", R"({"name":"c)" + std::to_string(i) + R"("})",
                    "alice-demo-key", {{"content-type", "application/vnd.kafka.v2+json"}});
    ASSERT_EQ(res.status, 200) << res.body;
  }
  auto res = Call("POST", "/consumers/alice-g", R"({"name":"c9"})", "alice-demo-key",
                  {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(json::parse(res.body)["error_code"], 42901);
  EXPECT_EQ(Call("DELETE", "/consumers/alice-g/instances/c0", "", "alice-demo-key").status, 204);
  res = Call("POST", "/consumers/alice-g", R"({"name":"c9"})", "alice-demo-key",
             {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 200);
  // bob has no cap and his own count.
  res = Call("POST", "/consumers/bob-g", R"({"name":"c0"})", "bob-demo-key",
             {{"content-type", "application/vnd.kafka.v2+json"}});
  EXPECT_EQ(res.status, 200);
}

TEST_F(TenantsTest, KinesisGatewayAndNativeIsolation) {
  auto put = [&](const std::string& stream, const std::string& key) {
    return Call("PUT", "/streams/" + stream + "/record", R"({"Data":{"a":1},"PartitionKey":"p"})",
                key);
  };
  EXPECT_EQ(put("streaming-alice-pin", "alice-demo-key").status, 200);
  EXPECT_EQ(put("streaming-bob-pin", "bob-demo-key").status, 200);
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"PUT", "/streams/streaming-bob-pin/record"},
           {"PUT", "/streams/streaming-bob-pin/records"},
           {"PUT", "/streams/streaming-bob-geo/record"},
           {"GET", "/streams/streaming-bob-pin"},
           {"POST", "/streams/streaming-bob-new"},
           {"DELETE", "/streams/streaming-bob-pin"},
           {"GET", "/streams/streaming-bob-pin/shardIterator?shard-id=shardId-000000000000"}}) {
    auto res = Call(method, path, R"({"Data":1,"PartitionKey":"p"})", "alice-demo-key");
    EXPECT_EQ(res.status, 400) << method << " " << path;
    EXPECT_EQ(json::parse(res.body)["__type"], "AccessDeniedException") << path;
  }
  EXPECT_EQ(Stored("streaming-bob-pin"), 1);
  EXPECT_EQ(Stored("streaming-bob-geo"), -1);
  EXPECT_EQ(Stored("streaming-bob-new"), -1);
  auto list = json::parse(Call("GET", "/streams", "", "alice-demo-key").body);
  EXPECT_EQ(list["StreamNames"], json::parse(R"(["streaming-alice-pin"])"));

  // Native JSON 1.1 with an API key is not how SDKs authenticate: unsigned is refused.
  auto res = Call("POST", "/", "{}", "alice-demo-key",
                  {{"content-type", "application/x-amz-json-1.1"},
                   {"x-amz-target", "Kinesis_20131202.ListStreams"}});
  EXPECT_EQ(json::parse(res.body)["__type"], "MissingAuthenticationTokenException");
  res = Call("POST", "/", "{}", "",
             {{"content-type", "application/x-amz-json-1.1"},
              {"x-amz-target", "Kinesis_20131202.ListStreams"},
              {"x-amz-date", "20231114T221320Z"},
              {"authorization",
               "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20231114/us-east-1/kinesis/aws4_request, "
               "SignedHeaders=host;x-amz-date, Signature=00"}});
  EXPECT_EQ(json::parse(res.body)["__type"], "UnrecognizedClientException");
  // A signature 20 minutes old with alice's real key: expired (replay refused).
  res = Call("POST", "/", "{}", "",
             {{"content-type", "application/x-amz-json-1.1"},
              {"x-amz-target", "Kinesis_20131202.ListStreams"},
              {"host", "localhost"},
              {"x-amz-date", "20231114T214320Z"},  // clock is 2023-11-14T22:13:20Z
              {"authorization",
               "AWS4-HMAC-SHA256 Credential=AKIDALICE/20231114/us-east-1/kinesis/aws4_request, "
               "SignedHeaders=host;x-amz-date, Signature=00"}});
  EXPECT_EQ(json::parse(res.body)["__type"], "InvalidSignatureException");
  EXPECT_NE(res.body.find("expired"), std::string::npos);
}

TEST_F(TenantsTest, WrongAndMissingKeysAndSecretsNeverEchoed) {
  auto res = Produce("alice.pin", "");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(json::parse(res.body)["error_code"], 40101);
  res = Produce("alice.pin", "alice-demo-kez");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.body.find("alice-demo-kez"), std::string::npos);
  EXPECT_EQ(Stored("alice.pin"), -1);
  EXPECT_EQ(Call("GET", "/healthz", "", "").status, 200);
  // /metrics is the admin's.
  EXPECT_EQ(Call("GET", "/metrics", "", "alice-demo-key").status, 403);
  EXPECT_EQ(Call("GET", "/metrics", "", "").status, 401);
  res = Call("GET", "/metrics", "", "ops-admin-key");
  EXPECT_EQ(res.status, 200);
  for (const char* secret :
       {"alice-demo-key", "bob-demo-key", "ops-admin-key", "alice-sigv4-secret"}) {
    EXPECT_EQ(res.body.find(secret), std::string::npos) << secret;
  }
}

TEST_F(TenantsTest, QuotaThrottlesOnlyTheTenantAtIt) {
  // bob: 10 records/s, one second of burst. A batch of 10 passes, the next waits.
  EXPECT_EQ(Produce("bob.pin", "bob-demo-key", 10).status, 200);
  auto res = Produce("bob.pin", "bob-demo-key", 1);
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(json::parse(res.body)["error_code"], 42901);
  bool retry_after = false;
  for (auto& [k, v] : res.headers) retry_after |= k == "Retry-After" && v == "1";
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(Stored("bob.pin"), 10);
  res = Call("PUT", "/streams/streaming-bob-pin/record", R"({"Data":1,"PartitionKey":"p"})",
             "bob-demo-key");
  EXPECT_EQ(json::parse(res.body)["__type"], "ProvisionedThroughputExceededException");
  // alice is not slowed down by bob's debt.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Produce("alice.pin", "alice-demo-key", 10).status, 200);
  clock_.AdvanceMicros(1'100'000);
  EXPECT_EQ(Produce("bob.pin", "bob-demo-key", 1).status, 200);
}

TEST_F(TenantsTest, ReloadSwapsTenantsForLaterRequests) {
  EXPECT_EQ(Produce("alice.pin", "alice-demo-key").status, 200);
  auto set = auth::TenantSet::Parse(
      "[[tenants]]\nname=\"alice\"\nprefixes=[\"alice\"]\napi_keys=[\"alice-rotated-key\"]\n",
      "t.toml", {});
  ASSERT_TRUE(set.ok());
  service_->tenants().Swap(*set);
  EXPECT_EQ(Produce("alice.pin", "alice-demo-key").status, 403);
  EXPECT_EQ(Produce("alice.pin", "alice-rotated-key").status, 200);
}

}  // namespace
}  // namespace pinpipe::api
