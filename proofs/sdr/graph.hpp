// The SDR parent graph: 6 DRG (BucketGraph) parents from the current layer followed by 8
// expander (Feistel) parents from the previous layer, exactly as rust-fil-proofs computes them
// (spec sdr.md §4-§6), for both the legacy (ApiVersion 1.0.0) and current orderings.
//
// A Graph is immutable after construction: parents() may be called from any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "proofs/sdr/seal_proof.hpp"

namespace sealhost::proofs::sdr {

inline constexpr uint32_t kBaseDegree = 6;
inline constexpr uint32_t kExpansionDegree = 8;
inline constexpr uint32_t kDegree = kBaseDegree + kExpansionDegree;  // 14

class Graph {
 public:
  // `nodes` >= 2 and <= 2^31 (any value, not only powers of two: tests use 64 and 128).
  // Throws SdrError otherwise.
  Graph(uint64_t nodes, const PorepId& porep_id, ApiVersion api_version);
  // The graph of a registered proof (its node count, porep_id and API version).
  explicit Graph(const SealProof& proof);

  uint64_t nodes() const { return nodes_; }
  ApiVersion api_version() const { return api_; }
  const PorepId& porep_id() const { return porep_id_; }
  // SHA256("Filecoin_DRSample" || porep_id)[0..28].
  const std::array<uint8_t, 28>& drg_seed() const { return drg_seed_; }
  // u64_le words of SHA256("Filecoin_Feistel" || porep_id); only the first 3 are used.
  const std::array<uint64_t, 4>& feistel_keys() const { return feistel_keys_; }

  // All 14 parents of `node` (< nodes()): DRG parents then expander parents.
  void parents(uint64_t node, uint32_t out[kDegree]) const;
  void base_parents(uint64_t node, uint32_t out[kBaseDegree]) const;
  void expander_parents(uint64_t node, uint32_t out[kExpansionDegree]) const;
  // parents() of nodes first .. first+count-1 into out[14 * count] (faster per node: parent
  // cache generation uses it). first + count must not exceed nodes().
  void parents_range(uint64_t first, uint64_t count, uint32_t* out) const;

  // Hex SHA-256 identifying the graph in parent-cache file names (spec §7).
  std::string cache_digest_hex() const;

  // The Feistel permutation of the expander edge index x < 8 * nodes (exposed for tests).
  uint64_t feistel_permute(uint64_t x) const;

 private:
  uint64_t feistel_encode(uint64_t x) const;

  uint64_t nodes_;
  PorepId porep_id_;
  ApiVersion api_;
  std::array<uint8_t, 28> drg_seed_{};
  std::array<uint64_t, 4> feistel_keys_{};
  uint64_t exp_domain_ = 0;  // 8 * nodes
  uint32_t half_bits_ = 0;
  uint64_t right_mask_ = 0;
  uint64_t left_mask_ = 0;
};

// BLAKE2b-512 of a 16-byte message, first 8 digest bytes read big-endian (the Feistel round
// function before masking). Exposed for tests.
uint64_t feistel_round_hash(uint64_t right, uint64_t key);

}  // namespace sealhost::proofs::sdr
