// Helper process for the kill test: writes workload batches until killed.
//   store_kill_writer <dir> <seed> [max_batches]
// Prints "ready" on stdout once the environment is open; exits 0 after max_batches (if given),
// 2 on a store error (message on stderr), 64 on bad usage.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "host/store/env.hpp"
#include "tests/host/store/kill_workload.hpp"

int main(int argc, char** argv) {
  using namespace sealhost::store;
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s <dir> <seed> [max_batches]\n", argv[0]);
    return 64;
  }
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const std::uint64_t max_batches = argc == 4 ? std::strtoull(argv[3], nullptr, 10) : UINT64_MAX;
  auto env = Env::open(argv[1], testing::kill_workload_options());
  if (!env) {
    std::fprintf(stderr, "store_kill_writer: %s\n", env.status().to_string().c_str());
    return 2;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  for (std::uint64_t i = 0; i < max_batches; ++i) {
    Status s = (*env)->write([&](WriteTxn& t) { return testing::write_batch(t, rng); });
    if (!s) {
      std::fprintf(stderr, "store_kill_writer: %s\n", s.to_string().c_str());
      return 2;
    }
  }
  return 0;
}
