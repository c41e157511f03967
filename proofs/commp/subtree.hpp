// Building blocks shared by CommP, CommD and TreeD: subtree roots and the stack of roots.
#pragma once

#include <array>
#include <cstdint>

#include "proofs/commp/commp.hpp"

namespace sealhost::proofs::commp::detail {

// Root of 2^level nodes at `padded` (read only). `scratch` must hold 2^(level-1) nodes.
void subtree_root(const uint8_t* padded, unsigned level, uint8_t* scratch, uint8_t out[32]);

// Root of 2^level nodes at `buf`, reducing the rows in place (buf is destroyed).
void reduce_in_place(uint8_t* buf, unsigned level, uint8_t out[32]);

// The binary-counter stack of a left-to-right tree build: at most one root per level. Every
// push must be aligned, i.e. nodes() must be a multiple of 2^level.
class SubtreeStack {
 public:
  void push(const Node& root, unsigned level);
  // Root of the tree of 2^target_level leaves: everything pushed, then zero nodes. Throws
  // CommpError if more than 2^target_level leaves were pushed.
  Node finish(unsigned target_level) const;
  // Leaves pushed so far; bit l is set iff a root of level l is held.
  uint64_t nodes() const { return nodes_; }

 private:
  std::array<Node, 64> roots_{};
  uint64_t nodes_ = 0;
};

}  // namespace sealhost::proofs::commp::detail
