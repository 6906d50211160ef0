// Fixed-width integers in the log's on-disk formats (record batches, index
// files): little-endian, as the host stores them (x86-64 and arm64 only).
// Internal to the log module. Thread-safety: pure functions.
#pragma once

#include <cstring>
#include <string>

namespace pinpipe::log::internal {

// Appends `v` to `out`.
template <typename T>
void PutLe(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

// Writes `v` at `p`.
template <typename T>
void PutAt(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Reads a T at `p`.
template <typename T>
T GetAt(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace pinpipe::log::internal
