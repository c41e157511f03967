// Merkle trees as rust-fil-proofs builds them with merkletree 0.23: arity-2 SHA254 trees (TreeD)
// and arity-8 Poseidon trees with optional sub (8 or 2) and top (2) levels (TreeC, TreeRLast).
// See /work/shared/spec/sdr.md §10-§12.
//
// Nodes are 32-byte canonical little-endian values. Leaves are not hashed (leaf(x) = x); a parent
// is H(children in index order): SHA254(left || right) or Poseidon_a(children) with the
// MerkleTree domain tag.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sealhost::proofs::merkle {

using Node = std::array<uint8_t, 32>;

enum class NodeHash { kSha254, kPoseidon };

// Bad geometry, a store file of the wrong size, an I/O failure or a short read.
class MerkleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- geometry of one (base) tree: leaves = arity^k, k >= 1 ----

// Number of rows including the leaf row and the root row (merkletree "row_count").
size_t row_count(size_t leaves, size_t arity);
// Total nodes of the full row-major tree (merkletree `get_merkle_tree_len`).
size_t tree_len(size_t leaves, size_t arity);
// Index of the first node of `row` (0 = leaves) in the full layout.
size_t row_start(size_t leaves, size_t arity, size_t row);
// rust-fil-proofs default_rows_to_discard: 0 for <= 2 rows, else min(rows - 2, configured).
size_t default_rows_to_discard(size_t leaves, size_t arity, size_t configured = 2);
// Nodes kept in a level-cache store: rows rows_to_discard+1 .. root.
size_t level_cache_len(size_t leaves, size_t arity, size_t rows_to_discard);
// Throws MerkleError unless leaves is a positive power of arity (arity 2 or 8; leaves >= arity).
void check_geometry(size_t leaves, size_t arity);

// ---- hashing ----

// Hashes `parents` groups of `arity` consecutive children (children: parents*arity*32 bytes) into
// `out` (parents*32 bytes). kSha254 requires arity 2. Poseidon children must be canonical field
// elements (MerkleError otherwise). `threads` > 1 splits large rows across worker threads.
void hash_row(NodeHash hash, size_t arity, const uint8_t* children, uint8_t* out, size_t parents,
              unsigned threads = 1);
Node hash_children(NodeHash hash, const std::vector<Node>& children);

// ---- inclusion proofs ----

// One level of a Merkle path: the arity-1 siblings in index order (the node itself skipped) and
// the node's position 0..arity-1 among its siblings.
struct PathLevel {
  std::vector<Node> siblings;
  uint32_t position = 0;
  size_t arity() const { return siblings.size() + 1; }
};

struct InclusionProof {
  Node leaf{};
  Node root{};
  // From the leaf upwards: base levels, then the sub level, then the top level.
  std::vector<PathLevel> path;
  // The leaf index the positions encode: sum(position_j * prod(arity_k, k < j)).
  uint64_t path_index() const;
};

// Recomputes the root from leaf and path with `hash` (Poseidon levels take their arity from the
// path; SHA254 levels must be binary). True if it equals proof.root and, when given, the
// expected root and leaf index.
bool verify(const InclusionProof& proof, NodeHash hash);
bool verify(const InclusionProof& proof, NodeHash hash, const Node& expected_root,
            uint64_t expected_index);

}  // namespace sealhost::proofs::merkle
