// Serialisation of PoSt vanilla proofs.
//
// 1. The upstream wire format (rust-filecoin-proofs-api / filecoin-proofs, bincode 1.3 defaults:
//    little-endian, u64 length prefixes, u32 enum variant indexes, 32-byte domains raw). This is
//    what Lotus and Curio exchange as a sector's "vanilla proof" (e.g. Curio's golden
//    testgolden/post.vproof) and what the Rust SNARK prover consumes:
//      FallbackPoStSectorProof = u64 sector_id, comm_r[32], Vec<SectorProof>
//      SectorProof   = Vec<MerkleProof> inclusion_proofs, comm_c[32], comm_r_last[32]
//      MerkleProof   = u32 variant (0 Single, 1 Sub, 2 Top), then
//                      Single: root, leaf, path | Sub: base, sub, root, leaf |
//                      Top: base, sub, top, root, leaf
//      path          = Vec<{ Vec<[32]> hashes, u64 index }>
//    The variant and path lengths follow from the sector size, so encoding and decoding take
//    the PoSt config; a proof whose shape does not match the size is a FormatError.
// 2. A sealhost bundle (versioned container for a whole PoSt job, docs/post.md):
//      "SHPOSTVP" | u32 version (1) | u32 flags (0) | i64 registered_post_proof |
//      randomness[32] | u64 n, n x (u64 len, FallbackPoStSectorProof) |
//      u64 m, m x (u64 sector_id, u64 len, UTF-8 reason)
//
// Decoders never trust a length: every count is checked against the bytes that remain before
// anything is allocated, trailing bytes are an error, and errors name the offset.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "proofs/post/vanilla.hpp"

namespace sealhost::proofs::post {

class FormatError : public PoStError {
 public:
  using PoStError::PoStError;
};

inline constexpr uint32_t kBundleVersion = 1;

std::vector<uint8_t> encode_sector_vanilla_proof(const PoStConfig& config,
                                                 const SectorVanillaProof& proof);
SectorVanillaProof decode_sector_vanilla_proof(const PoStConfig& config,
                                               std::span<const uint8_t> bytes);

// fallback::Proof (one partition): Vec<SectorProof>.
std::vector<uint8_t> encode_partition_proof(const PoStConfig& config, const PartitionProof& proof);
PartitionProof decode_partition_proof(const PoStConfig& config, std::span<const uint8_t> bytes);

struct VanillaBundle {
  int64_t registered_post_proof = 0;  // Go abi.RegisteredPoStProof
  Bytes32 randomness{};
  std::vector<SectorVanillaProof> proofs;
  std::vector<Fault> faults;
  friend bool operator==(const VanillaBundle& a, const VanillaBundle& b) {
    if (a.registered_post_proof != b.registered_post_proof || a.randomness != b.randomness ||
        a.proofs != b.proofs || a.faults.size() != b.faults.size()) {
      return false;
    }
    for (size_t i = 0; i < a.faults.size(); ++i) {
      if (a.faults[i].sector_id != b.faults[i].sector_id ||
          a.faults[i].reason != b.faults[i].reason) {
        return false;
      }
    }
    return true;
  }
};

std::vector<uint8_t> encode_bundle(const VanillaBundle& bundle);
// Throws FormatError for a foreign file, an unknown version or any malformed content.
VanillaBundle decode_bundle(std::span<const uint8_t> bytes);

}  // namespace sealhost::proofs::post
