// Options of sealhost.compute.opencl: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sealhost::compute_opencl {

// Hashes per kernel launch when batch_size = 0 (auto), per compute unit of the device. Progress
// is reported and cancel polled between launches, so a launch must stay short: on POCL over two
// shared EPYC cores an arity-8 hash takes ~0.7 ms of device time (README), so 256 per compute
// unit is ~0.2-0.4 s; a GPU needs tens of thousands of work-items in flight to be busy and
// finishes 2048 per compute unit (160k on an 80-SM card) in milliseconds.
inline constexpr size_t kCpuHashesPerComputeUnit = 256;
inline constexpr size_t kGpuHashesPerComputeUnit = 2048;
inline constexpr int64_t kMaxBatchSize = int64_t{1} << 24;
// Work-group size when local_size = 0: a multiple of every GPU's SIMD width (32 or 64) that fits
// the private memory of the widest Poseidon kernel on the devices we know.
inline constexpr size_t kDefaultLocalSize = 64;
// OpenCL work-groups are at most a few thousand items on every device we know.
inline constexpr int64_t kMaxLocalSize = 4096;

inline constexpr const char* kFieldKernelChoices[] = {"auto", "portable"};

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_string("platform", "",
                    "OpenCL platform: index (0, 1, ...) or a case-insensitive substring of its "
                    "name; empty = every platform"),
    sdk::opt_string("device", "",
                    "device on the chosen platform(s): index (0, 1, ...) or a case-insensitive "
                    "substring of its name; empty = the first GPU/accelerator, else the first "
                    "device"),
    sdk::opt_int("batch_size", "0", 0, kMaxBatchSize, "hashes",
                 "hashes per kernel launch; progress and cancel are checked between launches; 0 "
                 "= 256 per compute unit on CPU devices, 2048 per compute unit on GPUs"),
    sdk::opt_size("memory_limit", "0", 0, int64_t{1} << 50,
                  "device memory one call may allocate; 0 = half of the device's global memory"),
    sdk::opt_int("local_size", "0", 0, kMaxLocalSize, "work-items",
                 "work-group size of the kernels; 0 = 64, or less where a kernel allows less"),
    sdk::opt_enum("field_kernel", "auto", kFieldKernelChoices,
                  "Fr multiplication: auto = 128-bit integer products where the device compiler "
                  "has them (CPU devices), else portable (64-bit limbs with mul_hi)"),
};

struct OpenClOptions {
  std::string platform;         // "" = any
  std::string device;           // "" = first GPU/accelerator, else first device
  size_t batch_size = 0;        // 0 = auto (k*HashesPerComputeUnit)
  uint64_t memory_limit = 0;    // 0 = half the device's global memory
  size_t local_size = 0;        // 0 = kDefaultLocalSize, capped by each kernel's limit
  bool portable_field = false;  // field_kernel = "portable": never the 128-bit variant

  static OpenClOptions parse(const sdk::Options& o) {
    OpenClOptions r;
    r.platform = o.get_string("platform");
    r.device = o.get_string("device");
    r.batch_size = static_cast<size_t>(o.get_int("batch_size"));
    r.memory_limit = o.get_size("memory_limit");
    r.local_size = static_cast<size_t>(o.get_int("local_size"));
    r.portable_field = o.get_string("field_kernel") == "portable";
    return r;
  }
};

}  // namespace sealhost::compute_opencl
