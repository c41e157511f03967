// Fr multiplication and Poseidon throughput per core, with the ratio to the multiplication bound:
//   bound (hashes/s) = measured Fr multiplications/s (independent chains, same multiplication the
//                      Poseidon kernel uses) / multiplications per hash,
// where multiplications per hash counts the optimised schedule exactly
// (poseidon::multiplications_per_hash: R_F*(3t + t^2) + R_P*(2t + 2); arity 8 -> 2004,
// arity 11 -> 2922; additions not counted). The ADX kernel computes the dense-matrix rows and the
// sparse first row as sums of unreduced 512-bit products with one reduction per row, and the
// S-box's x^2 and x^4 as dedicated squarings, so it does less work than that many full Montgomery
// multiplications and can exceed ratio 1. The bound keeps the reference count.
//
// Also: TreeRLast building throughput (MiB of leaves/s) for an 8 MiB base tree on 2 threads; pass
// --tree_mib=512 to add a 512 MiB tree (writes a temporary file of ~1 MiB plus reads from memory).
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "proofs/field/fr.hpp"
#include "proofs/field/fr_adx.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/poseidon/poseidon.hpp"

namespace {

using sealhost::proofs::field::Fr;
namespace field = sealhost::proofs::field;
namespace poseidon = sealhost::proofs::poseidon;
namespace merkle = sealhost::proofs::merkle;

// Thread CPU time: the build machine is shared, wall time would charge other processes to us.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Fr random_fr(std::mt19937_64& rng) {
  for (;;) {
    std::array<uint64_t, 4> limbs{rng(), rng(), rng(), rng() >> 1};
    if (auto f = Fr::from_canonical_limbs(limbs)) return *f;
  }
}

// Inlined like the Poseidon kernel's multiplications: an out-of-line call per multiplication
// would understate the rate (40 M/s instead of ~51 M/s here) and make the bound too easy.
struct GenericMul {
  [[gnu::always_inline]] static Fr mul(const Fr& a, const Fr& b) { return a * b; }
};
struct AdxMul {
  [[gnu::always_inline]] static Fr mul(const Fr& a, const Fr& b) { return field::mul_adx(a, b); }
};

template <class M, int kChains>
double mul_chains(size_t iters) {
  std::mt19937_64 rng(7);
  Fr x[kChains];
  for (auto& v : x) v = random_fr(rng);
  const Fr y = random_fr(rng);
  for (size_t i = 0; i < iters; ++i) {
    for (int c = 0; c < kChains; ++c) x[c] = M::mul(x[c], y);
  }
  Fr acc;
  for (auto& v : x) acc += v;
  benchmark::DoNotOptimize(acc);
  return static_cast<double>(iters) * kChains;
}

// Throughput of the multiplication the Poseidon kernel currently uses.
double measured_mul_throughput() {
  const bool adx = std::strcmp(poseidon::kernel_name(), "bmi2-adx") == 0;
  auto run = [&](size_t iters) {
    return adx ? mul_chains<AdxMul, 4>(iters) : mul_chains<GenericMul, 4>(iters);
  };
  run(1 << 16);
  const double t0 = cpu_seconds();
  const double n = run(1 << 21);
  return n / (cpu_seconds() - t0);
}

template <class M>
void BM_FrMulLatency(benchmark::State& state) {
  std::mt19937_64 rng(1);
  Fr x = random_fr(rng);
  const Fr y = random_fr(rng);
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) x = M::mul(x, y);
    benchmark::DoNotOptimize(x);
  }
  state.counters["mul/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 1000,
                                               benchmark::Counter::kIsRate);
}

template <class M, int kChains>
void BM_FrMulThroughput(benchmark::State& state) {
  for (auto _ : state) mul_chains<M, kChains>(1000 / kChains);
  state.counters["mul/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * (1000 / kChains) * kChains,
                         benchmark::Counter::kIsRate);
}

BENCHMARK(BM_FrMulLatency<GenericMul>)->Name("BM_FrMulLatency/generic");
BENCHMARK(BM_FrMulThroughput<GenericMul, 4>)->Name("BM_FrMulThroughput/generic/4chains");
BENCHMARK(BM_FrMulThroughput<GenericMul, 8>)->Name("BM_FrMulThroughput/generic/8chains");

void register_adx_mul_benchmarks() {
  if (!field::cpu_has_adx()) return;
  benchmark::RegisterBenchmark("BM_FrMulLatency/adx", BM_FrMulLatency<AdxMul>);
  benchmark::RegisterBenchmark("BM_FrMulThroughput/adx/4chains", BM_FrMulThroughput<AdxMul, 4>);
  benchmark::RegisterBenchmark("BM_FrMulThroughput/adx/8chains", BM_FrMulThroughput<AdxMul, 8>);
}

// Sets hash/s plus bound and ratio; the mul rate is re-measured right after the timed loop so
// both see the same machine load.
void finish_poseidon(benchmark::State& state, size_t arity, double hashes, double seconds) {
  const double mul_rate = measured_mul_throughput();
  const double per_hash = static_cast<double>(poseidon::multiplications_per_hash(arity));
  const double bound = mul_rate / per_hash;
  const double rate = hashes / seconds;
  state.counters["hash/s"] = rate;
  state.counters["mul_per_hash"] = per_hash;
  state.counters["mul/s"] = mul_rate;
  state.counters["bound_hash/s"] = bound;
  state.counters["ratio"] = rate / bound;
  state.SetLabel(poseidon::kernel_name());
}

poseidon::Kernel kernel_arg(int64_t v) {
  return v == 0 ? poseidon::Kernel::kGeneric : poseidon::Kernel::kAuto;
}

void BM_PoseidonHash(benchmark::State& state) {
  const size_t arity = static_cast<size_t>(state.range(0));
  poseidon::set_kernel(kernel_arg(state.range(1)));
  std::mt19937_64 rng(2);
  std::vector<Fr> in(arity);
  for (auto& v : in) v = random_fr(rng);
  poseidon::constants(arity);
  double cpu = 0;
  for (auto _ : state) {
    const double t0 = cpu_seconds();
    for (int i = 0; i < 16; ++i) in[0] = poseidon::hash(in);  // dependent: no overlap
    benchmark::DoNotOptimize(in[0]);
    cpu += cpu_seconds() - t0;
  }
  finish_poseidon(state, arity, static_cast<double>(state.iterations()) * 16, cpu);
  poseidon::set_kernel(poseidon::Kernel::kAuto);
}
BENCHMARK(BM_PoseidonHash)->ArgsProduct({{2, 8, 11}, {0, 1}})->ArgNames({"arity", "adx"});

void BM_PoseidonBatch(benchmark::State& state) {
  const size_t arity = static_cast<size_t>(state.range(0));
  poseidon::set_kernel(kernel_arg(state.range(1)));
  constexpr size_t kN = 64;
  std::mt19937_64 rng(3);
  std::vector<Fr> in(kN * arity), out(kN);
  for (auto& v : in) v = random_fr(rng);
  poseidon::constants(arity);
  double cpu = 0;
  for (auto _ : state) {
    const double t0 = cpu_seconds();
    poseidon::hash_batch(arity, in.data(), out.data(), kN);
    benchmark::DoNotOptimize(out.data());
    cpu += cpu_seconds() - t0;
  }
  finish_poseidon(state, arity, static_cast<double>(state.iterations()) * kN, cpu);
  poseidon::set_kernel(poseidon::Kernel::kAuto);
}
BENCHMARK(BM_PoseidonBatch)->ArgsProduct({{2, 8, 11}, {0, 1}})->ArgNames({"arity", "adx"});

// TreeRLast of `mib` MiB of leaves (level-cache store, rows_to_discard 2) built on 2 threads.
void BM_TreeRLastBuild(benchmark::State& state) {
  const uint64_t mib = static_cast<uint64_t>(state.range(0));
  const uint64_t leaves = mib * 1024 * 1024 / 32;
  std::vector<uint8_t> data(leaves * 32);
  std::mt19937_64 rng(4);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (uint64_t i = 0; i < leaves; ++i) data[i * 32 + 31] &= 0x3f;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("sealhost_tree_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  merkle::BuildOptions opts;
  opts.threads = 2;
  const auto shape = merkle::TreeShape{8, 0, 0, leaves};
  const auto rtd = merkle::default_rows_to_discard(leaves, 8);
  double process_cpu = 0;
  for (auto _ : state) {
    const double c0 = process_cpu_seconds();
    auto root = merkle::build_tree(dir, merkle::TreeId::kTreeRLast, shape,
                                   merkle::memory_leaf_reader(data.data(), leaves), {rtd}, opts);
    benchmark::DoNotOptimize(root);
    process_cpu += process_cpu_seconds() - c0;
  }
  std::filesystem::remove_all(dir);
  const double total_mib = static_cast<double>(state.iterations() * mib);
  // Hashes in the tree: (leaves - 1) / 7.
  const double hashes =
      static_cast<double>(state.iterations()) * static_cast<double>((leaves - 1) / 7);
  // Wall-clock rates (suffer from other load on a shared machine) ...
  state.counters["MiB/s"] = benchmark::Counter(total_mib, benchmark::Counter::kIsRate);
  state.counters["hash/s"] = benchmark::Counter(hashes, benchmark::Counter::kIsRate);
  // ... and per CPU-second of all our threads, comparable with BM_PoseidonBatch's hash/s.
  state.counters["MiB/cpu_s"] = total_mib / process_cpu;
  state.counters["hash/cpu_s"] = hashes / process_cpu;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t tree_mib = 0;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--tree_mib=", 11) == 0) {
      tree_mib = std::stoll(argv[i] + 11);
    } else {
      args.push_back(argv[i]);
    }
  }
  register_adx_mul_benchmarks();
  auto* tree = benchmark::RegisterBenchmark("BM_TreeRLastBuild/2threads", BM_TreeRLastBuild);
  tree->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  if (tree_mib > 0) tree->Arg(tree_mib);
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
