// Internal: the Feistel round hash of the expander graph — BLAKE2b-512 of the 16-byte message
// u64_be(right) || u64_be(key), first digest word — written once over an abstract lane type so
// the scalar (graph.cpp) and AVX2 (graph_avx2.cpp, built with -mavx2) code share it. Message
// words 2..15 are zero, so their additions are dropped at compile time.
//
// Everything here has internal linkage on purpose: each translation unit gets its own copy
// compiled for its own instruction set (no ODR merging of AVX2 code into the portable path).
#pragma once

#include <cstdint>

namespace sealhost::proofs::sdr::detail {

// Parameters of one graph's Feistel network (spec sdr.md §5).
struct FeistelParams {
  uint64_t keys[3];
  uint64_t domain;  // 8 * nodes
  uint32_t half_bits;
  uint64_t right_mask;
  uint64_t left_mask;
  bool legacy;  // ApiVersion 1.0.0: truncate the permuted index to 32 bits
};

namespace {  // NOLINT(cert-dcl59-cpp,google-build-namespaces): see above

constexpr uint64_t kB2Iv[8] = {0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
                               0xa54ff53a5f1d36f1, 0x510e527fade682d1, 0x9b05688c2b3e6c1f,
                               0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};

constexpr uint8_t kB2Sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

// h[0] parameter word: digest length 64, no key, fanout 1, depth 1.
constexpr uint64_t kB2H0 = kB2Iv[0] ^ 0x01010040;

template <class Ops, int I>
inline typename Ops::T b2_msg(typename Ops::T x, typename Ops::T m0, typename Ops::T m1) {
  if constexpr (I == 0) {
    return Ops::add(x, m0);
  } else if constexpr (I == 1) {
    return Ops::add(x, m1);
  } else {
    return x;  // zero message word
  }
}

template <class Ops, int R, int J, int A, int B, int C, int D>
inline void b2_g(typename Ops::T* v, typename Ops::T m0, typename Ops::T m1) {
  v[A] = b2_msg<Ops, kB2Sigma[R][2 * J]>(Ops::add(v[A], v[B]), m0, m1);
  v[D] = Ops::rotr32(Ops::bxor(v[D], v[A]));
  v[C] = Ops::add(v[C], v[D]);
  v[B] = Ops::rotr24(Ops::bxor(v[B], v[C]));
  v[A] = b2_msg<Ops, kB2Sigma[R][2 * J + 1]>(Ops::add(v[A], v[B]), m0, m1);
  v[D] = Ops::rotr16(Ops::bxor(v[D], v[A]));
  v[C] = Ops::add(v[C], v[D]);
  v[B] = Ops::rotr63(Ops::bxor(v[B], v[C]));
}

template <class Ops, int R>
inline void b2_round(typename Ops::T* v, typename Ops::T m0, typename Ops::T m1) {
  b2_g<Ops, R, 0, 0, 4, 8, 12>(v, m0, m1);
  b2_g<Ops, R, 1, 1, 5, 9, 13>(v, m0, m1);
  b2_g<Ops, R, 2, 2, 6, 10, 14>(v, m0, m1);
  b2_g<Ops, R, 3, 3, 7, 11, 15>(v, m0, m1);
  b2_g<Ops, R, 4, 0, 5, 10, 15>(v, m0, m1);
  b2_g<Ops, R, 5, 1, 6, 11, 12>(v, m0, m1);
  b2_g<Ops, R, 6, 2, 7, 8, 13>(v, m0, m1);
  b2_g<Ops, R, 7, 3, 4, 9, 14>(v, m0, m1);
}

// First output word (little-endian) of BLAKE2b-512 over the 16 bytes whose LE words are m0, m1.
template <class Ops>
inline typename Ops::T b2_first_word(typename Ops::T m0, typename Ops::T m1) {
  using T = typename Ops::T;
  T v[16] = {Ops::set1(kB2H0),         Ops::set1(kB2Iv[1]),  Ops::set1(kB2Iv[2]),
             Ops::set1(kB2Iv[3]),      Ops::set1(kB2Iv[4]),  Ops::set1(kB2Iv[5]),
             Ops::set1(kB2Iv[6]),      Ops::set1(kB2Iv[7]),  Ops::set1(kB2Iv[0]),
             Ops::set1(kB2Iv[1]),      Ops::set1(kB2Iv[2]),  Ops::set1(kB2Iv[3]),
             Ops::set1(kB2Iv[4] ^ 16),                        // byte counter t0 = 16
             Ops::set1(kB2Iv[5]),      Ops::set1(~kB2Iv[6]),  // last block flag
             Ops::set1(kB2Iv[7])};
  b2_round<Ops, 0>(v, m0, m1);
  b2_round<Ops, 1>(v, m0, m1);
  b2_round<Ops, 2>(v, m0, m1);
  b2_round<Ops, 3>(v, m0, m1);
  b2_round<Ops, 4>(v, m0, m1);
  b2_round<Ops, 5>(v, m0, m1);
  b2_round<Ops, 6>(v, m0, m1);
  b2_round<Ops, 7>(v, m0, m1);
  b2_round<Ops, 8>(v, m0, m1);
  b2_round<Ops, 9>(v, m0, m1);
  b2_round<Ops, 10>(v, m0, m1);
  b2_round<Ops, 11>(v, m0, m1);
  return Ops::bxor(Ops::set1(kB2H0), Ops::bxor(v[0], v[8]));
}

struct ScalarOps {
  using T = uint64_t;
  static T set1(uint64_t x) { return x; }
  static T add(T a, T b) { return a + b; }
  static T bxor(T a, T b) { return a ^ b; }
  static T rotr32(T x) { return (x >> 32) | (x << 32); }
  static T rotr24(T x) { return (x >> 24) | (x << 40); }
  static T rotr16(T x) { return (x >> 16) | (x << 48); }
  static T rotr63(T x) { return (x >> 63) | (x << 1); }
};

}  // namespace
}  // namespace sealhost::proofs::sdr::detail
