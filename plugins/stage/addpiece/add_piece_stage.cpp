#include "plugins/stage/addpiece/add_piece_stage.hpp"

#include "plugins/stage/addpiece/unsealed_file.hpp"
#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/fr32/fr32.hpp"
#include "proofs/sha256/sha256.hpp"

#include <sealhost/sdk/error.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace sealhost::stage_addpiece {
namespace {

namespace commp = proofs::commp;
namespace cid = proofs::cid;
namespace fr32 = proofs::fr32;

// The sector sizes Filecoin proofs support (2 KiB and 8/512 MiB for test networks).
constexpr uint64_t kSectorSizes[] = {uint64_t{2} << 10, uint64_t{8} << 20, uint64_t{512} << 20,
                                     uint64_t{32} << 30, uint64_t{64} << 30};
// commP hashes 1 MiB (padded) segments in parallel: more threads than segments only idle.
constexpr uint64_t kHashSegmentBytes = uint64_t{1} << 20;

bool valid_piece_size(uint64_t s) {
  return s >= commp::kMinPaddedPieceBytes && std::has_single_bit(s);
}

std::string sector_name(const SectorId& s) {
  return "sector " + std::to_string(s.number);
}

void check_sector(const SectorId& s) {
  if (std::find(std::begin(kSectorSizes), std::end(kSectorSizes), s.size) ==
      std::end(kSectorSizes)) {
    throw sdk::invalid_argument(sector_name(s) + ": size " + std::to_string(s.size) +
                                " is not a Filecoin sector size (use 2048, 8388608, 536870912, "
                                "34359738368 or 68719476736)");
  }
}

// Checks the recorded pieces and returns the bytes they occupy (the expected file size).
uint64_t existing_bytes(const AddPieceInput& in) {
  uint64_t used = 0;
  for (size_t i = 0; i < in.existing_pieces.size(); ++i) {
    const auto& p = in.existing_pieces[i];
    const std::string name = sector_name(in.sector) + ": existing piece " + std::to_string(i);
    if (!valid_piece_size(p.size)) {
      throw sdk::invalid_argument(name + ": padded size " + std::to_string(p.size) +
                                  " is not a power of two >= 128 (give padded piece sizes)");
    }
    if (used % p.size != 0) {
      throw sdk::invalid_argument(
          name + " (" + size_text(p.size) + ") would start at byte " + std::to_string(used) +
          ", not a multiple of its size (list every piece of the file, padding pieces too, in "
          "file order)");
    }
    if (p.size > in.sector.size - used) {
      throw sdk::invalid_argument(name + ": the pieces need more than the sector's " +
                                  size_text(in.sector.size) + " (the piece list is wrong)");
    }
    try {
      (void)cid::parse_piece_cid_v1(p.cid);
    } catch (const cid::CidError& e) {
      throw sdk::invalid_argument(name + ": " + e.what());
    }
    used += p.size;
  }
  return used;
}

// Padded size of the new piece; `payload` is the payload file's size for a data piece.
uint64_t new_piece_size(const AddPieceInput& in, std::optional<uint64_t> payload) {
  const auto& p = in.piece;
  const std::string sector = sector_name(in.sector) + " (" + size_text(in.sector.size) + ")";
  if (p.zero) {
    if (!valid_piece_size(p.size) || p.size > in.sector.size) {
      throw sdk::invalid_argument("zero piece of " + std::to_string(p.size) +
                                  " bytes: the padded size must be a power of two from 128 bytes "
                                  "up to the size of " +
                                  sector);
    }
    return p.size;
  }
  const uint64_t n = *payload;
  if (n < commp::kMinPayloadBytes) {
    throw sdk::invalid_argument("payload " + p.path + ": " + std::to_string(n) +
                                " bytes is below the minimum piece payload of " +
                                std::to_string(commp::kMinPayloadBytes) +
                                " bytes (pad the data or aggregate it with other data)");
  }
  const uint64_t needed = commp::padded_piece_size(n);
  if (needed > in.sector.size) {
    throw sdk::invalid_argument("payload " + p.path + ": " + size_text(n) + " needs a piece of " +
                                size_text(needed) + " padded, larger than " + sector +
                                " (use a larger sector or split the data)");
  }
  if (p.size == 0) return needed;
  if (!valid_piece_size(p.size) || p.size < needed || p.size > in.sector.size) {
    throw sdk::invalid_argument("payload " + p.path + ": piece size " + std::to_string(p.size) +
                                " must be a power of two from " + size_text(needed) +
                                " (the smallest piece holding " + size_text(n) +
                                ") up to the size of " + sector);
  }
  return p.size;
}

std::optional<cid::Commitment> expected_commitment(const NewPiece& p) {
  if (!p.cid) return std::nullopt;
  try {
    return cid::parse_piece_cid_v1(*p.cid);
  } catch (const cid::CidError& e) {
    throw sdk::invalid_argument("payload " + p.path + ": expected piece CID: " + e.what());
  }
}

// The commitment of a piece whose first `from` padded bytes have commitment `c`, zero-extended to
// `to` bytes: the data subtree is the leftmost one, every sibling on the way up is all zeros.
commp::Node extend_with_zero_subtrees(commp::Node c, uint64_t from, uint64_t to) {
  for (unsigned level = commp::tree_level(from); level < commp::tree_level(to); ++level) {
    proofs::sha256::sha254_node(c.data(), commp::zero_commitment(level).data(), c.data());
  }
  return c;
}

// Writes the appended region of one call, tracking the write position and the progress.
class Appender {
 public:
  Appender(UnsealedFile& file, const sdk::Job& job, uint64_t start, uint64_t end)
      : file_(file), job_(job), start_(start), pos_(start), end_(end) {}

  uint64_t position() const { return pos_; }
  bool sparse() const { return sparse_; }

  void zeros(uint64_t to, const char* phase) {
    check_cancel();
    if (!file_.extend_with_zeros(pos_, to)) sparse_ = true;
    pos_ = to;
    report(phase);
  }

  void write(std::span<const uint8_t> padded) {
    file_.write_at(padded, pos_);
    pos_ += padded.size();
    report("piece");
  }

  void check_cancel() const { job_.check_cancel("addpiece of " + file_.path().string()); }

 private:
  void report(const char* phase) const { job_.progress(pos_ - start_, end_ - start_, phase); }

  UnsealedFile& file_;
  const sdk::Job& job_;
  uint64_t start_;
  uint64_t pos_;
  uint64_t end_;
  bool sparse_ = false;
};

// Streams the payload through fr32 padding into the file and the hasher; returns the commitment
// of the data alone (its smallest piece). Padded steps of `chunk` bytes fill a buffer of whole
// hasher batches, which the hasher then takes without copying.
commp::CommpResult stream_payload(PayloadFile& payload, Appender& out, unsigned threads,
                                  uint64_t chunk) {
  constexpr uint64_t kQuadIn = fr32::kQuadUnpaddedBytes;
  constexpr uint64_t kQuadOut = fr32::kQuadPaddedBytes;
  const uint64_t padded_total = (payload.size() + kQuadIn - 1) / kQuadIn * kQuadOut;
  const unsigned useful_threads = static_cast<unsigned>(
      std::max<uint64_t>(1, (padded_total + kHashSegmentBytes - 1) / kHashSegmentBytes));
  commp::CommpHasher hasher(std::min(threads, useful_threads), commp::InputKind::kPadded);

  const uint64_t step_padded = chunk - chunk % kQuadOut;
  const uint64_t batch = hasher.batch_bytes();
  const uint64_t buffer_bytes =
      std::min(padded_total, std::max(batch, step_padded - step_padded % batch));
  std::vector<uint8_t> padded(static_cast<size_t>(buffer_bytes));
  std::vector<uint8_t> in(
      static_cast<size_t>(std::min(step_padded / kQuadOut * kQuadIn, payload.size() + kQuadIn)));
  size_t fill = 0;
  uint64_t left = payload.size();
  while (left > 0) {
    out.check_cancel();
    const uint64_t room_quads = std::min<uint64_t>(step_padded, padded.size() - fill) / kQuadOut;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(left, room_quads * kQuadIn));
    payload.read_exact({in.data(), take});
    size_t quads = take / kQuadIn;
    if (const size_t tail = take % kQuadIn; tail != 0) {
      // Only the last read can end mid-quad: the payload is zero-extended to the piece, so the
      // partial quad is padded as if followed by zeros.
      std::memset(in.data() + take, 0, kQuadIn - tail);
      ++quads;
    }
    fr32::pad_quads(in.data(), padded.data() + fill, quads);
    out.write({padded.data() + fill, quads * kQuadOut});
    fill += quads * kQuadOut;
    left -= take;
    if (fill == padded.size() || left == 0) {
      hasher.update({padded.data(), fill});
      fill = 0;
    }
  }
  payload.expect_end();
  return hasher.finish();
}

// Opens the unsealed file, creating it for a sector's first piece. A file that vanished while
// pieces are recorded for it is lost data, not a missing argument.
UnsealedFile open_unsealed(const AddPieceInput& in, uint64_t used) {
  try {
    return {in.unsealed_path, /*may_create=*/in.existing_pieces.empty()};
  } catch (const sdk::Error& e) {
    if (e.code() != SEALHOST_E_NOT_FOUND || in.existing_pieces.empty()) throw;
    throw sdk::data_loss("unsealed file " + in.unsealed_path + ": missing, pieces say " +
                         size_text(used) + " (quarantine " + sector_name(in.sector) +
                         "; its data must be added again)");
  }
}

}  // namespace

std::vector<uint64_t> padding_before(uint64_t used, uint64_t piece_size) {
  std::vector<uint64_t> out;
  uint64_t to_fill = (0 - used) & (piece_size - 1);
  while (to_fill != 0) {
    const uint64_t pad = to_fill & (0 - to_fill);  // lowest set bit
    out.push_back(pad);
    to_fill ^= pad;
  }
  return out;
}

std::string size_text(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  int exact = -1;
  for (int u = 0; u < 6 && bytes % (uint64_t{1024} << (10 * u)) == 0; ++u) exact = u;
  int largest = 0;
  while (largest < 5 && bytes >= (uint64_t{1024} << (10 * (largest + 1)))) ++largest;
  if (exact == largest) {
    return std::to_string(bytes >> (10 * (exact + 1))) + " " + kUnits[exact];
  }
  char approx[32];
  std::snprintf(approx, sizeof approx, "%.1f %s",
                static_cast<double>(bytes) / static_cast<double>(uint64_t{1024} << (10 * largest)),
                kUnits[largest]);
  return std::to_string(bytes) + " bytes (" + approx + ")";
}

AddPieceStage::AddPieceStage(const sdk::Context& ctx)
    : AddPieceStage(AddPieceOptions::parse(ctx.options), ctx.log) {}

AddPieceStage::AddPieceStage(const AddPieceOptions& options, sdk::Logger log)
    : opts_(options), log_(std::move(log)) {
  if (opts_.threads == 0) opts_.threads = std::max(1u, std::thread::hardware_concurrency());
  if (opts_.chunk < fr32::kQuadPaddedBytes) {
    throw sdk::invalid_argument("option chunk: " + std::to_string(opts_.chunk) +
                                " bytes is below one 128-byte fr32 quad (use at least 64KiB)");
  }
}

std::string AddPieceStage::run(std::string_view input_json, const sdk::Job& job) {
  return format_output(add_piece(parse_input(input_json), job));
}

AddPieceOutput AddPieceStage::add_piece(const AddPieceInput& in, const sdk::Job& job) {
  const auto t0 = std::chrono::steady_clock::now();
  check_sector(in.sector);
  const uint64_t used = existing_bytes(in);

  std::optional<PayloadFile> payload;
  if (!in.piece.zero) payload.emplace(in.piece.path);
  const std::optional<cid::Commitment> expected = expected_commitment(in.piece);
  const uint64_t piece_size =
      new_piece_size(in, payload ? std::optional(payload->size()) : std::nullopt);
  const uint64_t offset = (used + piece_size - 1) & ~(piece_size - 1);
  if (offset + piece_size > in.sector.size) {
    std::string why = size_text(used) + " already used";
    if (offset != used) why += ", and the piece would start at " + size_text(offset);
    throw sdk::failed_precondition("piece of " + size_text(piece_size) + " padded does not fit " +
                                   sector_name(in.sector) + " (" + size_text(in.sector.size) +
                                   "): " + why + " (add it to another sector)");
  }
  const uint64_t end = offset + piece_size;

  UnsealedFile file = open_unsealed(in, used);
  if (payload && payload->device() == file.device() && payload->inode() == file.inode()) {
    throw sdk::invalid_argument("payload " + in.piece.path + " is the unsealed file of " +
                                sector_name(in.sector) + " (pass the deal's data file)");
  }
  if (const uint64_t on_disk = file.size(); on_disk != used) {
    throw sdk::data_loss("unsealed file " + in.unsealed_path + ": " + size_text(on_disk) +
                         " on disk, pieces say " + size_text(used) +
                         " (the file and the sector's piece list disagree: quarantine " +
                         sector_name(in.sector) + " and check both)");
  }

  AddPieceOutput out;
  Appender app(file, job, used, end);
  try {
    job.progress(0, end - used, "padding");
    for (uint64_t pad : padding_before(used, piece_size)) {
      app.zeros(app.position() + pad, "padding");
      out.pieces.push_back(
          {pad, cid::piece_cid_v1(commp::zero_piece_commitment(pad)), /*padding=*/true});
    }
    commp::Node comm;
    if (in.piece.zero) {
      app.zeros(end, "piece");
      comm = commp::zero_piece_commitment(piece_size);
      out.payload_size = piece_size - piece_size / 128;
    } else {
      const commp::CommpResult r = stream_payload(*payload, app, opts_.threads, opts_.chunk);
      app.zeros(end, "piece");
      comm = extend_with_zero_subtrees(r.comm_p, r.padded_piece_size, piece_size);
      out.payload_size = payload->size();
      if (expected && *expected != comm) {
        throw sdk::invalid_argument("payload " + in.piece.path + ": piece CID " +
                                    cid::piece_cid_v1(comm) + " does not match the expected " +
                                    *in.piece.cid + " (fetch the deal data again)");
      }
    }
    out.pieces.push_back({piece_size, cid::piece_cid_v1(comm), /*padding=*/false});
    app.check_cancel();
    if (opts_.fsync) {
      job.progress(end - used, end - used, "sync");
      file.sync();
    }
    out.unsealed_size = file.size();
    if (out.unsealed_size != end) {
      throw sdk::data_loss("unsealed file " + in.unsealed_path + ": " +
                           size_text(out.unsealed_size) + " after the append, expected " +
                           size_text(end) + " (another process is writing it: stop it)");
    }
  } catch (const std::exception& e) {
    // Cut back to the old size so the file holds exactly the recorded pieces again.
    std::string undo_error;
    if (file.created()) {
      undo_error = file.remove();
    } else {
      try {
        file.truncate(used);
        if (opts_.fsync) file.sync();
      } catch (const std::exception& undo) {
        undo_error = undo.what();
      }
    }
    if (!undo_error.empty()) {
      log_.error("unsealed file " + in.unsealed_path +
                 ": cannot undo a failed append: " + undo_error);
      throw sdk::data_loss("unsealed file " + in.unsealed_path + ": append failed (" + e.what() +
                           ") and cutting it back to " + size_text(used) + " failed too (" +
                           undo_error + "): quarantine " + sector_name(in.sector));
    }
    throw;
  }

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (log_.enabled(SEALHOST_LOG_INFO)) {
    char rate[48];
    std::snprintf(rate, sizeof rate, "%.3f s, %.0f MiB/s", secs,
                  static_cast<double>(end - used) / (1 << 20) / std::max(secs, 1e-9));
    log_.info(sector_name(in.sector) + ": added " + out.pieces.back().cid + " (" +
              size_text(piece_size) + ") at byte " + std::to_string(offset) + " after " +
              std::to_string(out.pieces.size() - 1) + " padding piece(s) in " + rate +
              (app.sparse() ? "; zeros are sparse (filesystem lacks fallocate)" : ""));
  }
  return out;
}

}  // namespace sealhost::stage_addpiece
