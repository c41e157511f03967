#include "host/plugin/registry.hpp"

#include "host/plugin/static_table.hpp"

#define BOOST_DLL_USE_STD_FS
#include <boost/dll/shared_library.hpp>

#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/option_set.hpp>

#include <dlfcn.h>
#include <algorithm>
#include <cctype>

#include <set>

namespace sealhost::host {
namespace {

// Libraries are kept open until the process exits: a plugin's code may still be referenced by
// instances, threads or atexit handlers, so unloading is never safe. Held by a leaked container.
std::vector<boost::dll::shared_library>& open_libraries() {
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}

bool valid_id_part(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t dot = s.find('.', pos);
    parts.push_back(
        s.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos));
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return parts;
}

size_t min_vtable_size(int32_t kind) {
  switch (kind) {
    case SEALHOST_KIND_STAGE:
      return sizeof(sealhost_stage_vtable);
    case SEALHOST_KIND_STORAGE:
      return sizeof(sealhost_storage_vtable);
    case SEALHOST_KIND_COMPUTE:
      return sizeof(sealhost_compute_vtable);
    case SEALHOST_KIND_POST:
      return sizeof(sealhost_post_vtable);
    case SEALHOST_KIND_CHAIN:
      return sizeof(sealhost_chain_vtable);
    default:
      return 0;
  }
}

std::string validate_options(const sealhost_component_desc& c) {
  std::set<std::string_view> keys;
  for (size_t k = 0; k < c.options_len; ++k) {
    const auto& o = c.options[k];
    std::string where = std::string("component ") + c.id + " option #" + std::to_string(k);
    if (o.struct_size < sizeof(sealhost_option_desc)) return where + ": struct_size too small";
    if (!o.key || !*o.key) return where + ": empty key";
    where = std::string("component ") + c.id + " option '" + o.key + "'";
    for (const char* p = o.key; *p; ++p) {
      if (!(std::islower(static_cast<unsigned char>(*p)) ||
            std::isdigit(static_cast<unsigned char>(*p)) || *p == '_')) {
        return where + ": keys are snake_case";
      }
    }
    if (!keys.insert(o.key).second) return where + ": duplicate key";
    if (!o.description || !*o.description) return where + ": missing description";
    if (o.type < SEALHOST_OPT_BOOL || o.type > SEALHOST_OPT_STRING_LIST) {
      return where + ": unknown type " + std::to_string(o.type);
    }
    if (o.type == SEALHOST_OPT_ENUM && (!o.choices || o.choices_len == 0)) {
      return where + ": enum without choices";
    }
    if (o.default_value) {
      std::string why;
      auto v = sdk::parse_text(o.type, o.default_value, &why);
      if (!v) return where + ": default " + o.default_value + ": " + why;
      auto err = sdk::check_value(o, *v);
      if (!err.empty()) return where + ": default " + err;
    } else if (!(o.flags & SEALHOST_OPTF_REQUIRED)) {
      return where + ": no default and not marked required";
    }
  }
  return "";
}

}  // namespace

const char* load_error_name(LoadError e) {
  switch (e) {
    case LoadError::kNotFound:
      return "not-found";
    case LoadError::kOpenFailed:
      return "open-failed";
    case LoadError::kNoEntry:
      return "no-entry-symbol";
    case LoadError::kAbiMajorMismatch:
      return "abi-major-mismatch";
    case LoadError::kAbiMinorTooNew:
      return "abi-minor-too-new";
    case LoadError::kInvalidDescriptor:
      return "invalid-descriptor";
    case LoadError::kDuplicateId:
      return "duplicate-id";
    case LoadError::kInitFailed:
      return "init-failed";
  }
  return "unknown";
}

const char* kind_name(int32_t kind) {
  switch (kind) {
    case SEALHOST_KIND_STAGE:
      return "stage";
    case SEALHOST_KIND_STORAGE:
      return "storage";
    case SEALHOST_KIND_COMPUTE:
      return "compute";
    case SEALHOST_KIND_POST:
      return "post";
    case SEALHOST_KIND_CHAIN:
      return "chain";
    default:
      return "unknown";
  }
}

std::optional<int32_t> kind_from_name(std::string_view name) {
  for (int32_t k = SEALHOST_KIND_STAGE; k <= SEALHOST_KIND_CHAIN; ++k) {
    if (name == kind_name(k)) return k;
  }
  return std::nullopt;
}

std::string validate_descriptor(const sealhost_plugin_descriptor* d) {
  if (!d) return "entry returned a null descriptor";
  if (d->struct_size < sizeof(sealhost_plugin_descriptor)) {
    return "descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than " +
           std::to_string(sizeof(sealhost_plugin_descriptor));
  }
  if (!d->id || !d->version || !d->license) return "descriptor lacks id, version or license";
  auto parts = split_dots(d->id);
  if (parts.size() < 2 || !std::all_of(parts.begin(), parts.end(), valid_id_part)) {
    return std::string("plugin id '") + d->id + "' is not of the form <vendor>.<name>";
  }
  if (d->maturity < SEALHOST_MATURITY_EXPERIMENTAL || d->maturity > SEALHOST_MATURITY_STABLE) {
    return "maturity " + std::to_string(d->maturity) + " is not experimental, beta or stable";
  }
  if (d->components_len == 0 || !d->components) return "descriptor lists no components";
  std::set<std::string_view> ids;
  for (size_t i = 0; i < d->components_len; ++i) {
    const auto& c = d->components[i];
    if (c.struct_size < sizeof(sealhost_component_desc)) {
      return "component #" + std::to_string(i) + ": struct_size too small";
    }
    if (!c.id) return "component #" + std::to_string(i) + ": null id";
    auto cp = split_dots(c.id);
    if (cp.size() != 3 || !std::all_of(cp.begin(), cp.end(), valid_id_part)) {
      return std::string("component id '") + c.id + "' is not of the form <vendor>.<kind>.<name>";
    }
    auto kind = kind_from_name(cp[1]);
    if (!kind || *kind != c.kind) {
      return std::string("component '") + c.id + "': kind " + std::to_string(c.kind) + " (" +
             kind_name(c.kind) + ") does not match the id";
    }
    if (!c.create || !c.destroy || !c.vtable) {
      return std::string("component '") + c.id + "': create, destroy and vtable are required";
    }
    uint32_t vsize = *static_cast<const uint32_t*>(c.vtable);
    if (vsize < min_vtable_size(c.kind)) {
      return std::string("component '") + c.id + "': vtable struct_size " + std::to_string(vsize) +
             " is smaller than " + std::to_string(min_vtable_size(c.kind));
    }
    if (c.options_len && !c.options) return std::string("component '") + c.id + "': null options";
    if (!ids.insert(c.id).second) return std::string("component '") + c.id + "' listed twice";
    auto err = validate_options(c);
    if (!err.empty()) return err;
  }
  return "";
}

PluginRegistry::PluginRegistry(const sealhost_host_services* host) : host_(host) {}

std::optional<LoadFailure> PluginRegistry::load_file(const std::filesystem::path& path) {
  const std::string p = path.string();
  auto fail = [&](LoadError code, const std::string& msg) {
    return LoadFailure{code, p, "plugin " + p + ": " + msg};
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(LoadError::kNotFound,
                "file not found (check [plugins] search_path or the plugin's install)");
  }
  boost::dll::shared_library lib;
  lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    // Boost.DLL clears dlerror(); ask the dynamic loader again for the reason (it names the
    // missing library or unresolved symbol). The same call fails the same way.
    const char* why = nullptr;
    if (::dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) why = ::dlerror();
    return fail(LoadError::kOpenFailed,
                std::string("cannot be opened: ") + (why ? why : ec.message()) +
                    " (rebuild it against this sealhost or install its dependencies)");
  }
  if (!lib.has(SEALHOST_ENTRY_SYMBOL)) {
    return fail(LoadError::kNoEntry, "exports no " SEALHOST_ENTRY_SYMBOL
                                     " (is it a sealhost plugin? build it with SEALHOST_PLUGIN())");
  }
  auto entry = lib.get<const sealhost_plugin_descriptor*()>(SEALHOST_ENTRY_SYMBOL);
  open_libraries().push_back(lib);
  auto failure = add(entry(), p, false);
  return failure;
}

std::vector<LoadFailure> PluginRegistry::load_directory(const std::filesystem::path& dir) {
  std::vector<LoadFailure> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.push_back({LoadError::kNotFound, dir.string(),
                   "plugin directory " + dir.string() +
                       ": not found (fix [plugins] search_path in the config)"});
    return out;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".so") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (auto failure = load_file(f)) out.push_back(std::move(*failure));
  }
  return out;
}

std::optional<LoadFailure> PluginRegistry::add_static(const char* name,
                                                      sealhost_plugin_entry_fn entry) {
  return add(entry(), std::string("static:") + name, true);
}

std::vector<LoadFailure> PluginRegistry::add_static_table() {
  std::vector<LoadFailure> out;
  for (const auto& sp : static_plugins()) {
    if (auto f = add_static(sp.name, sp.entry)) out.push_back(std::move(*f));
  }
  return out;
}

std::optional<LoadFailure> PluginRegistry::add(const sealhost_plugin_descriptor* d,
                                               const std::string& path, bool is_static) {
  auto fail = [&](LoadError code, const std::string& msg) {
    return LoadFailure{code, path, "plugin " + path + ": " + msg};
  };
  if (!d) return fail(LoadError::kInvalidDescriptor, "entry returned a null descriptor");
  // Check the version fields first: they are at fixed offsets in every ABI version.
  if (d->struct_size >= offsetof(sealhost_plugin_descriptor, maturity)) {
    if (d->abi_major != SEALHOST_ABI_MAJOR) {
      return fail(LoadError::kAbiMajorMismatch,
                  "built for plugin ABI " + std::to_string(d->abi_major) + "." +
                      std::to_string(d->abi_minor) + ", this host speaks " +
                      std::to_string(SEALHOST_ABI_MAJOR) + "." +
                      std::to_string(SEALHOST_ABI_MINOR) +
                      " (rebuild the plugin against this sealhost's plugin-api)");
    }
    if (d->abi_minor > SEALHOST_ABI_MINOR) {
      return fail(LoadError::kAbiMinorTooNew,
                  "built against plugin ABI " + std::to_string(d->abi_major) + "." +
                      std::to_string(d->abi_minor) + ", newer than this host's " +
                      std::to_string(SEALHOST_ABI_MAJOR) + "." +
                      std::to_string(SEALHOST_ABI_MINOR) +
                      " (upgrade sealhost or use an older build of the plugin)");
    }
  }
  if (auto err = validate_descriptor(d); !err.empty()) {
    return fail(LoadError::kInvalidDescriptor, "invalid descriptor: " + err);
  }
  for (const auto& p : plugins_) {
    if (std::string_view(p->descriptor->id) == d->id) {
      auto f = fail(LoadError::kDuplicateId, std::string("plugin id '") + d->id +
                                                 "' is already loaded from " + p->path +
                                                 " (remove one of the two)");
      f.shadowed_by_static = p->is_static && !is_static;
      return f;
    }
  }
  for (size_t i = 0; i < d->components_len; ++i) {
    auto it = components_.find(d->components[i].id);
    if (it != components_.end()) {
      return fail(LoadError::kDuplicateId,
                  std::string("component '") + d->components[i].id + "' is already provided by " +
                      it->second.plugin->path + " (remove one of the two)");
    }
  }
  if (d->init) {
    sdk::ErrorSink sink;
    sealhost_status st = d->init(host_, sink.c());
    if (st != SEALHOST_OK) {
      return fail(LoadError::kInitFailed, "init failed: " + sink.text(st));
    }
  }
  plugins_.push_back(std::make_unique<LoadedPlugin>(LoadedPlugin{d, path, is_static}));
  for (size_t i = 0; i < d->components_len; ++i) {
    components_.emplace(d->components[i].id,
                        ComponentRef{&d->components[i], plugins_.back().get()});
  }
  return std::nullopt;
}

std::optional<ComponentRef> PluginRegistry::find(std::string_view id) const {
  auto it = components_.find(id);
  if (it == components_.end()) return std::nullopt;
  return it->second;
}

std::vector<ComponentRef> PluginRegistry::components(int32_t kind) const {
  std::vector<ComponentRef> out;
  for (const auto& [id, ref] : components_) {
    if (kind == 0 || ref.desc->kind == kind) out.push_back(ref);
  }
  return out;
}

}  // namespace sealhost::host
