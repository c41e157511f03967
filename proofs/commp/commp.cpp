#include "proofs/commp/commp.hpp"

#include <bit>
#include <cstring>
#include <string>

#include "proofs/commp/subtree.hpp"
#include "proofs/commp/worker_pool.hpp"
#include "proofs/fr32/fr32.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::commp {
namespace {

using detail::SubtreeStack;

// Work is cut into chunks that stay in L2 while being reduced, and chunks into segments that
// are the unit of parallelism.
constexpr unsigned kChunkLevel = 11;  // 2^11 nodes = 64 KiB padded
constexpr uint64_t kChunkPadded = kNodeBytes << kChunkLevel;
constexpr unsigned kSegmentLevel = 15;  // 1 MiB padded
// Segments per worker in one batch: more units than threads lets the pool rebalance when a thread
// is descheduled (the machine is usually shared) and amortises the per-batch join.
constexpr size_t kSegmentsPerWorker = 8;
constexpr uint64_t kSegmentPadded = kNodeBytes << kSegmentLevel;
constexpr uint64_t kSegmentUnpadded = kSegmentPadded / 128 * 127;
constexpr uint64_t kMaxUnpaddedPayload = kMaxPaddedPieceBytes / 128 * 127;

std::string size_text(uint64_t n) {
  return std::to_string(n) + " bytes";
}

// Hashes `nodes` contiguous nodes (any count) starting at an aligned position into the stack, as
// the largest aligned power-of-two subtrees. `padded` is read only; `scratch` holds a chunk.
void push_padded_nodes(SubtreeStack& stack, const uint8_t* padded, uint64_t nodes,
                       uint8_t* scratch) {
  while (nodes > 0) {
    unsigned level = std::min<unsigned>(kChunkLevel, std::bit_width(nodes) - 1);
    // Stay aligned to the stack position (a partial chunk can follow only smaller blocks).
    if (stack.nodes() != 0) {
      level = std::min<unsigned>(level, static_cast<unsigned>(std::countr_zero(stack.nodes())));
    }
    Node root;
    detail::subtree_root(padded, level, scratch, root.data());
    stack.push(root, level);
    padded += kNodeBytes << level;
    nodes -= uint64_t{1} << level;
  }
}

// Pads `quads` whole quads of payload chunk by chunk and hashes them into the stack.
void push_unpadded_quads(SubtreeStack& stack, const uint8_t* in, uint64_t quads, uint8_t* scratch) {
  constexpr uint64_t kChunkQuads = kChunkPadded / 128;
  while (quads > 0) {
    const uint64_t take = std::min(quads, kChunkQuads);
    fr32::pad_quads(in, scratch, take);
    uint64_t nodes = take * 4;
    uint8_t* at = scratch;
    while (nodes > 0) {
      unsigned level = static_cast<unsigned>(std::bit_width(nodes) - 1);
      if (stack.nodes() != 0) {
        level = std::min<unsigned>(level, static_cast<unsigned>(std::countr_zero(stack.nodes())));
      }
      Node root;
      detail::reduce_in_place(at, level, root.data());
      stack.push(root, level);
      at += kNodeBytes << level;
      nodes -= uint64_t{1} << level;
    }
    in += take * 127;
    quads -= take;
  }
}

uint8_t* thread_scratch() {
  thread_local std::vector<uint8_t> scratch(kChunkPadded);
  return scratch.data();
}

}  // namespace

const Node& zero_commitment(unsigned level) {
  static const std::array<Node, kMaxTreeLevel + 1> kTable = [] {
    std::array<Node, kMaxTreeLevel + 1> t{};
    for (unsigned l = 1; l <= kMaxTreeLevel; ++l) {
      sha256::sha254_node(t[l - 1].data(), t[l - 1].data(), t[l].data());
    }
    return t;
  }();
  if (level > kMaxTreeLevel) {
    throw std::out_of_range("zero commitment level " + std::to_string(level) +
                            " is above the 64 GiB maximum (level " + std::to_string(kMaxTreeLevel) +
                            ")");
  }
  return kTable[level];
}

unsigned tree_level(uint64_t padded_bytes) {
  return static_cast<unsigned>(std::countr_zero(padded_bytes / kNodeBytes));
}

Node zero_piece_commitment(uint64_t padded_size) {
  if (padded_size < kNodeBytes || padded_size > kMaxPaddedPieceBytes ||
      !std::has_single_bit(padded_size)) {
    throw CommpError("zero piece of " + size_text(padded_size) +
                     ": padded size must be a power of two between 32 B and 64 GiB");
  }
  return zero_commitment(tree_level(padded_size));
}

uint64_t padded_piece_size(uint64_t payload_bytes) {
  const uint64_t quads = (payload_bytes + 126) / 127;
  return std::max(kMinPaddedPieceBytes, std::bit_ceil(quads * 128));
}

uint64_t unpadded_piece_size(uint64_t payload_bytes) {
  const uint64_t padded = padded_piece_size(payload_bytes);
  return padded - padded / 128;
}

// ---------------------------------------------------------------------------------------------

struct CommpHasher::Impl {
  Impl(unsigned threads, InputKind k)
      : kind(k),
        workers(threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads),
        segment_bytes(k == InputKind::kUnpadded ? kSegmentUnpadded : kSegmentPadded),
        pool(workers - 1) {
    pending.reserve(segment_bytes * kSegmentsPerWorker * workers);
    roots.resize(kSegmentsPerWorker * workers);
  }

  // Hashes `n` whole segments starting at `data` in parallel and pushes their roots in order.
  void process_segments(const uint8_t* data, size_t n) {
    pool.run(n, [&](size_t i) {
      SubtreeStack local;
      const uint8_t* seg = data + i * segment_bytes;
      if (kind == InputKind::kUnpadded) {
        push_unpadded_quads(local, seg, kSegmentPadded / 128, thread_scratch());
      } else {
        push_padded_nodes(local, seg, kSegmentPadded / kNodeBytes, thread_scratch());
      }
      roots[i] = local.finish(kSegmentLevel);
    });
    for (size_t i = 0; i < n; ++i) stack.push(roots[i], kSegmentLevel);
  }

  void check_limit(uint64_t more) const {
    const uint64_t limit =
        kind == InputKind::kUnpadded ? kMaxUnpaddedPayload : kMaxPaddedPieceBytes;
    if (consumed + more > limit) {
      throw CommpError("commp input of more than " + size_text(limit) +
                       " does not fit in the largest (64 GiB) piece (split the data)");
    }
  }

  InputKind kind;
  unsigned workers;
  uint64_t segment_bytes;
  detail::WorkerPool pool;
  std::vector<uint8_t> pending;
  std::vector<Node> roots;
  SubtreeStack stack;
  uint64_t consumed = 0;
  bool finished = false;
};

CommpHasher::CommpHasher(unsigned threads, InputKind kind)
    : impl_(std::make_unique<Impl>(threads, kind)) {}

CommpHasher::~CommpHasher() = default;

uint64_t CommpHasher::bytes_consumed() const {
  return impl_->consumed;
}

size_t CommpHasher::batch_bytes() const {
  return impl_->segment_bytes * kSegmentsPerWorker * impl_->workers;
}

void CommpHasher::update(std::span<const uint8_t> data) {
  Impl& s = *impl_;
  if (s.finished) throw std::logic_error("CommpHasher::update called after finish");
  s.check_limit(data.size());
  s.consumed += data.size();
  const size_t batch = batch_bytes();
  const uint8_t* p = data.data();
  size_t len = data.size();
  if (!s.pending.empty()) {
    const size_t take = std::min(len, batch - s.pending.size());
    s.pending.insert(s.pending.end(), p, p + take);
    p += take;
    len -= take;
    if (s.pending.size() < batch) return;
    s.process_segments(s.pending.data(), batch / s.segment_bytes);
    s.pending.clear();
  }
  // Whole batches straight from the caller's memory, no copy.
  while (len >= batch) {
    s.process_segments(p, batch / s.segment_bytes);
    p += batch;
    len -= batch;
  }
  s.pending.insert(s.pending.end(), p, p + len);
}

CommpResult CommpHasher::finish() {
  Impl& s = *impl_;
  if (s.finished) throw std::logic_error("CommpHasher::finish called twice");
  s.finished = true;
  CommpResult result;
  result.payload_size = s.consumed;
  if (s.kind == InputKind::kUnpadded) {
    if (s.consumed < kMinPayloadBytes) {
      throw CommpError("commp payload of " + size_text(s.consumed) + " is below the minimum of " +
                       size_text(kMinPayloadBytes) + " (add data or pad the payload)");
    }
    result.padded_piece_size = padded_piece_size(s.consumed);
  } else {
    if (s.consumed < kNodeBytes || s.consumed % kNodeBytes != 0) {
      throw CommpError("padded commp input of " + size_text(s.consumed) +
                       " is not a non-zero multiple of 32 bytes (feed whole fr32 nodes)");
    }
    result.padded_piece_size = std::max(kMinPaddedPieceBytes, std::bit_ceil(s.consumed));
  }

  const size_t whole_segments = s.pending.size() / s.segment_bytes;
  if (whole_segments > 0) s.process_segments(s.pending.data(), whole_segments);
  const uint8_t* rest = s.pending.data() + whole_segments * s.segment_bytes;
  const uint64_t rest_len = s.pending.size() - whole_segments * s.segment_bytes;
  uint8_t* scratch = thread_scratch();
  if (s.kind == InputKind::kUnpadded) {
    const uint64_t quads = rest_len / 127;
    push_unpadded_quads(s.stack, rest, quads, scratch);
    if (const uint64_t tail = rest_len % 127; tail != 0) {
      // The payload is zero-extended to the piece, so the partial quad is padded with zeros.
      uint8_t quad[127] = {};
      std::memcpy(quad, rest + quads * 127, tail);
      push_unpadded_quads(s.stack, quad, 1, scratch);
    }
  } else {
    push_padded_nodes(s.stack, rest, rest_len / kNodeBytes, scratch);
  }
  s.pending.clear();
  result.comm_p = s.stack.finish(tree_level(result.padded_piece_size));
  return result;
}

CommpResult commp(std::span<const uint8_t> payload, unsigned threads) {
  CommpHasher h(threads, InputKind::kUnpadded);
  h.update(payload);
  return h.finish();
}

CommpResult commp_padded(std::span<const uint8_t> padded, unsigned threads) {
  CommpHasher h(threads, InputKind::kPadded);
  h.update(padded);
  return h.finish();
}

Node merkle_root(std::span<const uint8_t> padded) {
  const uint64_t nodes = padded.size() / kNodeBytes;
  if (nodes == 0 || padded.size() % kNodeBytes != 0 || !std::has_single_bit(nodes)) {
    throw CommpError("merkle_root input of " + size_text(padded.size()) +
                     " is not a power-of-two number of 32-byte nodes");
  }
  std::vector<uint8_t> row(padded.begin(), padded.end());
  for (uint64_t n = nodes; n > 1; n /= 2) sha256::sha254_nodes(row.data(), row.data(), n / 2);
  Node root;
  std::memcpy(root.data(), row.data(), kNodeBytes);
  return root;
}

}  // namespace sealhost::proofs::commp
