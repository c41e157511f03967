// sealhost plugin SDK: the compute component kind in C++ terms, both directions:
//  - plugin side: compute_vtable<Impl> adapts a C++ class to sealhost_compute_vtable;
//  - host side: the same value types and conversions, used by the host's compute client;
//  - plugin to plugin: ComputeRef, a client over another component's vtable that a plugin gets
//    from the host with find_compute() (e.g. the pc2 stage driving a GPU backend).
//
// Buffers stay raw pointers (field elements are 32-byte canonical little-endian values, never
// Montgomery form): the host hands over slices of mapped tree files and the plugin writes results
// in place, so nothing is copied on the way through. The thunks check what the C signature cannot
// say (null buffers, byte counts that overflow size_t) before Impl sees the call.
//
// Impl methods (all may throw sdk::Error; a null sealhost_job arrives as a Job that reports
// nothing and is never cancelled):
//   DeviceInfo device_info();
//   void poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs, uint8_t* out,
//                       size_t n, const Job&);            // inputs n*arity*32 bytes, out n*32
//   void tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
//                   const Job&);                          // rows_out tree_rows_nodes(n, arity)*32
//   void sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n, const Job&);  // n*64 -> n*32
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace sealhost::sdk {

inline constexpr size_t kFieldElementBytes = 32;

// poseidon_batch `tag` values.
enum : uint32_t { kTagMerkleTree = 0, kTagConstantLength = 1 };

struct DeviceInfo {
  std::string name;
  std::string backend;
  uint32_t compute_units = 0;
  uint64_t memory_bytes = 0;
};

inline DeviceInfo from_c(const sealhost_compute_device_info& d) {
  return {std::string(to_view(d.name)), std::string(to_view(d.backend)), d.compute_units,
          d.memory_bytes};
}
// The returned struct borrows the strings of `d`.
inline sealhost_compute_device_info to_c(const DeviceInfo& d) {
  return {sizeof(sealhost_compute_device_info), d.compute_units, to_str(d.name), to_str(d.backend),
          d.memory_bytes};
}

// Nodes above the leaves of a tree of n = arity^k leaves: n/arity + n/arity^2 + ... + 1, which is
// (n - 1) / (arity - 1). Only meaningful for valid geometry (arity >= 2).
constexpr size_t tree_rows_nodes(size_t n, size_t arity) {
  return arity < 2 || n == 0 ? 0 : (n - 1) / (arity - 1);
}

namespace detail {
// count * unit bytes, or an INVALID_ARGUMENT naming `what` when that overflows size_t.
inline size_t checked_bytes(size_t count, size_t unit, const char* what) {
  if (unit != 0 && count > std::numeric_limits<size_t>::max() / unit) {
    throw invalid_argument(std::string(what) + ": " + std::to_string(count) +
                           " items overflow the address space (pass a smaller batch)");
  }
  return count * unit;
}
inline void check_buffer(const void* p, size_t bytes, const char* call, const char* name) {
  if (!p && bytes != 0) {
    throw invalid_argument(std::string(call) + ": `" + name + "` is null for " +
                           std::to_string(bytes) + " bytes (pass a buffer)");
  }
}
}  // namespace detail

template <class Impl>
struct ComputeThunks {
  static sealhost_status device_info(void* self_, sealhost_device_cb cb, void* ctx,
                                     sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      DeviceInfo d = self<Impl>(self_).device_info();
      if (!cb) return;
      auto c = to_c(d);
      cb(ctx, &c);
    });
  }
  static sealhost_status poseidon_batch(void* self_, uint32_t arity, uint32_t tag,
                                        const uint8_t* inputs, uint8_t* out, size_t n,
                                        sealhost_job* job, sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      const size_t elements = detail::checked_bytes(n, arity, "poseidon_batch");
      detail::check_buffer(inputs,
                           detail::checked_bytes(elements, kFieldElementBytes, "poseidon_batch"),
                           "poseidon_batch", "inputs");
      detail::check_buffer(out, n * kFieldElementBytes, "poseidon_batch", "out");
      self<Impl>(self_).poseidon_batch(arity, tag, inputs, out, n, Job(job));
    });
  }
  static sealhost_status tree_build(void* self_, uint32_t arity, const uint8_t* leaves, size_t n,
                                    uint8_t* rows_out, sealhost_job* job,
                                    sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      detail::check_buffer(leaves, detail::checked_bytes(n, kFieldElementBytes, "tree_build"),
                           "tree_build", "leaves");
      detail::check_buffer(rows_out, tree_rows_nodes(n, arity) * kFieldElementBytes, "tree_build",
                           "rows_out");
      self<Impl>(self_).tree_build(arity, leaves, n, rows_out, Job(job));
    });
  }
  static sealhost_status sha254_batch(void* self_, const uint8_t* pairs, uint8_t* out, size_t n,
                                      sealhost_job* job, sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      detail::check_buffer(pairs, detail::checked_bytes(n, 2 * kFieldElementBytes, "sha254_batch"),
                           "sha254_batch", "pairs");
      detail::check_buffer(out, n * kFieldElementBytes, "sha254_batch", "out");
      self<Impl>(self_).sha254_batch(pairs, out, n, Job(job));
    });
  }
};

template <class Impl>
inline constexpr sealhost_compute_vtable compute_vtable = {
    sizeof(sealhost_compute_vtable),   0,
    &ComputeThunks<Impl>::device_info, &ComputeThunks<Impl>::poseidon_batch,
    &ComputeThunks<Impl>::tree_build,  &ComputeThunks<Impl>::sha254_batch};

// A compute component used from inside another plugin. Calls go straight to the component's
// vtable; a failure throws sdk::Error with the component's status and message prefixed by its id.
// Cheap to copy; thread-safe when the component is.
class ComputeRef {
 public:
  ComputeRef(std::string id, void* instance, const sealhost_compute_vtable* vt)
      : id_(std::move(id)), instance_(instance), vt_(vt) {}

  const std::string& id() const { return id_; }

  DeviceInfo device_info() const {
    ErrorSink e;
    DeviceInfo out;
    bool seen = false;
    auto collect = [](void* ctx, const sealhost_compute_device_info* d) {
      auto* p = static_cast<std::pair<DeviceInfo*, bool*>*>(ctx);
      *p->first = from_c(*d);
      *p->second = true;
    };
    std::pair<DeviceInfo*, bool*> ctx{&out, &seen};
    check(vt_->device_info(instance_, collect, &ctx, e.c()), e);
    if (!seen) throw Error(SEALHOST_E_INTERNAL, id_ + ": device_info reported no device");
    return out;
  }
  void poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs, uint8_t* out, size_t n,
                      sealhost_job* job = nullptr) const {
    ErrorSink e;
    check(vt_->poseidon_batch(instance_, arity, tag, inputs, out, n, job, e.c()), e);
  }
  void tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                  sealhost_job* job = nullptr) const {
    ErrorSink e;
    check(vt_->tree_build(instance_, arity, leaves, n, rows_out, job, e.c()), e);
  }
  void sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n,
                    sealhost_job* job = nullptr) const {
    ErrorSink e;
    check(vt_->sha254_batch(instance_, pairs, out, n, job, e.c()), e);
  }

 private:
  void check(sealhost_status s, const ErrorSink& e) const {
    if (s != SEALHOST_OK) throw Error(s, id_ + ": " + e.text(s));
  }
  std::string id_;
  void* instance_;
  const sealhost_compute_vtable* vt_;
};

// Asks the host for the compute component `id` (see sealhost_host_services.get_component): the
// instance the host created from the config's [compute] options, or with defaults. Throws
// sdk::Error naming the fix when the host is too old or the component is unknown.
inline ComputeRef find_compute(const sealhost_host_services* host, std::string_view id) {
  const auto [instance, vt] =
      get_component<sealhost_compute_vtable>(host, SEALHOST_KIND_COMPUTE, "compute", id);
  return ComputeRef(std::string(id), instance, vt);
}

}  // namespace sealhost::sdk
