// Options of sealhost.stage.pc2: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <cstdint>
#include <string>

namespace sealhost::stage_pc2 {

inline constexpr int64_t kMaxThreads = 1024;
inline constexpr int64_t kMinMemory = int64_t{64} << 10;
inline constexpr int64_t kMaxMemory = int64_t{64} << 30;
// Selects the in-process CPU engine instead of a compute component.
inline constexpr const char* kBuiltinCompute = "builtin";

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_string("compute", "\"sealhost.compute.cpu\"",
                    "component id of the compute backend doing the Poseidon work "
                    "(e.g. sealhost.compute.cpu, a GPU backend), or \"builtin\" for the "
                    "in-process CPU engine"),
    sdk::opt_int("threads", "0", 0, kMaxThreads, "threads",
                 "hashing threads of the builtin engine (0 = all cores); a compute component "
                 "uses its own setting"),
    sdk::opt_size("memory", "\"256MiB\"", kMinMemory, kMaxMemory,
                  "bound on the chunk buffers (layer columns, replica and tree rows); larger "
                  "chunks mean fewer, bigger engine calls; cancel and progress come between "
                  "chunks"),
};

struct Pc2Options {
  std::string compute = "sealhost.compute.cpu";
  unsigned threads = 0;
  uint64_t memory = uint64_t{256} << 20;

  static Pc2Options parse(const sdk::Options& o) {
    return {o.get_string("compute"), static_cast<unsigned>(o.get_int("threads")),
            o.get_size("memory")};
  }
};

}  // namespace sealhost::stage_pc2
