#include "pinpipe/sink/properties.h"

#include <vector>

namespace pinpipe::sink {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\f'; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Unescapes a key or value; stops at an unescaped separator when `is_key`.
// Returns the unescaped text and sets `consumed`.
Result<std::string> Unescape(std::string_view s, bool is_key, size_t& consumed, int line_no) {
  std::string out;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (is_key && (c == '=' || c == ':' || IsSpace(c))) break;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= s.size()) break;
    char e = s[i];
    switch (e) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        if (s.size() < i + 5) {
          return InvalidArgumentError("properties line " + std::to_string(line_no) +
                                      ": malformed \\uXXXX escape");
        }
        uint32_t cp = 0;
        for (int k = 1; k <= 4; ++k) {
          char h = s[i + k];
          cp <<= 4;
          if (h >= '0' && h <= '9') {
            cp |= static_cast<uint32_t>(h - '0');
          } else if (h >= 'a' && h <= 'f') {
            cp |= static_cast<uint32_t>(h - 'a' + 10);
          } else if (h >= 'A' && h <= 'F') {
            cp |= static_cast<uint32_t>(h - 'A' + 10);
          } else {
            return InvalidArgumentError("properties line " + std::to_string(line_no) +
                                        ": malformed \\uXXXX escape");
          }
        }
        AppendUtf8(out, cp);
        i += 4;
        break;
      }
      default:
        out.push_back(e);  // \\ \= \: \# \! and any other char stand for themselves
    }
  }
  consumed = i;
  return out;
}

}  // namespace

Result<Properties> ParseProperties(std::string_view text) {
  Properties props;
  // Split into logical lines, joining continuations.
  std::vector<std::pair<std::string, int>> lines;
  std::string current;
  bool continuing = false;
  int line_no = 0;
  int start_line = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    size_t b = 0;
    while (b < raw.size() && IsSpace(raw[b])) ++b;
    raw.remove_prefix(b);
    if (!continuing) {
      if (raw.empty() || raw[0] == '#' || raw[0] == '!') {
        if (end == text.size()) break;
        continue;
      }
      start_line = line_no;
      current.clear();
    }
    // An odd number of trailing backslashes continues the line.
    size_t backslashes = 0;
    while (backslashes < raw.size() && raw[raw.size() - 1 - backslashes] == '\\') ++backslashes;
    continuing = backslashes % 2 == 1;
    if (continuing) raw.remove_suffix(1);
    current.append(raw);
    if (!continuing) lines.emplace_back(current, start_line);
    if (end == text.size()) break;
  }
  if (continuing) lines.emplace_back(current, start_line);

  for (const auto& [line, number] : lines) {
    size_t consumed = 0;
    PINPIPE_ASSIGN_OR_RETURN(std::string key, Unescape(line, true, consumed, number));
    std::string_view rest = std::string_view(line).substr(consumed);
    size_t i = 0;
    while (i < rest.size() && IsSpace(rest[i])) ++i;
    if (i < rest.size() && (rest[i] == '=' || rest[i] == ':')) ++i;
    while (i < rest.size() && IsSpace(rest[i])) ++i;
    size_t ignored = 0;
    PINPIPE_ASSIGN_OR_RETURN(std::string value, Unescape(rest.substr(i), false, ignored, number));
    props[key] = value;
  }
  return props;
}

}  // namespace pinpipe::sink
