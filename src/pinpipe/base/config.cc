#include "pinpipe/base/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pinpipe {
namespace {

const ConfigKey* FindKnown(std::string_view key) {
  for (const auto& k : KnownConfigKeys()) {
    if (k.name == key) return &k;
  }
  return nullptr;
}

std::string_view SectionOf(std::string_view key) {
  const auto dot = key.find('.');
  return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

bool IsSecretKey(std::string_view key) {
  if (const auto* k = FindKnown(key)) return k->secret;
  // Pass-through keys: mask anything that looks like a credential.
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("token") != std::string::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "123abc" into 123 and "abc".
Result<std::pair<int64_t, std::string_view>> NumberAndUnit(std::string_view text) {
  text = Trim(text);
  int64_t value = 0;
  const auto* begin = text.data();
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return InvalidArgumentError("'" + std::string(text) + "' is not a number");
  }
  return std::make_pair(value, Trim(std::string_view(ptr, end - ptr)));
}

std::string TomlValueToString(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (node.is_floating_point()) {
    std::ostringstream out;
    out << *node.value<double>();
    return out.str();
  }
  if (const auto* arr = node.as_array()) {
    std::string out;
    for (const auto& item : *arr) {
      if (!out.empty()) out += ",";
      out += TomlValueToString(item);
    }
    return out;
  }
  if (const auto* d = node.as_date_time()) {
    std::ostringstream out;
    out << *d;
    return out.str();
  }
  return std::string();
}

std::string EnvNameFor(std::string_view key) {
  std::string name = "PINPIPE_";
  for (char c : key) {
    name += (c == '.' || c == '-') ? '_'
                                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

}  // namespace

Config::Config() {
  for (const auto& k : KnownConfigKeys()) {
    entries_[std::string(k.name)] = Entry{std::string(k.default_value), Origin::kDefault};
  }
}

Status Config::Set(std::string_view key, std::string value, Origin origin) {
  const auto section = SectionOf(key);
  if (section.empty() || key.size() == section.size() + 1) {
    return InvalidArgumentError("configuration key '" + std::string(key) +
                                "' must look like section.key");
  }
  if (!FindKnown(key) && !IsPassThroughSection(section)) {
    return InvalidArgumentError("unknown configuration key '" + std::string(key) +
                                "' (see `pinpipe config show`)");
  }
  entries_[std::string(key)] = Entry{std::move(value), origin};
  return Status::Ok();
}

Status Config::MergeToml(std::string_view toml_text, std::string_view source_name) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return InvalidArgumentError(std::string(source_name) + ":" + std::to_string(where.line) + ":" +
                                std::to_string(where.column) + ": " + std::string(e.description()));
  }
  for (const auto& [section, node] : table) {
    // [[tenants]] belongs to the auth module (auth::TenantSet reads it).
    if (section.str() == "tenants") continue;
    const auto* inner = node.as_table();
    if (!inner) {
      return InvalidArgumentError(std::string(source_name) + ": top-level key '" +
                                  std::string(section.str()) + "' must be inside a [section]");
    }
    // Nested tables in pass-through sections flatten to dotted keys
    // ([kafka] bootstrap.servers = ... parses as a nested table in TOML).
    std::vector<std::pair<std::string, const toml::node*>> stack;
    for (const auto& [k, v] : *inner) stack.emplace_back(std::string(k.str()), &v);
    while (!stack.empty()) {
      auto [name, value] = stack.back();
      stack.pop_back();
      if (const auto* t = value->as_table()) {
        for (const auto& [k, v] : *t) stack.emplace_back(name + "." + std::string(k.str()), &v);
        continue;
      }
      PINPIPE_RETURN_IF_ERROR(
          Set(std::string(section.str()) + "." + name, TomlValueToString(*value), Origin::kFile)
              .WithContext(source_name));
    }
  }
  return Status::Ok();
}

Result<Config> Config::Load(const std::string& file, const std::vector<std::string>& environ,
                            const std::vector<std::string>& overrides) {
  Config config;
  std::string path = file;
  bool required = !path.empty();
  for (const auto& var : environ) {
    if (path.empty() && var.rfind("PINPIPE_CONFIG=", 0) == 0) {
      path = var.substr(15);
      required = true;
    }
  }
  if (path.empty() && std::filesystem::exists("pinpipe.toml")) path = "pinpipe.toml";
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (required) return InvalidArgumentError("cannot read config file '" + path + "'");
    } else {
      std::stringstream buffer;
      buffer << in.rdbuf();
      PINPIPE_RETURN_IF_ERROR(config.MergeToml(buffer.str(), path));
      config.file_ = path;
    }
  }

  // Environment: known keys by their exact variable name; pass-through
  // sections by prefix, underscores becoming dots.
  std::map<std::string, std::string> env;
  for (const auto& var : environ) {
    const auto eq = var.find('=');
    if (eq == std::string::npos || var.rfind("PINPIPE_", 0) != 0) continue;
    env[var.substr(0, eq)] = var.substr(eq + 1);
  }
  for (const auto& k : KnownConfigKeys()) {
    if (auto it = env.find(EnvNameFor(k.name)); it != env.end()) {
      PINPIPE_RETURN_IF_ERROR(config.Set(k.name, it->second, Origin::kEnv));
    }
  }
  for (const auto& [name, value] : env) {
    for (std::string_view section : {"kafka"}) {
      const std::string prefix = EnvNameFor(section) + "_";
      if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) continue;
      std::string key(section);
      key += '.';
      for (char c : name.substr(prefix.size())) {
        key += c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      PINPIPE_RETURN_IF_ERROR(config.Set(key, value, Origin::kEnv));
    }
  }

  for (const auto& assignment : overrides) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos) {
      return InvalidArgumentError("--set expects section.key=value, got '" + assignment + "'");
    }
    PINPIPE_RETURN_IF_ERROR(config.Set(Trim(std::string_view(assignment).substr(0, eq)),
                                       std::string(assignment.substr(eq + 1)), Origin::kFlag));
  }
  return config;
}

const std::string& Config::Get(std::string_view key) const {
  static const std::string kEmpty;
  auto it = entries_.find(key);
  return it == entries_.end() ? kEmpty : it->second.value;
}

bool Config::Has(std::string_view key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && !it->second.value.empty();
}

Result<int64_t> Config::GetInt(std::string_view key) const {
  auto r = ParseInt(Get(key));
  if (!r.ok()) return r.status().WithContext(std::string(key));
  return r;
}

Result<bool> Config::GetBool(std::string_view key) const {
  auto r = ParseBool(Get(key));
  if (!r.ok()) return r.status().WithContext(std::string(key));
  return r;
}

Result<int64_t> Config::GetMillis(std::string_view key) const {
  auto r = ParseMillis(Get(key));
  if (!r.ok()) return r.status().WithContext(std::string(key));
  return r;
}

Result<int64_t> Config::GetBytes(std::string_view key) const {
  auto r = ParseBytes(Get(key));
  if (!r.ok()) return r.status().WithContext(std::string(key));
  return r;
}

std::vector<std::string> Config::GetList(std::string_view key) const {
  std::vector<std::string> out;
  std::string_view rest = Get(key);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto item = Trim(rest.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::map<std::string, std::string> Config::Section(std::string_view section) const {
  std::map<std::string, std::string> out;
  const std::string prefix = std::string(section) + ".";
  for (const auto& [key, entry] : entries_) {
    if (key.rfind(prefix, 0) == 0) out[key.substr(prefix.size())] = entry.value;
  }
  return out;
}

std::string Config::Show() const {
  static constexpr std::string_view kOrigin[] = {"default", "file", "env", "flag"};
  std::ostringstream out;
  std::string current;
  for (const auto& [key, entry] : entries_) {
    const auto section = SectionOf(key);
    if (section != current) {
      if (!current.empty()) out << "\n";
      current = std::string(section);
      out << "[" << current << "]\n";
    }
    std::string value = entry.value;
    if (!value.empty() && IsSecretKey(key)) value = "********";
    std::string escaped;
    for (char c : value) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    out << key.substr(section.size() + 1) << " = \"" << escaped << "\"";
    out << "  # " << kOrigin[static_cast<int>(entry.origin)] << "\n";
  }
  return out.str();
}

Result<int64_t> ParseInt(std::string_view text) {
  PINPIPE_ASSIGN_OR_RETURN(auto parsed, NumberAndUnit(text));
  if (!parsed.second.empty()) {
    return InvalidArgumentError("'" + std::string(Trim(text)) + "' is not an integer");
  }
  return parsed.first;
}

Result<bool> ParseBool(std::string_view text) {
  std::string lower(Trim(text));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return InvalidArgumentError("'" + std::string(text) + "' is not a boolean (true or false)");
}

namespace {

// `n` units of `scale` each, or InvalidArgument when that leaves int64 (a
// configuration value is user input: "9999999999999d" is an error, not a wrap).
Result<int64_t> Scaled(std::string_view text, int64_t n, int64_t scale) {
  int64_t out = 0;
  if (__builtin_mul_overflow(n, scale, &out)) {
    return InvalidArgumentError("'" + std::string(Trim(text)) + "' is out of range");
  }
  return out;
}

}  // namespace

Result<int64_t> ParseMillis(std::string_view text) {
  PINPIPE_ASSIGN_OR_RETURN(auto parsed, NumberAndUnit(text));
  const auto [n, unit] = parsed;
  if (unit.empty() || unit == "ms") return n;
  if (unit == "s") return Scaled(text, n, 1000);
  if (unit == "m" || unit == "min") return Scaled(text, n, 60'000);
  if (unit == "h") return Scaled(text, n, 3'600'000);
  if (unit == "d") return Scaled(text, n, 86'400'000);
  return InvalidArgumentError("'" + std::string(text) + "' is not a duration (e.g. 250ms, 5s, 1h)");
}

Result<int64_t> ParseBytes(std::string_view text) {
  PINPIPE_ASSIGN_OR_RETURN(auto parsed, NumberAndUnit(text));
  const auto [n, unit] = parsed;
  if (unit.empty() || unit == "B") return n;
  if (unit == "KiB") return Scaled(text, n, int64_t{1} << 10);
  if (unit == "MiB") return Scaled(text, n, int64_t{1} << 20);
  if (unit == "GiB") return Scaled(text, n, int64_t{1} << 30);
  if (unit == "KB" || unit == "kB") return Scaled(text, n, 1000);
  if (unit == "MB") return Scaled(text, n, int64_t{1000} * 1000);
  if (unit == "GB") return Scaled(text, n, int64_t{1000} * 1000 * 1000);
  return InvalidArgumentError("'" + std::string(text) + "' is not a size (e.g. 512KiB, 10MiB)");
}

}  // namespace pinpipe
