#include "pinpipe/objstore/xml.h"

#include <cstdlib>

namespace pinpipe::objstore::xml {
namespace {

struct Tag {
  size_t begin = 0;  // index of '<'
  size_t end = 0;    // index after '>'
  std::string_view local;
  bool closing = false;
  bool self_closing = false;
};

// Finds the next element tag at or after `pos` (skipping <? ?>, <!-- -->, <!...>).
std::optional<Tag> NextTag(std::string_view doc, size_t pos) {
  while (true) {
    size_t lt = doc.find('<', pos);
    if (lt == std::string_view::npos || lt + 1 >= doc.size()) return std::nullopt;
    char c = doc[lt + 1];
    if (c == '?' || c == '!') {
      std::string_view close = doc.substr(lt, 4) == "<!--" ? "-->" : ">";
      size_t e = doc.find(close, lt + 2);
      if (e == std::string_view::npos) return std::nullopt;
      pos = e + close.size();
      continue;
    }
    size_t gt = doc.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    Tag tag;
    tag.begin = lt;
    tag.end = gt + 1;
    size_t name_start = lt + 1;
    if (c == '/') {
      tag.closing = true;
      ++name_start;
    }
    tag.self_closing = doc[gt - 1] == '/';
    size_t name_end = name_start;
    while (name_end < gt && doc[name_end] != ' ' && doc[name_end] != '\t' &&
           doc[name_end] != '\n' && doc[name_end] != '\r' && doc[name_end] != '/') {
      ++name_end;
    }
    std::string_view name = doc.substr(name_start, name_end - name_start);
    if (size_t colon = name.rfind(':'); colon != std::string_view::npos) {
      name = name.substr(colon + 1);
    }
    tag.local = name;
    return tag;
  }
}

}  // namespace

std::vector<std::string_view> Elements(std::string_view doc, std::string_view local_name) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (auto tag = NextTag(doc, pos)) {
    pos = tag->end;
    if (tag->closing || tag->local != local_name) continue;
    if (tag->self_closing) {
      out.emplace_back();
      continue;
    }
    size_t inner_start = tag->end;
    int depth = 1;
    size_t scan = inner_start;
    while (depth > 0) {
      auto t = NextTag(doc, scan);
      if (!t) return out;  // unterminated: ignore the rest
      scan = t->end;
      if (t->local != local_name || t->self_closing) continue;
      depth += t->closing ? -1 : 1;
      if (depth == 0) {
        out.push_back(doc.substr(inner_start, t->begin - inner_start));
        pos = t->end;
      }
    }
  }
  return out;
}

std::optional<std::string> Text(std::string_view doc, std::string_view local_name) {
  auto all = Elements(doc, local_name);
  if (all.empty()) return std::nullopt;
  return Unescape(all.front());
}

std::string Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (!entity.empty() && entity[0] == '#') {
      std::string digits(entity.substr(1));
      unsigned long cp = digits.size() > 1 && (digits[0] == 'x' || digits[0] == 'X')
                             ? std::strtoul(digits.c_str() + 1, nullptr, 16)
                             : std::strtoul(digits.c_str(), nullptr, 10);
      // UTF-8 encode.
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      out.append(text.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace pinpipe::objstore::xml
