// Object key validation shared by every ObjectStore implementation.
//
// A key is a '/'-separated relative path. Valid keys are non-empty, at most
// 1024 bytes, do not start or end with '/', have no empty, "." or ".."
// component, and contain no NUL, backslash or control character. These rules
// guarantee that LocalObjectStore can never write outside its root, and that
// a key means the same thing on every backend.
#pragma once

#include <string_view>

#include "pinpipe/base/status.h"

namespace pinpipe::objstore {

inline constexpr size_t kMaxKeyBytes = 1024;

// OK for a valid key, else InvalidArgument naming the problem.
Status ValidateKey(std::string_view key);

// Like ValidateKey but for list prefixes: "" is allowed and a trailing '/'
// is allowed.
Status ValidatePrefix(std::string_view prefix);

}  // namespace pinpipe::objstore
