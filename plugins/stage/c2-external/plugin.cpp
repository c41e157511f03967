// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/stage/c2-external/c2_stage.hpp"
#include "plugins/stage/c2-external/options.hpp"

#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/stage.hpp>

namespace sealhost::stage_c2 {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<C2ExternalStage>(SEALHOST_KIND_STAGE,
                                    "Commit2 by an external prover: the lotus-bench commit2 "
                                    "input handed to a command or an HTTP endpoint, the Groth16 "
                                    "proof bytes returned",
                                    kOptions, &sdk::stage_vtable<C2ExternalStage>),
};

constexpr sealhost_plugin_descriptor kDescriptor =
    sdk::plugin("sealhost.stage-c2-external", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
                "the c2 sealing stage delegated to an external SNARK prover", kComponents);

}  // namespace
}  // namespace sealhost::stage_c2

SEALHOST_PLUGIN(sealhost::stage_c2::kDescriptor)
