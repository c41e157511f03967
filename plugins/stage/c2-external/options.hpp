// Options of sealhost.stage.c2-external: the table the host validates the TOML against, and the
// typed struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sealhost::stage_c2 {

inline constexpr const char* kProofFormats[] = {"auto", "lotus-bench", "hex", "base64", "raw"};

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_list("command", "[]",
                  "prover argv; {input} is replaced by the commit2 input file (appended when no "
                  "argument names it), {output} by a file the prover writes the proof to (else "
                  "the proof is read from stdout), {sector}, {miner}, {size} by the sector's "
                  "number, actor id and size; set this or url"),
    sdk::opt_string("url", "\"\"",
                    "http://host[:port]/path receiving the commit2 input JSON by POST and "
                    "answering with the proof; set this or command"),
    sdk::opt_duration("timeout", "\"2h\"", 10, 7LL * 24 * 3600 * 1000,
                      "longest a proof may take; the prover's process group is killed (or the "
                      "request abandoned) after it"),
    sdk::opt_enum("proof_format", "\"auto\"", kProofFormats,
                  "how the prover returns the proof: lotus-bench (a line \"proof: <hex>\"), hex, "
                  "base64, raw bytes, or auto (a \"proof:\" line, else hex, else raw)"),
    sdk::opt_path("work_dir", "\"\"",
                  "where the per-call commit2 input file is written (removed afterwards); empty: "
                  "the system temp dir"),
    sdk::opt_bool("check_proof_size", "true",
                  "refuse a proof that is not 192 bytes per PoRep partition of the sector size "
                  "(1920 for 32/64GiB, 192 otherwise)"),
};

struct C2Options {
  std::vector<std::string> command;
  std::string url;
  std::chrono::milliseconds timeout{2 * 3600 * 1000};
  std::string proof_format = "auto";
  std::string work_dir;
  bool check_proof_size = true;

  static C2Options parse(const sdk::Options& o) {
    return {o.get_list("command"),        o.get_string("url"),      o.get_duration("timeout"),
            o.get_string("proof_format"), o.get_string("work_dir"), o.get_bool("check_proof_size")};
  }
};

}  // namespace sealhost::stage_c2
