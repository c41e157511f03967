// Internal: the "rpc" spdlog logger (created on first use from the default logger's sinks).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace sealhost::rpc::detail {

std::shared_ptr<spdlog::logger> logger();

}  // namespace sealhost::rpc::detail
