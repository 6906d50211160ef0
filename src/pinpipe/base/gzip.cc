#include "pinpipe/base/gzip.h"

#include <zlib.h>

#include <algorithm>

namespace pinpipe {
namespace {

// zlib counts in uInt; feed and drain it in pieces that fit.
constexpr size_t kMaxChunk = 1u << 30;

// Gives zlib the next piece of input once it has used up the last one, and
// room for output after the `produced` bytes of `out` (doubling a full `out`).
void Feed(z_stream& zs, size_t* in_left, std::string& out, size_t produced) {
  if (zs.avail_in == 0 && *in_left > 0) {
    zs.avail_in = static_cast<uInt>(std::min(*in_left, kMaxChunk));
    *in_left -= zs.avail_in;
  }
  if (produced == out.size()) out.resize(out.size() * 2);
  zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
  zs.avail_out = static_cast<uInt>(std::min(out.size() - produced, kMaxChunk));
}

}  // namespace

Result<std::string> Gzip(std::string_view data, int level) {
  if (level < -1 || level > 9) {
    return InvalidArgumentError("gzip level must be -1..9, not " + std::to_string(level));
  }
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return InternalError("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  size_t in_left = data.size();
  size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    Feed(zs, &in_left, out, produced);
    const uInt before = zs.avail_out;
    rc = deflate(&zs, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      deflateEnd(&zs);
      return InternalError("gzip compression failed");
    }
  }
  deflateEnd(&zs);
  out.resize(produced);
  return out;
}

Result<std::string> Gunzip(std::string_view compressed, size_t max_output) {
  std::string out;
  if (compressed.empty()) return out;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return InternalError("inflateInit2 failed");
  // Text compresses about 4:1; start there and double.
  out.resize(std::max<size_t>(compressed.size() * 4, 4096));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  size_t in_left = compressed.size();
  size_t produced = 0;
  while (true) {
    Feed(zs, &in_left, out, produced);
    const uInt before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (produced > max_output) {
      inflateEnd(&zs);
      return ResourceExhaustedError("gzip data inflates beyond " + std::to_string(max_output) +
                                    " bytes");
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && in_left == 0) break;
      inflateReset(&zs);  // another gzip member follows
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
      inflateEnd(&zs);
      return DataLossError("truncated gzip data");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string reason = zs.msg != nullptr ? zs.msg : "error " + std::to_string(rc);
      inflateEnd(&zs);
      return DataLossError("corrupt gzip data: " + reason);
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

}  // namespace pinpipe
