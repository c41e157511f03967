// The SDR label body with the x86 SHA extensions, fused: the chaining state stays in registers
// across all 19 blocks after the header (no state round trip through memory between blocks) and
// the label is written with two vector stores, so the next node's load of it (as parent v-1) is
// served by store-to-load forwarding instead of waiting for 32 byte-wide stores to retire.
#include "proofs/sdr/label_kernel.hpp"
#include "proofs/sha256/sha_ni_kernels.hpp"

namespace sealhost::proofs::sdr::detail {
namespace {

using namespace sha256::sha_ni;

template <int K>
SEALHOST_SHA_INLINE void blocks_k(__m128i (&abef)[K], __m128i (&cdgh)[K],
                                  const uint8_t* const* slots, size_t offset, size_t n) {
  for (size_t b = 0; b < n; ++b) {
    const uint8_t* msg[K];
    for (int k = 0; k < K; ++k) msg[k] = slots[k] + offset + b * 64;
    block_n<K>(abef, cdgh, msg);
  }
}

SEALHOST_SHA_INLINE void store_label_vec(__m128i abef, __m128i cdgh, uint8_t* out,
                                         __m128i& lo_bytes, __m128i& hi_bytes) {
  const __m128i mask = bswap_mask();
  const __m128i trunc = _mm_set_epi32(0x3fffffff, -1, -1, -1);  // out[31] &= 0x3f
  __m128i lo;
  __m128i hi;
  unpack_state(abef, cdgh, lo, hi);
  lo_bytes = _mm_shuffle_epi8(lo, mask);
  hi_bytes = _mm_and_si128(_mm_shuffle_epi8(hi, mask), trunc);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), lo_bytes);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), hi_bytes);
}

SEALHOST_SHA_INLINE void store_state(__m128i abef, __m128i cdgh, sha256::State& s) {
  __m128i lo;
  __m128i hi;
  unpack_state(abef, cdgh, lo, hi);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(s.h), lo);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(s.h + 4), hi);
}

// K whole labels: the header block headers[k], then the body from slots[k].
template <int K>
SEALHOST_SHA_INLINE void nodes_k(const uint8_t* const* headers, const uint8_t* const* slots,
                                 bool first_layer, uint8_t* const* out) {
  __m128i abef[K];
  __m128i cdgh[K];
  for (int k = 0; k < K; ++k) load_state(sha256::kInitialState.h, abef[k], cdgh[k]);
  blocks_k<K>(abef, cdgh, headers, 0, 1);
  if (first_layer) {
    for (int r = 0; r < 6; ++r) blocks_k<K>(abef, cdgh, slots, 0, 3);
  } else {
    blocks_k<K>(abef, cdgh, slots, 0, 7);
    blocks_k<K>(abef, cdgh, slots, 0, 7);
    blocks_k<K>(abef, cdgh, slots, 0, 4);
  }
  blocks_k<K>(abef, cdgh, slots, kLastBlockOffset, 1);
  for (int k = 0; k < K; ++k) {
    __m128i lo;
    __m128i hi;
    store_label_vec(abef[k], cdgh[k], out[k], lo, hi);
  }
}

SEALHOST_SHA_INLINE void gather_chunk(const Gather2& g, int i) {
  const uint8_t* src = g.src[i];
  if (src == nullptr) return;
  const auto* v = reinterpret_cast<const __m128i*>(src);
  const __m128i a = _mm_loadu_si128(v);
  const __m128i b = _mm_loadu_si128(v + 1);
  const __m128i c = _mm_loadu_si128(v + 2);
  const __m128i d = _mm_loadu_si128(v + 3);
  auto put = [](uint8_t* to, __m128i lo, __m128i hi) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(to), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(to + 16), hi);
  };
  put(g.dst[0] + 32 * i, a, b);
  put(g.dst[1] + 32 * i, c, d);
  if (i == g.last) {
    put(g.dst[0] + kLastBlockOffset, a, b);
    put(g.dst[1] + kLastBlockOffset, c, d);
  }
}

}  // namespace

SEALHOST_SHA_TARGET void hash_nodes_sha_ni_1(const uint8_t* const* headers,
                                             const uint8_t* const* slots, bool first_layer,
                                             uint8_t* const* out) {
  nodes_k<1>(headers, slots, first_layer, out);
}

SEALHOST_SHA_TARGET void hash_nodes_sha_ni_2(const uint8_t* const* headers,
                                             const uint8_t* const* slots, bool first_layer,
                                             uint8_t* const* out) {
  nodes_k<2>(headers, slots, first_layer, out);
}

SEALHOST_SHA_TARGET void hash_nodes_sha_ni_4(const uint8_t* const* headers,
                                             const uint8_t* const* slots, bool first_layer,
                                             uint8_t* const* out) {
  nodes_k<4>(headers, slots, first_layer, out);
}

// The serial chain: cur's remaining blocks, with nxt's independent prefix blocks (its header)
// riding along as a second SHA stream in the SHA unit's idle latency slots; then cur's label goes
// to `out` and into nxt's slot wherever nxt names cur as a parent.
SEALHOST_SHA_TARGET void chain_step_sha_ni(ChainNode& cur, ChainNode& nxt, bool first_layer,
                                           uint8_t* out, uint32_t nxt_self_chunks) {
  __m128i abef[2];
  __m128i cdgh[2];
  load_state(cur.state.h, abef[0], cdgh[0]);
  load_state(nxt.state.h, abef[1], cdgh[1]);
  uint32_t ic = cur.done;
  uint32_t in = nxt.done;
  for (; ic < kMessageBlocks && in < nxt.prefix; ++ic, ++in) {
    const uint8_t* msg[2] = {message_block(cur, ic, first_layer),
                             message_block(nxt, in, first_layer)};
    block_n<2>(abef, cdgh, msg);
  }
  __m128i a1[1] = {abef[0]};
  __m128i c1[1] = {cdgh[0]};
  for (; ic < kMessageBlocks; ++ic) {
    const uint8_t* msg[1] = {message_block(cur, ic, first_layer)};
    block_n<1>(a1, c1, msg);
  }
  __m128i lo;
  __m128i hi;
  store_label_vec(a1[0], c1[0], out, lo, hi);
  while (nxt_self_chunks != 0) {
    const int i = __builtin_ctz(nxt_self_chunks);
    nxt_self_chunks &= nxt_self_chunks - 1;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(nxt.slot + i * 32), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(nxt.slot + i * 32 + 16), hi);
    if (first_layer && i == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(nxt.slot + kLastBlockOffset), lo);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(nxt.slot + kLastBlockOffset + 16), hi);
    }
  }
  store_state(abef[1], cdgh[1], nxt.state);
  nxt.done = in;
}

// Blocks 0..19 of both nodes; after block b < 14, chunk b of the next node is copied (the
// out-of-order core overlaps the loads and stores with the rounds still in flight).
SEALHOST_SHA_TARGET void hash_nodes_gather_sha_ni_2(const uint8_t* const* headers,
                                                    const uint8_t* const* slots, bool first_layer,
                                                    uint8_t* const* out, const Gather2& next) {
  __m128i abef[2];
  __m128i cdgh[2];
  for (int k = 0; k < 2; ++k) load_state(sha256::kInitialState.h, abef[k], cdgh[k]);
  const int chunks = first_layer ? 6 : 14;
  for (int b = 0; b < static_cast<int>(kMessageBlocks); ++b) {
    const uint8_t* msg[2];
    if (b == 0) {
      msg[0] = headers[0];
      msg[1] = headers[1];
    } else {
      const size_t off = body_block_offset(static_cast<uint32_t>(b) - 1, first_layer);
      msg[0] = slots[0] + off;
      msg[1] = slots[1] + off;
    }
    block_n<2>(abef, cdgh, msg);
    if (b < chunks) gather_chunk(next, b);
  }
  for (int k = 0; k < 2; ++k) {
    __m128i lo;
    __m128i hi;
    store_label_vec(abef[k], cdgh[k], out[k], lo, hi);
  }
}

}  // namespace sealhost::proofs::sdr::detail
