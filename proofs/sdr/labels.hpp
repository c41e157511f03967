// SDR labelling (PreCommit1, spec sdr.md §8): lab[l][v] = SHA254(replica_id || u32_be(l) ||
// u64_be(v) || 20 zero bytes || 37 parent labels), layers l = 1..L.
//
// Two entry points:
//  * label_in_memory(): all layers in RAM, for tests, debugging and small sectors.
//  * run_pc1(): the production path. Labels one sector or a batch of sectors sharing a porep_id
//    in one pass over the parent cache (SHA-NI streams interleaved 2 or 4 ways), with a producer
//    thread gathering parent labels ahead of the hashing thread. Writes
//    `sc-02-data-layer-<l>.dat` (nodes * 32 bytes of raw labels) into each sector's cache dir,
//    each through `<name>.tmp` + fsync + rename, so a crash leaves only complete layers; a new
//    run keeps complete layers (validated by size and spot-checked labels) and resumes after the
//    last one. Memory: two layers (2 * nodes * 32 bytes) per sector plus the mapped cache.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/parent_cache.hpp"
#include "proofs/sdr/seal_proof.hpp"

namespace sealhost::proofs::sdr {

inline constexpr uint64_t kLabelBytes = 32;

// All layers of one sector, layer-major: label(l, v) is 32 bytes at ((l-1)*nodes + v)*32.
struct LayerLabels {
  uint64_t nodes = 0;
  uint32_t layers = 0;
  std::vector<uint8_t> data;

  // `layer` is 1-based. No bounds check beyond a debug assertion.
  const uint8_t* label(uint32_t layer, uint64_t node) const {
    return data.data() + ((static_cast<uint64_t>(layer) - 1) * nodes + node) * kLabelBytes;
  }
  Bytes32 label_bytes(uint32_t layer, uint64_t node) const;
  // The key of PC2: the last node of the last layer.
  Bytes32 last_label() const { return label_bytes(layers, nodes - 1); }
};

// Labels every layer in memory, parents from the graph (computed on the fly) or a parent cache.
// Throws SdrError for layers == 0 or more than 8 GiB of labels (use run_pc1 for big sectors).
LayerLabels label_in_memory(const Graph& graph, const ReplicaId& replica_id, uint32_t layers);
LayerLabels label_in_memory(const ParentCache& cache, const ReplicaId& replica_id, uint32_t layers);

// "sc-02-data-layer-<layer>.dat".
std::string layer_file_name(uint32_t layer);

struct Pc1Progress {
  uint32_t layer = 0;        // 1-based layer being labelled
  uint32_t layers = 0;       // total layers
  uint64_t nodes_done = 0;   // in this layer
  uint64_t nodes_total = 0;  // nodes per layer
};

// Where the time of a run_pc1 call went (for benchmarks and logs).
struct Pc1Stats {
  double wall_seconds = 0;
  double hasher_cpu_seconds = 0;    // the thread running the SHA chains
  double producer_cpu_seconds = 0;  // the parent-gathering thread (0 with threads = 1)
  uint64_t hasher_stalls = 0;       // nodes the hasher had to wait for the producer
  uint64_t hasher_preemptions = 0;  // involuntary context switches of the hasher (one sector)
  uint32_t layers_computed = 0;
  int stream_width = 0;             // streams interleaved per SHA call in batch mode (2 or 4)
  uint32_t layer_files_direct = 0;  // layer files written with O_DIRECT (see WriteMode)
  uint32_t buffers_reused = 0;      // layer buffers taken from Pc1Request::buffer_pool
  uint32_t buffers_mapped = 0;      // layer buffers newly mapped (first touch during the run)
};

// Layer memory kept across run_pc1 calls. A layer buffer's first touch costs page faults and
// zeroing by the kernel: about 1 s per GiB on bare metal, several on a VM (nested paging; 4 s per
// GiB measured here), on the labelling threads' cores. A long-running PC1 worker that seals
// sector after sector gives its runs one pool and pays that once, like a hugepage reservation.
// Buffers are reused only at their exact size; a run takes what it needs and returns it at its
// end (also on failure or cancel). A request the pool cannot serve means the workload changed
// (sector size, lane shape): the pool then unmaps everything it holds, so it never keeps more
// than about the last runs' memory. Thread-safe; must outlive the runs using it.
class LayerBufferPool {
 public:
  // max_bytes: memory held between runs; buffers returned beyond it are unmapped.
  explicit LayerBufferPool(uint64_t max_bytes = UINT64_MAX) : max_bytes_(max_bytes) {}
  LayerBufferPool(const LayerBufferPool&) = delete;
  LayerBufferPool& operator=(const LayerBufferPool&) = delete;
  ~LayerBufferPool() { release(); }

  uint64_t held_bytes() const;
  uint64_t max_bytes() const { return max_bytes_; }
  // Unmaps every held buffer (e.g. when the worker goes idle).
  void release();

  // Maps buffers of `sizes` (see layer_buffer_sizes) that the pool does not hold yet, faults
  // them in (huge pages where the kernel allows) and holds them, so the next run_pc1 of that
  // shape finds them ready: a worker reserving its memory when it starts. Blocking; `stop`
  // (polled every 2 MiB) ends it early, keeping what is mapped. Returns the bytes mapped by this
  // call. Throws SdrError when memory cannot be mapped (what was reserved before stays held).
  uint64_t reserve(const std::vector<uint64_t>& sizes, const std::function<bool()>& stop = {});

  // Used by run_pc1: a held mapping of exactly `bytes`, or nullptr (and then nothing is held
  // any more); hand one back (kept if it fits under max_bytes, otherwise unmapped).
  void* take(uint64_t bytes);
  void give(void* data, uint64_t bytes);

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<void*, uint64_t>> held_;
  uint64_t held_bytes_ = 0;
  uint64_t max_bytes_;
};

// The layer buffers run_pc1 maps for `sectors` sectors of `proof` on `threads` threads, in bytes:
// two per lane (the layer being labelled and the previous one), a lane holding its sectors'
// labels interleaved.
std::vector<uint64_t> layer_buffer_sizes(const SealProof& proof, size_t sectors, unsigned threads);

struct Pc1Request {
  // The proof being sealed (layers; nodes must match the cache).
  const SealProof* proof = nullptr;
  // The parent cache of the proof's graph; must outlive the call.
  const ParentCache* parent_cache = nullptr;
  // One replica id per sector; all sectors share the proof / porep_id. 1..8 sectors.
  std::vector<ReplicaId> replica_ids;
  // One cache dir per sector (created if missing); layer files go here.
  std::vector<std::filesystem::path> cache_dirs;
  // Hashing threads. A batch of n sectors runs min(threads, n) lanes, each gathering and hashing
  // its share of the sectors (interleaved SHA streams). One sector runs on one thread, plus a
  // producer thread that gathers parent labels ahead of it when threads >= 2 (see schedule).
  unsigned threads = 2;
  // How one sector with threads >= 2 is labelled: `automatic` uses the producer thread when a
  // layer is larger than 16 MiB (it no longer fits the caches) and the inline lane otherwise;
  // `producer` forces the producer thread (tests). Batches always run one lane per thread.
  enum class Schedule { automatic, producer };
  Schedule schedule = Schedule::automatic;
  // How layer files are written: `automatic` uses O_DIRECT for layers over 16 MiB (no page-cache
  // copy of data PC2 reads back once, from disk anyway for large sectors) and the page cache for
  // smaller ones; `direct` / `buffered` force one (direct falls back to buffered where the
  // filesystem refuses O_DIRECT, e.g. tmpfs).
  enum class WriteMode { automatic, direct, buffered };
  WriteMode write_mode = WriteMode::automatic;
  // 0: proof->layers. Tests set fewer or more layers on small graphs.
  uint32_t layers_override = 0;
  // Called from the hashing thread every min(4096, nodes/16) nodes and at every layer end; keep
  // it cheap. An exception thrown here stops the run (complete layers are kept) and propagates.
  std::function<void(const Pc1Progress&)> progress;
  // Polled before each layer and every min(4096, nodes/16) nodes (a few ms); returning true
  // stops the run with SdrCancelled.
  std::function<bool()> cancelled;
  // Free bytes available at a path; default: statvfs (f_bavail * f_frsize).
  std::function<uint64_t(const std::filesystem::path&)> free_space;
  // When set, filled in before run_pc1 returns (also when it throws).
  Pc1Stats* stats = nullptr;
  // When set, layer buffers come from and go back to this pool (see LayerBufferPool).
  LayerBufferPool* buffer_pool = nullptr;
};

struct Pc1SectorResult {
  std::filesystem::path cache_dir;
  std::vector<std::filesystem::path> layer_files;  // layer 1..L
  uint32_t layers_resumed = 0;                     // complete layers found on disk and kept
  Bytes32 last_label{};  // last node of the last layer (the PC2 key of the last node)
};

// Labels all sectors of the request. Throws SdrError on bad input (naming the field), missing
// free space (naming the dir, the need and what is free) or I/O errors, and SdrCancelled when
// cancelled. Results are in request order. Blocking; concurrent calls are fine as long as they
// use different cache dirs (a ParentCache may be shared).
std::vector<Pc1SectorResult> run_pc1(const Pc1Request& request);

}  // namespace sealhost::proofs::sdr
