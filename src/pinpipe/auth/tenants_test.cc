#include "pinpipe/auth/tenants.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pinpipe/base/encoding.h"

namespace pinpipe::auth {
namespace {

constexpr std::string_view kTwoTenants = R"(
[general]
prefix = "ignored"

[[tenants]]
name = "alice"
prefixes = ["alice"]
api_keys = ["alice-demo-key"]
records_per_s = 10
[[tenants.sigv4]]
access_key = "AKIDALICE"
secret_key_env = "ALICE_SECRET"
[[tenants.sasl]]
user = "alice"
password = "alice-sasl-pw"

[[tenants]]
name = "bob"
prefixes = ["bob"]
api_keys = ["bob-demo-key"]

[[tenants]]
name = "ops"
admin = true
api_keys = ["ops-admin-key"]
)";

TEST(ScramTest, VerifierRoundTripsAndChecksPasswords) {
  // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, i=4096.
  auto salt = Base64Decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt);
  ScramVerifier v = MakeScramVerifier(ScramMechanism::kSha256, "pencil", *salt, 4096);
  EXPECT_EQ(v.stored_key.size(), 32u);
  EXPECT_EQ(v.server_key.size(), 32u);
  auto parsed = ParseScramVerifier(FormatScramVerifier(v));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->stored_key, v.stored_key);
  EXPECT_EQ(parsed->iterations, 4096);
  SaslUser u{"user", v, std::nullopt};
  EXPECT_TRUE(u.CheckPassword("pencil"));
  EXPECT_FALSE(u.CheckPassword("pencil2"));
}

TEST(ScramTest, AcceptsVerifiersMadeByAnotherImplementation) {
  // Made with Python's hashlib.pbkdf2_hmac/hmac (deploy/config/tenants.toml's alice).
  auto v256 = ParseScramVerifier(
      "YWxpY2Utc2FsdC0yNTY=:4096:n/46PHgzDH0NtNWvjVrZwXWSbU9evUbv8oJAKbHlRAg=:"
      "68FDKzF2Cmqwf+5cY0M6pfVClPa2wK5p91zroJWm32s=");
  ASSERT_TRUE(v256.ok()) << v256.status().ToString();
  auto again = MakeScramVerifier(ScramMechanism::kSha256, "alice-sasl-password", v256->salt, 4096);
  EXPECT_EQ(again.stored_key, v256->stored_key);
  EXPECT_EQ(again.server_key, v256->server_key);
  SaslUser u{"alice", std::nullopt, std::nullopt};
  u.scram_sha512 = *ParseScramVerifier(
      "YWxpY2Utc2FsdC01MTI=:4096:lp28GoTMnxk2KHQ5RlH081k5Bn8mGmiT3N0DTiKpS+YllKponsOp1PN7Y9eW0Otx"
      "dKlTH6mYQSUyPaMdfXQ3WA==:jJU08g4+sJwEfO2TjMjuJlLzpc9dJgVFv4pT9rh4XIQQ3HGomSactC+xUXkWjk0bF"
      "AItl2lWrNYfTdzSjx7DQg==");
  EXPECT_TRUE(u.CheckPassword("alice-sasl-password"));
  EXPECT_FALSE(u.CheckPassword("bob-sasl-password"));
}

TEST(TenantSetTest, ParsesTenantsCredentialsAndScopes) {
  auto set = TenantSet::Parse(kTwoTenants, "t.toml", {"ALICE_SECRET=alice-sigv4-secret"});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ((*set)->tenants().size(), 3u);
  const Tenant* alice = (*set)->ByApiKey("alice-demo-key");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ((*set)->ByApiKey("alice-demo-kex"), nullptr);
  EXPECT_EQ((*set)->ByApiKey(""), nullptr);
  const SigV4Key* key = nullptr;
  EXPECT_EQ((*set)->BySigV4("AKIDALICE", &key), alice);
  EXPECT_EQ(key->secret_key, "alice-sigv4-secret");
  const SaslUser* sasl = nullptr;
  EXPECT_EQ((*set)->BySaslUser("alice", &sasl), alice);
  EXPECT_TRUE(sasl->CheckPassword("alice-sasl-pw"));
  EXPECT_TRUE(alice->OwnsTopic("alice.pin"));
  EXPECT_FALSE(alice->OwnsTopic("alice2.pin"));
  EXPECT_FALSE(alice->OwnsTopic("bob.pin"));
  EXPECT_FALSE(alice->OwnsTopic("alice."));
  EXPECT_TRUE(alice->OwnsStream("streaming-alice-pin"));
  EXPECT_FALSE(alice->OwnsStream("streaming-bob-pin"));
  EXPECT_TRUE(alice->OwnsTable("alice_pin_table"));
  EXPECT_TRUE(alice->OwnsGroup("alice-sink"));
  EXPECT_FALSE(alice->OwnsGroup("bob-sink"));
  const Tenant* ops = (*set)->ByApiKey("ops-admin-key");
  ASSERT_NE(ops, nullptr);
  EXPECT_TRUE(ops->OwnsTopic("bob.pin"));
}

TEST(TenantSetTest, DescribeNeverShowsSecrets) {
  auto set = TenantSet::Parse(kTwoTenants, "t.toml", {"ALICE_SECRET=alice-sigv4-secret"});
  ASSERT_TRUE(set.ok());
  const std::string text = (*set)->Describe();
  EXPECT_NE(text.find("AKIDALICE"), std::string::npos);
  for (const char* secret :
       {"alice-demo-key", "bob-demo-key", "ops-admin-key", "alice-sigv4-secret", "alice-sasl-pw"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

TEST(TenantSetTest, SecretsFromFilesAndErrorsWithoutValues) {
  const auto dir = std::filesystem::temp_directory_path() / "pinpipe_tenants_test";
  std::filesystem::create_directories(dir);
  const auto file = (dir / "secret").string();
  std::ofstream(file) << "file-secret-value\n";
  std::string toml =
      "[[tenants]]\nname = \"a\"\nprefixes = [\"a\"]\n[[tenants.sigv4]]\n"
      "access_key = \"AK\"\nsecret_key_file = \"" +
      file + "\"\n";
  auto set = TenantSet::Parse(toml, "t.toml", {});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ((*set)->tenants()[0].sigv4[0].secret_key, "file-secret-value");

  // Two tenants with one key: refused, and the key is not in the message.
  auto dup = TenantSet::Parse(
      "[[tenants]]\nname=\"a\"\nprefixes=[\"a\"]\napi_keys=[\"shared-key-1\"]\n"
      "[[tenants]]\nname=\"b\"\nprefixes=[\"b\"]\napi_keys=[\"shared-key-1\"]\n",
      "t.toml", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message().find("shared-key-1"), std::string::npos);
  // Overlapping or unsafe prefixes, unknown fields, missing env.
  EXPECT_FALSE(TenantSet::Parse("[[tenants]]\nname=\"a\"\nprefixes=[\"a-b\"]\n", "t", {}).ok());
  EXPECT_FALSE(
      TenantSet::Parse("[[tenants]]\nname=\"a\"\nprefixes=[\"a\"]\nkey=1\n", "t", {}).ok());
  EXPECT_FALSE(TenantSet::Parse("[[tenants]]\nname=\"a\"\nprefixes=[\"a\"]\n[[tenants]]\n"
                                "name=\"b\"\nprefixes=[\"a\"]\n",
                                "t", {})
                   .ok());
  auto env = TenantSet::Parse(
      "[[tenants]]\nname=\"a\"\nprefixes=[\"a\"]\n[[tenants.sigv4]]\naccess_key=\"AK\"\n"
      "secret_key_env=\"NOPE_NOT_SET\"\n",
      "t", {});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("NOPE_NOT_SET"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(TenantSetTest, NoTenantsIsEmpty) {
  auto set = TenantSet::Parse("[general]\nprefix = \"x\"\n", "t", {});
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE((*set)->empty());
  auto none = TenantSet::Load("", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)->empty());
}

TEST(RegistryTest, SwapIsSeenByLaterReaders) {
  Registry registry;
  auto before = registry.Current();
  EXPECT_TRUE(before->empty());
  auto set = TenantSet::Parse(kTwoTenants, "t", {"ALICE_SECRET=s"});
  ASSERT_TRUE(set.ok());
  registry.Swap(*set);
  EXPECT_EQ(registry.Current()->tenants().size(), 3u);
  EXPECT_TRUE(before->empty());  // a holder keeps its snapshot
}

TEST(QuotaLimiterTest, AdmitsTheRateAndTellsHowLongToWait) {
  Tenant t;
  t.name = "a";
  t.quota.records_per_s = 100;
  QuotaLimiter q;
  int64_t now = 1'000'000;
  EXPECT_EQ(q.Admit(t, 60, 0, now), 0);
  EXPECT_EQ(q.Admit(t, 60, 0, now), 0);  // 40 left: admitted, now 20 in debt
  const int64_t wait = q.Admit(t, 1, 0, now);
  EXPECT_GT(wait, 200);  // 21 records at 100/s
  EXPECT_LE(wait, 220);
  EXPECT_EQ(q.Admit(t, 1, 0, now + wait), 0);
  Tenant other = t;
  other.name = "b";
  EXPECT_EQ(q.Admit(other, 60, 0, now), 0);  // b has its own bucket
  Tenant free;
  free.name = "c";
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(q.Admit(free, 1000, 1 << 20, now), 0);
}

}  // namespace
}  // namespace pinpipe::auth
