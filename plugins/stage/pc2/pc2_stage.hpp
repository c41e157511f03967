// sealhost.stage.pc2: PreCommit2 of one sector — TreeC over the PC1 layer files, the sealed
// replica, TreeRLast, comm_c / comm_r_last / comm_r, p_aux and t_aux (proofs/pc2), with the
// Poseidon work on a compute component (option `compute`) or the builtin CPU engine.
//
// Failure atomicity: outputs are written under temporary names and renamed into place only when
// everything succeeded; on any error or cancel nothing new is left and earlier outputs are kept.
// Inputs (proof vs sector size, file sizes, the layers' replica_id, the tree_d root vs comm_d)
// are checked before anything is created.
//
// Thread-safety: run() may be called concurrently for different sectors; a second call on the
// same cache directory while one runs fails with FAILED_PRECONDITION (advisory lock on the
// directory).
#pragma once

#include "plugins/stage/pc2/options.hpp"
#include "plugins/stage/pc2/pc2_record.hpp"
#include "proofs/pc2/poseidon_engine.hpp"

#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace sealhost::stage_pc2 {

class Pc2Stage {
 public:
  static constexpr const char* kId = "sealhost.stage.pc2";
  static constexpr const char* kStage = "pc2";

  // Resolves the compute component through the host (sdk::find_compute) unless `compute` is
  // "builtin". Throws sdk::Error: the host's NOT_FOUND for an unknown component,
  // FAILED_PRECONDITION for a host older than ABI 1.1.
  explicit Pc2Stage(const sdk::Context& ctx);
  // With an explicit engine (tests, embedding). `engine` must not be null.
  Pc2Stage(const Pc2Options& options, sdk::Logger log,
           std::unique_ptr<proofs::pc2::PoseidonEngine> engine);

  // The stage hook: an input record in, an output record out (docs/stages.md#pc2). Throws
  // sdk::Error: INVALID_ARGUMENT (malformed record, unknown proof, sizes), NOT_FOUND (missing
  // layer/unsealed files or cache dir), DATA_LOSS (corrupt layers or data, layers of another
  // replica, tree_d root != comm_d), FAILED_PRECONDITION (cache dir busy), UNAVAILABLE (compute
  // backend failed), IO, CANCELLED.
  std::string run(std::string_view input_json, const sdk::Job& job);
  Pc2Output precommit2(const Pc2Input& in, const sdk::Job& job);

  const Pc2Options& options() const { return opts_; }
  const proofs::pc2::PoseidonEngine& engine() const { return *engine_; }

 private:
  Pc2Options opts_;
  sdk::Logger log_;
  std::unique_ptr<proofs::pc2::PoseidonEngine> engine_;
};

}  // namespace sealhost::stage_pc2
