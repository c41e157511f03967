#include "host/plugin/directory.hpp"

#include "host/plugin/host_services.hpp"

#include <utility>

namespace sealhost::host {

ComponentDirectory& ComponentDirectory::global() {
  static auto* directory = new ComponentDirectory();  // never destroyed: plugins may outlive main
  return *directory;
}

void ComponentDirectory::bind(const PluginRegistry* registry,
                              std::map<std::string, sdk::OptionSet, std::less<>> configured) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  registry_ = registry;
  configured_ = std::move(configured);
  for (auto& [id, inst] : instances_) retired_.push_back(std::move(inst));
  instances_.clear();
}

void ComponentDirectory::adopt(std::shared_ptr<ComponentInstance> instance) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  instances_[instance->desc().id] = std::move(instance);
}

void ComponentDirectory::clear() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  registry_ = nullptr;
  configured_.clear();
  instances_.clear();
  retired_.clear();
}

std::shared_ptr<ComponentInstance> ComponentDirectory::get(int32_t kind, std::string_view id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string want = kind_name(kind);
  auto wrong_kind = [&](const sealhost_component_desc& d) {
    return PluginError(SEALHOST_E_NOT_FOUND, "component " + std::string(id) + " is a " +
                                                 kind_name(d.kind) + " component, not a " + want +
                                                 " one (name a " + want + " component)");
  };
  if (auto it = instances_.find(id); it != instances_.end()) {
    if (it->second->desc().kind != kind) throw wrong_kind(it->second->desc());
    return it->second;
  }
  if (!registry_) {
    throw PluginError(SEALHOST_E_FAILED_PRECONDITION,
                      "component " + std::string(id) +
                          " requested before the host loaded its "
                          "plugins (a host bug: bind the directory)");
  }
  auto ref = registry_->find(id);
  if (!ref) {
    std::string known;
    for (const auto& c : registry_->components(kind)) {
      known += known.empty() ? "" : ", ";
      known += c.desc->id;
    }
    throw PluginError(SEALHOST_E_NOT_FOUND,
                      "no loaded plugin provides " + want + " component " + std::string(id) +
                          (known.empty() ? " (no " + want + " components are loaded"
                                         : " (loaded " + want + " components: " + known) +
                          "; check [plugins] search paths and the component id)");
  }
  if (ref->desc->kind != kind) throw wrong_kind(*ref->desc);
  sdk::OptionSet options;
  if (auto c = configured_.find(id); c != configured_.end()) {
    options = std::move(c->second);
    configured_.erase(c);
  } else {
    options = sdk::OptionSet(ref->desc->options, ref->desc->options_len);
    try {
      options.apply_defaults();
    } catch (const sdk::Error& e) {
      throw PluginError(SEALHOST_E_INVALID_ARGUMENT,
                        std::string(id) + " needs configuration: " + e.what() + " (add a [" + want +
                            "] section with component = \"" + std::string(id) +
                            "\" and its options)");
    }
  }
  auto inst = std::make_shared<ComponentInstance>(*ref, host_services(), std::move(options));
  instances_.emplace(std::string(id), inst);
  return inst;
}

}  // namespace sealhost::host
