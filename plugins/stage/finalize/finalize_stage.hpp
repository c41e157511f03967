// sealhost.stage.finalize: turns a sealed sector's cache directory into its long-term form.
//
// 1. Finds the sector's files: at the paths of the input, or (when the input names move_to and an
//    earlier run already moved some of them) where the storage component reports them.
// 2. Verifies everything Window/Winning PoSt needs BEFORE deleting anything: the sealed replica is
//    exactly the sector size, every tree-r-last file of the sector's shape is present with a size a
//    level-cache store of that tree can have, p_aux is 64 bytes, t_aux is present (option). Any
//    failure deletes nothing.
// 3. Deletes what only sealing needed: sc-02-data-layer-*, sc-02-data-tree-c*, sc-02-data-tree-d*
//    (with the .tmp leftovers of interrupted writers) and syn-porep-vanilla-proofs.dat from the
//    cache dir, and the unsealed copy unless keep_unsealed.
// 4. With move_to: moves the sealed file, the cache dir (and the kept unsealed file) to that
//    storage path through the storage component's move, with progress and cancel.
//
// Idempotent: a second run finds nothing to delete, and files already on move_to are not moved.
// Thread-safety: run() may be called concurrently for different sectors.
#pragma once

#include "plugins/stage/common/record.hpp"
#include "plugins/stage/finalize/options.hpp"

#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/storage_ref.hpp>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::stage_finalize {

struct FinalizeInput {
  stage::SectorId sector;
  std::string cache_dir;
  std::string sealed_path;
  std::optional<std::string> unsealed_path;
  bool keep_unsealed = false;
  std::optional<std::string> move_to;  // storage path id
};

struct FinalizeOutput {
  stage::SectorId sector;
  std::string sealed_path;                   // where the sealed replica now is
  std::string cache_dir;                     // where the cache dir now is
  std::optional<std::string> unsealed_path;  // the kept unsealed copy, when there is one
  std::optional<std::string> path_id;        // the storage path holding the sector (move_to)
  bool moved = false;                        // this run moved files
  std::vector<std::string> kept;             // files PoSt needs, at their final location
  std::vector<std::string> removed;          // files deleted by this run
  uint64_t bytes_freed = 0;                  // apparent size of the removed files
  uint64_t bytes_moved = 0;                  // size of the files this run moved
  double seconds = 0;
};

// Records (docs/stages.md#finalize). Throw sdk::Error(INVALID_ARGUMENT) naming the key.
FinalizeInput parse_input(std::string_view json);
std::string format_input(const FinalizeInput& in);
std::string format_output(const FinalizeOutput& out);
FinalizeOutput parse_output(std::string_view json);

// Resolves the storage component by id (through the host's get_component in the plugin).
using StorageResolver = std::function<sdk::StorageRef(const std::string& id)>;

class FinalizeStage {
 public:
  static constexpr const char* kId = "sealhost.stage.finalize";
  static constexpr const char* kStage = "finalize";

  explicit FinalizeStage(const sdk::Context& ctx);
  FinalizeStage(const FinalizeOptions& options, sdk::Logger log, StorageResolver storage);

  // Throws sdk::Error: INVALID_ARGUMENT (record, sector size), NOT_FOUND (sealed file, cache dir,
  // storage path), FAILED_PRECONDITION (a PoSt file missing or of an impossible size, files the
  // storage component does not hold), CANCELLED (before deleting, or during the move), IO, and the
  // storage component's own errors.
  std::string run(std::string_view input_json, const sdk::Job& job);
  FinalizeOutput finalize(const FinalizeInput& in, const sdk::Job& job);

  const FinalizeOptions& options() const { return opts_; }

 private:
  sdk::StorageRef storage();

  FinalizeOptions opts_;
  sdk::Logger log_;
  StorageResolver resolve_;
  std::mutex mu_;
  std::optional<sdk::StorageRef> storage_;
};

// The file names of the sector's tree-r-last store (one, or one per base tree).
std::vector<std::string> tree_r_last_names(uint64_t sector_size);
// Sizes in bytes a tree-r-last base-tree file of this sector size may have (one per possible
// rows_to_discard).
std::vector<uint64_t> tree_r_last_sizes(uint64_t sector_size);
// True for cache-dir files that only sealing needs (deleted by finalize).
bool is_sealing_only_file(std::string_view name);

}  // namespace sealhost::stage_finalize
