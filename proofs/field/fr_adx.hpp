// Montgomery multiplication with MULX/ADCX/ADOX (BMI2 + ADX): two independent carry chains per
// row, which the plain C++ version cannot express. Callers must check cpu_has_adx() first (the
// poseidon kernels dispatch once per call); the instructions fault on CPUs without them.
#pragma once

#include "proofs/field/fr.hpp"

namespace sealhost::proofs::field {

// True when the CPU implements BMI2 and ADX.
bool cpu_has_adx();

namespace detail {

inline constexpr uint64_t kModulusLimbs[4] = {kP0, kP1, kP2, kP3};
// The modulus and -r^-1 mod 2^64 with internal linkage, for asm memory operands: they are then
// RIP-relative even in -fPIC code and need no register. The register-hungry kernels below (13 of
// the 14 registers left when a sanitizer build keeps the frame pointer) cannot spare one for a
// GOT load or for a stack local that ASan moves to its fake stack.
static constexpr uint64_t kRedcConstants[5] = {kP0, kP1, kP2, kP3, kInv};

// Same contract as mont_mul (no-carry CIOS, result reduced to [0, r)).
#if defined(__x86_64__)
[[gnu::always_inline]] inline void mont_mul_adx(const uint64_t a[4], const uint64_t b[4],
                                                uint64_t out[4]) {
  uint64_t r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0;
  uint64_t lo, hi, z;
  const uint64_t inv = kInv;
  __asm__(
      "xorl %k[z], %k[z]\n\t"
      "movq 0(%[b]), %%rdx\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r0]\n\t"
      "adcxq %[hi], %[r1]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r1]\n\t"
      "adcxq %[hi], %[r2]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "adoxq %[z], %[r4]\n\t"
      "movq %[r0], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r0]\n\t"
      "adcxq %[hi], %[r1]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r1]\n\t"
      "adcxq %[hi], %[r2]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "adoxq %[z], %[r4]\n\t"
      "xorl %k[z], %k[z]\n\t"
      "movq 8(%[b]), %%rdx\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r1]\n\t"
      "adcxq %[hi], %[r2]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r0]\n\t"
      "adoxq %[z], %[r0]\n\t"
      "movq %[r1], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r1]\n\t"
      "adcxq %[hi], %[r2]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r0]\n\t"
      "adoxq %[z], %[r0]\n\t"
      "xorl %k[z], %k[z]\n\t"
      "movq 16(%[b]), %%rdx\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r0]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r0]\n\t"
      "adcxq %[hi], %[r1]\n\t"
      "adoxq %[z], %[r1]\n\t"
      "movq %[r2], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r2]\n\t"
      "adcxq %[hi], %[r3]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r0]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r0]\n\t"
      "adcxq %[hi], %[r1]\n\t"
      "adoxq %[z], %[r1]\n\t"
      "xorl %k[z], %k[z]\n\t"
      "movq 24(%[b]), %%rdx\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r0]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r0]\n\t"
      "adcxq %[hi], %[r1]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r1]\n\t"
      "adcxq %[hi], %[r2]\n\t"
      "adoxq %[z], %[r2]\n\t"
      "movq %[r3], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r3]\n\t"
      "adcxq %[hi], %[r4]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r4]\n\t"
      "adcxq %[hi], %[r0]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r0]\n\t"
      "adcxq %[hi], %[r1]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[r1]\n\t"
      "adcxq %[hi], %[r2]\n\t"
      "adoxq %[z], %[r2]\n\t"
      // Result limbs are r4, r0, r1, r2 (registers rotate by one per row); subtract r once if
      // the value is >= r, selecting with CMOV on the final borrow.
      "movq %[r4], %[lo]\n\t"
      "movq %[r0], %[hi]\n\t"
      "movq %[r1], %[z]\n\t"
      "movq %[r2], %[r3]\n\t"
      "subq %[p0], %[lo]\n\t"
      "sbbq %[p1], %[hi]\n\t"
      "sbbq %[p2], %[z]\n\t"
      "sbbq %[p3], %[r3]\n\t"
      "cmovaeq %[lo], %[r4]\n\t"
      "cmovaeq %[hi], %[r0]\n\t"
      "cmovaeq %[z], %[r1]\n\t"
      "cmovaeq %[r3], %[r2]\n\t"
      : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3), [r4] "+&r"(r4),
        [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
      : [a] "r"(a), [b] "r"(b), [inv] "r"(inv), [p0] "m"(kModulusLimbs[0]),
        [p1] "m"(kModulusLimbs[1]), [p2] "m"(kModulusLimbs[2]), [p3] "m"(kModulusLimbs[3]),
        "m"(*reinterpret_cast<const uint64_t(*)[4]>(a)),
        "m"(*reinterpret_cast<const uint64_t(*)[4]>(b))
      : "rdx", "cc");
  out[0] = r4;
  out[1] = r0;
  out[2] = r1;
  out[3] = r2;
}

// Montgomery square a*a*R^-1 mod r, result in [0, r): the 512-bit square from 10 limb products
// (6 cross products doubled + 4 diagonal) instead of 16, then a separate Montgomery reduction
// (4 rows of 4 products on the low half, the high half added after). Same value as
// mont_mul_adx(a, a); fewer multiplications.
//   Bounds: a < r gives a^2 < r^2; the reduction adds M*r with M < 2^256, so the low-half rows end
//   below (2^256 + M*r) / 2^256 < r + 1, and adding the high half (a^2 / 2^256 < r^2 / 2^256 <
//   0.46 r) stays below 1.46 r + 1 < 2^256; one conditional subtraction finishes.
[[gnu::always_inline]] inline void mont_sqr_adx(const uint64_t a[4], uint64_t out[4]) {
  uint64_t t1, t2, t3, t4, t5, t6, t7;
  uint64_t w0, lo, hi, z;
  __asm__(
      // Cross products a_i a_j (i < j) into t1..t6.
      "xorl %k[z], %k[z]\n\t"
      "movq 0(%[a]), %%rdx\n\t"
      "mulxq 8(%[a]), %[t1], %[t2]\n\t"
      "mulxq 16(%[a]), %[lo], %[t3]\n\t"
      "adcxq %[lo], %[t2]\n\t"
      "mulxq 24(%[a]), %[lo], %[t4]\n\t"
      "adcxq %[lo], %[t3]\n\t"
      "adcxq %[z], %[t4]\n\t"  // CF is clear afterwards: the top limb of a product plus 1 fits
      "movq 8(%[a]), %%rdx\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "mulxq 24(%[a]), %[lo], %[t5]\n\t"
      "adoxq %[lo], %[t4]\n\t"
      "adcxq %[z], %[t5]\n\t"
      "movq 16(%[a]), %%rdx\n\t"
      "mulxq 24(%[a]), %[lo], %[t6]\n\t"
      "adoxq %[lo], %[t5]\n\t"
      "adcxq %[z], %[t6]\n\t"
      "adoxq %[z], %[t6]\n\t"
      // Double them (t7 takes the carry), then add the squares a_i^2 on the diagonal.
      "movq %[z], %[t7]\n\t"
      "addq %[t1], %[t1]\n\t"
      "adcq %[t2], %[t2]\n\t"
      "adcq %[t3], %[t3]\n\t"
      "adcq %[t4], %[t4]\n\t"
      "adcq %[t5], %[t5]\n\t"
      "adcq %[t6], %[t6]\n\t"
      "adcq %[z], %[t7]\n\t"
      "movq 0(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[w0], %[hi]\n\t"
      "addq %[hi], %[t1]\n\t"
      "movq 8(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[lo], %[hi]\n\t"
      "adcq %[lo], %[t2]\n\t"
      "adcq %[hi], %[t3]\n\t"
      "movq 16(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[lo], %[hi]\n\t"
      "adcq %[lo], %[t4]\n\t"
      "adcq %[hi], %[t5]\n\t"
      "movq 24(%[a]), %%rdx\n\t"
      "mulxq %%rdx, %[lo], %[hi]\n\t"
      "adcq %[lo], %[t6]\n\t"
      "adcq %[hi], %[t7]\n\t"
      // Reduce the low half w0, t1, t2, t3 in place: four rows, each zeroing its lowest limb, which
      // then serves as the next row's top limb (the window rotates by one register per row).
      "movq %[w0], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[w0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[w0]\n\t"
      "adoxq %[z], %[w0]\n\t"
      "movq %[t1], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[w0]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[w0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "adoxq %[z], %[t1]\n\t"
      "movq %[t2], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[w0]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[w0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "adoxq %[z], %[t2]\n\t"
      "movq %[t3], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorl %k[z], %k[z]\n\t"
      "mulxq %[p0], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[w0]\n\t"
      "mulxq %[p1], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[w0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "mulxq %[p2], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "mulxq %[p3], %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "adoxq %[z], %[t3]\n\t"
      // Reduced low half is w0, t1, t2, t3; add the high half t4..t7, then subtract r once if
      // the sum is >= r (CMOV on the final borrow).
      "addq %[t4], %[w0]\n\t"
      "adcq %[t5], %[t1]\n\t"
      "adcq %[t6], %[t2]\n\t"
      "adcq %[t7], %[t3]\n\t"
      "movq %[w0], %[t4]\n\t"
      "movq %[t1], %[t5]\n\t"
      "movq %[t2], %[t6]\n\t"
      "movq %[t3], %[t7]\n\t"
      "subq %[p0], %[t4]\n\t"
      "sbbq %[p1], %[t5]\n\t"
      "sbbq %[p2], %[t6]\n\t"
      "sbbq %[p3], %[t7]\n\t"
      "cmovaeq %[t4], %[w0]\n\t"
      "cmovaeq %[t5], %[t1]\n\t"
      "cmovaeq %[t6], %[t2]\n\t"
      "cmovaeq %[t7], %[t3]\n\t"
      : [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5),
        [t6] "=&r"(t6), [t7] "=&r"(t7), [w0] "=&r"(w0), [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
      : [a] "r"(a), [inv] "m"(kRedcConstants[4]), [p0] "m"(kRedcConstants[0]),
        [p1] "m"(kRedcConstants[1]), [p2] "m"(kRedcConstants[2]), [p3] "m"(kRedcConstants[3]),
        "m"(*reinterpret_cast<const uint64_t(*)[4]>(a))
      : "rdx", "cc");
  out[0] = w0;
  out[1] = t1;
  out[2] = t2;
  out[3] = t3;
}

// (a + b) mod r for a, b < r with ADD/ADC then a CMOV-selected subtraction (plain x86-64; kept
// here because the generic C++ version compiles to a longer mask-and-select sequence).
[[gnu::always_inline]] inline void mod_add_asm(const uint64_t a[4], const uint64_t b[4],
                                               uint64_t out[4]) {
  uint64_t s0 = a[0], s1 = a[1], s2 = a[2], s3 = a[3];
  uint64_t d0, d1, d2, d3;
  __asm__(
      "addq 0(%[b]), %[s0]\n\t"
      "adcq 8(%[b]), %[s1]\n\t"
      "adcq 16(%[b]), %[s2]\n\t"
      "adcq 24(%[b]), %[s3]\n\t"
      "movq %[s0], %[d0]\n\t"
      "movq %[s1], %[d1]\n\t"
      "movq %[s2], %[d2]\n\t"
      "movq %[s3], %[d3]\n\t"
      "subq %[p0], %[d0]\n\t"
      "sbbq %[p1], %[d1]\n\t"
      "sbbq %[p2], %[d2]\n\t"
      "sbbq %[p3], %[d3]\n\t"
      "cmovaeq %[d0], %[s0]\n\t"
      "cmovaeq %[d1], %[s1]\n\t"
      "cmovaeq %[d2], %[s2]\n\t"
      "cmovaeq %[d3], %[s3]\n\t"
      : [s0] "+&r"(s0), [s1] "+&r"(s1), [s2] "+&r"(s2), [s3] "+&r"(s3), [d0] "=&r"(d0),
        [d1] "=&r"(d1), [d2] "=&r"(d2), [d3] "=&r"(d3)
      : [b] "r"(b), [p0] "m"(kModulusLimbs[0]), [p1] "m"(kModulusLimbs[1]),
        [p2] "m"(kModulusLimbs[2]), [p3] "m"(kModulusLimbs[3]),
        "m"(*reinterpret_cast<const uint64_t(*)[4]>(b))
      : "cc");
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

#else
// Other architectures: cpu_has_adx() is false and the kernels never select these; they exist so
// the code compiles, and fall back to the portable arithmetic.
[[gnu::always_inline]] inline void mont_mul_adx(const uint64_t a[4], const uint64_t b[4],
                                                uint64_t out[4]) {
  mont_mul(a, b, out);
}
[[gnu::always_inline]] inline void mont_sqr_adx(const uint64_t a[4], uint64_t out[4]) {
  mont_mul(a, a, out);
}
[[gnu::always_inline]] inline void mod_add_asm(const uint64_t a[4], const uint64_t b[4],
                                               uint64_t out[4]) {
  mod_add(a, b, out);
}
#endif

}  // namespace detail

// Montgomery product through the ADX path (CPU support required, see cpu_has_adx()).
[[gnu::always_inline]] inline Fr mul_adx(const Fr& a, const Fr& b) {
  std::array<uint64_t, 4> out;
  detail::mont_mul_adx(a.montgomery_limbs().data(), b.montgomery_limbs().data(), out.data());
  return Fr::from_montgomery_limbs(out);
}

// Montgomery square through the ADX path (CPU support required); equals mul_adx(a, a).
[[gnu::always_inline]] inline Fr sqr_adx(const Fr& a) {
  std::array<uint64_t, 4> out;
  detail::mont_sqr_adx(a.montgomery_limbs().data(), out.data());
  return Fr::from_montgomery_limbs(out);
}

// Sum of products with one reduction, for dot products of up to 64 terms:
//   acc = sum a_j * b_j as a 576-bit integer (each product < r^2 < 2^510), then five
//   Montgomery reduction rounds, which divide by 2^320 and leave a value below r + 2^(515-320)
//   < 2r, so a single conditional subtraction finishes. Dividing by 2^320 instead of R = 2^256
//   means one operand of every product must carry an extra factor 2^64 (scale_for_dot).
class DotAccumulator {
 public:
  // Empty accumulator (zero).
  DotAccumulator() = default;
  // Accumulator holding x * y: the first product is stored instead of added to zero.
  [[gnu::always_inline]] DotAccumulator(const Fr& x, const Fr& y) {
    product(x.montgomery_limbs().data(), y.montgomery_limbs().data(), acc_);
    acc_[8] = 0;
  }

#if defined(__x86_64__)
  [[gnu::always_inline]] void add_product(const Fr& x, const Fr& y) {
    uint64_t prod[8];
    product(x.montgomery_limbs().data(), y.montgomery_limbs().data(), prod);
    __asm__(
        "addq 0+%[p], %[a0]\n\t"
        "adcq 8+%[p], %[a1]\n\t"
        "adcq 16+%[p], %[a2]\n\t"
        "adcq 24+%[p], %[a3]\n\t"
        "adcq 32+%[p], %[a4]\n\t"
        "adcq 40+%[p], %[a5]\n\t"
        "adcq 48+%[p], %[a6]\n\t"
        "adcq 56+%[p], %[a7]\n\t"
        "adcq $0, %[a8]\n\t"
        : [a0] "+r"(acc_[0]), [a1] "+r"(acc_[1]), [a2] "+r"(acc_[2]), [a3] "+r"(acc_[3]),
          [a4] "+r"(acc_[4]), [a5] "+r"(acc_[5]), [a6] "+r"(acc_[6]), [a7] "+r"(acc_[7]),
          [a8] "+r"(acc_[8])
        : [p] "m"(prod)
        : "cc");
  }
#else
  [[gnu::always_inline]] void add_product(const Fr& x, const Fr& y) {
    uint64_t prod[8];
    product(x.montgomery_limbs().data(), y.montgomery_limbs().data(), prod);
    uint64_t carry = 0;
    for (int k = 0; k < 9; ++k) {
      const Uint128 t = static_cast<Uint128>(acc_[k]) + (k < 8 ? prod[k] : 0) + carry;
      acc_[k] = static_cast<uint64_t>(t);
      carry = static_cast<uint64_t>(t >> 64);
    }
  }
#endif

  // Montgomery reduction by 2^320; the accumulator must not be reused afterwards. Five rows: row
  // i adds m*r at limb i (m = a_i * -r^-1, which zeroes a_i); both carries out of limb i+4 (0..2)
  // are kept in the zeroed a_i and added into row i+1's top product word with LEA (no flags), so
  // nothing propagates further. The value after row 4 is below 2r < 2^256 (class comment).
  [[gnu::always_inline]] Fr reduce() {
#if defined(__x86_64__)
    uint64_t lo, hi, z;
    constexpr const uint64_t* kRedc = detail::kRedcConstants;  // RIP-relative operands
    __asm__(
        "movq %[a0], %%rdx\n\t"
        "imulq %[inv], %%rdx\n\t"
        "xorl %k[z], %k[z]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a0]\n\t"
        "adcxq %[hi], %[a1]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a1]\n\t"
        "adcxq %[hi], %[a2]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a2]\n\t"
        "adcxq %[hi], %[a3]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a3]\n\t"
        "adcxq %[hi], %[a4]\n\t"
        "adoxq %[z], %[a4]\n\t"
        "adcxq %[z], %[a0]\n\t"
        "adoxq %[z], %[a0]\n\t"
        "movq %[a1], %%rdx\n\t"
        "imulq %[inv], %%rdx\n\t"
        "xorl %k[z], %k[z]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a1]\n\t"
        "adcxq %[hi], %[a2]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a2]\n\t"
        "adcxq %[hi], %[a3]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a3]\n\t"
        "adcxq %[hi], %[a4]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "leaq (%[hi], %[a0]), %[hi]\n\t"
        "adoxq %[lo], %[a4]\n\t"
        "adcxq %[hi], %[a5]\n\t"
        "adoxq %[z], %[a5]\n\t"
        "adcxq %[z], %[a1]\n\t"
        "adoxq %[z], %[a1]\n\t"
        "movq %[a2], %%rdx\n\t"
        "imulq %[inv], %%rdx\n\t"
        "xorl %k[z], %k[z]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a2]\n\t"
        "adcxq %[hi], %[a3]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a3]\n\t"
        "adcxq %[hi], %[a4]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a4]\n\t"
        "adcxq %[hi], %[a5]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "leaq (%[hi], %[a1]), %[hi]\n\t"
        "adoxq %[lo], %[a5]\n\t"
        "adcxq %[hi], %[a6]\n\t"
        "adoxq %[z], %[a6]\n\t"
        "adcxq %[z], %[a2]\n\t"
        "adoxq %[z], %[a2]\n\t"
        "movq %[a3], %%rdx\n\t"
        "imulq %[inv], %%rdx\n\t"
        "xorl %k[z], %k[z]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a3]\n\t"
        "adcxq %[hi], %[a4]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a4]\n\t"
        "adcxq %[hi], %[a5]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a5]\n\t"
        "adcxq %[hi], %[a6]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "leaq (%[hi], %[a2]), %[hi]\n\t"
        "adoxq %[lo], %[a6]\n\t"
        "adcxq %[hi], %[a7]\n\t"
        "adoxq %[z], %[a7]\n\t"
        "adcxq %[z], %[a3]\n\t"
        "adoxq %[z], %[a3]\n\t"
        "movq %[a4], %%rdx\n\t"
        "imulq %[inv], %%rdx\n\t"
        "xorl %k[z], %k[z]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a4]\n\t"
        "adcxq %[hi], %[a5]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a5]\n\t"
        "adcxq %[hi], %[a6]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adoxq %[lo], %[a6]\n\t"
        "adcxq %[hi], %[a7]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "leaq (%[hi], %[a3]), %[hi]\n\t"
        "adoxq %[lo], %[a7]\n\t"
        "adcxq %[hi], %[a8]\n\t"
        "adoxq %[z], %[a8]\n\t"
        : [a0] "+&r"(acc_[0]), [a1] "+&r"(acc_[1]), [a2] "+&r"(acc_[2]), [a3] "+&r"(acc_[3]),
          [a4] "+&r"(acc_[4]), [a5] "+&r"(acc_[5]), [a6] "+&r"(acc_[6]), [a7] "+&r"(acc_[7]),
          [a8] "+&r"(acc_[8]), [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
        : [inv] "m"(kRedc[4]), [p0] "m"(kRedc[0]), [p1] "m"(kRedc[1]), [p2] "m"(kRedc[2]),
          [p3] "m"(kRedc[3])
        : "rdx", "cc");
    uint64_t out[4] = {acc_[5], acc_[6], acc_[7], acc_[8]};
#else
    uint64_t a[9];
    for (int k = 0; k < 9; ++k) a[k] = acc_[k];
    uint64_t c = 0;
    for (int i = 0; i < 5; ++i) {
      const uint64_t m = a[i] * detail::kInv;
      Uint128 t = static_cast<Uint128>(m) * detail::kP0 + a[i];
      t = static_cast<Uint128>(m) * detail::kP1 + a[i + 1] + static_cast<uint64_t>(t >> 64);
      a[i + 1] = static_cast<uint64_t>(t);
      t = static_cast<Uint128>(m) * detail::kP2 + a[i + 2] + static_cast<uint64_t>(t >> 64);
      a[i + 2] = static_cast<uint64_t>(t);
      t = static_cast<Uint128>(m) * detail::kP3 + a[i + 3] + static_cast<uint64_t>(t >> 64);
      a[i + 3] = static_cast<uint64_t>(t);
      t = static_cast<Uint128>(a[i + 4]) + static_cast<uint64_t>(t >> 64) + c;
      a[i + 4] = static_cast<uint64_t>(t);
      c = static_cast<uint64_t>(t >> 64);
    }
    uint64_t out[4] = {a[5], a[6], a[7], a[8]};
#endif
    detail::reduce_once(out);
    return Fr::from_montgomery_limbs({out[0], out[1], out[2], out[3]});
  }

#if defined(__x86_64__)
  // 512-bit product of two 256-bit limb vectors. Product limb k is final after row k: it is
  // stored and its register becomes the next row's fresh top limb (five-register window).
  [[gnu::always_inline]] static void product(const uint64_t* a, const uint64_t* b, uint64_t* prod) {
    uint64_t w0, w1, w2, w3, w4, lo, hi;
    static constexpr uint64_t kZero = 0;
    __asm__(
        "movq 0(%[b]), %%rdx\n\t"
        "mulxq 0(%[a]), %[w0], %[w1]\n\t"
        "mulxq 8(%[a]), %[lo], %[w2]\n\t"
        "addq %[lo], %[w1]\n\t"
        "mulxq 16(%[a]), %[lo], %[w3]\n\t"
        "adcq %[lo], %[w2]\n\t"
        "mulxq 24(%[a]), %[lo], %[w4]\n\t"
        "adcq %[lo], %[w3]\n\t"
        "adcq $0, %[w4]\n\t"
        "movq %[w0], 0+%[out]\n\t"
        "movq 8(%[b]), %%rdx\n\t"
        "xorl %k[w0], %k[w0]\n\t"
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w1]\n\t"
        "adcxq %[hi], %[w2]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w2]\n\t"
        "adcxq %[hi], %[w3]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w3]\n\t"
        "adcxq %[hi], %[w4]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w4]\n\t"
        "adcxq %[hi], %[w0]\n\t"
        "adoxq %[zero], %[w0]\n\t"
        "movq %[w1], 8+%[out]\n\t"
        "movq 16(%[b]), %%rdx\n\t"
        "xorl %k[w1], %k[w1]\n\t"
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w2]\n\t"
        "adcxq %[hi], %[w3]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w3]\n\t"
        "adcxq %[hi], %[w4]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w4]\n\t"
        "adcxq %[hi], %[w0]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w0]\n\t"
        "adcxq %[hi], %[w1]\n\t"
        "adoxq %[zero], %[w1]\n\t"
        "movq %[w2], 16+%[out]\n\t"
        "movq 24(%[b]), %%rdx\n\t"
        "xorl %k[w2], %k[w2]\n\t"
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w3]\n\t"
        "adcxq %[hi], %[w4]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w4]\n\t"
        "adcxq %[hi], %[w0]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w0]\n\t"
        "adcxq %[hi], %[w1]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[w1]\n\t"
        "adcxq %[hi], %[w2]\n\t"
        "adoxq %[zero], %[w2]\n\t"
        "movq %[w3], 24+%[out]\n\t"
        "movq %[w4], 32+%[out]\n\t"
        "movq %[w0], 40+%[out]\n\t"
        "movq %[w1], 48+%[out]\n\t"
        "movq %[w2], 56+%[out]\n\t"

        : [out] "=m"(*reinterpret_cast<uint64_t(*)[8]>(prod)), [w0] "=&r"(w0), [w1] "=&r"(w1),
          [w2] "=&r"(w2), [w3] "=&r"(w3), [w4] "=&r"(w4), [lo] "=&r"(lo), [hi] "=&r"(hi)
        : [a] "r"(a), [b] "r"(b), [zero] "m"(kZero),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(a)),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(b))
        : "rdx", "cc");
  }
#else
  static void product(const uint64_t* a, const uint64_t* b, uint64_t* prod) {
    for (int k = 0; k < 8; ++k) prod[k] = 0;
    for (int i = 0; i < 4; ++i) {
      uint64_t carry = 0;
      for (int j = 0; j < 4; ++j) {
        const Uint128 t = static_cast<Uint128>(a[j]) * b[i] + prod[i + j] + carry;
        prod[i + j] = static_cast<uint64_t>(t);
        carry = static_cast<uint64_t>(t >> 64);
      }
      prod[i + 4] = carry;
    }
  }
#endif

 private:
  uint64_t acc_[9] = {};
};

// x * 2^64: the form one operand of each DotAccumulator product must take.
inline Fr scale_for_dot(const Fr& x) {
  return x * *Fr::from_canonical_limbs({0, 1, 0, 0});
}

[[gnu::always_inline]] inline Fr add_asm(const Fr& a, const Fr& b) {
  std::array<uint64_t, 4> out;
  detail::mod_add_asm(a.montgomery_limbs().data(), b.montgomery_limbs().data(), out.data());
  return Fr::from_montgomery_limbs(out);
}

}  // namespace sealhost::proofs::field
