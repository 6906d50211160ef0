#include "pinpipe/sink/json_lines.h"

#include <zlib.h>

namespace pinpipe::sink {

Result<simdjson::dom::element> JsonLineEncoder::Parse(std::string_view value) {
  simdjson::dom::element element;
  auto error = parser_.parse(value.data(), value.size(), true).get(element);
  if (error != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string("record value is not valid JSON: ") +
                                simdjson::error_message(error));
  }
  return element;
}

void JsonLineEncoder::AppendLine(std::string_view value, std::string& out) {
  const size_t start = out.size();
  out.resize(start + value.size() + 1);
  size_t written = 0;
  if (simdjson::minify(value.data(), value.size(), out.data() + start, written) !=
      simdjson::SUCCESS) {
    // Cannot happen for a value that parsed; keep the original bytes.
    std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(start));
    written = value.size();
  }
  out.resize(start + written);
  out.push_back('\n');
}

Result<std::string> Gzip(std::string_view data, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return InternalError("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return InternalError("gzip compression failed");
  out.resize(produced);
  return out;
}

Result<std::string> Gunzip(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return InternalError("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return DataLossError("not valid gzip data");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return DataLossError("truncated gzip data");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace pinpipe::sink
