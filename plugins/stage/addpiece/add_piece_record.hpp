// The versioned JSON records of the addpiece stage (docs/stages.md#addpiece): parsing the input,
// formatting the output, and parsing the output back (for the host and tests). Pure functions;
// thread-safe.
#pragma once

#include "plugins/stage/common/record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::stage_addpiece {

inline constexpr int kRecordVersion = stage::kRecordVersion;

using SectorId = stage::SectorId;  // size: the sector size in bytes (padded)

// A piece already in the unsealed file. `size` is padded.
struct ExistingPiece {
  uint64_t size = 0;
  std::string cid;
};

// The piece to append: a payload file (fr32-padded on the way in) or a zero piece.
struct NewPiece {
  bool zero = false;
  std::string path;  // data piece: the payload file
  // Padded piece size. Zero piece: required. Data piece: optional (0 = the smallest piece that
  // holds the payload); a deal may ask for a larger piece, the payload then being zero-extended.
  uint64_t size = 0;
  // Data piece: the piece CID the payload must hash to (the deal's), checked before success.
  std::optional<std::string> cid;
};

struct AddPieceInput {
  SectorId sector;
  std::string unsealed_path;
  std::vector<ExistingPiece> existing_pieces;
  NewPiece piece;
};

struct OutputPiece {
  uint64_t size = 0;  // padded
  std::string cid;
  bool padding = false;
};

struct AddPieceOutput {
  std::vector<OutputPiece> pieces;  // padding pieces in file order, then the new piece
  uint64_t payload_size = 0;        // payload bytes read (zero piece: its unpadded size)
  uint64_t unsealed_size = 0;       // unsealed file size after the append
};

// Parses and checks the shape of an input record: version, types, required keys; unknown keys
// are rejected so a typo cannot silently change what is written. Size rules that need the sector
// and the payload are checked by the stage. Throws sdk::Error(INVALID_ARGUMENT) naming the key.
AddPieceInput parse_input(std::string_view json);
// The record parse_input reads (for the host building a request, and tests).
std::string format_input(const AddPieceInput& in);

std::string format_output(const AddPieceOutput& out);
// Throws sdk::Error(INVALID_ARGUMENT) for a malformed record.
AddPieceOutput parse_output(std::string_view json);

}  // namespace sealhost::stage_addpiece
