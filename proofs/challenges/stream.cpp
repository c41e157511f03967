#include "proofs/challenges/stream.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace sealhost::proofs::challenges {
namespace {

constexpr std::array<uint64_t, 8> kIv = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

constexpr uint8_t kSigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

inline uint64_t rotr64(uint64_t x, int n) {
  return (x >> n) | (x << (64 - n));
}
inline uint32_t rotl32(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

inline uint64_t load64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint32_t load32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline void store32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

Blake2b::Blake2b(size_t out_len, std::span<const uint8_t> key) : out_len_(out_len) {
  if (out_len == 0 || out_len > 64) {
    throw std::invalid_argument("blake2b: output length " + std::to_string(out_len) +
                                " out of range (use 1..64)");
  }
  if (key.size() > 64) {
    throw std::invalid_argument("blake2b: key of " + std::to_string(key.size()) +
                                " bytes is too long (at most 64)");
  }
  h_ = kIv;
  // Parameter block word 0: digest length, key length, fanout 1, depth 1.
  h_[0] ^= 0x01010000ULL ^ (uint64_t{key.size()} << 8) ^ uint64_t { out_len };
  if (!key.empty()) {
    std::memcpy(buffer_.data(), key.data(), key.size());
    buffered_ = buffer_.size();  // the key block is a full (zero-padded) block
  }
}

void Blake2b::compress(const uint8_t* block, bool last) {
  uint64_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = load64(block + 8 * i);
  uint64_t v[16];
  for (int i = 0; i < 8; ++i) {
    v[i] = h_[i];
    v[i + 8] = kIv[i];
  }
  v[12] ^= t0_;
  v[13] ^= t1_;
  if (last) v[14] = ~v[14];
  auto g = [&v](int a, int b, int c, int d, uint64_t x, uint64_t y) {
    v[a] = v[a] + v[b] + x;
    v[d] = rotr64(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = rotr64(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = rotr64(v[b] ^ v[c], 63);
  };
  for (const auto& s : kSigma) {
    g(0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; ++i) h_[i] ^= v[i] ^ v[i + 8];
}

void Blake2b::update(std::span<const uint8_t> data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n > 0) {
    // A full buffer is only compressed once more input arrives: the last block is special.
    if (buffered_ == buffer_.size()) {
      t0_ += buffer_.size();
      if (t0_ < buffer_.size()) ++t1_;
      compress(buffer_.data(), false);
      buffered_ = 0;
    }
    const size_t take = std::min(n, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    n -= take;
  }
}

void Blake2b::finish(uint8_t* out) {
  t0_ += buffered_;
  if (t0_ < buffered_) ++t1_;
  std::memset(buffer_.data() + buffered_, 0, buffer_.size() - buffered_);
  compress(buffer_.data(), true);
  uint8_t full[64];
  for (int i = 0; i < 8; ++i) {
    for (int b = 0; b < 8; ++b) full[8 * i + b] = static_cast<uint8_t>(h_[i] >> (8 * b));
  }
  std::memcpy(out, full, out_len_);
}

std::array<uint8_t, 32> blake2b_256_keyed(std::span<const uint8_t> key, std::span<const uint8_t> a,
                                          std::span<const uint8_t> b) {
  Blake2b h(32, key);
  h.update(a);
  h.update(b);
  std::array<uint8_t, 32> out{};
  h.finish(out.data());
  return out;
}

ChaCha20::ChaCha20(const std::array<uint8_t, 32>& key, const std::array<uint8_t, 12>& nonce) {
  state_[0] = 0x61707865;
  state_[1] = 0x3320646e;
  state_[2] = 0x79622d32;
  state_[3] = 0x6b206574;
  for (int i = 0; i < 8; ++i) state_[4 + i] = load32(key.data() + 4 * i);
  state_[12] = 0;
  for (int i = 0; i < 3; ++i) state_[13 + i] = load32(nonce.data() + 4 * i);
}

void ChaCha20::block(uint32_t counter, uint8_t out[64]) const {
  std::array<uint32_t, 16> x = state_;
  x[12] = counter;
  const std::array<uint32_t, 16> in = x;
  auto qr = [&x](int a, int b, int c, int d) {
    x[a] += x[b];
    x[d] = rotl32(x[d] ^ x[a], 16);
    x[c] += x[d];
    x[b] = rotl32(x[b] ^ x[c], 12);
    x[a] += x[b];
    x[d] = rotl32(x[d] ^ x[a], 8);
    x[c] += x[d];
    x[b] = rotl32(x[b] ^ x[c], 7);
  };
  for (int round = 0; round < 10; ++round) {
    qr(0, 4, 8, 12);
    qr(1, 5, 9, 13);
    qr(2, 6, 10, 14);
    qr(3, 7, 11, 15);
    qr(0, 5, 10, 15);
    qr(1, 6, 11, 12);
    qr(2, 7, 8, 13);
    qr(3, 4, 9, 14);
  }
  for (int i = 0; i < 16; ++i) store32(out + 4 * i, x[i] + in[i]);
}

void ChaCha20::keystream(uint64_t offset, uint8_t* out, size_t n) const {
  constexpr uint64_t kEnd = uint64_t{1} << 38;  // 2^32 blocks of 64 bytes
  if (offset > kEnd || n > kEnd - offset) {
    throw std::out_of_range("chacha20: keystream bytes [" + std::to_string(offset) + ", +" +
                            std::to_string(n) + ") past the end of the 256 GiB keystream");
  }
  uint8_t buf[64];
  while (n > 0) {
    const auto counter = static_cast<uint32_t>(offset / 64);
    const size_t skip = offset % 64;
    block(counter, buf);
    const size_t take = std::min(n, size_t{64} - skip);
    std::memcpy(out, buf + skip, take);
    out += take;
    offset += take;
    n -= take;
  }
}

}  // namespace sealhost::proofs::challenges
