// pinpipe: the whole Pinterest data pipeline in one program. This file only
// wires the command areas together; each lives in apps/pinpipe/cmd_*.cc (flags
// and printing) and calls src/pinpipe/runtime/ or the module that does the work.
#include <CLI/CLI.hpp>

#include "cli.h"

int main(int argc, char** argv) {
  CLI::App app{
      "pinpipe: the Pinterest event data pipeline in one program.\n"
      "Source DB -> emulator -> HTTP API (Kafka REST v2, Kinesis) -> log -> sink -> "
      "object store -> batch;\nand streams -> streaming job -> Delta tables.",
      "pinpipe"};
  app.set_version_flag("--version", std::string(PINPIPE_VERSION));
  app.require_subcommand(1);
  app.footer("Run `pinpipe <command> --help` for a command's options and examples.");
  pinpipe::app::CommandContext ctx(app);

  pinpipe::app::RegisterConfigCommands(app, ctx);
  pinpipe::app::RegisterLakeCommands(app, ctx);
  pinpipe::app::RegisterSinkCommands(app, ctx);
  pinpipe::app::RegisterTopicCommands(app, ctx);
  pinpipe::app::RegisterBatchCommands(app, ctx);
  pinpipe::app::RegisterSourceCommands(app, ctx);
  pinpipe::app::RegisterEmulateCommands(app, ctx);
  pinpipe::app::RegisterServeCommands(app, ctx);
  pinpipe::app::RegisterTableCommands(app, ctx);
  pinpipe::app::RegisterStreamCommands(app, ctx);
  pinpipe::app::RegisterUpCommands(app, ctx);
  pinpipe::app::RegisterRunsCommands(app, ctx);
  pinpipe::app::RegisterAnswersCommands(app, ctx);
  pinpipe::app::RegisterAuthCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::cerr << "pinpipe: error: " << what << " (see pinpipe --help)" << std::endl;
    return 2;
  }
  return ctx.Run();
}
