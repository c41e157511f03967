// The sealhost daemon (`sealhost run`): loads the config and plugins, opens the metadata store,
// creates the configured components, attaches storage paths and serves the JSON-RPC API.
//
// Lifecycle: start() does everything that can fail at start-up and throws std::runtime_error with
// an operator-facing message (all config errors at once); wait() blocks until Shutdown is called
// over RPC or request_stop() (e.g. from a signal); stop() tears down in reverse order.
#pragma once

#include "host/config/config.hpp"
#include "host/node/repo.hpp"
#include "host/plugin/component.hpp"
#include "host/plugin/registry.hpp"
#include "host/rpc/registry.hpp"
#include "host/rpc/server.hpp"
#include "host/store/env.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace sealhost::node {

struct DaemonOptions {
  std::optional<std::string> listen_override;  // "host:port", e.g. "127.0.0.1:0" in tests
};

// Loads the plugins named by the config's search path (and the static table). Config errors and
// load failures are appended to `errors`.
std::unique_ptr<host::PluginRegistry> load_plugins(const host::Config& host_part,
                                                   std::vector<std::string>& errors);

class Daemon {
 public:
  Daemon(Repo repo, DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  void start();
  void wait();
  void request_stop();
  void stop();

  std::string multiaddr() const;

 private:
  void register_methods();
  void attach_known_paths();
  nlohmann::json plugins_json() const;
  nlohmann::json path_json(const sdk::PathInfo& p) const;

  Repo repo_;
  DaemonOptions options_;
  std::unique_ptr<RepoLock> lock_;
  host::Config config_;
  std::unique_ptr<host::PluginRegistry> registry_;
  std::unique_ptr<store::Env> store_;
  std::unique_ptr<host::StorageClient> storage_;
  rpc::RpcRegistry methods_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  bool started_ = false;
};

}  // namespace sealhost::node
