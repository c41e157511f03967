// Options of sealhost.compute.vulkan: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/options.hpp>

#include <cstdint>
#include <string>

namespace sealhost::compute_vulkan {

// Hashes per submission: progress is reported and cancel polled each time one completes, and two
// are in flight, so one submission should take well under 100 ms. `batch = 0` picks by device:
// 65536 on GPUs (a few ms of arity-8 hashes even on small ones) and 1024 on CPU drivers such as
// lavapipe (~1500 arity-8 hashes/s on two busy cores). 2^22 is the most one submission may carry
// (it is split into several dispatches when the device's workgroup count limit needs it).
inline constexpr int64_t kAutoBatch = 0;
inline constexpr size_t kGpuBatch = 65536;
inline constexpr size_t kCpuDriverBatch = 1024;
inline constexpr int64_t kMinBatch = 64;
inline constexpr int64_t kMaxBatch = int64_t{1} << 22;
// memory_limit: 0 = automatic; otherwise at least what one arity-36 chunk of 64 hashes and the
// staging buffer need, so a typo ("memory_limit = 4096") is caught instead of crawling.
inline constexpr uint64_t kMinMemoryLimit = uint64_t{16} << 20;
inline constexpr int64_t kMaxMemoryLimit = int64_t{1} << 48;

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_string("device", "",
                    "Vulkan device: index in vulkaninfo's order or a case-insensitive name "
                    "substring; empty = the first discrete GPU, else integrated, else any"),
    sdk::opt_int("batch", "0", 0, kMaxBatch, "hashes",
                 "hashes per submission (progress and cancel are checked between submissions); "
                 "0 = 65536 on GPUs, 1024 on CPU drivers"),
    sdk::opt_size("memory_limit", "0", 0, kMaxMemoryLimit,
                  "device memory this component may allocate (work buffer, constants, staging); "
                  "0 = half of the largest device-local heap"),
};

struct VulkanOptions {
  std::string device;         // "" = automatic choice
  size_t batch = kAutoBatch;  // 0 = chosen by device type
  uint64_t memory_limit = 0;  // bytes; 0 = automatic
  // Not an option: tests set it to take the discrete-GPU path (device-local buffers filled
  // through a staging buffer) on a CPU driver or integrated GPU.
  bool force_staging = false;

  static VulkanOptions parse(const sdk::Options& o) {
    VulkanOptions v{o.get_string("device"), static_cast<size_t>(o.get_int("batch")),
                    o.get_size("memory_limit")};
    v.validate();
    return v;
  }

  void validate() const {
    if (batch != kAutoBatch &&
        (batch < static_cast<size_t>(kMinBatch) || batch > static_cast<size_t>(kMaxBatch))) {
      throw sdk::invalid_argument("batch " + std::to_string(batch) + ": out of range (use 0 for " +
                                  "automatic or " + std::to_string(kMinBatch) + " to " +
                                  std::to_string(kMaxBatch) + " hashes)");
    }
    if (memory_limit != 0 && memory_limit < kMinMemoryLimit) {
      throw sdk::invalid_argument("memory_limit " + std::to_string(memory_limit) +
                                  " bytes: too small (use 0 for automatic or at least 16MiB)");
    }
  }
};

}  // namespace sealhost::compute_vulkan
