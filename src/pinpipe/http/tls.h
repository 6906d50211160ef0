// ServerTls: a TLS server context (TLS 1.2+) from a PEM certificate chain and
// a PEM private key, re-read on demand (SIGHUP) while connections that began
// with the previous one keep it: each connection holds the shared_ptr it was
// accepted with, so a reload drops nothing.
//
// Used by http::Server and kafka_api::Server. This header brings in Asio's SSL
// types: include it from .cc files only.
//
// Thread-safety: Current and Reload may be called concurrently.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "pinpipe/base/status.h"

namespace pinpipe::http {

class ServerTls {
 public:
  // Reads both files; InvalidArgument naming the file that cannot be used
  // (missing, not PEM, or a key that does not match the certificate).
  static Result<std::shared_ptr<ServerTls>> Open(std::string cert_file, std::string key_file);

  // Re-reads both files; on failure the context in force stays and the error
  // is returned.
  Status Reload();

  // The context new connections use.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  const std::string& cert_file() const { return cert_file_; }

 private:
  ServerTls(std::string cert_file, std::string key_file)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}
  Result<std::shared_ptr<boost::asio::ssl::context>> Load() const;

  std::string cert_file_;
  std::string key_file_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;
};

}  // namespace pinpipe::http
