// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/stage/pc2/options.hpp"
#include "plugins/stage/pc2/pc2_stage.hpp"

#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/stage.hpp>

namespace sealhost::stage_pc2 {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<Pc2Stage>(
        SEALHOST_KIND_STAGE,
        "PreCommit2: TreeC over the PC1 layers, the sealed replica, TreeRLast, comm_r, p_aux and "
        "t_aux, with the Poseidon work on a compute backend",
        kOptions, &sdk::stage_vtable<Pc2Stage>),
};

constexpr sealhost_plugin_descriptor kDescriptor = sdk::plugin(
    "sealhost.stage-pc2", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
    "the pc2 sealing stage: column hashes, tree_c, encoding, tree_r_last, comm_r", kComponents);

}  // namespace
}  // namespace sealhost::stage_pc2

SEALHOST_PLUGIN(sealhost::stage_pc2::kDescriptor)
