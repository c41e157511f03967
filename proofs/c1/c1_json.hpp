// The Commit1 output as filecoin-ffi hands it to a Rust Commit2 (SealCommitPhase1Output of
// rust-filecoin-proofs-api serialised with serde_json; challenges-post.md §5):
//
//   {"registered_proof":"StackedDrg2KiBV1_1",
//    "vanilla_proofs":{"StackedDrg2KiBV1":[[Proof,...],...]},       variant named by size only
//    "comm_r":[32 numbers],"comm_d":[..],"replica_id":[..],"seed":[..],"ticket":[..]}
//   Proof = {"comm_d_proofs":MerkleProof,"comm_r_last_proof":MerkleProof,
//            "replica_column_proofs":{"c_x":ColumnProof,"drg_parents":[..],"exp_parents":[..]},
//            "labeling_proofs":[{"parents":[..37..],"layer_index":l,"node":x},..],
//            "encoding_proof":{"parents":[..],"layer_index":L,"node":x}}
//   ColumnProof = {"column":{"index":x,"rows":[..],"_h":null},"inclusion_proof":MerkleProof}
//   MerkleProof = {"data":{"Single":{"root","leaf","path":{"path":[{"hashes":[..],"index":i}]}}}}
//               | {"data":{"Sub":{"base_proof","sub_proof","root","leaf"}}}
//               | {"data":{"Top":{"base_proof","sub_proof","top_proof","root","leaf"}}}
//
// Output is compact (serde_json::to_vec style) with fields in declaration order. The parser is
// strict about structure and shapes and throws C1Error naming the JSON path of the problem.
#pragma once

#include <string>
#include <string_view>

#include "proofs/c1/c1.hpp"

namespace sealhost::proofs::c1 {

struct C1Json {
  std::string registered_proof;  // Rust/Go enum name, e.g. "StackedDrg32GiBV1_1"
  Bytes32 ticket{};
  C1Output output;
};

// `registered_proof` must name a V1_1 or Synthetic PoRep proof of output's sector size
// (`params.sector_bytes`).
std::string c1_output_to_json(const PoRepParams& params, const std::string& registered_proof,
                              const Bytes32& ticket, const C1Output& output);

C1Json c1_output_from_json(const PoRepParams& params, std::string_view json);

// Same, with the parameters of the proof the document names in "registered_proof" (one parse
// for callers that do not know the proof type in advance). Throws C1Error for an unknown or
// legacy V1 proof.
C1Json c1_output_from_json(std::string_view json);

}  // namespace sealhost::proofs::c1
