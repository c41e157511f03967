// Commit1: vanilla PoRep proofs of Stacked DRG (V1_1 and Synthetic PoRep) and their verifier,
// following rust-fil-proofs prove_layers_generate / Proof::verify (challenges-post.md §2, §5).
//
// For every challenge x (1 <= x < nodes) the proof holds the TreeD path of the unsealed node, the
// column of x (its L labels) and the columns of its 6 DRG and 8 expander parents with TreeC
// paths, the TreeRLast path of the replica node, one labelling proof per layer (the 37 parent
// labels hashed into the label) and the encoding proof (the last layer's labelling proof).
//
// The prover reads the PC1/PC2 cache directory (layer files, sc-02-data-tree-d.dat, tree-c and
// tree-r-last stores, t_aux for rows_to_discard) and the sealed file; it reads only the nodes the
// challenges touch. Synthetic PoRep proofs are proven from the layers too (the synthetic proofs
// file is an upstream cache of the same proofs); the challenges are the selected synthetic ones.
// Legacy V1 (ApiVersion 1.0.0) and NI-PoRep are not supported.
//
// Threading: all functions are re-entrant; nothing is shared between calls. prove_commit1 spreads
// the challenges over Commit1Options::threads threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "proofs/challenges/challenges.hpp"
#include "proofs/merkle/merkle.hpp"
#include "proofs/sdr/graph.hpp"

namespace sealhost::proofs::c1 {

using challenges::Bytes32;
using merkle::InclusionProof;
using merkle::Node;

inline constexpr size_t kLabelParents = 37;  // parent labels per label preimage

// Bad input to the prover, missing/corrupt files, or a proof that fails its own check.
class C1Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ColumnProof {
  uint64_t index = 0;
  std::vector<Node> rows;          // labels of layers 1..L at `index`
  InclusionProof inclusion_proof;  // TreeC path; leaf = Poseidon_L(rows)
};

struct LabelingProof {
  uint32_t layer_index = 0;  // 1..L
  uint64_t node = 0;
  std::vector<Node> parents;  // the 37 chunks hashed after the 64-byte header
};

struct ChallengeProof {
  InclusionProof comm_d_proof;
  ColumnProof c_x;
  std::vector<ColumnProof> drg_parents;  // 6
  std::vector<ColumnProof> exp_parents;  // 8
  InclusionProof comm_r_last_proof;
  std::vector<LabelingProof> labeling_proofs;  // layers 1..L
  LabelingProof encoding_proof;                // = labeling proof of layer L
};

// How a sector's PoRep is challenged.
struct PoRepParams {
  uint64_t sector_bytes = 0;
  uint32_t layers = 0;
  uint32_t partitions = 0;
  uint32_t challenges_per_partition = 0;
  bool synthetic = false;

  uint64_t nodes() const { return sector_bytes / 32; }
  // From a registered seal proof (V1_1 or Synthetic; V1 legacy is refused with C1Error).
  static PoRepParams for_seal_proof(const sdr::SealProof& proof);
  // Test sizes and explicit setups: the size table of proofs/challenges, interactive.
  static PoRepParams for_sector(uint64_t sector_bytes);
};

struct PublicInputs {
  Node replica_id{};
  Node comm_d{};
  Node comm_r{};
  Bytes32 seed{};  // interactive randomness, as given by the chain
};

// Commit1 output (SealCommitPhase1Output without the ffi wrapping).
struct C1Output {
  PublicInputs inputs;
  std::vector<std::vector<ChallengeProof>> partitions;
};

struct ProverFiles {
  std::filesystem::path cache_dir;     // sc-02-data-layer-*, tree-d, tree-c, tree-r-last, t_aux
  std::filesystem::path replica_path;  // sealed file
};

// The challenges of every partition (interactive §1 or synthetic §3.2).
std::vector<std::vector<uint64_t>> porep_challenges(const PoRepParams& params,
                                                    const PublicInputs& inputs);

// label(replica_id, layer, node, parents) = SHA254(replica_id || u32_be(layer) || u64_be(node) ||
// 20 zero bytes || parents...).
Node label_of(const Node& replica_id, uint32_t layer, uint64_t node,
              const std::vector<Node>& parents);

// Opens a sector's stores once and proves single challenges. The constructor checks the TreeD
// root against comm_d and Poseidon(TreeC root, TreeRLast root) against comm_r (inputs.seed is
// not used); prove() checks each proof before returning it. Throws C1Error naming the file or
// the failed check. prove() is const and may be called from several threads.
class ChallengeProver {
 public:
  ChallengeProver(const PoRepParams& params, const sdr::Graph& graph, const PublicInputs& inputs,
                  const ProverFiles& files);
  ~ChallengeProver();
  ChallengeProver(ChallengeProver&&) noexcept;
  ChallengeProof prove(uint64_t challenge) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fills labeling_proofs and encoding_proof from the parents' columns (they hold exactly the
// parent labels the label preimages need).
void complete_labeling_proofs(const PoRepParams& params, uint64_t challenge, ChallengeProof& proof);

struct Commit1Options {
  // Challenges are proven on this many threads (each challenge is independent: 16 tree paths,
  // one TreeRLast subtree rebuild and the proof's own check).
  unsigned threads = 1;
  // Polled before every challenge; returning true abandons the work (C1Cancelled).
  std::function<bool()> cancelled;
};

// Commit1Options::cancelled returned true.
class C1Cancelled : public C1Error {
 public:
  using C1Error::C1Error;
};

// Proves every challenge of every partition with one ChallengeProver. Output order (partitions,
// then challenges) does not depend on the thread count.
C1Output prove_commit1(const PoRepParams& params, const sdr::Graph& graph,
                       const PublicInputs& inputs, const ProverFiles& files,
                       const Commit1Options& options = {});

struct Verdict {
  bool valid = false;
  std::string reason;
  explicit operator bool() const { return valid; }
};

// Proof::verify for challenge x, plus one check upstream's vanilla verifier leaves to the
// circuit: the labelling proofs' parent labels must be the parents' column rows.
Verdict verify_challenge(const PoRepParams& params, const sdr::Graph& graph,
                         const PublicInputs& inputs, uint64_t challenge,
                         const ChallengeProof& proof);

// All partitions: the challenges are re-derived from the public inputs.
Verdict verify_commit1(const PoRepParams& params, const sdr::Graph& graph, const C1Output& output);

}  // namespace sealhost::proofs::c1
