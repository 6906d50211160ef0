// The naming scheme of the pipeline: how a user prefix and a table kind
// ("pin", "geo", "user") name the topic, the stream, the Delta table and the
// streaming query's checkpoints. This is the one definition; the emulator,
// the streaming job, the live answers, the batch DAG, the status API and
// tenant ownership (auth/) all build names through it, so they cannot drift.
//
//   topic         <prefix>.<kind>            e.g. 0a60b9a8a831.pin
//   sink folder   topics/<prefix>.<kind>/    (the sink's object keys start here)
//   stream        streaming-<prefix>-<kind>  e.g. streaming-0a60b9a8a831-pin
//   Delta table   <prefix>_<kind>_table      (its root key in the table store ends with '/')
//   stream query  pinpipe-stream-<prefix>-<kind>, checkpoints under _checkpoints/<query>/
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace pinpipe {

// The three table kinds in the pipeline's order.
inline constexpr std::array<std::string_view, 3> kTableKindNames = {"pin", "geo", "user"};

std::string TopicName(std::string_view prefix, std::string_view kind);
std::string SinkTopicFolder(std::string_view prefix, std::string_view kind);
std::string StreamName(std::string_view prefix, std::string_view kind);
std::string TableName(std::string_view prefix, std::string_view kind);
std::string TableRoot(std::string_view prefix, std::string_view kind);
std::string StreamQueryId(std::string_view prefix, std::string_view kind);
std::string StreamCheckpointPrefix(std::string_view prefix, std::string_view kind);

// The head every stream of `prefix` starts with: "streaming-<prefix>-".
std::string StreamNameHead(std::string_view prefix);
// True for names the scheme gives streams (they are topics too): "streaming-...".
bool IsStreamName(std::string_view name);
// The kind at the end of a stream name ("streaming-p-pin" -> "pin"); "" when
// `stream` is not a stream name.
std::string_view StreamKind(std::string_view stream);

}  // namespace pinpipe
