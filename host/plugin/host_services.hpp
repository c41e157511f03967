// The host services table handed to every plugin: logging into spdlog as "plugin.<name>".
#pragma once

#include <sealhost/abi.h>

namespace sealhost::host {

// Process-wide services; the returned pointer lives until exit.
const sealhost_host_services* host_services();

}  // namespace sealhost::host
