#include "host/rpc/dispatcher.hpp"

#include "host/rpc/log.hpp"

namespace sealhost::rpc {
namespace {

using nlohmann::json;

json make_error(int code, const std::string& message, const json& data = nullptr) {
  json e = {{"code", code}, {"message", message}};
  if (!data.is_null()) e["data"] = data;
  return e;
}

json wrap_error(const json& id, json error) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

// Handler messages may carry arbitrary bytes; replace invalid UTF-8 rather than fail to reply.
std::string serialize(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string JsonRpcDispatcher::error_response(const json& id, int code, const std::string& message,
                                              const json& data) {
  return serialize(wrap_error(id, make_error(code, message, data)));
}

PreparedBatch JsonRpcDispatcher::prepare(std::string_view body, PermSet perms) const {
  PreparedBatch out;
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    out.early_response =
        error_response(nullptr, kParseError, std::string("parse error: ") + e.what());
    return out;
  }
  if (doc.is_array()) {
    out.batch = true;
    if (doc.empty()) {
      out.early_response = error_response(nullptr, kInvalidRequest, "invalid request: empty batch");
      return out;
    }
    out.calls.reserve(doc.size());
    for (auto& request : doc) out.calls.push_back(prepare_one(request, perms));
  } else {
    out.calls.push_back(prepare_one(doc, perms));
    const auto& only = out.calls.front();
    out.forbidden =
        only.method == nullptr && only.error.is_object() && only.error["code"] == kPermissionDenied;
  }
  for (const auto& c : out.calls) {
    if (c.method != nullptr && c.method->execution == Execution::kBlocking) out.needs_worker = true;
  }
  return out;
}

PreparedCall JsonRpcDispatcher::prepare_one(json& request, PermSet perms) const {
  PreparedCall call;
  if (!request.is_object()) {
    call.error = make_error(kInvalidRequest, "invalid request: expected a JSON object, got " +
                                                 std::string(request.type_name()));
    return call;
  }
  const auto id = request.find("id");
  if (id != request.end()) {
    if (!id->is_string() && !id->is_number() && !id->is_null()) {
      call.error =
          make_error(kInvalidRequest, "invalid request: id must be a string, number or null");
      return call;
    }
    call.id = *id;
  }
  const auto version = request.find("jsonrpc");
  if (version == request.end() || *version != "2.0") {
    call.error = make_error(kInvalidRequest, "invalid request: \"jsonrpc\" must be \"2.0\"");
    return call;
  }
  const auto method = request.find("method");
  if (method == request.end() || !method->is_string()) {
    call.error = make_error(kInvalidRequest, "invalid request: \"method\" must be a string");
    return call;
  }
  auto params = request.find("params");
  if (params != request.end() && !params->is_array() && !params->is_object()) {
    call.error =
        make_error(kInvalidRequest, "invalid request: \"params\" must be an array or object");
    return call;
  }
  // Only a well-formed request without an id is a notification; malformed ones get an error.
  call.notification = id == request.end();
  const auto& name = method->get_ref<const std::string&>();
  const Method* m = registry_.find(name);
  if (m == nullptr) {
    call.error = make_error(kMethodNotFound, "method '" + name + "' not found");
    return call;
  }
  if (!perms.has(m->required)) {
    const std::string need(perm_name(m->required));
    call.error = make_error(kPermissionDenied,
                            "permission denied: " + name + " needs '" + need +
                                "' but the token allows " + perms.to_string(),
                            json{{"required", need}});
    return call;
  }
  call.method = m;
  call.params = params == request.end() ? json::array() : std::move(*params);
  return call;
}

json JsonRpcDispatcher::run(PreparedCall& call, const CallContext& base) const {
  CallContext ctx = base;
  ctx.method = call.method->name;
  try {
    json result = call.method->handler(call.params, ctx);
    return {{"jsonrpc", "2.0"}, {"id", call.id}, {"result", std::move(result)}};
  } catch (const RpcError& e) {
    return wrap_error(call.id, make_error(e.code(), e.what(), e.data()));
  } catch (const std::exception& e) {
    detail::logger()->warn("rpc {}: handler failed: {}", call.method->name, e.what());
    return wrap_error(call.id, make_error(kInternalError, e.what()));
  } catch (...) {
    detail::logger()->warn("rpc {}: handler threw a non-std exception", call.method->name);
    return wrap_error(
        call.id, make_error(kInternalError, call.method->name + ": handler failed with an unknown "
                                                                "exception"));
  }
}

std::string JsonRpcDispatcher::execute(PreparedBatch& batch, const CallContext& base) const {
  if (!batch.early_response.empty()) return batch.early_response;
  json out = json::array();
  for (auto& call : batch.calls) {
    json response = call.method != nullptr ? run(call, base) : wrap_error(call.id, call.error);
    if (!call.notification) out.push_back(std::move(response));
  }
  if (out.empty()) return {};
  return serialize(batch.batch ? out : out.front());
}

std::string JsonRpcDispatcher::handle(std::string_view body, const CallContext& base) const {
  auto batch = prepare(body, base.perms);
  return execute(batch, base);
}

}  // namespace sealhost::rpc
