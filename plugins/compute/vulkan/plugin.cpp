// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/compute/vulkan/options.hpp"
#include "plugins/compute/vulkan/vulkan_compute.hpp"

#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/plugin.hpp>

namespace sealhost::compute_vulkan {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<VulkanCompute>(
        SEALHOST_KIND_COMPUTE,
        "Poseidon and SHA254 batches and Poseidon Merkle rows as Vulkan compute shaders on a GPU "
        "(or any Vulkan device)",
        kOptions, &sdk::compute_vtable<VulkanCompute>),
};

constexpr sealhost_plugin_descriptor kDescriptor = sdk::plugin(
    "sealhost.compute-vulkan", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_EXPERIMENTAL,
    "Vulkan GPU hashing kernels (Poseidon, SHA254, Merkle tree rows)", kComponents);

}  // namespace
}  // namespace sealhost::compute_vulkan

SEALHOST_PLUGIN(sealhost::compute_vulkan::kDescriptor)
