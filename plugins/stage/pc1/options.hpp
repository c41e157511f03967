// Options of sealhost.stage.pc1: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <cstdint>
#include <string>

namespace sealhost::stage_pc1 {

inline constexpr int64_t kMaxBatch = 8;
inline constexpr const char* kLayerIoChoices[] = {"auto", "direct", "buffered"};

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_int("threads", "2", 1, 64, "threads",
                 "hashing threads: a batch runs one lane per thread (each lane interleaves its "
                 "sectors' SHA streams); one sector with >= 2 adds a producer thread that gathers "
                 "parent labels ahead of the hashing thread when layers exceed 16 MiB"),
    sdk::opt_int("batch_size", "4", 1, kMaxBatch, "sectors",
                 "most sectors one call may label together (input \"sectors\": [...]); sectors of "
                 "one batch share a proof type and one pass over the parent cache"),
    sdk::opt_path("parent_cache_dir", "\"/var/tmp/filecoin-parents\"",
                  "directory of the SDR parent cache files (v28-sdr-parent-<id>.cache); the "
                  "same directory Lotus and the Rust prover use (FIL_PROOFS_PARENT_CACHE)"),
    sdk::opt_bool("verify_cache", "false",
                  "check each parent cache file's SHA-256 against the upstream digests on first "
                  "use (about 1 s per GiB) and regenerate it when it does not match"),
    sdk::opt_bool("fsync", "true",
                  "fdatasync tree_d before reporting success (turn off only for throw-away "
                  "sectors); layer files are always synced"),
    sdk::opt_enum("layer_io", "auto", kLayerIoChoices,
                  "how layer files are written: auto = O_DIRECT for layers over 16 MiB (no "
                  "page-cache copy) and the page cache for smaller ones; direct / buffered force "
                  "one (direct falls back to buffered where the filesystem refuses O_DIRECT)"),
    sdk::opt_bool("keep_layer_buffers", "true",
                  "keep the layer buffers of a call mapped for the next one: a later call skips "
                  "their first touch (page faults and zeroing, 1-4 s per GiB, on the labelling "
                  "cores); the memory of the largest batch stays allocated until idle"),
    sdk::opt_int("layer_buffer_idle_seconds", "600", 0, 604800, "seconds",
                 "kept layer buffers are unmapped after this long without a PC1 call (0 = keep "
                 "them until the plugin is unloaded); not applied to reserved buffers"),
    sdk::opt_string("reserve_layer_buffers", "",
                    "proof type (name or alias, e.g. \"512MiB-v1.1\") whose full batch of layer "
                    "buffers (batch_size sectors on `threads` threads) is mapped and faulted in "
                    "when the plugin loads and then kept, so the first call runs as fast as later "
                    "ones; needs keep_layer_buffers; empty = no reservation"),
};

struct Pc1Options {
  unsigned threads = 2;
  unsigned batch_size = 4;
  std::string parent_cache_dir = "/var/tmp/filecoin-parents";
  bool verify_cache = false;
  bool fsync = true;
  std::string layer_io = "auto";
  bool keep_layer_buffers = true;
  unsigned layer_buffer_idle_seconds = 600;
  std::string reserve_layer_buffers;

  static Pc1Options parse(const sdk::Options& o) {
    return {static_cast<unsigned>(o.get_int("threads")),
            static_cast<unsigned>(o.get_int("batch_size")),
            o.get_string("parent_cache_dir"),
            o.get_bool("verify_cache"),
            o.get_bool("fsync"),
            o.get_string("layer_io"),
            o.get_bool("keep_layer_buffers"),
            static_cast<unsigned>(o.get_int("layer_buffer_idle_seconds")),
            o.get_string("reserve_layer_buffers")};
  }
};

}  // namespace sealhost::stage_pc1
