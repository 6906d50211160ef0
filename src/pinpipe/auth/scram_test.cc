#include "pinpipe/auth/scram.h"

#include <gtest/gtest.h>

#include "pinpipe/base/encoding.h"

namespace pinpipe::auth {
namespace {

std::shared_ptr<const TenantSet> Tenants() {
  auto set = TenantSet::Parse(R"(
[[tenants]]
name = "alice"
prefixes = ["alice"]
[[tenants.sasl]]
user = "alice"
password = "pencil"
)",
                              "test", {});
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return *set;
}

// client-final-message-without-proof for `server_first` (the nonce it chose).
// The successful SCRAM exchange is covered by kcat and confluent-kafka in
// tests/tenants/tenants_kafka_test.cc.
std::string WithoutProof(const std::string& server_first) {
  return "c=biws,r=" + server_first.substr(2, server_first.find(',') - 2);
}

TEST(SaslExchangeTest, PlainChecksThePassword) {
  auto set = Tenants();
  SaslExchange ok(SaslExchange::Mechanism::kPlain, set);
  auto r = ok.Step(std::string("\0alice\0pencil", 13));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(ok.done());
  EXPECT_EQ(ok.tenant()->name, "alice");
  SaslExchange bad(SaslExchange::Mechanism::kPlain, set);
  auto b = bad.Step(std::string("\0alice\0wrong", 12));
  EXPECT_EQ(b.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(b.status().message().find("wrong"), std::string::npos);
  SaslExchange malformed(SaslExchange::Mechanism::kPlain, set);
  EXPECT_EQ(malformed.Step("alice").status().code(), StatusCode::kInvalidArgument);
}

TEST(SaslExchangeTest, ScramRefusesAWrongProofAndHidesUnknownUsers) {
  auto set = Tenants();
  SaslExchange s(SaslExchange::Mechanism::kScramSha256, set);
  auto first = s.Step("n,,n=alice,r=abc");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->starts_with("r=abc"));
  auto final = s.Step(WithoutProof(*first) + ",p=" + Base64Encode(std::string(32, 'x')));
  EXPECT_EQ(final.status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(s.done());

  // An unknown user gets the same salt every time and fails at the proof.
  std::string salts[2];
  for (auto& salt : salts) {
    SaslExchange u(SaslExchange::Mechanism::kScramSha512, set);
    auto f = u.Step("n,,n=nobody,r=xyz");
    ASSERT_TRUE(f.ok());
    salt = f->substr(f->find(",s="));
    auto fin = u.Step(WithoutProof(*f) + ",p=" + Base64Encode(std::string(64, 'x')));
    EXPECT_EQ(fin.status().code(), StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(salts[0], salts[1]);

  // The nonce must be the server's.
  SaslExchange n(SaslExchange::Mechanism::kScramSha256, set);
  ASSERT_TRUE(n.Step("n,,n=alice,r=abc").ok());
  EXPECT_EQ(n.Step("c=biws,r=abcother,p=" + Base64Encode(std::string(32, 'x'))).status().code(),
            StatusCode::kInvalidArgument);

  SaslExchange cb(SaslExchange::Mechanism::kScramSha256, set);
  EXPECT_EQ(cb.Step("p=tls-unique,,n=alice,r=abc").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinpipe::auth
