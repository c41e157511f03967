// Fallback PoSt vanilla proving and verification on 8 MiB sectors built in a temp dir.
//
// Bound: proving is Poseidon bound. TreeRLast keeps only rows above rows_to_discard (2, as
// rust-fil-proofs writes for 8 MiB), so each challenge rebuilds the discarded rows 1 and 2 of the
// 8^3 = 512-leaf subtree under its stored row-3 node from the replica: 64 + 8 = 72 arity-8
// hashes (upstream gen_cached_proof rebuilds the same 512-leaf segment and also rehashes its
// root: 73), plus 6 hashes for the prover's own check of the path (upstream validates too).
// Window and winning proving spread all challenges of all sectors over the threads. Verification
// hashes the 6 path levels per challenge and one arity-2 hash per sector. The bound is that hash
// count at the arity-8 batch rate measured in the same run on one core (hash_batch_bytes); ratio =
// bound time / measured time (1.0 = no overhead). Usage: proofs_post_bench [repetitions, default
// 15]
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "proofs/merkle/tree_store.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/post/vanilla.hpp"

namespace {

using namespace sealhost::proofs;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr uint64_t kSectorBytes = 8 << 20;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timing {
  double wall_ms = 0;  // median
  double cpu_ms = 0;   // median
  double best_ms = 0;  // fastest wall
};

template <typename F>
Timing measure(int reps, F&& fn) {
  std::vector<double> wall, cpu;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    fn(r);
    cpu.push_back((cpu_seconds() - c0) * 1e3);
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2], wall.front()};
}

post::ReplicaInfo make_sector(const fs::path& dir, uint64_t id, uint32_t seed) {
  post::ReplicaInfo info;
  info.sector_id = id;
  info.cache_dir = dir / ("cache-" + std::to_string(id));
  info.replica_path = dir / ("sealed-" + std::to_string(id));
  fs::create_directories(info.cache_dir);
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> replica(kSectorBytes);
  for (size_t i = 0; i < replica.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(&replica[i], &v, 8);
  }
  for (size_t i = 31; i < replica.size(); i += 32) replica[i] &= 0x3f;
  std::ofstream(info.replica_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(replica.data()),
             static_cast<std::streamsize>(replica.size()));
  const auto shape = merkle::TreeShape::for_sector(kSectorBytes);
  merkle::BuildOptions build;
  build.threads = 2;
  const auto comm_r_last =
      merkle::build_tree(info.cache_dir, merkle::TreeId::kTreeRLast, shape,
                         merkle::memory_leaf_reader(replica.data(), shape.total_leaves()),
                         {merkle::default_rows_to_discard(shape.base_leaves, 8)}, build);
  post::Node comm_c{};
  comm_c[0] = static_cast<uint8_t>(seed);
  info.comm_c = comm_c;
  info.comm_r_last = comm_r_last;
  info.comm_r = post::comm_r_of(comm_c, comm_r_last);
  return info;
}

post::Bytes32 randomness(int r) {
  post::Bytes32 b{};
  b[0] = static_cast<uint8_t>(r);
  b[1] = static_cast<uint8_t>(r >> 8);
  b[2] = 0x5a;
  return b;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  const fs::path dir =
      fs::temp_directory_path() / ("sealhost_post_bench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::printf("proofs_post_bench: 8 MiB sectors, %d repetitions (median), load %s, poseidon %s\n",
              reps, load_average().c_str(), poseidon::kernel_name());

  // Same-run bound: single-thread arity-8 batch hash rate.
  std::vector<uint8_t> in(4096 * 8 * 32), out(4096 * 32);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i * 13 + 7);
  for (size_t i = 31; i < in.size(); i += 32) in[i] &= 0x3f;
  const Timing ht =
      measure(3, [&](int) { poseidon::hash_batch_bytes(8, in.data(), out.data(), 4096); });
  const double us_per_hash = ht.cpu_ms * 1e3 / 4096;
  std::printf("poseidon arity-8 batch: %.1f us/hash (CPU), %.0f hash/s\n", us_per_hash,
              1e6 / us_per_hash);

  const std::vector<post::ReplicaInfo> sectors = {make_sector(dir, 1, 1), make_sector(dir, 2, 2)};
  std::vector<post::PublicSector> pubs;
  for (const auto& s : sectors) pubs.push_back({s.sector_id, s.comm_r});

  const auto window = challenges::PoStConfig::window(kSectorBytes);
  const size_t challenges_total = window.challenge_count * sectors.size();
  const double prove_hashes = static_cast<double>(challenges_total) * (72 + 6);
  const double verify_hashes = static_cast<double>(challenges_total) * 6 + 2;

  for (unsigned threads : {1u, 2u}) {
    post::ProveOptions opt;
    opt.threads = threads;
    size_t faults = 0;
    const Timing t = measure(reps, [&](int r) {
      faults += post::prove_window(window, randomness(r), sectors, opt).faults.size();
    });
    const double bound_ms = prove_hashes * us_per_hash / 1e3 / threads;
    std::printf(
        "window prove, 2-sector partition, %u thread(s): best %.2f ms, median %.2f ms wall, %.2f "
        "ms CPU; bound %.2f ms (%.0f hashes); ratio %.2f (median wall) %.2f (CPU)%s\n",
        threads, t.best_ms, t.wall_ms, t.cpu_ms, bound_ms, prove_hashes, bound_ms / t.wall_ms,
        bound_ms * threads / t.cpu_ms, faults != 0 ? "  FAULTS!" : "");
  }
  const auto proofs = post::prove_window(window, randomness(0), sectors);
  const auto parts = post::partition_vanilla_proofs(window, proofs.proofs);
  bool all_valid = true;
  const Timing vt = measure(reps, [&](int) {
    all_valid &= post::verify_all_partitions(window, randomness(0), pubs, parts).valid;
  });
  const double vbound = verify_hashes * us_per_hash / 1e3;
  std::printf(
      "window verify, 2-sector partition: %.2f ms wall, %.2f ms CPU; bound %.2f ms; ratio "
      "%.2f (CPU)%s\n",
      vt.wall_ms, vt.cpu_ms, vbound, vbound / vt.cpu_ms, all_valid ? "" : "  INVALID!");

  const auto winning = challenges::PoStConfig::winning(kSectorBytes);
  for (unsigned threads : {1u, 2u}) {
    post::ProveOptions opt;
    opt.threads = threads;
    const Timing t = measure(
        reps, [&](int r) { (void)post::prove_winning(winning, randomness(r), sectors[0], opt); });
    const double bound_ms = 66.0 * (72 + 6) * us_per_hash / 1e3 / threads;
    std::printf(
        "winning prove (66 challenges), %u thread(s): best %.2f ms, median %.2f ms wall, %.2f ms "
        "CPU; bound %.2f ms; ratio %.2f (median wall) %.2f (CPU)\n",
        threads, t.best_ms, t.wall_ms, t.cpu_ms, bound_ms, bound_ms / t.wall_ms,
        bound_ms * threads / t.cpu_ms);
  }
  const auto wp = post::prove_winning(winning, randomness(0), sectors[0]);
  const auto wparts = post::partition_vanilla_proofs(winning, wp.proofs);
  bool wvalid = true;
  const Timing wvt = measure(reps, [&](int) {
    wvalid &=
        post::verify_all_partitions(winning, randomness(0), std::span(pubs).first(1), wparts).valid;
  });
  const double wvbound = (66.0 * 6 + 66) * us_per_hash / 1e3;
  std::printf("winning verify: %.2f ms wall, %.2f ms CPU; bound %.2f ms; ratio %.2f (CPU)%s\n",
              wvt.wall_ms, wvt.cpu_ms, wvbound, wvbound / wvt.cpu_ms, wvalid ? "" : "  INVALID!");
  fs::remove_all(dir);
  return all_valid && wvalid ? 0 : 1;
}
