// `pinpipe auth scram`: makes the SCRAM verifiers of a SASL user's password
// for [[tenants.sasl]], so the config file keeps no password.
#include <openssl/rand.h>

#include <iostream>
#include <string>

#include "cli.h"
#include "pinpipe/auth/tenants.h"

namespace pinpipe::app {

void RegisterAuthCommands(CLI::App& app, CommandContext& ctx) {
  auto* auth_cmd = app.add_subcommand("auth", "Credentials for [[tenants]]");
  auth_cmd->require_subcommand(1);
  auto* scram = auth_cmd->add_subcommand(
      "scram",
      "Read a password from the first line of stdin and print the SCRAM-SHA-256 and "
      "SCRAM-SHA-512 verifiers to put in a [[tenants.sasl]] table (the password is not kept).\n"
      "Example: printf '%s\\n' \"$PW\" | pinpipe auth scram --user alice");
  auto user = std::make_shared<std::string>();
  auto iterations = std::make_shared<int>(4096);
  scram->add_option("--user", *user, "The SASL user name printed in the table")->required();
  scram->add_option("--iterations", *iterations, "PBKDF2 iterations (4096 to 1000000)");
  ctx.SetAction(scram, [user, iterations](const Config&) -> Status {
    if (*iterations < 4096 || *iterations > 1'000'000) {
      return InvalidArgumentError("--iterations must be between 4096 and 1000000");
    }
    if (user->find_first_of("\"\\\n") != std::string::npos) {
      return InvalidArgumentError("--user must not contain quotes, backslashes or newlines");
    }
    std::string password;
    if (!std::getline(std::cin, password) || password.empty()) {
      return InvalidArgumentError("auth scram: give the password on the first line of stdin");
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    auto verifier = [&](auth::ScramMechanism m) {
      std::string salt(16, '\0');
      RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size()));
      return auth::FormatScramVerifier(auth::MakeScramVerifier(m, password, salt, *iterations));
    };
    std::cout << "[[tenants.sasl]]\nuser = \"" << *user << "\"\nscram_sha256 = \""
              << verifier(auth::ScramMechanism::kSha256) << "\"\nscram_sha512 = \""
              << verifier(auth::ScramMechanism::kSha512) << "\"\n";
    return Status::Ok();
  });
}

}  // namespace pinpipe::app
