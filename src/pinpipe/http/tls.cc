#include "pinpipe/http/tls.h"

#include <openssl/ssl.h>

namespace pinpipe::http {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ServerTls>> ServerTls::Open(std::string cert_file, std::string key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return InvalidArgumentError("TLS needs both a certificate and a key file");
  }
  std::shared_ptr<ServerTls> tls(new ServerTls(std::move(cert_file), std::move(key_file)));
  PINPIPE_ASSIGN_OR_RETURN(tls->current_, tls->Load());
  return tls;
}

Result<std::shared_ptr<ssl::context>> ServerTls::Load() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file_, ec);
  if (ec) return InvalidArgumentError("TLS certificate '" + cert_file_ + "': " + ec.message());
  ctx->use_private_key_file(key_file_, ssl::context::pem, ec);
  if (ec) return InvalidArgumentError("TLS key '" + key_file_ + "': " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return InvalidArgumentError("TLS key '" + key_file_ + "' does not match certificate '" +
                                cert_file_ + "'");
  }
  return ctx;
}

Status ServerTls::Reload() {
  PINPIPE_ASSIGN_OR_RETURN(auto ctx, Load());
  std::lock_guard lock(mu_);
  current_ = std::move(ctx);
  return Status::Ok();
}

std::shared_ptr<ssl::context> ServerTls::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace pinpipe::http
