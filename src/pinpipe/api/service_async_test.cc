// Service::HandleAsync on the embedded log: a produce request is answered
// from the group commit's callback, only once its records are durable, and
// never holds the calling (I/O) thread while it waits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "pinpipe/api/service.h"
#include "pinpipe/embedded/embedded_broker.h"

namespace pinpipe::api {
namespace {

namespace fs = std::filesystem;

struct Exchange {
  std::promise<http::Response> answer;
  std::atomic<bool> answered{false};
};

http::Request MakeRequest(std::string method, std::string path, std::string body,
                          std::vector<std::pair<std::string, std::string>> headers) {
  http::Request req;
  req.method = std::move(method);
  req.target = path;
  req.path = std::move(path);
  req.body = std::move(body);
  req.headers = std::move(headers);
  return req;
}

class ServiceAsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pinpipe-api-async-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    embedded::EmbeddedBrokerOptions o;
    o.log.dir = dir_;
    // Long enough that only the test's own Sync (or the first append, which
    // has no sync before it) makes anything durable.
    o.log.fsync = *log::FsyncPolicy::Parse("interval:60000");
    auto b = embedded::EmbeddedBroker::Open(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
    service_ = std::make_unique<Service>(*broker_, ServiceOptions{});
    ASSERT_TRUE(service_->Open().ok());
  }
  void TearDown() override {
    service_.reset();
    broker_.reset();
    fs::remove_all(dir_);
  }

  std::shared_ptr<Exchange> Send(http::Request req) {
    auto ex = std::make_shared<Exchange>();
    service_->HandleAsync(std::move(req), [ex](http::Response r) {
      ex->answered = true;
      ex->answer.set_value(std::move(r));
    });
    return ex;
  }
  http::Response Await(const std::shared_ptr<Exchange>& ex) {
    auto f = ex->answer.get_future();
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within 5 s";
      return http::Response{.status = 0};
    }
    return f.get();
  }
  void SyncTopic(const std::string& topic) {
    auto t = broker_->log().GetTopic(topic);
    ASSERT_TRUE(t.ok());
    for (int32_t p = 0; p < (*t)->partition_count(); ++p) {
      ASSERT_TRUE((*t)->partition(p)->Sync().ok());
    }
  }

  // Records visible to readers, i.e. durable.
  int64_t Stored(const std::string& topic) {
    auto d = broker_->DescribeTopic(topic);
    int64_t n = 0;
    if (d.ok()) {
      for (const auto& p : d->partitions) n += p.high_watermark;
    }
    return n;
  }

  fs::path dir_;
  std::unique_ptr<embedded::EmbeddedBroker> broker_;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceAsyncTest, EveryProduceRouteAnswersOnlyOnceItsRecordsAreDurable) {
  const std::vector<std::pair<std::string, std::string>> kafka_headers = {
      {"content-type", "application/vnd.kafka.json.v2+json"}};
  const std::vector<std::pair<std::string, std::string>> native_headers = {
      {"content-type", "application/x-amz-json-1.1"},
      {"x-amz-target", "Kinesis_20131202.PutRecords"}};
  const std::vector<std::pair<std::string, std::string>> gateway_headers = {
      {"content-type", "application/json"}};
  struct Case {
    std::string topic;
    std::function<http::Request()> request;
    std::string content_type;
  };
  std::vector<Case> cases = {
      {"k",
       [&] {
         return MakeRequest("POST", "/topics/k", R"({"records":[{"value":{"a":1}}]})",
                            kafka_headers);
       },
       "application/vnd.kafka.v2+json"},
      {"g",
       [&] {
         return MakeRequest("PUT", "/streams/g/record",
                            R"({"StreamName":"g","Data":{"a":1},"PartitionKey":"p"})",
                            gateway_headers);
       },
       "application/json"},
      {"g",
       [&] {
         return MakeRequest("POST", "/",
                            R"({"StreamName":"g","Records":[{"Data":"eyJhIjoxfQ==",)"
                            R"("PartitionKey":"p"}]})",
                            native_headers);
       },
       "application/x-amz-json-1.1"},
  };
  for (const auto& c : cases) {
    const http::Request shown = c.request();
    SCOPED_TRACE(shown.path + " " + std::string(shown.Header("x-amz-target")));
    // A fresh partition has never synced, so its first append is due at
    // once; after that one the next group commit is a minute away.
    auto first = Send(c.request());
    SyncTopic(c.topic);
    ASSERT_EQ(Await(first).status, 200);

    auto ex = Send(c.request());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(ex->answered) << "answered before the group commit";
    SyncTopic(c.topic);
    http::Response res = Await(ex);
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.content_type, c.content_type);
    auto body = nlohmann::json::parse(res.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << res.body;
    EXPECT_TRUE(body.contains("offsets") || body.contains("SequenceNumber") ||
                body.contains("Records"))
        << res.body;
    EXPECT_GE(Stored(c.topic), 1);
  }
  // Metrics count the deferred requests under their own routes.
  auto metrics = Await(Send(MakeRequest("GET", "/metrics", "", {})));
  EXPECT_NE(
      metrics.body.find(R"(pinpipe_http_requests_total{route="kafka.produce",status="200"} 2)"),
      std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                R"(pinpipe_http_requests_total{route="gateway.put_record",status="200"} 2)"),
            std::string::npos);
  EXPECT_NE(metrics.body.find(
                R"(pinpipe_http_requests_total{route="kinesis.PutRecords",status="200"} 2)"),
            std::string::npos);
}

TEST_F(ServiceAsyncTest, RefusedProduceIsAnsweredAtOnceAndStoresNothing) {
  auto ex = Send(MakeRequest("POST", "/topics/k", R"({"records":[{"value":1},{"nope":)",
                             {{"content-type", "application/vnd.kafka.json.v2+json"}}));
  EXPECT_TRUE(ex->answered);
  EXPECT_EQ(Await(ex).status, 400);
  EXPECT_EQ(broker_->DescribeTopic("k").status().code(), StatusCode::kNotFound);
}

TEST_F(ServiceAsyncTest, ClosingTheBrokerAnswersAProduceStillWaiting) {
  auto first = Send(MakeRequest("POST", "/topics/k", R"({"records":[{"value":1}]})",
                                {{"content-type", "application/vnd.kafka.json.v2+json"}}));
  SyncTopic("k");
  ASSERT_EQ(Await(first).status, 200);
  auto ex = Send(MakeRequest("POST", "/topics/k", R"({"records":[{"value":2}]})",
                             {{"content-type", "application/vnd.kafka.json.v2+json"}}));
  EXPECT_FALSE(ex->answered);
  broker_.reset();  // Close syncs what was written, then answers the waiters
  http::Response res = Await(ex);
  EXPECT_EQ(res.status, 200) << res.body;
  service_.reset();
}

}  // namespace
}  // namespace pinpipe::api
