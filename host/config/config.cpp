#include "host/config/config.hpp"

#include <sealhost/sdk/units.hpp>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace sealhost::host {
namespace {

constexpr const char* kStageNames[] = {"addpiece", "pc1", "pc2", "c1", "c2", "finalize", "unseal"};
constexpr const char* kPostNames[] = {"window", "winning", "check-all"};
constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error"};

template <size_t N>
bool one_of(std::string_view s, const char* const (&list)[N]) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}
template <size_t N>
std::string join(const char* const (&list)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) out += (i ? ", " : "") + std::string(list[i]);
  return out;
}

std::filesystem::path expand(const std::string& p, const std::filesystem::path& base) {
  std::filesystem::path out;
  if (p == "~" || p.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    out = std::filesystem::path(home ? home : "/") / p.substr(p.size() > 1 ? 2 : 1);
  } else {
    out = p;
  }
  if (out.is_relative()) out = base / out;
  return out.lexically_normal();
}

class Reporter {
 public:
  Reporter(std::string file, std::vector<Diagnostic>& diags) : file_(std::move(file)), d_(diags) {}
  void at(const toml::node* n, std::string msg) {
    Diagnostic d{file_, 0, 0, std::move(msg)};
    if (n) {
      d.line = n->source().begin.line;
      d.column = n->source().begin.column;
    }
    d_.push_back(std::move(d));
  }
  // At a key (for unknown keys: the key is what is wrong, not its value).
  void at_key(const toml::key& k, std::string msg) {
    d_.push_back({file_, k.source().begin.line, k.source().begin.column, std::move(msg)});
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic>& d_;
};

// Converts a TOML node to the option's type; returns nullopt after reporting.
std::optional<sdk::OwnedValue> convert(const sealhost_option_desc& d, const toml::node& n,
                                       const std::string& where, Reporter& r) {
  sdk::OwnedValue v;
  v.type = d.type;
  auto wrong = [&](const char* want) {
    r.at(&n, where + ": option '" + d.key + "' must be " + want);
    return std::nullopt;
  };
  switch (d.type) {
    case SEALHOST_OPT_BOOL:
      if (!n.is_boolean()) return wrong("true or false");
      v.b = *n.value<bool>();
      return v;
    case SEALHOST_OPT_INT:
      if (!n.is_integer()) return wrong("an integer");
      v.i = *n.value<int64_t>();
      return v;
    case SEALHOST_OPT_DOUBLE:
      if (!n.is_number()) return wrong("a number");
      v.d = *n.value<double>();
      return v;
    case SEALHOST_OPT_STRING:
    case SEALHOST_OPT_ENUM:
    case SEALHOST_OPT_PATH:
      if (!n.is_string()) return wrong("a string");
      v.s = *n.value<std::string>();
      return v;
    case SEALHOST_OPT_SIZE:
      if (n.is_integer() && *n.value<int64_t>() >= 0) {
        v.i = *n.value<int64_t>();
        return v;
      }
      if (n.is_string()) {
        auto x = sdk::units::parse_size(*n.value<std::string>());
        if (x && *x <= static_cast<uint64_t>(INT64_MAX)) {
          v.i = static_cast<int64_t>(*x);
          return v;
        }
      }
      return wrong("a size such as \"32GiB\", \"512MiB\" or a byte count");
    case SEALHOST_OPT_DURATION:
      if (n.is_integer() && *n.value<int64_t>() >= 0) {
        v.i = *n.value<int64_t>();
        return v;
      }
      if (n.is_string()) {
        auto x = sdk::units::parse_duration_ms(*n.value<std::string>());
        if (x && *x <= static_cast<uint64_t>(INT64_MAX)) {
          v.i = static_cast<int64_t>(*x);
          return v;
        }
      }
      return wrong("a duration such as \"30s\", \"5m\" or \"250ms\"");
    case SEALHOST_OPT_STRING_LIST: {
      const auto* arr = n.as_array();
      if (!arr) return wrong("a list of strings");
      for (const auto& e : *arr) {
        if (!e.is_string()) return wrong("a list of strings");
        v.list.push_back(*e.value<std::string>());
      }
      return v;
    }
    default:
      return wrong("of a known type");
  }
}

std::optional<std::pair<std::string, uint16_t>> parse_listen(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string host(s.substr(0, colon));
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string port(s.substr(colon + 1));
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  unsigned long p = std::stoul(port);
  if (p > 65535) return std::nullopt;
  return std::make_pair(host, static_cast<uint16_t>(p));
}

}  // namespace

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  return out + ": " + message;
}

struct ConfigFile::Impl {
  toml::table root;
  Config host;
  // Component sections found while parsing: section name -> its table.
  std::vector<std::pair<std::string, const toml::table*>> sections;
};

ConfigFile::ConfigFile() : impl_(std::make_unique<Impl>()) {}
ConfigFile::~ConfigFile() = default;
const Config& ConfigFile::host_part() const {
  return impl_->host;
}

std::unique_ptr<ConfigFile> ConfigFile::load(const std::filesystem::path& file,
                                             std::vector<Diagnostic>& diags) {
  std::ifstream in(file);
  if (!in) {
    diags.push_back({file.string(), 0, 0,
                     "cannot read the config file (create one with `sealhost config default > " +
                         file.string() + "`)"});
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), file.string(), diags);
}

std::unique_ptr<ConfigFile> ConfigFile::parse(const std::string& text, const std::string& file,
                                              std::vector<Diagnostic>& diags) {
  std::unique_ptr<ConfigFile> cf(new ConfigFile());
  auto& im = *cf->impl_;
  try {
    im.root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    diags.push_back({file, e.source().begin.line, e.source().begin.column,
                     "TOML syntax: " + std::string(e.description())});
    return nullptr;
  }
  Reporter r(file, diags);
  Config& c = im.host;
  c.file = file;
  std::filesystem::path base = std::filesystem::absolute(file).parent_path();

  static constexpr const char* kTop[] = {"api",    "log",     "plugins", "storage",
                                         "stages", "compute", "chain",   "post"};
  for (const auto& [k, node] : im.root) {
    if (!one_of(k.str(), kTop)) {
      r.at_key(k, "unknown section '" + std::string(k.str()) + "' (known: " + join(kTop) + ")");
    }
  }
  auto table_of = [&](const toml::node* n, const std::string& name) -> const toml::table* {
    if (!n) return nullptr;
    if (const auto* t = n->as_table()) return t;
    r.at(n, "[" + name + "] must be a table");
    return nullptr;
  };
  auto unknown_keys = [&](const toml::table& t, const std::string& name,
                          std::initializer_list<std::string_view> known) {
    for (const auto& [k, node] : t) {
      if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
        std::string list;
        for (auto s : known) list += (list.empty() ? "" : ", ") + std::string(s);
        r.at_key(
            k, "[" + name + "]: unknown key '" + std::string(k.str()) + "' (known: " + list + ")");
      }
    }
  };

  if (const auto* api = table_of(im.root.get("api"), "api")) {
    unknown_keys(*api, "api", {"listen_address", "max_body", "threads"});
    if (const auto* n = api->get("listen_address")) {
      auto hp = n->is_string() ? parse_listen(*n->value<std::string>()) : std::nullopt;
      if (!hp) {
        r.at(n, "[api] listen_address must be \"host:port\", e.g. \"127.0.0.1:2345\"");
      } else {
        c.api.host = hp->first;
        c.api.port = hp->second;
      }
    }
    if (const auto* n = api->get("max_body")) {
      std::optional<uint64_t> v;
      if (n->is_string()) v = sdk::units::parse_size(*n->value<std::string>());
      if (n->is_integer() && *n->value<int64_t>() > 0)
        v = static_cast<uint64_t>(*n->value<int64_t>());
      if (!v || *v < 1024 || *v > (1ull << 32)) {
        r.at(n, "[api] max_body must be a size between \"1KiB\" and \"4GiB\"");
      } else {
        c.api.max_body_bytes = *v;
      }
    }
    if (const auto* n = api->get("threads")) {
      if (!n->is_integer() || *n->value<int64_t>() < 1 || *n->value<int64_t>() > 256) {
        r.at(n, "[api] threads must be an integer in [1, 256]");
      } else {
        c.api.threads = static_cast<uint32_t>(*n->value<int64_t>());
      }
    }
  }
  if (const auto* log = table_of(im.root.get("log"), "log")) {
    unknown_keys(*log, "log", {"level"});
    if (const auto* n = log->get("level")) {
      if (!n->is_string() || !one_of(*n->value<std::string>(), kLogLevels)) {
        r.at(n, "[log] level must be one of " + join(kLogLevels));
      } else {
        c.log_level = *n->value<std::string>();
      }
    }
  }
  if (const auto* pl = table_of(im.root.get("plugins"), "plugins")) {
    unknown_keys(*pl, "plugins", {"search_path"});
    if (const auto* n = pl->get("search_path")) {
      const auto* arr = n->as_array();
      if (!arr) {
        r.at(n, "[plugins] search_path must be a list of directories");
      } else {
        for (const auto& e : *arr) {
          if (!e.is_string()) {
            r.at(&e, "[plugins] search_path entries must be strings");
            continue;
          }
          c.plugin_search_path.push_back(expand(*e.value<std::string>(), base));
        }
      }
    }
  }
  if (c.plugin_search_path.empty()) c.plugin_search_path.push_back(default_plugin_dir());

  auto component_section = [&](const toml::node* n, const std::string& name) {
    const auto* t = table_of(n, name);
    if (!t) return;
    im.sections.emplace_back(name, t);
  };
  if (const auto* st = table_of(im.root.get("storage"), "storage")) {
    for (const auto& [k, node] : *st) {
      if (k.str() != "component" && k.str() != "options" && k.str() != "paths") {
        r.at_key(k, "[storage]: unknown key '" + std::string(k.str()) +
                        "' (known: component, options, paths)");
      }
    }
    if (st->get("component") || st->get("options")) component_section(st, "storage");
    if (const auto* n = st->get("paths")) {
      const auto* arr = n->as_array();
      if (!arr) {
        r.at(n, "[[storage.paths]] must be an array of tables");
      } else {
        for (const auto& e : *arr) {
          const auto* pt = e.as_table();
          const toml::node* pn = pt ? pt->get("path") : nullptr;
          if (!pt || !pn || !pn->is_string()) {
            r.at(&e, "[[storage.paths]] entries need path = \"/some/dir\"");
            continue;
          }
          for (const auto& [k, node] : *pt) {
            if (k.str() != "path") {
              r.at_key(k,
                       "[[storage.paths]]: unknown key '" + std::string(k.str()) +
                           "' (known: path; set weight and roles with `sealhost storage attach`)");
            }
          }
          c.storage_paths.push_back({expand(*pn->value<std::string>(), base),
                                     pn->source().begin.line, pn->source().begin.column});
        }
      }
    }
  }
  auto named_sections = [&](const char* top, auto& names) {
    const auto* t = table_of(im.root.get(top), top);
    if (!t) return;
    for (const auto& [k, node] : *t) {
      std::string name = std::string(top) + "." + std::string(k.str());
      if (!one_of(k.str(), names)) {
        r.at_key(k, "unknown [" + std::string(top) + "." + std::string(k.str()) +
                        "] (known: " + join(names) + ")");
        continue;
      }
      component_section(&node, name);
    }
  };
  named_sections("stages", kStageNames);
  named_sections("post", kPostNames);
  component_section(im.root.get("compute"), "compute");
  component_section(im.root.get("chain"), "chain");
  return cf;
}

Config ConfigFile::resolve(const PluginRegistry& registry, std::vector<Diagnostic>& diags) const {
  Reporter r(impl_->host.file.string(), diags);
  Config c = impl_->host;
  for (const auto& [name, table] : impl_->sections) {
    const toml::node* comp = table->get("component");
    if (!comp || !comp->is_string()) {
      r.at(comp ? comp : static_cast<const toml::node*>(table),
           "[" + name + "] needs component = \"<vendor>.<kind>.<name>\"");
      continue;
    }
    for (const auto& [k, node] : *table) {
      if (k.str() != "component" && k.str() != "options" &&
          !(name == "storage" && k.str() == "paths")) {
        r.at_key(k, "[" + name + "]: unknown key '" + std::string(k.str()) +
                        "' (known: component, options)");
      }
    }
    std::string id = *comp->value<std::string>();
    std::string where = "[" + name + "] component " + id;
    auto ref = registry.find(id);
    if (!ref) {
      std::string known;
      for (const auto& cr : registry.components())
        known += (known.empty() ? "" : ", ") + std::string(cr.desc->id);
      r.at(comp, where + ": not provided by any loaded plugin (loaded: " +
                     (known.empty() ? "none" : known) + "; check [plugins] search_path)");
      continue;
    }
    std::string want_kind = name.substr(0, name.find('.'));
    if (want_kind == "stages") want_kind = "stage";
    if (want_kind != kind_name(ref->desc->kind)) {
      r.at(comp, where + ": is a " + kind_name(ref->desc->kind) + " component, [" + name +
                     "] needs a " + want_kind + " component");
      continue;
    }
    if (want_kind == "stage") {
      const auto* vt = static_cast<const sealhost_stage_vtable*>(ref->desc->vtable);
      std::string stage = name.substr(name.find('.') + 1);
      if (!vt->stage || stage != vt->stage) {
        r.at(comp, where + ": implements stage '" + std::string(vt->stage ? vt->stage : "?") +
                       "', not '" + stage + "'");
        continue;
      }
    }
    auto opts = std::make_shared<sdk::OptionSet>(ref->desc->options, ref->desc->options_len);
    std::vector<bool> set(ref->desc->options_len, false);
    const toml::node* on = table->get("options");
    const toml::table* ot = on ? on->as_table() : nullptr;
    if (on && !ot) r.at(on, where + ": options must be a table");
    if (ot) {
      for (const auto& [k, node] : *ot) {
        size_t idx = ref->desc->options_len;
        for (size_t i = 0; i < ref->desc->options_len; ++i) {
          if (k.str() == ref->desc->options[i].key) idx = i;
        }
        if (idx == ref->desc->options_len) {
          std::string known;
          for (size_t i = 0; i < ref->desc->options_len; ++i) {
            known += (i ? ", " : "") + std::string(ref->desc->options[i].key);
          }
          r.at_key(k, where + ": unknown option '" + std::string(k.str()) + "' (known: " +
                          (known.empty() ? "none" : known) + "; see `sealhost config schema`)");
          continue;
        }
        const auto& d = ref->desc->options[idx];
        auto v = convert(d, node, where, r);
        if (!v) continue;
        auto err = sdk::check_value(d, *v);
        if (!err.empty()) {
          r.at(&node, where + ": option '" + d.key + "': " + err);
          continue;
        }
        opts->set(idx, std::move(*v));
        set[idx] = true;
      }
    }
    for (size_t i = 0; i < ref->desc->options_len; ++i) {
      if (set[i]) continue;
      const auto& d = ref->desc->options[i];
      if (!d.default_value) {
        r.at(table, where + ": option '" + d.key + "' is required (" + d.description + ")");
        continue;
      }
      std::string why;
      auto v = sdk::parse_text(d.type, d.default_value, &why);
      if (v) opts->set(i, std::move(*v));
    }
    c.components[name] = ComponentConfig{name, id, *ref, std::move(opts)};
  }
  return c;
}

std::filesystem::path default_plugin_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/local/lib/sealhost/plugins";
  return (exe.parent_path() / ".." / "lib" / "sealhost" / "plugins").lexically_normal();
}

std::string default_config_text() {
  return R"(# sealhost configuration. Every component section names a component id and its options;
# `sealhost config schema` lists every option of every installed component, and
# `sealhost config check FILE` validates a file without starting anything.

[api]
# Where the JSON-RPC API listens (HTTP + WebSocket at /rpc/v0).
listen_address = "127.0.0.1:2345"
# Largest accepted request body.
max_body = "16MiB"
# Network threads.
threads = 2

[log]
# trace, debug, info, warn or error.
level = "info"

[plugins]
# Directories searched for plugin shared objects (*.so). Empty: the directory installed beside
# the sealhost binary (<prefix>/lib/sealhost/plugins).
search_path = []

[storage]
# The storage backend for sector files.
component = "sealhost.storage.local"

[storage.options]

# Storage paths attached at every start, in addition to those attached with
# `sealhost storage attach` (which are remembered in the repo).
# [[storage.paths]]
# path = "/mnt/seal"
)";
}

std::string schema_text(const PluginRegistry& registry) {
  std::ostringstream out;
  for (const auto& ref : registry.components()) {
    const auto& c = *ref.desc;
    out << c.id << " (" << kind_name(c.kind) << ", plugin " << ref.plugin->descriptor->id << " "
        << ref.plugin->descriptor->version << ")\n";
    if (c.description) out << "  " << c.description << "\n";
    if (c.options_len == 0) out << "  (no options)\n";
    for (size_t i = 0; i < c.options_len; ++i) {
      const auto& o = c.options[i];
      out << "  " << o.key << " : " << sdk::option_type_name(o.type);
      if (o.default_value)
        out << " = " << o.default_value;
      else
        out << " (required)";
      if (o.min <= o.max) out << "  [" << o.min << ", " << o.max << "]";
      if (o.type == SEALHOST_OPT_ENUM) {
        out << "  {";
        for (size_t k = 0; k < o.choices_len; ++k) out << (k ? ", " : "") << o.choices[k];
        out << "}";
      }
      if (o.unit) out << "  (" << o.unit << ")";
      out << "\n      " << o.description << "\n";
    }
  }
  return out.str();
}

std::string schema_json(const PluginRegistry& registry) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& ref : registry.components()) {
    const auto& c = *ref.desc;
    nlohmann::json opts = nlohmann::json::array();
    for (size_t i = 0; i < c.options_len; ++i) {
      const auto& o = c.options[i];
      nlohmann::json j{{"key", o.key},
                       {"type", sdk::option_type_name(o.type)},
                       {"required", o.default_value == nullptr},
                       {"description", o.description}};
      if (o.default_value) j["default"] = o.default_value;
      if (o.min <= o.max) j["range"] = {o.min, o.max};
      if (o.unit) j["unit"] = o.unit;
      if (o.type == SEALHOST_OPT_ENUM) {
        for (size_t k = 0; k < o.choices_len; ++k) j["choices"].push_back(o.choices[k]);
      }
      opts.push_back(std::move(j));
    }
    arr.push_back({{"id", c.id},
                   {"kind", kind_name(c.kind)},
                   {"plugin", ref.plugin->descriptor->id},
                   {"plugin_version", ref.plugin->descriptor->version},
                   {"description", c.description ? c.description : ""},
                   {"options", std::move(opts)}});
  }
  return arr.dump(2);
}

}  // namespace sealhost::host
