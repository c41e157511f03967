#include "proofs/poseidon/poseidon.hpp"

#include "proofs/field/fr_adx.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>

namespace sealhost::proofs::poseidon {
namespace {

Fr random_fr(std::mt19937_64& rng) {
  for (;;) {
    std::array<uint64_t, 4> limbs{rng(), rng(), rng(), rng() >> 1};
    if (auto f = Fr::from_canonical_limbs(limbs)) return *f;
  }
}

std::vector<Fr> random_vec(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> v(n);
  for (auto& x : v) x = random_fr(rng);
  return v;
}

class PerArity : public ::testing::TestWithParam<size_t> {};

TEST_P(PerArity, OptimisedEqualsPlainOnRandomInputs) {
  const size_t arity = GetParam();
  std::mt19937_64 rng(arity);
  for (int i = 0; i < 8; ++i) {
    const auto in = random_vec(rng, arity);
    EXPECT_EQ(hash(in), hash_plain(arity, merkle_tree_tag(arity), in))
        << "arity " << arity << " sample " << i;
    const Fr tag = random_fr(rng);
    EXPECT_EQ(hash_with_tag(arity, tag, in), hash_plain(arity, tag, in))
        << "arity " << arity << " random tag, sample " << i;
  }
  // Short preimages are zero padded in both schedules.
  const auto short_in = random_vec(rng, arity / 2);
  EXPECT_EQ(hash_constant_length(arity, short_in),
            hash_plain(arity, constant_length_tag(short_in.size()), short_in));
}

TEST_P(PerArity, BatchEqualsSingle) {
  const size_t arity = GetParam();
  std::mt19937_64 rng(100 + arity);
  const size_t n = 11;  // not a multiple of the lane count: exercises the tail
  const auto in = random_vec(rng, n * arity);
  std::vector<Fr> out(n);
  hash_batch(arity, in.data(), out.data(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(out[i], hash(std::span<const Fr>(in).subspan(i * arity, arity))) << "hash " << i;
  }
  std::vector<uint8_t> in_bytes(n * arity * 32), out_bytes(n * 32);
  for (size_t i = 0; i < in.size(); ++i) in[i].to_bytes(&in_bytes[32 * i]);
  hash_batch_bytes(arity, in_bytes.data(), out_bytes.data(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(*Fr::from_bytes(&out_bytes[32 * i]), out[i]) << "bytes hash " << i;
  }
}

TEST_P(PerArity, GenericAndAdxKernelsAgree) {
  const size_t arity = GetParam();
  std::mt19937_64 rng(200 + arity);
  const size_t n = 9;
  const auto in = random_vec(rng, n * arity);
  std::vector<Fr> generic(n), adx(n);
  set_kernel(Kernel::kGeneric);
  EXPECT_STREQ(kernel_name(), "generic");
  hash_batch(arity, in.data(), generic.data(), n);
  const Fr single_generic = hash(std::span<const Fr>(in).first(arity));
  set_kernel(Kernel::kAuto);
  if (!field::cpu_has_adx()) GTEST_SKIP() << "CPU lacks BMI2/ADX; generic kernel checked only";
  EXPECT_STREQ(kernel_name(), "bmi2-adx");
  hash_batch(arity, in.data(), adx.data(), n);
  EXPECT_EQ(generic, adx);
  EXPECT_EQ(single_generic, hash(std::span<const Fr>(in).first(arity)));
  EXPECT_EQ(single_generic,
            hash_plain(arity, merkle_tree_tag(arity), std::span<const Fr>(in).first(arity)));
}

// The batch kernel (squarings in the S-box, lazily reduced dot products) against the
// unoptimised reference schedule, on random inputs mixed with edge values 0, 1 and r-1.
TEST_P(PerArity, BatchKernelEqualsPlainWithEdgeValues) {
  const size_t arity = GetParam();
  if (arity != 2 && arity != 8 && arity != 11) GTEST_SKIP() << "PC2 arities only (2, 8, 11)";
  std::mt19937_64 rng(300 + arity);
  const size_t n = 37;  // several full 8-lane batches plus a tail
  auto in = random_vec(rng, n * arity);
  const Fr edges[] = {Fr::zero(), Fr::one(), -Fr::one()};
  for (size_t i = 0; i < in.size(); i += 3) in[i] = edges[(i / 3) % 3];
  for (size_t j = 0; j < arity; ++j) in[j] = -Fr::one();          // hash 0: every input r-1
  for (size_t j = 0; j < arity; ++j) in[arity + j] = Fr::zero();  // hash 1: all zero
  std::vector<Fr> out(n);
  hash_batch(arity, in.data(), out.data(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(out[i], hash_plain(arity, merkle_tree_tag(arity),
                                 std::span<const Fr>(in).subspan(i * arity, arity)))
        << "arity " << arity << " hash " << i << " (" << kernel_name() << ")";
  }
}

TEST_P(PerArity, ConstantsShape) {
  const size_t arity = GetParam();
  const Constants& c = constants(arity);
  const size_t t = arity + 1;
  EXPECT_EQ(c.width, t);
  EXPECT_EQ(c.round_constants.size(), (c.full_rounds + c.partial_rounds) * t);
  EXPECT_EQ(c.compressed_round_constants.size(), c.full_rounds * t + c.partial_rounds);
  EXPECT_EQ(c.mds.size(), t * t);
  EXPECT_EQ(c.pre_sparse.size(), t * t);
  EXPECT_EQ(c.sparse.size(), c.partial_rounds * (2 * t - 1));
  // M * M^-1 = I
  for (size_t i = 0; i < t; ++i) {
    for (size_t j = 0; j < t; ++j) {
      Fr acc;
      for (size_t k = 0; k < t; ++k) acc += c.mds[i * t + k] * c.mds_inverse[k * t + j];
      EXPECT_EQ(acc, i == j ? Fr::one() : Fr::zero()) << "M*M^-1 at " << i << "," << j;
    }
  }
  EXPECT_EQ(&constants(arity), &c) << "constants are cached";
}

TEST_P(PerArity, RoundNumbersMatchNeptuneFormula) {
  const size_t arity = GetParam();
  const auto rn = compute_round_numbers(arity + 1);
  EXPECT_EQ(rn[0], kFullRounds);
  EXPECT_EQ(rn[1], partial_rounds(arity));
}

INSTANTIATE_TEST_SUITE_P(AllArities, PerArity, ::testing::ValuesIn(kSupportedArities));

TEST(Poseidon, MontgomeryLimbExport) {
  const Constants& c = constants(8);
  const auto limbs = montgomery_limbs(c.compressed_round_constants);
  ASSERT_EQ(limbs.size(), c.compressed_round_constants.size() * 4);
  for (size_t i = 0; i < c.compressed_round_constants.size(); ++i) {
    const Fr back = Fr::from_montgomery_limbs(
        {limbs[4 * i], limbs[4 * i + 1], limbs[4 * i + 2], limbs[4 * i + 3]});
    EXPECT_EQ(back, c.compressed_round_constants[i]) << "constant " << i;
  }
  // One is R mod r in Montgomery form.
  const std::vector<Fr> one = {Fr::one()};
  EXPECT_EQ(montgomery_limbs(one)[0], 0x00000001fffffffeULL);
}

TEST(Poseidon, MultiplicationCounts) {
  EXPECT_EQ(multiplications_per_hash(8), 2004u);
  EXPECT_EQ(multiplications_per_hash(11), 2922u);
}

TEST(Poseidon, UnsupportedArityIsRejected) {
  EXPECT_FALSE(is_supported_arity(3));
  EXPECT_THROW(constants(3), PoseidonError);
  std::vector<Fr> three(3);
  EXPECT_THROW(hash(three), PoseidonError);
  std::vector<Fr> nine(9);
  EXPECT_THROW(hash_with_tag(8, Fr(), nine), PoseidonError) << "more inputs than the arity";
}

TEST(Poseidon, NonCanonicalBatchBytesRejected) {
  std::vector<uint8_t> in(2 * 32, 0xff), out(32);
  EXPECT_THROW(hash_batch_bytes(2, in.data(), out.data(), 1), field::FieldError);
}

TEST(Poseidon, ConcurrentFirstUseIsConsistent) {
  std::vector<std::thread> threads;
  std::vector<Fr> results(4);
  std::vector<Fr> in(24);
  for (size_t i = 0; i < in.size(); ++i) in[i] = Fr::from_u64(i);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = hash(in); });
  }
  for (auto& th : threads) th.join();
  for (const auto& r : results) EXPECT_EQ(r, hash_plain(24, merkle_tree_tag(24), in));
}

}  // namespace
}  // namespace sealhost::proofs::poseidon
