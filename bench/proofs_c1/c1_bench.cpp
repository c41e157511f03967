// Commit1 (vanilla PoRep proofs) of one 8 MiB StackedDrg8MiBV1_1 sector sealed in-process: real
// PC1 labels (proofs/sdr, in memory), TreeD (proofs/merkle) and PC2 (proofs/pc2) in a temp dir.
//
// Measured per repetition (best and median of N, wall and process CPU): the prover alone on 1
// and 2 threads (prove_commit1: open the stores, check comm_d/comm_r, prove and self-check every
// challenge), the SealCommitPhase1Output JSON, and the verifier.
//
// Bound: the hashing one C1 cannot avoid, at the single-core rates measured in the same run:
// per challenge 15 TreeC paths and one TreeRLast path to rebuild (TreeRLast keeps rows above
// rows_to_discard = 2, so 64 + 8 arity-8 hashes per challenge), and the prover's own check of
// every path (15 column hashes, 16 x 6 arity-8 path hashes, 18 SHA254 TreeD hashes, 2 labels of
// 37 parents). Ratio = bound / measured (1.0 = no overhead).
// Usage: proofs_c1_bench [repetitions, default 20]
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "proofs/c1/c1.hpp"
#include "proofs/c1/c1_json.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sha256/sha256.hpp"

namespace {

using namespace sealhost::proofs;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timing {
  double best_ms = 0, median_ms = 0, cpu_ms = 0;  // wall best, wall median, CPU median
};

template <typename F>
Timing measure(int reps, F&& fn) {
  std::vector<double> wall, cpu;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    fn();
    cpu.push_back((cpu_seconds() - c0) * 1e3);
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall.front(), wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void write_file(const fs::path& p, const uint8_t* data, size_t n) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!f) throw std::runtime_error(p.string() + ": write failed");
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  const auto& proof = sdr::lookup_seal_proof("StackedDrg8MiBV1_1");
  const uint64_t bytes = proof.sector_size;
  const fs::path dir =
      fs::temp_directory_path() / ("sealhost_c1_bench_" + std::to_string(getpid()));
  fs::create_directories(dir / "cache");
  std::printf("proofs_c1_bench: %s, %d repetitions, load %s, poseidon %s\n",
              std::string(proof.name).c_str(), reps, load_average().c_str(),
              poseidon::kernel_name());

  // Seal: data, labels, TreeD, PC2.
  const auto t_seal = Clock::now();
  const sdr::Graph graph(proof);
  std::vector<uint8_t> data(bytes);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  for (size_t i = 31; i < data.size(); i += 32) data[i] &= 0x3f;
  c1::PublicInputs pub;
  pub.replica_id.fill(0x11);
  pub.replica_id[31] = 0x01;
  pub.seed.fill(0x22);
  {
    const auto labels = sdr::label_in_memory(graph, pub.replica_id, proof.layers);
    for (uint32_t l = 1; l <= proof.layers; ++l) {
      write_file(dir / "cache" / sdr::layer_file_name(l), labels.label(l, 0), bytes);
    }
  }
  write_file(dir / "unsealed", data.data(), data.size());
  pub.comm_d =
      merkle::build_tree(dir / "cache", merkle::TreeId::kTreeD, merkle::TreeShape::tree_d(bytes),
                         merkle::memory_leaf_reader(data.data(), bytes / 32), {});
  pc2::CpuPoseidonEngine engine(2);
  pc2::Pc2Options opt;
  opt.engine = &engine;
  pc2::Pc2Input in;
  in.sector_bytes = bytes;
  in.layers = proof.layers;
  in.cache_dir = dir / "cache";
  in.unsealed_path = dir / "unsealed";
  in.sealed_path = dir / "sealed";
  in.comm_d = pub.comm_d;
  pub.comm_r = pc2::run_pc2(in, opt).comm_r;
  std::printf("sealed in %.1f s (setup, not measured)\n",
              std::chrono::duration<double>(Clock::now() - t_seal).count());

  // Same-run single-core rates.
  std::vector<uint8_t> hin(4096 * 8 * 32), hout(4096 * 32);
  for (size_t i = 0; i < hin.size(); ++i) hin[i] = static_cast<uint8_t>(i * 13 + 7);
  for (size_t i = 31; i < hin.size(); i += 32) hin[i] &= 0x3f;
  const double us_p8 =
      measure(3, [&] { poseidon::hash_batch_bytes(8, hin.data(), hout.data(), 4096); }).cpu_ms *
      1e3 / 4096;
  const double us_p2 =
      measure(3, [&] { poseidon::hash_batch_bytes(2, hin.data(), hout.data(), 4096); }).cpu_ms *
      1e3 / 4096;
  const double us_sha_block =
      measure(3, [&] { (void)sha256::digest(std::span<const uint8_t>(hin.data(), hin.size())); })
          .cpu_ms *
      1e3 / static_cast<double>(hin.size() / 64);
  std::printf("single core: poseidon arity 8 %.1f us, arity 2 %.1f us, sha256 %.3f us/block\n",
              us_p8, us_p2, us_sha_block);

  const auto params = c1::PoRepParams::for_seal_proof(proof);
  const c1::ProverFiles files{dir / "cache", dir / "sealed"};
  c1::C1Output out;
  c1::Commit1Options one, two;
  two.threads = 2;
  const Timing prove =
      measure(reps, [&] { out = c1::prove_commit1(params, graph, pub, files, one); });
  const Timing prove2 =
      measure(reps, [&] { out = c1::prove_commit1(params, graph, pub, files, two); });
  std::string json;
  const Timing to_json = measure(
      reps, [&] { json = c1::c1_output_to_json(params, std::string(proof.name), {}, out); });
  bool valid = true;
  const Timing verify = measure(reps, [&] {
    valid &= c1::verify_commit1(params, graph, c1::c1_output_from_json(params, json).output).valid;
  });

  size_t challenges = 0;
  for (const auto& p : out.partitions) challenges += p.size();
  const double per_challenge_us =
      (64 + 8) * us_p8 + 16 * 6 * us_p8 + 15 * us_p2 +
      18 * 2 * us_sha_block +  // TreeD path: 2 blocks/hash
      static_cast<double>(proof.layers) * (1 + 37 / 2.0 + 1) * us_sha_block;  // labels
  const double bound_ms = static_cast<double>(challenges) * per_challenge_us / 1e3;
  std::printf(
      "c1 prove (%zu challenges), 1 thread: best %.2f ms, median %.2f ms wall, %.2f ms CPU; "
      "bound %.2f ms (one core); ratio %.2f (CPU)\n",
      challenges, prove.best_ms, prove.median_ms, prove.cpu_ms, bound_ms, bound_ms / prove.cpu_ms);
  std::printf(
      "c1 prove (%zu challenges), 2 threads: best %.2f ms, median %.2f ms wall, %.2f ms CPU; "
      "bound %.2f ms (two cores); ratio %.2f (wall)\n",
      challenges, prove2.best_ms, prove2.median_ms, prove2.cpu_ms, bound_ms / 2,
      bound_ms / 2 / prove2.median_ms);
  std::printf("c1 json (%zu bytes): best %.2f ms, median %.2f ms\n", json.size(), to_json.best_ms,
              to_json.median_ms);
  std::printf("c1 parse + verify: best %.2f ms, median %.2f ms wall, %.2f ms CPU%s\n",
              verify.best_ms, verify.median_ms, verify.cpu_ms, valid ? "" : "  INVALID!");
  std::printf("c1 total (prove on 2 threads + json): best %.2f ms\n",
              prove2.best_ms + to_json.best_ms);
  fs::remove_all(dir);
  return valid ? 0 : 1;
}
