// Options of sealhost.compute.vulkan: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/options.hpp>

#include <cstdint>
#include <string>

namespace sealhost::compute_vulkan {

// Hashes per submission: progress is reported and cancel polled each time one completes. 16384
// arity-8 hashes are well under a millisecond on a discrete GPU and ~0.5 s on Mesa lavapipe over
// two CPU cores; 2^22 is the most one submission may carry (below every device's dispatch limits
// at 64 invocations per workgroup, split into several dispatches when needed).
inline constexpr int64_t kDefaultBatch = 16384;
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
    sdk::opt_int("batch", "16384", kMinBatch, kMaxBatch, "hashes",
                 "hashes per submission; progress and cancel are checked between submissions"),
    sdk::opt_size("memory_limit", "0", 0, kMaxMemoryLimit,
                  "device memory this component may allocate (work buffer, constants, staging); "
                  "0 = half of the largest device-local heap"),
};

struct VulkanOptions {
  std::string device;  // "" = automatic choice
  size_t batch = kDefaultBatch;
  uint64_t memory_limit = 0;  // bytes; 0 = automatic

  static VulkanOptions parse(const sdk::Options& o) {
    VulkanOptions v{o.get_string("device"), static_cast<size_t>(o.get_int("batch")),
                    o.get_size("memory_limit")};
    v.validate();
    return v;
  }

  void validate() const {
    if (batch < static_cast<size_t>(kMinBatch) || batch > static_cast<size_t>(kMaxBatch)) {
      throw sdk::invalid_argument("batch " + std::to_string(batch) + ": out of range (use " +
                                  std::to_string(kMinBatch) + " to " + std::to_string(kMaxBatch) +
                                  " hashes)");
    }
    if (memory_limit != 0 && memory_limit < kMinMemoryLimit) {
      throw sdk::invalid_argument("memory_limit " + std::to_string(memory_limit) +
                                  " bytes: too small (use 0 for automatic or at least 16MiB)");
    }
  }
};

}  // namespace sealhost::compute_vulkan
