// The daemon's JSON-RPC server: HTTP/1.1 and WebSocket on one path (default /rpc/v0), as Lotus.
//
//   POST /rpc/v0        JSON-RPC 2.0 body (single, batch, notifications); keep-alive.
//   GET  /rpc/v0        WebSocket upgrade; each text frame is a request, responses in order.
//   GET  /healthz       200 "ok", no auth (readiness checks).
//
// Auth: `Authorization: Bearer <jwt>` (WebSocket upgrades may instead pass `?token=<jwt>`, as
// Lotus allows). Every RPC call needs a valid token (there is no anonymous access):
//   no/invalid token                     -> HTTP 401 (+ JSON-RPC error kUnauthorized)
//   single request, method needs more    -> HTTP 403 (+ JSON-RPC error kPermissionDenied,
//                                           data {"required":"<perm>"})
//   in a batch or over WebSocket         -> that call's JSON-RPC error kPermissionDenied
//   body larger than max_body_bytes      -> HTTP 413 (+ kRequestTooLarge), connection closed
// JSON-RPC level errors (parse, invalid request, unknown method, bad params, handler errors) are
// HTTP 200 with the error in the body; a request of only notifications gets 204.
//
// Threading: `io_threads` threads run the network (each connection on its own strand). Handlers
// registered Execution::kBlocking run on a pool of `blocking_threads` and their response is
// posted back to the connection. One WebSocket connection handles one frame at a time (so
// responses keep request order); HTTP pipelining is likewise sequential per connection.
//
// Lifetime: the registry must outlive the server. start() once; stop() (or the destructor)
// closes the listener, lets requests in progress finish (up to stop_grace_ms), closes idle
// connections, then joins all threads. stop() must not be called from a handler (it would join
// its own thread): a Shutdown method should signal the main thread, which calls stop().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "host/rpc/jwt.hpp"
#include "host/rpc/registry.hpp"

namespace sealhost::rpc {

struct RpcServerOptions {
  std::string host = "127.0.0.1";  // IP literal or name; "0.0.0.0" / "::" for all interfaces
  std::uint16_t port = 1234;       // 0 picks a free port (see RpcServer::port())
  std::string path = "/rpc/v0";
  int io_threads = 2;
  int blocking_threads = 4;
  std::size_t max_body_bytes = std::size_t{16} << 20;  // also the WebSocket message limit
  // Whole-request deadline (headers + body) on HTTP; also how long an idle keep-alive
  // connection is kept. Cuts off slow (slowloris) clients.
  std::uint32_t read_timeout_ms = 30'000;
  std::uint32_t write_timeout_ms = 30'000;
  // A WebSocket with no traffic for this long is pinged, and closed if the ping goes unanswered.
  std::uint32_t ws_idle_timeout_ms = 300'000;
  std::uint32_t stop_grace_ms = 5'000;
  // Named in the "address in use" message so the operator knows what to change.
  std::string config_key = "[api] listen_address";
};

class RpcServer {
 public:
  // Copies `secret`; `registry` is borrowed and must outlive the server and not change.
  RpcServer(const RpcRegistry& registry, JwtSecret secret, RpcServerOptions options = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Binds, listens and starts the threads; returns once the server accepts connections.
  // Throws std::runtime_error with an operator-facing message, e.g.
  //   "api listen 127.0.0.1:1234: address already in use (stop the other process or set
  //    [api] listen_address)"
  void start();

  // Idempotent; see the class comment. Thread-safe, but not from a handler.
  void stop();

  // The bound port (the real one when options.port was 0). Valid after start().
  std::uint16_t port() const;
  // "host:port" as bound, e.g. "127.0.0.1:40123".
  std::string listen_address() const;
  // Lotus-style multiaddr of the endpoint, e.g. "/ip4/127.0.0.1/tcp/40123/http".
  std::string multiaddr() const;
  // Open connections (HTTP + WebSocket), for tests and metrics.
  std::size_t connection_count() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sealhost::rpc
