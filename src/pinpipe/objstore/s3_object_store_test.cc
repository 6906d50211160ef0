// S3ObjectStore without a server: SigV4 signing checked against AWS's
// published test vector (both by an independent signer written here and by
// capturing what libcurl actually sends), canonical query strings, retries,
// error mapping, namespace-agnostic XML, and credential discovery.
#include "pinpipe/objstore/s3_object_store.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "pinpipe/base/config.h"
#include "pinpipe/objstore/xml.h"

namespace pinpipe::objstore {
namespace {

constexpr char kAccessKey[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecretKey[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---- An independent SigV4 signer (tests only), straight from AWS's spec. ----

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char d[32];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_sha256(), nullptr);
  return Hex(d, n);
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

struct SignInput {
  std::string method, path, query;             // path and query as sent (already encoded)
  std::map<std::string, std::string> headers;  // lower-case name -> trimmed value (signed ones)
  std::string payload_sha, date, region = "us-east-1", secret = kSecretKey;
};

std::string Sign(const SignInput& in) {
  // Canonical query: split, sort.
  std::vector<std::string> params;
  size_t start = 0;
  while (!in.query.empty() && start <= in.query.size()) {
    size_t amp = in.query.find('&', start);
    if (amp == std::string::npos) amp = in.query.size();
    std::string p = in.query.substr(start, amp - start);
    if (p.find('=') == std::string::npos) p += "=";
    params.push_back(p);
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string canonical_query;
  for (const auto& p : params) canonical_query += (canonical_query.empty() ? "" : "&") + p;
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : in.headers) {
    canonical_headers += k + ":" + v + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }
  std::string canonical = in.method + "\n" + in.path + "\n" + canonical_query + "\n" +
                          canonical_headers + "\n" + signed_headers + "\n" + in.payload_sha;
  std::string day = in.date.substr(0, 8);
  std::string scope = day + "/" + in.region + "/s3/aws4_request";
  std::string to_sign = "AWS4-HMAC-SHA256\n" + in.date + "\n" + scope + "\n" + Sha256(canonical);
  std::string k = Hmac("AWS4" + in.secret, day);
  k = Hmac(k, in.region);
  k = Hmac(k, "s3");
  k = Hmac(k, "aws4_request");
  std::string sig = Hmac(k, to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

TEST(SigV4Test, IndependentSignerReproducesAwsPublishedVector) {
  // AWS S3 docs, "Example: GET Object" (spec/sink-and-tables.md §2).
  SignInput in;
  in.method = "GET";
  in.path = "/test.txt";
  in.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                {"range", "bytes=0-9"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_sha = kEmptySha;
  in.date = "20130524T000000Z";
  EXPECT_EQ(Sign(in), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// ---- A scripted HTTP/1.1 server on 127.0.0.1 that records requests. ----

struct Captured {
  std::string method, target;
  std::map<std::string, std::string> headers;  // lower-case
  std::string body;
};

class FakeS3 {
 public:
  FakeS3() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeS3() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  void Respond(std::string raw) {
    std::lock_guard<std::mutex> lock(mu_);
    responses_.push_back(std::move(raw));
  }
  std::vector<Captured> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  static std::string Reply(int status, std::string body = "", std::string extra = "") {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      char tmp[65536];
      while (true) {
        size_t end = buf.find("\r\n\r\n");
        if (end == std::string::npos) {
          ssize_t n = recv(c, tmp, sizeof(tmp), 0);
          if (n <= 0) break;
          buf.append(tmp, static_cast<size_t>(n));
          continue;
        }
        Captured r;
        std::string head = buf.substr(0, end);
        size_t line_end = head.find("\r\n");
        std::string line = head.substr(0, line_end);
        r.method = line.substr(0, line.find(' '));
        r.target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
        size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
          size_t e = head.find("\r\n", pos);
          if (e == std::string::npos) e = head.size();
          std::string h = head.substr(pos, e - pos);
          size_t colon = h.find(':');
          std::string name = h.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), ::tolower);
          std::string value = h.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          if (!r.headers.count(name)) r.headers[name] = value;
          pos = e + 2;
        }
        size_t content_length =
            r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
        while (buf.size() < end + 4 + content_length) {
          ssize_t n = recv(c, tmp, sizeof(tmp), 0);
          if (n <= 0) break;
          buf.append(tmp, static_cast<size_t>(n));
        }
        r.body = buf.substr(end + 4, content_length);
        buf.erase(0, end + 4 + content_length);
        std::string reply;
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(r);
          if (responses_.empty()) {
            reply = Reply(500, "<Error><Code>InternalError</Code></Error>");
          } else {
            reply = responses_.front();
            responses_.pop_front();
          }
        }
        if (r.method == "HEAD") {  // no body on HEAD
          size_t he = reply.find("\r\n\r\n");
          reply = reply.substr(0, he + 4);
        }
        send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::deque<std::string> responses_;
  std::vector<Captured> requests_;
};

S3Options VectorOptions(int port) {
  S3Options o;
  o.bucket = "examplebucket";
  o.endpoint = "http://s3.amazonaws.com";
  o.credentials = {kAccessKey, kSecretKey, ""};
  o.fixed_amz_date = "20130524T000000Z";
  o.connect_to = {"examplebucket.s3.amazonaws.com:80:127.0.0.1:" + std::to_string(port)};
  o.backoff_base_ms = 1;
  o.backoff_max_ms = 5;
  return o;
}

std::string SignatureOf(const std::string& authorization) {
  size_t p = authorization.find("Signature=");
  return p == std::string::npos ? "" : authorization.substr(p + 10);
}

// Recomputes the signature of a captured request with the independent signer.
std::string Resign(const Captured& r, std::string region = "us-east-1") {
  SignInput in;
  in.method = r.method;
  size_t q = r.target.find('?');
  in.path = r.target.substr(0, q);
  in.query = q == std::string::npos ? "" : r.target.substr(q + 1);
  const std::string& auth = r.headers.at("authorization");
  size_t sh = auth.find("SignedHeaders=") + 14;
  std::string names = auth.substr(sh, auth.find(',', sh) - sh);
  size_t start = 0;
  while (start <= names.size()) {
    size_t semi = names.find(';', start);
    if (semi == std::string::npos) semi = names.size();
    std::string n = names.substr(start, semi - start);
    in.headers[n] = r.headers.count(n) ? r.headers.at(n) : "";
    start = semi + 1;
  }
  in.payload_sha = Sha256(r.body);
  in.date = r.headers.at("x-amz-date");
  in.region = std::move(region);
  return Sign(in);
}

TEST(S3SigningTest, CurlSignsTheAwsVectorRequestIdentically) {
  FakeS3 server;
  server.Respond(FakeS3::Reply(206, "0123456789"));
  auto store = S3ObjectStore::Open(VectorOptions(server.port()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto got = (*store)->Get("test.txt", ByteRange{0, 9});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "0123456789");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.target, "/test.txt");
  EXPECT_EQ(r.headers.at("host"), "examplebucket.s3.amazonaws.com");
  EXPECT_EQ(r.headers.at("x-amz-content-sha256"), kEmptySha);
  EXPECT_EQ(r.headers.at("authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3SigningTest, PutWithQueryAndEncodedKeyVerifiesIndependently) {
  FakeS3 server;
  server.Respond(FakeS3::Reply(200, "", "ETag: \"abc\"\r\n"));
  S3Options o = VectorOptions(server.port());
  o.fixed_amz_date.clear();  // the real clock this time
  o.region = "eu-west-1";
  o.credentials.session_token = "session/token+1";
  auto store = S3ObjectStore::Open(o);
  ASSERT_TRUE(store.ok());
  S3ObjectStore::Request req;
  req.method = "PUT";
  req.object_key = "topics/a.pin/partition=0/a.pin+0+0000000042.json";
  req.query = {{"uploadId", "x y/z+"}, {"partNumber", "3"}};
  req.headers = {"Content-Type: application/octet-stream"};
  req.body = "{\"a\":1}\n";
  ASSERT_TRUE((*store)->Execute(req).ok());
  auto r = server.requests().at(0);
  EXPECT_EQ(r.target,
            "/topics/a.pin/partition%3D0/a.pin%2B0%2B0000000042.json"
            "?partNumber=3&uploadId=x%20y%2Fz%2B");
  EXPECT_EQ(r.body, "{\"a\":1}\n");
  EXPECT_EQ(r.headers.at("x-amz-content-sha256"), Sha256("{\"a\":1}\n"));
  EXPECT_EQ(r.headers.at("x-amz-security-token"), "session/token+1");
  const std::string& auth = r.headers.at("authorization");
  EXPECT_NE(auth.find("/eu-west-1/s3/aws4_request"), std::string::npos);
  EXPECT_NE(auth.find("x-amz-security-token"), std::string::npos);
  EXPECT_NE(auth.find("x-amz-content-sha256"), std::string::npos);
  EXPECT_EQ(SignatureOf(auth), Resign(r, "eu-west-1"));
  // The secret never appears on the wire.
  for (const auto& [k, v] : r.headers) EXPECT_EQ(v.find(kSecretKey), std::string::npos);
}

TEST(S3StoreTest, RetriesTransientFailuresThenSucceeds) {
  FakeS3 server;
  server.Respond(FakeS3::Reply(503, "<Error><Code>SlowDown</Code></Error>"));
  server.Respond(FakeS3::Reply(500, "<Error><Code>InternalError</Code></Error>"));
  server.Respond(FakeS3::Reply(200, "payload"));
  auto store = S3ObjectStore::Open(VectorOptions(server.port()));
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "payload");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(S3StoreTest, GivesUpAfterMaxAttemptsWithUnavailable) {
  FakeS3 server;
  for (int i = 0; i < 5; ++i) server.Respond(FakeS3::Reply(503, ""));
  S3Options o = VectorOptions(server.port());
  o.max_attempts = 3;
  auto store = S3ObjectStore::Open(o);
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("k");
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(S3StoreTest, ClientErrorsAreNotRetriedAndMapToCodes) {
  FakeS3 server;
  server.Respond(
      FakeS3::Reply(404, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>"));
  server.Respond(FakeS3::Reply(412, "<Error><Code>PreconditionFailed</Code></Error>"));
  server.Respond(FakeS3::Reply(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>"));
  auto store = S3ObjectStore::Open(VectorOptions(server.port()));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Get("a").status().code(), StatusCode::kNotFound);
  PutOptions once;
  once.if_absent = true;
  EXPECT_EQ((*store)->Put("b", "x", once).code(), StatusCode::kAlreadyExists);
  Status denied = (*store)->Put("c", "x", {});
  EXPECT_EQ(denied.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(denied.message().find(kSecretKey), std::string::npos);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].headers.at("if-none-match"), "*");
  EXPECT_EQ(requests[2].headers.count("if-none-match"), 0u);
}

TEST(S3StoreTest, NetworkErrorsAreUnavailable) {
  int port;
  {
    FakeS3 server;
    port = server.port();
  }  // closed again: connection refused
  S3Options o = VectorOptions(port);
  o.max_attempts = 2;
  auto store = S3ObjectStore::Open(o);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Head("x").status().code(), StatusCode::kUnavailable);
}

TEST(S3StoreTest, ListParsesNamespacedPagesAndStripsThePrefix) {
  FakeS3 server;
  server.Respond(FakeS3::Reply(
      200,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>examplebucket</Name><Prefix>lake/t/</Prefix><IsTruncated>true</IsTruncated>"
      "<Contents><Key>lake/t/a&amp;b.json</Key><LastModified>2024-01-02T03:04:05.678Z"
      "</LastModified><ETag>&quot;e1&quot;</ETag><Size>12</Size></Contents>"
      "<Contents><Key>lake/t/c.json</Key><Size>3</Size></Contents>"
      "<NextContinuationToken>tok/1=</NextContinuationToken></ListBucketResult>"));
  server.Respond(FakeS3::Reply(
      200,
      "<s3:ListBucketResult xmlns:s3=\"urn:other\"><s3:IsTruncated>false</s3:IsTruncated>"
      "<s3:Contents><s3:Key>lake/t/d.json</s3:Key><s3:Size>4</s3:Size></s3:Contents>"
      "</s3:ListBucketResult>"));
  S3Options o = VectorOptions(server.port());
  o.prefix = "lake";
  o.path_style = true;
  o.connect_to = {"s3.amazonaws.com:80:127.0.0.1:" + std::to_string(server.port())};
  auto store = S3ObjectStore::Open(o);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Url(), "s3://examplebucket/lake");
  auto all = (*store)->ListAll("t/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "t/a&b.json");
  EXPECT_EQ((*all)[0].size, 12);
  EXPECT_EQ((*all)[0].etag, "e1");
  EXPECT_EQ((*all)[0].modified_ms, 1704164645678);
  EXPECT_EQ((*all)[2].key, "t/d.json");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/examplebucket/?list-type=2&max-keys=1000&prefix=lake%2Ft%2F");
  EXPECT_EQ(requests[1].target,
            "/examplebucket/?continuation-token=tok%2F1%3D&list-type=2&max-keys=1000"
            "&prefix=lake%2Ft%2F");
  EXPECT_EQ(SignatureOf(requests[1].headers.at("authorization")), Resign(requests[1]));
}

TEST(S3StoreTest, LargePutsUseMultipart) {
  FakeS3 server;
  server.Respond(FakeS3::Reply(
      200,
      "<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>"));
  server.Respond(FakeS3::Reply(200, "", "ETag: \"p1\"\r\n"));
  server.Respond(FakeS3::Reply(200, "", "ETag: \"p2\"\r\n"));
  server.Respond(FakeS3::Reply(200, "", "ETag: \"p3\"\r\n"));
  server.Respond(FakeS3::Reply(200, "<CompleteMultipartUploadResult/>"));
  S3Options o = VectorOptions(server.port());
  o.part_size = 10;
  o.multipart_threshold = 15;
  auto store = S3ObjectStore::Open(o);
  ASSERT_TRUE(store.ok());
  PutOptions once;
  once.if_absent = true;
  std::string data = "0123456789abcdefghijKLMNO";  // 25 bytes: 10 + 10 + 5
  ASSERT_TRUE((*store)->Put("big", data, once).ok());
  auto r = server.requests();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].method, "POST");
  EXPECT_EQ(r[0].target, "/big?uploads=");
  EXPECT_EQ(r[1].target, "/big?partNumber=1&uploadId=U1");
  EXPECT_EQ(r[1].body, "0123456789");
  EXPECT_EQ(r[2].body, "abcdefghij");
  EXPECT_EQ(r[3].body, "KLMNO");
  EXPECT_EQ(r[4].target, "/big?uploadId=U1");
  EXPECT_EQ(r[4].headers.at("if-none-match"), "*");
  EXPECT_NE(r[4].body.find("<PartNumber>3</PartNumber><ETag>\"p3\"</ETag>"), std::string::npos);
  for (const auto& req : r) EXPECT_EQ(SignatureOf(req.headers.at("authorization")), Resign(req));
}

TEST(S3StoreTest, FailedMultipartIsAborted) {
  FakeS3 server;
  server.Respond(FakeS3::Reply(
      200,
      "<InitiateMultipartUploadResult><UploadId>U2</UploadId></InitiateMultipartUploadResult>"));
  server.Respond(FakeS3::Reply(200, "", "ETag: \"p1\"\r\n"));
  server.Respond(FakeS3::Reply(200, "", "ETag: \"p2\"\r\n"));
  server.Respond(FakeS3::Reply(
      200, "<Error><Code>PreconditionFailed</Code><Message>exists</Message></Error>"));
  server.Respond(FakeS3::Reply(204));
  S3Options o = VectorOptions(server.port());
  o.part_size = 10;
  o.multipart_threshold = 10;
  auto store = S3ObjectStore::Open(o);
  ASSERT_TRUE(store.ok());
  auto upload = (*store)->StartUpload("big", {});
  ASSERT_TRUE(upload.ok());
  ASSERT_TRUE((*upload)->Append(std::string(15, 'x')).ok());
  EXPECT_FALSE((*upload)->Finish().ok());
  auto r = server.requests();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[4].method, "DELETE");
  EXPECT_EQ(r[4].target, "/big?uploadId=U2");
}

TEST(XmlTest, MatchesLocalNamesAndDecodesEntities) {
  std::string doc =
      "<?xml version=\"1.0\"?><!-- c --><a:Root xmlns:a=\"x\"><a:Key>k&lt;1&#x41;&#66;</a:Key>"
      "<Empty/><Key attr=\"v\">second</Key></a:Root>";
  EXPECT_EQ(xml::Text(doc, "Key"), "k<1AB");
  EXPECT_EQ(xml::Elements(doc, "Key").size(), 2u);
  EXPECT_EQ(xml::Elements(doc, "Empty").size(), 1u);
  EXPECT_FALSE(xml::Text(doc, "Missing").has_value());
  EXPECT_EQ(xml::Text("<unterminated><Key>x", "Key"), std::nullopt);
  EXPECT_EQ(xml::Escape("a<&>\""), "a&lt;&amp;&gt;\"");
}

TEST(S3ConfigTest, CredentialsComeFromConfigThenEnvThenProfileFile) {
  std::map<std::string, std::string> vars;
  EnvLookup env = [&](std::string_view n) -> std::optional<std::string> {
    auto it = vars.find(std::string(n));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  Config config;
  EXPECT_EQ(S3OptionsFromConfig("s3://b", config, env).status().code(),
            StatusCode::kUnauthenticated);

  char tmpl[] = "/tmp/awscreds-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  std::string file =
      "[default]\naws_access_key_id = DEF\naws_secret_access_key = DEFSECRET\n"
      "[profile other]\naws_access_key_id=OTH\naws_secret_access_key=OTHSECRET\n"
      "aws_session_token=TOK\n";
  ASSERT_EQ(write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
  close(fd);
  vars["AWS_SHARED_CREDENTIALS_FILE"] = tmpl;
  auto o = S3OptionsFromConfig("s3://bucket/some/prefix/", config, env);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->bucket, "bucket");
  EXPECT_EQ(o->prefix, "some/prefix");
  EXPECT_EQ(o->credentials.access_key, "DEF");
  vars["AWS_PROFILE"] = "other";
  o = S3OptionsFromConfig("s3://bucket", config, env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key, "OTH");
  EXPECT_EQ(o->credentials.session_token, "TOK");

  vars["AWS_ACCESS_KEY_ID"] = "ENVAK";
  vars["AWS_SECRET_ACCESS_KEY"] = "ENVSK";
  vars["AWS_REGION"] = "ap-south-1";
  o = S3OptionsFromConfig("s3://bucket", config, env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key, "ENVAK");
  EXPECT_EQ(o->region, "ap-south-1");

  ASSERT_TRUE(config.Set("s3.access_key", "CFGAK").ok());
  ASSERT_TRUE(config.Set("s3.secret_key", "CFGSK").ok());
  ASSERT_TRUE(config.Set("s3.region", "eu-central-1").ok());
  ASSERT_TRUE(config.Set("s3.path_style", "true").ok());
  ASSERT_TRUE(config.Set("s3.endpoint", "http://127.0.0.1:9000").ok());
  o = S3OptionsFromConfig("s3://bucket", config, env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key, "CFGAK");
  EXPECT_EQ(o->region, "eu-central-1");
  EXPECT_TRUE(o->path_style);
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:9000");
  unlink(tmpl);

  EXPECT_EQ(S3OptionsFromConfig("s3://", config, env).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(S3OptionsFromConfig("s3://b/../x", config, env).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinpipe::objstore
