#include "pinpipe/base/names.h"

namespace pinpipe {
namespace {

constexpr std::string_view kStreamHead = "streaming-";

std::string Join(std::string_view a, std::string_view b, std::string_view c,
                 std::string_view d = {}, std::string_view e = {}) {
  std::string out;
  out.reserve(a.size() + b.size() + c.size() + d.size() + e.size());
  out.append(a).append(b).append(c).append(d).append(e);
  return out;
}

}  // namespace

std::string TopicName(std::string_view prefix, std::string_view kind) {
  return Join(prefix, ".", kind);
}

std::string SinkTopicFolder(std::string_view prefix, std::string_view kind) {
  return Join("topics/", prefix, ".", kind, "/");
}

std::string StreamName(std::string_view prefix, std::string_view kind) {
  return Join(kStreamHead, prefix, "-", kind);
}

std::string TableName(std::string_view prefix, std::string_view kind) {
  return Join(prefix, "_", kind, "_table");
}

std::string TableRoot(std::string_view prefix, std::string_view kind) {
  return TableName(prefix, kind) + "/";
}

std::string StreamQueryId(std::string_view prefix, std::string_view kind) {
  return Join("pinpipe-stream-", prefix, "-", kind);
}

std::string StreamCheckpointPrefix(std::string_view prefix, std::string_view kind) {
  return Join("_checkpoints/", StreamQueryId(prefix, kind), "/");
}

std::string StreamNameHead(std::string_view prefix) { return Join(kStreamHead, prefix, "-"); }

bool IsStreamName(std::string_view name) { return name.starts_with(kStreamHead); }

std::string_view StreamKind(std::string_view stream) {
  if (!IsStreamName(stream)) return {};
  const size_t dash = stream.rfind('-');
  return dash < kStreamHead.size() ? std::string_view() : stream.substr(dash + 1);
}

}  // namespace pinpipe
