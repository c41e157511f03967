#include "plugins/compute/vulkan/vulkan_context.hpp"

#include <sealhost/sdk/error.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <thread>
#include <utility>

namespace sealhost::compute_vulkan {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER:
      return 3;
    default:
      return 4;  // CPU drivers (lavapipe, SwiftShader) last
  }
}

bool has_extension(VkPhysicalDevice d, const char* name) {
  uint32_t count = 0;
  if (vkEnumerateDeviceExtensionProperties(d, nullptr, &count, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> ext(count);
  if (vkEnumerateDeviceExtensionProperties(d, nullptr, &count, ext.data()) != VK_SUCCESS) {
    return false;
  }
  return std::any_of(ext.begin(), ext.end(), [&](const VkExtensionProperties& e) {
    return std::strcmp(e.extensionName, name) == 0;
  });
}

// Shader cores where the driver says (NVIDIA SMs, AMD CUs), the host's threads for a CPU driver,
// 1 when the device does not tell.
uint32_t count_compute_units(VkPhysicalDevice d, VkPhysicalDeviceType type) {
  if (has_extension(d, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME)) {
    VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm{};
    sm.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV;
    VkPhysicalDeviceProperties2 p{};
    p.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    p.pNext = &sm;
    vkGetPhysicalDeviceProperties2(d, &p);
    if (sm.shaderSMCount > 0) return sm.shaderSMCount;
  }
  if (has_extension(d, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME)) {
    VkPhysicalDeviceShaderCorePropertiesAMD core{};
    core.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD;
    VkPhysicalDeviceProperties2 p{};
    p.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    p.pNext = &core;
    vkGetPhysicalDeviceProperties2(d, &p);
    const uint32_t cus =
        core.shaderEngineCount * core.shaderArraysPerEngineCount * core.computeUnitsPerShaderArray;
    if (cus > 0) return cus;
  }
  if (type == VK_PHYSICAL_DEVICE_TYPE_CPU) return std::max(1u, std::thread::hardware_concurrency());
  return 1;
}

std::string device_list(std::span<const PhysicalDevice> devices) {
  std::string s;
  for (const auto& d : devices) {
    s += (s.empty() ? "" : ", ") + std::to_string(d.index) + " \"" + d.name + "\"";
  }
  return s;
}

}  // namespace

const char* vk_result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS:
      return "VK_SUCCESS";
    case VK_NOT_READY:
      return "VK_NOT_READY";
    case VK_TIMEOUT:
      return "VK_TIMEOUT";
    case VK_INCOMPLETE:
      return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED:
      return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST:
      return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED:
      return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT:
      return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
      return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT:
      return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS:
      return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED:
      return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL:
      return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY:
      return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default:
      return "VkResult error";
  }
}

void vk_check(VkResult r, const std::string& what) {
  if (r == VK_SUCCESS) return;
  const std::string msg = what + ": " + vk_result_name(r) + " (" + std::to_string(r) + ")";
  switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
      throw sdk::exhausted(msg + " (lower memory_limit or batch, or free device memory)");
    case VK_ERROR_DEVICE_LOST:
      throw sdk::unavailable(msg + " (the GPU was reset or removed; check the driver log)");
    default:
      throw sdk::Error(SEALHOST_E_INTERNAL, msg);
  }
}

const PhysicalDevice& select_device(std::span<const PhysicalDevice> devices,
                                    const std::string& selector) {
  if (devices.empty()) throw sdk::unavailable(kNoDeviceMessage);
  if (selector.empty()) {
    const PhysicalDevice* best = nullptr;
    for (const auto& d : devices) {
      if (d.has_compute_queue && (!best || type_rank(d.type) < type_rank(best->type))) best = &d;
    }
    if (!best) {
      throw sdk::unavailable(std::string(kNoDeviceMessage) +
                             " (no device has a compute queue: " + device_list(devices) + ")");
    }
    return *best;
  }
  const PhysicalDevice* found = nullptr;
  if (all_digits(selector)) {
    const unsigned long index = std::stoul(selector);
    for (const auto& d : devices) {
      if (d.index == index) found = &d;
    }
  } else {
    const std::string want = lower(selector);
    for (const auto& d : devices) {
      if (lower(d.name).find(want) != std::string::npos) {
        found = &d;
        break;
      }
    }
  }
  if (!found) {
    throw sdk::invalid_argument("device \"" + selector + "\": no such Vulkan device (have " +
                                device_list(devices) +
                                "; set device to an index or a name substring, or leave it empty)");
  }
  if (!found->has_compute_queue) {
    throw sdk::invalid_argument(
        "device \"" + selector + "\": " + found->name +
        " has no compute queue (choose another device: " + device_list(devices) + ")");
  }
  return *found;
}

// ---------------------------------------------------------------- Buffer

Buffer::Buffer(const VulkanContext& ctx, VkDeviceSize size, VkBufferUsageFlags usage,
               std::span<const VkMemoryPropertyFlags> preferences, const std::string& what)
    : device_(ctx.device()), size_(size) {
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = size;
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  vk_check(vkCreateBuffer(device_, &info, nullptr, &buffer_), what + ": vkCreateBuffer");
  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(device_, buffer_, &req);
  const auto& mem = ctx.memory();
  VkResult last = VK_ERROR_OUT_OF_DEVICE_MEMORY;
  for (VkMemoryPropertyFlags want : preferences) {
    for (uint32_t i = 0; i < mem.memoryTypeCount && memory_ == VK_NULL_HANDLE; ++i) {
      const VkMemoryPropertyFlags have = mem.memoryTypes[i].propertyFlags;
      if (!(req.memoryTypeBits & (1u << i)) || (have & want) != want) continue;
      if (mem.memoryHeaps[mem.memoryTypes[i].heapIndex].size < req.size) continue;
      VkMemoryAllocateInfo alloc{};
      alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
      alloc.allocationSize = req.size;
      alloc.memoryTypeIndex = i;
      last = vkAllocateMemory(device_, &alloc, nullptr, &memory_);
      if (last != VK_SUCCESS) {
        memory_ = VK_NULL_HANDLE;
        continue;
      }
      if (have & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        void* p = nullptr;
        const VkResult r = vkMapMemory(device_, memory_, 0, VK_WHOLE_SIZE, 0, &p);
        if (r != VK_SUCCESS) {
          release();
          vk_check(r, what + ": vkMapMemory");
        }
        mapped_ = static_cast<uint8_t*>(p);
      }
    }
    if (memory_ != VK_NULL_HANDLE) break;
  }
  if (memory_ == VK_NULL_HANDLE) {
    release();
    throw sdk::exhausted(what + ": cannot allocate " + std::to_string(size) + " bytes of device " +
                         "memory (" + vk_result_name(last) +
                         "; lower memory_limit or free device memory)");
  }
  const VkResult r = vkBindBufferMemory(device_, buffer_, memory_, 0);
  if (r != VK_SUCCESS) {
    release();
    vk_check(r, what + ": vkBindBufferMemory");
  }
}

Buffer::~Buffer() {
  release();
}

Buffer::Buffer(Buffer&& o) noexcept
    : device_(o.device_),
      buffer_(o.buffer_),
      memory_(o.memory_),
      size_(o.size_),
      mapped_(o.mapped_) {
  o.buffer_ = VK_NULL_HANDLE;
  o.memory_ = VK_NULL_HANDLE;
  o.mapped_ = nullptr;
  o.size_ = 0;
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    device_ = o.device_;
    buffer_ = std::exchange(o.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(o.memory_, VK_NULL_HANDLE);
    mapped_ = std::exchange(o.mapped_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void Buffer::release() noexcept {
  if (buffer_ != VK_NULL_HANDLE) vkDestroyBuffer(device_, buffer_, nullptr);
  if (memory_ != VK_NULL_HANDLE) vkFreeMemory(device_, memory_, nullptr);  // unmaps too
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
}

// ---------------------------------------------------------------- ComputePipeline

ComputePipeline::ComputePipeline(const VulkanContext& ctx, std::span<const uint32_t> spirv,
                                 uint32_t bindings, uint32_t push_bytes,
                                 std::span<const uint32_t> specialization, const std::string& what)
    : device_(ctx.device()), bindings_(bindings) {
  try {
    VkShaderModuleCreateInfo sm{};
    sm.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    sm.codeSize = spirv.size_bytes();
    sm.pCode = spirv.data();
    vk_check(vkCreateShaderModule(device_, &sm, nullptr, &module_), what + ": shader module");

    std::vector<VkDescriptorSetLayoutBinding> b(bindings);
    for (uint32_t i = 0; i < bindings; ++i) {
      b[i].binding = i;
      b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      b[i].descriptorCount = 1;
      b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    VkDescriptorSetLayoutCreateInfo dl{};
    dl.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    dl.bindingCount = bindings;
    dl.pBindings = b.data();
    vk_check(vkCreateDescriptorSetLayout(device_, &dl, nullptr, &set_layout_),
             what + ": descriptor set layout");

    VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
    VkPipelineLayoutCreateInfo pl{};
    pl.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    pl.setLayoutCount = 1;
    pl.pSetLayouts = &set_layout_;
    pl.pushConstantRangeCount = 1;
    pl.pPushConstantRanges = &push;
    vk_check(vkCreatePipelineLayout(device_, &pl, nullptr, &layout_), what + ": pipeline layout");

    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, bindings};
    VkDescriptorPoolCreateInfo dp{};
    dp.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    dp.maxSets = 1;
    dp.poolSizeCount = 1;
    dp.pPoolSizes = &size;
    vk_check(vkCreateDescriptorPool(device_, &dp, nullptr, &pool_), what + ": descriptor pool");
    VkDescriptorSetAllocateInfo ds{};
    ds.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    ds.descriptorPool = pool_;
    ds.descriptorSetCount = 1;
    ds.pSetLayouts = &set_layout_;
    vk_check(vkAllocateDescriptorSets(device_, &ds, &set_), what + ": descriptor set");

    // Specialization constant i gets constant_id i.
    std::vector<VkSpecializationMapEntry> entries(specialization.size());
    for (uint32_t i = 0; i < entries.size(); ++i) {
      entries[i] = {i, static_cast<uint32_t>(i * sizeof(uint32_t)), sizeof(uint32_t)};
    }
    VkSpecializationInfo spec{};
    spec.mapEntryCount = static_cast<uint32_t>(entries.size());
    spec.pMapEntries = entries.data();
    spec.dataSize = specialization.size_bytes();
    spec.pData = specialization.data();
    VkComputePipelineCreateInfo cp{};
    cp.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    cp.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    cp.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cp.stage.module = module_;
    cp.stage.pName = "main";
    cp.stage.pSpecializationInfo = &spec;
    cp.layout = layout_;
    vk_check(vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &cp, nullptr, &pipeline_),
             what + ": compute pipeline");
  } catch (...) {
    destroy();
    throw;
  }
}

ComputePipeline::~ComputePipeline() {
  destroy();
}

void ComputePipeline::destroy() noexcept {
  if (pipeline_) vkDestroyPipeline(device_, pipeline_, nullptr);
  if (pool_) vkDestroyDescriptorPool(device_, pool_, nullptr);
  if (layout_) vkDestroyPipelineLayout(device_, layout_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(device_, set_layout_, nullptr);
  if (module_) vkDestroyShaderModule(device_, module_, nullptr);
  pipeline_ = VK_NULL_HANDLE;
  pool_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
  module_ = VK_NULL_HANDLE;
}

void ComputePipeline::bind(std::span<const VkBuffer> buffers) {
  std::vector<VkDescriptorBufferInfo> info(bindings_);
  std::vector<VkWriteDescriptorSet> writes(bindings_);
  for (uint32_t i = 0; i < bindings_; ++i) {
    info[i] = {buffers[i], 0, VK_WHOLE_SIZE};
    writes[i] = {};
    writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    writes[i].dstSet = set_;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &info[i];
  }
  vkUpdateDescriptorSets(device_, bindings_, writes.data(), 0, nullptr);
}

void ComputePipeline::record(VkCommandBuffer cb) const {
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_);
  vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 1, &set_, 0, nullptr);
}

// ---------------------------------------------------------------- VulkanContext

VulkanContext::VulkanContext(const std::string& selector, size_t submissions) {
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "sealhost";
  app.pEngineName = "sealhost.compute.vulkan";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ci.pApplicationInfo = &app;
  const VkResult created = vkCreateInstance(&ci, nullptr, &instance_);
  if (created == VK_ERROR_INCOMPATIBLE_DRIVER || created == VK_ERROR_INITIALIZATION_FAILED) {
    instance_ = VK_NULL_HANDLE;
    throw sdk::unavailable(std::string(kNoDeviceMessage) +
                           " (vkCreateInstance: " + vk_result_name(created) + ")");
  }
  vk_check(created, "vkCreateInstance");
  try {
    uint32_t count = 0;
    vk_check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> handles(count);
    vk_check(vkEnumeratePhysicalDevices(instance_, &count, handles.data()),
             "vkEnumeratePhysicalDevices");
    for (uint32_t i = 0; i < count; ++i) {
      PhysicalDevice d;
      d.index = i;
      d.handle = handles[i];
      VkPhysicalDeviceProperties p{};
      vkGetPhysicalDeviceProperties(handles[i], &p);
      d.name = p.deviceName;
      d.type = p.deviceType;
      VkPhysicalDeviceMemoryProperties m{};
      vkGetPhysicalDeviceMemoryProperties(handles[i], &m);
      for (uint32_t h = 0; h < m.memoryHeapCount; ++h) {
        if (m.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
          d.device_local_bytes = std::max<uint64_t>(d.device_local_bytes, m.memoryHeaps[h].size);
        }
      }
      uint32_t qn = 0;
      vkGetPhysicalDeviceQueueFamilyProperties(handles[i], &qn, nullptr);
      std::vector<VkQueueFamilyProperties> q(qn);
      vkGetPhysicalDeviceQueueFamilyProperties(handles[i], &qn, q.data());
      for (const auto& f : q) {
        if ((f.queueFlags & VK_QUEUE_COMPUTE_BIT) && f.queueCount > 0) d.has_compute_queue = true;
      }
      devices_.push_back(std::move(d));
    }
    physical_ = select_device(devices_, selector);
    vkGetPhysicalDeviceProperties(physical_.handle, &properties_);
    vkGetPhysicalDeviceMemoryProperties(physical_.handle, &memory_);
    compute_units_ = count_compute_units(physical_.handle, physical_.type);
    if (properties_.apiVersion >= VK_API_VERSION_1_1) {
      VkPhysicalDeviceMaintenance3Properties m3{};
      m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
      VkPhysicalDeviceProperties2 p2{};
      p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
      p2.pNext = &m3;
      vkGetPhysicalDeviceProperties2(physical_.handle, &p2);
      if (m3.maxMemoryAllocationSize > 0) max_allocation_ = m3.maxMemoryAllocationSize;
    }
    if (properties_.apiVersion >= VK_API_VERSION_1_2) {
      VkPhysicalDeviceDriverProperties drv{};
      drv.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
      VkPhysicalDeviceProperties2 p2{};
      p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
      p2.pNext = &drv;
      vkGetPhysicalDeviceProperties2(physical_.handle, &p2);
      driver_ = std::string(drv.driverName) + " " + drv.driverInfo;
    }

    // A queue family with compute; one that is compute-only is preferred (async compute).
    uint32_t qn = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_.handle, &qn, nullptr);
    std::vector<VkQueueFamilyProperties> q(qn);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_.handle, &qn, q.data());
    int chosen = -1;
    for (uint32_t i = 0; i < qn; ++i) {
      if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || q[i].queueCount == 0) continue;
      if (chosen < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) chosen = static_cast<int>(i);
      if (!(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) break;
    }
    queue_family_ = static_cast<uint32_t>(chosen);
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo qi{};
    qi.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    qi.queueFamilyIndex = queue_family_;
    qi.queueCount = 1;
    qi.pQueuePriorities = &priority;
    VkDeviceCreateInfo di{};
    di.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    vk_check(vkCreateDevice(physical_.handle, &di, nullptr, &device_),
             "vkCreateDevice on " + physical_.name);
    vkGetDeviceQueue(device_, queue_family_, 0, &queue_);

    VkCommandPoolCreateInfo pi{};
    pi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = queue_family_;
    vk_check(vkCreateCommandPool(device_, &pi, nullptr, &pool_), "vkCreateCommandPool");
    ring_.resize(std::max<size_t>(1, submissions));
    for (auto& s : ring_) {
      VkCommandBufferAllocateInfo ai{};
      ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
      ai.commandPool = pool_;
      ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
      ai.commandBufferCount = 1;
      vk_check(vkAllocateCommandBuffers(device_, &ai, &s.cb), "vkAllocateCommandBuffers");
      VkFenceCreateInfo fi{};
      fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
      vk_check(vkCreateFence(device_, &fi, nullptr, &s.fence), "vkCreateFence");
    }
  } catch (...) {
    destroy();
    throw;
  }
}

VulkanContext::~VulkanContext() {
  destroy();
}

void VulkanContext::destroy() noexcept {
  if (device_) {
    vkDeviceWaitIdle(device_);
    for (auto& s : ring_) {
      if (s.fence) vkDestroyFence(device_, s.fence, nullptr);
      s.fence = VK_NULL_HANDLE;
    }
    ring_.clear();
    if (pool_) vkDestroyCommandPool(device_, pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
  pool_ = VK_NULL_HANDLE;
  device_ = VK_NULL_HANDLE;
  instance_ = VK_NULL_HANDLE;
}

VkDeviceSize VulkanContext::max_storage_range() const {
  return VkDeviceSize{properties_.limits.maxStorageBufferRange} & ~VkDeviceSize{255};
}

Submission& VulkanContext::begin(bool* waited) {
  Submission& s = ring_[next_];
  next_ = (next_ + 1) % ring_.size();
  if (waited) *waited = s.pending;
  wait(s);
  vk_check(vkResetCommandBuffer(s.cb, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vk_check(vkBeginCommandBuffer(s.cb, &bi), "vkBeginCommandBuffer");
  return s;
}

void VulkanContext::submit(Submission& s) {
  vk_check(vkEndCommandBuffer(s.cb), "vkEndCommandBuffer");
  vk_check(vkResetFences(device_, 1, &s.fence), "vkResetFences");
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &s.cb;
  vk_check(vkQueueSubmit(queue_, 1, &si, s.fence), "vkQueueSubmit");
  s.pending = true;
}

void VulkanContext::wait(Submission& s) {
  if (!s.pending) return;
  s.pending = false;  // even on failure: a lost device does not come back
  vk_check(vkWaitForFences(device_, 1, &s.fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
}

void VulkanContext::wait_all() {
  // Oldest first, so callers that track completions in submission order stay consistent.
  for (size_t i = 0; i < ring_.size(); ++i) wait(ring_[(next_ + i) % ring_.size()]);
}

void full_barrier(VkCommandBuffer cb) {
  VkMemoryBarrier b{};
  b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                    VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                    VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT |
                           VK_PIPELINE_STAGE_HOST_BIT,
                       0, 1, &b, 0, nullptr, 0, nullptr);
}

}  // namespace sealhost::compute_vulkan
