// SHA-256 and the SHA254 node hash used by every Filecoin binary tree (CommP, CommD, SDR labels).
//
// The compression function is picked once per process: x86 SHA extensions when the CPU has them,
// a portable C++ implementation otherwise. Setting SEALHOST_SHA256_IMPL=portable in the
// environment before the first call forces the portable code (tests use it to cross-check).
// Every function here is stateless and safe to call from any number of threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sealhost::proofs::sha256 {

inline constexpr size_t kBlockBytes = 64;
inline constexpr size_t kDigestBytes = 32;

// Chaining state, h[0] = a ... h[7] = h of FIPS 180-4 (native integers, not bytes).
struct State {
  uint32_t h[8];
};

inline constexpr State kInitialState = {{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
                                         0x9b05688c, 0x1f83d9ab, 0x5be0cd19}};

using Digest = std::array<uint8_t, kDigestBytes>;

// Runs the compression function over `nblocks` consecutive 64-byte blocks.
void compress(State& state, const uint8_t* blocks, size_t nblocks);

// Two independent streams of `nblocks` blocks each, interleaved in one instruction stream so the
// SHA unit's latency is hidden: close to twice the throughput of two compress() calls.
void compress_x2(State& a, const uint8_t* blocks_a, State& b, const uint8_t* blocks_b,
                 size_t nblocks);

// Four independent streams (same idea as compress_x2).
void compress_x4(const std::array<State*, 4>& states, const std::array<const uint8_t*, 4>& blocks,
                 size_t nblocks);

// Big-endian serialisation of the state: the standard SHA-256 output bytes.
Digest state_bytes(const State& state);

// One-shot SHA-256.
Digest digest(std::span<const uint8_t> data);

// Incremental SHA-256. Not thread-safe; one instance per stream.
class Hasher {
 public:
  Hasher() = default;
  void update(std::span<const uint8_t> data);
  // Pads and returns the digest; the hasher must not be updated afterwards.
  Digest finish();

 private:
  State state_ = kInitialState;
  uint8_t buffer_[kBlockBytes] = {};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// "sha-ni" or "portable": the compression function in use.
const char* implementation_name();

// True when the CPU supports the SHA extensions (regardless of SEALHOST_SHA256_IMPL).
bool sha_ni_supported();

// SHA254 node hash: SHA-256(left || right) with out[31] &= 0x3f (a canonical BLS12-381 scalar).
// The second (padding-only) block of the 64-byte message is constant; its schedule is
// precomputed. `out` may alias `left` or `right`.
void sha254_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);

// Two node hashes computed as interleaved streams.
void sha254_node_x2(const uint8_t left0[32], const uint8_t right0[32], uint8_t out0[32],
                    const uint8_t left1[32], const uint8_t right1[32], uint8_t out1[32]);

// n node hashes: out[32*i..] = sha254_node(pairs[64*i..], pairs[64*i+32..]). This is one level of
// a binary tree when `pairs` is a row of 2n nodes. `out` may equal `pairs` (in-place reduction of
// a row into its first half); other overlaps are not allowed.
void sha254_nodes(const uint8_t* pairs, uint8_t* out, size_t n);

// The raw implementations, for tests and benchmarks that compare them. The sha_ni variants may
// only be called when sha_ni_supported().
namespace impl {
void compress_portable(State& state, const uint8_t* blocks, size_t nblocks);
void compress_sha_ni(State& state, const uint8_t* blocks, size_t nblocks);
void compress_x2_sha_ni(State& a, const uint8_t* blocks_a, State& b, const uint8_t* blocks_b,
                        size_t nblocks);
void compress_x4_sha_ni(const std::array<State*, 4>& states,
                        const std::array<const uint8_t*, 4>& blocks, size_t nblocks);
void sha254_nodes_portable(const uint8_t* pairs, uint8_t* out, size_t n);
void sha254_nodes_sha_ni(const uint8_t* pairs, uint8_t* out, size_t n);
}  // namespace impl

}  // namespace sealhost::proofs::sha256
