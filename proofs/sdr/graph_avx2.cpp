// AVX2 expander parents: the 8 Feistel permutations of a node run as two 4-lane vectors.
// Compiled with -mavx2; only called after a runtime CPU check (graph.cpp).
#include <immintrin.h>

#include <cstdint>

#include "proofs/sdr/feistel_kernel.hpp"

namespace sealhost::proofs::sdr::detail {
namespace {

struct Avx2Ops {
  using T = __m256i;
  static T set1(uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static T add(T a, T b) { return _mm256_add_epi64(a, b); }
  static T bxor(T a, T b) { return _mm256_xor_si256(a, b); }
  static T rotr32(T x) { return _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)); }
  static T rotr24(T x) {
    const T m = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6,
                                 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
    return _mm256_shuffle_epi8(x, m);
  }
  static T rotr16(T x) {
    const T m = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5,
                                 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
    return _mm256_shuffle_epi8(x, m);
  }
  static T rotr63(T x) { return _mm256_or_si256(_mm256_srli_epi64(x, 63), _mm256_add_epi64(x, x)); }
};

inline __m256i bswap64(__m256i x) {
  const __m256i m = _mm256_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                     4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
  return _mm256_shuffle_epi8(x, m);
}

inline __m256i encode4(__m256i x, const FeistelParams& f) {
  const __m256i rmask = _mm256_set1_epi64x(static_cast<long long>(f.right_mask));
  const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(f.half_bits));
  __m256i left = _mm256_srl_epi64(x, shift);
  __m256i right = _mm256_and_si256(x, rmask);
  for (int r = 0; r < 3; ++r) {
    const __m256i m1 = _mm256_set1_epi64x(static_cast<long long>(__builtin_bswap64(f.keys[r])));
    const __m256i h = b2_first_word<Avx2Ops>(bswap64(right), m1);
    const __m256i fr = _mm256_and_si256(bswap64(h), rmask);
    const __m256i next_right = _mm256_xor_si256(left, fr);
    left = right;
    right = next_right;
  }
  return _mm256_or_si256(_mm256_sll_epi64(left, shift), right);
}

}  // namespace

// Permutes the 4 indices in `x` (each < domain) by cycle walking.
void feistel_permute4_avx2(const FeistelParams& f, uint64_t x[4]) {
  __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  // Lanes are signed for the comparison; all values are < 2^36, so that is exact.
  const __m256i domain = _mm256_set1_epi64x(static_cast<long long>(f.domain));
  __m256i pending = _mm256_set1_epi64x(-1);
  while (!_mm256_testz_si256(pending, pending)) {
    const __m256i y = encode4(v, f);
    v = _mm256_blendv_epi8(v, y, pending);
    // Still out of range: domain <= v  <=>  !(domain > v).
    pending = _mm256_andnot_si256(_mm256_cmpgt_epi64(domain, v), _mm256_set1_epi64x(-1));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(x), v);
}

}  // namespace sealhost::proofs::sdr::detail

namespace sealhost::proofs::sdr::detail {

// Expander parents of `count` consecutive nodes into out[node * 14 + 6 ..]. Unlike two
// feistel_permute4_avx2 calls per node, a lane that finishes its cycle walk takes the next edge
// at once, so no lane idles while another one walks (about a third fewer encodings when the
// domain is not a power of 4).
void expander_parents_range_avx2(const FeistelParams& f, uint64_t first_node, uint64_t count,
                                 uint32_t* out) {
  const uint64_t first_edge = first_node * 8;
  const uint64_t end_edge = first_edge + count * 8;
  uint64_t next_edge = first_edge;
  alignas(32) uint64_t value[4];
  uint64_t edge[4];
  bool active[4];
  for (int l = 0; l < 4; ++l) {
    active[l] = next_edge < end_edge;
    edge[l] = next_edge;
    value[l] = next_edge;
    if (active[l]) ++next_edge;
  }
  while (active[0] || active[1] || active[2] || active[3]) {
    __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(value));
    v = encode4(v, f);
    _mm256_store_si256(reinterpret_cast<__m256i*>(value), v);
    for (int l = 0; l < 4; ++l) {
      if (!active[l] || value[l] >= f.domain) continue;  // idle, or still walking
      const uint64_t p = f.legacy ? (value[l] & 0xffffffffu) : value[l];
      const uint64_t e = edge[l] - first_edge;
      out[(e / 8) * 14 + 6 + e % 8] = static_cast<uint32_t>(p / 8);
      if (next_edge < end_edge) {
        edge[l] = next_edge;
        value[l] = next_edge;
        ++next_edge;
      } else {
        active[l] = false;
      }
    }
  }
}

}  // namespace sealhost::proofs::sdr::detail
