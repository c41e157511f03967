// sealhost plugin SDK: errors and the exception barrier.
//
// Plugin code throws sdk::Error (or any std::exception); the barrier at every C hook turns it into
// a status code plus a message in the host's error sink, so no exception ever crosses the ABI.
#pragma once

#include <sealhost/abi.h>

#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace sealhost::sdk {

class Error : public std::runtime_error {
 public:
  Error(sealhost_status code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  sealhost_status code() const noexcept { return code_; }

 private:
  sealhost_status code_;
};

inline Error invalid_argument(const std::string& m) {
  return {SEALHOST_E_INVALID_ARGUMENT, m};
}
inline Error not_found(const std::string& m) {
  return {SEALHOST_E_NOT_FOUND, m};
}
inline Error already_exists(const std::string& m) {
  return {SEALHOST_E_ALREADY_EXISTS, m};
}
inline Error permission(const std::string& m) {
  return {SEALHOST_E_PERMISSION, m};
}
inline Error exhausted(const std::string& m) {
  return {SEALHOST_E_RESOURCE_EXHAUSTED, m};
}
inline Error unavailable(const std::string& m) {
  return {SEALHOST_E_UNAVAILABLE, m};
}
inline Error cancelled(const std::string& m) {
  return {SEALHOST_E_CANCELLED, m};
}
inline Error data_loss(const std::string& m) {
  return {SEALHOST_E_DATA_LOSS, m};
}
inline Error io_error(const std::string& m) {
  return {SEALHOST_E_IO, m};
}
inline Error out_of_range(const std::string& m) {
  return {SEALHOST_E_OUT_OF_RANGE, m};
}
inline Error failed_precondition(const std::string& m) {
  return {SEALHOST_E_FAILED_PRECONDITION, m};
}

inline sealhost_str to_str(std::string_view s) noexcept {
  return {s.data(), s.size()};
}
inline std::string_view to_view(sealhost_str s) noexcept {
  return s.data ? std::string_view(s.data, s.len) : std::string_view();
}

inline void report(sealhost_error_sink* sink, sealhost_status code, std::string_view msg) noexcept {
  if (sink && sink->set && sink->struct_size >= sizeof(sealhost_error_sink)) {
    sink->set(sink->ctx, code, to_str(msg));
  }
}

// Runs `fn` and converts every exception into a status. `fn` returns void or sealhost_status.
template <class Fn>
sealhost_status barrier(sealhost_error_sink* sink, Fn&& fn) noexcept {
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      return SEALHOST_OK;
    } else {
      return fn();
    }
  } catch (const Error& e) {
    report(sink, e.code(), e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    report(sink, SEALHOST_E_RESOURCE_EXHAUSTED, "out of memory");
    return SEALHOST_E_RESOURCE_EXHAUSTED;
  } catch (const std::exception& e) {
    report(sink, SEALHOST_E_INTERNAL, e.what());
    return SEALHOST_E_INTERNAL;
  } catch (...) {
    report(sink, SEALHOST_E_INTERNAL, "unknown exception in plugin");
    return SEALHOST_E_INTERNAL;
  }
}

// A C error sink that keeps the last code and message; used by the host when it calls a plugin,
// and by tests.
class ErrorSink {
 public:
  ErrorSink() {
    sink_.struct_size = sizeof sink_;
    sink_.ctx = this;
    sink_.set = [](void* ctx, sealhost_status c, sealhost_str msg) {
      auto* self = static_cast<ErrorSink*>(ctx);
      self->code = c;
      self->message = std::string(to_view(msg));
    };
  }
  ErrorSink(const ErrorSink&) = delete;
  ErrorSink& operator=(const ErrorSink&) = delete;
  sealhost_error_sink* c() { return &sink_; }
  // The message, or a generic one naming the status when the plugin set none.
  std::string text(sealhost_status status) const {
    return message.empty() ? std::string("failed with status ") + status_name(status) : message;
  }
  static const char* status_name(sealhost_status s) {
    switch (s) {
      case SEALHOST_OK:
        return "ok";
      case SEALHOST_E_INVALID_ARGUMENT:
        return "invalid-argument";
      case SEALHOST_E_NOT_FOUND:
        return "not-found";
      case SEALHOST_E_ALREADY_EXISTS:
        return "already-exists";
      case SEALHOST_E_PERMISSION:
        return "permission-denied";
      case SEALHOST_E_RESOURCE_EXHAUSTED:
        return "resource-exhausted";
      case SEALHOST_E_UNAVAILABLE:
        return "unavailable";
      case SEALHOST_E_CANCELLED:
        return "cancelled";
      case SEALHOST_E_DATA_LOSS:
        return "data-loss";
      case SEALHOST_E_UNIMPLEMENTED:
        return "unimplemented";
      case SEALHOST_E_INTERNAL:
        return "internal";
      case SEALHOST_E_IO:
        return "io";
      case SEALHOST_E_OUT_OF_RANGE:
        return "out-of-range";
      case SEALHOST_E_FAILED_PRECONDITION:
        return "failed-precondition";
      default:
        return "unknown";
    }
  }
  sealhost_status code = SEALHOST_OK;
  std::string message;

 private:
  sealhost_error_sink sink_{};
};

}  // namespace sealhost::sdk
