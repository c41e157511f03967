// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/stage/finalize/finalize_stage.hpp"
#include "plugins/stage/finalize/options.hpp"

#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/stage.hpp>

namespace sealhost::stage_finalize {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<FinalizeStage>(SEALHOST_KIND_STAGE,
                                  "Finalize: verify the files PoSt needs, delete the sealing-only "
                                  "files (layers, tree_c, tree_d, unsealed copy) and optionally "
                                  "move the sector to a long-term storage path",
                                  kOptions, &sdk::stage_vtable<FinalizeStage>),
};

constexpr sealhost_plugin_descriptor kDescriptor =
    sdk::plugin("sealhost.stage-finalize", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
                "the finalize sealing stage: cache-dir cleanup and move to storage", kComponents);

}  // namespace
}  // namespace sealhost::stage_finalize

SEALHOST_PLUGIN(sealhost::stage_finalize::kDescriptor)
