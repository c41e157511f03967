// BLS12-381 scalar field Fr (r = 0x73eda753...00000001, 255 bits), Montgomery form with R = 2^256.
//
// Montgomery encoding is internal: every byte/string conversion uses the canonical integer in
// [0, r). The multiplication is the hot loop of Poseidon, so the arithmetic is inline here.
// Fr is a trivially copyable value type; all functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sealhost::proofs::field {

__extension__ typedef unsigned __int128 Uint128;

// Thrown by the *_checked conversions when the input is not a canonical field element.
class FieldError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {

inline constexpr uint64_t kP0 = 0xffffffff00000001ULL;
inline constexpr uint64_t kP1 = 0x53bda402fffe5bfeULL;
inline constexpr uint64_t kP2 = 0x3339d80809a1d805ULL;
inline constexpr uint64_t kP3 = 0x73eda753299d7d48ULL;
// -r^-1 mod 2^64.
inline constexpr uint64_t kInv = 0xfffffffeffffffffULL;

// (hi, lo) = a * b + c + d; cannot overflow 128 bits.
[[gnu::always_inline]] inline void mac(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t& hi,
                                       uint64_t& lo) {
  const Uint128 t = static_cast<Uint128>(a) * b + c + d;
  lo = static_cast<uint64_t>(t);
  hi = static_cast<uint64_t>(t >> 64);
}

// Subtracts r once if x >= r. Input must be < 2r.
[[gnu::always_inline]] inline void reduce_once(uint64_t x[4]) {
  uint64_t y[4];
  uint64_t borrow = 0;
  Uint128 d = static_cast<Uint128>(x[0]) - kP0;
  y[0] = static_cast<uint64_t>(d);
  borrow = static_cast<uint64_t>(d >> 64) & 1;
  d = static_cast<Uint128>(x[1]) - kP1 - borrow;
  y[1] = static_cast<uint64_t>(d);
  borrow = static_cast<uint64_t>(d >> 64) & 1;
  d = static_cast<Uint128>(x[2]) - kP2 - borrow;
  y[2] = static_cast<uint64_t>(d);
  borrow = static_cast<uint64_t>(d >> 64) & 1;
  d = static_cast<Uint128>(x[3]) - kP3 - borrow;
  y[3] = static_cast<uint64_t>(d);
  borrow = static_cast<uint64_t>(d >> 64) & 1;
  // borrow == 1 means x < r: keep x. Branch-free select.
  const uint64_t mask = 0 - borrow;
  x[0] = (x[0] & mask) | (y[0] & ~mask);
  x[1] = (x[1] & mask) | (y[1] & ~mask);
  x[2] = (x[2] & mask) | (y[2] & ~mask);
  x[3] = (x[3] & mask) | (y[3] & ~mask);
}

// Montgomery product a*b*R^-1 mod r (CIOS). Because r's top limb is below 2^63 - 1, the
// per-iteration carry word of textbook CIOS is always zero and is dropped (the "no-carry"
// variant), and the result before the final subtraction is below 2r.
[[gnu::always_inline]] inline void mont_mul(const uint64_t a[4], const uint64_t b[4],
                                            uint64_t out[4]) {
  uint64_t t0, t1, t2, t3;
  uint64_t A, C, m, lo;
  // i = 0: t = a * b[0] (t starts at zero).
  mac(a[0], b[0], 0, 0, A, t0);
  m = t0 * kInv;
  mac(m, kP0, t0, 0, C, lo);
  mac(a[1], b[0], 0, A, A, t1);
  mac(m, kP1, t1, C, C, t0);
  mac(a[2], b[0], 0, A, A, t2);
  mac(m, kP2, t2, C, C, t1);
  mac(a[3], b[0], 0, A, A, t3);
  mac(m, kP3, t3, C, C, t2);
  t3 = C + A;
  for (int i = 1; i < 4; ++i) {
    const uint64_t bi = b[i];
    mac(a[0], bi, t0, 0, A, t0);
    m = t0 * kInv;
    mac(m, kP0, t0, 0, C, lo);
    mac(a[1], bi, t1, A, A, t1);
    mac(m, kP1, t1, C, C, t0);
    mac(a[2], bi, t2, A, A, t2);
    mac(m, kP2, t2, C, C, t1);
    mac(a[3], bi, t3, A, A, t3);
    mac(m, kP3, t3, C, C, t2);
    t3 = C + A;
  }
  (void)lo;
  out[0] = t0;
  out[1] = t1;
  out[2] = t2;
  out[3] = t3;
  reduce_once(out);
}

[[gnu::always_inline]] inline void mod_add(const uint64_t a[4], const uint64_t b[4],
                                           uint64_t out[4]) {
  // a, b < r < 2^255, so the sum fits in 256 bits.
  Uint128 s = static_cast<Uint128>(a[0]) + b[0];
  out[0] = static_cast<uint64_t>(s);
  s = static_cast<Uint128>(a[1]) + b[1] + static_cast<uint64_t>(s >> 64);
  out[1] = static_cast<uint64_t>(s);
  s = static_cast<Uint128>(a[2]) + b[2] + static_cast<uint64_t>(s >> 64);
  out[2] = static_cast<uint64_t>(s);
  out[3] = a[3] + b[3] + static_cast<uint64_t>(s >> 64);
  reduce_once(out);
}

[[gnu::always_inline]] inline void mod_sub(const uint64_t a[4], const uint64_t b[4],
                                           uint64_t out[4]) {
  uint64_t d[4];
  Uint128 t = static_cast<Uint128>(a[0]) - b[0];
  d[0] = static_cast<uint64_t>(t);
  uint64_t borrow = static_cast<uint64_t>(t >> 64) & 1;
  t = static_cast<Uint128>(a[1]) - b[1] - borrow;
  d[1] = static_cast<uint64_t>(t);
  borrow = static_cast<uint64_t>(t >> 64) & 1;
  t = static_cast<Uint128>(a[2]) - b[2] - borrow;
  d[2] = static_cast<uint64_t>(t);
  borrow = static_cast<uint64_t>(t >> 64) & 1;
  t = static_cast<Uint128>(a[3]) - b[3] - borrow;
  d[3] = static_cast<uint64_t>(t);
  borrow = static_cast<uint64_t>(t >> 64) & 1;
  // On borrow add r back (mask selects r or 0).
  const uint64_t mask = 0 - borrow;
  t = static_cast<Uint128>(d[0]) + (kP0 & mask);
  out[0] = static_cast<uint64_t>(t);
  t = static_cast<Uint128>(d[1]) + (kP1 & mask) + static_cast<uint64_t>(t >> 64);
  out[1] = static_cast<uint64_t>(t);
  t = static_cast<Uint128>(d[2]) + (kP2 & mask) + static_cast<uint64_t>(t >> 64);
  out[2] = static_cast<uint64_t>(t);
  out[3] = d[3] + (kP3 & mask) + static_cast<uint64_t>(t >> 64);
}

}  // namespace detail

class Fr {
 public:
  // Zero.
  constexpr Fr() = default;

  static constexpr Fr zero() { return Fr(); }
  static constexpr Fr one() {
    return from_montgomery_limbs({0x00000001fffffffeULL, 0x5884b7fa00034802ULL,
                                  0x998c4fefecbc4ff5ULL, 0x1824b159acc5056fULL});
  }
  static Fr from_u64(uint64_t v);
  // Canonical little-endian 32 bytes; nullopt if the value is >= r (no reduction, as upstream).
  [[nodiscard]] static std::optional<Fr> from_bytes(std::span<const uint8_t, 32> bytes);
  [[nodiscard]] static std::optional<Fr> from_bytes(const uint8_t* bytes32) {
    return from_bytes(std::span<const uint8_t, 32>(bytes32, 32));
  }
  // As from_bytes, but throws FieldError naming `what` if the value is not canonical.
  static Fr from_bytes_checked(const uint8_t* bytes32, std::string_view what = "field element");
  // Clears the top two bits of byte 31 first (fr32 `bytes_into_fr_repr_safe`): never fails.
  static Fr from_bytes_masked(const uint8_t* bytes32);
  // Canonical integer as four u64 limbs, least significant first; nullopt if >= r.
  [[nodiscard]] static std::optional<Fr> from_canonical_limbs(const std::array<uint64_t, 4>& limbs);
  // Decimal ("123") or "0x"-prefixed hex (big-endian digits) integer < r; nullopt otherwise.
  [[nodiscard]] static std::optional<Fr> from_string(std::string_view text);
  static Fr from_string_checked(std::string_view text);
  static constexpr Fr from_montgomery_limbs(const std::array<uint64_t, 4>& limbs) {
    Fr f;
    f.m_ = limbs;
    return f;
  }

  void to_bytes(uint8_t out[32]) const;
  std::array<uint8_t, 32> to_bytes() const;
  std::array<uint64_t, 4> to_canonical_limbs() const;
  // Lower-case hex of the big-endian integer with "0x" prefix (for messages and tests).
  std::string to_hex() const;
  std::string to_decimal() const;
  const std::array<uint64_t, 4>& montgomery_limbs() const { return m_; }

  bool is_zero() const { return (m_[0] | m_[1] | m_[2] | m_[3]) == 0; }
  friend bool operator==(const Fr& a, const Fr& b) = default;

  [[gnu::always_inline]] friend Fr operator+(const Fr& a, const Fr& b) {
    Fr r;
    detail::mod_add(a.m_.data(), b.m_.data(), r.m_.data());
    return r;
  }
  [[gnu::always_inline]] friend Fr operator-(const Fr& a, const Fr& b) {
    Fr r;
    detail::mod_sub(a.m_.data(), b.m_.data(), r.m_.data());
    return r;
  }
  [[gnu::always_inline]] friend Fr operator*(const Fr& a, const Fr& b) {
    Fr r;
    detail::mont_mul(a.m_.data(), b.m_.data(), r.m_.data());
    return r;
  }
  Fr operator-() const { return zero() - *this; }
  [[gnu::always_inline]] Fr& operator+=(const Fr& b) {
    detail::mod_add(m_.data(), b.m_.data(), m_.data());
    return *this;
  }
  [[gnu::always_inline]] Fr& operator-=(const Fr& b) {
    detail::mod_sub(m_.data(), b.m_.data(), m_.data());
    return *this;
  }
  [[gnu::always_inline]] Fr& operator*=(const Fr& b) {
    detail::mont_mul(m_.data(), b.m_.data(), m_.data());
    return *this;
  }
  Fr square() const { return *this * *this; }
  Fr dbl() const { return *this + *this; }
  // x^5, the Poseidon S-box (3 multiplications).
  Fr pow5() const {
    const Fr x2 = square();
    return x2.square() * *this;
  }
  // x^e, e given as four u64 limbs least significant first.
  Fr pow(const std::array<uint64_t, 4>& e) const;
  Fr pow(uint64_t e) const { return pow({e, 0, 0, 0}); }
  // Multiplicative inverse; nullopt for zero.
  [[nodiscard]] std::optional<Fr> inverse() const;
  // Inverse that throws FieldError for zero.
  Fr inverse_checked() const;

  // The modulus r as canonical limbs.
  static constexpr std::array<uint64_t, 4> modulus() {
    return {detail::kP0, detail::kP1, detail::kP2, detail::kP3};
  }

 private:
  std::array<uint64_t, 4> m_{};
};

// Montgomery inverse of many elements at once (one inversion + 3(n-1) multiplications).
// Zeros stay zero.
void batch_inverse(std::span<Fr> values);

}  // namespace sealhost::proofs::field
