// BLS12-381 scalar field Fr in Montgomery form (R = 2^256) with four 64-bit limbs, least
// significant first: the layout proofs::poseidon::montgomery_limbs uploads, so constants go to
// the device unchanged. 64-bit products come from `*` (low half) and mul_hi (high half), which
// every OpenCL C device provides for ulong.
//
// r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001 < 2^255, so 2r < 2^256:
// sums of two reduced values and the CIOS intermediate before its final subtraction fit in four
// limbs plus one carry bit.

#define FR_P0 0xffffffff00000001UL
#define FR_P1 0x53bda402fffe5bfeUL
#define FR_P2 0x3339d80809a1d805UL
#define FR_P3 0x73eda753299d7d48UL
// -r^-1 mod 2^64
#define FR_INV 0xfffffffeffffffffUL
// R^2 mod r: to_mont(x) = x * R^2 * R^-1
#define FR_R2_0 0xc999e990f3f29c6dUL
#define FR_R2_1 0x2b6cedcb87925c23UL
#define FR_R2_2 0x05d314967254398fUL
#define FR_R2_3 0x0748d9d99f59ff11UL

typedef struct {
  ulong l[4];
} fr_t;

// x - r when x >= r (x < 2r), with `hi` the carry bit above limb 3.
inline fr_t fr_reduce_once(fr_t x, ulong hi) {
  const ulong p[4] = {FR_P0, FR_P1, FR_P2, FR_P3};
  fr_t d;
  ulong borrow = 0;
  for (int i = 0; i < 4; ++i) {
    const ulong a = x.l[i];
    const ulong b = p[i] + borrow;
    // borrow out: b overflowed (p[i] = 2^64-1 and borrow 1, never for r) or a < b
    const ulong nb = (b < borrow) | (a < b);
    d.l[i] = a - b;
    borrow = nb;
  }
  // No borrow (x >= r) or a carry above limb 3 (x >= 2^256 > r): take the difference.
  return (hi | (borrow ^ 1UL)) ? d : x;
}

inline fr_t fr_add(fr_t a, fr_t b) {
  fr_t s;
  ulong carry = 0;
  for (int i = 0; i < 4; ++i) {
    const ulong t = a.l[i] + carry;
    const ulong c1 = t < carry;
    s.l[i] = t + b.l[i];
    carry = c1 | (s.l[i] < t);
  }
  return fr_reduce_once(s, carry);
}

// Montgomery multiplication a * b * 2^-256 mod r (CIOS, one reduction step per limb of b).
#ifdef SEALHOST_FR_INT128
// Devices whose compiler has a 128-bit integer (clang on CPU devices: POCL) get the products and
// carries from it directly; the host enables this only when a test build of it succeeds.
typedef unsigned __int128 fr_u128;
inline fr_t fr_mul(fr_t a, fr_t b) {
  ulong t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (int i = 0; i < 4; ++i) {
    const ulong bi = b.l[i];
    fr_u128 acc = (fr_u128)a.l[0] * bi + t0;
    t0 = (ulong)acc;
    acc = (fr_u128)a.l[1] * bi + t1 + (acc >> 64);
    t1 = (ulong)acc;
    acc = (fr_u128)a.l[2] * bi + t2 + (acc >> 64);
    t2 = (ulong)acc;
    acc = (fr_u128)a.l[3] * bi + t3 + (acc >> 64);
    t3 = (ulong)acc;
    acc = (fr_u128)t4 + (acc >> 64);
    t4 = (ulong)acc;
    const ulong t5 = (ulong)(acc >> 64);
    const ulong m = t0 * FR_INV;
    acc = (fr_u128)m * FR_P0 + t0;
    acc = (fr_u128)m * FR_P1 + t1 + (acc >> 64);
    t0 = (ulong)acc;
    acc = (fr_u128)m * FR_P2 + t2 + (acc >> 64);
    t1 = (ulong)acc;
    acc = (fr_u128)m * FR_P3 + t3 + (acc >> 64);
    t2 = (ulong)acc;
    acc = (fr_u128)t4 + (acc >> 64);
    t3 = (ulong)acc;
    t4 = t5 + (ulong)(acc >> 64);
  }
  fr_t r;
  r.l[0] = t0;
  r.l[1] = t1;
  r.l[2] = t2;
  r.l[3] = t3;
  return fr_reduce_once(r, t4);
}
#else
inline fr_t fr_mul(fr_t a, fr_t b) {
  ulong t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (int i = 0; i < 4; ++i) {
    const ulong bi = b.l[i];
    ulong lo, hi, c;
    // t += a * bi
    lo = a.l[0] * bi;
    hi = mul_hi(a.l[0], bi);
    t0 += lo;
    c = hi + (t0 < lo);
    lo = a.l[1] * bi;
    hi = mul_hi(a.l[1], bi);
    lo += c;
    hi += lo < c;
    t1 += lo;
    c = hi + (t1 < lo);
    lo = a.l[2] * bi;
    hi = mul_hi(a.l[2], bi);
    lo += c;
    hi += lo < c;
    t2 += lo;
    c = hi + (t2 < lo);
    lo = a.l[3] * bi;
    hi = mul_hi(a.l[3], bi);
    lo += c;
    hi += lo < c;
    t3 += lo;
    c = hi + (t3 < lo);
    t4 += c;
    const ulong t5 = t4 < c;
    // t = (t + m * r) / 2^64 with m chosen so that the low limb vanishes
    const ulong m = t0 * FR_INV;
    lo = m * FR_P0;
    hi = mul_hi(m, FR_P0);
    lo += t0;
    c = hi + (lo < t0);
    lo = m * FR_P1;
    hi = mul_hi(m, FR_P1);
    lo += c;
    hi += lo < c;
    t0 = t1 + lo;
    c = hi + (t0 < lo);
    lo = m * FR_P2;
    hi = mul_hi(m, FR_P2);
    lo += c;
    hi += lo < c;
    t1 = t2 + lo;
    c = hi + (t1 < lo);
    lo = m * FR_P3;
    hi = mul_hi(m, FR_P3);
    lo += c;
    hi += lo < c;
    t2 = t3 + lo;
    c = hi + (t2 < lo);
    t3 = t4 + c;
    t4 = t5 + (t3 < c);
  }
  fr_t r;
  r.l[0] = t0;
  r.l[1] = t1;
  r.l[2] = t2;
  r.l[3] = t3;
  return fr_reduce_once(r, t4);
}

#endif

inline fr_t fr_sqr(fr_t a) {
  return fr_mul(a, a);
}

// The Poseidon S-box x^5.
inline fr_t fr_pow5(fr_t x) {
  const fr_t x2 = fr_sqr(x);
  const fr_t x4 = fr_sqr(x2);
  return fr_mul(x4, x);
}

inline fr_t fr_load(const global ulong* p) {
  fr_t r;
  r.l[0] = p[0];
  r.l[1] = p[1];
  r.l[2] = p[2];
  r.l[3] = p[3];
  return r;
}

inline void fr_store(global ulong* p, fr_t x) {
  p[0] = x.l[0];
  p[1] = x.l[1];
  p[2] = x.l[2];
  p[3] = x.l[3];
}

// Canonical (the host checked x < r) to Montgomery form: x * R^2 * R^-1.
inline fr_t fr_to_mont(fr_t x) {
  fr_t r2;
  r2.l[0] = FR_R2_0;
  r2.l[1] = FR_R2_1;
  r2.l[2] = FR_R2_2;
  r2.l[3] = FR_R2_3;
  return fr_mul(x, r2);
}

// Montgomery to canonical: x * 1 * R^-1.
inline fr_t fr_from_mont(fr_t x) {
  fr_t one;
  one.l[0] = 1;
  one.l[1] = 0;
  one.l[2] = 0;
  one.l[3] = 0;
  return fr_mul(x, one);
}
