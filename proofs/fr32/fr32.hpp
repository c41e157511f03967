// Fr32 bit padding (rust-fil-proofs `fr32` crate): every 127 bytes (1016 bits) of payload become
// four 32-byte little-endian words of 254 payload bits each, whose two top bits are zero, so every
// word is a canonical BLS12-381 scalar. Unpadded bit k lives at padded bit (k/254)*256 + k%254,
// bits counted LSB-first within bytes and bytes in order. See spec fr32-commp.md §1-2.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sealhost::proofs::fr32 {

inline constexpr size_t kQuadUnpaddedBytes = 127;
inline constexpr size_t kQuadPaddedBytes = 128;

// Size conversions exactly as fr32::padding (to_padded_bytes / to_unpadded_bytes): partial words
// count their bits, so e.g. to_padded_bytes(32) == 33 and to_unpadded_bytes(128) == 127.
uint64_t to_padded_bytes(uint64_t unpadded);
uint64_t to_unpadded_bytes(uint64_t padded);

// Fast path: pads `nquads` whole quads, in[127*i..] -> out[128*i..]. `in` and `out` must not
// overlap.
void pad_quads(const uint8_t* in, uint8_t* out, size_t nquads);

// Inverse of pad_quads; the two top bits of each padded word are ignored.
void unpad_quads(const uint8_t* in, uint8_t* out, size_t nquads);

// Pads a whole payload the way Fr32Reader does: whole quads, then a zero-extended partial quad
// emitting ceil(8n/254) words for its n bytes.
std::vector<uint8_t> pad(std::span<const uint8_t> unpadded);

// Recovers `unpadded_len` bytes from a padded stream starting at padded byte 0; `padded` must
// hold at least to_padded_bytes(unpadded_len) bytes.
std::vector<uint8_t> unpad(std::span<const uint8_t> padded, uint64_t unpadded_len);

// Random access, for streaming any byte range. `window` holds the padded stream's bytes
// [window_offset, window_offset + window.size()).
//
// pad_into writes the padding of unpadded bytes [offset, offset + in.size()) into the window and
// leaves every other bit of the window untouched. unpad_from reads unpadded bytes
// [offset, offset + out.size()). Both throw std::out_of_range when the window does not cover the
// range. Whole quads inside the range take the fast path.
void pad_into(std::span<const uint8_t> in, uint64_t offset, std::span<uint8_t> window,
              uint64_t window_offset);
void unpad_from(std::span<const uint8_t> window, uint64_t window_offset, uint64_t offset,
                std::span<uint8_t> out);

}  // namespace sealhost::proofs::fr32
