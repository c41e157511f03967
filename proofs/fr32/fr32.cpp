#include "proofs/fr32/fr32.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sealhost::proofs::fr32 {
namespace {

static_assert(std::endian::native == std::endian::little, "fr32 word shuffling assumes LE");

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline void store64(uint8_t* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}

constexpr uint64_t kTopBitsClear = 0x3fffffffffffffffULL;

// Word w of the output is input bits [254w, 254w + 254): byte offset 31w + ..., shift 6, 4, 2
// for w = 1, 2, 3 (spec §1.1). Each 64-bit output limb is a funnel shift of two input loads.
template <size_t kOffset, unsigned kShift>
inline void pad_word(const uint8_t* in, uint8_t* out) {
  for (size_t i = 0; i < 4; ++i) {
    uint64_t v = load64(in + kOffset + 8 * i);
    if constexpr (kShift != 0) {
      // For the last limb of word 3 the next load would start past the quad; the bits it would
      // supply land in the two cleared top bits, so it is skipped.
      if (kOffset + 8 * i + 8 < kQuadUnpaddedBytes) {
        v = (v >> kShift) | (load64(in + kOffset + 8 * i + 8) << (64 - kShift));
      } else {
        v >>= kShift;
      }
    }
    if (i == 3) v &= kTopBitsClear;
    store64(out + 8 * i, v);
  }
}

inline void pad_quad(const uint8_t* in, uint8_t* out) {
  pad_word<0, 0>(in, out);
  pad_word<31, 6>(in, out + 32);
  pad_word<63, 4>(in, out + 64);
  pad_word<95, 2>(in, out + 96);
}

inline void unpad_quad(const uint8_t* in, uint8_t* out) {
  uint64_t limbs[17] = {};
  for (size_t w = 0; w < 4; ++w) {
    for (size_t i = 0; i < 4; ++i) {
      uint64_t v = load64(in + 32 * w + 8 * i);
      if (i == 3) v &= kTopBitsClear;
      const size_t bit = 254 * w + 64 * i;
      const size_t limb = bit / 64;
      const unsigned r = bit % 64;
      limbs[limb] |= v << r;
      if (r != 0) limbs[limb + 1] |= v >> (64 - r);
    }
  }
  std::memcpy(out, limbs, kQuadUnpaddedBytes);
}

inline uint64_t padded_bit(uint64_t unpadded_bit) {
  return unpadded_bit / 254 * 256 + unpadded_bit % 254;
}

[[noreturn]] void window_error(const char* what, uint64_t need_begin, uint64_t need_end,
                               uint64_t window_offset, size_t window_size) {
  throw std::out_of_range(std::string("fr32 ") + what + ": padded bytes [" +
                          std::to_string(need_begin) + ", " + std::to_string(need_end) +
                          ") are not inside the window [" + std::to_string(window_offset) + ", " +
                          std::to_string(window_offset + window_size) +
                          ") (pass a window that covers the range)");
}

// Padded byte range touched by unpadded bytes [offset, offset + len).
void check_window(const char* what, uint64_t offset, uint64_t len, uint64_t window_offset,
                  size_t window_size) {
  if (len == 0) return;
  const uint64_t begin = padded_bit(8 * offset) / 8;
  const uint64_t end = padded_bit(8 * (offset + len) - 1) / 8 + 1;
  if (begin < window_offset || end > window_offset + window_size) {
    window_error(what, begin, end, window_offset, window_size);
  }
}

}  // namespace

// Whole quads are split off first so 8 * n never overflows.
uint64_t to_padded_bytes(uint64_t unpadded) {
  const uint64_t quads = unpadded / kQuadUnpaddedBytes;
  const uint64_t bits = 8 * (unpadded % kQuadUnpaddedBytes);
  const uint64_t padded_bits = bits / 254 * 256 + bits % 254;
  return quads * kQuadPaddedBytes + (padded_bits + 7) / 8;
}

uint64_t to_unpadded_bytes(uint64_t padded) {
  const uint64_t quads = padded / kQuadPaddedBytes;
  const uint64_t bits = 8 * (padded % kQuadPaddedBytes);
  const uint64_t unpadded_bits = bits / 256 * 254 + bits % 256;
  return quads * kQuadUnpaddedBytes + unpadded_bits / 8;
}

void pad_quads(const uint8_t* in, uint8_t* out, size_t nquads) {
  for (size_t q = 0; q < nquads; ++q) {
    pad_quad(in + q * kQuadUnpaddedBytes, out + q * kQuadPaddedBytes);
  }
}

void unpad_quads(const uint8_t* in, uint8_t* out, size_t nquads) {
  for (size_t q = 0; q < nquads; ++q) {
    unpad_quad(in + q * kQuadPaddedBytes, out + q * kQuadUnpaddedBytes);
  }
}

std::vector<uint8_t> pad(std::span<const uint8_t> unpadded) {
  const size_t whole = unpadded.size() / kQuadUnpaddedBytes;
  const size_t rest = unpadded.size() % kQuadUnpaddedBytes;
  std::vector<uint8_t> out(whole * kQuadPaddedBytes);
  pad_quads(unpadded.data(), out.data(), whole);
  if (rest == 0) return out;
  uint8_t quad_in[kQuadUnpaddedBytes] = {};
  uint8_t quad_out[kQuadPaddedBytes];
  std::memcpy(quad_in, unpadded.data() + whole * kQuadUnpaddedBytes, rest);
  pad_quad(quad_in, quad_out);
  const size_t words = (8 * rest + 253) / 254;
  out.insert(out.end(), quad_out, quad_out + 32 * words);
  return out;
}

std::vector<uint8_t> unpad(std::span<const uint8_t> padded, uint64_t unpadded_len) {
  std::vector<uint8_t> out(unpadded_len);
  unpad_from(padded, 0, 0, out);
  return out;
}

void pad_into(std::span<const uint8_t> in, uint64_t offset, std::span<uint8_t> window,
              uint64_t window_offset) {
  check_window("pad_into", offset, in.size(), window_offset, window.size());
  size_t i = 0;
  auto put_byte = [&](size_t idx) {
    const uint64_t base = 8 * (offset + idx);
    for (unsigned b = 0; b < 8; ++b) {
      const uint64_t p = padded_bit(base + b) - 8 * window_offset;
      const uint8_t bit = static_cast<uint8_t>(1u << (p % 8));
      if ((in[idx] >> b) & 1) {
        window[p / 8] |= bit;
      } else {
        window[p / 8] &= static_cast<uint8_t>(~bit);
      }
    }
  };
  while (i < in.size() && (offset + i) % kQuadUnpaddedBytes != 0) put_byte(i++);
  const size_t quads = (in.size() - i) / kQuadUnpaddedBytes;
  if (quads > 0) {
    const uint64_t at = (offset + i) / kQuadUnpaddedBytes * kQuadPaddedBytes - window_offset;
    pad_quads(in.data() + i, window.data() + at, quads);
    i += quads * kQuadUnpaddedBytes;
  }
  while (i < in.size()) put_byte(i++);
}

void unpad_from(std::span<const uint8_t> window, uint64_t window_offset, uint64_t offset,
                std::span<uint8_t> out) {
  check_window("unpad_from", offset, out.size(), window_offset, window.size());
  size_t i = 0;
  auto get_byte = [&](size_t idx) {
    const uint64_t base = 8 * (offset + idx);
    uint8_t v = 0;
    for (unsigned b = 0; b < 8; ++b) {
      const uint64_t p = padded_bit(base + b) - 8 * window_offset;
      v |= static_cast<uint8_t>(((window[p / 8] >> (p % 8)) & 1) << b);
    }
    out[idx] = v;
  };
  while (i < out.size() && (offset + i) % kQuadUnpaddedBytes != 0) get_byte(i++);
  const size_t quads = (out.size() - i) / kQuadUnpaddedBytes;
  if (quads > 0) {
    const uint64_t at = (offset + i) / kQuadUnpaddedBytes * kQuadPaddedBytes - window_offset;
    unpad_quads(window.data() + at, out.data() + i, quads);
    i += quads * kQuadUnpaddedBytes;
  }
  while (i < out.size()) get_byte(i++);
}

}  // namespace sealhost::proofs::fr32
