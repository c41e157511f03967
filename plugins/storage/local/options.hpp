// Options of sealhost.storage.local: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <cstdint>

namespace sealhost::storage_local {

// 1 PiB: far above any sane headroom, low enough that sums with path sizes cannot overflow.
inline constexpr int64_t kMaxHeadroom = int64_t{1} << 50;

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_size("reserve_headroom", "\"0\"", 0, kMaxHeadroom,
                  "bytes kept free on every path's filesystem; allocations never use them"),
    sdk::opt_bool("fsync", "true",
                  "fsync moved files, their directories and sectorstore.json before reporting "
                  "success (turn off only for throw-away test paths)"),
};

struct LocalOptions {
  uint64_t reserve_headroom = 0;
  bool fsync = true;

  static LocalOptions parse(const sdk::Options& o) {
    return {o.get_size("reserve_headroom"), o.get_bool("fsync")};
  }
};

}  // namespace sealhost::storage_local
