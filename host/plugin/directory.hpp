// The components a plugin can ask the host for (sealhost_host_services.get_component, ABI 1.1).
//
// A stage that drives a compute backend (pc2 → sealhost.compute.opencl) or a storage component
// (finalize) names it by id; the host hands out ONE shared instance per id for the whole process,
// created on first request from the options the config gives that component, or from the
// component's defaults when the config does not mention it. Instances the host created itself
// (the daemon's configured components) are adopted so plugins and host share them.
//
// Process-wide (plugins reach it through the global host services); thread-safe.
#pragma once

#include "host/plugin/component.hpp"
#include "host/plugin/registry.hpp"

#include <sealhost/sdk/option_set.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::host {

class ComponentDirectory {
 public:
  static ComponentDirectory& global();

  // Resolve ids against `registry` from now on (not owned; it must outlive every instance handed
  // out). `configured` maps component id → the options the config gives it. Instances of an
  // earlier binding are retired, not destroyed: a plugin may still hold their handles.
  void bind(const PluginRegistry* registry,
            std::map<std::string, sdk::OptionSet, std::less<>> configured = {});
  // Shares an instance the host created (e.g. the daemon's [compute] component).
  void adopt(std::shared_ptr<ComponentInstance> instance);
  // The instance of `id` (creating it on first use). Throws PluginError: NOT_FOUND for an unknown
  // id or a component of another kind, FAILED_PRECONDITION when nothing is bound, or create()'s
  // own error.
  std::shared_ptr<ComponentInstance> get(int32_t kind, std::string_view id);
  // Drops every instance and the binding. Only when no plugin instance can still use them.
  void clear();

 private:
  // Recursive: creating an instance runs the plugin's create(), which may itself ask for a
  // component (a stage resolving its compute backend).
  std::recursive_mutex mu_;
  const PluginRegistry* registry_ = nullptr;
  std::map<std::string, sdk::OptionSet, std::less<>> configured_;
  std::map<std::string, std::shared_ptr<ComponentInstance>, std::less<>> instances_;
  std::vector<std::shared_ptr<ComponentInstance>> retired_;
};

}  // namespace sealhost::host
