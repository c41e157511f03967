// sealhost.stage.c2-vanilla: Commit2 for the embedded devnet. It produces no SNARK: it checks the
// C1 vanilla proofs (re-deriving every challenge from the public inputs and verifying every
// inclusion path, label and encoding against comm_d / comm_r) and wraps them in a self-verifying
// bundle. MAINNET DOES NOT ACCEPT IT — the bundle says so in its first field — use
// sealhost.stage.c2-external with a Groth16 prover for real networks.
//
// Bundle (JSON, written beside the C1 output as <phase1 output>.vanilla-bundle.json):
//   {"kind":"sealhost-vanilla-porep","version":1,
//    "warning":"vanilla proofs, not a SNARK: accepted by the sealhost devnet only, never by
//    mainnet",
//    "sector":{"miner","number","size"},"registered_proof":"...","comm_d":"<hex>","comm_r":"<hex>",
//    "seed":"<hex>","phase1_output":<the SealCommitPhase1Output JSON object>}
//
// Thread-safety: run() may be called concurrently for different sectors.
#pragma once

#include "plugins/stage/common/record.hpp"

#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sealhost::stage_c2_vanilla {

struct Input {
  stage::SectorId sector;
  std::string phase1_output_path;
};

struct Output {
  stage::SectorId sector;
  std::string registered_proof;
  std::string bundle_path;
  std::string bundle_sha256;
  uint64_t challenges = 0;
  uint64_t partitions = 0;
  std::array<uint8_t, 32> comm_d{};
  std::array<uint8_t, 32> comm_r{};
  double seconds = 0;
};

Input parse_input(std::string_view json);
std::string format_input(const Input& in);
std::string format_output(const Output& out);
Output parse_output(std::string_view json);

// What a verifier (the devnet chain, tests) learns from a bundle.
struct BundleVerdict {
  bool valid = false;
  std::string reason;
  std::string registered_proof;
  stage::SectorId sector;
  std::array<uint8_t, 32> comm_d{};
  std::array<uint8_t, 32> comm_r{};
};
// Re-verifies a bundle file from scratch: structure, the embedded C1 output's public inputs
// against the bundle's, and every vanilla proof. Never throws for bad content (valid = false).
BundleVerdict verify_bundle(const std::string& path);

class C2VanillaStage {
 public:
  static constexpr const char* kId = "sealhost.stage.c2-vanilla";
  static constexpr const char* kStage = "c2";

  explicit C2VanillaStage(const sdk::Context& ctx) : log_(ctx.log) {}
  explicit C2VanillaStage(sdk::Logger log) : log_(std::move(log)) {}

  // Throws sdk::Error: INVALID_ARGUMENT (record, C1 output of another sector size), NOT_FOUND,
  // DATA_LOSS (the vanilla proofs do not verify), CANCELLED, IO.
  std::string run(std::string_view input_json, const sdk::Job& job);
  Output prove(const Input& in, const sdk::Job& job);

 private:
  sdk::Logger log_;
};

}  // namespace sealhost::stage_c2_vanilla
