#include "proofs/sdr/graph.hpp"

#include <bit>
#include <cstring>
#include <string_view>

#include "proofs/sdr/feistel_kernel.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::sdr {
namespace detail {
// graph_avx2.cpp
void feistel_permute4_avx2(const FeistelParams& f, uint64_t x[4]);
void expander_parents_range_avx2(const FeistelParams& f, uint64_t first_node, uint64_t count,
                                 uint32_t* out);
}  // namespace detail

namespace {

constexpr uint64_t kMaxNodes = uint64_t{1} << 31;  // parents are stored as u32

inline uint32_t load32_le(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline uint64_t load64_le(const uint8_t* p) {
  return uint64_t{load32_le(p)} | uint64_t{load32_le(p + 4)} << 32;
}

// ---- ChaCha8 keystream (rand_chacha 0.3 ChaCha8Rng: 64-bit counter in words 12-13, stream 0) --

inline void quarter_round(uint32_t* x, int a, int b, int c, int d) {
  x[a] += x[b];
  x[d] = std::rotl(x[d] ^ x[a], 16);
  x[c] += x[d];
  x[b] = std::rotl(x[b] ^ x[c], 12);
  x[a] += x[b];
  x[d] = std::rotl(x[d] ^ x[a], 8);
  x[c] += x[d];
  x[b] = std::rotl(x[b] ^ x[c], 7);
}

void chacha8_block(const uint32_t key[8], uint64_t counter, uint32_t out[16]) {
  uint32_t in[16] = {0x61707865,
                     0x3320646e,
                     0x79622d32,
                     0x6b206574,
                     key[0],
                     key[1],
                     key[2],
                     key[3],
                     key[4],
                     key[5],
                     key[6],
                     key[7],
                     static_cast<uint32_t>(counter),
                     static_cast<uint32_t>(counter >> 32),
                     0,
                     0};
  uint32_t x[16];
  std::memcpy(x, in, sizeof x);
  for (int r = 0; r < 4; ++r) {  // 4 double rounds = 8 rounds
    quarter_round(x, 0, 4, 8, 12);
    quarter_round(x, 1, 5, 9, 13);
    quarter_round(x, 2, 6, 10, 14);
    quarter_round(x, 3, 7, 11, 15);
    quarter_round(x, 0, 5, 10, 15);
    quarter_round(x, 1, 6, 11, 12);
    quarter_round(x, 2, 7, 8, 13);
    quarter_round(x, 3, 4, 9, 14);
  }
  for (int i = 0; i < 16; ++i) out[i] = x[i] + in[i];
}

bool use_avx2() {
#ifdef SEALHOST_SDR_NO_AVX2
  return false;
#else
  static const bool kAvx2 = __builtin_cpu_supports("avx2") != 0;
  return kAvx2;
#endif
}

sha256::Digest tagged_digest(std::string_view tag, const PorepId& porep_id) {
  sha256::Hasher h;
  h.update({reinterpret_cast<const uint8_t*>(tag.data()), tag.size()});
  h.update(porep_id);
  return h.finish();
}

}  // namespace

uint64_t feistel_round_hash(uint64_t right, uint64_t key) {
  // The message is u64_be(right) || u64_be(key); BLAKE2b reads its words little-endian.
  return __builtin_bswap64(
      detail::b2_first_word<detail::ScalarOps>(__builtin_bswap64(right), __builtin_bswap64(key)));
}

Graph::Graph(uint64_t nodes, const PorepId& porep_id, ApiVersion api_version)
    : nodes_(nodes), porep_id_(porep_id), api_(api_version) {
  if (nodes < 2 || nodes > kMaxNodes) {
    throw SdrError("sdr graph: node count " + std::to_string(nodes) +
                   " out of range (use 2 .. 2^31 nodes, i.e. sector size / 32)");
  }
  const auto seed = tagged_digest("Filecoin_DRSample", porep_id);
  std::memcpy(drg_seed_.data(), seed.data(), drg_seed_.size());
  const auto keys = tagged_digest("Filecoin_Feistel", porep_id);
  for (size_t i = 0; i < 4; ++i) feistel_keys_[i] = load64_le(keys.data() + 8 * i);

  exp_domain_ = nodes * kExpansionDegree;
  // Smallest half >= 1 with 4^half >= domain, so that 2 * half bits cover it.
  uint64_t pow4 = 4;
  half_bits_ = 1;
  while (pow4 < exp_domain_) {
    pow4 *= 4;
    ++half_bits_;
  }
  right_mask_ = (uint64_t{1} << half_bits_) - 1;
  left_mask_ = right_mask_ << half_bits_;
}

Graph::Graph(const SealProof& proof)
    : Graph(proof.nodes, sdr::porep_id(proof), proof.api_version) {}

void Graph::base_parents(uint64_t node, uint32_t out[kBaseDegree]) const {
  if (node < 2) {
    for (uint32_t i = 0; i < kBaseDegree; ++i) out[i] = 0;
    return;
  }
  uint32_t key[8];
  for (int i = 0; i < 7; ++i) key[i] = load32_le(drg_seed_.data() + 4 * i);
  key[7] = static_cast<uint32_t>(node);
  // 10 u64 draws = keystream words 0..19: block 0 and the first 4 words of block 1.
  uint32_t ks[32];
  chacha8_block(key, 0, ks);
  chacha8_block(key, 1, ks + 16);
  size_t word = 0;
  auto next_u64 = [&]() {
    const uint64_t v = uint64_t{ks[word]} | uint64_t{ks[word + 1]} << 32;
    word += 2;
    return v;
  };

  const uint64_t meta = node * 5;
  const uint64_t n_buckets = std::bit_width(meta - 1);  // ceil(log2(meta)), meta >= 10
  const bool legacy = api_ == ApiVersion::V1_0_0;
  const size_t first = legacy ? 0 : 1;
  for (size_t k = 0; k < kBaseDegree - 1; ++k) {
    const uint64_t bucket = next_u64() % n_buckets + 1;
    const uint64_t dmax = std::min(meta, uint64_t{1} << bucket);
    const uint64_t dmin = std::max<uint64_t>(2, dmax >> 1);
    const uint64_t dist = dmin + next_u64() % (dmax - dmin + 1);
    const uint64_t u = (meta - dist) / 5;
    out[first + k] = static_cast<uint32_t>(u == node ? node - 1 : u);
  }
  out[legacy ? kBaseDegree - 1 : 0] = static_cast<uint32_t>(node - 1);
}

uint64_t Graph::feistel_encode(uint64_t x) const {
  uint64_t left = (x & left_mask_) >> half_bits_;
  uint64_t right = x & right_mask_;
  for (int round = 0; round < 3; ++round) {
    const uint64_t f = feistel_round_hash(right, feistel_keys_[round]) & right_mask_;
    const uint64_t next_right = left ^ f;
    left = right;
    right = next_right;
  }
  return (left << half_bits_) | right;
}

uint64_t Graph::feistel_permute(uint64_t x) const {
  uint64_t y = feistel_encode(x);
  while (y >= exp_domain_) y = feistel_encode(y);
  return y;
}

void Graph::expander_parents(uint64_t node, uint32_t out[kExpansionDegree]) const {
  const bool legacy = api_ == ApiVersion::V1_0_0;
  uint64_t x[kExpansionDegree];
  for (uint32_t i = 0; i < kExpansionDegree; ++i) x[i] = node * kExpansionDegree + i;
#ifndef SEALHOST_SDR_NO_AVX2
  if (use_avx2()) {
    const detail::FeistelParams f{{feistel_keys_[0], feistel_keys_[1], feistel_keys_[2]},
                                  exp_domain_,
                                  half_bits_,
                                  right_mask_,
                                  left_mask_,
                                  legacy};
    detail::feistel_permute4_avx2(f, x);
    detail::feistel_permute4_avx2(f, x + 4);
  } else
#endif
  {
    for (auto& xi : x) xi = feistel_permute(xi);
  }
  for (uint32_t i = 0; i < kExpansionDegree; ++i) {
    const uint64_t p = legacy ? (x[i] & 0xffffffffu) : x[i];
    out[i] = static_cast<uint32_t>(p / kExpansionDegree);
  }
}

void Graph::parents_range(uint64_t first, uint64_t count, uint32_t* out) const {
  for (uint64_t i = 0; i < count; ++i) base_parents(first + i, out + i * kDegree);
#ifndef SEALHOST_SDR_NO_AVX2
  if (use_avx2()) {
    const detail::FeistelParams f{{feistel_keys_[0], feistel_keys_[1], feistel_keys_[2]},
                                  exp_domain_,
                                  half_bits_,
                                  right_mask_,
                                  left_mask_,
                                  api_ == ApiVersion::V1_0_0};
    detail::expander_parents_range_avx2(f, first, count, out);
    return;
  }
#endif
  for (uint64_t i = 0; i < count; ++i) expander_parents(first + i, out + i * kDegree + kBaseDegree);
}

void Graph::parents(uint64_t node, uint32_t out[kDegree]) const {
  base_parents(node, out);
  expander_parents(node, out + kBaseDegree);
}

std::string Graph::cache_digest_hex() const {
  const std::string id =
      "stacked_graph::StackedGraph{expansion_degree: 8 base_graph: drgraph::BucketGraph{size: " +
      std::to_string(nodes_) + "; degree: 6; hasher: poseidon_hasher} }";
  sha256::Hasher h;
  const std::string_view tag = "poseidon_hasher";
  h.update({reinterpret_cast<const uint8_t*>(tag.data()), tag.size()});
  h.update({reinterpret_cast<const uint8_t*>(id.data()), id.size()});
  for (uint64_t k : feistel_keys_) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(k >> (8 * i));
    h.update(b);
  }
  uint8_t n[4];
  for (int i = 0; i < 4; ++i) n[i] = static_cast<uint8_t>(nodes_ >> (8 * i));
  h.update(n);
  const auto d = h.finish();
  return to_hex(d);
}

}  // namespace sealhost::proofs::sdr
