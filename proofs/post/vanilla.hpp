// Fallback PoSt (Winning and Window) vanilla proofs, bit-compatible with rust-fil-proofs
// storage-proofs-post::fallback and filecoin-proofs' post_util (challenges-post.md §6).
//
// Proving reads, per sector, only the challenged leaves of the sealed replica plus the cached
// rows of its TreeRLast store (sc-02-data-tree-r-last[-i].dat); rows discarded by the level-cache
// store are rebuilt from the replica (proofs/merkle CompoundTreeReader). Every produced path is
// checked before it is returned, so a damaged replica or store is caught on the prover side.
//
// Faults: a sector whose files are missing, truncated or inconsistent with its commitments is
// reported as a Fault (sector id + reason) and left out; it never fails the other sectors.
//
// Verification follows FallbackPoSt::verify: comm_r == Poseidon_2(comm_c, root of the first
// inclusion proof), the right number of proofs, every path with the tree shape of the sector
// size, rooted at comm_r_last and opening exactly the derived leaf challenge. Malformed proofs
// give an invalid Verdict with a reason, never an exception or a crash.
//
// Threading: every function is re-entrant; prove_* use ProveOptions::threads worker threads,
// shared by all challenges of all sectors of the call (a window partition's 2 x 10 challenges
// keep both threads busy, not 10 per sector with a join at every sector).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "proofs/challenges/challenges.hpp"
#include "proofs/merkle/merkle.hpp"
#include "proofs/merkle/tree_store.hpp"

namespace sealhost::proofs::post {

using challenges::Bytes32;
using challenges::PoStConfig;
using merkle::InclusionProof;
using merkle::Node;

// Caller error (bad configuration, bad arguments); never used for a faulty sector.
class PoStError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ProveOptions::cancelled returned true.
class Cancelled : public PoStError {
 public:
  using PoStError::PoStError;
};

// rust-fil-proofs fallback::SectorProof: one TreeRLast inclusion proof per challenge.
struct SectorProof {
  std::vector<InclusionProof> inclusion_proofs;
  Node comm_c{};
  Node comm_r_last{};
  // Field-wise, including every path level (merkle::InclusionProof has no operator==).
  friend bool operator==(const SectorProof& a, const SectorProof& b);
};

// rust-fil-proofs fallback::Proof: the sector proofs of one partition (padded to the
// partition's sector count by the partitioner).
struct PartitionProof {
  std::vector<SectorProof> sectors;
  friend bool operator==(const PartitionProof&, const PartitionProof&) = default;
};

// filecoin-proofs FallbackPoStSectorProof: what generate_single_vanilla_proof returns and what
// Lotus/Curio pass around as one sector's "vanilla proof".
struct SectorVanillaProof {
  uint64_t sector_id = 0;
  Node comm_r{};
  PartitionProof vanilla_proof;  // one SectorProof
  friend bool operator==(const SectorVanillaProof&, const SectorVanillaProof&) = default;
};

struct PublicSector {
  uint64_t sector_id = 0;
  Node comm_r{};
};

// What the prover needs for one sealed sector.
struct ReplicaInfo {
  uint64_t sector_id = 0;
  Node comm_r{};
  // nullopt: read both from <cache_dir>/p_aux (comm_c || comm_r_last, proofs/pc2 format).
  std::optional<Node> comm_c;
  std::optional<Node> comm_r_last;
  std::filesystem::path cache_dir;     // holds the tree-r-last store file(s)
  std::filesystem::path replica_path;  // the sealed sector file
  // Rows discarded when the TreeRLast store was written; nullopt: tree_r_last's rows_to_discard
  // from <cache_dir>/t_aux when that file exists (as rust-fil-proofs does), else the default
  // for the sector size (2, capped; sdr.md §1).
  std::optional<size_t> rows_to_discard;
};

struct Fault {
  uint64_t sector_id = 0;
  std::string reason;
};

struct ProveOptions {
  unsigned threads = 1;
  // Polled between challenges; returning true abandons the work (throws Cancelled).
  std::function<bool()> cancelled;
};

// Proofs of the sectors that could be proven (in input order) and the faults of the others
// (sorted by sector id).
struct VanillaProofs {
  std::vector<SectorVanillaProof> proofs;
  std::vector<Fault> faults;
};

struct Verdict {
  bool valid = false;
  std::string reason;  // empty when valid
  explicit operator bool() const { return valid; }
  static Verdict ok() { return {true, {}}; }
  static Verdict fail(std::string why) { return {false, std::move(why)}; }
};

// Poseidon_2(comm_c, comm_r_last) (arity-2 MerkleTree tag). Throws merkle::MerkleError for
// non-canonical inputs.
Node comm_r_of(const Node& comm_c, const Node& comm_r_last);

// One sector's vanilla proof for explicit leaf challenges (filecoin-proofs
// generate_single_vanilla_proof). Returns a Fault instead when the sector cannot be proven.
std::variant<SectorVanillaProof, Fault> prove_sector(const PoStConfig& config,
                                                     const ReplicaInfo& replica,
                                                     std::span<const uint64_t> leaf_challenges,
                                                     const ProveOptions& options = {});

// Window PoSt vanilla proofs of `sectors` (in the order they will be partitioned, normally
// sorted by sector number). API 1.0.0 challenges depend on each sector's position, so after a
// fault the remaining sectors are re-challenged at their new positions (as Lotus does).
VanillaProofs prove_window(const PoStConfig& config, const Bytes32& randomness,
                           std::span<const ReplicaInfo> sectors, const ProveOptions& options = {});

// Winning PoSt vanilla proof of the one selected sector (66 challenges).
VanillaProofs prove_winning(const PoStConfig& config, const Bytes32& randomness,
                            const ReplicaInfo& sector, const ProveOptions& options = {});

// Shapes sector vanilla proofs into SNARK partitions (filecoin-proofs partition_vanilla_proofs):
// window — chunks of config.sector_count, a short last chunk padded by repeating its last sector
// proof; winning — one partition of 66 one-challenge sector proofs. Throws PoStError for an
// empty list or a proof of the wrong shape.
std::vector<PartitionProof> partition_vanilla_proofs(const PoStConfig& config,
                                                     std::span<const SectorVanillaProof> proofs);

// Public sectors of partition k (unpadded): window — chunk k; winning — the sector repeated 66
// times.
std::vector<PublicSector> partition_public_sectors(const PoStConfig& config,
                                                   std::span<const PublicSector> sectors,
                                                   size_t partition);

// FallbackPoSt::verify of one partition. `sectors` are that partition's public sectors
// (unpadded, as partition_public_sectors returns them).
Verdict verify_partition(const PoStConfig& config, const Bytes32& randomness,
                         std::span<const PublicSector> sectors, size_t partition,
                         const PartitionProof& proof);

// Every partition of a window (or the winning) proof against all public sectors.
Verdict verify_all_partitions(const PoStConfig& config, const Bytes32& randomness,
                              std::span<const PublicSector> sectors,
                              std::span<const PartitionProof> proofs);

// One sector's vanilla proof (as exchanged between Lotus/Curio workers) against its public
// comm_r: challenges of the API-level view (config.challenge_count per sector), the sector at
// global position sector_index (matters for API 1.0.0 only).
Verdict verify_sector_vanilla_proof(const PoStConfig& config, const Bytes32& randomness,
                                    const PublicSector& sector, uint64_t sector_index,
                                    const SectorVanillaProof& proof);

}  // namespace sealhost::proofs::post
