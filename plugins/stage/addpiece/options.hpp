// Options of sealhost.stage.addpiece: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <cstdint>

namespace sealhost::stage_addpiece {

inline constexpr int64_t kMinChunk = int64_t{64} << 10;
inline constexpr int64_t kMaxChunk = int64_t{1} << 30;
inline constexpr int64_t kMaxThreads = 1024;

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_int("threads", "0", 0, kMaxThreads, "threads",
                 "threads hashing commP while a piece is written (0 = all cores)"),
    sdk::opt_bool("fsync", "true",
                  "fdatasync the unsealed file (and its directory when created) before reporting "
                  "success (turn off only for throw-away test sectors)"),
    sdk::opt_size("chunk", "\"8MiB\"", kMinChunk, kMaxChunk,
                  "padded bytes read, padded and written per step; cancel and progress come "
                  "between steps (memory: chunk + max(chunk, threads x 8MiB))"),
};

struct AddPieceOptions {
  unsigned threads = 0;
  bool fsync = true;
  uint64_t chunk = uint64_t{8} << 20;

  static AddPieceOptions parse(const sdk::Options& o) {
    return {static_cast<unsigned>(o.get_int("threads")), o.get_bool("fsync"), o.get_size("chunk")};
  }
};

}  // namespace sealhost::stage_addpiece
