// CommD from a piece list: the chain's zero-piece layout (ref-fvm compute_unsealed_sector_cid)
// feeding rust-fil-proofs' compute_comm_d stack.
#include <bit>
#include <string>
#include <vector>

#include "proofs/commp/commp.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::commp {
namespace {

void check_piece_size(uint64_t padded_size, size_t index) {
  if (padded_size < kMinPaddedPieceBytes || !std::has_single_bit(padded_size) ||
      padded_size > kMaxPaddedPieceBytes) {
    throw CommpError("piece " + std::to_string(index) + ": padded size " +
                     std::to_string(padded_size) +
                     " is not a power of two between 128 B and 64 GiB (use the padded piece size)");
  }
}

struct Entry {
  Node comm;
  uint64_t size;
};

void reduce(std::vector<Entry>& stack) {
  while (stack.size() >= 2 && stack[stack.size() - 1].size == stack[stack.size() - 2].size) {
    const Entry right = stack.back();
    stack.pop_back();
    Entry& left = stack.back();
    sha256::sha254_node(left.comm.data(), right.comm.data(), left.comm.data());
    left.size *= 2;
  }
}

void push_zero_pieces(std::vector<PieceInfo>& out, uint64_t to_fill) {
  for (unsigned b = 0; b < 64; ++b) {
    if ((to_fill >> b) & 1) {
      const uint64_t size = uint64_t{1} << b;
      out.push_back({zero_piece_commitment(size), size});
    }
  }
}

}  // namespace

Node join_pieces(std::span<const PieceInfo> pieces) {
  if (pieces.empty()) throw CommpError("join_pieces: the piece list is empty (pass at least one)");
  for (size_t i = 0; i < pieces.size(); ++i) check_piece_size(pieces[i].padded_size, i);
  std::vector<Entry> stack;
  stack.push_back({pieces[0].comm, pieces[0].padded_size});
  for (size_t i = 1; i < pieces.size(); ++i) {
    while (stack.back().size < pieces[i].padded_size) {
      stack.push_back({zero_piece_commitment(stack.back().size), stack.back().size});
      reduce(stack);
    }
    stack.push_back({pieces[i].comm, pieces[i].padded_size});
    reduce(stack);
  }
  while (stack.size() > 1) {
    stack.push_back({zero_piece_commitment(stack.back().size), stack.back().size});
    reduce(stack);
  }
  return stack.front().comm;
}

std::vector<PieceInfo> sector_piece_layout(uint64_t sector_size,
                                           std::span<const PieceInfo> pieces) {
  if (sector_size < kMinPaddedPieceBytes || !std::has_single_bit(sector_size) ||
      sector_size > kMaxPaddedPieceBytes) {
    throw CommpError("sector size " + std::to_string(sector_size) +
                     " is not a power of two between 128 B and 64 GiB");
  }
  std::vector<PieceInfo> out;
  if (pieces.empty()) {
    out.push_back({zero_piece_commitment(sector_size), sector_size});
    return out;
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const uint64_t s = pieces[i].padded_size;
    check_piece_size(s, i);
    push_zero_pieces(out, (0 - sum) & (s - 1));
    sum = (sum + s - 1) & ~(s - 1);
    out.push_back(pieces[i]);
    sum += s;
    if (sum > sector_size) {
      throw CommpError("pieces 0.." + std::to_string(i) + " need " + std::to_string(sum) +
                       " padded bytes with alignment, more than the sector's " +
                       std::to_string(sector_size) + " (drop pieces or use a larger sector)");
    }
  }
  push_zero_pieces(out, (0 - sum) & (sector_size - 1));
  return out;
}

Node comm_d(uint64_t sector_size, std::span<const PieceInfo> pieces) {
  const auto layout = sector_piece_layout(sector_size, pieces);
  return join_pieces(layout);
}

PieceAlignment piece_alignment(uint64_t written_unpadded, uint64_t piece_unpadded) {
  uint64_t needed = 127;
  while (needed < piece_unpadded) needed *= 2;
  const uint64_t into = written_unpadded % needed;
  return {(needed - into) % needed, needed - piece_unpadded};
}

uint64_t piece_start_byte(std::span<const uint64_t> previous, uint64_t piece_unpadded) {
  uint64_t written = 0;
  for (uint64_t p : previous) {
    const PieceAlignment a = piece_alignment(written, p);
    written += a.left + p + a.right;
  }
  return written + piece_alignment(written, piece_unpadded).left;
}

}  // namespace sealhost::proofs::commp
