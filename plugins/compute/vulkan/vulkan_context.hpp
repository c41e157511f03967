// The Vulkan plumbing of sealhost.compute.vulkan: one instance, one device with a compute queue,
// buffers and compute pipelines, each owned by an RAII type. Nothing here knows about Poseidon;
// VulkanCompute builds the kernels on top.
//
// Threading: a VulkanContext and everything created from it must be used by one thread at a time
// (VulkanCompute serialises calls with a mutex); Vulkan requires external synchronisation of the
// queue and the command pool.
#pragma once

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sealhost::compute_vulkan {

// The message create() fails with when the loader finds no usable device.
inline constexpr const char* kNoDeviceMessage =
    "no Vulkan device: install a Vulkan driver (e.g. mesa-vulkan-drivers) or use "
    "sealhost.compute.cpu";

// Throws sdk::Error for a failed Vulkan call: out of memory -> RESOURCE_EXHAUSTED, device lost ->
// UNAVAILABLE, anything else INTERNAL; the message names `what` and the VkResult.
void vk_check(VkResult result, const std::string& what);
const char* vk_result_name(VkResult result);

struct PhysicalDevice {
  uint32_t index = 0;  // in vkEnumeratePhysicalDevices order (as vulkaninfo lists them)
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  uint64_t device_local_bytes = 0;  // largest device-local heap
  bool has_compute_queue = false;
};

// Picks the device `selector` names among `devices`: "" = the first discrete GPU with a compute
// queue, else integrated, else virtual, else any (CPU drivers such as lavapipe last); all digits
// = that index; otherwise the first whose name contains it (case-insensitive). Throws
// INVALID_ARGUMENT listing the devices when nothing matches, UNAVAILABLE when `devices` is empty.
const PhysicalDevice& select_device(std::span<const PhysicalDevice> devices,
                                    const std::string& selector);

class VulkanContext;

// A buffer with its own memory. Mapped for its whole life when the memory is host-visible.
class Buffer {
 public:
  Buffer() = default;
  Buffer(const VulkanContext& ctx, VkDeviceSize size, VkBufferUsageFlags usage,
         std::span<const VkMemoryPropertyFlags> preferences, const std::string& what);
  ~Buffer();
  Buffer(Buffer&& o) noexcept;
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  VkDeviceSize size() const { return size_; }
  uint8_t* mapped() const { return mapped_; }  // nullptr when not host-visible
  explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }

 private:
  void release() noexcept;

  VkDevice device_ = VK_NULL_HANDLE;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkDeviceSize size_ = 0;
  uint8_t* mapped_ = nullptr;
};

// One compute pipeline with its descriptor set layout (storage buffers at bindings 0..n-1), push
// constant range and one descriptor set.
class ComputePipeline {
 public:
  ComputePipeline(const VulkanContext& ctx, std::span<const uint32_t> spirv, uint32_t bindings,
                  uint32_t push_bytes, std::span<const uint32_t> specialization,
                  const std::string& what);
  ~ComputePipeline();
  ComputePipeline(const ComputePipeline&) = delete;
  ComputePipeline& operator=(const ComputePipeline&) = delete;

  // Points binding i at buffers[i] (whole buffer). Only while no submitted work uses the set.
  void bind(std::span<const VkBuffer> buffers);
  void record(VkCommandBuffer cb) const;  // bind pipeline and descriptor set
  VkPipelineLayout layout() const { return layout_; }

 private:
  void destroy() noexcept;

  VkDevice device_;
  uint32_t bindings_;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

// A command buffer with a fence: recorded, submitted, then waited for.
struct Submission {
  VkCommandBuffer cb = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  bool pending = false;
};

class VulkanContext {
 public:
  // Creates the instance and lists the devices; throws UNAVAILABLE with kNoDeviceMessage when
  // the loader has no driver or no device has a compute queue. `submissions` command buffers
  // are allocated for pipelining.
  explicit VulkanContext(const std::string& selector, size_t submissions = 2);
  ~VulkanContext();
  VulkanContext(const VulkanContext&) = delete;
  VulkanContext& operator=(const VulkanContext&) = delete;

  VkDevice device() const { return device_; }
  const PhysicalDevice& physical() const { return physical_; }
  const std::vector<PhysicalDevice>& devices() const { return devices_; }
  const VkPhysicalDeviceProperties& properties() const { return properties_; }
  const VkPhysicalDeviceMemoryProperties& memory() const { return memory_; }
  std::string driver() const { return driver_; }
  uint32_t compute_units() const { return compute_units_; }

  // The largest buffer the device lets one storage binding address, rounded down to 256 bytes.
  VkDeviceSize max_storage_range() const;
  // The largest single allocation the driver allows (maxMemoryAllocationSize, Vulkan 1.1).
  VkDeviceSize max_allocation() const { return max_allocation_; }

  // Ring of command buffers: begin() waits for the oldest submission to finish if it is still
  // pending (returning it through `finished` so the caller can account for it), resets it and
  // starts recording. submit() ends and queues it with its fence.
  Submission& begin(bool* waited = nullptr);
  void submit(Submission& s);
  void wait(Submission& s);  // no-op when not pending
  void wait_all();
  size_t ring_size() const { return ring_.size(); }
  // Index of the submission begin() will hand out next.
  size_t next_slot() const { return next_; }
  Submission& slot(size_t i) { return ring_[i]; }

  // One-shot: records through `record`, submits and waits.
  template <class F>
  void run_now(F&& record) {
    Submission& s = begin();
    record(s.cb);
    submit(s);
    wait(s);
  }

 private:
  void destroy() noexcept;

  VkInstance instance_ = VK_NULL_HANDLE;
  std::vector<PhysicalDevice> devices_;
  PhysicalDevice physical_;
  VkPhysicalDeviceProperties properties_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  std::string driver_;
  uint32_t compute_units_ = 1;
  VkDeviceSize max_allocation_ = ~VkDeviceSize{0};
  uint32_t queue_family_ = 0;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  std::vector<Submission> ring_;
  size_t next_ = 0;
};

// A full execution and memory dependency from earlier compute/transfer work to later compute,
// transfer and host access: recorded after every step so the next one (or the host) sees it.
void full_barrier(VkCommandBuffer cb);

}  // namespace sealhost::compute_vulkan
