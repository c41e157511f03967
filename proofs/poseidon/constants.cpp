// Constant generation: round numbers, Grain LFSR round constants, Cauchy MDS matrix and the
// optimised-schedule constants (compressed round constants, pre-sparse and sparse matrices).
#include <algorithm>
#include <bitset>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <string>

#include "proofs/poseidon/poseidon.hpp"

namespace sealhost::proofs::poseidon {
namespace {

using Matrix = std::vector<Fr>;  // row-major, n*n

size_t arity_slot(size_t arity) {
  for (size_t i = 0; i < kSupportedArities.size(); ++i) {
    if (kSupportedArities[i] == arity) return i;
  }
  throw PoseidonError("poseidon arity " + std::to_string(arity) +
                      ": unsupported (use one of 2, 4, 8, 11, 16, 24, 36)");
}

// Grain LFSR in self-shrinking mode (Poseidon reference script create_rcs_grain.sage).
class Grain {
 public:
  Grain(size_t width, size_t full_rounds, size_t partial) {
    size_t pos = 0;
    auto push = [&](uint64_t value, size_t bits) {
      for (size_t i = 0; i < bits; ++i) {
        state_[pos++] = ((value >> (bits - 1 - i)) & 1) != 0;
      }
    };
    push(1, 2);     // field: GF(p)
    push(1, 4);     // S-box bits: neptune passes 1 (spec pitfall P1)
    push(255, 12);  // field size in bits
    push(width, 12);
    push(full_rounds, 10);
    push(partial, 10);
    push((1u << 30) - 1, 30);
    for (int i = 0; i < 160; ++i) next_raw();
  }

  bool next_bit() {
    for (;;) {
      const bool x = next_raw();
      const bool y = next_raw();
      if (x) return y;
    }
  }

 private:
  bool next_raw() {
    const bool nb = at(62) ^ at(51) ^ at(38) ^ at(23) ^ at(13) ^ at(0);
    state_[head_] = nb;  // overwrite the oldest bit b[0] with b[80]
    head_ = (head_ + 1) % 80;
    return nb;
  }
  bool at(size_t i) const { return state_[(head_ + i) % 80]; }

  std::bitset<80> state_;
  size_t head_ = 0;
};

Fr field_from_bits_be(const std::array<bool, 255>& bits, bool& ok) {
  std::array<uint64_t, 4> limbs{};
  for (size_t i = 0; i < 255; ++i) {
    const size_t bit = 254 - i;  // first bit is the most significant
    if (bits[i]) limbs[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  auto f = Fr::from_canonical_limbs(limbs);
  ok = f.has_value();
  return ok ? *f : Fr();
}

Matrix cauchy_mds(size_t t) {
  Matrix m(t * t);
  for (size_t i = 0; i < t; ++i) {
    for (size_t j = 0; j < t; ++j) {
      m[i * t + j] = Fr::from_u64(i + j + t).inverse_checked();
    }
  }
  return m;
}

Matrix invert(const Matrix& m, size_t n) {
  Matrix a = m;
  Matrix inv(n * n);
  for (size_t i = 0; i < n; ++i) inv[i * n + i] = Fr::one();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    while (pivot < n && a[pivot * n + col].is_zero()) ++pivot;
    if (pivot == n) throw PoseidonError("poseidon constants: matrix is singular (internal bug)");
    if (pivot != col) {
      for (size_t j = 0; j < n; ++j) {
        std::swap(a[pivot * n + j], a[col * n + j]);
        std::swap(inv[pivot * n + j], inv[col * n + j]);
      }
    }
    const Fr scale = a[col * n + col].inverse_checked();
    for (size_t j = 0; j < n; ++j) {
      a[col * n + j] *= scale;
      inv[col * n + j] *= scale;
    }
    for (size_t row = 0; row < n; ++row) {
      if (row == col || a[row * n + col].is_zero()) continue;
      const Fr f = a[row * n + col];
      for (size_t j = 0; j < n; ++j) {
        a[row * n + j] -= f * a[col * n + j];
        inv[row * n + j] -= f * inv[col * n + j];
      }
    }
  }
  return inv;
}

Matrix mat_mul(const Matrix& a, const Matrix& b, size_t n) {
  Matrix c(n * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < n; ++k) {
      const Fr aik = a[i * n + k];
      for (size_t j = 0; j < n; ++j) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

std::vector<Fr> mat_vec(const Matrix& m, const Fr* v, size_t n) {
  std::vector<Fr> out(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) out[i] += m[i * n + j] * v[j];
  }
  return out;
}

// Moves round constants through the linear layer so that full rounds add constants after the
// S-box and partial rounds add a single constant to slot 0 (see Constants in the header).
std::vector<Fr> compress_round_constants(const Constants& c) {
  const size_t t = c.width;
  const size_t half = c.full_rounds / 2;
  const size_t rounds = c.full_rounds + c.partial_rounds;
  // d[j] = M^-1 * c_j: round j's constant, added after round j-1's S-box instead.
  std::vector<std::vector<Fr>> d(rounds);
  for (size_t j = 1; j < rounds; ++j) d[j] = mat_vec(c.mds_inverse, &c.round_constants[j * t], t);

  // Partial rounds keep only slot 0; slots 1.. commute with the partial S-box and are carried
  // back to the previous round, ending in the last full round of the first half.
  std::vector<Fr> partial_scalars(c.partial_rounds);
  std::vector<Fr> carry(t);
  for (size_t k = half + c.partial_rounds; k-- > half;) {
    std::vector<Fr> tmp(t);
    for (size_t i = 0; i < t; ++i) tmp[i] = d[k + 1][i] + carry[i];
    partial_scalars[k - half] = tmp[0];
    tmp[0] = Fr();
    carry = mat_vec(c.mds_inverse, tmp.data(), t);
  }

  std::vector<Fr> out;
  out.reserve(c.full_rounds * t + c.partial_rounds);
  out.insert(out.end(), c.round_constants.begin(), c.round_constants.begin() + t);
  for (size_t r = 0; r < half; ++r) {
    for (size_t i = 0; i < t; ++i) {
      out.push_back(r + 1 == half ? d[r + 1][i] + carry[i] : d[r + 1][i]);
    }
  }
  out.insert(out.end(), partial_scalars.begin(), partial_scalars.end());
  for (size_t r = half + c.partial_rounds; r + 1 < rounds; ++r) {
    out.insert(out.end(), d[r + 1].begin(), d[r + 1].end());
  }
  return out;
}

// Factors the partial rounds' MDS multiplications: working back from the last partial round,
// M_cur = S * D with D = diag(1, M_cur[1..][1..]); D commutes with the partial S-box and joins
// the previous round's M. What is left before the first partial round is the pre-sparse matrix.
void factor_sparse(Constants& c) {
  const size_t t = c.width;
  const size_t n = t - 1;
  const size_t stride = c.sparse_stride();
  c.sparse.assign(c.partial_rounds * stride, Fr());
  Matrix cur = c.mds;
  for (size_t k = c.partial_rounds; k-- > 0;) {
    Matrix hat(n * n);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) hat[i * n + j] = cur[(i + 1) * t + (j + 1)];
    }
    const Matrix hat_inv = invert(hat, n);
    Fr* s = &c.sparse[k * stride];
    s[0] = cur[0];
    // v^T = M_cur[0][1..] * hat^-1
    for (size_t j = 0; j < n; ++j) {
      Fr acc;
      for (size_t l = 0; l < n; ++l) acc += cur[l + 1] * hat_inv[l * n + j];
      s[1 + j] = acc;
    }
    for (size_t i = 0; i < n; ++i) s[t + i] = cur[(i + 1) * t];
    Matrix dmat(t * t);
    dmat[0] = Fr::one();
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) dmat[(i + 1) * t + (j + 1)] = hat[i * n + j];
    }
    cur = mat_mul(dmat, c.mds, t);
  }
  c.pre_sparse = std::move(cur);
}

std::unique_ptr<Constants> make_constants(size_t arity) {
  auto c = std::make_unique<Constants>();
  c->arity = arity;
  c->width = arity + 1;
  c->full_rounds = kFullRounds;
  c->partial_rounds = partial_rounds(arity);
  c->round_constants = generate_round_constants(c->width, c->full_rounds, c->partial_rounds);
  c->mds = cauchy_mds(c->width);
  c->mds_inverse = invert(c->mds, c->width);
  c->compressed_round_constants = compress_round_constants(*c);
  factor_sparse(*c);
  const Fr two64 = *Fr::from_canonical_limbs({0, 1, 0, 0});
  auto scaled = [&](const std::vector<Fr>& v) {
    std::vector<Fr> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] * two64;
    return out;
  };
  c->mds_dot = scaled(c->mds);
  c->pre_sparse_dot = scaled(c->pre_sparse);
  c->sparse_dot = scaled(c->sparse);
  return c;
}

}  // namespace

bool is_supported_arity(size_t arity) {
  return std::find(kSupportedArities.begin(), kSupportedArities.end(), arity) !=
         kSupportedArities.end();
}

size_t partial_rounds(size_t arity) {
  static constexpr std::array<size_t, 7> kPartial = {55, 56, 57, 57, 59, 59, 60};
  return kPartial[arity_slot(arity)];
}

std::array<size_t, 2> compute_round_numbers(size_t width) {
  auto secure = [&](size_t rf, size_t rp) {
    const float rpf = static_cast<float>(rp);
    const float t = static_cast<float>(width);
    const float n = 256.0f;
    const float m = 128.0f;
    const float rf_stat = m <= (n - 3.0f) * (t + 1.0f) ? 6.0f : 10.0f;
    const float rf_interp = 0.43f * m + std::log2(t) - rpf;
    const float rf_grob_1 = 0.21f * n - rpf;
    const float rf_grob_2 = (0.14f * n - 1.0f - rpf) / (t - 1.0f);
    size_t rf_max = 0;
    for (float v : {rf_stat, rf_interp, rf_grob_1, rf_grob_2}) {
      // Rust `f32 as usize` saturates negatives to 0.
      const float c = std::ceil(v);
      rf_max = std::max(rf_max, c <= 0.0f ? size_t{0} : static_cast<size_t>(c));
    }
    return rf >= rf_max;
  };
  size_t best_rf = 0;
  size_t best_rp = 0;
  size_t best_sboxes = std::numeric_limits<size_t>::max();
  for (size_t rf = 2; rf <= 1000; rf += 2) {
    for (size_t rp = 4; rp < 200; ++rp) {
      if (!secure(rf, rp)) continue;
      const size_t rf_m = rf + 2;
      const size_t rp_m = static_cast<size_t>(std::ceil(1.075f * static_cast<float>(rp)));
      const size_t sboxes = width * rf_m + rp_m;
      if (sboxes < best_sboxes || (sboxes == best_sboxes && rf_m < best_rf)) {
        best_rf = rf_m;
        best_rp = rp_m;
        best_sboxes = sboxes;
      }
    }
  }
  return {best_rf, best_rp};
}

std::vector<Fr> generate_round_constants(size_t width, size_t full_rounds, size_t partial) {
  Grain grain(width, full_rounds, partial);
  const size_t count = (full_rounds + partial) * width;
  std::vector<Fr> out;
  out.reserve(count);
  std::array<bool, 255> bits{};
  while (out.size() < count) {
    for (auto& b : bits) b = grain.next_bit();
    bool ok = false;
    const Fr f = field_from_bits_be(bits, ok);
    if (ok) out.push_back(f);  // rejection sampling, never reduction (spec pitfall P3)
  }
  return out;
}

Fr merkle_tree_tag(size_t arity) {
  if (arity == 0 || arity > 63) {
    throw PoseidonError("poseidon merkle tag: arity " + std::to_string(arity) + " out of range");
  }
  return Fr::from_u64((uint64_t{1} << arity) - 1);
}

Fr constant_length_tag(size_t length) {
  return *Fr::from_canonical_limbs({0, static_cast<uint64_t>(length), 0, 0});
}

const Constants& constants(size_t arity) {
  static std::array<std::once_flag, kSupportedArities.size()> flags;
  static std::array<std::unique_ptr<Constants>, kSupportedArities.size()> cache;
  const size_t slot = arity_slot(arity);
  std::call_once(flags[slot], [&] { cache[slot] = make_constants(arity); });
  return *cache[slot];
}

std::vector<uint64_t> montgomery_limbs(std::span<const Fr> values) {
  std::vector<uint64_t> out;
  out.reserve(values.size() * 4);
  for (const Fr& v : values) {
    const auto& l = v.montgomery_limbs();
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

size_t multiplications_per_hash(size_t arity) {
  const size_t t = arity + 1;
  return kFullRounds * (3 * t + t * t) + partial_rounds(arity) * (3 + 2 * t - 1);
}

}  // namespace sealhost::proofs::poseidon
