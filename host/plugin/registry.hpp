// Plugin loader and registry.
//
// Loads plugin shared objects with Boost.DLL (RTLD_NOW | RTLD_LOCAL), validates their descriptor
// and keeps them loaded for the life of the process (never unloaded: a plugin's code may still be
// referenced by instances, threads or atexit handlers). Every failure is one of a closed list of
// LoadError codes with a message naming the file and the fix. Thread-compatible: load everything
// at start-up, then query from any thread.
#pragma once

#include <sealhost/abi.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sealhost::host {

enum class LoadError {
  kNotFound,           // the file does not exist
  kOpenFailed,         // dlopen refused it (not an ELF, missing dependency, unresolved symbol)
  kNoEntry,            // no sealhost_plugin_entry_v1 symbol
  kAbiMajorMismatch,   // built for another ABI major
  kAbiMinorTooNew,     // built against a newer minor than this host
  kInvalidDescriptor,  // the descriptor breaks the ABI rules
  kDuplicateId,        // a plugin or component id is already registered
  kInitFailed,         // the plugin's init() hook failed
};

const char* load_error_name(LoadError e);

struct LoadFailure {
  LoadError code;
  std::string path;
  std::string message;  // full message: "plugin /x/y.so: ..."
  // kDuplicateId only: the plugin that was loaded first is linked into the binary and has the
  // same plugin id, i.e. this file is the loadable twin of a static first-party plugin.
  bool shadowed_by_static = false;
};

struct LoadedPlugin {
  const sealhost_plugin_descriptor* descriptor;
  std::string path;  // empty for statically linked plugins
  bool is_static;
};

struct ComponentRef {
  const sealhost_component_desc* desc;
  const LoadedPlugin* plugin;
};

const char* kind_name(int32_t kind);
std::optional<int32_t> kind_from_name(std::string_view name);

class PluginRegistry {
 public:
  explicit PluginRegistry(const sealhost_host_services* host);
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Loads one plugin file. Returns the failure, or nullopt on success.
  std::optional<LoadFailure> load_file(const std::filesystem::path& path);
  // Loads every "*.so" in `dir` (sorted by name); returns all failures. A missing directory is
  // itself a kNotFound failure.
  std::vector<LoadFailure> load_directory(const std::filesystem::path& dir);
  // Registers a plugin from an entry function linked into the binary.
  std::optional<LoadFailure> add_static(const char* name, sealhost_plugin_entry_fn entry);
  // Registers every plugin of the generated static table.
  std::vector<LoadFailure> add_static_table();

  const std::vector<std::unique_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
  std::optional<ComponentRef> find(std::string_view component_id) const;
  std::vector<ComponentRef> components(int32_t kind = 0) const;
  const sealhost_host_services* host() const { return host_; }

 private:
  std::optional<LoadFailure> add(const sealhost_plugin_descriptor* d, const std::string& path,
                                 bool is_static);

  const sealhost_host_services* host_;
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
  std::map<std::string, ComponentRef, std::less<>> components_;
};

// Checks a descriptor against the ABI rules; returns the first problem or "" when valid.
std::string validate_descriptor(const sealhost_plugin_descriptor* d);

}  // namespace sealhost::host
