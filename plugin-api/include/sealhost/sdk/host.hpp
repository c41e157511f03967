// sealhost plugin SDK: typed wrappers over the host services (logging) and job handles.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace sealhost::sdk {

// Logs through the host into spdlog logger "plugin.<name>". Cheap to copy; thread-safe.
class Logger {
 public:
  Logger() = default;
  Logger(const sealhost_host_services* host, std::string name)
      : host_(host), name_(std::move(name)) {}

  bool enabled(int32_t level) const {
    return host_ && host_->log_enabled && host_->log_enabled(host_->ctx, to_str(name_), level);
  }
  void log(int32_t level, std::string_view msg) const {
    if (host_ && host_->log) host_->log(host_->ctx, to_str(name_), level, to_str(msg));
  }
  void debug(std::string_view m) const { log(SEALHOST_LOG_DEBUG, m); }
  void info(std::string_view m) const { log(SEALHOST_LOG_INFO, m); }
  void warn(std::string_view m) const { log(SEALHOST_LOG_WARN, m); }
  void error(std::string_view m) const { log(SEALHOST_LOG_ERROR, m); }

 private:
  const sealhost_host_services* host_ = nullptr;
  std::string name_;
};

// Progress and cancellation of one long call. A null job is valid and never cancelled.
class Job {
 public:
  explicit Job(sealhost_job* job)
      : job_(job && job->struct_size >= sizeof(sealhost_job) ? job : nullptr) {}

  void progress(uint64_t done, uint64_t total, std::string_view phase = {}) const {
    if (job_ && job_->progress) job_->progress(job_->ctx, done, total, to_str(phase));
  }
  bool cancelled() const { return job_ && job_->cancelled && job_->cancelled(job_->ctx) != 0; }
  // Throws sdk::Error(CANCELLED) when cancel was requested; call between units of work.
  void check_cancel(std::string_view what) const {
    if (cancelled()) throw sdk::cancelled(std::string(what) + ": cancelled");
  }

 private:
  sealhost_job* job_;
};

// Asks the host for the `what` ("compute", "storage") component `id` of `kind` through
// sealhost_host_services.get_component (ABI 1.1) and returns its instance and vtable, checked to
// be at least a VT. Throws sdk::Error naming the fix when the host is too old, the component is
// unknown or of another kind, or the host hands back nothing usable.
template <class VT>
std::pair<void*, const VT*> get_component(const sealhost_host_services* host, int32_t kind,
                                          const char* what, std::string_view id) {
  const std::string name = std::string(what) + " component " + std::string(id);
  if (!host ||
      host->struct_size <
          offsetof(sealhost_host_services, get_component) + sizeof(host->get_component) ||
      !host->get_component) {
    throw failed_precondition(name +
                              ": this sealhost host is older than ABI 1.1 and cannot hand "
                              "components to plugins (upgrade sealhost)");
  }
  ErrorSink e;
  void* instance = nullptr;
  const void* vt = nullptr;
  const sealhost_status s = host->get_component(host->ctx, kind, to_str(id), &instance, &vt, e.c());
  if (s != SEALHOST_OK) throw Error(s, e.text(s));
  const auto* typed = static_cast<const VT*>(vt);
  if (!instance || !typed || typed->struct_size < sizeof(VT)) {
    throw Error(SEALHOST_E_INTERNAL, name + ": the host returned no usable vtable");
  }
  return {instance, typed};
}

}  // namespace sealhost::sdk
