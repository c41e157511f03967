// SHA-256 with the x86 SHA extensions (building blocks in sha_ni_kernels.hpp). Each function
// carries its own target attribute so the rest of the project builds for the baseline ISA and
// the dispatcher in sha256.cpp decides at run time whether these may be called.
//
// The N-stream template interleaves independent messages: sha256rnds2 has a latency several
// times its reciprocal throughput, so a single stream leaves the SHA unit mostly idle.
#include <immintrin.h>

#include <cstring>

#include "proofs/sha256/sha256.hpp"
#include "proofs/sha256/sha256_constants.hpp"
#include "proofs/sha256/sha_ni_kernels.hpp"

#ifndef SEALHOST_SHA254_STREAMS
#define SEALHOST_SHA254_STREAMS 4
#endif

namespace sealhost::proofs::sha256::impl {
namespace {

using namespace sha_ni;

// Streams per batch in sha254_nodes; chosen by measurement (bench/proofs_sha256_commp).
constexpr int kSha254Streams = SEALHOST_SHA254_STREAMS;

}  // namespace

SEALHOST_SHA_TARGET void compress_sha_ni(State& state, const uint8_t* blocks, size_t nblocks) {
  State* const states[1] = {&state};
  const uint8_t* const ptrs[1] = {blocks};
  compress_n<1>(states, ptrs, nblocks);
}

SEALHOST_SHA_TARGET void compress_x2_sha_ni(State& a, const uint8_t* blocks_a, State& b,
                                            const uint8_t* blocks_b, size_t nblocks) {
  State* const states[2] = {&a, &b};
  const uint8_t* const ptrs[2] = {blocks_a, blocks_b};
  compress_n<2>(states, ptrs, nblocks);
}

SEALHOST_SHA_TARGET void compress_x4_sha_ni(const std::array<State*, 4>& states,
                                            const std::array<const uint8_t*, 4>& blocks,
                                            size_t nblocks) {
  State* const s[4] = {states[0], states[1], states[2], states[3]};
  const uint8_t* const p[4] = {blocks[0], blocks[1], blocks[2], blocks[3]};
  compress_n<4>(s, p, nblocks);
}

SEALHOST_SHA_TARGET void sha254_nodes_sha_ni(const uint8_t* pairs, uint8_t* out, size_t n) {
  size_t i = 0;
  for (; i + kSha254Streams <= n; i += kSha254Streams) {
    nodes_n<kSha254Streams>(pairs + 64 * i, out + 32 * i);
  }
  for (; i < n; ++i) nodes_n<1>(pairs + 64 * i, out + 32 * i);
}

}  // namespace sealhost::proofs::sha256::impl
