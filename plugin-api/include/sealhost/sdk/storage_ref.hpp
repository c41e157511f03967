// sealhost plugin SDK: a storage component used from inside another plugin (plugin to plugin).
//
// StorageRef is a typed client over another component's sealhost_storage_vtable, which a plugin
// gets from the host with find_storage() (ABI 1.1 get_component), e.g. the finalize stage moving a
// sector's files to long-term storage through sealhost.storage.local. JobRelay forwards a nested
// call's progress and cancel to the caller's own job.
//
// Calls go straight to the component's vtable; a failure throws sdk::Error with the component's
// status and its message prefixed by the component id. Cheap to copy; thread-safe when the
// component is (every first-party storage component is).
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/storage.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sealhost::sdk {

// A sealhost_job that reports into `outer` (the caller's job): progress is forwarded with
// `phase_prefix` prepended to the nested phase, cancel is the outer job's cancel. Lives on the
// caller's stack for the duration of one nested call.
class JobRelay {
 public:
  JobRelay(const Job& outer, std::string phase_prefix)
      : outer_(outer), prefix_(std::move(phase_prefix)) {
    job_.struct_size = sizeof job_;
    job_.ctx = this;
    job_.progress = [](void* ctx, uint64_t done, uint64_t total, sealhost_str phase) {
      auto* self = static_cast<JobRelay*>(ctx);
      const std::string_view p = to_view(phase);
      self->outer_.progress(done, total,
                            p.empty() ? self->prefix_ : self->prefix_ + ": " + std::string(p));
    };
    job_.cancelled = [](void* ctx) -> int32_t {
      return static_cast<JobRelay*>(ctx)->outer_.cancelled() ? 1 : 0;
    };
  }
  JobRelay(const JobRelay&) = delete;
  JobRelay& operator=(const JobRelay&) = delete;

  sealhost_job* c() { return &job_; }

 private:
  Job outer_;
  std::string prefix_;
  sealhost_job job_{};
};

class StorageRef {
 public:
  StorageRef(std::string id, void* instance, const sealhost_storage_vtable* vt)
      : id_(std::move(id)), instance_(instance), vt_(vt) {}

  const std::string& id() const { return id_; }

  PathInfo attach(const AttachRequest& req) const {
    ErrorSink e;
    std::vector<PathInfo> out;
    const auto c = to_c(req);
    check(vt_->attach(instance_, &c, &collect_path, &out, e.c()), e);
    return one(out, "attach");
  }
  void detach(std::string_view id_or_location) const {
    ErrorSink e;
    check(vt_->detach(instance_, to_str(id_or_location), e.c()), e);
  }
  std::vector<PathInfo> list() const {
    ErrorSink e;
    std::vector<PathInfo> out;
    check(vt_->list(instance_, &collect_path, &out, e.c()), e);
    return out;
  }
  PathInfo stat(std::string_view path_id) const {
    ErrorSink e;
    std::vector<PathInfo> out;
    check(vt_->stat(instance_, to_str(path_id), &collect_path, &out, e.c()), e);
    return one(out, "stat");
  }
  Allocation allocate(const SectorRef& s, uint32_t file_types, int32_t role) const {
    ErrorSink e;
    Allocation a;
    const auto c = to_c(s);
    check(vt_->allocate(instance_, &c, file_types, role, &a.reservation_id, &collect_location,
                        &a.locations, e.c()),
          e);
    return a;
  }
  void release(uint64_t reservation_id) const {
    ErrorSink e;
    check(vt_->release(instance_, reservation_id, e.c()), e);
  }
  // Every existing file of `file_types`; empty (not an error) when none exists.
  std::vector<Location> find(const SectorRef& s, uint32_t file_types) const {
    ErrorSink e;
    std::vector<Location> out;
    const auto c = to_c(s);
    const sealhost_status st = vt_->find(instance_, &c, file_types, &collect_location, &out, e.c());
    if (st == SEALHOST_E_NOT_FOUND) return {};
    check(st, e);
    return out;
  }
  void move(const SectorRef& s, uint32_t file_types, std::string_view dest_path_id,
            sealhost_job* job = nullptr) const {
    ErrorSink e;
    const auto c = to_c(s);
    check(vt_->move(instance_, &c, file_types, to_str(dest_path_id), job, e.c()), e);
  }
  void remove(const SectorRef& s, uint32_t file_types) const {
    ErrorSink e;
    const auto c = to_c(s);
    check(vt_->remove(instance_, &c, file_types, e.c()), e);
  }
  void read_range(const SectorRef& s, uint32_t file_type, std::string_view name, uint64_t offset,
                  uint8_t* buf, size_t len) const {
    ErrorSink e;
    const auto c = to_c(s);
    check(vt_->read_range(instance_, &c, file_type, to_str(name), offset, buf, len, e.c()), e);
  }

 private:
  static void collect_path(void* ctx, const sealhost_storage_path_info* p) {
    if (p) static_cast<std::vector<PathInfo>*>(ctx)->push_back(from_c(*p));
  }
  static void collect_location(void* ctx, const sealhost_sector_location* l) {
    if (l) static_cast<std::vector<Location>*>(ctx)->push_back(from_c(*l));
  }
  PathInfo one(std::vector<PathInfo>& v, const char* call) const {
    if (v.size() != 1) {
      throw Error(SEALHOST_E_INTERNAL, id_ + ": " + call + " reported " + std::to_string(v.size()) +
                                           " paths instead of one (a bug in the component)");
    }
    return std::move(v.front());
  }
  void check(sealhost_status s, const ErrorSink& e) const {
    if (s != SEALHOST_OK) throw Error(s, id_ + ": " + e.text(s));
  }

  std::string id_;
  void* instance_;
  const sealhost_storage_vtable* vt_;
};

// Asks the host for the storage component `id` (see sealhost_host_services.get_component): the
// instance the host created from the config's [storage] section, with the paths it attached, or
// one with default options and no paths when the config does not name it. Throws sdk::Error
// naming the fix when the host is too old or the component is unknown or of another kind.
inline StorageRef find_storage(const sealhost_host_services* host, std::string_view id) {
  const auto [instance, vt] =
      get_component<sealhost_storage_vtable>(host, SEALHOST_KIND_STORAGE, "storage", id);
  return StorageRef(std::string(id), instance, vt);
}

}  // namespace sealhost::sdk
