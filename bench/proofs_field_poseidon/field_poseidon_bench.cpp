// Fr multiplication and Poseidon throughput per core, with the ratio to the multiplication bound:
//   bound (hashes/s) = measured Fr multiplications/s (throughput) / multiplications per hash,
// where multiplications per hash counts the optimised schedule exactly
// (poseidon::multiplications_per_hash: arity 8 -> 2004, arity 11 -> 2922).
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>

#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"

namespace {

using sealhost::proofs::field::Fr;
namespace poseidon = sealhost::proofs::poseidon;

Fr random_fr(std::mt19937_64& rng) {
  for (;;) {
    std::array<uint64_t, 4> limbs{rng(), rng(), rng(), rng() >> 1};
    if (auto f = Fr::from_canonical_limbs(limbs)) return *f;
  }
}

// Independent multiplication chains: enough to saturate the multiplier.
template <int kChains>
double mul_chains(size_t iters) {
  std::mt19937_64 rng(7);
  Fr x[kChains];
  for (auto& v : x) v = random_fr(rng);
  const Fr y = random_fr(rng);
  for (size_t i = 0; i < iters; ++i) {
    for (int c = 0; c < kChains; ++c) x[c] *= y;
  }
  Fr acc;
  for (auto& v : x) acc += v;
  benchmark::DoNotOptimize(acc);
  return static_cast<double>(iters) * kChains;
}

double measured_mul_throughput() {
  static const double kRate = [] {
    mul_chains<4>(1 << 18);  // warm up
    const auto t0 = std::chrono::steady_clock::now();
    const double n = mul_chains<4>(1 << 22);
    const auto t1 = std::chrono::steady_clock::now();
    return n / std::chrono::duration<double>(t1 - t0).count();
  }();
  return kRate;
}

void BM_FrMulLatency(benchmark::State& state) {
  std::mt19937_64 rng(1);
  Fr x = random_fr(rng);
  const Fr y = random_fr(rng);
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) x *= y;
    benchmark::DoNotOptimize(x);
  }
  state.counters["mul/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 1000,
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FrMulLatency);

template <int kChains>
void BM_FrMulThroughput(benchmark::State& state) {
  for (auto _ : state) mul_chains<kChains>(1000 / kChains);
  state.counters["mul/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * (1000 / kChains) * kChains,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FrMulThroughput<2>);
BENCHMARK(BM_FrMulThroughput<4>);
BENCHMARK(BM_FrMulThroughput<8>);

void set_poseidon_counters(benchmark::State& state, size_t arity, double hashes) {
  const double mul_rate = measured_mul_throughput();
  const double bound = mul_rate / static_cast<double>(poseidon::multiplications_per_hash(arity));
  state.counters["hash/s"] = benchmark::Counter(hashes, benchmark::Counter::kIsRate);
  state.counters["mul_per_hash"] = static_cast<double>(poseidon::multiplications_per_hash(arity));
  state.counters["bound_hash/s"] = bound;
  // ratio = achieved / bound; filled in after timing by Google Benchmark's rate division.
  state.counters["ratio_to_bound"] =
      benchmark::Counter(hashes / bound, benchmark::Counter::kIsRate);
}

void BM_PoseidonHash(benchmark::State& state) {
  const size_t arity = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(2);
  std::vector<Fr> in(arity);
  for (auto& v : in) v = random_fr(rng);
  poseidon::constants(arity);
  measured_mul_throughput();
  for (auto _ : state) {
    in[0] = poseidon::hash(in);  // chain hashes so they cannot overlap
    benchmark::DoNotOptimize(in[0]);
  }
  state.SetLabel(poseidon::kernel_name());
  set_poseidon_counters(state, arity, static_cast<double>(state.iterations()));
}
BENCHMARK(BM_PoseidonHash)->Arg(2)->Arg(8)->Arg(11);

void BM_PoseidonBatch(benchmark::State& state) {
  const size_t arity = static_cast<size_t>(state.range(0));
  constexpr size_t kN = 256;
  std::mt19937_64 rng(3);
  std::vector<Fr> in(kN * arity), out(kN);
  for (auto& v : in) v = random_fr(rng);
  poseidon::constants(arity);
  measured_mul_throughput();
  for (auto _ : state) {
    poseidon::hash_batch(arity, in.data(), out.data(), kN);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(poseidon::kernel_name());
  set_poseidon_counters(state, arity, static_cast<double>(state.iterations()) * kN);
}
BENCHMARK(BM_PoseidonBatch)->Arg(2)->Arg(8)->Arg(11);

}  // namespace

BENCHMARK_MAIN();
