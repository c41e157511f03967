// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/stage/pc1/options.hpp"
#include "plugins/stage/pc1/pc1_stage.hpp"

#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/stage.hpp>

namespace sealhost::stage_pc1 {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<Pc1Stage>(SEALHOST_KIND_STAGE,
                             "SDR PreCommit1: tree_d, CommD, replica_id and the stacked layer "
                             "labels of one sector or a batch sharing a proof type",
                             kOptions, &sdk::stage_vtable<Pc1Stage>),
};

constexpr sealhost_plugin_descriptor kDescriptor =
    sdk::plugin("sealhost.stage-pc1", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
                "the pc1 sealing stage: SDR labelling with a shared parent cache", kComponents);

}  // namespace
}  // namespace sealhost::stage_pc1

SEALHOST_PLUGIN(sealhost::stage_pc1::kDescriptor)
