// On-disk Merkle tree stores, byte-identical to merkletree 0.23 as used by rust-fil-proofs:
//  * full store (DiskStore): every row, leaves first, root last, 32 bytes per node, no header;
//  * level-cache store (LevelCacheStore): only rows rows_to_discard+1 .. root; the leaves live in
//    another file (the sealed replica for TreeRLast) and the discarded rows are rebuilt on demand.
// Compound trees (count > 1 base trees) store one file per base tree, `<name>-<i>.dat`; the sub
// and top levels are never stored.
//
// Building streams the leaves in aligned chunks, so memory stays bounded (a few MiB per chunk
// plus one node per chunk) whatever the tree size. Readers check every file's exact size on open
// and use pread with short-read checks: a truncated or wrong-sized file is a MerkleError, never an
// out-of-bounds read.
//
// Threading: a TreeReader/CompoundTreeReader is immutable after open and its const methods may be
// called concurrently (pread only).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proofs/merkle/merkle.hpp"

namespace sealhost::proofs::merkle {

// Fills out[0 .. count*32) with leaves first .. first+count-1 of the whole (compound) tree.
using LeafReader = std::function<void(uint64_t first, size_t count, uint8_t* out)>;

// Leaves stored contiguously in a file from `byte_offset` (e.g. the sealed replica or an unsealed
// sector). The file must hold at least `leaves` nodes after the offset (checked on creation).
LeafReader file_leaf_reader(const std::filesystem::path& path, uint64_t byte_offset,
                            uint64_t leaves);
// Leaves held in memory (borrowed: `data` must outlive the reader).
LeafReader memory_leaf_reader(const uint8_t* data, uint64_t leaves);

enum class TreeId { kTreeD, kTreeC, kTreeRLast };
// "tree-d", "tree-c", "tree-r-last".
std::string tree_id_name(TreeId id);
// sc-02-data-<id>.dat, or sc-02-data-<id>-<index>.dat for base tree `index` of a split tree.
std::string store_file_name(TreeId id, std::optional<size_t> index = std::nullopt);

// Shape of a (compound) tree. base_arity 2 (SHA254, TreeD) or 8 (Poseidon). sub_arity 0/2/8 and
// top_arity 0/2 (Poseidon) add levels over consecutive base-tree roots; top requires sub.
struct TreeShape {
  size_t base_arity = 8;
  size_t sub_arity = 0;
  size_t top_arity = 0;
  uint64_t base_leaves = 0;

  size_t base_tree_count() const;
  uint64_t total_leaves() const { return base_leaves * base_tree_count(); }
  NodeHash base_hash() const { return base_arity == 2 ? NodeHash::kSha254 : NodeHash::kPoseidon; }
  // Throws MerkleError for unsupported combinations.
  void validate() const;
  // rust-fil-proofs shapes by sector size in bytes (2KiB .. 64GiB including test sizes) for
  // TreeC / TreeRLast; TreeD is always {2, 0, 0, nodes}.
  static TreeShape for_sector(uint64_t sector_bytes);
  static TreeShape tree_d(uint64_t sector_bytes);
};

struct StoreLayout {
  // nullopt: full store; otherwise a level-cache store discarding this many rows above the leaves.
  std::optional<size_t> rows_to_discard;
};

// Builds every row above `n` leaves (n a power of `arity`) of one Poseidon subtree into
// `rows_out`: row 1 (n/arity nodes), then row 2, ... up to the single root, 32 bytes per node,
// (n - 1) / (arity - 1) nodes in all. Lets a caller route tree hashing to another engine (a GPU
// compute backend); must produce exactly what hash_row would.
using SubtreeRowsBuilder =
    std::function<void(size_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out)>;

struct BuildOptions {
  unsigned threads = 1;
  // Leaves hashed per chunk (rounded down to a power of the arity); bounds memory.
  size_t chunk_leaves = size_t{1} << 18;
  // Optional (Poseidon trees only): replaces the built-in row hashing; `threads` is then unused.
  SubtreeRowsBuilder subtree_rows;
};

// Builds one base tree over leaves [first_leaf, first_leaf + leaves) of `reader` into `path`
// (created or truncated) and returns its root.
Node build_tree_file(const std::filesystem::path& path, NodeHash hash, size_t arity,
                     uint64_t leaves, const LeafReader& reader, uint64_t first_leaf,
                     StoreLayout layout, const BuildOptions& options = {});

// Builds every base-tree file of `id` in `dir` and returns the compound root.
Node build_tree(const std::filesystem::path& dir, TreeId id, const TreeShape& shape,
                const LeafReader& reader, StoreLayout layout, const BuildOptions& options = {});

// Combines base-tree roots with the sub/top levels of `shape` (Poseidon).
Node compound_root(const TreeShape& shape, const std::vector<Node>& base_roots);

// Read access to one base-tree store file.
class TreeReader {
 public:
  // Full store: the file must be exactly tree_len(leaves, arity) * 32 bytes.
  static TreeReader open_full(const std::filesystem::path& path, NodeHash hash, size_t arity,
                              uint64_t leaves);
  // Level-cache store: the file must be exactly level_cache_len(...) * 32 bytes. `leaf_reader`
  // returns this tree's leaves (local indices) to rebuild the discarded rows.
  static TreeReader open_level_cache(const std::filesystem::path& path, NodeHash hash, size_t arity,
                                     uint64_t leaves, size_t rows_to_discard,
                                     LeafReader leaf_reader);

  TreeReader(TreeReader&&) noexcept;
  TreeReader& operator=(TreeReader&&) noexcept;
  ~TreeReader();

  Node root() const;
  uint64_t leaves() const;
  size_t arity() const;
  // Node `index` of `row` (0 = leaves); rows at or below rows_to_discard are rebuilt.
  Node read_node(size_t row, uint64_t index) const;
  // Base-tree inclusion proof of local leaf `index` (path has row_count-1 levels).
  InclusionProof prove(uint64_t index) const;

 private:
  struct Impl;
  explicit TreeReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// All base trees of `id` in `dir` plus the in-memory sub/top levels.
class CompoundTreeReader {
 public:
  // TreeRLast-style level-cache stores need `leaves` (whole-tree leaf reader, e.g. the replica);
  // full stores ignore it.
  static CompoundTreeReader open(const std::filesystem::path& dir, TreeId id,
                                 const TreeShape& shape, StoreLayout layout,
                                 LeafReader leaves = nullptr);
  const Node& root() const { return root_; }
  const TreeShape& shape() const { return shape_; }
  // Proof of whole-tree leaf `index`: base levels, then sub level, then top level.
  InclusionProof prove(uint64_t index) const;

 private:
  TreeShape shape_;
  std::vector<TreeReader> trees_;
  std::vector<Node> base_roots_;
  std::vector<Node> sub_roots_;
  Node root_{};
};

}  // namespace sealhost::proofs::merkle
