// Commands that run proof code locally, without a daemon: `commp`, `debug poseidon`,
// `debug parent-cache`, `debug labels`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sealhost::cli {

int cmd_commp(const std::vector<std::string>& args, const std::optional<std::string>& repo);
int cmd_debug_poseidon(const std::vector<std::string>& args,
                       const std::optional<std::string>& repo);
int cmd_debug_parent_cache(const std::vector<std::string>& args,
                           const std::optional<std::string>& repo);
int cmd_debug_labels(const std::vector<std::string>& args, const std::optional<std::string>& repo);

}  // namespace sealhost::cli
