// sealhost.compute.opencl through the plugin ABI (real loader, ComputeClient, C vtable), against
// sealhost.compute.cpu on every CPU of this process, measured in the same run just before. The
// bound an OpenCL backend chases is "faster than the CPUs it would otherwise use", so the ratio
// printed is to the CPU backend. Three workloads:
//   tree          tree_build arity 8 over SEALHOST_BENCH_TREE_MIB MiB of leaves (default 8:
//                 262144 leaves, 37449 hashes, an 8 MiB tree_r_last)
//   columns       poseidon_batch arity 11, MerkleTree tag, 16384 hashes (32 GiB column hashes)
//   sha254        sha254_batch over 262144 pairs (16 MiB of a tree_d row)
// SEALHOST_BENCH_WORKLOADS=tree,columns runs a subset (names as above; default all).
// Counters: hash/s and MiB/s (input bytes) of the OpenCL plugin, cpu_hash/s the CPU plugin's
// rate on the same workload, ratio_cpu = hash/s / cpu_hash/s.
//
// Runs unchanged on a GPU machine: pick the device and launch size with
//   SEALHOST_BENCH_OPENCL_OPTIONS='device="NVIDIA";batch_size=262144'
// (the component's options, TOML values, ';'-separated) and make the tree larger with
// SEALHOST_BENCH_TREE_MIB=512 so the device is saturated.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
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
using Bytes = std::vector<uint8_t>;

constexpr double kMiB = 1024.0 * 1024.0;

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Bytes random_elements(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(count * 32);
  for (size_t i = 0; i < b.size(); i += 8) {
    const uint64_t x = rng();
    std::memcpy(&b[i], &x, 8);
  }
  for (size_t i = 0; i < count; ++i) b[i * 32 + 31] &= 0x3f;  // canonical, as fr32 data is
  return b;
}

size_t tree_leaves() {
  const char* v = std::getenv("SEALHOST_BENCH_TREE_MIB");
  size_t mib = v && *v ? std::strtoull(v, nullptr, 10) : 8;
  // Round down to a power of 8 leaves (arity^k), at least 8 MiB.
  size_t leaves = 8;
  while (leaves * 8 * 32 <= std::max<size_t>(mib, 8) << 20) leaves *= 8;
  return leaves;
}

host::PluginRegistry& registry() {
  static host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry(host::host_services());  // plugins are never unloaded
    for (const char* name : {"sealhost-compute-cpu.so", "sealhost-compute-opencl.so"}) {
      if (auto failure = reg->load_file(std::string(SEALHOST_BENCH_PLUGIN_DIR) + "/" + name)) {
        std::fprintf(stderr, "%s\n", failure->message.c_str());
        std::exit(1);
      }
    }
    return reg;
  }();
  return *r;
}

host::ComputeClient client(const char* component, std::string_view overrides) {
  auto ref = registry().find(component);
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  while (!overrides.empty()) {
    const auto end = overrides.find(';');
    const auto item = overrides.substr(0, end);
    overrides = end == std::string_view::npos ? std::string_view() : overrides.substr(end + 1);
    const auto eq = item.find('=');
    if (item.empty() || eq == std::string_view::npos) continue;
    opts.set_text(item.substr(0, eq), item.substr(eq + 1));
  }
  return host::ComputeClient(
      std::make_shared<host::ComponentInstance>(*ref, host::host_services(), std::move(opts)));
}

struct Workload {
  std::string name;
  size_t hashes;
  size_t input_bytes;
  std::function<void(host::ComputeClient&)> run;
};

std::vector<Workload> workloads() {
  static const size_t leaves = tree_leaves();
  static const Bytes tree_in = random_elements(leaves, 1);
  static Bytes tree_out(sdk::tree_rows_nodes(leaves, 8) * 32);
  static const Bytes col_in = random_elements(16384 * 11, 2);
  static Bytes col_out(16384 * 32);
  static const Bytes sha_in = random_elements(2 * 262144, 3);
  static Bytes sha_out(262144 * 32);
  return {
      {"tree_arity8/" + std::to_string(leaves * 32 >> 20) + "MiB", sdk::tree_rows_nodes(leaves, 8),
       tree_in.size(),
       [](host::ComputeClient& c) {
         c.tree_build(8, tree_in.data(), tree_in.size() / 32, tree_out.data());
       }},
      {"columns_arity11/16384", 16384, col_in.size(),
       [](host::ComputeClient& c) {
         c.poseidon_batch(11, sdk::kTagMerkleTree, col_in.data(), col_out.data(), 16384);
       }},
      {"sha254/262144", 262144, sha_in.size(),
       [](host::ComputeClient& c) { c.sha254_batch(sha_in.data(), sha_out.data(), 262144); }},
  };
}

// The CPU plugin's best rate over two runs (after one warm-up), hashes per second.
double cpu_rate(host::ComputeClient& cpu, const Workload& w) {
  w.run(cpu);
  double best = 0;
  for (int i = 0; i < 2; ++i) {
    const double t0 = now();
    w.run(cpu);
    best = std::max(best, static_cast<double>(w.hashes) / (now() - t0));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* env = std::getenv("SEALHOST_BENCH_OPENCL_OPTIONS");
  const std::string opencl_options = env ? env : "";
  static auto opencl =
      std::make_unique<host::ComputeClient>(client("sealhost.compute.opencl", opencl_options));
  auto cpu = client("sealhost.compute.cpu", "");
  const auto dev = opencl->device_info();
  const auto cpu_dev = cpu.device_info();
  std::printf("opencl: %s, %u compute units, %.0f MiB; options '%s'\n", dev.name.c_str(),
              dev.compute_units, static_cast<double>(dev.memory_bytes) / kMiB,
              opencl_options.c_str());
  std::printf("cpu:    %s\n", cpu_dev.name.c_str());
  const char* only = std::getenv("SEALHOST_BENCH_WORKLOADS");
  for (const auto& w : workloads()) {
    if (only && *only &&
        std::string(only).find(w.name.substr(0, w.name.find('_'))) == std::string::npos) {
      continue;
    }
    const double cpu_hps = cpu_rate(cpu, w);
    std::printf("cpu plugin %-24s %10.0f hash/s\n", w.name.c_str(), cpu_hps);
    w.run(*opencl);  // warm-up: kernels built, POCL's work-group functions compiled
    benchmark::RegisterBenchmark(("BM_OpenCl/" + w.name).c_str(),
                                 [w, cpu_hps](benchmark::State& state) {
                                   double wall = 0;
                                   for (auto _ : state) {
                                     const double t0 = now();
                                     w.run(*opencl);
                                     wall += now() - t0;
                                   }
                                   const auto it = static_cast<double>(state.iterations());
                                   const double hps = it * static_cast<double>(w.hashes) / wall;
                                   state.counters["hash/s"] = hps;
                                   state.counters["MiB/s"] =
                                       it * static_cast<double>(w.input_bytes) / kMiB / wall;
                                   state.counters["cpu_hash/s"] = cpu_hps;
                                   state.counters["ratio_cpu"] = hps / cpu_hps;
                                 })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
