// A blocking JSON-RPC client for the CLI (and workers) talking to a sealhost daemon.
//
//   auto info = ApiInfo::parse(std::getenv("MINER_API_INFO"));  // "token:/ip4/../tcp/1234/http"
//   RpcClient client(info);
//   nlohmann::json v = client.call("Filecoin.Version");
//
// Errors are thrown as RpcCallError with an operator-facing message:
//   daemon not running   "cannot reach sealhost daemon at 127.0.0.1:1234: is `sealhost run`
//                         running? (connection refused)"
//   401                  "authentication failed: ..."
//   403                  "permission denied: the token lacks 'admin' (create one with
//                         `sealhost auth create-token --perm admin`)"
//   JSON-RPC error       the server's message, with code() = the JSON-RPC code
//
// Threading: an RpcClient is not thread-safe (one call at a time); use one per thread. It keeps
// one keep-alive HTTP connection and reconnects transparently when the server closed it.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sealhost::rpc {

// Where a daemon's API is and the token to use, as in Lotus's API info strings.
struct ApiInfo {
  std::string token;  // may be empty
  std::string host;   // IP literal or DNS name, without brackets
  std::uint16_t port = 0;
  std::string path = "/rpc/v0";

  // Accepts:
  //   "<token>:/ip4/127.0.0.1/tcp/1234/http"   (Lotus MINER_API_INFO form; /ip6, /dns, /dns4,
  //                                             /dns6 too; trailing /http or /ws optional)
  //   "/ip4/127.0.0.1/tcp/1234/http"           (the repo's `api` file; token given separately)
  //   "<token>:http://host:1234" or "http://host:1234[/rpc/v0]" (also ws://)
  // Throws std::invalid_argument naming the text and the expected forms. TLS (https, wss,
  // /tls) is refused with a clear message: the daemon does not serve it.
  static ApiInfo parse(std::string_view text);

  // "127.0.0.1:1234" / "[::1]:1234", for messages.
  std::string address() const;
};

// A failed call. code() is the JSON-RPC error code (0 for transport problems), http_status() the
// HTTP status (0 when no response arrived).
class RpcCallError : public std::runtime_error {
 public:
  RpcCallError(const std::string& message, int code, int http_status, nlohmann::json data = nullptr)
      : std::runtime_error(message),
        code_(code),
        http_status_(http_status),
        data_(std::move(data)) {}
  int code() const { return code_; }
  int http_status() const { return http_status_; }
  const nlohmann::json& data() const { return data_; }

 private:
  int code_;
  int http_status_;
  nlohmann::json data_;
};

struct RpcClientOptions {
  std::uint32_t connect_timeout_ms = 5'000;
  // Per call (send + wait + receive). Calls are short; long work is started, then polled.
  std::uint32_t call_timeout_ms = 120'000;
};

class RpcClient {
 public:
  explicit RpcClient(ApiInfo info, RpcClientOptions options = {});
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Calls `method` with positional `params` and returns its "result". Throws RpcCallError.
  nlohmann::json call(std::string_view method, nlohmann::json params = nlohmann::json::array());

  const ApiInfo& info() const { return info_; }

 private:
  struct Conn;
  ApiInfo info_;
  RpcClientOptions options_;
  std::unique_ptr<Conn> conn_;
  std::uint64_t next_id_ = 1;
};

}  // namespace sealhost::rpc
