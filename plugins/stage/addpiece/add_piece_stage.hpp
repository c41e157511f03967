// sealhost.stage.addpiece: appends one piece to a sector's unsealed file the way Lotus does,
// preceded by the zero padding pieces that align it, and reports their piece CIDs.
//
// The unsealed file is the fr32-padded sector data written so far: the pieces of `existing_pieces`
// back to back, each starting at a multiple of its own padded size. A data piece streams its
// payload through fr32 padding into the file and into a multi-threaded commP hasher in one pass
// (memory: `chunk` plus a buffer of max(`chunk`, threads x 8 MiB)). Zero regions (padding pieces,
// zero pieces, the zero tail of a data piece) are allocated with fallocate instead of written.
//
// Failure atomicity: everything is appended past the old end of file, synced, and only then
// reported. On any error or cancel the file is cut back to its old size (removed if this call
// created it), so the file never holds bytes that no reported piece accounts for. A crash
// mid-append can leave such bytes; the next call sees the size mismatch and fails with DATA_LOSS.
//
// Thread-safety: run() may be called concurrently for different sectors; calls on one unsealed
// file are serialised by an advisory lock (the second fails with FAILED_PRECONDITION).
#pragma once

#include "plugins/stage/addpiece/add_piece_record.hpp"
#include "plugins/stage/addpiece/options.hpp"

#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::stage_addpiece {

// Padded sizes of the zero pieces that move the write position from `used` to the next multiple
// of `piece_size` (both powers of two >= 128 bytes; `used` a multiple of 128), smallest first,
// as Lotus's GetRequiredPadding and the FVM's sector layout place them.
std::vector<uint64_t> padding_before(uint64_t used, uint64_t piece_size);

// "8 MiB", "2 KiB", "1000 bytes", "8323072 bytes (7.9 MiB)": sizes as error messages show them.
std::string size_text(uint64_t bytes);

class AddPieceStage {
 public:
  static constexpr const char* kId = "sealhost.stage.addpiece";
  static constexpr const char* kStage = "addpiece";

  explicit AddPieceStage(const sdk::Context& ctx);
  AddPieceStage(const AddPieceOptions& options, sdk::Logger log);

  // The stage hook: an input record in, an output record out (docs/stages.md#addpiece). Throws
  // sdk::Error: INVALID_ARGUMENT (malformed record, bad sizes, CID mismatch), FAILED_PRECONDITION
  // (piece does not fit, payload changed while read, file locked), NOT_FOUND, PERMISSION,
  // RESOURCE_EXHAUSTED (disk full), DATA_LOSS (file size disagrees with the pieces), CANCELLED,
  // IO.
  std::string run(std::string_view input_json, const sdk::Job& job);

  // The same on parsed records.
  AddPieceOutput add_piece(const AddPieceInput& in, const sdk::Job& job);

  const AddPieceOptions& options() const { return opts_; }

 private:
  AddPieceOptions opts_;
  sdk::Logger log_;
};

}  // namespace sealhost::stage_addpiece
