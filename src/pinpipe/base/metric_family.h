// MetricFamily: one Prometheus gauge family as a module reports it (the sink's
// per-partition offsets, the streaming job's per-stream lag, ...), for the
// program that serves /metrics to register without knowing the module.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pinpipe {

struct MetricFamily {
  std::string name;
  std::string help;
  // (labels, value); labels already formatted, e.g. `topic="a",partition="0"`.
  std::vector<std::pair<std::string, double>> samples;
};

// A label value escaped for the Prometheus text format (\\, \" and \n).
inline std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace pinpipe
