#include "pinpipe/objstore/key.h"

#include <string>

namespace pinpipe::objstore {
namespace {

Status CheckChars(std::string_view key) {
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      return InvalidArgumentError("object key contains a control character or backslash");
    }
  }
  return Status::Ok();
}

// Checks every complete component of `path`; a trailing partial component is
// checked as well unless `allow_trailing_slash`.
Status CheckComponents(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty()) return InvalidArgumentError("object key has an empty path component");
    if (part == "." || part == "..") {
      return InvalidArgumentError("object key has a '.' or '..' path component");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("object key is empty");
  if (key.size() > kMaxKeyBytes)
    return InvalidArgumentError("object key is longer than 1024 bytes");
  if (key.front() == '/')
    return InvalidArgumentError("object key must be relative (starts with '/')");
  if (key.back() == '/') return InvalidArgumentError("object key ends with '/'");
  PINPIPE_RETURN_IF_ERROR(CheckChars(key));
  return CheckComponents(key);
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  if (prefix.size() > kMaxKeyBytes) return InvalidArgumentError("prefix is longer than 1024 bytes");
  if (prefix.front() == '/')
    return InvalidArgumentError("prefix must be relative (starts with '/')");
  PINPIPE_RETURN_IF_ERROR(CheckChars(prefix));
  std::string_view body = prefix;
  if (body.back() == '/') body.remove_suffix(1);
  if (body.empty()) return InvalidArgumentError("prefix is '/'");
  // A trailing partial component such as "topics/a." is fine as a prefix,
  // but "." and ".." must never appear as a full component.
  return CheckComponents(body);
}

}  // namespace pinpipe::objstore
