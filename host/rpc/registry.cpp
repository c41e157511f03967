#include "host/rpc/registry.hpp"

#include <mutex>

#include "host/rpc/log.hpp"

namespace sealhost::rpc {

namespace detail {

std::shared_ptr<spdlog::logger> logger() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::logger> log;
  std::call_once(once, [] {
    log = spdlog::get("rpc");
    if (!log) {
      // Share the default logger's sinks so the daemon's log setup applies to us too.
      log = spdlog::default_logger()->clone("rpc");
      spdlog::register_logger(log);
    }
  });
  return log;
}

}  // namespace detail

Params::Params(const nlohmann::json& params, std::string_view method)
    : params_(&params), method_(method) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (params.is_null()) {
    params_ = &kEmpty;
    return;
  }
  if (!params.is_array()) {
    throw RpcError(
        kInvalidParams,
        std::string(method_) + ": params must be a positional array, got " + type_of(params));
  }
}

void Params::expect_count(std::size_t min, std::size_t max) const {
  if (size() >= min && size() <= max) return;
  std::string want =
      min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
  throw RpcError(kInvalidParams, std::string(method_) + ": expected " + want + " params, got " +
                                     std::to_string(size()));
}

RpcError Params::fail(std::size_t index, std::string_view name, const std::string& why) const {
  return RpcError(kInvalidParams, std::string(method_) + ": param " + std::to_string(index) + " (" +
                                      std::string(name) + "): " + why);
}

std::string Params::type_of(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  return v.type_name();
}

void RpcRegistry::add(std::string name, Perm required, Handler handler, Execution execution) {
  if (name.empty()) throw std::logic_error("rpc registry: method name is empty");
  if (!handler) throw std::logic_error("rpc registry: method " + name + " has no handler");
  if (methods_.contains(name)) {
    throw std::logic_error("rpc registry: method " + name + " registered twice");
  }
  Method m{name, required, std::move(handler), execution};
  methods_.emplace(std::move(name), std::move(m));
}

const Method* RpcRegistry::find(std::string_view name) const {
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : &it->second;
}

std::vector<std::string> RpcRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(methods_.size());
  for (const auto& [name, m] : methods_) out.push_back(name);
  return out;
}

}  // namespace sealhost::rpc
