// sealhost plugin SDK: fakes for unit-testing components without the host.
//
//   sdk::testing::FakeHost host;                    // captures log lines
//   sdk::OptionSet opts = sdk::testing::defaults(kOptions);
//   opts.set_text("threads", "2");
//   MyComponent c(host.context(MyComponent::kId, opts));
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace sealhost::sdk::testing {

struct LogLine {
  std::string logger;
  int32_t level;
  std::string message;
};

class FakeHost {
 public:
  FakeHost() {
    services_.struct_size = sizeof services_;
    services_.abi_major = SEALHOST_ABI_MAJOR;
    services_.abi_minor = SEALHOST_ABI_MINOR;
    services_.ctx = this;
    services_.log = [](void* ctx, sealhost_str logger, int32_t level, sealhost_str msg) {
      auto* self = static_cast<FakeHost*>(ctx);
      std::lock_guard lock(self->mu_);
      self->lines_.push_back({std::string(to_view(logger)), level, std::string(to_view(msg))});
    };
    services_.log_enabled = [](void*, sealhost_str, int32_t) -> int32_t { return 1; };
    services_.host_version = "test";
  }
  const sealhost_host_services* services() const { return &services_; }
  Context context(const char* component_id, OptionSet& options) {
    return Context{&services_, Logger(&services_, component_id), Options(options.c())};
  }
  std::vector<LogLine> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  sealhost_host_services services_{};
  mutable std::mutex mu_;
  std::vector<LogLine> lines_;
};

template <size_t N>
OptionSet defaults(const sealhost_option_desc (&table)[N]) {
  OptionSet s(table, N);
  s.apply_defaults();
  return s;
}

// A job whose progress is recorded and whose cancel flag the test sets.
class FakeJob {
 public:
  FakeJob() {
    job_.struct_size = sizeof job_;
    job_.ctx = this;
    job_.progress = [](void* ctx, uint64_t done, uint64_t total, sealhost_str phase) {
      auto* self = static_cast<FakeJob*>(ctx);
      self->calls_.fetch_add(1);
      self->done_ = done;
      self->total_ = total;
      std::lock_guard lock(self->mu_);
      self->phase_ = std::string(to_view(phase));
    };
    job_.cancelled = [](void* ctx) -> int32_t {
      auto* self = static_cast<FakeJob*>(ctx);
      if (self->cancel_after_ >= 0 && self->checks_.fetch_add(1) >= self->cancel_after_) return 1;
      return self->cancel_.load() ? 1 : 0;
    };
  }
  sealhost_job* c() { return &job_; }
  void cancel() { cancel_ = true; }
  // Reports cancelled from the n-th check on (0 = immediately).
  void cancel_after_checks(int n) { cancel_after_ = n; }
  uint64_t progress_calls() const { return calls_; }
  uint64_t done() const { return done_; }
  uint64_t total() const { return total_; }

 private:
  sealhost_job job_{};
  std::atomic<bool> cancel_{false};
  std::atomic<uint64_t> calls_{0}, done_{0}, total_{0};
  std::atomic<int> checks_{0};
  int cancel_after_ = -1;
  std::mutex mu_;
  std::string phase_;
};

using ErrorCapture = sdk::ErrorSink;

// The sdk::Error that fn throws. When fn returns normally: an Error with SEALHOST_OK and a message
// saying so, which fails any expectation on the code or on a fragment of the message.
template <class Fn>
Error error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  return Error(SEALHOST_OK, "no sdk::Error: the call returned normally");
}

// A fresh directory under the system temp dir (or `parent`), removed with everything in it at
// scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sealhost-test",
                   std::filesystem::path parent = std::filesystem::temp_directory_path()) {
    std::string tmpl = (parent / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + tmpl);
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace sealhost::sdk::testing
