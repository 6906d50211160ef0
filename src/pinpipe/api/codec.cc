#include "pinpipe/api/codec.h"

#include <charconv>

namespace pinpipe::api {

void AppendInt(std::string& out, int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

}  // namespace pinpipe::api
