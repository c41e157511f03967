// JSON-RPC 2.0 request processing, independent of the transport: parse a body, validate each
// request, check permissions, run the handlers, and build the response text. RpcServer uses it
// for HTTP and WebSocket; tests and in-process callers can use it directly.
//
// Two steps so the transport can decide where to run handlers:
//   auto batch = dispatcher.prepare(body, perms);   // cheap: parse + validate + perm check
//   if (batch.needs_worker) ... run execute() on a worker thread ... else run it inline
//   std::string out = dispatcher.execute(batch, ctx); // "" when nothing is to be sent
//
// Threading: a dispatcher is immutable after construction and may be used from any thread;
// a PreparedBatch belongs to one caller.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "host/rpc/registry.hpp"

namespace sealhost::rpc {

struct PreparedCall {
  nlohmann::json id;               // echoed back; null when absent/invalid
  bool notification = false;       // no "id": run it, send nothing back
  const Method* method = nullptr;  // null when `error` is already decided
  nlohmann::json params;
  nlohmann::json error;  // {"code","message"[,"data"]} when the call fails before running
};

struct PreparedBatch {
  bool batch = false;  // the body was a JSON array
  std::vector<PreparedCall> calls;
  // True when a single (non-batch) request was refused for lack of permission: the HTTP
  // transport answers 403 (the response body is still the JSON-RPC error).
  bool forbidden = false;
  // True when some call must run on the worker pool (Execution::kBlocking).
  bool needs_worker = false;
  // The response when the whole body failed (parse error, empty batch): execute() returns it.
  std::string early_response;
};

class JsonRpcDispatcher {
 public:
  // `registry` must outlive the dispatcher.
  explicit JsonRpcDispatcher(const RpcRegistry& registry) : registry_(registry) {}

  PreparedBatch prepare(std::string_view body, PermSet perms) const;

  // Runs the prepared calls in order and returns the serialized response: an object for a
  // single request, an array for a batch, or "" when only notifications were sent. `base`
  // supplies perms/remote/transport; its `method` is set per call.
  std::string execute(PreparedBatch& batch, const CallContext& base) const;

  // Convenience: prepare + execute on the calling thread.
  std::string handle(std::string_view body, const CallContext& base) const;

  // {"jsonrpc":"2.0","id":id,"error":{...}} serialized; for transport-level errors.
  static std::string error_response(const nlohmann::json& id, int code, const std::string& message,
                                    const nlohmann::json& data = nullptr);

 private:
  PreparedCall prepare_one(nlohmann::json& request, PermSet perms) const;
  nlohmann::json run(PreparedCall& call, const CallContext& base) const;

  const RpcRegistry& registry_;
};

}  // namespace sealhost::rpc
