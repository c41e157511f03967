// The Poseidon work of PreCommit2 behind one small interface, so a stage can hand it to a compute
// backend (GPU, remote) while proofs/pc2 keeps the file handling, validation and layout.
//
// Buffers are 32-byte canonical little-endian field elements (never Montgomery form). Engines
// must be bit-identical to proofs/poseidon.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sealhost::proofs::pc2 {

// Domain tag of a batch: MerkleTree (2^arity - 1, trees and column hashes) or
// ConstantLength(arity) (neptune HashType::ConstantLength).
enum class PoseidonTag : uint32_t { kMerkleTree = 0, kConstantLength = 1 };

// Nodes above the leaves of a tree with n = arity^k leaves: (n - 1) / (arity - 1).
constexpr size_t tree_rows_nodes(size_t n, size_t arity) {
  return arity < 2 || n == 0 ? 0 : (n - 1) / (arity - 1);
}

// Threading: pc2 calls an engine from one thread at a time; an engine may use as many threads
// internally as it likes. Every method throws (any std::exception) on failure; the caller turns
// that into a PC2 error naming the engine.
class PoseidonEngine {
 public:
  virtual ~PoseidonEngine() = default;

  // n hashes: hash i reads in[i*arity*32 .. (i+1)*arity*32) and writes out[i*32 .. i*32+32).
  // Inputs must be canonical. `in` and `out` do not overlap.
  virtual void hash_batch(size_t arity, PoseidonTag tag, const uint8_t* in, uint8_t* out,
                          size_t n) = 0;
  // All rows above n = arity^k leaves (k >= 1), bottom-up, row-major: tree_rows_nodes(n, arity)
  // nodes, the root last. MerkleTree tag.
  virtual void tree_rows(size_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out) = 0;
  // For messages and records ("cpu", "sealhost.compute.cpu", ...).
  virtual std::string name() const = 0;
};

// proofs/poseidon on `threads` worker threads (1 = the calling thread only). Batches smaller than
// a few hundred hashes stay on the calling thread.
class CpuPoseidonEngine final : public PoseidonEngine {
 public:
  explicit CpuPoseidonEngine(unsigned threads = 1);

  void hash_batch(size_t arity, PoseidonTag tag, const uint8_t* in, uint8_t* out,
                  size_t n) override;
  void tree_rows(size_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out) override;
  std::string name() const override { return "builtin-cpu"; }
  unsigned threads() const { return threads_; }

 private:
  unsigned threads_;
};

}  // namespace sealhost::proofs::pc2
