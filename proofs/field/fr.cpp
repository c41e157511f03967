#include "proofs/field/fr.hpp"

#include "proofs/field/fr_adx.hpp"

#include <algorithm>
#include <vector>

namespace sealhost::proofs::field {
namespace {

// R^2 mod r, converts canonical -> Montgomery.
constexpr std::array<uint64_t, 4> kR2 = {0xc999e990f3f29c6dULL, 0x2b6cedcb87925c23ULL,
                                         0x05d314967254398fULL, 0x0748d9d99f59ff11ULL};

// a < b for 256-bit little-endian limb integers.
bool less_than(const std::array<uint64_t, 4>& a, const std::array<uint64_t, 4>& b) {
  for (int i = 3; i >= 0; --i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

// Same product on either path; MULX/ADX when the CPU has it (PC2 converts every node it reads).
void mont_mul_fast(const uint64_t a[4], const uint64_t b[4], uint64_t out[4]) {
  if (cpu_has_adx()) {
    detail::mont_mul_adx(a, b, out);
  } else {
    detail::mont_mul(a, b, out);
  }
}

Fr to_montgomery(const std::array<uint64_t, 4>& canonical) {
  std::array<uint64_t, 4> out{};
  mont_mul_fast(canonical.data(), kR2.data(), out.data());
  return Fr::from_montgomery_limbs(out);
}

// x = x * mul + add over 256 bits; returns false on overflow past 2^256.
bool mul_add_small(std::array<uint64_t, 4>& x, uint64_t mul, uint64_t add) {
  uint64_t carry = add;
  for (auto& limb : x) {
    const Uint128 t = static_cast<Uint128>(limb) * mul + carry;
    limb = static_cast<uint64_t>(t);
    carry = static_cast<uint64_t>(t >> 64);
  }
  return carry == 0;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool cpu_has_adx() {
#if defined(__x86_64__)
  static const bool kHas = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
  }();
#else
  static const bool kHas = false;
#endif
  return kHas;
}

Fr Fr::from_u64(uint64_t v) {
  return to_montgomery({v, 0, 0, 0});
}

std::optional<Fr> Fr::from_canonical_limbs(const std::array<uint64_t, 4>& limbs) {
  if (!less_than(limbs, modulus())) return std::nullopt;
  return to_montgomery(limbs);
}

std::optional<Fr> Fr::from_bytes(std::span<const uint8_t, 32> bytes) {
  std::array<uint64_t, 4> limbs{};
  for (size_t i = 0; i < 32; ++i) {
    limbs[i / 8] |= static_cast<uint64_t>(bytes[i]) << (8 * (i % 8));
  }
  return from_canonical_limbs(limbs);
}

Fr Fr::from_bytes_checked(const uint8_t* bytes32, std::string_view what) {
  auto f = from_bytes(bytes32);
  if (!f) {
    throw FieldError(std::string(what) +
                     ": 32-byte value is not below the BLS12-381 scalar modulus (it must be a "
                     "canonical little-endian field element)");
  }
  return *f;
}

Fr Fr::from_bytes_masked(const uint8_t* bytes32) {
  uint8_t tmp[32];
  std::copy(bytes32, bytes32 + 32, tmp);
  tmp[31] &= 0x3f;
  return *from_bytes(tmp);
}

std::optional<Fr> Fr::from_string(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::array<uint64_t, 4> x{};
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    for (char c : text) {
      const int d = hex_digit(c);
      if (d < 0 || !mul_add_small(x, 16, static_cast<uint64_t>(d))) return std::nullopt;
    }
  } else {
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      if (!mul_add_small(x, 10, static_cast<uint64_t>(c - '0'))) return std::nullopt;
    }
  }
  return from_canonical_limbs(x);
}

Fr Fr::from_string_checked(std::string_view text) {
  auto f = from_string(text);
  if (!f) {
    throw FieldError("field element \"" + std::string(text) +
                     "\": not a decimal or 0x-hex integer below the BLS12-381 scalar modulus");
  }
  return *f;
}

std::array<uint64_t, 4> Fr::to_canonical_limbs() const {
  static constexpr uint64_t kOne[4] = {1, 0, 0, 0};
  std::array<uint64_t, 4> out{};
  mont_mul_fast(m_.data(), kOne, out.data());
  return out;
}

void Fr::to_bytes(uint8_t out[32]) const {
  const auto limbs = to_canonical_limbs();
  for (size_t i = 0; i < 32; ++i) {
    out[i] = static_cast<uint8_t>(limbs[i / 8] >> (8 * (i % 8)));
  }
}

std::array<uint8_t, 32> Fr::to_bytes() const {
  std::array<uint8_t, 32> out{};
  to_bytes(out.data());
  return out;
}

std::string Fr::to_hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto limbs = to_canonical_limbs();
  std::string s = "0x";
  for (int i = 63; i >= 0; --i) {
    s.push_back(kDigits[(limbs[i / 16] >> (4 * (i % 16))) & 0xf]);
  }
  return s;
}

std::string Fr::to_decimal() const {
  auto x = to_canonical_limbs();
  std::string digits;
  do {
    // Divide x by 10, collecting the remainder.
    Uint128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      const Uint128 cur = (rem << 64) | x[i];
      x[i] = static_cast<uint64_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + static_cast<int>(rem)));
  } while ((x[0] | x[1] | x[2] | x[3]) != 0);
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Fr Fr::pow(const std::array<uint64_t, 4>& e) const {
  Fr result = one();
  for (int i = 255; i >= 0; --i) {
    result = result.square();
    if ((e[i / 64] >> (i % 64)) & 1) result *= *this;
  }
  return result;
}

std::optional<Fr> Fr::inverse() const {
  if (is_zero()) return std::nullopt;
  // Fermat: x^(r-2).
  auto e = modulus();
  e[0] -= 2;  // r is odd with low limb 0xffffffff00000001, no borrow.
  return pow(e);
}

Fr Fr::inverse_checked() const {
  auto inv = inverse();
  if (!inv) throw FieldError("field element: zero has no inverse");
  return *inv;
}

void batch_inverse(std::span<Fr> values) {
  std::vector<Fr> prefix(values.size());
  Fr acc = Fr::one();
  for (size_t i = 0; i < values.size(); ++i) {
    prefix[i] = acc;
    if (!values[i].is_zero()) acc *= values[i];
  }
  Fr inv = *acc.inverse();  // acc is a product of non-zero elements, never zero.
  for (size_t i = values.size(); i-- > 0;) {
    if (values[i].is_zero()) continue;
    const Fr v = values[i];
    values[i] = inv * prefix[i];
    inv *= v;
  }
}

}  // namespace sealhost::proofs::field
