#include "pinpipe/base/encoding.h"

#include <array>
#include <cstdint>

namespace pinpipe {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr auto kDecode = MakeDecodeTable();

}  // namespace

void AppendBase64(std::string& out, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  const size_t start = out.size();
  out.resize(start + (n + 2) / 3 * 4);
  char* o = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  AppendBase64(out, data);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t quads = text.size() / 4;
  // Padding may only end the last quad: "xx==" or "xxx=".
  int pad = 0;
  if (p[text.size() - 1] == '=') pad = p[text.size() - 2] == '=' ? 2 : 1;
  std::string out(quads * 3 - static_cast<size_t>(pad), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  // Every quad but the last: no padding allowed; one check per quad (an
  // invalid character decodes to -1, which sets the sign bit of the OR).
  for (size_t q = 0; q + 1 < quads; ++q, p += 4, o += 3) {
    const int32_t a = kDecode[p[0]], b = kDecode[p[1]], c = kDecode[p[2]], d = kDecode[p[3]];
    if ((a | b | c | d) < 0) return std::nullopt;
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    o[0] = static_cast<unsigned char>(v >> 16);
    o[1] = static_cast<unsigned char>(v >> 8);
    o[2] = static_cast<unsigned char>(v);
  }
  const int32_t a = kDecode[p[0]], b = kDecode[p[1]];
  const int32_t c = pad == 2 ? 0 : kDecode[p[2]];
  const int32_t d = pad >= 1 ? 0 : kDecode[p[3]];
  if ((a | b | c | d) < 0) return std::nullopt;
  const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
  o[0] = static_cast<unsigned char>(v >> 16);
  if (pad < 2) o[1] = static_cast<unsigned char>(v >> 8);
  if (pad < 1) o[2] = static_cast<unsigned char>(v);
  // Like Java's and Python's decoders (and so AWS's), the bits the padding
  // hides are ignored rather than required to be zero.
  return out;
}

std::string HexEncode(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(data.size() * 2, '0');
  for (size_t i = 0; i < data.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    out[2 * i] = kHex[c >> 4];
    out[2 * i + 1] = kHex[c & 15];
  }
  return out;
}

}  // namespace pinpipe
