// sealhost.stage.c2-external: hands Commit2 (the Groth16 SNARK over the C1 vanilla proofs, which
// sealhost does not implement) to an external prover, and only transports: it writes the commit2
// input exactly as lotus-bench reads it ({"SectorNum":n,"Phase1Out":"<base64 C1 output>",
// "SectorSize":bytes}), runs the configured command or POSTs it to the configured URL under a
// timeout, and returns the proof bytes the prover produced (checked for size, never verified —
// the chain or a verifier does that).
//
// Thread-safety: run() may be called concurrently; every call has its own work directory,
// process group or connection.
#pragma once

#include "plugins/stage/c2-external/options.hpp"
#include "plugins/stage/common/record.hpp"

#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::stage_c2 {

inline constexpr size_t kGroth16ProofBytes = 192;

struct C2Input {
  stage::SectorId sector;
  std::string phase1_output_path;  // the C1 output (rust-fil-proofs SealCommitPhase1Output JSON)
};

struct C2Output {
  stage::SectorId sector;
  std::vector<uint8_t> proof;
  std::string prover;         // "command" or "url"
  uint64_t input_bytes = 0;   // size of the commit2 input document sent
  double prover_seconds = 0;  // the external prover alone
  double seconds = 0;         // the whole call
};

// Records (docs/stages.md#c2). Throw sdk::Error(INVALID_ARGUMENT) naming the key.
C2Input parse_input(std::string_view json);
std::string format_input(const C2Input& in);
std::string format_output(const C2Output& out);  // "proof" as lower-case hex
C2Output parse_output(std::string_view json);

// The lotus-bench Commit2In document, byte for byte as Go's encoding/json writes it.
std::string commit2_input_json(uint64_t sector_number, std::span<const uint8_t> phase1_out,
                               uint64_t sector_size);
std::string base64_encode(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);
std::optional<std::vector<uint8_t>> hex_decode(std::string_view text);

// Extracts the proof from a prover's output in `format` (see options.hpp). Throws
// sdk::Error(FAILED_PRECONDITION) naming `source` when the output holds no proof.
std::vector<uint8_t> parse_proof(std::string_view output, std::string_view format,
                                 const std::string& source);
// 192 bytes per PoRep partition: 1920 for 32GiB/64GiB, 192 for the other sizes.
size_t expected_proof_bytes(uint64_t sector_size);

class C2ExternalStage {
 public:
  static constexpr const char* kId = "sealhost.stage.c2-external";
  static constexpr const char* kStage = "c2";

  explicit C2ExternalStage(const sdk::Context& ctx);
  C2ExternalStage(C2Options options, sdk::Logger log);

  // Throws sdk::Error: INVALID_ARGUMENT (record), NOT_FOUND (C1 output file),
  // FAILED_PRECONDITION (C1 output not JSON or of another sector size; prover not found or not
  // executable; HTTP 4xx; no/empty/wrong-sized proof), UNAVAILABLE (non-zero exit, killed,
  // timeout, HTTP 5xx/429 or connection errors: retry later), CANCELLED, IO.
  std::string run(std::string_view input_json, const sdk::Job& job);
  C2Output prove(const C2Input& in, const sdk::Job& job);

  const C2Options& options() const { return opts_; }

 private:
  std::vector<uint8_t> by_command(const C2Input& in, const std::string& doc, const sdk::Job& job,
                                  double& secs);
  std::vector<uint8_t> by_url(const C2Input& in, const std::string& doc, const sdk::Job& job,
                              double& secs);

  C2Options opts_;
  sdk::Logger log_;
};

}  // namespace sealhost::stage_c2
