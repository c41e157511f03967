// Poseidon over BLS12-381 Fr, bit-compatible with neptune (Strength::Standard, x^5 S-box) as used
// by rust-fil-proofs (filecoin-hashers). See /work/shared/spec/poseidon.md.
//
// Width t = arity + 1. Slot 0 holds the domain tag, inputs go to slots 1..arity, the output is
// slot 1. Supported arities: 2, 4, 8, 11, 16, 24, 36.
//
// Threading: constants are generated on first use per arity behind std::call_once and are
// immutable afterwards; every function here is safe to call concurrently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "proofs/field/fr.hpp"

namespace sealhost::proofs::poseidon {

using field::Fr;

class PoseidonError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

inline constexpr std::array<size_t, 7> kSupportedArities = {2, 4, 8, 11, 16, 24, 36};
inline constexpr size_t kMaxArity = 36;
inline constexpr size_t kFullRounds = 8;

bool is_supported_arity(size_t arity);
// Partial-round count R_P for Strength::Standard (neptune round_numbers.rs with security margin).
size_t partial_rounds(size_t arity);
// neptune's calc_round_numbers(t, true), evaluated in f32 exactly as upstream; returns {R_F, R_P}.
// Only used to self-check the hard-coded table.
std::array<size_t, 2> compute_round_numbers(size_t width);

// Grain LFSR constants as in neptune `generate_constants(1, 1, 255, t, R_F, R_P)`.
std::vector<Fr> generate_round_constants(size_t width, size_t full_rounds, size_t partial_rounds);

// Domain tags. MerkleTree: 2^arity - 1. ConstantLength(len): len * 2^64.
Fr merkle_tree_tag(size_t arity);
Fr constant_length_tag(size_t length);

// All constants of one instance. Matrices are row-major t*t; the state update is s' = M * s
// (s'_i = sum_j M[i][j] s_j). Everything is in Montgomery form as field::Fr; GPU backends can
// upload `montgomery_limbs()` (4 x u64 little-endian limbs, R = 2^256) directly.
struct Constants {
  size_t arity = 0;
  size_t width = 0;  // t
  size_t full_rounds = 0;
  size_t partial_rounds = 0;

  // Unoptimised schedule (spec §5): (R_F + R_P) * t constants, round k uses [k*t, k*t + t).
  std::vector<Fr> round_constants;
  std::vector<Fr> mds;          // Cauchy matrix M[i][j] = 1 / (i + j + t)
  std::vector<Fr> mds_inverse;  // M^-1

  // Optimised schedule (Poseidon paper appendix B, as neptune's hash_optimized_static):
  //   s += crc[0..t)                                       (before the first S-box)
  //   full rounds 0..R_F/2-1:  s_i = s_i^5 + crc[next t]; s = (last of this half ? P : M) * s
  //   partial rounds 0..R_P-1: s_0 = s_0^5 + crc[next 1];  s = S_r * s
  //   full rounds R_F/2..R_F-1: s_i = s_i^5 (+ crc[next t] except in the last round); s = M * s
  // so crc has R_F * t + R_P entries.
  std::vector<Fr> compressed_round_constants;
  std::vector<Fr> pre_sparse;  // P, t*t dense matrix applied after the first half of full rounds
  // R_P sparse matrices S_r, each 2t-1 entries: [m00, v_1..v_{t-1}, w_1..w_{t-1}] meaning
  //   s'_0 = m00*s_0 + sum_j v_j s_j;   s'_i = w_i*s_0 + s_i  (i >= 1).
  std::vector<Fr> sparse;

  // mds, pre_sparse and sparse with every entry multiplied by 2^64: operands for the CPU kernel's
  // lazily reduced dot products (field::DotAccumulator). Not needed by other backends.
  std::vector<Fr> mds_dot;
  std::vector<Fr> pre_sparse_dot;
  std::vector<Fr> sparse_dot;

  size_t sparse_stride() const { return 2 * width - 1; }
};

// Flattens field elements to 4 u64 limbs each, Montgomery form (R = 2^256), least significant
// limb first: the layout GPU backends upload for round constants and matrices.
std::vector<uint64_t> montgomery_limbs(std::span<const Fr> values);

// Constants for `arity`, generated once and cached for the process lifetime.
// Throws PoseidonError for an unsupported arity.
const Constants& constants(size_t arity);

// Field multiplications per hash in the optimised schedule (S-box x^5 = 3, dense matrix t*t,
// sparse matrix 2t-1): R_F * (3t + t*t) + R_P * (3 + 2t - 1). Arity 8: 2004, arity 11: 2922.
// Additions are not counted.
size_t multiplications_per_hash(size_t arity);

// Hash with the MerkleTree tag; arity = inputs.size().
Fr hash(std::span<const Fr> inputs);
// Hash `inputs` (size <= arity, zero-padded) with an explicit domain tag in slot 0.
Fr hash_with_tag(size_t arity, const Fr& tag, std::span<const Fr> inputs);
// neptune HashType::ConstantLength(inputs.size()) on the arity-`arity` instance.
Fr hash_constant_length(size_t arity, std::span<const Fr> inputs);
// Reference path: the unoptimised schedule of spec §5 (slow; for tests).
Fr hash_plain(size_t arity, const Fr& tag, std::span<const Fr> inputs);

template <size_t kArity>
Fr hash_merkle(const std::array<Fr, kArity>& inputs) {
  return hash(std::span<const Fr>(inputs.data(), kArity));
}

// Hashes n independent preimages (MerkleTree tag): inputs holds n*arity elements (hash i uses
// inputs[i*arity .. i*arity+arity)), out receives n results. Several hashes are interleaved so
// the partial rounds' dependency chains overlap. `inputs` and `out` may not overlap.
void hash_batch(size_t arity, const Fr* inputs, Fr* out, size_t n);

// Same as hash_batch, but on 32-byte canonical little-endian encodings (out: n*32 bytes).
// Throws field::FieldError naming the element index if an input is not canonical.
void hash_batch_bytes(size_t arity, const uint8_t* inputs, uint8_t* out, size_t n);

// Which arithmetic kernel the dispatcher uses now ("generic" or "bmi2-adx").
const char* kernel_name();

// Kernel selection, process-wide. kAuto (default) uses MULX/ADX when the CPU has it. Meant for
// tests and benchmarks; switching while other threads hash is safe (each call reads it once).
// Throws PoseidonError when kAdx is requested on a CPU without BMI2/ADX.
enum class Kernel { kAuto, kGeneric, kAdx };
void set_kernel(Kernel kernel);

}  // namespace sealhost::proofs::poseidon
