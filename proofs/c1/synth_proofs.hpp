// The Synthetic PoRep proofs file, byte-compatible with rust-fil-proofs SynthProofs
// (`<cache>/syn-porep-vanilla-proofs.dat`, challenges-post.md §3.3):
//
//   root_d(32) || root_c(32) || root_r(32), then one fixed-size record per synthetic challenge
//   i = 0 .. N_s-1 (challenge synth[i]):
//     u64le challenge, 14 x u64le parents (6 DRG, 8 expander)
//     TreeD proof:  leaf, log2(nodes) siblings (leaf to root)
//     column of the challenge: L labels, then its TreeC proof: leaf + every level's siblings
//     for each of the 14 parents: column (L labels) + TreeC proof
//     TreeRLast proof of the challenge: leaf + every level's siblings
//   Path positions are not stored: they follow from the node index (TreeD 1 bit per level;
//   TreeC/TreeRLast 3 bits per base level, then the sub and top bits).
//
// Workflow: after PC2, write_synthetic_proofs() proves all N_s = min(nodes, 2^18) synthetic
// challenges (layers and TreeC can then be deleted); once the seed is known,
// read_synthetic_proofs() builds the Commit1 output from the selected records only.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>

#include "proofs/c1/c1.hpp"

namespace sealhost::proofs::c1 {

inline constexpr const char* kSynthProofsFileName = "syn-porep-vanilla-proofs.dat";

// Bytes of one record: 8*15 + 32*((1 + log2 n) + 15*(L + P) + P), P = TreeC/R proof nodes.
uint64_t synth_proof_record_bytes(const PoRepParams& params);
uint64_t synth_proofs_file_bytes(const PoRepParams& params);

struct SynthWriteOptions {
  // Called every 1024 records with (done, total).
  std::function<void(uint64_t, uint64_t)> progress;
  // Polled between records; true aborts with C1Error (nothing is left behind).
  std::function<bool()> cancelled;
};

// Proves every synthetic challenge of the sector (params.synthetic must be set) and writes
// `path` through `<path>.tmp` + rename. inputs.seed is not used.
void write_synthetic_proofs(const PoRepParams& params, const sdr::Graph& graph,
                            const PublicInputs& inputs, const ProverFiles& files,
                            const std::filesystem::path& path,
                            const SynthWriteOptions& options = {});

// Commit1 output from the synthetic proofs file for inputs.seed: reads only the selected
// records, checks their roots and challenges against the public inputs and verifies every
// proof. Throws C1Error naming the file and the problem.
C1Output read_synthetic_proofs(const PoRepParams& params, const sdr::Graph& graph,
                               const PublicInputs& inputs, const std::filesystem::path& path);

}  // namespace sealhost::proofs::c1
