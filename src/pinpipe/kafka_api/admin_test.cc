// The admin codecs on a real embedded broker: requests encoded as a Kafka
// client does, the body writers run, the responses decoded field by field.
#include "pinpipe/kafka_api/admin.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "pinpipe/embedded/embedded_broker.h"

namespace pinpipe::kafka_api {
namespace {

namespace fs = std::filesystem;

constexpr int8_t kTopic = 2;
constexpr int8_t kBroker = 4;

struct Op {
  std::string name;
  int8_t op = 0;  // SET 0, DELETE 1, APPEND 2, SUBTRACT 3
  std::optional<std::string> value;
};
struct Resource {
  int8_t type = kTopic;
  std::string name;
  std::vector<Op> ops;
};
// error, message, type, name per resource.
using AlterAnswer = std::vector<std::tuple<int16_t, std::string, int8_t, std::string>>;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pinpipe-admin-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }
  void Open() {
    broker_.reset();
    embedded::EmbeddedBrokerOptions o;
    o.log.dir = dir_;
    o.log.fsync = *log::FsyncPolicy::Parse("interval:2");
    auto b = embedded::EmbeddedBroker::Open(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
    ctx_.broker = broker_.get();
    ctx_.log = &broker_->log();
    ctx_.groups = &groups_;
    ctx_.options = &options_;
    ctx_.host = "127.0.0.1";
    ctx_.port = 9092;
  }

  // Runs an (Incremental)AlterConfigs request; `incremental` picks the API.
  AlterAnswer Alter(bool incremental, int16_t version, const std::vector<Resource>& resources,
                    bool validate_only = false) {
    const bool flex = incremental ? version >= 1 : version >= 2;
    std::string req;
    Writer w(&req);
    w.ArrayLength(static_cast<int32_t>(resources.size()), flex);
    for (const Resource& r : resources) {
      w.Int8(r.type);
      w.String(r.name, flex);
      w.ArrayLength(static_cast<int32_t>(r.ops.size()), flex);
      for (const Op& o : r.ops) {
        w.String(o.name, flex);
        if (incremental) w.Int8(o.op);
        w.NullableString(o.value, flex);
        if (flex) w.EmptyTaggedFields();
      }
      if (flex) w.EmptyTaggedFields();
    }
    w.Bool(validate_only);
    if (flex) w.EmptyTaggedFields();
    Reader in(req);
    auto body = incremental ? IncrementalAlterConfigs(ctx_, version, flex, in)
                            : AlterConfigs(ctx_, version, flex, in);
    EXPECT_TRUE(body.has_value());
    if (!body) return {};
    std::string resp;
    Writer out(&resp);
    (*body)(out);
    Reader r(resp);
    EXPECT_EQ(r.Int32(), 0);  // throttle
    AlterAnswer answer;
    const int32_t n = r.ArrayLength(flex);
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      const int16_t error = r.Int16();
      const std::string message(r.NullableString(flex).value_or(""));
      const int8_t type = r.Int8();
      const std::string name(r.String(flex));
      if (flex) r.SkipTaggedFields();
      answer.emplace_back(error, message, type, name);
    }
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
    return answer;
  }
  int16_t AlterOne(const Resource& res, bool validate_only = false) {
    auto a = Alter(true, 1, {res}, validate_only);
    return a.size() == 1 ? std::get<0>(a[0]) : int16_t{-2};
  }

  struct Entry {
    std::string value;
    bool read_only = true;
    int8_t source = 0;
  };
  // DescribeConfigs v4 of one topic: name -> entry.
  std::map<std::string, Entry> Describe(const std::string& topic) {
    std::string req;
    Writer w(&req);
    w.ArrayLength(1, true);
    w.Int8(kTopic);
    w.String(topic, true);
    w.ArrayLength(-1, true);
    w.EmptyTaggedFields();
    w.Bool(false);  // synonyms
    w.Bool(false);  // documentation
    w.EmptyTaggedFields();
    Reader in(req);
    auto body = DescribeConfigs(ctx_, 4, true, in);
    EXPECT_TRUE(body.has_value());
    std::string resp;
    Writer out(&resp);
    (*body)(out);
    Reader r(resp);
    (void)r.Int32();
    std::map<std::string, Entry> entries;
    EXPECT_EQ(r.ArrayLength(true), 1);
    EXPECT_EQ(r.Int16(), kNone);
    (void)r.NullableString(true);
    (void)r.Int8();
    (void)r.String(true);
    const int32_t n = r.ArrayLength(true);
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      const std::string name(r.String(true));
      Entry& e = entries[name];
      e.value = std::string(r.NullableString(true).value_or(""));
      e.read_only = r.Bool();
      e.source = r.Int8();
      (void)r.Bool();                                                // sensitive
      for (int32_t s = r.ArrayLength(true); s > 0 && r.ok(); --s) {  // synonyms
        (void)r.String(true);
        (void)r.NullableString(true);
        (void)r.Int8();
        r.SkipTaggedFields();
      }
      (void)r.Int8();  // type
      (void)r.NullableString(true);
      r.SkipTaggedFields();
    }
    r.SkipTaggedFields();  // the resource's (the server adds the response's own)
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
    return entries;
  }

  // ListGroups at `version`: (group, protocol type, state).
  std::vector<std::tuple<std::string, std::string, std::string>> List(
      int16_t version, const std::vector<std::string>& states = {}) {
    const bool flex = version >= 3;
    std::string req;
    Writer w(&req);
    if (version >= 4) {
      w.ArrayLength(static_cast<int32_t>(states.size()), flex);
      for (const auto& s : states) w.String(s, flex);
    }
    if (flex) w.EmptyTaggedFields();
    Reader in(req);
    auto body = ListGroups(ctx_, version, flex, in);
    EXPECT_TRUE(body.has_value());
    std::string resp;
    Writer out(&resp);
    (*body)(out);
    Reader r(resp);
    if (version >= 1) (void)r.Int32();
    EXPECT_EQ(r.Int16(), kNone);
    std::vector<std::tuple<std::string, std::string, std::string>> groups;
    const int32_t n = r.ArrayLength(flex);
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      std::string id(r.String(flex));
      std::string type(r.String(flex));
      std::string state = version >= 4 ? std::string(r.String(flex)) : "";
      if (flex) r.SkipTaggedFields();
      groups.emplace_back(std::move(id), std::move(type), std::move(state));
    }
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
    return groups;
  }

  fs::path dir_;
  std::unique_ptr<embedded::EmbeddedBroker> broker_;
  GroupCoordinator groups_;
  ServerOptions options_;
  AdminContext ctx_;
};

TEST_F(AdminTest, IncrementalAlterConfigsSetsAndDeletesLiveAndDurably) {
  broker::TopicConfig c;
  c.segment_bytes = 1 << 20;
  ASSERT_TRUE(broker_->CreateTopic("t", c).ok());
  auto before = Describe("t");
  EXPECT_EQ(before["retention.ms"].source, 5);  // DEFAULT_CONFIG
  EXPECT_FALSE(before["retention.ms"].read_only);
  EXPECT_TRUE(before["cleanup.policy"].read_only);
  EXPECT_EQ(before["segment.bytes"].source, 1);  // DYNAMIC_TOPIC_CONFIG

  // validate_only checks and changes nothing.
  EXPECT_EQ(AlterOne({kTopic, "t", {{"retention.ms", 0, "60000"}}}, true), kNone);
  EXPECT_EQ(Describe("t")["retention.ms"].source, 5);

  auto a = Alter(true, 1,
                 {{kTopic,
                   "t",
                   {{"retention.ms", 0, "60000"},
                    {"segment.bytes", 1, std::nullopt},
                    {"cleanup.policy", 2, "delete"}}}});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0], std::make_tuple(int16_t{kNone}, std::string(), kTopic, std::string("t")));
  auto after = Describe("t");
  EXPECT_EQ(after["retention.ms"].value, "60000");
  EXPECT_EQ(after["retention.ms"].source, 1);
  EXPECT_EQ(after["segment.bytes"].value, "134217728");  // back to the log's default
  EXPECT_EQ(after["segment.bytes"].source, 5);
  EXPECT_EQ((*broker_->log().GetTopic("t"))->partition(0)->limits().retention_ms, 60000);

  // v0 (not flexible) too; the change survives a reopen.
  EXPECT_EQ(std::get<0>(Alter(true, 0, {{kTopic, "t", {{"segment.ms", 0, "3600000"}}}})[0]), kNone);
  Open();
  after = Describe("t");
  EXPECT_EQ(after["retention.ms"].value, "60000");
  EXPECT_EQ(after["segment.ms"].value, "3600000");
  EXPECT_EQ(after["segment.ms"].source, 1);
}

TEST_F(AdminTest, IncrementalAlterConfigsRefusesWhatKafkaRefuses) {
  ASSERT_TRUE(broker_->CreateTopic("t", broker::TopicConfig{}).ok());
  auto one = [&](Op op) { return Alter(true, 1, {{kTopic, "t", {op}}})[0]; };
  auto [e1, m1, t1, n1] = one({"retention.ms", 2, "5"});
  EXPECT_EQ(e1, kInvalidConfig);
  EXPECT_NE(m1.find("append is not allowed for config key: retention.ms"), std::string::npos) << m1;
  EXPECT_EQ(std::get<0>(one({"retention.ms", 3, "5"})), kInvalidConfig);
  auto [e2, m2, t2, n2] = one({"retention.ms", 0, "soon"});
  EXPECT_EQ(e2, kInvalidConfig);
  EXPECT_NE(m2.find("Invalid value soon for configuration retention.ms"), std::string::npos) << m2;
  EXPECT_EQ(std::get<0>(one({"retention.ms", 0, "-7"})), kInvalidConfig);
  EXPECT_EQ(std::get<0>(one({"segment.bytes", 0, "100"})), kInvalidConfig);
  EXPECT_EQ(std::get<0>(one({"retention.ms", 0, std::nullopt})), kInvalidConfig);
  auto [e3, m3, t3, n3] = one({"max.message.bytes", 0, "1000"});
  EXPECT_EQ(e3, kInvalidConfig);
  EXPECT_NE(m3.find("Unknown topic config name: max.message.bytes"), std::string::npos) << m3;
  EXPECT_EQ(std::get<0>(one({"cleanup.policy", 0, "compact"})), kInvalidConfig);
  EXPECT_EQ(std::get<0>(one({"cleanup.policy", 3, "delete"})), kInvalidConfig);
  EXPECT_EQ(std::get<0>(one({"cleanup.policy", 0, "delete"})), kNone);
  // The fsync policy is fixed while the topic lives; naming the current one is fine.
  auto [e4, m4, t4, n4] = one({"flush.messages", 0, "1"});
  EXPECT_EQ(e4, kInvalidConfig);
  EXPECT_NE(m4.find("fsync policy"), std::string::npos) << m4;
  EXPECT_EQ(std::get<0>(one({"flush.ms", 0, "2"})), kNone);
  EXPECT_EQ(Describe("t")["flush.ms"].source, 1);
  // A key twice, a resource twice, an unknown topic, the broker, another resource type.
  EXPECT_EQ(std::get<0>(
                Alter(true, 1, {{kTopic, "t", {{"retention.ms", 0, "1"}, {"retention.ms", 1, {}}}}})
                    .at(0)),
            kInvalidRequest);
  auto twice = Alter(true, 1, {{kTopic, "t", {}}, {kTopic, "t", {}}});
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_EQ(std::get<0>(twice[1]), kInvalidRequest);
  EXPECT_EQ(AlterOne({kTopic, "nope", {{"retention.ms", 0, "1000"}}}), kUnknownTopicOrPartition);
  EXPECT_EQ(AlterOne({kTopic, "bad/name", {}}), kInvalidTopicException);
  auto broker = Alter(true, 1, {{kBroker, "0", {{"log.retention.ms", 0, "1000"}}}});
  EXPECT_EQ(std::get<0>(broker[0]), kInvalidConfig);
  EXPECT_NE(std::get<1>(broker[0]).find("static"), std::string::npos);
  EXPECT_EQ(AlterOne({8, "0", {{"kafka", 0, "DEBUG"}}}), kInvalidRequest);
  // Nothing of it changed the topic.
  EXPECT_EQ((*broker_->log().GetTopic("t"))->settings().retention_ms, 0);
}

TEST_F(AdminTest, AlterConfigsReplacesTheWholeSet) {
  broker::TopicConfig c;
  c.retention_ms = 3'600'000;
  ASSERT_TRUE(broker_->CreateTopic("t", c).ok());
  auto a = Alter(false, 0, {{kTopic, "t", {{"retention.bytes", 0, "1048576"}}}}, true);
  EXPECT_EQ(std::get<0>(a.at(0)), kNone);
  EXPECT_EQ((*broker_->log().GetTopic("t"))->settings().retention_bytes, 0);  // validate only
  for (int16_t v : {0, 2}) {  // classic and flexible encodings
    a = Alter(false, v, {{kTopic, "t", {{"retention.bytes", 0, "1048576"}}}});
    EXPECT_EQ(std::get<0>(a.at(0)), kNone) << std::get<1>(a.at(0));
  }
  auto d = Describe("t");
  EXPECT_EQ(d["retention.bytes"].value, "1048576");
  EXPECT_EQ(d["retention.bytes"].source, 1);
  EXPECT_EQ(d["retention.ms"].source, 5);  // not named: back to the default
  EXPECT_EQ(std::get<0>(Alter(false, 1, {{kTopic, "t", {{"bogus", 0, "1"}}}}).at(0)),
            kInvalidConfig);
}

TEST_F(AdminTest, AlterConfigsStaysInTheTenantsScope) {
  ASSERT_TRUE(broker_->CreateTopic("acme.t", broker::TopicConfig{}).ok());
  ASSERT_TRUE(broker_->CreateTopic("other.t", broker::TopicConfig{}).ok());
  auth::Tenant acme;
  acme.name = "acme";
  acme.prefixes = {"acme"};
  ctx_.principal.tenant = &acme;
  EXPECT_EQ(AlterOne({kTopic, "acme.t", {{"retention.ms", 0, "1000"}}}), kNone);
  EXPECT_EQ(AlterOne({kTopic, "other.t", {{"retention.ms", 0, "1000"}}}),
            kTopicAuthorizationFailed);
  EXPECT_EQ(AlterOne({kTopic, "other.none", {{"retention.ms", 0, "1000"}}}),
            kTopicAuthorizationFailed);  // nothing revealed about existence
  EXPECT_EQ(AlterOne({kBroker, "0", {}}), kClusterAuthorizationFailed);
  EXPECT_EQ((*broker_->log().GetTopic("other.t"))->settings().retention_ms, 0);

  // ListGroups shows only the tenant's groups.
  ASSERT_TRUE(broker_->CommitOffsets("acme-sink", {{"acme.t", 0, 0}}).ok());
  ASSERT_TRUE(broker_->CommitOffsets("other-sink", {{"other.t", 0, 0}}).ok());
  auto listed = List(4);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(std::get<0>(listed[0]), "acme-sink");
}

TEST_F(AdminTest, ListGroupsShowsOffsetOnlyGroupsAsEmpty) {
  ASSERT_TRUE(broker_->CreateTopic("t", broker::TopicConfig{}).ok());
  ASSERT_TRUE(broker_->CommitOffsets("connect-sink", {{"t", 0, 0}}).ok());
  // A group with a Kafka-protocol member, and offsets under its name too: listed once.
  groups_.Join("live", "", "client", "/127.0.0.1", 10'000, 10'000, "consumer", {{"range", "m"}},
               [](JoinResult) {});
  ASSERT_TRUE(broker_->CommitOffsets("live", {{"t", 0, 0}}).ok());
  auto listed = List(4);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0],
            std::make_tuple(std::string("connect-sink"), std::string(""), std::string("Empty")));
  EXPECT_EQ(std::get<0>(listed[1]), "live");
  EXPECT_EQ(std::get<1>(listed[1]), "consumer");
  EXPECT_EQ(List(4, {"Empty"}).size(), 1u);
  EXPECT_EQ(List(0).size(), 2u);
  EXPECT_EQ(List(3).size(), 2u);
}

}  // namespace
}  // namespace pinpipe::kafka_api
