// SDR PreCommit1 throughput against the SHA-256 bounds measured in the same run.
//
// Every label costs 20 compressions (header block, 18 parent blocks, last block; node 0: 2), and
// they form one dependent chain per sector and layer: node v needs node v-1. So
//  * one sector cannot go faster than compressions x serial latency of one SHA-NI chain;
//    (The serial chain overlaps the next node's header and first parent blocks, which do not
//    need node v-1, with node v's dependent blocks, so it can beat this bound by up to 15 %.)
//  * a batch of sectors sharing the graph runs one lane per thread, each interleaving its
//    sectors' independent chains (compress_x2/x4): bounded by the 2-stream throughput of all
//    cores together, measured in the same run.
// Usage: proofs_sdr_bench [--512 | --512-batch | --512-single | --512-batch8] [--cache-dir DIR]
//                         [--work-dir DIR]
//   default: SHA bounds, parent cache + PC1 of one 8 MiB sector (1 and 2 threads), 2 x 8 MiB batch
//   --512:   also one 512 MiB sector (2 threads) and a batch of 4 x 512 MiB sectors on 2 threads
//   --512-batch / --512-single: the bounds and only that 512 MiB run
//   --512-batch8: the bounds and a batch of 8 x 512 MiB sectors on 2 threads (lanes of 4; 8 GiB of
//                 layer buffers)
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proofs/sdr/labels.hpp"
#include "proofs/sha256/sha256.hpp"

namespace {

using namespace sealhost::proofs;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double peak_rss_gib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0);  // KiB -> GiB
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Timing {
  double wall = 0;
  double cpu = 0;
};

template <typename F>
Timing timed(F&& fn) {
  const auto t0 = Clock::now();
  const double c0 = process_cpu_seconds();
  fn();
  return {std::chrono::duration<double>(Clock::now() - t0).count(), process_cpu_seconds() - c0};
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Best rate (units per second) of `reps` runs, timed with this thread's CPU clock: the machine
// is shared, and a bound must not include the time other processes held the core.
template <typename F>
double best_rate(int reps, double units, F&& fn) {
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const double t0 = thread_cpu_seconds();
    fn();
    best = std::max(best, units / (thread_cpu_seconds() - t0));
  }
  return best;
}

double compressions_per_sector(uint64_t nodes, uint32_t layers) {
  return static_cast<double>(layers) * (20.0 * static_cast<double>(nodes - 1) + 2.0);
}

sdr::ReplicaId replica(uint8_t seed) {
  sdr::ReplicaId r{};
  for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<uint8_t>(seed * 37 + i);
  r[31] &= 0x3f;
  return r;
}

struct Bounds {
  double serial = 0;  // compressions/s of one dependent chain
  double x2 = 0;      // compressions/s of 2 interleaved chains on one core
  double x4 = 0;
  double x2_all = 0;  // compressions/s of 2 streams on every core at once (wall clock)
  double x4_all = 0;  // the same with 4 streams per core
  unsigned cores = 1;
  // The best of both: on a shared host a measurement catches the cores busy with other guests
  // (the 2-stream rate of all cores moved from 72 to 88 M/s within minutes on the same binary),
  // so the bounds are measured again between and after the runs and the fastest rates kept:
  // the strictest bounds this machine showed during the run.
  void keep_best(const Bounds& o) {
    serial = std::max(serial, o.serial);
    x2 = std::max(x2, o.x2);
    x4 = std::max(x4, o.x4);
    x2_all = std::max(x2_all, o.x2_all);
    x4_all = std::max(x4_all, o.x4_all);
  }
};

// Time the hypervisor ran something else on this guest's CPUs (steal, /proc/stat), all CPUs.
double steal_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long v[8] = {};
  in >> cpu;
  for (auto& x : v) in >> x;
  return static_cast<double>(v[7]) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Bounds measure_bounds() {
  std::vector<uint8_t> blocks(1 << 18);
  std::mt19937_64 rng(1);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  const size_t n = blocks.size() / 64;
  sha256::State s[4] = {sha256::kInitialState, sha256::kInitialState, sha256::kInitialState,
                        sha256::kInitialState};
  Bounds b;
  b.serial = best_rate(9, 10.0 * n, [&] {
    for (int i = 0; i < 10; ++i) sha256::compress(s[0], blocks.data(), n);
  });
  b.x2 = best_rate(9, 10.0 * n, [&] {
    for (int i = 0; i < 5; ++i) sha256::compress_x2(s[0], blocks.data(), s[1], blocks.data(), n);
  });
  b.x4 = best_rate(9, 12.0 * n, [&] {
    for (int i = 0; i < 3; ++i) {
      sha256::compress_x4({&s[0], &s[1], &s[2], &s[3]},
                          {blocks.data(), blocks.data(), blocks.data(), blocks.data()}, n);
    }
  });
  // The 2- and 4-stream loops on every core at once: what the cores' SHA units deliver together
  // (cores of a VM or with SMT siblings do not always scale by their count). Wall clock, best of
  // 7 each, alternating.
  b.cores = std::max(1u, std::thread::hardware_concurrency());
  auto all_cores = [&](int streams) {
    const auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (unsigned c = 0; c < b.cores; ++c) {
      ts.emplace_back([&blocks, n, streams] {
        sha256::State x[4] = {sha256::kInitialState, sha256::kInitialState, sha256::kInitialState,
                              sha256::kInitialState};
        const uint8_t* d = blocks.data();
        if (streams == 2) {
          for (int i = 0; i < 6; ++i) sha256::compress_x2(x[0], d, x[1], d, n);
        } else {
          for (int i = 0; i < 3; ++i)
            sha256::compress_x4({&x[0], &x[1], &x[2], &x[3]}, {d, d, d, d}, n);
        }
        asm volatile("" : : "r"(&x) : "memory");
      });
    }
    for (auto& t : ts) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    return 12.0 * static_cast<double>(n) * b.cores / secs;
  };
  for (int r = 0; r < 7; ++r) {
    b.x2_all = std::max(b.x2_all, all_cores(2));
    b.x4_all = std::max(b.x4_all, all_cores(4));
  }
  asm volatile("" : : "r"(&s) : "memory");
  return b;
}

// Throughput of random 64-byte reads, software-prefetched 64 reads ahead (as the lanes read parent
// lines), over an anonymous huge-page buffer of `bytes`: ns per read, best of 3. A small buffer
// shows the cache; a layer-sized one adds DRAM and, where TLB entries are 4 KiB (a VM whose host
// backs guest memory with 4 KiB pages), a page walk per read.
double random_read_ns(uint64_t bytes) {
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 0;
  auto* p = static_cast<uint8_t*>(m);
  ::madvise(p, bytes, MADV_HUGEPAGE);
  std::memset(p, 1, bytes);
  std::vector<uint32_t> idx(uint64_t{1} << 21);
  std::mt19937 rng(7);
  for (auto& i : idx) i = static_cast<uint32_t>(rng() % (bytes / 64));
  double best = 1e9;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = Clock::now();
    uint64_t sum = 0;
    for (size_t i = 0; i < idx.size(); ++i) {
      if (i + 64 < idx.size()) {
        asm volatile("prefetcht0 %0" : : "m"(p[uint64_t{idx[i + 64]} * 64]));
      }
      sum += p[uint64_t{idx[i]} * 64];
    }
    asm volatile("" : : "r"(sum));
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() * 1e9 /
                              static_cast<double>(idx.size()));
  }
  ::munmap(p, bytes);
  return best;
}

struct Pc1Run {
  Timing t;
  double compressions = 0;
  double steal = 0;  // seconds of CPU the hypervisor took from this guest during the run
  sdr::Pc1Stats stats;
};

Pc1Run run_pc1(const sdr::SealProof& proof, const sdr::ParentCache& cache, size_t sectors,
               unsigned threads, const fs::path& work, sdr::LayerBufferPool* pool = nullptr) {
  sdr::Pc1Request req;
  req.buffer_pool = pool;
  req.proof = &proof;
  req.parent_cache = &cache;
  req.threads = threads;
  for (size_t i = 0; i < sectors; ++i) {
    req.replica_ids.push_back(replica(static_cast<uint8_t>(i + 1)));
    req.cache_dirs.push_back(work / ("sector-" + std::to_string(i)));
    fs::remove_all(req.cache_dirs.back());
  }
  Pc1Run run;
  req.stats = &run.stats;
  const double steal0 = steal_seconds();
  run.t = timed([&] { sdr::run_pc1(req); });
  run.steal = steal_seconds() - steal0;
  run.compressions =
      static_cast<double>(sectors) * compressions_per_sector(proof.nodes, proof.layers);
  for (const auto& d : req.cache_dirs) fs::remove_all(d);
  return run;
}

// Which bound a run is held to: one sector is latency bound (serial chain); a batch is throughput
// bound, by the 2-stream rate of one core (one lane) or of all cores (a lane per core). Lanes of
// four or more sectors can run 4 streams per core: held to the faster of the 2- and 4-stream rates
// of all cores.
enum class BoundKind { serial, x2_one_core, x2_all_cores, best_all_cores };

struct Row {
  std::string what;
  Pc1Run run;
  BoundKind kind;
  double target;
};

// wall/bound is what a user sees on this machine now. The CPU figure divides the hashing threads'
// CPU time by the compressions over the per-core rate of the same kind (serial for one sector,
// 2-stream for a batch): how close each hashing core runs to its SHA limit, insensitive to other
// processes taking the cores.
void report(const Row& row, const Bounds& b) {
  const Pc1Run& r = row.run;
  double bound_rate = b.x2_all;
  double per_core_rate = b.x2;
  const char* bound_name = "2-stream, all cores";
  switch (row.kind) {
    case BoundKind::serial:
      bound_rate = per_core_rate = b.serial;
      bound_name = "serial";
      break;
    case BoundKind::x2_one_core:
      bound_rate = b.x2;
      per_core_rate = b.serial;
      bound_name = "2-stream, one core";
      break;
    case BoundKind::x2_all_cores:
      break;
    case BoundKind::best_all_cores:
      bound_rate = std::max(b.x2_all, b.x4_all);
      per_core_rate = std::max(b.x2, b.x4);
      bound_name = b.x4_all > b.x2_all ? "4-stream, all cores" : "2-stream, all cores";
      break;
  }
  const double rate = r.compressions / r.t.wall;
  const double bound_seconds = r.compressions / bound_rate;
  std::printf(
      "%s\n  wall %.3f s (%.2f M compressions/s), bound(%s) %.3f s -> wall/bound %.2f "
      "(target <= %.2f)\n  hashing CPU %.3f s -> hashing-CPU/per-core bound %.2f; producer CPU "
      "%.3f s; hasher stalls %llu, preempted %llu; stream width %d; layer buffers mapped %u, "
      "reused %u; steal %.1f s; peak RSS %.2f GiB\n",
      row.what.c_str(), r.t.wall, rate / 1e6, bound_name, bound_seconds, r.t.wall / bound_seconds,
      row.target, r.stats.hasher_cpu_seconds,
      r.stats.hasher_cpu_seconds * per_core_rate / r.compressions, r.stats.producer_cpu_seconds,
      static_cast<unsigned long long>(r.stats.hasher_stalls),
      static_cast<unsigned long long>(r.stats.hasher_preemptions), r.stats.stream_width,
      r.stats.buffers_mapped, r.stats.buffers_reused, r.steal, peak_rss_gib());
}

void print_bounds(const char* when, const Bounds& b) {
  std::printf(
      "bounds %s: serial %.2f, 2 streams one core %.2f, 4 streams one core %.2f, on all %u "
      "cores 2 streams %.2f (x%.2f of one core), 4 streams %.2f M compressions/s\n",
      when, b.serial / 1e6, b.x2 / 1e6, b.x4 / 1e6, b.cores, b.x2_all / 1e6, b.x2_all / b.x2,
      b.x4_all / 1e6);
}

// The 8 MiB runs: parent cache generation, one sector on 1 and 2 threads, batches of 2 and 4.
void run_small(const fs::path& work, const fs::path& cache_dir, const Bounds& b,
               std::vector<Row>& rows) {
  const auto& p8 = sdr::lookup_seal_proof("8MiB-v1.1");
  const fs::path tmp_cache = work / "parents";
  fs::create_directories(tmp_cache);
  const auto cache_gen =
      timed([&] { sdr::ParentCache::generate(sdr::Graph(p8), tmp_cache / "p8.cache", 2); });
  std::printf("parent cache 8 MiB (262144 nodes), 2 threads: wall %.3f s, CPU %.3f s\n",
              cache_gen.wall, cache_gen.cpu);
  fs::remove_all(tmp_cache);

  const auto c8 = sdr::ParentCache::open_or_create(sdr::Graph(p8), cache_dir);
  auto add = [&](const char* what, size_t sectors, unsigned threads, BoundKind kind,
                 double target) {
    rows.push_back({what, run_pc1(p8, c8, sectors, threads, work), kind, target});
    report(rows.back(), b);
  };
  add("PC1 8 MiB, 1 sector, 2 threads", 1, 2, BoundKind::serial, 1.1);
  add("PC1 8 MiB, 1 sector, 1 thread", 1, 1, BoundKind::serial, 1.1);
  // Two sectors on two threads: one serial lane per core, which delivers about what one
  // core's two streams do.
  add("PC1 8 MiB, 2 sectors, 2 threads", 2, 2, BoundKind::x2_one_core, 1.25);
  add("PC1 8 MiB, 4 sectors, 2 threads", 4, 2, BoundKind::x2_all_cores, 1.25);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress visible when redirected to a file
  bool big = false, small = true, big_single = true, big_batch = true, big_batch8 = false;
  fs::path cache_dir = "/var/tmp/filecoin-parents";
  if (const char* env = std::getenv("FIL_PROOFS_PARENT_CACHE")) cache_dir = env;
  fs::path work = fs::temp_directory_path() / ("sealhost-sdr-bench-" + std::to_string(getpid()));
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--512") {
      big = true;
    } else if (a == "--512-batch" || a == "--512-single" || a == "--512-batch8") {
      big = true;
      small = false;
      big_single = a == "--512-single";
      big_batch = a == "--512-batch";
      big_batch8 = a == "--512-batch8";
    } else if (a == "--cache-dir" && i + 1 < argc) {
      cache_dir = argv[++i];
    } else if (a == "--work-dir" && i + 1 < argc) {
      work = fs::path(argv[++i]) / ("sealhost-sdr-bench-" + std::to_string(getpid()));
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--512 | --512-batch | --512-single | --512-batch8] [--cache-dir DIR] "
          "[--work-dir DIR]\n",
          argv[0]);
      return 2;
    }
  }
  std::printf("sha256: %s; cpus: %u; load average before: %s\n", sha256::implementation_name(),
              std::thread::hardware_concurrency(), load_average().c_str());
  std::printf("parent caches in %s, layer files under %s\n", cache_dir.c_str(), work.c_str());

  Bounds b = measure_bounds();
  print_bounds("before the runs", b);
  std::vector<Row> rows;
  try {
    fs::create_directories(work);
    auto measure_again = [&b] {
      const Bounds again = measure_bounds();
      print_bounds("measured again", again);
      b.keep_best(again);
    };
    if (small) {
      run_small(work, cache_dir, b, rows);
      measure_again();
    }
    if (big) {
      // What a lane's parent reads cost here: 8 MiB (TLB reach of 2048 entries of 4 KiB) against
      // a lane's 1 GiB layer buffer.
      std::printf("random prefetched line reads: %.2f ns over 8 MiB, %.2f ns over 1 GiB\n",
                  random_read_ns(uint64_t{8} << 20), random_read_ns(uint64_t{1} << 30));
      const auto& p512 = sdr::lookup_seal_proof("512MiB-v1.1");
      sdr::ParentCacheOptions verify;
      verify.verify = true;  // also checks the 512 MiB graph against the upstream manifest
      verify.threads = 2;
      bool generated = false;
      const auto gen = timed([&] {
        generated =
            sdr::ParentCache::open_or_create(sdr::Graph(p512), cache_dir, verify).generated();
      });
      const auto c512 = sdr::ParentCache::open_or_create(sdr::Graph(p512), cache_dir);
      std::printf(
          "parent cache 512 MiB %s, SHA-256 verified against the manifest (%s): wall "
          "%.1f s, CPU %.1f s\n",
          generated ? "generated" : "opened", c512.sha256_hex().c_str(), gen.wall, gen.cpu);
      // Each case twice with one LayerBufferPool: the first run maps its layer buffers (cold:
      // page faults and zeroing on the labelling cores), the second reuses them, as a PC1
      // worker does from its second sector on.
      auto cold_then_warm = [&](const char* what, size_t sectors, BoundKind kind, double target) {
        sdr::LayerBufferPool pool;
        for (const char* state : {"cold (fresh layer buffers)", "warm (pooled layer buffers)"}) {
          rows.push_back({std::string(what) + ", " + state,
                          run_pc1(p512, c512, sectors, 2, work, &pool), kind, target});
          report(rows.back(), b);
          measure_again();
        }
      };
      if (big_single) {
        cold_then_warm("PC1 512 MiB, 1 sector, 2 threads", 1, BoundKind::serial, 1.1);
      }
      if (big_batch) {
        cold_then_warm("PC1 512 MiB, 4 sectors, 2 threads", 4, BoundKind::x2_all_cores, 1.25);
      }
      if (big_batch8) {
        cold_then_warm("PC1 512 MiB, 8 sectors, 2 threads", 8, BoundKind::best_all_cores, 1.25);
      }
    }
    // Every run again against the strictest bounds seen (see Bounds::keep_best).
    print_bounds("kept (fastest of every measurement)", b);
    std::printf("--- summary: every run against the kept bounds ---\n");
    for (const Row& row : rows) report(row, b);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    fs::remove_all(work);
    return 1;
  }
  fs::remove_all(work);
  std::printf("load average after: %s\n", load_average().c_str());
  return 0;
}
