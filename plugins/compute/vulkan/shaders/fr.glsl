// BLS12-381 scalar field Fr in Montgomery form (R = 2^256) on eight 32-bit limbs, least significant
// first: the same R as proofs::field's four 64-bit limbs, so host constants from
// proofs::poseidon::montgomery_limbs() split into 32-bit halves are used as they are. Only 32-bit
// integer operations (umulExtended, manual carries): no shaderInt64 needed.
#ifndef SEALHOST_FR_GLSL
#define SEALHOST_FR_GLSL
#extension GL_EXT_control_flow_attributes : require

#define FR_LIMBS 8

// r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
const uint FR_P[8] = uint[8](0x00000001u, 0xffffffffu, 0xfffe5bfeu, 0x53bda402u, 0x09a1d805u,
                             0x3339d808u, 0x299d7d48u, 0x73eda753u);
// R^2 mod r, to enter Montgomery form with one multiplication.
const uint FR_R2[8] = uint[8](0xf3f29c6du, 0xc999e990u, 0x87925c23u, 0x2b6cedcbu, 0x7254398fu,
                              0x05d31496u, 0x9f59ff11u, 0x0748d9d9u);
// -r^-1 mod 2^32: r = 1 (mod 2^32), so this is 2^32 - 1.
const uint FR_INV = 0xffffffffu;

// a >= r for an integer a < 2^256 (canonical check and final subtraction).
bool fr_geq_p(uint a[8]) {
  [[unroll]] for (int i = 7; i >= 0; --i) {
    if (a[i] != FR_P[i]) return a[i] > FR_P[i];
  }
  return true;
}

// a + top * 2^256 reduced once: a - r when that does not borrow (or when top is set), else a.
// Branch-free (subtract, then select), so every invocation of a SIMD group runs the same code.
uint[8] fr_reduce_once(uint a[8], uint top) {
  uint d[8];
  uint borrow = 0u;
  [[unroll]] for (int i = 0; i < 8; ++i) {
    uint b1, b2;
    uint x = usubBorrow(a[i], FR_P[i], b1);
    d[i] = usubBorrow(x, borrow, b2);
    borrow = b1 | b2;
  }
  bool use_d = top != 0u || borrow == 0u;
  [[unroll]] for (int i = 0; i < 8; ++i) a[i] = use_d ? d[i] : a[i];
  return a;
}

// (a + b) mod r for a, b < r: r < 2^255, so the sum never carries out of 256 bits.
uint[8] fr_add(uint a[8], uint b[8]) {
  uint c[8];
  uint carry = 0u;
  [[unroll]] for (int i = 0; i < 8; ++i) {
    uint c1, c2;
    uint s = uaddCarry(a[i], b[i], c1);
    c[i] = uaddCarry(s, carry, c2);
    carry = c1 + c2;
  }
  return fr_reduce_once(c, 0u);
}

// Montgomery product a * b * 2^-256 mod r (CIOS). For a, b < r the result is < r.
uint[8] fr_mul(uint a[8], uint b[8]) {
  uint t[10] = uint[10](0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
  [[unroll]] for (int i = 0; i < 8; ++i) {
    // t += a * b[i]. a[j]*b[i] + t[j] + carry < 2^64, so the high word absorbs both carries.
    uint carry = 0u;
    [[unroll]] for (int j = 0; j < 8; ++j) {
      uint hi, lo, c1, c2;
      umulExtended(a[j], b[i], hi, lo);
      uint s = uaddCarry(t[j], lo, c1);
      t[j] = uaddCarry(s, carry, c2);
      carry = hi + c1 + c2;
    }
    uint c9;
    t[8] = uaddCarry(t[8], carry, c9);
    t[9] = c9;
    // t = (t + m * r) / 2^32 with m = -t[0] so the low word cancels. r's low word is 1, so
    // m * r[0] = m and t[0] + m carries exactly when t[0] != 0.
    uint m = t[0] * FR_INV;
    carry = t[0] != 0u ? 1u : 0u;
    [[unroll]] for (int j = 1; j < 8; ++j) {
      uint hi, lo, c1, c2;
      umulExtended(m, FR_P[j], hi, lo);
      uint s = uaddCarry(t[j], lo, c1);
      t[j - 1] = uaddCarry(s, carry, c2);
      carry = hi + c1 + c2;
    }
    uint c7;
    t[7] = uaddCarry(t[8], carry, c7);
    t[8] = t[9] + c7;
  }
  uint res[8] = uint[8](t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
  // t < 2r: one conditional subtraction (t[8] is the 2^256 bit of t).
  return fr_reduce_once(res, t[8]);
}

// x^5 as x^2, x^4, x^5 through one multiplication site: every inlined copy of fr_mul costs
// driver compile time (NIR inlines all functions), and this keeps the permutation at a handful.
uint[8] fr_pow5(uint x[8]) {
  uint a[8] = x;
  uint b[8] = x;
  for (uint k = 0u; k < 3u; ++k) {
    uint p[8] = fr_mul(a, b);
    a = p;
    b = k == 0u ? p : x;
  }
  return a;
}

uint[8] fr_to_mont(uint a[8]) { return fr_mul(a, FR_R2); }

uint[8] fr_from_mont(uint a[8]) {
  const uint one[8] = uint[8](1u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
  return fr_mul(a, one);
}

#endif
