// `pinpipe config show`.
#include <iostream>

#include "cli.h"
#include "pinpipe/runtime/wiring.h"

namespace pinpipe::app {

void RegisterConfigCommands(CLI::App& app, CommandContext& ctx) {
  auto* config = app.add_subcommand("config", "Inspect the effective configuration");
  config->require_subcommand(1);
  auto* show = config->add_subcommand(
      "show",
      "Print every configuration key with its effective value and where it came from "
      "(default, file, env, flag), then the [[tenants]]; secrets are masked.\n"
      "Example: PINPIPE_GENERAL_PREFIX=abc pinpipe config show");
  ctx.SetAction(show, [](const Config& c) {
    // Parse the tenants first: a broken [[tenants]] table is an error here too.
    PINPIPE_ASSIGN_OR_RETURN(auto tenants, runtime::LoadTenants(c));
    std::cout << c.Show() << tenants->Describe();
    return Status::Ok();
  });
}

}  // namespace pinpipe::app
