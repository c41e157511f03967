// `sealhost bench seal`: AddPiece → PC1 → PC2 → C1 → C2 → verify → WindowPoSt / WinningPoSt of
// one sector on this machine, through the real plugin loader, with a progress line per stage and
// a table of stage times (what lotus-bench sealing does).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sealhost::cli {

int cmd_bench_seal(const std::vector<std::string>& args, const std::optional<std::string>& repo);
// `sealhost bench prove FILE`: C2 (or vanilla verification) of a saved commit2 input.
int cmd_bench_prove(const std::vector<std::string>& args, const std::optional<std::string>& repo);

}  // namespace sealhost::cli
