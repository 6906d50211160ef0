#include "pinpipe/emulate/emulator.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pinpipe::emulate {
namespace {

TEST(EmulatorTest, ValidateOptionsRejectsBadValues) {
  Options o;
  EXPECT_TRUE(ValidateOptions(o).ok());
  auto bad = [](auto mutate) {
    Options o;
    mutate(o);
    Status s = ValidateOptions(o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  };
  bad([](Options& o) { o.concurrency = 0; });
  bad([](Options& o) { o.batch_size = 501; });
  bad([](Options& o) { o.rate = -1; });
  bad([](Options& o) { o.prefix = "has space"; });
  bad([](Options& o) { o.prefix = ""; });
  bad([](Options& o) { o.api = "ftp://x"; });
  bad([](Options& o) { o.api = "http://host:99999"; });
  EXPECT_EQ(ParseMode("stream").value(), Mode::kStream);
  EXPECT_FALSE(ParseMode("kafka").ok());
}

TEST(EmulatorTest, BuildRequestEscapesDataStrings) {
  Options o;
  o.mode = Mode::kStream;
  o.prefix = "p";
  std::string a = R"({"ind":1,"first_name":"Zoë \"Z\""})";
  std::string b = R"({"ind":2})";
  auto r = BuildRequest(o, model::Table::kUser, {&a, &b}, {1, 2});
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.path, "/streams/streaming-p-user/records");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["records"][0]["data"].get<std::string>(), a);
  EXPECT_EQ(j["records"][1]["partition-key"], "partition-1");
}

TEST(EmulatorTest, JudgeKafkaResponses) {
  Options o;
  auto ok = Judge(o, 2, 200,
                  R"({"key_schema_id":null,"value_schema_id":null,"offsets":[)"
                  R"({"partition":0,"offset":4,"error_code":null,"error":null},)"
                  R"({"partition":0,"offset":5,"error_code":null,"error":null}]})");
  EXPECT_EQ(ok.sent, 2);
  EXPECT_EQ(ok.failed, 0);
  EXPECT_FALSE(ok.retry_all);

  auto partial = Judge(o, 2, 200,
                       R"({"offsets":[{"partition":null,"offset":null,"error_code":50002,)"
                       R"("error":"Kafka error: too large"},)"
                       R"({"partition":null,"offset":null,"error_code":50003,"error":"retry"}]})");
  EXPECT_EQ(partial.sent, 0);
  EXPECT_EQ(partial.failed, 1);
  EXPECT_EQ(partial.retry, std::vector<size_t>{1});
  EXPECT_NE(partial.error.find("too large"), std::string::npos);

  auto short_body = Judge(o, 2, 200, R"({"offsets":[{"partition":0,"offset":1}]})");
  EXPECT_EQ(short_body.failed, 2);
  auto not_json = Judge(o, 1, 200, "<html>ok</html>");
  EXPECT_EQ(not_json.failed, 1);
  EXPECT_NE(not_json.error.find("<html>"), std::string::npos);

  auto unavailable = Judge(o, 3, 503, "");
  EXPECT_TRUE(unavailable.retry_all);
  auto throttled = Judge(o, 3, 429, R"({"error_code":42901,"message":"Too many requests"})");
  EXPECT_TRUE(throttled.retry_all);
  auto unsupported =
      Judge(o, 3, 415, R"({"error_code":415,"message":"HTTP 415 Unsupported Media Type"})");
  EXPECT_EQ(unsupported.failed, 3);
  EXPECT_EQ(unsupported.error, "HTTP 415: HTTP 415 Unsupported Media Type (error_code 415)");
}

TEST(EmulatorTest, JudgeKinesisResponses) {
  Options o;
  o.mode = Mode::kStream;
  EXPECT_EQ(Judge(o, 1, 200, R"({"SequenceNumber":"49","ShardId":"shardId-000000000000"})").sent,
            1);
  EXPECT_EQ(Judge(o, 1, 200, R"({})").failed, 1);
  auto batch =
      Judge(o, 3, 200,
            R"({"FailedRecordCount":2,"Records":[{"SequenceNumber":"1","ShardId":"s"},)"
            R"({"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow"},)"
            R"({"ErrorCode":"ValidationException","ErrorMessage":"bad"}]})");
  EXPECT_EQ(batch.sent, 1);
  EXPECT_EQ(batch.retry, std::vector<size_t>{1});
  EXPECT_EQ(batch.failed, 1);
  auto denied = Judge(o, 1, 403, R"({"message":"Forbidden"})");
  EXPECT_EQ(denied.error, "HTTP 403: Forbidden");
  auto kinesis =
      Judge(o, 1, 400, R"({"__type":"ResourceNotFoundException","message":"Stream x not found."})");
  EXPECT_EQ(kinesis.error, "HTTP 400: ResourceNotFoundException: Stream x not found.");
}

}  // namespace
}  // namespace pinpipe::emulate
