// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/stage/c2-vanilla/c2_vanilla.hpp"

#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/stage.hpp>

namespace sealhost::stage_c2_vanilla {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<C2VanillaStage>(
        SEALHOST_KIND_STAGE,
        "Commit2 for the embedded devnet: verifies the C1 vanilla proofs and bundles them "
        "(not a SNARK; mainnet does not accept it)",
        &sdk::stage_vtable<C2VanillaStage>),
};

constexpr sealhost_plugin_descriptor kDescriptor = sdk::plugin(
    "sealhost.stage-c2-vanilla", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_EXPERIMENTAL,
    "devnet-only Commit2: self-verifying vanilla proof bundles", kComponents);

}  // namespace
}  // namespace sealhost::stage_c2_vanilla

SEALHOST_PLUGIN(sealhost::stage_c2_vanilla::kDescriptor)
