// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/compute/opencl/opencl_compute.hpp"
#include "plugins/compute/opencl/options.hpp"

#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/plugin.hpp>

namespace sealhost::compute_opencl {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<OpenClCompute>(
        SEALHOST_KIND_COMPUTE,
        "Poseidon and SHA254 batches and Poseidon Merkle rows on an OpenCL device (GPU, or CPU "
        "through POCL)",
        kOptions, &sdk::compute_vtable<OpenClCompute>),
};

constexpr sealhost_plugin_descriptor kDescriptor =
    sdk::plugin("sealhost.compute-opencl", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
                "OpenCL hashing kernels (Poseidon, SHA254, Merkle tree rows)", kComponents);

}  // namespace
}  // namespace sealhost::compute_opencl

SEALHOST_PLUGIN(sealhost::compute_opencl::kDescriptor)
