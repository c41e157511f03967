// Options of sealhost.stage.finalize: the table the host validates the TOML against, and the typed
// struct the component reads it into.
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/options.hpp>

#include <string>

namespace sealhost::stage_finalize {

inline constexpr sealhost_option_desc kOptions[] = {
    sdk::opt_string("storage", "\"sealhost.storage.local\"",
                    "storage component holding the sector's files; asked for through the host "
                    "only when an input names move_to"),
    sdk::opt_bool("require_t_aux", "true",
                  "refuse to finalize a cache dir without t_aux; turn off only for sectors "
                  "sealed by a prover built with fixed-rows-to-discard, which writes no t_aux"),
};

struct FinalizeOptions {
  std::string storage = "sealhost.storage.local";
  bool require_t_aux = true;

  static FinalizeOptions parse(const sdk::Options& o) {
    return {o.get_string("storage"), o.get_bool("require_t_aux")};
  }
};

}  // namespace sealhost::stage_finalize
