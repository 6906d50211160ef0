// s3rver (a real S3 implementation from npm, verifying the access key of
// SigV4 requests) on 127.0.0.1, with one bucket, for the tests that run an
// object store, a sink or a Delta table on S3. Header-only so that
// pinpipe_test_support does not depend on the objstore module.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "harness.h"
#include "pinpipe/objstore/s3_object_store.h"

namespace pinpipe::testing {

class S3rver {
 public:
  explicit S3rver(std::string bucket) : bucket_(std::move(bucket)), port_(PickFreePort()) {
    process_ = std::make_unique<Process>(ProcessOptions{
        // s3rver's continuation tokens use DES, which needs OpenSSL's legacy provider.
        {"node", "--openssl-legacy-provider", PeersDir() + "/node_modules/s3rver/bin/s3rver.js",
         "-d", dir_.path().string(), "-a", "127.0.0.1", "-p", std::to_string(port_), "-s",
         "--configure-bucket", bucket_},
        {},
        "",
        "",
        ""});
    ok_ = WaitForPort(port_, std::chrono::seconds(20));
  }

  int port() const { return port_; }
  bool ok() const { return ok_; }
  const std::string& bucket() const { return bucket_; }

  // S3Options for this server: its well-known S3RVER credentials, and
  // path-style or virtual-host addressing (the bucket in the Host header,
  // resolved to 127.0.0.1 with CURLOPT_CONNECT_TO).
  objstore::S3Options Options(bool path_style = true) const {
    objstore::S3Options o;
    o.bucket = bucket_;
    o.credentials = {"S3RVER", "S3RVER", ""};
    o.conditional_put = objstore::ConditionalPut::kCheck;  // s3rver ignores If-None-Match
    o.backoff_base_ms = 10;
    const std::string port = std::to_string(port_);
    if (path_style) {
      o.endpoint = "http://127.0.0.1:" + port;
      o.path_style = true;
    } else {
      o.endpoint = "http://s3.amazonaws.com:" + port;
      o.connect_to = {bucket_ + ".s3.amazonaws.com:" + port + ":127.0.0.1:" + port};
    }
    return o;
  }

 private:
  TempDir dir_;
  std::string bucket_;
  int port_;
  bool ok_ = false;
  std::unique_ptr<Process> process_;
};

}  // namespace pinpipe::testing
