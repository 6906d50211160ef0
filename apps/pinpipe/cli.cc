#include "cli.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "pinpipe/base/logging.h"

extern char** environ;

namespace pinpipe::app {

CommandContext::CommandContext(CLI::App& root) {
  root.add_option("-c,--config", config_file_, "TOML configuration file (default ./pinpipe.toml)");
  root.add_option("--set", sets_, "Override a configuration key: --set section.key=value")
      ->type_name("KEY=VALUE");
  root.add_option("--log-level", log_level_, "trace, debug, info, warn, error or off");
}

CLI::Option* CommandContext::BindFlag(CLI::App* cmd, const std::string& flag, std::string_view key,
                                      const std::string& help) {
  storage_.push_back(std::make_unique<std::pair<std::string, std::string>>(std::string(key), ""));
  auto* slot = storage_.back().get();
  return cmd->add_option_function<std::string>(
      flag, [this, slot](const std::string& v) { flag_values_.emplace_back(slot->first, v); },
      help + " [config: " + std::string(key) + "]");
}

void CommandContext::SetAction(CLI::App* cmd, Action action) {
  cmd->callback([this, action = std::move(action)] { chosen_ = action; });
}

int CommandContext::Run() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  std::vector<std::string> overrides = sets_;
  for (const auto& [key, value] : flag_values_) overrides.push_back(key + "=" + value);
  if (!log_level_.empty()) overrides.push_back("general.log_level=" + log_level_);
  auto config = Config::Load(config_file_, env, overrides);
  if (!config.ok()) return ReportError(config.status());
  if (Status s = InitLogging(config->Get("general.log_level")); !s.ok()) return ReportError(s);
  if (!chosen_) return 0;
  Status status = chosen_(*config);
  if (!status.ok()) return ReportError(status);
  return 0;
}

int ExitCodeFor(const Status& status) {
  if (status.ok()) return 0;
  return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

int ReportError(const Status& status) {
  std::string message = status.message();
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::cerr << "pinpipe: error: " << message << std::endl;
  return ExitCodeFor(status);
}

}  // namespace pinpipe::app
