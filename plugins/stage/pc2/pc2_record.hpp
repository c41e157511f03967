// The versioned JSON records of the pc2 stage (docs/stages.md#pc2): parsing the input, formatting
// the output, and parsing the output back (for the host and tests). Pure functions; thread-safe.
#pragma once

#include "plugins/stage/common/record.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::stage_pc2 {

inline constexpr int kRecordVersion = stage::kRecordVersion;

using Bytes32 = std::array<uint8_t, 32>;

using SectorId = stage::SectorId;

struct Pc2Input {
  SectorId sector;
  std::string proof;  // registered seal proof name or alias ("StackedDrg32GiBV1_1", "2KiB-v1.1")
  std::string cache_dir;
  std::string unsealed_path;
  std::string sealed_path;
  Bytes32 comm_d{};
  std::optional<Bytes32> replica_id;
};

struct Pc2Output {
  Bytes32 comm_c{};
  Bytes32 comm_r_last{};
  Bytes32 comm_r{};
  Bytes32 comm_d{};
  std::string sealed_cid;
  std::string sealed_path;
  std::vector<std::string> tree_c_paths;
  std::vector<std::string> tree_r_last_paths;
  std::string p_aux_path;
  std::string t_aux_path;
  std::string compute;  // the engine that did the Poseidon work
};

// Lower-case hex of 32 bytes, and its strict inverse (64 hex digits; nullopt otherwise).
std::string to_hex(const Bytes32& b);
std::optional<Bytes32> from_hex(std::string_view hex);

// Checks version, types and required keys and rejects unknown keys. Throws
// sdk::Error(INVALID_ARGUMENT) naming the key.
Pc2Input parse_input(std::string_view json);
std::string format_input(const Pc2Input& in);

std::string format_output(const Pc2Output& out);
// Throws sdk::Error(INVALID_ARGUMENT) for a malformed record.
Pc2Output parse_output(std::string_view json);

}  // namespace sealhost::stage_pc2
