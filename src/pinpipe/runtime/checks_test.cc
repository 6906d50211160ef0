#include "pinpipe/runtime/checks.h"

#include <gtest/gtest.h>

#include <map>

namespace pinpipe::runtime {
namespace {

Config With(std::initializer_list<std::pair<std::string, std::string>> values) {
  Config c;
  for (const auto& [k, v] : values) EXPECT_TRUE(c.Set(k, v).ok()) << k;
  return c;
}

TEST(ChecksTest, ApiThreadsOutsideOneTo256IsAClearError) {
  for (const char* bad : {"0", "-3", "257"}) {
    auto o = CheckedHttpOptions(With({{"api.threads", bad}}));
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find("api.threads must be between 1 and 256"), std::string::npos)
        << o.status().message();
  }
  auto o = CheckedHttpOptions(With({{"api.threads", "256"}, {"api.listen", "127.0.0.1:9"}}), 8);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->io_threads, 256);
  EXPECT_EQ(o->worker_threads, 8);
  EXPECT_EQ(o->listen, "127.0.0.1:9");
}

TEST(ChecksTest, BodyLimitAndHandlerThreadsAreChecked) {
  EXPECT_EQ(CheckedHttpOptions(With({{"api.body_limit", "0"}})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckedHttpOptions(Config(), 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckedHttpOptions(Config(), 4097).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckedHttpOptions(Config(), 4096).ok());
}

TEST(ChecksTest, KafkaApiIsOffWithoutAListenAddressAndChecksItsLimits) {
  auto off = CheckedKafkaApiOptions(With({{"kafka_api.listen", ""}}));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->has_value());
  EXPECT_EQ(CheckedKafkaApiOptions(
                With({{"kafka_api.listen", "127.0.0.1:0"}, {"kafka_api.threads", "0"}}))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckedKafkaApiOptions(With({{"kafka_api.listen", "127.0.0.1:0"},
                                         {"kafka_api.max_request_bytes", "1000"}}))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  auto on = CheckedKafkaApiOptions(
      With({{"kafka_api.listen", "127.0.0.1:0"}, {"api.default_partitions", "0"}}));
  ASSERT_TRUE(on.ok() && on->has_value());
  EXPECT_EQ((*on)->default_partitions, 1);
}

TEST(ChecksTest, StreamSettings) {
  auto s = CheckedStreamSettings(With({{"stream.trigger_ms", "1s"},
                                       {"stream.initial_position", "latest"},
                                       {"stream.source", "kinesis"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->trigger_ms, 1000);
  EXPECT_EQ(s->initial, stream::InitialPosition::kLatest);
  EXPECT_TRUE(s->from_kinesis);
  EXPECT_EQ(CheckedStreamSettings(With({{"stream.initial_position", "middle"}})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckedStreamSettings(With({{"stream.source", "file"}})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckedStreamSettings(With({{"stream.max_records_per_batch", "0"}})).status().code(),
            StatusCode::kInvalidArgument);
}

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(ChecksTest, KinesisRegionComesFromItsOwnKeyNeverFromS3Region) {
  // s3.region is the object store's; the stream job's Kinesis region is not it.
  auto k = KinesisFromConfig(With({{"s3.region", "eu-west-1"}}), Env({}));
  EXPECT_EQ(k.region, "us-east-1");  // kinesis.region's default
  k = KinesisFromConfig(With({{"kinesis.region", "ap-south-1"}, {"s3.region", "eu-west-1"}}),
                        Env({{"AWS_REGION", "us-west-2"}}));
  EXPECT_EQ(k.region, "ap-south-1");  // set: wins over the environment
  k = KinesisFromConfig(Config(), Env({{"AWS_REGION", "us-west-2"}}));
  EXPECT_EQ(k.region, "us-west-2");  // default: the environment's
  k = KinesisFromConfig(Config(), Env({{"AWS_DEFAULT_REGION", "sa-east-1"}}));
  EXPECT_EQ(k.region, "sa-east-1");
}

TEST(ChecksTest, KinesisEndpointAndCredentials) {
  auto k = KinesisFromConfig(With({{"stream.kinesis_endpoint", "http://127.0.0.1:4567"}}),
                             Env({{"AWS_ACCESS_KEY_ID", "AK"},
                                  {"AWS_SECRET_ACCESS_KEY", "SK"},
                                  {"AWS_SESSION_TOKEN", "T"}}));
  EXPECT_EQ(k.endpoint, "http://127.0.0.1:4567");
  EXPECT_EQ(k.access_key, "AK");
  EXPECT_EQ(k.secret_key, "SK");
  EXPECT_EQ(k.session_token, "T");
}

}  // namespace
}  // namespace pinpipe::runtime
