// The OpenCL side of sealhost.compute.opencl: owned handles, error translation, device selection
// and the per-process device runtime (context, programs per arity, Poseidon constants on the
// device).
//
// Threading: select_device and DeviceRuntime are safe to use from any number of threads. A
// DeviceRuntime is shared by every component instance on the same device in the process and is
// never destroyed (like the plugin itself, it lives until exit), so each program is built once
// per process however many instances are created.
#pragma once

#include "plugins/compute/opencl/cl_api.hpp"

#include <sealhost/sdk/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sealhost::compute_opencl {

// "CL_OUT_OF_RESOURCES (-5)" for a status code.
std::string cl_status_text(cl_int status);

// The sdk::Error for a failed OpenCL call: allocation failures are RESOURCE_EXHAUSTED, the rest
// UNAVAILABLE. `what` names the operation ("clEnqueueNDRangeKernel (poseidon arity 8)").
sdk::Error cl_error(cl_int status, std::string_view what);
inline void cl_check(cl_int status, std::string_view what) {
  if (status != CL_SUCCESS) throw cl_error(status, what);
}

// A move-only owner of one OpenCL object, released with its clRelease* function.
template <class T, cl_int (*Release)(T)>
class ClHandle {
 public:
  ClHandle() = default;
  explicit ClHandle(T h) : h_(h) {}
  ClHandle(ClHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  ClHandle& operator=(ClHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ClHandle(const ClHandle&) = delete;
  ClHandle& operator=(const ClHandle&) = delete;
  ~ClHandle() { reset(); }

  T get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }
  void reset() {
    if (h_) Release(h_);
    h_ = nullptr;
  }

 private:
  T h_ = nullptr;
};

// Handles only exist once cl() has loaded, so releasing through it cannot throw.
inline cl_int release_context(cl_context h) {
  return cl().clReleaseContext(h);
}
inline cl_int release_queue(cl_command_queue h) {
  return cl().clReleaseCommandQueue(h);
}
inline cl_int release_program(cl_program h) {
  return cl().clReleaseProgram(h);
}
inline cl_int release_kernel(cl_kernel h) {
  return cl().clReleaseKernel(h);
}
inline cl_int release_buffer(cl_mem h) {
  return cl().clReleaseMemObject(h);
}
inline cl_int release_event(cl_event h) {
  return cl().clReleaseEvent(h);
}

using Context = ClHandle<cl_context, release_context>;
using Queue = ClHandle<cl_command_queue, release_queue>;
using Program = ClHandle<cl_program, release_program>;
using Kernel = ClHandle<cl_kernel, release_kernel>;
using Buffer = ClHandle<cl_mem, release_buffer>;
using Event = ClHandle<cl_event, release_event>;

struct DeviceChoice {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  std::string platform_name;
  std::string device_name;
};

// Picks the device named by the `platform` and `device` options (index or case-insensitive name
// substring; empty = any platform / first GPU or accelerator, else first device). Throws
// sdk::Error(FAILED_PRECONDITION) when there is no platform or device at all, naming the fix, and
// sdk::Error(INVALID_ARGUMENT) when the options match nothing, listing what exists.
DeviceChoice select_device(std::string_view platform_spec, std::string_view device_spec);

// Everything about one device that outlives a component instance.
class DeviceRuntime {
 public:
  // The runtime for `choice.device`, created on first use; later calls return the same one.
  static DeviceRuntime& get(const DeviceChoice& choice);

  cl_device_id device() const { return device_; }
  cl_context context() const { return context_.get(); }
  const std::string& name() const { return name_; }
  uint32_t compute_units() const { return compute_units_; }
  uint64_t global_memory() const { return global_memory_; }
  uint64_t max_allocation() const { return max_allocation_; }
  size_t max_work_group() const { return max_work_group_; }
  // A CPU device (POCL, Intel CPU runtime) rather than a GPU or accelerator.
  bool is_cpu() const { return is_cpu_; }

  // The Poseidon program for `arity` (kernel "poseidon_hash") and its constants buffer, built and
  // uploaded on first use. Throws sdk::Error naming the arity and the build log on failure.
  // Unless `portable`, a CPU device gets the variant with 128-bit integer products (fr.cl
  // SEALHOST_FR_INT128) when its compiler accepts it, the portable one otherwise.
  struct PoseidonProgram {
    cl_program program = nullptr;
    cl_mem constants = nullptr;
    bool int128 = false;  // which fr_mul the program uses
  };
  PoseidonProgram poseidon(size_t arity, bool portable = false);
  // The SHA254 program (kernel "sha254_nodes").
  cl_program sha254();

 private:
  explicit DeviceRuntime(const DeviceChoice& choice);
  // Builds `source`; throws sdk::Error with the build log when it fails.
  Program build(std::string_view source, const std::string& options, std::string_view what);
  // Same, but returns an empty Program and the status instead of throwing.
  Program try_build(std::string_view source, const std::string& options, cl_int* status,
                    std::string* log);

  cl_device_id device_;
  Context context_;
  std::string name_;
  uint32_t compute_units_ = 0;
  uint64_t global_memory_ = 0;
  uint64_t max_allocation_ = 0;
  size_t max_work_group_ = 0;
  bool is_cpu_ = false;

  struct PoseidonSlot {
    std::once_flag once;
    Program program;
    bool int128 = false;
  };
  struct ConstantsSlot {
    std::once_flag once;
    Buffer buffer;
  };
  // Indexed like proofs::poseidon::kSupportedArities; programs [0] automatic, [1] portable.
  std::array<std::array<PoseidonSlot, 7>, 2> poseidon_;
  std::array<ConstantsSlot, 7> constants_;
  std::once_flag sha_once_;
  Program sha_;
};

}  // namespace sealhost::compute_opencl
