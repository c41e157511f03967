// sealhost.compute.vulkan through the plugin ABI (real loader, ComputeClient, C vtable) against
// sealhost.compute.cpu on every host CPU, both measured in this run on the same inputs:
//   TreeBuild     tree_r_last base tree: arity 8 over SEALHOST_BENCH_TREE_MIB MiB of leaves
//                 (default 8 MiB = 262144 leaves, 37449 hashes; any 32 * 8^k bytes)
//   ColumnHashes  poseidon_batch arity 11 (the 11-layer column hash), 16384 hashes
//   Sha254Row     sha254_batch over one 8 MiB tree_d row (131072 nodes)
// Counters: hash/s (wall clock of the call, copies in and out included), MiB/s of input, and
// ratio_cpu = hash/s over sealhost.compute.cpu's rate for the same call (> 1: the GPU wins),
// cores_used = process CPU-seconds per wall second during the Vulkan calls (a GPU driver needs
// little; a CPU driver such as lavapipe shows how many cores the shared machine gave it).
// The Vulkan device is the plugin's default choice (first discrete GPU, ...); set
// SEALHOST_BENCH_VULKAN_OPTIONS="device=1;batch=65536" (TOML values) to choose another. The first
// call of each kind is made before timing: it builds the pipeline (driver shader compile).
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "sealhost/sdk/compute.hpp"
#include "sealhost/sdk/option_set.hpp"

namespace {

namespace host = sealhost::host;
namespace sdk = sealhost::sdk;

constexpr double kMiB = 1024.0 * 1024.0;
constexpr size_t kColumnHashes = 16384;
constexpr size_t kShaNodes = 131072;

double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double now() {
  return seconds(CLOCK_MONOTONIC);
}

size_t tree_leaves() {
  const char* env = std::getenv("SEALHOST_BENCH_TREE_MIB");
  const double mib = env && *env ? std::atof(env) : 8.0;
  auto leaves = static_cast<size_t>(mib * kMiB / 32);
  size_t p = 8;
  while (p < leaves) p *= 8;
  if (p != leaves) {
    std::fprintf(
        stderr, "SEALHOST_BENCH_TREE_MIB=%s: not 32 * 8^k bytes (use 0.125, 1, 8, 64, 512)\n", env);
    std::exit(2);
  }
  return leaves;
}

std::vector<uint8_t> random_elements(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> b(count * 32);
  for (size_t i = 0; i < b.size(); i += 8) {
    const uint64_t x = rng();
    std::memcpy(&b[i], &x, 8);
  }
  for (size_t i = 0; i < count; ++i) b[i * 32 + 31] &= 0x3f;  // canonical, as fr32 data is
  return b;
}

host::PluginRegistry& registry() {
  static host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry(host::host_services());  // plugins are never unloaded
    for (const char* so : {"sealhost-compute-cpu.so", "sealhost-compute-vulkan.so"}) {
      if (auto failure = reg->load_file(std::string(SEALHOST_BENCH_PLUGIN_DIR) + "/" + so)) {
        std::fprintf(stderr, "%s\n", failure->message.c_str());
        std::exit(1);
      }
    }
    return reg;
  }();
  return *r;
}

host::ComputeClient make_client(const char* id, std::string_view overrides) {
  auto ref = registry().find(id);
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  while (!overrides.empty()) {
    const auto end = overrides.find(';');
    const auto item = overrides.substr(0, end);
    overrides = end == std::string_view::npos ? std::string_view() : overrides.substr(end + 1);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos) opts.set_text(item.substr(0, eq), item.substr(eq + 1));
  }
  return host::ComputeClient(
      std::make_shared<host::ComponentInstance>(*ref, host::host_services(), std::move(opts)));
}

struct Work {
  const char* name;
  uint64_t hashes;
  double input_bytes;
  std::function<void(host::ComputeClient&)> run;
};

std::vector<Work> g_work;
std::vector<double> g_cpu_rate;  // sealhost.compute.cpu hash/s per entry of g_work
std::unique_ptr<host::ComputeClient> g_vulkan;

// Best of `rounds` calls, in hashes per second; *cores gets the process CPU-seconds per wall
// second of that call.
double best_rate(host::ComputeClient& c, const Work& w, int rounds, double* cores) {
  double best = 0;
  for (int i = 0; i < rounds; ++i) {
    const double t0 = now(), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    w.run(c);
    const double wall = now() - t0;
    const double rate = static_cast<double>(w.hashes) / wall;
    if (rate > best) {
      best = rate;
      *cores = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / wall;
    }
  }
  return best;
}

void BM_Vulkan(benchmark::State& state) {
  const Work& w = g_work[static_cast<size_t>(state.range(0))];
  double wall = 0, cpu = 0;
  for (auto _ : state) {
    const double t0 = now(), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    w.run(*g_vulkan);
    wall += now() - t0;
    cpu += seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
  }
  const double calls = static_cast<double>(state.iterations());
  const double rate = calls * static_cast<double>(w.hashes) / wall;
  state.counters["hash/s"] = rate;
  state.counters["MiB/s"] = calls * w.input_bytes / kMiB / wall;
  state.counters["ratio_cpu"] = rate / g_cpu_rate[static_cast<size_t>(state.range(0))];
  state.counters["cores_used"] = cpu / wall;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const size_t leaves = tree_leaves();
  static const auto tree_in = random_elements(leaves, 8);
  static std::vector<uint8_t> tree_out(sdk::tree_rows_nodes(leaves, 8) * 32);
  static const auto col_in = random_elements(kColumnHashes * 11, 11);
  static std::vector<uint8_t> col_out(kColumnHashes * 32);
  static const auto sha_in = random_elements(kShaNodes * 2, 2);
  static std::vector<uint8_t> sha_out(kShaNodes * 32);
  g_work = {
      {"TreeBuild/arity8", sdk::tree_rows_nodes(leaves, 8), static_cast<double>(tree_in.size()),
       [&](host::ComputeClient& c) { c.tree_build(8, tree_in.data(), leaves, tree_out.data()); }},
      {"ColumnHashes/arity11", kColumnHashes, static_cast<double>(col_in.size()),
       [](host::ComputeClient& c) {
         c.poseidon_batch(11, sdk::kTagMerkleTree, col_in.data(), col_out.data(), kColumnHashes);
       }},
      {"Sha254Row", kShaNodes, static_cast<double>(sha_in.size()),
       [](host::ComputeClient& c) { c.sha254_batch(sha_in.data(), sha_out.data(), kShaNodes); }},
  };

  const char* opts = std::getenv("SEALHOST_BENCH_VULKAN_OPTIONS");
  g_vulkan = std::make_unique<host::ComputeClient>(
      make_client("sealhost.compute.vulkan", opts ? opts : ""));
  auto cpu = make_client("sealhost.compute.cpu", "");
  const auto vd = g_vulkan->device_info();
  const auto cd = cpu.device_info();
  std::printf("vulkan: %s, %u compute units, %.0f MiB device memory\ncpu:    %s\n", vd.name.c_str(),
              vd.compute_units, static_cast<double>(vd.memory_bytes) / kMiB, cd.name.c_str());
  for (const Work& w : g_work) {
    w.run(*g_vulkan);  // pipeline build and buffers, outside every measurement
    double cores = 0;
    g_cpu_rate.push_back(best_rate(cpu, w, 2, &cores));
    std::printf("sealhost.compute.cpu %-22s %10.0f hash/s  cores_used=%.2f\n", w.name,
                g_cpu_rate.back(), cores);
  }
  for (size_t i = 0; i < g_work.size(); ++i) {
    benchmark::RegisterBenchmark((std::string("BM_Vulkan/") + g_work[i].name).c_str(), BM_Vulkan)
        ->Arg(static_cast<int64_t>(i))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_vulkan.reset();
  return 0;
}
