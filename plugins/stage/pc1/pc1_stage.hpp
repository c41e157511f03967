// sealhost.stage.pc1: SDR PreCommit1 for one sector or a batch of sectors sharing a proof type.
//
// For each sector: checks the unsealed file (exact sector size), builds TreeD
// (sc-02-data-tree-d.dat, written under a temporary name and renamed, so a complete file found by a
// later run is reused), checks CommD against the expected unsealed CID when one is given, derives
// replica_id = H(prover_id, sector number, ticket, CommD, porep_id), then labels all layers
// (sc-02-data-layer-<l>.dat) through proofs/sdr: one pass over the memory-mapped parent cache for
// the whole batch, interleaved SHA-NI streams, resume after the last complete layer when a previous
// run died, partial layer removed on cancel.
//
// Thread-safety: run() may be called concurrently for different sectors; parent caches are opened
// once per process and shared, and so are the layer buffers kept between calls
// (keep_layer_buffers; unmapped by a reaper thread after layer_buffer_idle_seconds without a call).
// Two calls on one cache dir at once are a caller bug (the second finds the first's temporary
// files; nothing is corrupted, one of them fails).
#pragma once

#include "plugins/stage/common/record.hpp"
#include "plugins/stage/pc1/options.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sdr/parent_cache.hpp"
#include "proofs/sdr/seal_proof.hpp"

#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sealhost::stage_pc1 {

using proofs::sdr::Bytes32;

struct Pc1SectorInput {
  stage::SectorId sector;
  std::string proof;  // name or alias; empty = the V1_1 proof of sector.size
  Bytes32 ticket{};
  std::string unsealed_path;
  std::string cache_dir;
  std::optional<std::string> unsealed_cid;  // CommD the unsealed file must have
  std::optional<Bytes32> prover_id;         // default: from sector.miner (f0 actor id)
};

struct Pc1Input {
  bool batch = false;  // the record used "sectors": [...]
  std::vector<Pc1SectorInput> sectors;
};

struct Pc1SectorOutput {
  stage::SectorId sector;
  std::string proof;
  Bytes32 comm_d{};
  std::string unsealed_cid;
  Bytes32 replica_id{};
  Bytes32 prover_id{};
  Bytes32 ticket{};
  std::string cache_dir;
  std::string tree_d;
  std::vector<std::string> layers;
  uint32_t layers_resumed = 0;
  bool tree_d_resumed = false;
  std::string parent_cache;
  double seconds = 0;
};

struct Pc1Output {
  bool batch = false;
  std::vector<Pc1SectorOutput> sectors;
};

// Records (docs/stages.md#pc1). Throw sdk::Error(INVALID_ARGUMENT) naming the key.
Pc1Input parse_input(std::string_view json);
std::string format_input(const Pc1Input& in);
std::string format_output(const Pc1Output& out);
Pc1Output parse_output(std::string_view json);

class Pc1Stage {
 public:
  static constexpr const char* kId = "sealhost.stage.pc1";
  static constexpr const char* kStage = "pc1";

  explicit Pc1Stage(const sdk::Context& ctx);
  Pc1Stage(const Pc1Options& options, sdk::Logger log);
  ~Pc1Stage();
  Pc1Stage(const Pc1Stage&) = delete;
  Pc1Stage& operator=(const Pc1Stage&) = delete;

  // Throws sdk::Error: INVALID_ARGUMENT (record, proof/size mismatch, batch rules), NOT_FOUND
  // (unsealed file), FAILED_PRECONDITION (unsealed file of the wrong size, CommD mismatch),
  // RESOURCE_EXHAUSTED (free space), CANCELLED, IO.
  std::string run(std::string_view input_json, const sdk::Job& job);
  Pc1Output seal(const Pc1Input& in, const sdk::Job& job);

  const Pc1Options& options() const { return opts_; }
  // Bytes of layer buffers kept for the next call (0 with keep_layer_buffers = false).
  uint64_t kept_layer_bytes() const { return pool_ ? pool_->held_bytes() : 0; }
  // Blocks until the reservation of reserve_layer_buffers is done (at once without one).
  void wait_for_reservation();
  // The statistics of the last labelling run (layer buffers reused / mapped, CPU times).
  proofs::sdr::Pc1Stats last_run_stats() const;

 private:
  const proofs::sdr::ParentCache& parent_cache(const proofs::sdr::SealProof& proof);
  // Unmaps the kept layer buffers once no call has run for layer_buffer_idle_seconds.
  void reap_idle_buffers();
  // reserve_layer_buffers: checks the option and starts the reserving thread.
  void start_reservation();
  // Ends the reservation (a call is about to label): what is mapped stays in the pool.
  void stop_reservation();

  Pc1Options opts_;
  sdk::Logger log_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<proofs::sdr::ParentCache>> caches_;

  std::unique_ptr<proofs::sdr::LayerBufferPool> pool_;  // keep_layer_buffers
  mutable std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  unsigned active_runs_ = 0;
  std::chrono::steady_clock::time_point last_run_end_;
  bool stopping_ = false;
  std::thread reaper_;
  proofs::sdr::Pc1Stats last_stats_;  // guarded by pool_mu_

  std::mutex reserve_mu_;  // joins of reserver_
  std::atomic<bool> reserve_stop_{false};
  std::thread reserver_;
};

}  // namespace sealhost::stage_pc1
