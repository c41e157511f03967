// Options of sealhost.compute.cpu: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <cstdint>

namespace sealhost::compute_cpu {

// Far above any machine we run on; low enough that a typo ("threads = 100000") is caught.
inline constexpr int64_t kMaxThreads = 1024;
// The default task must stay short enough to honour a cancel within abi.h's ~100 ms: 2048 arity-8
// hashes take ~80 ms on one 2.4 GHz EPYC core (26k hashes/s, ADX kernel). 2^20 allows coarse tasks
// for benchmarking without letting a typo freeze cancellation for minutes.
inline constexpr int64_t kDefaultBatchSize = 2048;
inline constexpr int64_t kMaxBatchSize = int64_t{1} << 20;

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_int("threads", "0", 0, kMaxThreads, "threads",
                 "threads that hash, counting the calling thread; 0 = every CPU this process may "
                 "run on"),
    sdk::opt_int("batch_size", "2048", 1, kMaxBatchSize, "hashes",
                 "hashes per task handed to a thread; cancel and progress are checked between "
                 "tasks"),
};

struct CpuOptions {
  unsigned threads = 0;  // 0 = all available CPUs
  size_t batch_size = kDefaultBatchSize;

  static CpuOptions parse(const sdk::Options& o) {
    return {static_cast<unsigned>(o.get_int("threads")),
            static_cast<size_t>(o.get_int("batch_size"))};
  }
};

}  // namespace sealhost::compute_cpu
