// PreCommit2 of Stacked DRG PoRep, bit-compatible with rust-fil-proofs
// (seal_pre_commit_phase2; /work/shared/spec/sdr.md §9-§13):
//
//   1. TreeC: col_v = Poseidon_L(lab[1][v], ..., lab[L][v]) (MerkleTree tag, arity L = layers);
//      arity-8 Poseidon trees over the columns with the sector's TreeShape, full stores
//      sc-02-data-tree-c[-i].dat; comm_c = compound root.
//   2. Encoding: replica_v = (unsealed_v + lab[L][v]) mod r, written as the sealed file.
//   3. TreeRLast over the replica: level-cache stores sc-02-data-tree-r-last[-i].dat with the
//      default rows_to_discard; comm_r_last = compound root.
//   4. comm_r = Poseidon_2(comm_c, comm_r_last); p_aux and t_aux in the cache directory.
//
// Memory is bounded by the chunk size: the L layer files are read chunk by chunk (L buffers of
// chunk_leaves nodes plus the chunk's tree rows), never loaded whole.
//
// Two schedules, same bytes out: with the builtin CpuPoseidonEngine, each of its threads claims
// aligned subtrees of min(chunk_leaves, 4096) leaves from one shared queue (all TreeC subtrees,
// then all TreeRLast ones) and reads, checks, encodes, hashes and writes each one itself, so every
// thread is busy from the first node to the last; only the rows above the subtree roots are left
// for the end. Any other engine (a compute component, a GPU) gets whole chunks as large batches
// from the calling thread.
//
// Outputs appear atomically: everything is written under temporary names (`<name>.pc2-tmp`) and
// renamed into place only after every step has succeeded; on any error or cancel the temporary
// files are removed and previously existing outputs are left untouched. Input sizes are checked
// before anything is created; label and data values are checked for canonical encoding as they
// are streamed (an invalid value aborts the run without leaving outputs).
//
// Threading: run_pc2 is synchronous; the engine does the parallel hashing (the builtin CPU engine
// runs threads() - 1 workers beside the calling thread for the duration of the call). Callbacks
// (progress, cancelled) run on the calling thread only. Several run_pc2 calls on different
// sectors may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "proofs/merkle/merkle.hpp"
#include "proofs/pc2/aux_files.hpp"
#include "proofs/pc2/poseidon_engine.hpp"

namespace sealhost::proofs::pc2 {

using merkle::Node;

// What went wrong, so callers can map it to a status once (stage: INVALID_ARGUMENT, NOT_FOUND,
// DATA_LOSS, IO, UNAVAILABLE, CANCELLED).
enum class Pc2ErrorKind {
  kInvalidInput,  // bad sector size / layer count / paths, wrong file sizes
  kNotFound,      // a required file or directory is missing
  kCorrupt,       // non-canonical values, a short read, a tree_d or replica_id mismatch
  kIo,            // cannot create/write/rename an output
  kEngine,        // the Poseidon engine failed
  kCancelled,
};

class Pc2Error : public std::runtime_error {
 public:
  explicit Pc2Error(const std::string& message, Pc2ErrorKind kind = Pc2ErrorKind::kInvalidInput)
      : std::runtime_error(message), kind_(kind) {}
  Pc2ErrorKind kind() const { return kind_; }

 private:
  Pc2ErrorKind kind_;
};

// The cancel check returned true; no outputs were left behind.
class Pc2Cancelled : public Pc2Error {
 public:
  explicit Pc2Cancelled(const std::string& message) : Pc2Error(message, Pc2ErrorKind::kCancelled) {}
};

// Layers for a sector size: 2 up to 1 GiB (incl. test sizes), 11 for 32 and 64 GiB.
size_t layers_for_sector(uint64_t sector_bytes);
// sc-02-data-layer-<l>.dat (l = 1..L).
std::string layer_file_name(size_t layer);

// comm_r = Poseidon_2(comm_c, comm_r_last) (MerkleTree tag). Throws Pc2Error on non-canonical
// input.
Node comm_r(const Node& comm_c, const Node& comm_r_last);

// Replica encoding of `n` nodes: out_v = (data_v + key_v) mod r. `data` and `key` must be
// canonical (Pc2Error naming the node index plus `first_node` otherwise); `out` may alias `data`.
void encode_nodes(const uint8_t* data, const uint8_t* key, uint8_t* out, size_t n,
                  uint64_t first_node = 0);
// Inverse: data_v = (replica_v - key_v) mod r.
void decode_nodes(const uint8_t* replica, const uint8_t* key, uint8_t* out, size_t n,
                  uint64_t first_node = 0);

struct Pc2Input {
  uint64_t sector_bytes = 0;            // 2 KiB .. 64 GiB, a size TreeShape::for_sector knows
  size_t layers = 0;                    // 0 = layers_for_sector(sector_bytes)
  std::filesystem::path cache_dir;      // layer files in; tree-c, tree-r-last, p_aux, t_aux out
  std::filesystem::path unsealed_path;  // fr32-padded sector data, exactly sector_bytes
  std::filesystem::path sealed_path;    // written (replaced if it exists)
  // When set and the cache dir holds sc-02-data-tree-d.dat of the right size, its root must equal
  // this (catches a cache dir from another sector).
  std::optional<Node> comm_d;
  // When set, node 0 of every layer must be SHA254(replica_id || u32_be(l) || u64_be(0) || 0^20)
  // (spec §8: node 0 has no parents), which catches layers labelled for another sector.
  std::optional<Node> replica_id;
};

struct Pc2Progress {
  const char* phase;  // "tree_c" or "tree_r_last"
  uint64_t done;      // nodes processed over both phases
  uint64_t total;     // 2 * nodes
};

struct Pc2Options {
  // Required: where the Poseidon work runs.
  PoseidonEngine* engine = nullptr;
  // Leaves per chunk (rounded down to a power of 8, at least 8). Memory is about
  // (layers + 3) * 32 * chunk_leaves bytes (builtin CPU engine: per thread, with chunks capped
  // at 4096 leaves).
  size_t chunk_leaves = size_t{1} << 18;
  // Called after every chunk the calling thread finished (done counts every thread's chunks) and
  // once more at the end if needed so the last call has done == total; throwing aborts the run
  // (Pc2Cancelled carrying the exception's message).
  std::function<void(const Pc2Progress&)> progress;
  // Polled between chunks; true aborts the run with Pc2Cancelled.
  std::function<bool()> cancelled;
};

struct Pc2Output {
  Node comm_c{};
  Node comm_r_last{};
  Node comm_r{};
  std::vector<std::filesystem::path> tree_c_paths;
  std::vector<std::filesystem::path> tree_r_last_paths;
  std::filesystem::path p_aux_path;
  std::filesystem::path t_aux_path;
  std::filesystem::path sealed_path;
  uint64_t poseidon_hashes = 0;        // hashes computed, by arity below
  uint64_t field_multiplications = 0;  // sum of poseidon::multiplications_per_hash
};

// Largest chunk (power of 8, >= 8, <= base_leaves) whose buffers fit in `memory_bytes` for a
// sector with `layers` layers.
size_t chunk_leaves_for_memory(uint64_t memory_bytes, size_t layers, uint64_t base_leaves);

// Checks what run_pc2 checks before creating anything; throws Pc2Error naming the file and fix.
void validate_pc2_input(const Pc2Input& input);

Pc2Output run_pc2(const Pc2Input& input, const Pc2Options& options);

// Number of Poseidon hashes and field multiplications PC2 costs for a sector (column hashes,
// base trees, sub/top levels, comm_r).
struct Pc2Cost {
  uint64_t hashes = 0;
  uint64_t multiplications = 0;
};
Pc2Cost pc2_cost(uint64_t sector_bytes, size_t layers = 0);

}  // namespace sealhost::proofs::pc2
