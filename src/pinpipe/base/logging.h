// Process-wide logging setup. Code logs through spdlog's free functions
// (spdlog::info, spdlog::warn, ...); this file only decides where lines go.
//
// Log lines go to stderr so that stdout stays clean for command output.
#pragma once

#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe {

// level: trace|debug|info|warn|error|off. Safe to call more than once.
Status InitLogging(std::string_view level);

}  // namespace pinpipe
