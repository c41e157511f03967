// Commands that run proof code locally, without a daemon: `commp`, `debug poseidon`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sealhost::cli {

int cmd_commp(const std::vector<std::string>& args, const std::optional<std::string>& repo);
int cmd_debug_poseidon(const std::vector<std::string>& args,
                       const std::optional<std::string>& repo);

}  // namespace sealhost::cli
