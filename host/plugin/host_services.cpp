#include "host/plugin/host_services.hpp"

#include "host/plugin/directory.hpp"

#include <spdlog/spdlog.h>
#include <sealhost/sdk/error.hpp>

#include <mutex>
#include <string>

#ifndef SEALHOST_VERSION
#define SEALHOST_VERSION "0.0.0"
#endif

namespace sealhost::host {
namespace {

std::shared_ptr<spdlog::logger> plugin_logger(std::string_view name) {
  std::string full = "plugin." + std::string(name.empty() ? "unknown" : name);
  if (auto l = spdlog::get(full)) return l;
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto l = spdlog::get(full)) return l;
  auto def = spdlog::default_logger();
  auto l = std::make_shared<spdlog::logger>(full, def->sinks().begin(), def->sinks().end());
  l->set_level(def->level());
  spdlog::register_logger(l);
  return l;
}

spdlog::level::level_enum to_spd(int32_t level) {
  switch (level) {
    case SEALHOST_LOG_TRACE:
      return spdlog::level::trace;
    case SEALHOST_LOG_DEBUG:
      return spdlog::level::debug;
    case SEALHOST_LOG_INFO:
      return spdlog::level::info;
    case SEALHOST_LOG_WARN:
      return spdlog::level::warn;
    default:
      return spdlog::level::err;
  }
}

}  // namespace

const sealhost_host_services* host_services() {
  static const sealhost_host_services kServices = [] {
    sealhost_host_services s{};
    s.struct_size = sizeof s;
    s.abi_major = SEALHOST_ABI_MAJOR;
    s.abi_minor = SEALHOST_ABI_MINOR;
    s.ctx = nullptr;
    s.log = [](void*, sealhost_str logger, int32_t level, sealhost_str msg) {
      try {
        plugin_logger(sdk::to_view(logger))->log(to_spd(level), "{}", sdk::to_view(msg));
      } catch (...) {
        // Logging must never take the process down.
      }
    };
    s.log_enabled = [](void*, sealhost_str logger, int32_t level) -> int32_t {
      try {
        return plugin_logger(sdk::to_view(logger))->should_log(to_spd(level)) ? 1 : 0;
      } catch (...) {
        return 0;
      }
    };
    s.host_version = SEALHOST_VERSION;
    s.get_component = [](void*, int32_t kind, sealhost_str id, void** instance, const void** vtable,
                         sealhost_error_sink* err) -> sealhost_status {
      if (!instance || !vtable) {
        sdk::report(err, SEALHOST_E_INVALID_ARGUMENT, "get_component: null out-pointer");
        return SEALHOST_E_INVALID_ARGUMENT;
      }
      try {
        auto inst = ComponentDirectory::global().get(kind, sdk::to_view(id));
        *instance = inst->handle();
        *vtable = inst->desc().vtable;
        return SEALHOST_OK;
      } catch (const PluginError& e) {
        sdk::report(err, e.code(), e.what());
        return e.code();
      } catch (const std::exception& e) {
        sdk::report(err, SEALHOST_E_INTERNAL, e.what());
        return SEALHOST_E_INTERNAL;
      }
    };
    return s;
  }();
  return &kServices;
}

}  // namespace sealhost::host
