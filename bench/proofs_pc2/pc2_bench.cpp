// CPU PreCommit2 (proofs/pc2 with the builtin engine) on a synthetic sector:
//
//   proofs_pc2_bench [size=8MiB|512MiB|2KiB|...] [threads=2] [dir=/tmp] [chunk_leaves=262144]
//
// Prints the wall time, Poseidon hashes/s and the ratio to the multiplication bound measured in
// the same run:
//   multiplications = sum over all PC2 hashes of poseidon::multiplications_per_hash(arity)
//   bound (s)       = multiplications / (Fr multiplications/s on one core x threads)
//   and, with threads > 1, multiplications / (Fr multiplications/s of all threads at once), the
//   rate the cores deliver together, measured the same way before and after the run
// multiplications_per_hash is the reference count of the optimised schedule (every S-box step,
// matrix entry and sparse entry one full Montgomery multiplication). The CPU kernel does less
// than that on purpose: x^2 and x^4 are dedicated squarings (10 limb products instead of 16) and
// matrix rows are sums of unreduced products with one reduction each. The bound keeps the
// reference count, so those savings count in PC2's favour exactly as the issue's
// field-multiplication bound intends; the measured rate is not touched.
// The Fr rate is measured on independent chains with the multiplication the Poseidon kernel uses
// (as bench/proofs_field_poseidon does), before and after the run; the faster is used. Ratio 1.0
// means PC2 costs exactly its multiplications; the target is <= 1.3 on 2 threads. Because the
// machine may be shared, the ratio is also given on CPU time (process CPU seconds / single-core
// bound), which other load does not inflate. Layer/unsealed generation is not timed; files are
// written to `dir` (page cache) and removed at exit.
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proofs/field/fr.hpp"
#include "proofs/field/fr_adx.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/poseidon/poseidon.hpp"

namespace {

namespace fs = std::filesystem;
using sealhost::proofs::field::Fr;
namespace pc2 = sealhost::proofs::pc2;
namespace poseidon = sealhost::proofs::poseidon;

double clock_seconds(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Fr random_fr(std::mt19937_64& rng) {
  for (;;) {
    std::array<uint64_t, 4> limbs{rng(), rng(), rng(), rng() >> 1};
    if (auto f = Fr::from_canonical_limbs(limbs)) return *f;
  }
}

// Fr multiplications per CPU second on this thread, 4 independent chains.
template <bool kAdx>
double mul_rate_impl() {
  std::mt19937_64 rng(7);
  Fr x[4];
  for (auto& v : x) v = random_fr(rng);
  const Fr y = random_fr(rng);
  auto run = [&](size_t iters) {
    for (size_t i = 0; i < iters; ++i) {
      for (auto& v : x) v = kAdx ? sealhost::proofs::field::mul_adx(v, y) : v * y;
    }
  };
  run(1 << 16);
  const double t0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
  const size_t iters = size_t{1} << 22;
  run(iters);
  const double dt = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
  Fr acc;
  for (auto& v : x) acc += v;
  if (acc.is_zero()) std::puts("");  // keeps the chains alive
  return static_cast<double>(iters) * 4 / dt;
}

double mul_rate() {
  return std::strcmp(poseidon::kernel_name(), "bmi2-adx") == 0 ? mul_rate_impl<true>()
                                                               : mul_rate_impl<false>();
}

// Fr multiplications per wall second of `threads` threads running the same chains at once:
// what the cores deliver together (vCPUs of a VM, SMT siblings or a shared power budget do not
// always give threads x the one-core rate). Best of 3.
double mul_rate_all(unsigned threads) {
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    std::vector<double> rates(threads);
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; ++t) ts.emplace_back([&rates, t] { rates[t] = mul_rate(); });
    for (auto& th : ts) th.join();
    // Each thread timed its own chains over the same span; their sum is the joint rate as long
    // as they overlapped, which the shared start guarantees up to thread start-up (microseconds
    // against ~0.3 s of chains).
    double sum = 0;
    for (double x : rates) sum += x;
    best = std::max(best, sum);
  }
  return best;
}

uint64_t parse_size(const std::string& s) {
  char* end = nullptr;
  const uint64_t n = std::strtoull(s.c_str(), &end, 10);
  const std::string unit(end);
  if (unit == "KiB") return n << 10;
  if (unit == "MiB") return n << 20;
  if (unit == "GiB") return n << 30;
  if (unit.empty()) return n;
  std::fprintf(stderr, "size %s: use e.g. 8MiB, 512MiB\n", s.c_str());
  std::exit(2);
}

void write_random(const fs::path& p, uint64_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  std::vector<uint64_t> buf(1 << 16);
  for (uint64_t done = 0; done < bytes; done += buf.size() * 8) {
    for (size_t i = 0; i < buf.size(); ++i) {
      buf[i] = rng();
      if (i % 4 == 3) buf[i] &= 0x3fffffffffffffffULL;  // canonical: top two bits clear
    }
    const uint64_t n = std::min<uint64_t>(bytes - done, buf.size() * 8);
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n));
  }
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", p.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t size = parse_size(argc > 1 ? argv[1] : "8MiB");
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 2;
  const fs::path base = argc > 3 ? argv[3] : fs::temp_directory_path();
  const size_t chunk = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : size_t{1} << 18;

  std::string tmpl = (base / "sealhost-pc2-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a directory under %s\n", base.c_str());
    return 1;
  }
  const fs::path dir = tmpl;
  const size_t layers = pc2::layers_for_sector(size);
  fs::create_directories(dir / "cache");
  for (size_t l = 1; l <= layers; ++l) {
    write_random(dir / "cache" / pc2::layer_file_name(l), size, l);
  }
  write_random(dir / "unsealed", size, 99);

  const double mul_before = mul_rate();
  const double all_before = threads > 1 ? mul_rate_all(threads) : mul_before;
  pc2::CpuPoseidonEngine engine(threads);
  pc2::Pc2Options opt;
  opt.engine = &engine;
  opt.chunk_leaves = chunk;
  double tree_c_end = 0;
  const auto w0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  };
  opt.progress = [&](const pc2::Pc2Progress& p) {
    if (std::strcmp(p.phase, "tree_c") == 0) tree_c_end = elapsed();
  };
  const double c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  const auto out = pc2::run_pc2(
      {size, layers, dir / "cache", dir / "unsealed", dir / "sealed", std::nullopt, std::nullopt},
      opt);
  const double wall = elapsed();
  const double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
  const double mul_after = mul_rate();
  const double mul = std::max(mul_before, mul_after);
  const double all_after = threads > 1 ? mul_rate_all(threads) : mul_after;
  const double mul_all = std::max({all_before, all_after, 0.0});

  const double mults = static_cast<double>(out.field_multiplications);
  const double bound = mults / (mul * threads);
  char comm_r[65];
  for (int i = 0; i < 32; ++i) std::snprintf(comm_r + 2 * i, 3, "%02x", out.comm_r[i]);
  std::printf(
      "pc2 %s sector (%zu layers), builtin engine, %u threads, chunk %zu leaves, kernel %s\n",
      (argc > 1 ? argv[1] : "8MiB"), layers, threads, chunk, poseidon::kernel_name());
  std::printf("  wall            %.3f s (tree_c %.3f s, encode + tree_r_last %.3f s)\n", wall,
              tree_c_end, wall - tree_c_end);
  std::printf("  cpu             %.3f s\n", cpu);
  std::printf("  poseidon hashes %llu  -> %.0f hashes/s\n",
              static_cast<unsigned long long>(out.poseidon_hashes),
              static_cast<double>(out.poseidon_hashes) / wall);
  std::printf("  multiplications %.0f  (Fr mul rate %.1f M/s per core, before %.1f after %.1f)\n",
              mults, mul / 1e6, mul_before / 1e6, mul_after / 1e6);
  std::printf("  bound           %.3f s on %u threads\n", bound, threads);
  std::printf("  ratio wall/bound %.3f   ratio cpu/(bound x threads) %.3f\n", wall / bound,
              cpu / (bound * threads));
  if (threads > 1) {
    // The same bound with the rate of all threads multiplying at once, measured in this run.
    const double bound_all = mults / mul_all;
    std::printf(
        "  %u threads together: %.1f M mul/s (x%.2f of one core) -> bound %.3f s, ratio "
        "wall/bound %.3f (target <= 1.3)\n",
        threads, mul_all / 1e6, mul_all / mul, bound_all, wall / bound_all);
  }
  std::printf("  comm_r          %s\n", comm_r);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
