// The sealhost configuration: one TOML file wires everything (see docs/config.md).
//
// Loading is two-phase so that every error is reported in one run, before anything starts:
//  1. parse(): TOML syntax and the host's own sections ([api], [log], [plugins],
//  [[storage.paths]]).
//  2. resolve(): each component section ([storage], [stages.<name>], [compute], [chain],
//     [post.<name>]) is checked against the loaded plugins' option tables.
// Each problem becomes a Diagnostic naming file:line:column and the component.
#pragma once

#include "host/plugin/registry.hpp"

#include <sealhost/sdk/option_set.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sealhost::host {

struct Diagnostic {
  std::string file;
  uint32_t line = 0;  // 0 when not tied to a position
  uint32_t column = 0;
  std::string message;
  std::string to_string() const;
};

struct ApiConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 2345;
  uint64_t max_body_bytes = 16ull << 20;
  uint32_t threads = 2;
};

struct StoragePathConfig {
  std::filesystem::path path;
  uint32_t line = 0, column = 0;
};

// A component section after validation.
struct ComponentConfig {
  std::string section;  // "storage", "stages.pc1", "compute", ...
  std::string component;
  ComponentRef ref{};
  std::shared_ptr<sdk::OptionSet> options;
};

struct Config {
  std::filesystem::path file;
  ApiConfig api;
  std::string log_level = "info";
  std::vector<std::filesystem::path> plugin_search_path;  // resolved, absolute
  std::vector<StoragePathConfig> storage_paths;
  // Component sections by section name ("storage", "stages.addpiece", "compute", ...).
  std::map<std::string, ComponentConfig> components;
};

class ConfigFile {
 public:
  // Parses `text` as if read from `file`. Errors go to `diags`.
  static std::unique_ptr<ConfigFile> parse(const std::string& text, const std::string& file,
                                           std::vector<Diagnostic>& diags);
  static std::unique_ptr<ConfigFile> load(const std::filesystem::path& file,
                                          std::vector<Diagnostic>& diags);
  ~ConfigFile();

  // The host sections, valid after parse() (defaults where absent).
  const Config& host_part() const;
  // Validates component sections against the registry and returns the full config.
  Config resolve(const PluginRegistry& registry, std::vector<Diagnostic>& diags) const;

 private:
  ConfigFile();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The default plugin directory: <dir of the running executable>/../lib/sealhost/plugins.
std::filesystem::path default_plugin_dir();

// An annotated default configuration, as `sealhost config default` prints it.
std::string default_config_text();

// Every option of every component in the registry, as `sealhost config schema` prints it.
std::string schema_text(const PluginRegistry& registry);
std::string schema_json(const PluginRegistry& registry);

}  // namespace sealhost::host
