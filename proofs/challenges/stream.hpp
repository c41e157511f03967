// The two primitives Synthetic PoRep derives its challenges from (challenges-post.md §3):
// keyed BLAKE2b with a configurable output length (RFC 7693, the output length is a parameter of
// the hash, not a truncation) and the IETF ChaCha20 keystream (RFC 8439: 32-bit block counter,
// 96-bit nonce) with random access by byte offset.
//
// Both are plain value types without global state; every instance is single-threaded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sealhost::proofs::challenges {

// Keyed BLAKE2b (RFC 7693). out_len 1..64, key 0..64 bytes.
class Blake2b {
 public:
  // Throws std::invalid_argument for an out_len or key length outside the RFC bounds.
  explicit Blake2b(size_t out_len, std::span<const uint8_t> key = {});
  void update(std::span<const uint8_t> data);
  // Writes out_len bytes to out; the object must not be used afterwards.
  void finish(uint8_t* out);

 private:
  void compress(const uint8_t* block, bool last);

  std::array<uint64_t, 8> h_{};
  std::array<uint8_t, 128> buffer_{};
  size_t buffered_ = 0;
  uint64_t t0_ = 0, t1_ = 0;
  size_t out_len_;
};

// One-shot keyed BLAKE2b-256 (out_len 32) of the concatenation a || b.
std::array<uint8_t, 32> blake2b_256_keyed(std::span<const uint8_t> key, std::span<const uint8_t> a,
                                          std::span<const uint8_t> b);

// IETF ChaCha20 keystream (RFC 8439 §2.4 with the plaintext all zero).
class ChaCha20 {
 public:
  ChaCha20(const std::array<uint8_t, 32>& key, const std::array<uint8_t, 12>& nonce);
  // Writes keystream bytes [offset, offset + n) to out. The keystream is 2^32 blocks of 64 bytes;
  // throws std::out_of_range past its end.
  void keystream(uint64_t offset, uint8_t* out, size_t n) const;

 private:
  void block(uint32_t counter, uint8_t out[64]) const;
  std::array<uint32_t, 16> state_{};
};

}  // namespace sealhost::proofs::challenges
