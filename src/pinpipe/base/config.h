// Config: pinpipe's effective configuration, one flat map of `section.key`.
//
// Sources, lowest precedence first:
//   1. built-in defaults (the table in config_keys.cc, which also documents every key),
//   2. a TOML file (`--config FILE`, else $PINPIPE_CONFIG, else ./pinpipe.toml if present),
//   3. environment variables PINPIPE_<SECTION>_<KEY> (key upper-cased, '.' and '-' as '_'),
//   4. command-line flags (`--set section.key=value`, and per-command flags such as --data-dir).
// Keys must be known, except in pass-through sections (`kafka.*`), whose keys go
// unchanged to the library behind them; there PINPIPE_KAFKA_BOOTSTRAP_SERVERS
// names `kafka.bootstrap.servers`.
//
// Thread-safety: immutable after Load; safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pinpipe/base/status.h"

namespace pinpipe {

struct ConfigKey {
  std::string_view name;           // "section.key"
  std::string_view default_value;  // as text; "" means unset
  std::string_view help;
  bool secret = false;  // masked by `pinpipe config show`
};

// Every known key, in display order.
const std::vector<ConfigKey>& KnownConfigKeys();
// Sections whose keys are passed through to a library (e.g. "kafka").
bool IsPassThroughSection(std::string_view section);

class Config {
 public:
  enum class Origin { kDefault, kFile, kEnv, kFlag };
  struct Entry {
    std::string value;
    Origin origin = Origin::kDefault;
  };

  // Defaults only.
  Config();

  // Builds the effective configuration. `file` may be empty (no file);
  // `environ` is the process environment (NAME=VALUE strings);
  // `overrides` are `section.key=value` assignments from the command line.
  static Result<Config> Load(const std::string& file, const std::vector<std::string>& environ,
                             const std::vector<std::string>& overrides);

  // Parses TOML text as if it were the config file (tests, embedded configs).
  Status MergeToml(std::string_view toml_text, std::string_view source_name);
  // Sets one key as if given by `origin`; unknown keys are InvalidArgument.
  Status Set(std::string_view key, std::string value, Origin origin = Origin::kFlag);

  // The value of a known key (its default if unset). Unknown keys return "".
  const std::string& Get(std::string_view key) const;
  bool Has(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  // Accepts "250ms", "5s", "2m", "1h", "1d" or a bare number of milliseconds.
  Result<int64_t> GetMillis(std::string_view key) const;
  // Accepts "10MiB", "512KiB", "1GiB", "100KB", or a bare number of bytes.
  Result<int64_t> GetBytes(std::string_view key) const;
  // Comma-separated list, items trimmed, empty items dropped.
  std::vector<std::string> GetList(std::string_view key) const;

  // All `section.*` keys with the section prefix removed (for pass-through sections).
  std::map<std::string, std::string> Section(std::string_view section) const;

  // TOML-ish listing of every key with its value and origin; secrets masked.
  std::string Show() const;

  const std::map<std::string, Entry, std::less<>>& entries() const { return entries_; }
  // The configuration file that was read ("" when none): its [[tenants]]
  // tables are read (and re-read on SIGHUP) by auth::TenantSet.
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// Parsers shared with other modules.
Result<int64_t> ParseMillis(std::string_view text);
Result<int64_t> ParseBytes(std::string_view text);
Result<bool> ParseBool(std::string_view text);
Result<int64_t> ParseInt(std::string_view text);

}  // namespace pinpipe
