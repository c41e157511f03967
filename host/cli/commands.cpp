#include "host/cli/commands.hpp"

#include "host/cli/bench_commands.hpp"
#include "host/cli/proofs_commands.hpp"
#include "host/config/config.hpp"
#include "host/node/daemon.hpp"
#include "host/node/repo.hpp"
#include "host/rpc/client.hpp"
#include "host/rpc/jwt.hpp"

#include <sealhost/sdk/units.hpp>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#ifndef SEALHOST_VERSION
#define SEALHOST_VERSION "0.0.0"
#endif

namespace po = boost::program_options;

namespace sealhost::cli {
namespace {

struct Args {
  std::vector<std::string> words;  // after the command path
  std::optional<std::string> repo;
};

using Command = std::function<int(const std::vector<std::string>& args,
                                  const std::optional<std::string>& repo)>;

struct CommandInfo {
  std::string summary;
  Command run;
};

// Parses `args` against `desc` (+ positional names); prints help and returns false on --help.
bool parse(const std::vector<std::string>& args, const std::string& usage,
           po::options_description& desc, po::variables_map& vm,
           const po::positional_options_description* pos = nullptr) {
  desc.add_options()("help,h", "show this help");
  auto parser = po::command_line_parser(args).options(desc);
  if (pos) parser.positional(*pos);
  po::store(parser.run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: sealhost " << usage << "\n\n" << desc << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

std::string base64_decode_std(const std::string& in) {
  std::string out(3 * (in.size() / 4) + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) throw std::runtime_error("daemon returned a token that is not base64");
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string read_file_trimmed(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// The daemon's API: MINER_API_INFO, else the repo's api + token files.
rpc::ApiInfo api_info(const std::optional<std::string>& repo_flag) {
  if (const char* env = std::getenv("MINER_API_INFO"); env && *env && !repo_flag) {
    return rpc::ApiInfo::parse(env);
  }
  node::Repo repo(node::Repo::resolve(repo_flag));
  repo.require_initialized();
  std::string api = read_file_trimmed(repo.api_file());
  if (api.empty()) {
    throw std::runtime_error("no sealhost daemon is running for repo " + repo.dir().string() +
                             " (start it with `sealhost run`, or set MINER_API_INFO)");
  }
  auto info = rpc::ApiInfo::parse(api);
  info.token = read_file_trimmed(repo.token_file());
  return info;
}

nlohmann::json call(const std::optional<std::string>& repo, std::string_view method,
                    nlohmann::json params = nlohmann::json::array()) {
  rpc::RpcClient client(api_info(repo));
  return client.call(method, std::move(params));
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w;
  for (const auto& r : rows) {
    if (w.size() < r.size()) w.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

// ------------------------------------------------------------------ init / run / stop / info

int cmd_init(const std::vector<std::string>& args, const std::optional<std::string>& repo_flag) {
  po::options_description desc("sealhost init: create a repo");
  bool no_storage = false;
  desc.add_options()("no-local-storage", po::bool_switch(&no_storage),
                     "do not create <repo>/storage as a seal+store path");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] init [--no-local-storage]", desc, vm)) return 0;
  node::Repo repo(node::Repo::resolve(repo_flag));
  std::string config = host::default_config_text();
  if (!no_storage) {
    std::filesystem::create_directories(repo.default_storage_dir());
    config += "\n[[storage.paths]]\npath = \"storage\"\n";
  }
  repo.init(config);
  if (!no_storage) {
    // Initialise the default path's metadata through the storage plugin, as attach --init does.
    std::vector<host::Diagnostic> diags;
    auto file = host::ConfigFile::load(repo.config_file(), diags);
    std::vector<std::string> errors;
    auto registry = node::load_plugins(file->host_part(), errors);
    auto cfg = file->resolve(*registry, diags);
    for (const auto& d : diags) errors.push_back(d.to_string());
    if (!errors.empty()) {
      std::string all;
      for (const auto& e : errors) all += "\n  " + e;
      throw std::runtime_error("repo created, but the default storage path could not be set up:" +
                               all);
    }
    auto& sc = cfg.components.at("storage");
    auto inst =
        std::make_shared<host::ComponentInstance>(sc.ref, registry->host(), std::move(*sc.options));
    host::StorageClient storage(inst);
    sdk::AttachRequest req;
    req.location = repo.default_storage_dir().string();
    req.init = true;
    req.can_seal = true;
    req.can_store = true;
    auto info = storage.attach(req);
    std::cout << "storage path " << info.location << " initialised (" << info.id << ")\n";
  }
  std::cout << "initialised sealhost repo at " << repo.dir().string() << "\n";
  return 0;
}

int cmd_run(const std::vector<std::string>& args, const std::optional<std::string>& repo_flag) {
  po::options_description desc("sealhost run: start the daemon");
  std::string listen;
  desc.add_options()("listen", po::value(&listen), "override [api] listen_address (host:port)");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] run [--listen HOST:PORT]", desc, vm)) return 0;
  node::DaemonOptions opts;
  if (!listen.empty()) opts.listen_override = listen;
  node::Daemon daemon(node::Repo(node::Repo::resolve(repo_flag)), opts);

  // Signals are turned into a stop request by a dedicated thread (sigwait), never in a handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  daemon.start();
  std::cout << "sealhost daemon serving " << daemon.multiaddr() << std::endl;
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != 0) {
      spdlog::info("received signal {}, stopping", sig);
      daemon.request_stop();
    }
  });
  daemon.wait();
  daemon.stop();
  // Wake the signal thread if the stop came over RPC.
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return 0;
}

int cmd_stop(const std::vector<std::string>& args, const std::optional<std::string>& repo) {
  po::options_description desc("sealhost stop: stop the daemon");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] stop", desc, vm)) return 0;
  call(repo, "Filecoin.Shutdown");
  // Wait until the daemon removed its api file (it is done serving) so scripts can rely on it.
  if (!std::getenv("MINER_API_INFO") || repo) {
    node::Repo r(node::Repo::resolve(repo));
    for (int i = 0; i < 200 && std::filesystem::exists(r.api_file()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  std::cout << "sealhost daemon stopped\n";
  return 0;
}

int cmd_info(const std::vector<std::string>& args, const std::optional<std::string>& repo) {
  po::options_description desc("sealhost info: daemon summary");
  bool json = false;
  desc.add_options()("json", po::bool_switch(&json), "print JSON");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] info [--json]", desc, vm)) return 0;
  auto version = call(repo, "Filecoin.Version");
  auto plugins = call(repo, "Filecoin.PluginsList");
  auto storage = call(repo, "Filecoin.StorageList");
  if (json) {
    std::cout
        << nlohmann::json{{"version", version}, {"plugins", plugins}, {"storage", storage}}.dump(2)
        << "\n";
    return 0;
  }
  uint64_t cap = 0, avail = 0;
  for (const auto& p : storage) {
    cap += p["Capacity"].get<uint64_t>();
    avail += p["Available"].get<uint64_t>();
  }
  size_t components = 0;
  for (const auto& p : plugins) components += p["Components"].size();
  std::cout << "Daemon:   " << version["Version"].get<std::string>() << " (API "
            << (version["APIVersion"].get<uint32_t>() >> 16) << "."
            << ((version["APIVersion"].get<uint32_t>() >> 8) & 0xff) << ")\n"
            << "API:      " << api_info(repo).address() << "\n"
            << "Plugins:  " << plugins.size() << " loaded, " << components << " component(s)\n"
            << "Storage:  " << storage.size() << " path(s), "
            << sdk::units::format_size_human(avail) << " available of "
            << sdk::units::format_size_human(cap) << "\n"
            << "Sectors:  none (no sealing pipeline in the daemon yet; `sealhost bench seal`\n"
               "          seals and proves one sector with the stage plugins)\n";
  return 0;
}

int cmd_version(const std::vector<std::string>&, const std::optional<std::string>&) {
  std::cout << "sealhost " << SEALHOST_VERSION << " (plugin ABI " << SEALHOST_ABI_MAJOR << "."
            << SEALHOST_ABI_MINOR << ")\n";
  return 0;
}

// ------------------------------------------------------------------ auth

int cmd_auth_create_token(const std::vector<std::string>& args,
                          const std::optional<std::string>& repo) {
  po::options_description desc("sealhost auth create-token: make an API token");
  std::string perm;
  desc.add_options()("perm", po::value(&perm)->required(), "read, write, sign or admin");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] auth create-token --perm P", desc, vm)) return 0;
  auto p = rpc::parse_perm(perm);
  if (!p) throw std::runtime_error("--perm " + perm + ": use read, write, sign or admin");
  auto token =
      call(repo, "Filecoin.AuthNew", nlohmann::json::array({rpc::PermSet::up_to(*p).names()}));
  std::cout << base64_decode_std(token.get<std::string>()) << "\n";
  return 0;
}

int cmd_auth_api_info(const std::vector<std::string>& args,
                      const std::optional<std::string>& repo) {
  po::options_description desc("sealhost auth api-info: print MINER_API_INFO for a new token");
  std::string perm;
  desc.add_options()("perm", po::value(&perm)->required(), "read, write, sign or admin");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] auth api-info --perm P", desc, vm)) return 0;
  auto p = rpc::parse_perm(perm);
  if (!p) throw std::runtime_error("--perm " + perm + ": use read, write, sign or admin");
  auto token =
      call(repo, "Filecoin.AuthNew", nlohmann::json::array({rpc::PermSet::up_to(*p).names()}));
  node::Repo r(node::Repo::resolve(repo));
  std::cout << "MINER_API_INFO=" << base64_decode_std(token.get<std::string>()) << ":"
            << read_file_trimmed(r.api_file()) << "\n";
  return 0;
}

// ------------------------------------------------------------------ plugins / config

int cmd_plugins_list(const std::vector<std::string>& args, const std::optional<std::string>& repo) {
  po::options_description desc("sealhost plugins list: plugins loaded by the daemon");
  bool json = false;
  desc.add_options()("json", po::bool_switch(&json), "print JSON");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] plugins list [--json]", desc, vm)) return 0;
  auto plugins = call(repo, "Filecoin.PluginsList");
  if (json) {
    std::cout << plugins.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"COMPONENT", "KIND", "PLUGIN", "VERSION", "MATURITY", "FROM"}};
  for (const auto& p : plugins) {
    for (const auto& c : p["Components"]) {
      rows.push_back({c["ID"], c["Kind"], p["ID"], p["Version"], p["Maturity"],
                      p["Static"].get<bool>() ? "static" : p["Path"].get<std::string>()});
    }
  }
  print_table(rows);
  return 0;
}

// Loads the plugins a config file names and resolves it; prints every problem.
int check_config(const std::filesystem::path& file, bool quiet) {
  std::vector<host::Diagnostic> diags;
  auto cf = host::ConfigFile::load(file, diags);
  std::vector<std::string> errors;
  if (cf) {
    auto registry = node::load_plugins(cf->host_part(), errors);
    (void)cf->resolve(*registry, diags);
  }
  for (const auto& d : diags) errors.push_back(d.to_string());
  for (const auto& e : errors) std::cerr << e << "\n";
  if (!errors.empty()) {
    std::cerr << file.string() << ": " << errors.size() << " error(s)\n";
    return 1;
  }
  if (!quiet) std::cout << file.string() << ": ok\n";
  return 0;
}

int cmd_config(const std::vector<std::string>& args, const std::optional<std::string>& repo) {
  po::options_description desc("sealhost config default | check [FILE] | schema [--json]");
  bool json = false;
  std::vector<std::string> words;
  desc.add_options()("json", po::bool_switch(&json), "schema as JSON")("words", po::value(&words),
                                                                       "subcommand and file");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  if (!parse(args, "config default | check [FILE] | schema [--json]", desc, vm, &pos)) return 0;
  if (words.empty())
    throw std::runtime_error("config: give a subcommand: default, check or schema");
  if (words[0] == "default") {
    std::cout << host::default_config_text();
    return 0;
  }
  if (words[0] == "check") {
    std::filesystem::path file = words.size() > 1
                                     ? std::filesystem::path(words[1])
                                     : node::Repo(node::Repo::resolve(repo)).config_file();
    return check_config(file, false);
  }
  if (words[0] == "schema") {
    host::Config host_part;
    node::Repo r(node::Repo::resolve(repo));
    std::vector<host::Diagnostic> diags;
    std::unique_ptr<host::ConfigFile> cf;
    if (r.initialized()) cf = host::ConfigFile::load(r.config_file(), diags);
    if (cf)
      host_part = cf->host_part();
    else
      host_part.plugin_search_path = {host::default_plugin_dir()};
    std::vector<std::string> errors;
    auto registry = node::load_plugins(host_part, errors);
    for (const auto& e : errors) std::cerr << "warning: " << e << "\n";
    std::cout << (json ? host::schema_json(*registry) + "\n" : host::schema_text(*registry));
    return 0;
  }
  throw std::runtime_error("config " + words[0] + ": unknown subcommand (default, check, schema)");
}

// ------------------------------------------------------------------ storage

int cmd_storage_attach(const std::vector<std::string>& args,
                       const std::optional<std::string>& repo) {
  po::options_description desc("sealhost storage attach: add a storage path");
  bool init = false, seal = false, store = false;
  uint64_t weight = 10;
  std::string max_storage = "0", path;
  desc.add_options()("init", po::bool_switch(&init), "create the path's sectorstore.json")(
      "seal", po::bool_switch(&seal), "use the path for sealing (with --init)")(
      "store", po::bool_switch(&store), "use the path for long-term storage (with --init)")(
      "weight", po::value(&weight), "preference among paths (with --init), default 10")(
      "max-storage", po::value(&max_storage),
      "cap on bytes used, e.g. 2TiB (with --init); 0 = none")("path", po::value(&path)->required(),
                                                              "the directory");
  po::positional_options_description pos;
  pos.add("path", 1);
  po::variables_map vm;
  if (!parse(
          args,
          "[--repo DIR] storage attach [--init --seal --store --weight N --max-storage SIZE] PATH",
          desc, vm, &pos)) {
    return 0;
  }
  auto max = sdk::units::parse_size(max_storage);
  if (!max)
    throw std::runtime_error("--max-storage " + max_storage + ": expected a size such as 2TiB");
  if (init && !seal && !store) {
    throw std::runtime_error("storage attach --init: give --seal, --store or both");
  }
  auto info = call(repo, "Filecoin.StorageAttach",
                   nlohmann::json::array({{{"Path", std::filesystem::absolute(path).string()},
                                           {"Init", init},
                                           {"CanSeal", seal},
                                           {"CanStore", store},
                                           {"Weight", weight},
                                           {"MaxStorage", *max}}}));
  std::cout << "attached " << info["Path"].get<std::string>() << " as "
            << info["ID"].get<std::string>() << "\n";
  return 0;
}

int cmd_storage_list(const std::vector<std::string>& args, const std::optional<std::string>& repo) {
  po::options_description desc("sealhost storage list: storage paths and their space");
  bool json = false;
  desc.add_options()("json", po::bool_switch(&json), "print JSON");
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] storage list [--json]", desc, vm)) return 0;
  auto paths = call(repo, "Filecoin.StorageList");
  if (json) {
    std::cout << paths.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "PATH", "USE", "WEIGHT", "USED", "AVAILABLE", "CAPACITY"}};
  for (const auto& p : paths) {
    std::string use = std::string(p["CanSeal"].get<bool>() ? "seal" : "") +
                      (p["CanSeal"].get<bool>() && p["CanStore"].get<bool>() ? "+" : "") +
                      (p["CanStore"].get<bool>() ? "store" : "");
    rows.push_back(
        {p["ID"], p["Path"], use.empty() ? "-" : use, std::to_string(p["Weight"].get<uint64_t>()),
         sdk::units::format_size_human(p["Used"]), sdk::units::format_size_human(p["Available"]),
         sdk::units::format_size_human(p["Capacity"])});
  }
  print_table(rows);
  return 0;
}

int cmd_storage_detach(const std::vector<std::string>& args,
                       const std::optional<std::string>& repo) {
  po::options_description desc(
      "sealhost storage detach: remove a storage path (files stay on disk)");
  std::string target;
  desc.add_options()("path", po::value(&target)->required(), "path id or directory");
  po::positional_options_description pos;
  pos.add("path", 1);
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] storage detach ID|PATH", desc, vm, &pos)) return 0;
  if (std::filesystem::exists(target))
    target = std::filesystem::absolute(target).lexically_normal().string();
  call(repo, "Filecoin.StorageDetach", nlohmann::json::array({target}));
  std::cout << "detached " << target << "\n";
  return 0;
}

int cmd_storage_stat(const std::vector<std::string>& args, const std::optional<std::string>& repo) {
  po::options_description desc("sealhost storage stat: one storage path");
  std::string id;
  desc.add_options()("id", po::value(&id)->required(), "path id");
  po::positional_options_description pos;
  pos.add("id", 1);
  po::variables_map vm;
  if (!parse(args, "[--repo DIR] storage stat ID", desc, vm, &pos)) return 0;
  std::cout << call(repo, "Filecoin.StorageStat", nlohmann::json::array({id})).dump(2) << "\n";
  return 0;
}

const std::map<std::string, CommandInfo>& commands() {
  static const std::map<std::string, CommandInfo> kCommands = {
      {"init", {"create a repo (config, keys, default storage path)", cmd_init}},
      {"run", {"start the daemon", cmd_run}},
      {"stop", {"stop the daemon", cmd_stop}},
      {"info", {"daemon summary", cmd_info}},
      {"version", {"print the version", cmd_version}},
      {"auth create-token", {"make an API token with a permission", cmd_auth_create_token}},
      {"auth api-info", {"print MINER_API_INFO with a new token", cmd_auth_api_info}},
      {"plugins list", {"list loaded plugins and their components", cmd_plugins_list}},
      {"config", {"default | check [FILE] | schema [--json]", cmd_config}},
      {"storage attach", {"attach a storage path", cmd_storage_attach}},
      {"storage list", {"list storage paths", cmd_storage_list}},
      {"storage detach", {"detach a storage path", cmd_storage_detach}},
      {"storage stat", {"show one storage path", cmd_storage_stat}},
      {"commp", {"piece CID of a file (no daemon needed)", cmd_commp}},
      {"debug poseidon", {"Poseidon hash of field elements", cmd_debug_poseidon}},
      {"debug parent-cache", {"SDR parent cache path and digest", cmd_debug_parent_cache}},
      {"debug labels", {"SDR label of a node of a small graph", cmd_debug_labels}},
      {"bench seal", {"seal and prove one sector end to end, with stage times", cmd_bench_seal}},
      {"bench prove",
       {"C2 of a saved commit2 input (bench seal --save-commit2-input)", cmd_bench_prove}},
  };
  return kCommands;
}

void usage(std::ostream& out) {
  out << "usage: sealhost [--repo DIR] <command> [options]\n\n"
         "Filecoin storage provider: seals sectors, keeps them proven, serves the API.\n"
         "The repo defaults to $SEALHOST_REPO or ~/.sealhost.\n\ncommands:\n";
  for (const auto& [name, info] : commands()) {
    out << "  " << name << std::string(name.size() < 20 ? 20 - name.size() : 1, ' ') << info.summary
        << "\n";
  }
  out << "\n`sealhost <command> --help` describes a command.\n";
}

}  // namespace

int dispatch(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<std::string> repo;
  // Global --repo may come anywhere; pull it out first.
  for (size_t i = 0; i < args.size();) {
    if (args[i] == "--repo" && i + 1 < args.size()) {
      repo = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
    } else if (args[i].rfind("--repo=", 0) == 0) {
      repo = args[i].substr(7);
      args.erase(args.begin() + static_cast<long>(i));
    } else {
      ++i;
    }
  }
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(std::cout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") return cmd_version({}, repo);
  const auto& cmds = commands();
  // Two-word commands first ("storage attach"), then one-word ones.
  if (args.size() >= 2) {
    auto it = cmds.find(args[0] + " " + args[1]);
    if (it != cmds.end()) return it->second.run({args.begin() + 2, args.end()}, repo);
  }
  auto it = cmds.find(args[0]);
  if (it != cmds.end()) return it->second.run({args.begin() + 1, args.end()}, repo);
  bool is_group = false;
  for (const auto& [name, info] : cmds) {
    if (name.rfind(args[0] + " ", 0) == 0) {
      if (!is_group) std::cerr << "sealhost " << args[0] << " subcommands:\n";
      is_group = true;
      std::cerr << "  " << name << "  " << info.summary << "\n";
    }
  }
  if (is_group) {
    bool help = args.size() >= 2 && (args[1] == "--help" || args[1] == "-h");
    return help ? 0 : 2;
  }
  std::cerr << "sealhost: unknown command '" << args[0] << "'\n\n";
  usage(std::cerr);
  return 2;
}

}  // namespace sealhost::cli
