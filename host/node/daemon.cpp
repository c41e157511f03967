#include "host/node/daemon.hpp"

#include "host/plugin/directory.hpp"

#include "host/plugin/host_services.hpp"
#include "host/rpc/jwt.hpp"
#include "host/store/record.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sealhost/sdk/units.hpp>

#include <chrono>
#include <fstream>
#include <set>

#ifndef SEALHOST_VERSION
#define SEALHOST_VERSION "0.0.0"
#endif

namespace sealhost::node {
namespace {

constexpr const char* kPathKind = "storage_path";
constexpr uint32_t kPathVersion = 1;
// Lotus reports its API version as a semver packed into one integer (major<<16 | minor<<8 | patch).
constexpr uint32_t kApiVersion = (1u << 16) | (0u << 8) | 0u;

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

rpc::RpcError plugin_rpc_error(const host::PluginError& e) {
  // Map plugin statuses onto JSON-RPC application errors (codes 1..13 mirror the ABI statuses).
  return rpc::RpcError(1000 + e.code(), e.what());
}

std::string base64_std(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

void check(const store::Status& st) {
  if (!st) throw rpc::RpcError(-32603, "metadata store: " + st.to_string());
}

}  // namespace

std::unique_ptr<host::PluginRegistry> load_plugins(const host::Config& host_part,
                                                   std::vector<std::string>& errors) {
  auto reg = std::make_unique<host::PluginRegistry>(host::host_services());
  for (auto& f : reg->add_static_table()) errors.push_back(f.message);
  for (const auto& dir : host_part.plugin_search_path) {
    for (auto& f : reg->load_directory(dir)) {
      // A build with SEALHOST_STATIC_PLUGINS also installs the loadable copies; the linked-in
      // plugin wins and its .so twin is not an error.
      if (f.shadowed_by_static) {
        spdlog::debug("{} (statically linked copy used)", f.message);
        continue;
      }
      errors.push_back(f.message);
    }
  }
  return reg;
}

Daemon::Daemon(Repo repo, DaemonOptions options)
    : repo_(std::move(repo)), options_(std::move(options)) {}

Daemon::~Daemon() {
  stop();
}

void Daemon::start() {
  auto t0 = std::chrono::steady_clock::now();
  repo_.require_initialized();
  lock_ = std::make_unique<RepoLock>(repo_);

  std::vector<host::Diagnostic> diags;
  auto file = host::ConfigFile::load(repo_.config_file(), diags);
  std::vector<std::string> errors;
  if (file) {
    registry_ = load_plugins(file->host_part(), errors);
    config_ = file->resolve(*registry_, diags);
  }
  for (const auto& d : diags) errors.push_back(d.to_string());
  if (!errors.empty()) {
    throw std::runtime_error("cannot start: " + std::to_string(errors.size()) +
                             " problem(s):" + join_lines(errors));
  }
  spdlog::set_level(spdlog::level::from_str(config_.log_level));

  auto env = store::Env::open(repo_.datastore_dir());
  if (!env) throw std::runtime_error("metadata store: " + env.status().to_string());
  store_ = std::move(env.value());

  auto it = config_.components.find("storage");
  if (it == config_.components.end()) {
    throw std::runtime_error(repo_.config_file().string() +
                             ": no [storage] component configured (add [storage] component = "
                             "\"sealhost.storage.local\")");
  }
  auto inst = std::make_shared<host::ComponentInstance>(it->second.ref, host::host_services(),
                                                        std::move(*it->second.options));
  storage_ = std::make_unique<host::StorageClient>(inst);
  // Plugins reach other components through the host (a pc2 stage's compute backend, finalize's
  // storage): they get the instances configured here.
  std::map<std::string, sdk::OptionSet, std::less<>> configured;
  for (auto& [section, c] : config_.components) {
    if (section != "storage" && c.options && !configured.contains(c.component)) {
      configured.emplace(c.component, std::move(*c.options));
    }
  }
  host::ComponentDirectory::global().bind(registry_.get(), std::move(configured));
  host::ComponentDirectory::global().adopt(inst);
  // Configured stages come up with the daemon: their options are checked now, and what they do
  // at start (pc1's reserve_layer_buffers) happens before the first sector arrives.
  for (const auto& [section, c] : config_.components) {
    if (!section.starts_with("stages.")) continue;
    try {
      host::ComponentDirectory::global().get(SEALHOST_KIND_STAGE, c.component);
    } catch (const host::PluginError& e) {
      throw std::runtime_error(repo_.config_file().string() + ": [" + section + "] " + e.what());
    }
  }
  attach_known_paths();

  register_methods();
  rpc::RpcServerOptions so;
  so.host = config_.api.host;
  so.port = config_.api.port;
  if (options_.listen_override) {
    auto colon = options_.listen_override->rfind(':');
    if (colon == std::string::npos) {
      throw std::runtime_error("--listen " + *options_.listen_override + ": expected host:port");
    }
    so.host = options_.listen_override->substr(0, colon);
    so.port = static_cast<uint16_t>(std::stoul(options_.listen_override->substr(colon + 1)));
    so.config_key = "--listen";
  }
  so.io_threads = static_cast<int>(config_.api.threads);
  so.max_body_bytes = config_.api.max_body_bytes;
  server_ = std::make_unique<rpc::RpcServer>(
      methods_, rpc::load_jwt_secret(repo_.keystore_dir() / std::string(rpc::kJwtSecretFileName)),
      so);
  server_->start();
  {
    std::ofstream api(repo_.api_file());
    api << server_->multiaddr();
  }
  started_ = true;
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  spdlog::info("sealhost {} serving {} (repo {}, {} plugin(s), started in {} ms)", SEALHOST_VERSION,
               server_->multiaddr(), repo_.dir().string(), registry_->plugins().size(), ms.count());
}

void Daemon::attach_known_paths() {
  std::set<std::string> locations;
  for (const auto& p : config_.storage_paths) locations.insert(p.path.string());
  auto st = store_->read([&](store::ReadTxn& txn) {
    return txn.scan(
        store::Db::kStoragePaths, "", [&](std::string_view key, std::string_view value) {
          auto rec = store::decode_record(store::describe(store::Db::kStoragePaths, key), value,
                                          kPathKind, kPathVersion);
          if (rec)
            locations.insert(rec.value().data.at("location").get<std::string>());
          else
            spdlog::error("{}", rec.status().to_string());
          return true;
        });
  });
  if (!st) throw std::runtime_error("metadata store: " + st.to_string());
  for (const auto& loc : locations) {
    try {
      sdk::AttachRequest req;
      req.location = loc;
      auto info = storage_->attach(req);
      spdlog::info("storage path {} attached ({}, {} free)", loc, info.id,
                   sdk::units::format_size_human(info.available));
    } catch (const std::exception& e) {
      // A missing mount must not keep the daemon (and PoSt of other paths) down.
      spdlog::error("storage path {}: {} (fix the mount, or `sealhost storage detach {}`)", loc,
                    e.what(), loc);
    }
  }
}

nlohmann::json Daemon::path_json(const sdk::PathInfo& p) const {
  return {{"ID", p.id},
          {"Path", p.location},
          {"Weight", p.weight},
          {"CanSeal", p.can_seal},
          {"CanStore", p.can_store},
          {"MaxStorage", p.max_storage},
          {"Capacity", p.capacity},
          {"Available", p.available},
          {"Reserved", p.reserved},
          {"Used", p.used}};
}

nlohmann::json Daemon::plugins_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : registry_->plugins()) {
    const auto* d = p->descriptor;
    nlohmann::json comps = nlohmann::json::array();
    for (size_t i = 0; i < d->components_len; ++i) {
      const auto& c = d->components[i];
      comps.push_back({{"ID", c.id},
                       {"Kind", host::kind_name(c.kind)},
                       {"Description", c.description ? c.description : ""}});
    }
    static constexpr const char* kMaturity[] = {"", "experimental", "beta", "stable"};
    out.push_back({{"ID", d->id},
                   {"Version", d->version},
                   {"License", d->license},
                   {"Maturity", kMaturity[d->maturity]},
                   {"ABI", std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor)},
                   {"Path", p->path},
                   {"Static", p->is_static},
                   {"Components", std::move(comps)}});
  }
  return out;
}

void Daemon::register_methods() {
  using rpc::Perm;
  methods_.add("Filecoin.Version", Perm::kRead, [](const nlohmann::json&, const rpc::CallContext&) {
    return nlohmann::json{{"Version", std::string("sealhost/") + SEALHOST_VERSION},
                          {"APIVersion", kApiVersion},
                          {"BlockDelay", 30}};
  });
  methods_.add("Filecoin.AuthNew", Perm::kAdmin,
               [this](const nlohmann::json& params, const rpc::CallContext& ctx) {
                 rpc::Params p(params, ctx.method);
                 p.expect_count(1);
                 auto names = p.get<std::vector<std::string>>(0, "perms");
                 rpc::PermSet perms;
                 for (const auto& n : names) {
                   auto perm = rpc::parse_perm(n);
                   if (!perm) {
                     throw rpc::RpcError(
                         -32602, "unknown permission '" + n + "' (use read, write, sign or admin)");
                   }
                   perms.add(*perm);
                 }
                 auto secret = rpc::load_jwt_secret(repo_.keystore_dir() /
                                                    std::string(rpc::kJwtSecretFileName));
                 // Lotus returns the token as []byte, which Go's JSON writes as standard base64.
                 return nlohmann::json(base64_std(rpc::create_token(secret, perms)));
               });
  methods_.add("Filecoin.AuthVerify", Perm::kRead,
               [this](const nlohmann::json& params, const rpc::CallContext& ctx) {
                 rpc::Params p(params, ctx.method);
                 p.expect_count(1);
                 auto token = p.get<std::string>(0, "token");
                 auto secret = rpc::load_jwt_secret(repo_.keystore_dir() /
                                                    std::string(rpc::kJwtSecretFileName));
                 auto v = rpc::verify_token(secret, token);
                 if (!v.ok()) throw rpc::RpcError(1, "token invalid: " + v.error);
                 return nlohmann::json(v.perms.names());
               });
  methods_.add("Filecoin.PluginsList", Perm::kRead,
               [this](const nlohmann::json&, const rpc::CallContext&) { return plugins_json(); });
  methods_.add(
      "Filecoin.StorageList", Perm::kRead,
      [this](const nlohmann::json&, const rpc::CallContext&) {
        nlohmann::json out = nlohmann::json::array();
        try {
          for (const auto& p : storage_->list()) out.push_back(path_json(p));
        } catch (const host::PluginError& e) {
          throw plugin_rpc_error(e);
        }
        return out;
      },
      rpc::Execution::kBlocking);
  methods_.add(
      "Filecoin.StorageStat", Perm::kRead,
      [this](const nlohmann::json& params, const rpc::CallContext& ctx) {
        rpc::Params p(params, ctx.method);
        p.expect_count(1);
        try {
          return path_json(storage_->stat(p.get<std::string>(0, "id")));
        } catch (const host::PluginError& e) {
          throw plugin_rpc_error(e);
        }
      },
      rpc::Execution::kBlocking);
  methods_.add(
      "Filecoin.StorageAttach", Perm::kAdmin,
      [this](const nlohmann::json& params, const rpc::CallContext& ctx) {
        rpc::Params p(params, ctx.method);
        p.expect_count(1);
        auto o = p.get<nlohmann::json>(0, "request");
        if (!o.is_object() || !o.contains("Path") || !o["Path"].is_string()) {
          throw rpc::RpcError(-32602,
                              "StorageAttach: expected {\"Path\": \"/dir\", \"Init\": bool, "
                              "\"CanSeal\": bool, \"CanStore\": bool, \"Weight\": n, "
                              "\"MaxStorage\": bytes}");
        }
        sdk::AttachRequest req;
        try {
          req.location =
              std::filesystem::absolute(o["Path"].get<std::string>()).lexically_normal().string();
          req.init = o.value("Init", false);
          req.can_seal = o.value("CanSeal", false);
          req.can_store = o.value("CanStore", false);
          req.weight = o.value("Weight", uint64_t{10});
          req.max_storage = o.value("MaxStorage", uint64_t{0});
        } catch (const nlohmann::json::exception& e) {
          throw rpc::RpcError(-32602, std::string("StorageAttach: ") + e.what());
        }
        sdk::PathInfo info;
        try {
          info = storage_->attach(req);
        } catch (const host::PluginError& e) {
          throw plugin_rpc_error(e);
        }
        check(store_->write([&](store::WriteTxn& txn) {
          return store::put_record(txn, store::Db::kStoragePaths, info.id,
                                   {{"location", info.location}}, kPathKind, kPathVersion);
        }));
        spdlog::info("storage path {} attached as {}", info.location, info.id);
        return path_json(info);
      },
      rpc::Execution::kBlocking);
  methods_.add(
      "Filecoin.StorageDetach", Perm::kAdmin,
      [this](const nlohmann::json& params, const rpc::CallContext& ctx) {
        rpc::Params p(params, ctx.method);
        p.expect_count(1);
        auto target = p.get<std::string>(0, "id_or_path");
        // Resolve to the id first so the store record can be removed whichever was given.
        std::string id;
        std::string normalized = std::filesystem::path(target).is_absolute()
                                     ? std::filesystem::path(target).lexically_normal().string()
                                     : target;
        try {
          for (const auto& info : storage_->list()) {
            if (info.id == target || info.location == normalized) id = info.id;
          }
          if (id.empty()) {
            throw rpc::RpcError(
                1000 + SEALHOST_E_NOT_FOUND,
                "storage path " + target + ": not attached (see `sealhost storage list`)");
          }
          storage_->detach(id);
        } catch (const host::PluginError& e) {
          throw plugin_rpc_error(e);
        }
        check(store_->write([&](store::WriteTxn& txn) {
          auto st = txn.del(store::Db::kStoragePaths, id);
          return st.is_not_found() ? store::Status::ok() : st;
        }));
        spdlog::info("storage path {} detached", id);
        return nlohmann::json(nullptr);
      },
      rpc::Execution::kBlocking);
  methods_.add("Filecoin.Shutdown", Perm::kAdmin,
               [this](const nlohmann::json&, const rpc::CallContext&) {
                 spdlog::info("shutdown requested over RPC");
                 request_stop();
                 return nlohmann::json(nullptr);
               });
}

void Daemon::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stop_requested_; });
}

void Daemon::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

void Daemon::stop() {
  if (server_) {
    server_->stop();
    server_.reset();
  }
  if (started_) {
    std::error_code ec;
    std::filesystem::remove(repo_.api_file(), ec);
    started_ = false;
    spdlog::info("sealhost stopped");
  }
  storage_.reset();
  host::ComponentDirectory::global().clear();
  store_.reset();
  lock_.reset();
}

std::string Daemon::multiaddr() const {
  return server_ ? server_->multiaddr() : "";
}

}  // namespace sealhost::node
