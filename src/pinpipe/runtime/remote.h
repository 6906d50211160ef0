// CLI commands talking to a running `pinpipe up` over its HTTP API
// (docs/status-api.md): trigger a DAG run, read the answers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "pinpipe/base/config.h"
#include "pinpipe/base/status.h"

namespace pinpipe::runtime {

// POST /api/runs/<dag> to the `pinpipe up` listening on api.listen; returns
// the answer's body (the queued run). Unavailable when nothing listens there
// (the caller may then run the DAG itself), NotFound for an unknown DAG,
// Internal for any other answer than 202.
Result<std::string> TriggerRemoteRun(const Config& config, const std::string& dag);

struct PipelineAnswers {
  std::string body;    // as the server sent it
  nlohmann::json doc;  // `body` parsed
};

// GET /api/answers/live (`live`) or /api/results/latest of the pipeline at
// `base_url` ("" = http://<api.listen>). Unavailable when nothing listens
// there; NotFound before there are answers; FailedPrecondition for any other
// HTTP error, with the server's message.
Result<PipelineAnswers> FetchPipelineAnswers(const Config& config, const std::string& base_url,
                                             bool live);

}  // namespace pinpipe::runtime
