#include "proofs/sha256/sha256.hpp"

#include <cpuid.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "proofs/sha256/sha256_constants.hpp"

namespace sealhost::proofs::sha256 {
namespace {

using detail::kRoundConstants;
using detail::rotr;
using detail::small_sigma0;
using detail::small_sigma1;

inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

inline uint32_t big_sigma0(uint32_t x) {
  return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
}
inline uint32_t big_sigma1(uint32_t x) {
  return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
}
inline uint32_t choose(uint32_t e, uint32_t f, uint32_t g) {
  return (e & f) ^ (~e & g);
}
inline uint32_t majority(uint32_t a, uint32_t b, uint32_t c) {
  return (a & b) ^ (a & c) ^ (b & c);
}

// 64 rounds with a ready W[t] + K[t] array.
inline void rounds(uint32_t h[8], const uint32_t* wk) {
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int t = 0; t < 64; ++t) {
    const uint32_t t1 = hh + big_sigma1(e) + choose(e, f, g) + wk[t];
    const uint32_t t2 = big_sigma0(a) + majority(a, b, c);
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

inline void schedule(const uint8_t* block, uint32_t wk[64]) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
  for (int t = 16; t < 64; ++t) {
    w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
  }
  for (int t = 0; t < 64; ++t) wk[t] = w[t] + kRoundConstants[t];
}

bool cpu_has_sha() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool sha = (ebx & bit_SHA) != 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return sha && (ecx & bit_SSE4_1) != 0 && (ecx & bit_SSSE3) != 0;
}

bool choose_sha_ni() {
  if (!cpu_has_sha()) return false;
  const char* forced = std::getenv("SEALHOST_SHA256_IMPL");
  return forced == nullptr || std::string_view(forced) != "portable";
}

// Decided once; a function-local static so that callers from other static initialisers work.
bool use_sha_ni() {
  static const bool kUse = choose_sha_ni();
  return kUse;
}

}  // namespace

namespace impl {

void compress_portable(State& state, const uint8_t* blocks, size_t nblocks) {
  uint32_t wk[64];
  for (size_t i = 0; i < nblocks; ++i) {
    schedule(blocks + i * kBlockBytes, wk);
    rounds(state.h, wk);
  }
}

void sha254_nodes_portable(const uint8_t* pairs, uint8_t* out, size_t n) {
  uint32_t wk[64];
  for (size_t i = 0; i < n; ++i) {
    State s = kInitialState;
    // The schedule copies the message first, so out may alias pairs.
    schedule(pairs + i * 64, wk);
    rounds(s.h, wk);
    rounds(s.h, detail::kPadBlockWk.data());
    uint8_t* o = out + i * 32;
    for (int j = 0; j < 8; ++j) store_be32(o + 4 * j, s.h[j]);
    o[31] &= 0x3f;
  }
}

}  // namespace impl

bool sha_ni_supported() {
  static const bool kSupported = cpu_has_sha();
  return kSupported;
}

const char* implementation_name() {
  return use_sha_ni() ? "sha-ni" : "portable";
}

void compress(State& state, const uint8_t* blocks, size_t nblocks) {
  if (use_sha_ni()) {
    impl::compress_sha_ni(state, blocks, nblocks);
  } else {
    impl::compress_portable(state, blocks, nblocks);
  }
}

void compress_x2(State& a, const uint8_t* blocks_a, State& b, const uint8_t* blocks_b,
                 size_t nblocks) {
  if (use_sha_ni()) {
    impl::compress_x2_sha_ni(a, blocks_a, b, blocks_b, nblocks);
  } else {
    impl::compress_portable(a, blocks_a, nblocks);
    impl::compress_portable(b, blocks_b, nblocks);
  }
}

void compress_x4(const std::array<State*, 4>& states, const std::array<const uint8_t*, 4>& blocks,
                 size_t nblocks) {
  if (use_sha_ni()) {
    impl::compress_x4_sha_ni(states, blocks, nblocks);
    return;
  }
  for (size_t s = 0; s < 4; ++s) impl::compress_portable(*states[s], blocks[s], nblocks);
}

Digest state_bytes(const State& state) {
  Digest out;
  for (int j = 0; j < 8; ++j) store_be32(out.data() + 4 * j, state.h[j]);
  return out;
}

void Hasher::update(std::span<const uint8_t> data) {
  // An empty span may carry a null pointer, which memcpy must not see.
  if (data.empty()) return;
  const uint8_t* p = data.data();
  size_t len = data.size();
  total_bytes_ += len;
  if (buffered_ > 0) {
    const size_t take = std::min(len, kBlockBytes - buffered_);
    std::memcpy(buffer_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    len -= take;
    if (buffered_ < kBlockBytes) return;
    compress(state_, buffer_, 1);
    buffered_ = 0;
  }
  const size_t whole = len / kBlockBytes;
  if (whole > 0) compress(state_, p, whole);
  p += whole * kBlockBytes;
  len -= whole * kBlockBytes;
  std::memcpy(buffer_, p, len);
  buffered_ = len;
}

Digest Hasher::finish() {
  const uint64_t bits = total_bytes_ * 8;
  uint8_t tail[2 * kBlockBytes] = {};
  std::memcpy(tail, buffer_, buffered_);
  tail[buffered_] = 0x80;
  const size_t tail_blocks = buffered_ + 1 + 8 <= kBlockBytes ? 1 : 2;
  uint8_t* len_at = tail + tail_blocks * kBlockBytes - 8;
  for (int i = 0; i < 8; ++i) len_at[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  compress(state_, tail, tail_blocks);
  buffered_ = 0;
  return state_bytes(state_);
}

Digest digest(std::span<const uint8_t> data) {
  Hasher h;
  h.update(data);
  return h.finish();
}

void sha254_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
  uint8_t block[64];
  std::memcpy(block, left, 32);
  std::memcpy(block + 32, right, 32);
  sha254_nodes(block, out, 1);
}

void sha254_node_x2(const uint8_t left0[32], const uint8_t right0[32], uint8_t out0[32],
                    const uint8_t left1[32], const uint8_t right1[32], uint8_t out1[32]) {
  uint8_t blocks[128];
  std::memcpy(blocks, left0, 32);
  std::memcpy(blocks + 32, right0, 32);
  std::memcpy(blocks + 64, left1, 32);
  std::memcpy(blocks + 96, right1, 32);
  uint8_t outs[64];
  sha254_nodes(blocks, outs, 2);
  std::memcpy(out0, outs, 32);
  std::memcpy(out1, outs + 32, 32);
}

void sha254_nodes(const uint8_t* pairs, uint8_t* out, size_t n) {
  if (use_sha_ni()) {
    impl::sha254_nodes_sha_ni(pairs, out, n);
  } else {
    impl::sha254_nodes_portable(pairs, out, n);
  }
}

}  // namespace sealhost::proofs::sha256
