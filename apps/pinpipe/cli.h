// Shared plumbing of the pinpipe command line: global flags, binding
// per-command flags to configuration keys, and turning a command's Status into
// an exit code (0 ok, 1 runtime failure, 2 usage error) and one line on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"

namespace pinpipe::app {

using Action = std::function<Status(const Config&)>;

class CommandContext {
 public:
  explicit CommandContext(CLI::App& root);

  // Adds `--flag VALUE` to `cmd`; when given it overrides configuration key `key`.
  CLI::Option* BindFlag(CLI::App* cmd, const std::string& flag, std::string_view key,
                        const std::string& help);

  // Makes `action` what runs when `cmd` is chosen on the command line.
  void SetAction(CLI::App* cmd, Action action);

  // After parsing: loads the configuration and runs the chosen action.
  // Returns the process exit code.
  int Run();

 private:
  std::string config_file_;
  std::vector<std::string> sets_;
  std::string log_level_;
  std::vector<std::pair<std::string, std::string>> flag_values_;  // key -> value, in order
  std::map<std::string, std::string*> bound_;                     // storage per bound flag
  std::vector<std::unique_ptr<std::pair<std::string, std::string>>> storage_;
  Action chosen_;
};

// Help of the --bootstrap flag of the commands that open the log (broker.bootstrap).
inline constexpr const char* kBootstrapHelp =
    "host:port of a running pinpipe (or Kafka broker) to go through (default: the server that "
    "holds the data folder, else the log itself)";

// The exit code for a failed Status: 2 for InvalidArgument (usage), else 1.
int ExitCodeFor(const Status& status);

// Prints `pinpipe: error: <message>` on stderr; returns ExitCodeFor(status).
int ReportError(const Status& status);

// Command registration, one function per area (apps/pinpipe/cmd_*.cc).
void RegisterConfigCommands(CLI::App& app, CommandContext& ctx);
void RegisterLakeCommands(CLI::App& app, CommandContext& ctx);
void RegisterSinkCommands(CLI::App& app, CommandContext& ctx);
void RegisterTopicCommands(CLI::App& app, CommandContext& ctx);
void RegisterBatchCommands(CLI::App& app, CommandContext& ctx);
void RegisterSourceCommands(CLI::App& app, CommandContext& ctx);
void RegisterEmulateCommands(CLI::App& app, CommandContext& ctx);
void RegisterServeCommands(CLI::App& app, CommandContext& ctx);
void RegisterTableCommands(CLI::App& app, CommandContext& ctx);
void RegisterStreamCommands(CLI::App& app, CommandContext& ctx);
void RegisterUpCommands(CLI::App& app, CommandContext& ctx);
void RegisterRunsCommands(CLI::App& app, CommandContext& ctx);
void RegisterAnswersCommands(CLI::App& app, CommandContext& ctx);
void RegisterAuthCommands(CLI::App& app, CommandContext& ctx);

}  // namespace pinpipe::app
