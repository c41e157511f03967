// The JSON-RPC method registry: names (`Filecoin.<Name>`, as Lotus), required permission,
// handler, and whether the handler may block.
//
// Handlers:
//   nlohmann::json handler(const nlohmann::json& params, const CallContext& ctx);
// `params` is what the caller sent (Lotus clients send a positional array; absent params arrive
// as an empty array). Return the result (nullptr for "no result"). Throw RpcError for an
// application error with a chosen code; any other exception becomes -32603 (internal error)
// carrying its what() — the server never crashes on a handler exception. Use `Params` to read
// positional parameters: it throws RpcError(-32602) with a message naming the method, position
// and expected type.
//
// Threading: populate the registry before handing it to RpcServer; afterwards it is read
// concurrently and must not change. Inline handlers run on a network thread and must be quick
// (no disk or network waits, no sealing): register anything slower with Execution::kBlocking so
// it runs on the server's worker pool. Handlers may run concurrently with each other.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "host/rpc/jwt.hpp"

namespace sealhost::rpc {

// JSON-RPC 2.0 error codes (the spec's, then ours in the implementation-defined range).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kUnauthorized = -32001;      // body of an HTTP 401
inline constexpr int kPermissionDenied = -32003;  // body of an HTTP 403 / WS error; data.required
inline constexpr int kRequestTooLarge = -32004;   // body of an HTTP 413
inline constexpr int kServerStopping = -32005;    // server shutting down

// An application error a handler throws; reaches the caller as {"code","message","data"}.
class RpcError : public std::runtime_error {
 public:
  RpcError(int code, const std::string& message, nlohmann::json data = nullptr)
      : std::runtime_error(message), code_(code), data_(std::move(data)) {}
  int code() const { return code_; }
  // nullptr when there is none (then "data" is left out of the response).
  const nlohmann::json& data() const { return data_; }

 private:
  int code_;
  nlohmann::json data_;
};

enum class Transport { kHttp, kWebSocket, kInProcess };

// What a handler knows about its call. Valid for the duration of the call only.
struct CallContext {
  PermSet perms;            // what the caller's token grants (the method's perm is among them)
  std::string_view method;  // e.g. "Filecoin.Version"
  std::string_view remote;  // "ip:port" of the peer ("" in-process)
  Transport transport = Transport::kInProcess;
  const std::atomic<bool>* stopping = nullptr;  // set while the server stops

  bool has(Perm p) const { return perms.has(p); }
  // Long (blocking) handlers should poll this and give up early so stop() is not held up.
  bool stop_requested() const { return stopping != nullptr && stopping->load(); }
};

// Reads positional parameters with type checks; errors are RpcError(kInvalidParams).
//   Params p(params, ctx.method);
//   p.expect_count(1, 2);
//   auto id = p.get<std::uint64_t>(0, "sector");
//   auto force = p.get_or<bool>(1, "force", false);
class Params {
 public:
  // Throws RpcError(kInvalidParams) unless `params` is an array (null counts as empty).
  Params(const nlohmann::json& params, std::string_view method);

  std::size_t size() const { return params_->size(); }
  // Throws when the count is outside [min, max].
  void expect_count(std::size_t min, std::size_t max) const;
  void expect_count(std::size_t exact) const { expect_count(exact, exact); }

  // Parameter `index` as T; bool, integers (range-checked), floating point, std::string and
  // nlohmann::json are checked precisely; other types go through nlohmann's from_json and any
  // failure is reported as an invalid parameter.
  template <typename T>
  T get(std::size_t index, std::string_view name) const {
    if (index >= size()) {
      throw fail(index, name,
                 "missing (expected " + std::to_string(index + 1) + "+ params, got " +
                     std::to_string(size()) + ")");
    }
    return convert<T>((*params_)[index], index, name);
  }

  // Like get, but `fallback` when the parameter is absent or null.
  template <typename T>
  T get_or(std::size_t index, std::string_view name, T fallback) const {
    if (index >= size() || (*params_)[index].is_null()) return fallback;
    return convert<T>((*params_)[index], index, name);
  }

 private:
  RpcError fail(std::size_t index, std::string_view name, const std::string& why) const;

  template <typename T>
  T convert(const nlohmann::json& v, std::size_t index, std::string_view name) const {
    if constexpr (std::is_same_v<T, nlohmann::json>) {
      return v;
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) throw fail(index, name, "expected boolean, got " + type_of(v));
      return v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
          throw fail(index, name, "integer " + std::to_string(u) + " out of range");
        }
        return static_cast<T>(u);
      }
      if (v.is_number_integer()) {
        const auto s = v.get<std::int64_t>();
        if constexpr (std::is_unsigned_v<T>) {
          throw fail(index, name, "expected non-negative integer, got " + std::to_string(s));
        } else {
          if (s < std::numeric_limits<T>::min() || s > std::numeric_limits<T>::max()) {
            throw fail(index, name, "integer " + std::to_string(s) + " out of range");
          }
          return static_cast<T>(s);
        }
      }
      throw fail(index, name, "expected integer, got " + type_of(v));
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) throw fail(index, name, "expected number, got " + type_of(v));
      return v.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) throw fail(index, name, "expected string, got " + type_of(v));
      return v.get<std::string>();
    } else {
      try {
        return v.get<T>();
      } catch (const nlohmann::json::exception& e) {
        throw fail(index, name, e.what());
      }
    }
  }

  static std::string type_of(const nlohmann::json& v);

  const nlohmann::json* params_;
  std::string_view method_;
};

enum class Execution {
  kInline,    // runs on the network thread that read the request: must be quick
  kBlocking,  // runs on the worker pool; the response is posted back to the connection
};

using Handler = std::function<nlohmann::json(const nlohmann::json& params, const CallContext&)>;

struct Method {
  std::string name;
  Perm required = Perm::kAdmin;
  Handler handler;
  Execution execution = Execution::kInline;
};

class RpcRegistry {
 public:
  // Registers a method. Throws std::logic_error on an empty or duplicate name or empty handler
  // (programmer bugs, found at start-up).
  void add(std::string name, Perm required, Handler handler,
           Execution execution = Execution::kInline);

  // nullptr when unknown. The pointer stays valid while the registry lives and is not changed.
  const Method* find(std::string_view name) const;
  // Sorted method names.
  std::vector<std::string> names() const;
  std::size_t size() const { return methods_.size(); }

 private:
  std::map<std::string, Method, std::less<>> methods_;
};

}  // namespace sealhost::rpc
