// Challenge derivation, bit-compatible with rust-fil-proofs (see
// /work/shared/spec/challenges-post.md §1, §3, §6 and sdr.md §1):
//  * interactive PoRep challenges (V1_1) from replica_id and the seed;
//  * Synthetic PoRep: the synthetic challenge set (replica_id, comm_r) and the selection of the
//    PoRep challenges from it once the seed is known;
//  * fallback PoSt: leaf challenges (window and winning) and winning sector selection;
//  * the per-size constants these need (partitions, challenge and sector counts).
//
// All 32-byte values (replica_id, comm_r, seed, randomness, prover_id) are taken in their storage
// order (little-endian field encodings where they are field elements). Every function is pure and
// thread-safe. Bad arguments throw ChallengeError with a message naming the value and the fix.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sealhost::proofs::challenges {

using Bytes32 = std::array<uint8_t, 32>;

class ChallengeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

inline constexpr uint64_t kNodeBytes = 32;

// ---- per-size PoRep constants (sdr.md §1) ----

struct PoRepSizeParams {
  uint64_t sector_bytes = 0;
  uint64_t nodes = 0;
  uint32_t layers = 0;
  uint32_t partitions = 0;
  uint32_t challenges_per_partition = 0;
  uint32_t total_challenges() const { return partitions * challenges_per_partition; }
};

// Every supported size: 2KiB, 4KiB, 16KiB, 32KiB, 8MiB, 16MiB, 512MiB, 1GiB, 32GiB, 64GiB.
const std::vector<PoRepSizeParams>& porep_size_table();
// Throws ChallengeError naming the supported sizes for any other size.
const PoRepSizeParams& porep_size_params(uint64_t sector_bytes);

// ---- interactive PoRep challenges (V1_1; challenges-post.md §1) ----

// Challenges of partition `partition`: for i < per_partition, j = per_partition*partition + i,
// (LE256(SHA256(replica_id || seed || u32le(j))) mod (nodes-1)) + 1. Node 0 is never challenged;
// duplicates are kept. nodes must be in [2, 2^32).
std::vector<uint64_t> interactive_porep_challenges(const Bytes32& replica_id, const Bytes32& seed,
                                                   uint64_t nodes, uint32_t partition,
                                                   uint32_t per_partition);

// ---- Synthetic PoRep (challenges-post.md §3) ----

inline constexpr uint64_t kDefaultSyntheticChallenges = uint64_t{1} << 18;

// The synthetic challenge set of one sector. It is a keystream, not a table: at() and
// generate() compute entries on demand, so a prover can walk all 2^18 entries without holding
// them, and a C1 prover needs only the few selected ones. Immutable; safe to share.
class SyntheticChallenges {
 public:
  // replica_id and comm_r must be canonical field elements (as upstream, which converts them to
  // Fr). `count` defaults to min(nodes, 2^18); upstream tests override it.
  SyntheticChallenges(const Bytes32& replica_id, const Bytes32& comm_r, uint64_t nodes,
                      std::optional<uint64_t> count = std::nullopt);

  uint64_t count() const { return count_; }
  uint64_t nodes() const { return nodes_; }
  // Synthetic challenge i (i < count()).
  uint64_t at(uint64_t i) const;
  // Entries [first, first + n) into out.
  void generate(uint64_t first, size_t n, uint64_t* out) const;
  // The whole set (count() entries).
  std::vector<uint64_t> all() const;

  // Indexes into the synthetic set of the PoRep challenges of `partition` once the interactive
  // seed is known (§3.2).
  std::vector<uint64_t> selected_indexes(const Bytes32& seed, uint32_t partition,
                                         uint32_t per_partition) const;
  // The PoRep challenges themselves: at(selected_indexes(...)[i]).
  std::vector<uint64_t> porep_challenges(const Bytes32& seed, uint32_t partition,
                                         uint32_t per_partition) const;

 private:
  Bytes32 replica_id_{};
  Bytes32 generation_key_{};
  uint64_t nodes_ = 0;
  uint64_t count_ = 0;
};

// ---- fallback PoSt (challenges-post.md §6) ----

enum class PoStType { kWinning, kWindow };
// 1.0.0 (and 1.1.0, which behaves identically here): ci = sector_index * challenge_count + n.
// 1.2.0 (Window PoSt V1_1 in Go = V1_2 in Rust): ci = n.
enum class PoStApiVersion { kV1_0_0, kV1_2_0 };

inline constexpr size_t kWinningPoStChallengeCount = 66;
inline constexpr size_t kWinningPoStSectorCount = 1;
inline constexpr size_t kWindowPoStChallengeCount = 10;

// Sectors per Window PoSt SNARK partition: 2 for 2KiB..1GiB, 2349 for 32GiB, 2300 for 64GiB.
size_t window_post_sector_count(uint64_t sector_bytes);

// The API-level PoSt parameters (rust-fil-proofs PoStConfig).
struct PoStConfig {
  PoStType type = PoStType::kWindow;
  uint64_t sector_bytes = 0;
  // Leaf challenges per sector: 10 (window) or 66 (winning).
  size_t challenge_count = 0;
  // Window: sectors per partition; winning: 1 (the circuit's 66 one-challenge sectors are
  // derived by circuit_sector_count()).
  size_t sector_count = 0;
  PoStApiVersion api_version = PoStApiVersion::kV1_2_0;

  uint64_t nodes() const { return sector_bytes / kNodeBytes; }
  // Sectors and challenges per sector as the vanilla verifier/circuit sees one partition:
  // window (sector_count, challenge_count); winning (66, 1).
  size_t circuit_sector_count() const;
  size_t circuit_challenge_count() const;

  static PoStConfig window(uint64_t sector_bytes,
                           PoStApiVersion api_version = PoStApiVersion::kV1_2_0);
  static PoStConfig winning(uint64_t sector_bytes);
  // Go abi.RegisteredPoStProof: 0-4 winning V1, 5-9 window V1 (1.0.0), 10-14 window V1_1
  // (Rust V1_2, 1.2.0). Throws ChallengeError for any other value.
  static PoStConfig for_registered_proof(int64_t registered_post_proof);
  // Throws ChallengeError for an unsupported size or inconsistent counts.
  void validate() const;
};

// Go abi.RegisteredPoStProof value of a config (its sector size, type and API version).
int64_t registered_post_proof(const PoStConfig& config);

// Window partitions needed for n sectors: ceil(n / sector_count), at least 1.
size_t window_post_partitions(const PoStConfig& config, size_t sector_total);

// Canonical BLS12-381 scalar (little-endian value < r)?
bool is_canonical_fr(const Bytes32& value);
// Throws ChallengeError unless the PoSt randomness is canonical (callers mask r[31] &= 0x3f).
void check_post_randomness(const Bytes32& randomness);

// Filecoin prover id of an actor: uvarint(actor_id) then zero bytes (filecoin-ffi toProverID).
Bytes32 prover_id_from_actor(uint64_t actor_id);

// ci of challenge n of the sector at global position sector_index.
uint64_t post_challenge_index(PoStApiVersion api_version, uint64_t sector_index,
                              size_t challenge_count, size_t n);
// u64le(SHA256(randomness || u64le(sector_number) || u64le(ci))[0..8]) mod nodes.
uint64_t post_leaf_challenge(const Bytes32& randomness, uint64_t sector_number,
                             uint64_t challenge_index, uint64_t nodes);
// The config.challenge_count leaf challenges of one sector at global position sector_index
// (window: partition * sector_count + position; winning: 0). Checks the randomness.
std::vector<uint64_t> post_sector_challenges(const PoStConfig& config, const Bytes32& randomness,
                                             uint64_t sector_number, uint64_t sector_index);

// Winning PoSt sector selection: indexes into the caller's eligible-sector list,
// u64le(SHA256(prover_id || randomness || u64le(n))[0..8]) mod sector_set_len for n < count.
std::vector<uint64_t> winning_post_sector_challenges(const Bytes32& randomness,
                                                     const Bytes32& prover_id,
                                                     uint64_t sector_set_len,
                                                     size_t count = kWinningPoStSectorCount);

}  // namespace sealhost::proofs::challenges
