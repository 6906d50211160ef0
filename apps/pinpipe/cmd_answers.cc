// `pinpipe answers [--live]`: the eight answers of the running pipeline
// (`pinpipe up`), printed as `pinpipe batch` prints them: --live asks
// GET /api/answers/live (kept up to date from the streams), otherwise
// GET /api/results/latest (the latest batch run).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "pinpipe/live/answers.h"
#include "pinpipe/runtime/remote.h"

namespace pinpipe::app {
namespace {

struct AnswersFlags {
  bool live = false;
  bool json = false;
  std::string url;
};

Status RunAnswers(const Config& config, const AnswersFlags& flags) {
  PINPIPE_ASSIGN_OR_RETURN(runtime::PipelineAnswers answers,
                           runtime::FetchPipelineAnswers(config, flags.url, flags.live));
  const std::string& body = answers.body;
  nlohmann::json& doc = answers.doc;
  if (flags.json) {
    std::cout << body << "\n";
    return Status::Ok();
  }
  PINPIPE_ASSIGN_OR_RETURN(std::string text, live::AnswersJsonToText(doc));
  std::cout << text;
  if (flags.live && doc.contains("as_of")) {
    std::cout << "\nas of:";
    for (const auto& [kind, in] : doc["as_of"].items()) {
      std::cout << " " << kind << " table v" << in.value("delta_version", int64_t{-1}) << " ("
                << in.value("rows", int64_t{0}) << " rows)";
    }
    if (doc["freshness_ms"].is_number()) {
      std::cout << "; freshness " << doc["freshness_ms"].get<int64_t>() << " ms";
    }
    std::cout << "\n";
  }
  return Status::Ok();
}

}  // namespace

void RegisterAnswersCommands(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<AnswersFlags>();
  auto* cmd = app.add_subcommand(
      "answers",
      "Print the eight answers of the running pipeline (`pinpipe up`) as `pinpipe batch` "
      "prints them: the latest batch run's, or with --live the ones kept up to date from the "
      "streams.\nExample: pinpipe answers --live --url http://127.0.0.1:8080");
  cmd->add_flag("--live", flags->live, "The live answers (GET /api/answers/live)");
  cmd->add_flag("--json", flags->json, "Print the API's JSON document as it came");
  cmd->add_option("--url", flags->url,
                  "Base URL of the running pipeline (default: http://<api.listen>)");
  ctx.SetAction(cmd, [flags](const Config& config) { return RunAnswers(config, *flags); });
}

}  // namespace pinpipe::app
