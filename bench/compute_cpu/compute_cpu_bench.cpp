// sealhost.compute.cpu through the plugin ABI (real loader, ComputeClient, C vtable): tree_build of
// an 8 MiB tree_r_last base tree (262144 leaves, arity 8, 37449 Poseidon hashes) on 1 and 2
// threads. The bound it chases is the library itself: the single-thread proofs::poseidon hash
// rate over the same kind of work (arity-8 MerkleTree hashes from canonical bytes), measured in
// this run just before. Counters:
//   MiB/s, hash/s          wall-clock throughput of the call
//   hash/cpu_s             hashes per CPU-second of the whole process (the machine is shared;
//                          this is what the plugin path costs regardless of other load)
//   ratio_wall             hash/s over the library's single-thread rate: ~1 at 1 thread means the
//                          plugin path costs nothing; 2 threads aim at 2
//   ratio_cpu              hash/cpu_s over the library's per-CPU-second rate: the efficiency of
//                          every CPU-second spent (pool hand-offs, idle waits, top rows)
//   cores_used             process CPU-seconds per wall second during the call: on a shared
//                          machine, read ratio_wall against it (2 threads on 1.3 free cores
//                          cannot reach 2)
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "sealhost/sdk/compute.hpp"
#include "sealhost/sdk/option_set.hpp"

namespace {

namespace poseidon = sealhost::proofs::poseidon;
namespace host = sealhost::host;
namespace sdk = sealhost::sdk;

constexpr size_t kLeaves = 262144;  // 8 MiB of 32-byte nodes
constexpr size_t kArity = 8;
constexpr double kMiB = 1024.0 * 1024.0;

struct LibraryRate {
  double wall = 0;  // hashes per wall second
  double cpu = 0;   // hashes per thread CPU-second
};
LibraryRate g_library;

double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

const std::vector<uint8_t>& leaves() {
  static const std::vector<uint8_t> v = [] {
    std::mt19937_64 rng(8);
    std::vector<uint8_t> b(kLeaves * 32);
    for (size_t i = 0; i < b.size(); i += 8) {
      const uint64_t x = rng();
      std::memcpy(&b[i], &x, 8);
    }
    for (size_t i = 0; i < kLeaves; ++i) b[i * 32 + 31] &= 0x3f;  // canonical, as fr32 data is
    return b;
  }();
  return v;
}

// The best of three runs of the tree's first row (32768 hashes) through hash_batch_bytes.
LibraryRate measure_library() {
  const size_t parents = kLeaves / kArity;
  std::vector<uint8_t> out(parents * 32);
  LibraryRate best;
  for (int round = 0; round < 3; ++round) {
    const double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    poseidon::hash_batch_bytes(kArity, leaves().data(), out.data(), parents);
    const double w = seconds(CLOCK_MONOTONIC) - w0, c = seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
    best.wall = std::max(best.wall, static_cast<double>(parents) / w);
    best.cpu = std::max(best.cpu, static_cast<double>(parents) / c);
  }
  benchmark::DoNotOptimize(out.data());
  return best;
}

host::PluginRegistry& registry() {
  static host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry(host::host_services());  // plugins are never unloaded
    const std::string path = std::string(SEALHOST_BENCH_PLUGIN_DIR) + "/sealhost-compute-cpu.so";
    if (auto failure = reg->load_file(path)) {
      std::fprintf(stderr, "%s\n", failure->message.c_str());
      std::exit(1);
    }
    return reg;
  }();
  return *r;
}

void BM_TreeBuildThroughPlugin(benchmark::State& state) {
  auto ref = registry().find("sealhost.compute.cpu");
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  opts.set_text("threads", std::to_string(state.range(0)));
  host::ComputeClient client(
      std::make_shared<host::ComponentInstance>(*ref, host::host_services(), std::move(opts)));
  const size_t hashes = sdk::tree_rows_nodes(kLeaves, kArity);
  std::vector<uint8_t> rows(hashes * 32);
  double cpu = 0, wall = 0;
  for (auto _ : state) {
    const double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    client.tree_build(kArity, leaves().data(), kLeaves, rows.data());
    cpu += seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    wall += seconds(CLOCK_MONOTONIC) - w0;
  }
  benchmark::DoNotOptimize(rows.data());
  const double total = static_cast<double>(state.iterations()) * static_cast<double>(hashes);
  state.counters["MiB/s"] =
      static_cast<double>(state.iterations()) * static_cast<double>(kLeaves * 32) / kMiB / wall;
  state.counters["hash/s"] = total / wall;
  state.counters["hash/cpu_s"] = total / cpu;
  state.counters["ratio_wall"] = total / wall / g_library.wall;
  state.counters["ratio_cpu"] = total / cpu / g_library.cpu;
  // CPU-seconds per wall second: how many cores the call actually got on this (shared) machine.
  state.counters["cores_used"] = cpu / wall;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_library = measure_library();
  std::printf("proofs::poseidon arity 8, 1 thread (%s kernel): %.0f hash/s wall, %.0f hash/cpu_s\n",
              poseidon::kernel_name(), g_library.wall, g_library.cpu);
  benchmark::RegisterBenchmark("BM_TreeBuildThroughPlugin/8MiB/threads", BM_TreeBuildThroughPlugin)
      ->Arg(1)
      ->Arg(2)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(3);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
