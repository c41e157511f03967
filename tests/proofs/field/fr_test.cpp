#include "proofs/field/fr.hpp"

#include "proofs/field/fr_adx.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sealhost::proofs::field {
namespace {

constexpr const char* kModulusDec =
    "52435875175126190479447740508185965837690552500527637822603658699938581184513";
constexpr const char* kModulusMinusOneDec =
    "52435875175126190479447740508185965837690552500527637822603658699938581184512";

Fr random_fr(std::mt19937_64& rng) {
  for (;;) {
    std::array<uint64_t, 4> limbs{rng(), rng(), rng(), rng() >> 1};
    if (auto f = Fr::from_canonical_limbs(limbs)) return *f;
  }
}

std::array<uint8_t, 32> modulus_bytes() {
  std::array<uint8_t, 32> b{};
  const auto p = Fr::modulus();
  for (size_t i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(p[i / 8] >> (8 * (i % 8)));
  return b;
}

TEST(Fr, OneAndZeroEncodings) {
  EXPECT_EQ(Fr::one().to_canonical_limbs(), (std::array<uint64_t, 4>{1, 0, 0, 0}));
  EXPECT_EQ(Fr::from_u64(1), Fr::one());
  EXPECT_TRUE(Fr::zero().is_zero());
  EXPECT_EQ(Fr::from_u64(123456789).to_decimal(), "123456789");
  EXPECT_EQ(Fr::zero().to_decimal(), "0");
}

TEST(Fr, ModulusMinusOneIsMinusOne) {
  const Fr pm1 = Fr::from_string_checked(kModulusMinusOneDec);
  EXPECT_EQ(pm1, -Fr::one()) << "r-1 parsed from decimal must equal -1";
  EXPECT_EQ(pm1 + Fr::one(), Fr::zero());
  EXPECT_EQ(pm1 * pm1, Fr::one()) << "(-1)^2 must be 1";
  EXPECT_EQ(pm1.to_decimal(), kModulusMinusOneDec);
  auto bytes = modulus_bytes();
  bytes[0] -= 1;  // r - 1 (low byte of r is 0x01)
  auto f = Fr::from_bytes(bytes.data());
  ASSERT_TRUE(f.has_value()) << "r-1 is canonical";
  EXPECT_EQ(*f, pm1);
  EXPECT_EQ(f->to_bytes(), bytes) << "round trip of r-1";
}

TEST(Fr, RangeCheckRejectsModulusAndAbove) {
  auto bytes = modulus_bytes();
  EXPECT_FALSE(Fr::from_bytes(bytes.data()).has_value()) << "r itself must be rejected";
  EXPECT_THROW(Fr::from_bytes_checked(bytes.data(), "test value"), FieldError);
  try {
    Fr::from_bytes_checked(bytes.data(), "comm_r");
    FAIL() << "expected FieldError";
  } catch (const FieldError& e) {
    EXPECT_NE(std::string(e.what()).find("comm_r"), std::string::npos) << e.what();
  }
  bytes[0] += 1;  // r + 1
  EXPECT_FALSE(Fr::from_bytes(bytes.data()).has_value());
  std::array<uint8_t, 32> ff{};
  ff.fill(0xff);
  EXPECT_FALSE(Fr::from_bytes(ff.data()).has_value()) << "2^256-1 must be rejected";
  // Masking the top two bits always gives a canonical element.
  const Fr masked = Fr::from_bytes_masked(ff.data());
  auto expect = ff;
  expect[31] = 0x3f;
  EXPECT_EQ(masked.to_bytes(), expect);
  EXPECT_FALSE(Fr::from_string(kModulusDec).has_value());
  EXPECT_THROW(Fr::from_string_checked(kModulusDec), FieldError);
  EXPECT_FALSE(Fr::from_string("12a").has_value());
  EXPECT_FALSE(Fr::from_string("").has_value());
  EXPECT_FALSE(Fr::from_string("0x").has_value());
  EXPECT_FALSE(
      Fr::from_string("1157920892373161954235709850086879078532699846656405640394575840079131296399"
                      "36")
          .has_value())
      << "values above 2^256 overflow and must be rejected";
  EXPECT_EQ(
      Fr::from_string_checked("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000"),
      -Fr::one());
}

TEST(Fr, RoundTripBytesRandom) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    const Fr a = random_fr(rng);
    const auto b = a.to_bytes();
    EXPECT_EQ(b[31] & 0x80, 0) << "canonical encodings have the top bit clear";
    auto back = Fr::from_bytes(b.data());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, a);
    EXPECT_EQ(Fr::from_string_checked(a.to_decimal()), a);
    EXPECT_EQ(Fr::from_string_checked(a.to_hex()), a);
  }
}

TEST(Fr, FieldAxiomsRandom) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 300; ++i) {
    const Fr a = random_fr(rng), b = random_fr(rng), c = random_fr(rng);
    EXPECT_EQ(a + b, b + a);
    EXPECT_EQ(a * b, b * a);
    EXPECT_EQ((a + b) + c, a + (b + c));
    EXPECT_EQ((a * b) * c, a * (b * c));
    EXPECT_EQ(a * (b + c), a * b + a * c) << "distributivity";
    EXPECT_EQ(a - b + b, a);
    EXPECT_EQ(a + (-a), Fr::zero());
    EXPECT_EQ(a * Fr::one(), a);
    EXPECT_EQ(a.square(), a * a);
    EXPECT_EQ(a.pow5(), a * a * a * a * a);
    EXPECT_EQ(a.pow(5), a.pow5());
    if (!a.is_zero()) {
      EXPECT_EQ(a * a.inverse_checked(), Fr::one()) << "inverse of " << a.to_hex();
    }
  }
}

TEST(Fr, MultiplicationMatchesSchoolbookModR) {
  // Compare against a slow independent reduction: (a*b) computed by repeated doubling-add.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    const Fr a = random_fr(rng);
    const uint64_t small = rng();
    Fr expect;
    Fr acc = a;
    for (int bit = 0; bit < 64; ++bit) {
      if ((small >> bit) & 1) expect += acc;
      acc = acc.dbl();
    }
    EXPECT_EQ(a * Fr::from_u64(small), expect);
  }
}

TEST(Fr, KnownMontgomeryConstants) {
  // R mod r is the Montgomery form of one; R^2 mod r is the Montgomery form of R.
  EXPECT_EQ(Fr::one().montgomery_limbs()[3], 0x1824b159acc5056fULL);
  EXPECT_EQ(Fr::from_u64(2).pow({256, 0, 0, 0}).to_hex(),
            "0x1824b159acc5056f998c4fefecbc4ff55884b7fa0003480200000001fffffffe")
      << "2^256 mod r";
}

TEST(Fr, InverseOfZero) {
  EXPECT_FALSE(Fr::zero().inverse().has_value());
  EXPECT_THROW(Fr::zero().inverse_checked(), FieldError);
}

TEST(Fr, BatchInverse) {
  std::mt19937_64 rng(4);
  std::vector<Fr> v;
  for (int i = 0; i < 17; ++i) v.push_back(i == 5 ? Fr::zero() : random_fr(rng));
  auto inv = v;
  batch_inverse(inv);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].is_zero()) {
      EXPECT_TRUE(inv[i].is_zero());
    } else {
      EXPECT_EQ(inv[i] * v[i], Fr::one()) << "index " << i;
    }
  }
}

TEST(Fr, AdxMultiplicationMatchesGeneric) {
  if (!cpu_has_adx()) GTEST_SKIP() << "CPU lacks BMI2/ADX";
  std::mt19937_64 rng(5);
  const Fr pm1 = -Fr::one();
  const std::vector<Fr> edges = {Fr::zero(), Fr::one(), pm1, pm1 - Fr::one(),
                                 Fr::from_montgomery_limbs(pm1.to_canonical_limbs())};
  for (const Fr& a : edges) {
    for (const Fr& b : edges) EXPECT_EQ(mul_adx(a, b), a * b) << a.to_hex() << " * " << b.to_hex();
  }
  for (int i = 0; i < 20000; ++i) {
    const Fr a = random_fr(rng), b = random_fr(rng);
    ASSERT_EQ(mul_adx(a, b), a * b) << a.to_hex() << " * " << b.to_hex();
  }
}

TEST(Fr, AdxSquareMatchesMultiplication) {
  if (!cpu_has_adx()) GTEST_SKIP() << "CPU lacks BMI2/ADX";
  std::mt19937_64 rng(8);
  const Fr pm1 = -Fr::one();
  const auto p = Fr::modulus();
  // Edge values by their Montgomery limbs too: p - 1 and p - 2 as raw limbs (largest inputs the
  // squaring accepts), all-ones low limbs, single set limbs (carry chains of the doubling).
  std::vector<Fr> edges = {Fr::zero(),
                           Fr::one(),
                           pm1,
                           pm1 - Fr::one(),
                           Fr::from_u64(2),
                           Fr::from_montgomery_limbs({p[0] - 1, p[1], p[2], p[3]}),
                           Fr::from_montgomery_limbs({p[0] - 2, p[1], p[2], p[3]}),
                           Fr::from_montgomery_limbs({~0ULL, ~0ULL, ~0ULL, p[3] - 1}),
                           Fr::from_montgomery_limbs({1, 0, 0, 0}),
                           Fr::from_montgomery_limbs({0, 1, 0, 0}),
                           Fr::from_montgomery_limbs({0, 0, 1, 0}),
                           Fr::from_montgomery_limbs({0, 0, 0, 1}),
                           Fr::from_montgomery_limbs({~0ULL, 0, 0, 0}),
                           Fr::from_montgomery_limbs({0, 0, 0, p[3] - 1})};
  for (const Fr& a : edges) {
    EXPECT_EQ(sqr_adx(a), a * a) << a.to_hex();
    EXPECT_EQ(sqr_adx(a), mul_adx(a, a)) << a.to_hex();
  }
  EXPECT_EQ(sqr_adx(pm1), Fr::one());
  for (int i = 0; i < 50000; ++i) {
    const Fr a = random_fr(rng);
    ASSERT_EQ(sqr_adx(a), a * a) << a.to_hex();
  }
  // Chains of squarings stay consistent with the portable multiplication.
  Fr x = random_fr(rng), y = x;
  for (int i = 0; i < 1000; ++i) {
    x = sqr_adx(x);
    y = y * y;
    ASSERT_EQ(x, y) << "step " << i;
  }
}

TEST(Fr, AdxDotAccumulatorMatchesSumOfProducts) {
  if (!cpu_has_adx()) GTEST_SKIP() << "CPU lacks BMI2/ADX";
  std::mt19937_64 rng(6);
  const Fr pm1 = -Fr::one();
  for (size_t n : {1, 2, 9, 12, 37, 64}) {
    for (int rep = 0; rep < 50; ++rep) {
      // rep 0: all operands r-1, the largest accumulator value.
      auto operand = [&] { return rep == 0 ? pm1 : random_fr(rng); };
      // Adds products j in [from, n) to acc and to expect.
      auto add_products = [&](DotAccumulator& acc, Fr& expect, size_t from) {
        for (size_t j = from; j < n; ++j) {
          const Fr a = operand();
          const Fr b = operand();
          acc.add_product(scale_for_dot(a), b);
          expect += a * b;
        }
      };
      DotAccumulator acc;
      Fr expect;
      add_products(acc, expect, 0);
      ASSERT_EQ(acc.reduce(), expect) << n << " terms, rep " << rep;
      // Same sum started from the first product (constructor) instead of from zero.
      rng.seed(1000 + rep);
      const Fr a0 = operand();
      const Fr b0 = operand();
      DotAccumulator started(scale_for_dot(a0), b0);
      Fr expect2 = a0 * b0;
      add_products(started, expect2, 1);
      ASSERT_EQ(started.reduce(), expect2) << n << " terms from the constructor, rep " << rep;
    }
  }
}

}  // namespace
}  // namespace sealhost::proofs::field
