// The plugin's only contact with the export machinery: its descriptor and entry point.
#include "plugins/storage/local/local_storage.hpp"
#include "plugins/storage/local/options.hpp"

#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/storage.hpp>

namespace sealhost::storage_local {
namespace {

constexpr sealhost_component_desc kComponents[] = {
    sdk::component<LocalStorage>(
        SEALHOST_KIND_STORAGE,
        "sector files on local or mounted filesystem paths, in Lotus's storage-path layout",
        kOptions, &sdk::storage_vtable<LocalStorage>),
};

constexpr sealhost_plugin_descriptor kDescriptor =
    sdk::plugin("sealhost.storage-local", "0.1.0", "MIT OR Apache-2.0", SEALHOST_MATURITY_BETA,
                "local filesystem storage paths (Lotus sectorstore.json layout)", kComponents);

}  // namespace
}  // namespace sealhost::storage_local

SEALHOST_PLUGIN(sealhost::storage_local::kDescriptor)
