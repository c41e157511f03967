// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/compute/cpu/cpu_compute.hpp"
#include "plugins/compute/cpu/options.hpp"

#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/plugin.hpp>

namespace sealhost::compute_cpu {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<CpuCompute>(
        SEALHOST_KIND_COMPUTE,
        "Poseidon and SHA254 batches and Poseidon Merkle rows on the host CPUs, over a thread pool",
        kOptions, &sdk::compute_vtable<CpuCompute>),
};

constexpr sealhost_plugin_descriptor kDescriptor =
    sdk::plugin("sealhost.compute-cpu", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
                "CPU hashing kernels (Poseidon, SHA254, Merkle tree rows)", kComponents);

}  // namespace
}  // namespace sealhost::compute_cpu

SEALHOST_PLUGIN(sealhost::compute_cpu::kDescriptor)
