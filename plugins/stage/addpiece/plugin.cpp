// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/stage/addpiece/add_piece_stage.hpp"
#include "plugins/stage/addpiece/options.hpp"

#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/stage.hpp>

namespace sealhost::stage_addpiece {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<AddPieceStage>(
        SEALHOST_KIND_STAGE,
        "appends a piece (payload file or zeros) to a sector's unsealed file with Lotus's "
        "alignment padding and reports the piece CIDs",
        kOptions, &sdk::stage_vtable<AddPieceStage>),
};

constexpr sealhost_plugin_descriptor kDescriptor =
    sdk::plugin("sealhost.stage-addpiece", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
                "the addpiece sealing stage: fr32 padding, piece placement and commP", kComponents);

}  // namespace
}  // namespace sealhost::stage_addpiece

SEALHOST_PLUGIN(sealhost::stage_addpiece::kDescriptor)
