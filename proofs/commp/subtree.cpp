#include "proofs/commp/subtree.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::commp::detail {

void reduce_in_place(uint8_t* buf, unsigned level, uint8_t out[32]) {
  for (uint64_t n = uint64_t{1} << level; n > 1; n /= 2) sha256::sha254_nodes(buf, buf, n / 2);
  std::memcpy(out, buf, kNodeBytes);
}

void subtree_root(const uint8_t* padded, unsigned level, uint8_t* scratch, uint8_t out[32]) {
  if (level == 0) {
    std::memcpy(out, padded, kNodeBytes);
    return;
  }
  sha256::sha254_nodes(padded, scratch, uint64_t{1} << (level - 1));
  reduce_in_place(scratch, level - 1, out);
}

void SubtreeStack::push(const Node& root, unsigned level) {
  if (nodes_ % (uint64_t{1} << level) != 0) {
    throw std::logic_error("SubtreeStack::push: subtree of level " + std::to_string(level) +
                           " is not aligned at leaf " + std::to_string(nodes_));
  }
  Node node = root;
  unsigned l = level;
  // Carry: a held root at the same level is the left sibling.
  while ((nodes_ >> l) & 1) {
    sha256::sha254_node(roots_[l].data(), node.data(), node.data());
    ++l;
  }
  roots_[l] = node;
  nodes_ += uint64_t{1} << level;
}

Node SubtreeStack::finish(unsigned target_level) const {
  if (nodes_ == 0) return zero_commitment(target_level);
  if (target_level < 63 && nodes_ > (uint64_t{1} << target_level)) {
    throw CommpError("tree of " + std::to_string(nodes_) + " leaves does not fit in level " +
                     std::to_string(target_level) + " (use a larger target)");
  }
  unsigned lowest = static_cast<unsigned>(std::countr_zero(nodes_));
  Node acc = roots_[lowest];
  for (unsigned l = lowest; l < target_level; ++l) {
    if (l > lowest && ((nodes_ >> l) & 1)) {
      sha256::sha254_node(roots_[l].data(), acc.data(), acc.data());
    } else {
      sha256::sha254_node(acc.data(), zero_commitment(l).data(), acc.data());
    }
  }
  return acc;
}

}  // namespace sealhost::proofs::commp::detail
