// Internal: the SHA-NI building blocks (x86 SHA extensions) shared by sha256_sha_ni.cpp and the
// fused SDR labelling kernel (proofs/sdr). Every function is always_inline and carries the SHA
// target attribute, so it may only be inlined into functions with the same attribute, which in
// turn may only be called after sha256::sha_ni_supported(). Not a public header.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "proofs/sha256/sha256.hpp"
#include "proofs/sha256/sha256_constants.hpp"

#define SEALHOST_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))
#define SEALHOST_SHA_INLINE SEALHOST_SHA_TARGET __attribute__((always_inline)) inline

namespace sealhost::proofs::sha256::sha_ni {

using detail::kPadBlockWk;
using detail::kRoundConstants;

// Byte order within each 32-bit lane is reversed: message words and digests are big-endian.
SEALHOST_SHA_INLINE __m128i bswap_mask() {
  return _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
}

// State h[0..7] -> the (ABEF, CDGH) register pair sha256rnds2 works on.
SEALHOST_SHA_INLINE void load_state(const uint32_t* h, __m128i& abef, __m128i& cdgh) {
  const __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  const __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  abef = _mm_alignr_epi8(cdab, efgh, 8);
  cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
}

// Inverse of load_state: returns h[0..3] and h[4..7] as native-order vectors.
SEALHOST_SHA_INLINE void unpack_state(__m128i abef, __m128i cdgh, __m128i& dcba, __m128i& hgfe) {
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  hgfe = _mm_alignr_epi8(dchg, feba, 8);
}

SEALHOST_SHA_INLINE __m128i round_constants(int group) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundConstants.data() + 4 * group));
}

// Four rounds with W+K already added.
SEALHOST_SHA_INLINE void four_rounds(__m128i& abef, __m128i& cdgh, __m128i wk) {
  cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
  abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

// One 64-byte block for each of N streams; all message loads happen before any caller store,
// which is what makes in-place tree reduction safe.
template <int N>
SEALHOST_SHA_INLINE void block_n(__m128i (&abef)[N], __m128i (&cdgh)[N],
                                 const uint8_t* const (&msg)[N]) {
  const __m128i mask = bswap_mask();
  __m128i w[N][4];
  __m128i save_abef[N];
  __m128i save_cdgh[N];
#pragma GCC unroll 4
  for (int s = 0; s < N; ++s) {
    save_abef[s] = abef[s];
    save_cdgh[s] = cdgh[s];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      w[s][j] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(msg[s] + 16 * j)),
                                 mask);
    }
  }
#pragma GCC unroll 16
  for (int g = 0; g < 16; ++g) {
    const __m128i k = round_constants(g);
#pragma GCC unroll 4
    for (int s = 0; s < N; ++s) {
      if (g >= 4) {
        // W[g] = msg2(msg1(W[g-4], W[g-3]) + W[g-1..g-2 shifted], W[g-1]), in 4-word groups.
        const __m128i prev1 = w[s][(g - 1) & 3];
        const __m128i shifted = _mm_alignr_epi8(prev1, w[s][(g - 2) & 3], 4);
        const __m128i t =
            _mm_add_epi32(_mm_sha256msg1_epu32(w[s][g & 3], w[s][(g - 3) & 3]), shifted);
        w[s][g & 3] = _mm_sha256msg2_epu32(t, prev1);
      }
      four_rounds(abef[s], cdgh[s], _mm_add_epi32(w[s][g & 3], k));
    }
  }
#pragma GCC unroll 4
  for (int s = 0; s < N; ++s) {
    abef[s] = _mm_add_epi32(abef[s], save_abef[s]);
    cdgh[s] = _mm_add_epi32(cdgh[s], save_cdgh[s]);
  }
}

// The constant padding block of a 64-byte message, from the precomputed W+K table.
template <int N>
SEALHOST_SHA_INLINE void pad_block_n(__m128i (&abef)[N], __m128i (&cdgh)[N]) {
  __m128i save_abef[N];
  __m128i save_cdgh[N];
#pragma GCC unroll 4
  for (int s = 0; s < N; ++s) {
    save_abef[s] = abef[s];
    save_cdgh[s] = cdgh[s];
  }
#pragma GCC unroll 16
  for (int g = 0; g < 16; ++g) {
    const __m128i wk = _mm_load_si128(reinterpret_cast<const __m128i*>(kPadBlockWk.data() + 4 * g));
#pragma GCC unroll 4
    for (int s = 0; s < N; ++s) four_rounds(abef[s], cdgh[s], wk);
  }
#pragma GCC unroll 4
  for (int s = 0; s < N; ++s) {
    abef[s] = _mm_add_epi32(abef[s], save_abef[s]);
    cdgh[s] = _mm_add_epi32(cdgh[s], save_cdgh[s]);
  }
}

template <int N>
SEALHOST_SHA_INLINE void compress_n(State* const (&states)[N], const uint8_t* const (&blocks)[N],
                                    size_t nblocks) {
  __m128i abef[N];
  __m128i cdgh[N];
  for (int s = 0; s < N; ++s) load_state(states[s]->h, abef[s], cdgh[s]);
  for (size_t b = 0; b < nblocks; ++b) {
    const uint8_t* msg[N];
    for (int s = 0; s < N; ++s) msg[s] = blocks[s] + b * kBlockBytes;
    block_n<N>(abef, cdgh, msg);
  }
  for (int s = 0; s < N; ++s) {
    __m128i lo;
    __m128i hi;
    unpack_state(abef[s], cdgh[s], lo, hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(states[s]->h), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(states[s]->h + 4), hi);
  }
}

// N node hashes: pairs[s] is a 64-byte message, out[s] receives the 32-byte SHA254 digest.
template <int N>
SEALHOST_SHA_INLINE void nodes_n(const uint8_t* pairs, uint8_t* out) {
  __m128i abef[N];
  __m128i cdgh[N];
  __m128i iv_abef;
  __m128i iv_cdgh;
  load_state(kInitialState.h, iv_abef, iv_cdgh);
  const uint8_t* msg[N];
  for (int s = 0; s < N; ++s) {
    abef[s] = iv_abef;
    cdgh[s] = iv_cdgh;
    msg[s] = pairs + 64 * s;
  }
  block_n<N>(abef, cdgh, msg);
  pad_block_n<N>(abef, cdgh);
  const __m128i mask = bswap_mask();
  // Clears bits 6 and 7 of byte 31 (the top byte of the last lane).
  const __m128i trunc = _mm_set_epi32(0x3fffffff, -1, -1, -1);
  for (int s = 0; s < N; ++s) {
    __m128i lo;
    __m128i hi;
    unpack_state(abef[s], cdgh[s], lo, hi);
    lo = _mm_shuffle_epi8(lo, mask);
    hi = _mm_and_si128(_mm_shuffle_epi8(hi, mask), trunc);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * s), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * s + 16), hi);
  }
}

}  // namespace sealhost::proofs::sha256::sha_ni
