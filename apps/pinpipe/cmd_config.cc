// `pinpipe config show`.
#include <iostream>

#include "cli.h"

namespace pinpipe::app {

void RegisterConfigCommands(CLI::App& app, CommandContext& ctx) {
  auto* config = app.add_subcommand("config", "Inspect the effective configuration");
  config->require_subcommand(1);
  auto* show = config->add_subcommand(
      "show",
      "Print every configuration key with its effective value and where it came from "
      "(default, file, env, flag); secrets are masked.\n"
      "Example: PINPIPE_GENERAL_PREFIX=abc pinpipe config show");
  ctx.SetAction(show, [](const Config& c) {
    std::cout << c.Show();
    return Status::Ok();
  });
}

}  // namespace pinpipe::app
