// What a conformance suite checks and how it gets an instance of it: shared by every suite so a
// third party points each of them at its .so the same way (see README.md):
//   <PREFIX>_PLUGIN     path of the plugin .so
//   <PREFIX>_COMPONENT  component id inside it
//   <PREFIX>_OPTIONS    "key=value;key=value" overrides of the component's defaults
#pragma once

#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"

#include <sealhost/sdk/option_set.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace sealhost::conformance {

struct SuiteTarget {
  std::string prefix;  // e.g. "SEALHOST_STORAGE"
  std::string plugin;
  std::string component;
  std::string options;
};

inline SuiteTarget target_from_env(const std::string& prefix, const std::string& default_plugin,
                                   const std::string& default_component) {
  auto env_or = [&](const char* suffix, const std::string& fallback) {
    const char* v = std::getenv((prefix + suffix).c_str());
    return v && *v ? std::string(v) : fallback;
  };
  return {prefix, env_or("_PLUGIN", default_plugin), env_or("_COMPONENT", default_component),
          env_or("_OPTIONS", "")};
}

// Loads the target's plugin (once per process; plugins are never unloaded) and creates an
// instance of its component with default options plus the overrides. Returns nullptr and sets
// `error` when the target cannot be used; a failing create() throws host::PluginError.
inline std::shared_ptr<host::ComponentInstance> create_instance(const SuiteTarget& t, int32_t kind,
                                                                std::string* error) {
  static auto* registry = new host::PluginRegistry(host::host_services());
  static const std::string load_error = [&] {
    auto failure = registry->load_file(t.plugin);
    return failure ? failure->message : std::string();
  }();
  if (!load_error.empty()) {
    *error = load_error;
    return nullptr;
  }
  auto ref = registry->find(t.component);
  if (!ref) {
    *error = "plugin " + t.plugin + " has no component " + t.component + " (set " + t.prefix +
             "_COMPONENT)";
    return nullptr;
  }
  if (ref->desc->kind != kind) {
    *error = t.component + " is not a " + host::kind_name(kind) + " component";
    return nullptr;
  }
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  std::string_view rest = t.options;
  while (!rest.empty()) {
    auto end = rest.find(';');
    auto item = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      *error = t.prefix + "_OPTIONS item '" + std::string(item) + "' is not key=value";
      return nullptr;
    }
    try {
      opts.set_text(item.substr(0, eq), item.substr(eq + 1));
    } catch (const sdk::Error& e) {
      *error = t.prefix + "_OPTIONS: " + e.what();
      return nullptr;
    }
  }
  return std::make_shared<host::ComponentInstance>(*ref, host::host_services(), std::move(opts));
}

}  // namespace sealhost::conformance
