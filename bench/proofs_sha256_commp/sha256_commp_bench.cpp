// SHA-256 / commP throughput with the ratios to the bounds they chase.
//
// Bounds: one SHA-NI stream is latency bound; two interleaved streams approach the SHA unit's
// throughput, which is the ceiling for commP: a commP tree needs two compressions (the data block
// and the constant padding block) per internal node, i.e. one compression per 16 padded bytes.
// Usage: proofs_sha256_commp_bench [MiB of payload, default 256]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proofs/commp/commp.hpp"
#include "proofs/sha256/sha256.hpp"

namespace {

using namespace sealhost::proofs;
using Clock = std::chrono::steady_clock;

// Best of `reps` runs of fn(); returns units per second.
template <typename F>
double best_rate(int reps, double units, F&& fn) {
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    fn();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, units / s);
  }
  return best;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  std::printf("sha256 implementation: %s; cpus: %u; load average before: %s\n",
              sha256::implementation_name(), std::thread::hardware_concurrency(),
              load_average().c_str());

  std::vector<uint8_t> blocks(1 << 20);
  std::mt19937_64 rng(1);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  const size_t nblocks = blocks.size() / 64;
  const int reps = 5;
  sha256::State s[4] = {sha256::kInitialState, sha256::kInitialState, sha256::kInitialState,
                        sha256::kInitialState};

  double serial = 0, x2 = 0, x4 = 0;
  if (sha256::sha_ni_supported()) {
    serial = best_rate(reps, 20.0 * nblocks, [&] {
      for (int i = 0; i < 20; ++i) sha256::impl::compress_sha_ni(s[0], blocks.data(), nblocks);
    });
    x2 = best_rate(reps, 20.0 * nblocks, [&] {
      for (int i = 0; i < 10; ++i) {
        sha256::impl::compress_x2_sha_ni(s[0], blocks.data(), s[1], blocks.data(), nblocks);
      }
    });
    x4 = best_rate(reps, 20.0 * nblocks, [&] {
      for (int i = 0; i < 5; ++i) {
        sha256::impl::compress_x4_sha_ni(
            {&s[0], &s[1], &s[2], &s[3]},
            {blocks.data(), blocks.data(), blocks.data(), blocks.data()}, nblocks);
      }
    });
  }
  const double portable = best_rate(reps, 2.0 * nblocks, [&] {
    for (int i = 0; i < 2; ++i) sha256::impl::compress_portable(s[0], blocks.data(), nblocks);
  });
  std::vector<uint8_t> nodes_out(blocks.size() / 2);
  const double nodes = best_rate(reps, 20.0 * nblocks, [&] {
    for (int i = 0; i < 20; ++i) sha256::sha254_nodes(blocks.data(), nodes_out.data(), nblocks);
  });

  std::printf("SHA-NI serial (1 stream, latency bound): %8.2f M compressions/s\n", serial / 1e6);
  std::printf("SHA-NI 2 streams (throughput bound):     %8.2f M compressions/s  (%.2fx serial)\n",
              x2 / 1e6, serial > 0 ? x2 / serial : 0);
  std::printf("SHA-NI 4 streams:                         %8.2f M compressions/s  (%.2fx serial)\n",
              x4 / 1e6, serial > 0 ? x4 / serial : 0);
  std::printf("portable:                                 %8.2f M compressions/s\n", portable / 1e6);
  std::printf("sha254_nodes (64-byte msg + const block): %8.2f M nodes/s\n", nodes / 1e6);

  // commP over an in-memory payload of exactly 127 * 2^k bytes (no zero-padding shortcut).
  const size_t payload_bytes = (mib << 20) / 128 * 127;
  std::vector<uint8_t> payload(payload_bytes);
  for (size_t i = 0; i < payload.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(payload.data() + i, &v, std::min<size_t>(8, payload.size() - i));
  }
  const double padded_per_payload = 128.0 / 127.0;
  auto commp_rate = [&](unsigned threads) {
    return best_rate(3, static_cast<double>(payload_bytes),
                     [&] { (void)commp::commp(payload, threads); });
  };
  const double one = commp_rate(1);
  const double two = commp_rate(2);
  const double bound_bytes = x2 * 16.0 / padded_per_payload;  // payload bytes/s at the bound
  std::printf("commP %zu MiB payload, 1 thread:  %6.3f GB/s payload (%.2f M compressions/s)\n",
              payload_bytes >> 20, one / 1e9, one * padded_per_payload / 16 / 1e6);
  std::printf("commP %zu MiB payload, 2 threads: %6.3f GB/s payload\n", payload_bytes >> 20,
              two / 1e9);
  if (x2 > 0) {
    std::printf("ratio commP(1 thread) / 2-stream bound (%.3f GB/s): %.2f  (target >= 0.90)\n",
                bound_bytes / 1e9, one / bound_bytes);
  }
  std::printf("ratio commP(2 threads) / commP(1 thread): %.2f  (target >= 1.80)\n", two / one);
  std::printf("load average after: %s\n", load_average().c_str());
  return 0;
}
