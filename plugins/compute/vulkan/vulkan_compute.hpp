// sealhost.compute.vulkan: the compute kernels of abi.h (Poseidon batches, Poseidon Merkle rows,
// SHA254 node batches) as GLSL compute shaders on one Vulkan device. Results are bit-identical to
// proofs::poseidon / proofs::sha256: the shaders implement the same optimised Poseidon schedule
// with the constants proofs::poseidon computes (uploaded in Montgomery form, never derived on the
// device), on 32-bit limbs so any Vulkan 1.1 device runs them (no shaderInt64).
//
// Work is staged through one device buffer of at most `memory_limit` (minus constants and
// staging). Calls bigger than it are split: poseidon_batch and sha254_batch into chunks, tree_build
// into subtrees whose rows are copied back into place before the rows above them are built from
// the subtree roots. A tree that fits is built row after row on the device and copied back once.
//
// Buffers are borrowed for the call; inputs and outputs may overlap (the inputs are then copied
// first). A non-canonical input fails the call with INVALID_ARGUMENT naming the lowest bad element
// index. On any failure or cancel the output holds an unspecified mix of old and new values.
//
// Threading: every method may be called from any thread; calls on one instance are serialised
// (the device runs one call at a time). Progress is reported, and cancel polled, each time one
// submission of `batch` hashes completes.
#pragma once

#include "plugins/compute/vulkan/options.hpp"
#include "plugins/compute/vulkan/vulkan_context.hpp"

#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace sealhost::compute_vulkan {

class Runner;

class VulkanCompute {
 public:
  static constexpr const char* kId = "sealhost.compute.vulkan";
  // Invocations per workgroup of both kernels.
  static constexpr uint32_t kLocalSize = 64;

  explicit VulkanCompute(const sdk::Context& ctx);
  explicit VulkanCompute(const VulkanOptions& options, sdk::Logger log = {});
  ~VulkanCompute();
  VulkanCompute(const VulkanCompute&) = delete;
  VulkanCompute& operator=(const VulkanCompute&) = delete;

  sdk::DeviceInfo device_info() const;
  void poseidon_batch(uint32_t arity, uint32_t tag, const uint8_t* inputs, uint8_t* out, size_t n,
                      const sdk::Job& job);
  void tree_build(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                  const sdk::Job& job);
  void sha254_batch(const uint8_t* pairs, uint8_t* out, size_t n, const sdk::Job& job);

  // Bytes of the largest work buffer this instance may use: what decides chunking.
  uint64_t work_capacity() const { return capacity_; }
  // Lowers the work capacity below what memory_limit allows (never raises it), so tests reach the
  // chunked and subtree paths with small inputs. Call before the first hashing call.
  void limit_work_capacity(uint64_t bytes);
  // True when work buffers are host-mapped (CPU drivers, integrated GPUs), false when data moves
  // through a staging buffer.
  bool mapped_memory() const { return mapped_; }
  size_t batch() const { return batch_; }

 private:
  struct ArityKernel {
    std::unique_ptr<ComputePipeline> pipeline;
    Buffer constants;
    std::array<uint32_t, 8> tag_merkle{};
    std::array<uint32_t, 8> tag_constant_length{};
  };

  ArityKernel& kernel(uint32_t arity);
  ComputePipeline& sha_pipeline();
  // Makes the work buffer at least `bytes` (<= capacity_) and points the pipelines at it.
  void ensure_work(uint64_t bytes);
  void bind_all();
  Buffer make_buffer(VkDeviceSize size, VkBufferUsageFlags usage, const std::string& what) const;
  void upload(const Buffer& dst, VkDeviceSize offset, const uint8_t* src, size_t bytes);
  void download(const Buffer& src, VkDeviceSize offset, uint8_t* dst, size_t bytes);
  void reset_status();
  uint32_t read_status();
  // Records dispatches hashing `count` preimages at word `in_word` into `out_word`.
  void record_poseidon(VkCommandBuffer cb, uint32_t arity, const ArityKernel& k,
                       const std::array<uint32_t, 8>& tag, uint64_t in_word, uint64_t out_word,
                       uint64_t count, uint64_t first_element) const;
  void record_sha(VkCommandBuffer cb, uint64_t in_word, uint64_t out_word, uint64_t count) const;
  // Builds every row of the tree over `n` leaves (all of it fits the work buffer) and copies row
  // r (1-based) to row_dst(r). `leaf_base` numbers the first leaf in error messages.
  void build_on_device(uint32_t arity, const uint8_t* leaves, size_t n, uint64_t leaf_base,
                       const std::function<uint8_t*(size_t row)>& row_dst, Runner& run);
  void build_rows(uint32_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out,
                  uint64_t leaf_base, Runner& run);

  sdk::Logger log_;
  size_t batch_;
  std::mutex mu_;  // one call on the device at a time
  VulkanContext ctx_;
  bool mapped_ = false;
  uint64_t capacity_ = 0;
  uint32_t max_groups_ = 65535;
  Buffer staging_;  // only when !mapped_
  Buffer status_;
  Buffer work_;
  std::map<uint32_t, ArityKernel> kernels_;
  std::unique_ptr<ComputePipeline> sha_;
};

// "2, 4, 8, 11, 16, 24, 36": the Poseidon arities poseidon_batch and tree_build accept.
std::string supported_arities_text();

}  // namespace sealhost::compute_vulkan
