// Piece commitments (CommP), data commitments (CommD) and the on-disk TreeD, bit-compatible with
// rust-fil-proofs (spec fr32-commp.md §2-5). Nodes are 32-byte SHA254 values in storage order.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace sealhost::proofs::commp {

using Node = std::array<uint8_t, 32>;

inline constexpr uint64_t kNodeBytes = 32;
// The smallest payload go-fil-commp-hashhash and data-segment accept (65 bytes).
inline constexpr uint64_t kMinPayloadBytes = 65;
inline constexpr uint64_t kMinPaddedPieceBytes = 128;
inline constexpr uint64_t kMaxPaddedPieceBytes = uint64_t{64} << 30;
// zero_commitment() covers trees up to 64 GiB (2^31 nodes).
inline constexpr unsigned kMaxTreeLevel = 31;

// Thrown for inputs that cannot form a piece (too small, too large, unreadable, short read).
class CommpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Root of a tree of 2^level zero nodes (padded size 32 << level). Throws std::out_of_range for
// level > kMaxTreeLevel. The table is computed once, thread-safely.
const Node& zero_commitment(unsigned level);

// Commitment of an all-zero piece of `padded_size` bytes (a power of two, 32 B .. 64 GiB);
// throws CommpError otherwise.
Node zero_piece_commitment(uint64_t padded_size);

// Size rules for a payload of `payload_bytes` (unpadded user data, zero-extended to the piece):
// padded piece = the smallest 128 * 2^k holding 128 * ceil(payload / 127) bytes; the unpadded
// piece size is padded - padded / 128.
uint64_t padded_piece_size(uint64_t payload_bytes);
uint64_t unpadded_piece_size(uint64_t payload_bytes);
// log2(bytes / 32) for a power-of-two padded size.
unsigned tree_level(uint64_t padded_bytes);

struct CommpResult {
  Node comm_p{};
  uint64_t payload_size = 0;       // bytes fed (padded bytes when fed padded data)
  uint64_t padded_piece_size = 0;  // power of two, >= 128
  uint64_t unpadded_piece_size() const { return padded_piece_size - padded_piece_size / 128; }
};

enum class InputKind {
  kUnpadded,  // raw payload: fr32-padded internally, then zero-extended to the piece size
  kPadded,    // already fr32-padded bytes (a multiple of 32); zero-extended to a power of two
};

// Streaming CommP in constant memory (threads x 8 MiB of buffer plus a stack of subtree roots).
// With threads > 1 the input is cut into 1 MiB (padded) subtrees hashed in parallel by a pool
// owned by the hasher; the result does not depend on the thread count. One instance per stream;
// not thread-safe itself.
class CommpHasher {
 public:
  // threads == 0 uses std::thread::hardware_concurrency().
  explicit CommpHasher(unsigned threads = 1, InputKind kind = InputKind::kUnpadded);
  ~CommpHasher();
  CommpHasher(const CommpHasher&) = delete;
  CommpHasher& operator=(const CommpHasher&) = delete;

  // Throws CommpError once the input exceeds what fits in a 64 GiB piece.
  void update(std::span<const uint8_t> data);
  // Throws CommpError when the input is below the minimum (65 payload bytes, or 32 padded bytes)
  // or padded input is not a multiple of 32 bytes. The hasher is spent afterwards.
  CommpResult finish();

  uint64_t bytes_consumed() const;
  // Bytes the hasher consumes per internal batch; feeding spans of this size avoids copies.
  size_t batch_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot helpers.
CommpResult commp(std::span<const uint8_t> payload, unsigned threads = 1);
CommpResult commp_padded(std::span<const uint8_t> padded, unsigned threads = 1);

// CommP of a file's contents as payload. A reader thread stays one batch ahead of the hashers
// (memory: about 3 x threads x 8 MiB). `progress(done, total)` (optional) is called from the
// calling thread after each batch. Throws CommpError for a missing/unreadable file, a payload
// below 65 bytes, a piece above 64 GiB, or a file that shrinks while being read.
CommpResult commp_file(const std::filesystem::path& path, unsigned threads,
                       std::function<void(uint64_t done, uint64_t total)> progress = {});

// Root of the binary SHA254 tree over `padded` (a power-of-two number of nodes, >= 1), computed
// directly level by level in memory. Reference for tests and small trees.
Node merkle_root(std::span<const uint8_t> padded);

// ---- CommD from pieces (spec §5) ----

struct PieceInfo {
  Node comm{};
  uint64_t padded_size = 0;  // power of two >= 128
};

// rust-fil-proofs compute_comm_d's shift/reduce stack over `pieces` in order, padding with zero
// pieces only as far as the smallest aligned tree holding them (§5.2). Throws CommpError for an
// empty list or a size that is not a power of two >= 128.
Node join_pieces(std::span<const PieceInfo> pieces);

// The chain's layout (§5.3): zero pieces inserted before each piece to align it to its own size
// and after the last one to fill the sector; an empty list becomes one zero piece of the sector.
// Throws CommpError if the pieces do not fit in the sector.
std::vector<PieceInfo> sector_piece_layout(uint64_t sector_size, std::span<const PieceInfo> pieces);

// CommD of a sector holding `pieces` in order (the root of its whole padded unsealed file).
Node comm_d(uint64_t sector_size, std::span<const PieceInfo> pieces);

// add_piece alignment in unpadded bytes (rust-fil-proofs get_piece_alignment, §5.1).
struct PieceAlignment {
  uint64_t left = 0;
  uint64_t right = 0;
};
PieceAlignment piece_alignment(uint64_t written_unpadded, uint64_t piece_unpadded);
// Unpadded byte offset at which a piece lands after `previous` pieces (unpadded sizes).
uint64_t piece_start_byte(std::span<const uint64_t> previous, uint64_t piece_unpadded);

// ---- TreeD on disk ----

// Writes the full binary TreeD of a padded unsealed file (a power-of-two number of nodes) to
// `tree_d_path` in the rust-fil-proofs/merkletree DiskStore layout of `sc-02-data-tree-d.dat`:
// every level concatenated, leaves first, 32 bytes per node, (2n - 1) * 32 bytes in total.
// Streams the input with bounded memory (about 2 MiB). Returns the root (= CommD). Throws
// CommpError for unreadable input, a size that is not a power-of-two number of nodes, or write
// failures.
Node write_tree_d(const std::filesystem::path& padded_unsealed,
                  const std::filesystem::path& tree_d_path);

}  // namespace sealhost::proofs::commp
