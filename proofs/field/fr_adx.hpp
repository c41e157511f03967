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

// Same contract as mont_mul (no-carry CIOS, result reduced to [0, r)).
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

}  // namespace detail

// Montgomery product through the ADX path (CPU support required, see cpu_has_adx()).
[[gnu::always_inline]] inline Fr mul_adx(const Fr& a, const Fr& b) {
  std::array<uint64_t, 4> out;
  detail::mont_mul_adx(a.montgomery_limbs().data(), b.montgomery_limbs().data(), out.data());
  return Fr::from_montgomery_limbs(out);
}

[[gnu::always_inline]] inline Fr add_asm(const Fr& a, const Fr& b) {
  std::array<uint64_t, 4> out;
  detail::mod_add_asm(a.montgomery_limbs().data(), b.montgomery_limbs().data(), out.data());
  return Fr::from_montgomery_limbs(out);
}

}  // namespace sealhost::proofs::field
