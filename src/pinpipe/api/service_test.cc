// Golden request/response tests of every route and error, through
// Service::Handle on a MemoryBroker and a ManualClock.
#include "pinpipe/api/service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "memory_broker.h"
#include "pinpipe/api/codec.h"
#include "pinpipe/api/shards.h"

namespace pinpipe::api {
namespace {

using nlohmann::json;

constexpr char kJsonType[] = "application/vnd.kafka.json.v2+json";
constexpr char kBinaryType[] = "application/vnd.kafka.binary.v2+json";

class ServiceTest : public ::testing::Test {
 protected:
  void Start() {
    options_.clock = &clock_;
    service_ = std::make_unique<Service>(broker_, options_);
    ASSERT_TRUE(service_->Open().ok());
  }
  void SetUp() override { Start(); }

  http::Response Call(std::string method, std::string target, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.headers = std::move(headers);
    req.body = std::move(body);
    http::Response res;
    service_->Handle(req, res);
    return res;
  }
  http::Response Produce(const std::string& target, const std::string& body,
                         const std::string& type = kJsonType) {
    return Call("POST", target, body, {{"content-type", type}});
  }
  http::Response Native(const std::string& action, const std::string& body) {
    return Call("POST", "/", body,
                {{"content-type", "application/x-amz-json-1.1"},
                 {"x-amz-target", "Kinesis_20131202." + action}});
  }
  std::vector<broker::StoredRecord> Read(const std::string& topic, int32_t partition = 0) {
    auto r = broker_.Fetch(topic, partition, 0, {});
    return r.ok() ? r->records : std::vector<broker::StoredRecord>{};
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

// --- Kafka REST produce ------------------------------------------------------

TEST_F(ServiceTest, ProduceJsonAsTheEmulatorDoes) {
  auto res = Produce("/topics/0a60b9a8a831.pin",
                     R"({"records": [{"value": {"index": 7528, "title": "No Title Data Available",)"
                     R"( "category": "mens-fashion"}}]})");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/vnd.kafka.v2+json");
  EXPECT_EQ(res.body,
            R"({"key_schema_id":null,"value_schema_id":null,"offsets":[{"partition":0,"offset":0,)"
            R"("error_code":null,"error":null}]})");
  auto records = Read("0a60b9a8a831.pin");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value,
            R"({"index":7528,"title":"No Title Data Available","category":"mens-fashion"})");
  EXPECT_FALSE(records[0].key.has_value());
}

TEST_F(ServiceTest, ProduceBinaryKeepsBytes) {
  std::string bytes("\x00\xff\x01hello\n", 8);
  auto res = Produce("/topics/bin",
                     R"({"records":[{"key":")" + Base64Encode("k1") + R"(","value":")" +
                         Base64Encode(bytes) + R"("},{"value":null}]})",
                     kBinaryType);
  ASSERT_EQ(res.status, 200) << res.body;
  auto records = Read("bin");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].key, "k1");
  EXPECT_EQ(records[0].value, bytes);
  EXPECT_FALSE(records[1].value.has_value());
  EXPECT_EQ(json::parse(res.body)["offsets"][1]["offset"], 1);
}

TEST_F(ServiceTest, ProduceToPartition) {
  ASSERT_TRUE(broker_.CreateTopic("three", {.partitions = 3}).ok());
  auto res = Produce("/topics/three/partitions/2", R"({"records":[{"value":1},{"value":2}]})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(Read("three", 2).size(), 2u);
  EXPECT_EQ(json::parse(res.body)["offsets"][1]["partition"], 2);

  res = Produce("/topics/three/partitions/3", R"({"records":[{"value":1}]})");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error_code":40402,"message":"Partition not found."})");
  // A record-level partition out of range rejects the whole request.
  res = Produce("/topics/three",
                R"({"records":[{"value":1,"partition":0},{"value":2,"partition":7}]})");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(Stored("three"), 2);
  res = Produce("/topics/three", R"({"records":[{"value":1,"partition":1}]})");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(Read("three", 1).size(), 1u);
}

TEST_F(ServiceTest, ProduceErrorsAppendNothing) {
  struct Case {
    std::string type, body;
    int status;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"application/json", R"({"records":[{"value":1}]})", 415,
       R"({"error_code":415,"message":"HTTP 415 Unsupported Media Type"})"},
      {"", R"({"records":[{"value":1}]})", 415, ""},
      {kJsonType, R"({"records":[{"value":1})", 400, ""},
      {kJsonType, R"({"records":[{"value":tru}]})", 400, ""},
      {kJsonType, R"({"records":[]})", 422,
       R"({"error_code":422,"message":"records may not be empty"})"},
      {kJsonType, R"({})", 422, R"({"error_code":422,"message":"records may not be empty"})"},
      {kJsonType, R"([1,2])", 400, ""},
      {kJsonType, R"({"records":[{"value":1},5]})", 422, ""},
      {kJsonType, R"({"records":[{"value":1,"partition":"x"}]})", 422, ""},
      {kJsonType, R"({"records":[{"value":1,"partition":-1}]})", 422, ""},
      {kBinaryType, R"({"records":[{"value":"Zm9v"},{"value":"not base64!"}]})", 422, ""},
      {kBinaryType, R"({"records":[{"value":12}]})", 422, ""},
  };
  ASSERT_TRUE(broker_.CreateTopic("t", {}).ok());
  for (const auto& c : cases) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!c.type.empty()) h.emplace_back("content-type", c.type);
    auto res = Call("POST", "/topics/t", c.body, h);
    EXPECT_EQ(res.status, c.status) << c.body << " -> " << res.body;
    if (!c.expected.empty()) {
      EXPECT_EQ(res.body, c.expected);
    }
    auto j = json::parse(res.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << res.body;
    EXPECT_TRUE(j["error_code"].is_number_integer()) << res.body;
    EXPECT_TRUE(j["message"].is_string()) << res.body;
    if (c.status == 422 && c.expected.empty()) {
      EXPECT_EQ(j["error_code"], 42206);
    }
  }
  EXPECT_EQ(Stored("t"), 0);
  EXPECT_EQ(broker_.produce_calls(), 0);
}

TEST_F(ServiceTest, InvalidOrUnknownTopics) {
  auto res = Produce("/topics/bad%20name", R"({"records":[{"value":1}]})");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error_code":40401,"message":"Topic not found."})");
  options_.kafka.auto_create_topics = false;
  Start();
  res = Produce("/topics/fresh", R"({"records":[{"value":1}]})");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error_code":40401,"message":"Topic not found."})");
  EXPECT_EQ(Stored("fresh"), -1);
}

TEST_F(ServiceTest, BrokerFailuresMapToKafkaErrors) {
  ASSERT_TRUE(broker_.CreateTopic("t", {}).ok());
  broker_.SetProduceError(UnavailableError("disk away"));
  auto res = Produce("/topics/t", R"({"records":[{"value":1}]})");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body, R"({"error_code":50003,"message":"Kafka error: disk away"})");
  broker_.SetProduceError(DataLossError("corrupt"));
  res = Produce("/topics/t", R"({"records":[{"value":1}]})");
  EXPECT_EQ(json::parse(res.body)["error_code"], 50002);
}

// --- Kafka REST metadata --------------------------------------------------------

TEST_F(ServiceTest, TopicMetadata) {
  ASSERT_TRUE(broker_.CreateTopic("b", {.partitions = 2}).ok());
  ASSERT_TRUE(broker_.CreateTopic("a", {}).ok());
  auto res = Call("GET", "/topics");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"(["a","b"])");
  res = Call("GET", "/topics/b");
  EXPECT_EQ(
      res.body,
      R"({"name":"b","configs":{},"partitions":[)"
      R"({"partition":0,"leader":0,"replicas":[{"broker":0,"leader":true,"in_sync":true}]},)"
      R"({"partition":1,"leader":0,"replicas":[{"broker":0,"leader":true,"in_sync":true}]}]})");
  res = Call("GET", "/topics/b/partitions");
  EXPECT_EQ(json::parse(res.body).size(), 2u);
  res = Call("GET", "/topics/b/partitions/1");
  EXPECT_EQ(res.body,
            R"({"partition":1,"leader":0,"replicas":[{"broker":0,"leader":true,"in_sync":true}]})");
  res = Call("GET", "/topics/b/partitions/2");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(json::parse(res.body)["error_code"], 40402);
  res = Call("GET", "/topics/nope");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error_code":40401,"message":"Topic not found."})");
  res = Call("DELETE", "/topics/b");
  EXPECT_EQ(res.status, 405);
  res = Call("GET", "/nothing/here");
  EXPECT_EQ(res.status, 404);
}

// --- Kafka REST consumers -------------------------------------------------------

TEST_F(ServiceTest, ConsumerReadsWhatWasProduced) {
  const std::vector<std::pair<std::string, std::string>> v2 = {
      {"content-type", "application/vnd.kafka.v2+json"}};
  ASSERT_EQ(
      Produce("/topics/c", R"({"records":[{"key":"k","value":{"a":1}},{"value":[2]}]})").status,
      200);
  auto res = Call("POST", "/consumers/g1",
                  R"({"name":"i1","format":"json","auto.offset.reset":"earliest"})", v2);
  ASSERT_EQ(res.status, 200) << res.body;
  auto created = json::parse(res.body);
  EXPECT_EQ(created["instance_id"], "i1");
  EXPECT_EQ(created["base_uri"], "http://localhost/consumers/g1/instances/i1");
  res = Call("POST", "/consumers/g1", R"({"name":"i1","format":"json"})", v2);
  EXPECT_EQ(res.status, 409);
  res = Call("POST", "/consumers/g1/instances/i1/subscription", R"({"topics":["c"]})", v2);
  EXPECT_EQ(res.status, 204);
  res = Call("GET", "/consumers/g1/instances/i1/subscription");
  EXPECT_EQ(res.body, R"({"topics":["c"]})");
  res = Call("GET", "/consumers/g1/instances/i1/records?timeout=100", "",
             {{"accept", "application/vnd.kafka.binary.v2+json"}});
  EXPECT_EQ(res.status, 406);
  res = Call("GET", "/consumers/g1/instances/i1/records?timeout=100", "",
             {{"accept", "application/vnd.kafka.json.v2+json"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.content_type, "application/vnd.kafka.json.v2+json");
  EXPECT_EQ(res.body, R"([{"topic":"c","key":"k","value":{"a":1},"partition":0,"offset":0},)"
                      R"({"topic":"c","key":null,"value":[2],"partition":0,"offset":1}])");
  res = Call("POST", "/consumers/g1/instances/i1/offsets",
             R"({"offsets":[{"topic":"c","partition":0,"offset":1}]})", v2);
  EXPECT_EQ(res.status, 204);
  auto committed = broker_.FetchCommittedOffsets("g1", "c");
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_EQ((*committed)[0].offset, 2);
  res = Call("DELETE", "/consumers/g1/instances/i1");
  EXPECT_EQ(res.status, 204);
  res = Call("GET", "/consumers/g1/instances/i1/records");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error_code":40403,"message":"Consumer instance not found."})");
}

// Offsets and partitions at the ends of int64 and beyond int32 are a payload error
// (offset + 1 would overflow; partition 2^32 must not commit partition 0).
TEST_F(ServiceTest, CommitOffsetsOutOfRangeIsAPayloadError) {
  const std::vector<std::pair<std::string, std::string>> v2 = {
      {"content-type", "application/vnd.kafka.v2+json"}};
  ASSERT_EQ(Produce("/topics/o", R"({"records":[{"value":{"a":1}}]})").status, 200);
  ASSERT_EQ(Call("POST", "/consumers/go", R"({"name":"i","format":"json"})", v2).status, 200);
  auto res = Call("POST", "/consumers/go/instances/i/offsets",
                  R"({"offsets":[{"topic":"o","partition":0,"offset":9223372036854775807}]})", v2);
  EXPECT_EQ(res.status, 422) << res.body;
  res = Call("POST", "/consumers/go/instances/i/offsets",
             R"({"offsets":[{"topic":"o","partition":4294967296,"offset":0}]})", v2);
  EXPECT_EQ(res.status, 422) << res.body;
  auto committed = broker_.FetchCommittedOffsets("go", "o");
  ASSERT_TRUE(committed.ok());
  EXPECT_TRUE(committed->empty());
}

TEST_F(ServiceTest, BinaryConsumerEncodesBase64) {
  const std::vector<std::pair<std::string, std::string>> v2 = {
      {"content-type", "application/vnd.kafka.v2+json"}};
  ASSERT_EQ(Produce("/topics/b", R"({"records":[{"value":"AAE="}]})", kBinaryType).status, 200);
  ASSERT_EQ(
      Call("POST", "/consumers/g", R"({"name":"x","auto.offset.reset":"earliest"})", v2).status,
      200);
  ASSERT_EQ(Call("POST", "/consumers/g/instances/x/subscription", R"({"topic_pattern":"b.*"})", v2)
                .status,
            204);
  auto res = Call("GET", "/consumers/g/instances/x/records?timeout=50");
  EXPECT_EQ(res.body, R"([{"topic":"b","key":null,"value":"AAE=","partition":0,"offset":0}])");
  res = Call("POST", "/consumers/g", R"({"format":"avro"})", v2);
  EXPECT_EQ(res.status, 422);
}

// --- Kinesis through the API Gateway routes --------------------------------------

TEST_F(ServiceTest, GatewayPutRecordAsTheEmulatorDoes) {
  auto res =
      Call("PUT", "/streams/streaming-0a60b9a8a831-geo/record",
           R"({"StreamName": "streaming-0a60b9a8a831-geo", "Data": {"ind": 7528, )"
           R"("timestamp": "2020-08-28 03:52:47", "latitude": -89.9787, "longitude": -173.293, )"
           R"("country": "Albania"}, "PartitionKey": "partition-1"})",
           {{"content-type", "application/json"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, R"({"ShardId":"shardId-000000000000","SequenceNumber":")" +
                          SequenceNumber(0, 0) + R"(","EncryptionType":"NONE"})");
  auto records = Read("streaming-0a60b9a8a831-geo");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value,
            R"({"ind":7528,"timestamp":"2020-08-28 03:52:47","latitude":-89.9787,)"
            R"("longitude":-173.293,"country":"Albania"})");
  EXPECT_EQ(records[0].key, "partition-1");
  res = Call("GET", "/streams");
  EXPECT_EQ(res.body, R"({"HasMoreStreams":false,"StreamNames":["streaming-0a60b9a8a831-geo"]})");
}

TEST_F(ServiceTest, GatewayStreamLifecycle) {
  auto res = Call("POST", "/streams/s1", R"({"ShardCount":5})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, "{}");
  res = Call("POST", "/streams/s1", R"({"ShardCount":5})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(
      res.body,
      R"({"__type":"ResourceInUseException","message":"Stream s1 under account 000000000000 already exists."})");
  res = Call("GET", "/streams/s1");
  auto d = json::parse(res.body)["StreamDescription"];
  EXPECT_EQ(d["StreamName"], "s1");
  EXPECT_EQ(d["StreamStatus"], "ACTIVE");
  ASSERT_EQ(d["Shards"].size(), 5u);
  EXPECT_EQ(d["Shards"][4]["HashKeyRange"]["EndingHashKey"],
            "340282366920938463463374607431768211455");
  EXPECT_EQ(d["Shards"][1]["HashKeyRange"]["StartingHashKey"],
            "68056473384187692692674921486353642291");
  res = Call("PUT", "/streams/s1/records",
             R"({"records":[{"data":"raw text","partition-key":"partition-1"},)"
             R"({"data":"{\"a\":1}","partition-key":"a"}]})");
  ASSERT_EQ(res.status, 200) << res.body;
  auto put = json::parse(res.body);
  EXPECT_EQ(put["FailedRecordCount"], 0);
  EXPECT_EQ(put["Records"][0]["ShardId"], "shardId-000000000002");
  EXPECT_EQ(put["Records"][1]["ShardId"], "shardId-000000000000");
  EXPECT_EQ(Read("s1", 2)[0].value, "raw text");
  EXPECT_EQ(Read("s1", 0)[0].value, R"({"a":1})");

  res = Call("GET", "/streams/s1/sharditerator?shard-id=shardId-000000000002");
  ASSERT_EQ(res.status, 200) << res.body;
  std::string it = json::parse(res.body)["ShardIterator"];
  res = Call("GET", "/streams/s1/records", "", {{"shard-iterator", it}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto got = json::parse(res.body);
  ASSERT_EQ(got["Records"].size(), 1u);
  EXPECT_EQ(got["Records"][0]["Data"], Base64Encode("raw text"));
  EXPECT_EQ(got["Records"][0]["PartitionKey"], "partition-1");
  EXPECT_EQ(got["MillisBehindLatest"], 0);

  res = Call("DELETE", "/streams/s1");
  EXPECT_EQ(res.status, 200);
  res = Call("GET", "/streams/s1");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["__type"], "ResourceNotFoundException");
}

TEST_F(ServiceTest, GatewayBadInput) {
  auto res = Call("PUT", "/streams/s/record", R"({"Data":1)");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["__type"], "SerializationException");
  res = Call("PUT", "/streams/s/record", R"({"Data":1})");
  EXPECT_EQ(json::parse(res.body)["__type"], "ValidationException");
  res = Call("PUT", "/streams/bad$name/record", R"({"Data":1,"PartitionKey":"p"})");
  EXPECT_EQ(json::parse(res.body)["__type"], "ValidationException");
  res = Call("PUT", "/streams/s/records", R"({"records":[]})");
  EXPECT_EQ(json::parse(res.body)["__type"], "ValidationException");
  res = Call("GET", "/streams/s/records");
  EXPECT_EQ(json::parse(res.body)["__type"], "ValidationException");
  EXPECT_EQ(Stored("s"), -1);  // nothing auto-created by bad requests
  options_.kinesis.auto_create_streams = false;
  Start();
  res = Call("PUT", "/streams/s/record", R"({"Data":1,"PartitionKey":"p"})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(
      res.body,
      R"({"__type":"ResourceNotFoundException","message":"Stream s under account 000000000000 not found."})");
}

// --- Kinesis native JSON 1.1 ----------------------------------------------------------

TEST_F(ServiceTest, NativeRoundTrip) {
  auto res = Native("CreateStream", R"({"StreamName":"n1","ShardCount":2})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.content_type, "application/x-amz-json-1.1");
  res = Native(
      "PutRecord",
      R"({"StreamName":"n1","Data":")" + Base64Encode("hello") +
          R"(","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211455"})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["ShardId"], "shardId-000000000001");
  std::string seq = json::parse(res.body)["SequenceNumber"];
  res = Native("PutRecords", R"({"StreamName":"n1","Records":[{"Data":")" + Base64Encode("w") +
                                 R"(","PartitionKey":"k","ExplicitHashKey":"1"}]})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["Records"][0]["ShardId"], "shardId-000000000000");

  res = Native(
      "GetShardIterator",
      R"({"StreamName":"n1","ShardId":"shardId-000000000001","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":")" +
          seq + R"("})");
  ASSERT_EQ(res.status, 200) << res.body;
  std::string it = json::parse(res.body)["ShardIterator"];
  res = Native("GetRecords", R"({"ShardIterator":")" + it + R"(","Limit":10})");
  ASSERT_EQ(res.status, 200) << res.body;
  auto got = json::parse(res.body);
  ASSERT_EQ(got["Records"].size(), 1u);
  EXPECT_EQ(got["Records"][0]["Data"], Base64Encode("hello"));
  EXPECT_EQ(got["Records"][0]["SequenceNumber"], seq);
  EXPECT_GT(got["Records"][0]["ApproximateArrivalTimestamp"].get<double>(), 1.6e9);
  // The next iterator sees nothing new; AFTER_SEQUENCE_NUMBER neither.
  res = Native("GetRecords",
               R"({"ShardIterator":")" + got["NextShardIterator"].get<std::string>() + R"("})");
  EXPECT_EQ(json::parse(res.body)["Records"].size(), 0u);

  res = Native("ListShards", R"({"StreamName":"n1"})");
  EXPECT_EQ(json::parse(res.body)["Shards"].size(), 2u);
  res = Native("DescribeStreamSummary", R"({"StreamName":"n1"})");
  EXPECT_EQ(json::parse(res.body)["StreamDescriptionSummary"]["OpenShardCount"], 2);
  res = Native("ListStreams", "{}");
  EXPECT_EQ(json::parse(res.body)["StreamNames"], json::array({"n1"}));
  // Paging, as boto3's paginators and the AWS CLI do it: one shard or stream a page, the
  // next page asked for with the token alone.
  res = Native("ListShards", R"({"StreamName":"n1","MaxResults":1})");
  auto page = json::parse(res.body);
  ASSERT_EQ(page["Shards"].size(), 1u) << res.body;
  ASSERT_TRUE(page.contains("NextToken")) << res.body;
  res = Native("ListShards", R"({"NextToken":")" + page["NextToken"].get<std::string>() + R"("})");
  page = json::parse(res.body);
  ASSERT_EQ(page["Shards"].size(), 1u) << res.body;
  EXPECT_EQ(page["Shards"][0]["ShardId"], "shardId-000000000001");
  EXPECT_FALSE(page.contains("NextToken")) << res.body;
  res = Native("ListShards", R"({"NextToken":"bm9wZQ=="})");
  EXPECT_EQ(json::parse(res.body)["__type"], "InvalidArgumentException");
  res = Native("DescribeStream", R"({"StreamName":"n1","Limit":1})");
  page = json::parse(res.body)["StreamDescription"];
  EXPECT_EQ(page["Shards"].size(), 1u);
  EXPECT_EQ(page["HasMoreShards"], true);
  res = Native("DescribeStream",
               R"({"StreamName":"n1","ExclusiveStartShardId":"shardId-000000000000"})");
  page = json::parse(res.body)["StreamDescription"];
  EXPECT_EQ(page["Shards"].size(), 1u);
  EXPECT_EQ(page["HasMoreShards"], false);
  ASSERT_EQ(Native("CreateStream", R"({"StreamName":"n2","ShardCount":1})").status, 200);
  res = Native("ListStreams", R"({"Limit":1})");
  page = json::parse(res.body);
  EXPECT_EQ(page["StreamNames"], json::array({"n1"}));
  ASSERT_TRUE(page.contains("NextToken")) << res.body;
  res = Native("ListStreams", R"({"NextToken":")" + page["NextToken"].get<std::string>() + R"("})");
  EXPECT_EQ(json::parse(res.body)["StreamNames"], json::array({"n2"}));
  res = Native("DeleteStream", R"({"StreamName":"n1"})");
  EXPECT_EQ(res.status, 200);
  res = Native("GetRecords", R"({"ShardIterator":")" + it + R"("})");
  EXPECT_EQ(json::parse(res.body)["__type"], "ResourceNotFoundException");
}

TEST_F(ServiceTest, NativeErrors) {
  auto res = Native("PutRecord", R"({"StreamName":"nope","Data":"AA==","PartitionKey":"k"})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(
      res.body,
      R"({"__type":"ResourceNotFoundException","message":"Stream nope under account 000000000000 not found."})");
  EXPECT_EQ(Stored("nope"), -1);  // the native protocol never auto-creates
  // CBOR (the Java SDK's default for Kinesis) is refused with the way out in the message.
  res = Call("POST", "/", "\xbf\xff",
             {{"content-type", "application/x-amz-cbor-1.1"},
              {"x-amz-target", "Kinesis_20131202.ListStreams"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("AWS_CBOR_DISABLED=true"), std::string::npos) << res.body;
  ASSERT_EQ(Native("CreateStream", R"({"StreamName":"e","ShardCount":1})").status, 200);
  auto type = [&](const std::string& action, const std::string& body) {
    auto r = Native(action, body);
    EXPECT_EQ(r.status, 400) << body;
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? std::string("not json") : j.value("__type", "");
  };
  EXPECT_EQ(type("CreateStream", R"({"StreamName":"e","ShardCount":1})"), "ResourceInUseException");
  EXPECT_EQ(type("CreateStream", R"({"StreamName":"x","ShardCount":0})"), "ValidationException");
  EXPECT_EQ(type("CreateStream", R"({"StreamName":"x","ShardCount":100000})"),
            "LimitExceededException");
  EXPECT_EQ(type("PutRecord", R"({"StreamName":"e","Data":"!!","PartitionKey":"k"})"),
            "SerializationException");
  EXPECT_EQ(type("PutRecord", R"({"StreamName":"e","Data":"AA=="})"), "ValidationException");
  EXPECT_EQ(type("PutRecord", R"({"StreamName":"e","Data":"AA==","PartitionKey":""})"),
            "ValidationException");
  EXPECT_EQ(type("PutRecord", R"({"StreamName":"e","Data":"AA==","PartitionKey":")" +
                                  std::string(257, 'k') + R"("})"),
            "ValidationException");
  EXPECT_EQ(
      type(
          "PutRecord",
          R"({"StreamName":"e","Data":"AA==","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211456"})"),
      "InvalidArgumentException");
  EXPECT_EQ(type("PutRecord", R"({"StreamName":"e","Data":")" +
                                  Base64Encode(std::string((1 << 20) + 1, 'x')) +
                                  R"(","PartitionKey":"k"})"),
            "ValidationException");
  std::string many = R"({"StreamName":"e","Records":[)";
  for (int i = 0; i < 501; ++i)
    many += std::string(i ? "," : "") + R"({"Data":"AA==","PartitionKey":"k"})";
  EXPECT_EQ(type("PutRecords", many + "]}"), "ValidationException");
  std::string big = R"({"StreamName":"e","Records":[)";
  const std::string chunk = Base64Encode(std::string(900 * 1024, 'x'));
  for (int i = 0; i < 6; ++i)
    big += std::string(i ? "," : "") + R"({"Data":")" + chunk + R"(","PartitionKey":"k"})";
  EXPECT_EQ(type("PutRecords", big + "]}"), "InvalidArgumentException");
  EXPECT_EQ(
      type(
          "PutRecords",
          R"({"StreamName":"e","Records":[{"Data":"AA==","PartitionKey":"k"},{"Data":"%%","PartitionKey":"k"}]})"),
      "SerializationException");
  EXPECT_EQ(type("Frobnicate", "{}"), "UnknownOperationException");
  EXPECT_EQ(type("PutRecord", "{not json"), "SerializationException");
  EXPECT_EQ(type("PutRecord", R"({"StreamName":5})"), "SerializationException");
  EXPECT_EQ(
      type("GetShardIterator",
           R"({"StreamName":"e","ShardId":"shardId-000000000009","ShardIteratorType":"LATEST"})"),
      "ResourceNotFoundException");
  EXPECT_EQ(
      type("GetShardIterator",
           R"({"StreamName":"e","ShardId":"shardId-000000000000","ShardIteratorType":"SIDEWAYS"})"),
      "ValidationException");
  EXPECT_EQ(type("GetRecords", R"({"ShardIterator":"AAAA"})"), "InvalidArgumentException");
  EXPECT_EQ(type("GetRecords", R"({"ShardIterator":"AAAA","Limit":0})"), "ValidationException");
  EXPECT_EQ(Stored("e"), 0);
}

// A sequence number of offset INT64_MAX and timestamps beyond int64 milliseconds
// are accepted and clamped to the ends of the shard (no overflow, no undefined
// double-to-int conversion).
TEST_F(ServiceTest, IteratorsBeyondTheEndsOfInt64AreClamped) {
  ASSERT_EQ(Native("CreateStream", R"({"StreamName":"x","ShardCount":1})").status, 200);
  ASSERT_EQ(Native("PutRecord",
                   R"({"StreamName":"x","Data":")" + Base64Encode("a") + R"(","PartitionKey":"k"})")
                .status,
            200);
  auto records = [&](const std::string& request) -> size_t {
    auto res = Native("GetShardIterator",
                      R"({"StreamName":"x","ShardId":"shardId-000000000000",)" + request + "}");
    EXPECT_EQ(res.status, 200) << request << ": " << res.body;
    if (res.status != 200) return SIZE_MAX;
    std::string it = json::parse(res.body)["ShardIterator"];
    res = Native("GetRecords", R"({"ShardIterator":")" + it + R"("})");
    EXPECT_EQ(res.status, 200) << res.body;
    return json::parse(res.body)["Records"].size();
  };
  EXPECT_EQ(records(R"("ShardIteratorType":"AFTER_SEQUENCE_NUMBER",)"
                    R"("StartingSequenceNumber":"49000000000000000009223372036854775807")"),
            0u);
  EXPECT_EQ(records(R"("ShardIteratorType":"AT_TIMESTAMP","Timestamp":1e300)"), 0u);
  EXPECT_EQ(records(R"("ShardIteratorType":"AT_TIMESTAMP","Timestamp":-1e300)"), 1u);
}

TEST_F(ServiceTest, IteratorsAreSignedAndExpire) {
  ASSERT_EQ(Native("CreateStream", R"({"StreamName":"i","ShardCount":1})").status, 200);
  auto res = Native(
      "GetShardIterator",
      R"({"StreamName":"i","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  std::string it = json::parse(res.body)["ShardIterator"];
  // Forge: change the offset inside the payload and re-encode.
  auto raw = Base64Decode(it);
  ASSERT_TRUE(raw);
  std::string forged = *raw;
  size_t pos = forged.find("\n0\n");
  ASSERT_NE(pos, std::string::npos);
  forged[pos + 1] = '5';
  res = Native("GetRecords", R"({"ShardIterator":")" + Base64Encode(forged) + R"("})");
  EXPECT_EQ(res.body,
            R"({"__type":"InvalidArgumentException","message":"Invalid ShardIterator."})");
  res = Native("GetRecords", R"({"ShardIterator":")" + it + R"("})");
  EXPECT_EQ(res.status, 200);
  clock_.AdvanceMicros(301'000'000);
  res = Native("GetRecords", R"({"ShardIterator":")" + it + R"("})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["__type"], "ExpiredIteratorException");
}

TEST_F(ServiceTest, SigV4RequiredWhenConfigured) {
  options_.kinesis.credentials = SigV4Credentials{"AKID", "secret"};
  Start();
  auto res = Native("ListStreams", "{}");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["__type"], "MissingAuthenticationTokenException");
  res = Call("POST", "/", "{}",
             {{"content-type", "application/x-amz-json-1.1"},
              {"x-amz-target", "Kinesis_20131202.ListStreams"},
              {"x-amz-date", "20231114T221320Z"},
              {"authorization",
               "AWS4-HMAC-SHA256 Credential=OTHER/20231114/us-east-1/kinesis/aws4_request, "
               "SignedHeaders=host;x-amz-date, Signature=00"}});
  EXPECT_EQ(json::parse(res.body)["__type"], "UnrecognizedClientException");
  res = Call("POST", "/", "{}",
             {{"content-type", "application/x-amz-json-1.1"},
              {"x-amz-target", "Kinesis_20131202.ListStreams"},
              {"x-amz-date", "20231114T221320Z"},
              {"host", "localhost"},
              {"authorization",
               "AWS4-HMAC-SHA256 Credential=AKID/20231114/us-east-1/kinesis/aws4_request, "
               "SignedHeaders=host;x-amz-date, Signature=0000"}});
  EXPECT_EQ(json::parse(res.body)["__type"], "InvalidSignatureException");
}

// --- Cross-cutting ------------------------------------------------------------------

TEST_F(ServiceTest, ApiKeys) {
  options_.api_keys = {"k1", "k2"};
  Start();
  auto res = Produce("/topics/t", R"({"records":[{"value":1}]})");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(json::parse(res.body)["error_code"], 40101);
  res = Call("POST", "/topics/t", R"({"records":[{"value":1}]})",
             {{"content-type", kJsonType}, {"x-api-key", "wrong"}});
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(json::parse(res.body)["error_code"], 40301);
  res =
      Call("PUT", "/streams/s/record", R"({"Data":1,"PartitionKey":"p"})", {{"x-api-key", "nope"}});
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.body, R"({"message":"Forbidden"})");
  EXPECT_EQ(Stored("t"), -1);
  EXPECT_EQ(Stored("s"), -1);
  res = Call("POST", "/topics/t", R"({"records":[{"value":1}]})",
             {{"content-type", kJsonType}, {"x-api-key", "k2"}});
  EXPECT_EQ(res.status, 200);
  res = Call("PUT", "/streams/s/record", R"({"Data":1,"PartitionKey":"p"})",
             {{"authorization", "Bearer k1"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(ServiceTest, HealthAndMetrics) {
  auto res = Call("GET", "/healthz");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok\n");
  ASSERT_EQ(Produce("/topics/m", R"({"records":[{"value":"abc"},{"value":1}]})").status, 200);
  ASSERT_EQ(Produce("/topics/m", R"({"records":[]})").status, 422);
  http::Request bad;
  bad.path = "/topics/m";
  http::Response bad_res;
  service_->HandleError(413, "Payload Too Large", bad, bad_res);
  EXPECT_EQ(bad_res.status, 413);
  EXPECT_EQ(bad_res.body, R"({"error_code":413,"message":"Payload Too Large"})");
  res = Call("GET", "/metrics");
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find(R"(pinpipe_http_requests_total{route="kafka.produce",status="200"} 1)"),
            std::string::npos)
      << res.body;
  EXPECT_NE(res.body.find(R"(pinpipe_http_requests_total{route="kafka.produce",status="422"} 1)"),
            std::string::npos);
  EXPECT_NE(
      res.body.find(R"(pinpipe_http_requests_total{route="http.protocol_error",status="413"} 1)"),
      std::string::npos);
  EXPECT_NE(res.body.find(R"(pinpipe_api_records_in_total{api="kafka"} 2)"), std::string::npos);
  EXPECT_NE(res.body.find(R"(pinpipe_api_bytes_in_total{api="kafka"} 6)"), std::string::npos);
  EXPECT_NE(res.body.find(R"(pinpipe_log_size_bytes{topic="m"})"), std::string::npos);
  EXPECT_NE(
      res.body.find(
          "pinpipe_http_request_duration_seconds_bucket{route=\"kafka.produce\",le=\"+Inf\"} 2"),
      std::string::npos);
}

}  // namespace
}  // namespace pinpipe::api
