// proofs::pc2::PoseidonEngine over a compute component reached through the host
// (sdk::find_compute): the pc2 stage's bridge to sealhost.compute.cpu or a GPU backend.
#pragma once

#include "proofs/pc2/poseidon_engine.hpp"

#include <sealhost/sdk/compute.hpp>

#include <string>

namespace sealhost::stage_pc2 {

// Thread-safe when the component is (every sealhost compute component is). Failures surface as
// the component's sdk::Error, prefixed with its id.
class ComputeEngine final : public proofs::pc2::PoseidonEngine {
 public:
  explicit ComputeEngine(sdk::ComputeRef ref) : ref_(std::move(ref)) {}

  void hash_batch(size_t arity, proofs::pc2::PoseidonTag tag, const uint8_t* in, uint8_t* out,
                  size_t n) override {
    const uint32_t t = tag == proofs::pc2::PoseidonTag::kMerkleTree ? sdk::kTagMerkleTree
                                                                    : sdk::kTagConstantLength;
    ref_.poseidon_batch(static_cast<uint32_t>(arity), t, in, out, n);
  }
  void tree_rows(size_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out) override {
    ref_.tree_build(static_cast<uint32_t>(arity), leaves, n, rows_out);
  }
  std::string name() const override { return ref_.id(); }

 private:
  sdk::ComputeRef ref_;
};

}  // namespace sealhost::stage_pc2
