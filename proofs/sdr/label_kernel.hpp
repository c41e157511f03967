// Internal: the SHA-256 message layout of one SDR label (spec sdr.md §8) and the 1-, 2- and
// 4-stream hashing of it. Not a public header.
//
// A node's 1248-byte message after the 64-byte header is the parent list cycled to 37 chunks.
// Instead of materialising it, the parent labels are gathered once into a 512-byte slot:
//   [0, 448)   the 14 parent labels (layer 1: only the 6 DRG labels, [0, 192))
//   [448, 512) the last message block: chunk 36 (q0 in layer 1, q8 later), 0x80, zeros and the
//              bit length 9984 — the tail is constant and written once per slot.
// Layer 1 then hashes header + 6 x (3 blocks of q0..q5) + last block; later layers hash
// header + 7 blocks (q0..q13) twice + 4 blocks (q0..q7) + last block: 20 compressions per node.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "proofs/sdr/seal_proof.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::sdr::detail {

inline constexpr size_t kSlotBytes = 512;
inline constexpr size_t kLastBlockOffset = 448;
inline constexpr uint64_t kMessageBits = (64 + 37 * 32) * 8;  // 9984

// Writes the constant tail of a slot's last block.
inline void init_slot_tail(uint8_t* slot) {
  uint8_t* b = slot + kLastBlockOffset;
  std::memset(b + 32, 0, 32);
  b[32] = 0x80;
  for (int i = 0; i < 8; ++i) b[56 + i] = static_cast<uint8_t>(kMessageBits >> (56 - 8 * i));
}

// replica_id || u32_be(layer) || u64_be(node) || 20 zero bytes.
inline void init_header(uint8_t* header, const ReplicaId& replica_id, uint32_t layer) {
  std::memcpy(header, replica_id.data(), 32);
  for (int i = 0; i < 4; ++i) header[32 + i] = static_cast<uint8_t>(layer >> (24 - 8 * i));
  std::memset(header + 36, 0, 28);
}

inline void set_header_node(uint8_t* header, uint64_t node) {
  for (int i = 0; i < 8; ++i) header[36 + i] = static_cast<uint8_t>(node >> (56 - 8 * i));
}

inline void store_label(const sha256::State& s, uint8_t* out) {
  for (int j = 0; j < 8; ++j) {
    out[4 * j] = static_cast<uint8_t>(s.h[j] >> 24);
    out[4 * j + 1] = static_cast<uint8_t>(s.h[j] >> 16);
    out[4 * j + 2] = static_cast<uint8_t>(s.h[j] >> 8);
    out[4 * j + 3] = static_cast<uint8_t>(s.h[j]);
  }
  out[31] &= 0x3f;
}

// Label of node 0: SHA254 of the 64-byte header alone.
inline void node0_label(const ReplicaId& replica_id, uint32_t layer, uint8_t out[32]) {
  alignas(64) uint8_t blocks[128];
  init_header(blocks, replica_id, layer);
  std::memset(blocks + 64, 0, 64);
  blocks[64] = 0x80;
  blocks[126] = 0x02;  // 512 bits
  sha256::State s = sha256::kInitialState;
  sha256::compress(s, blocks, 2);
  store_label(s, out);
}

template <int K>
inline void compress_k(sha256::State* s, const uint8_t* const* blocks, size_t offset, size_t n) {
  if constexpr (K == 1) {
    sha256::compress(s[0], blocks[0] + offset, n);
  } else if constexpr (K == 2) {
    sha256::compress_x2(s[0], blocks[0] + offset, s[1], blocks[1] + offset, n);
  } else {
    static_assert(K == 4);
    sha256::compress_x4(
        {&s[0], &s[1], &s[2], &s[3]},
        {blocks[0] + offset, blocks[1] + offset, blocks[2] + offset, blocks[3] + offset}, n);
  }
}

// ---------------------------------------------------------------- serial chain (one sector)
//
// A node's message is 20 blocks: 0 the header, 1..19 the body. Node v's blocks before the first
// one holding label v-1 do not depend on the previous node, so they are hashed as a second SHA
// stream while node v-1's dependent blocks run. Upstream's graphs make parent 0 always v-1
// ("so hashing cannot begin early"), so in practice that is the header alone: 19 of the 20
// compressions stay on the chain.
inline constexpr uint32_t kMessageBlocks = 20;

struct ChainNode {
  sha256::State state;              // after `done` blocks
  const uint8_t* header = nullptr;  // block 0
  uint8_t* slot = nullptr;          // gathered parents (layout above)
  uint32_t done = 0;                // blocks compressed so far
  uint32_t prefix = 0;              // leading blocks not needing the previous node's label
};

// Where body block i (0..18, message block i + 1) of a node's message is in its slot.
inline size_t body_block_offset(uint32_t i, bool first_layer) {
  if (i == 18) return kLastBlockOffset;
  if (first_layer) return 64 * (i % 3);
  return 64 * (i < 7 ? i : i < 14 ? i - 7 : i - 14);
}

// Block `idx` (0..19) of a node's message.
inline const uint8_t* message_block(const ChainNode& n, uint32_t idx, bool first_layer) {
  if (idx == 0) return n.header;
  return n.slot + body_block_offset(idx - 1, first_layer);
}

// The chunks (bits 0..5) of node v's DRG parents that are node v-1, and the number of leading
// message blocks (header included) that do not contain any of them.
inline uint32_t self_chunks(const uint32_t* parents, uint64_t v) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < 6; ++i) m |= static_cast<uint32_t>(parents[i] == v - 1) << i;
  return m;
}
inline uint32_t independent_prefix(uint32_t self) {
  return self == 0 ? kMessageBlocks : 1 + static_cast<uint32_t>(__builtin_ctz(self)) / 2;
}

// The fused SHA-NI kernels (label_sha_ni.cpp); only called when sha_ni_in_use(). K whole labels
// from headers[k] and slots[k].
void hash_nodes_sha_ni_1(const uint8_t* const* headers, const uint8_t* const* slots,
                         bool first_layer, uint8_t* const* out);
void hash_nodes_sha_ni_2(const uint8_t* const* headers, const uint8_t* const* slots,
                         bool first_layer, uint8_t* const* out);
void hash_nodes_sha_ni_4(const uint8_t* const* headers, const uint8_t* const* slots,
                         bool first_layer, uint8_t* const* out);
void chain_step_sha_ni(ChainNode& cur, ChainNode& nxt, bool first_layer, uint8_t* out,
                       uint32_t nxt_self_chunks);

// The next node's parent gather of a two-sector lane (labels interleaved in pairs, see Lane):
// chunk i's two labels are the 64 bytes at src[i] (nullptr: not copied, e.g. the node being
// hashed, patched afterwards); sector k's go to dst[k] + 32 i, and chunk `last` (-1: none) also
// to the last block.
struct Gather2 {
  const uint8_t* src[14] = {};
  uint8_t* dst[2] = {};
  int last = -1;
};

// Two whole labels (2 streams) with the next node's gather spread between their blocks: the
// copies run in the SHA unit's shadow instead of after it.
void hash_nodes_gather_sha_ni_2(const uint8_t* const* headers, const uint8_t* const* slots,
                                bool first_layer, uint8_t* const* out, const Gather2& next);

// True when sha256 uses the SHA extensions (not forced to the portable code).
inline bool sha_ni_in_use() {
  static const bool kUse = std::strcmp(sha256::implementation_name(), "sha-ni") == 0;
  return kUse;
}

// The body through sha256::compress calls (any CPU).
template <int K>
inline void hash_body_portable(sha256::State* s, const uint8_t* const* slots, bool first_layer,
                               uint8_t* const* out) {
  if (first_layer) {
    for (int r = 0; r < 6; ++r) compress_k<K>(s, slots, 0, 3);
  } else {
    compress_k<K>(s, slots, 0, 7);
    compress_k<K>(s, slots, 0, 7);
    compress_k<K>(s, slots, 0, 4);
  }
  compress_k<K>(s, slots, kLastBlockOffset, 1);
  for (int k = 0; k < K; ++k) store_label(s[k], out[k]);
}

// Serial chain step: finishes `cur` (label to `out`), advances `nxt` through its independent
// prefix, and writes cur's label into nxt's slot at the chunks in nxt_self_chunks (bits 0..5).
inline void chain_step(ChainNode& cur, ChainNode& nxt, bool first_layer, uint8_t* out,
                       uint32_t nxt_self_chunks) {
  if (sha_ni_in_use()) {
    chain_step_sha_ni(cur, nxt, first_layer, out, nxt_self_chunks);
    return;
  }
  for (uint32_t i = cur.done; i < kMessageBlocks; ++i) {
    sha256::compress(cur.state, message_block(cur, i, first_layer), 1);
  }
  for (; nxt.done < nxt.prefix; ++nxt.done) {
    sha256::compress(nxt.state, message_block(nxt, nxt.done, first_layer), 1);
  }
  store_label(cur.state, out);
  for (uint32_t i = 0; i < 6; ++i) {
    if ((nxt_self_chunks >> i & 1) == 0) continue;
    std::memcpy(nxt.slot + i * 32, out, 32);
    if (first_layer && i == 0) std::memcpy(nxt.slot + kLastBlockOffset, out, 32);
  }
}

// The state after the header block. The header does not depend on any label, so the producer
// thread computes it ahead and the hashing thread's chain is 19 compressions per node, not 20.
inline sha256::State header_state(const uint8_t* header) {
  sha256::State s = sha256::kInitialState;
  sha256::compress(s, header, 1);
  return s;
}

// Hashes K whole nodes (K independent streams sharing the layout).
template <int K>
inline void hash_nodes(const uint8_t* const* headers, const uint8_t* const* slots, bool first_layer,
                       uint8_t* const* out) {
  if (sha_ni_in_use()) {
    if constexpr (K == 1) {
      hash_nodes_sha_ni_1(headers, slots, first_layer, out);
    } else if constexpr (K == 2) {
      hash_nodes_sha_ni_2(headers, slots, first_layer, out);
    } else {
      hash_nodes_sha_ni_4(headers, slots, first_layer, out);
    }
    return;
  }
  sha256::State s[K];
  for (int k = 0; k < K; ++k) s[k] = sha256::kInitialState;
  compress_k<K>(s, headers, 0, 1);
  hash_body_portable<K>(s, slots, first_layer, out);
}

// How many streams to interleave per call for batches (2 or 4): compress_x4 is not faster than
// compress_x2 on every CPU, so this is measured once per process (thread CPU time, best of 15;
// x4 only when clearly faster).
// SEALHOST_SDR_STREAM_WIDTH=2 or 4 in the environment forces it (tests run both).
int best_stream_width();

// Hashes `count` whole nodes (headers[i], slots[i] -> out[i]), `width` streams at a time where
// possible (then 2, then 1).
inline void hash_nodes_any(size_t count, int width, const uint8_t* const* headers,
                           const uint8_t* const* slots, bool first_layer, uint8_t* const* out) {
  size_t i = 0;
  if (width >= 4) {
    for (; i + 4 <= count; i += 4) hash_nodes<4>(headers + i, slots + i, first_layer, out + i);
  }
  for (; i + 2 <= count; i += 2) hash_nodes<2>(headers + i, slots + i, first_layer, out + i);
  for (; i < count; ++i) hash_nodes<1>(headers + i, slots + i, first_layer, out + i);
}

}  // namespace sealhost::proofs::sdr::detail
