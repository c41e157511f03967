#include "proofs/fr32/fr32.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <vector>

namespace sealhost::proofs::fr32 {
namespace {

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Spec §1.1 taken literally, one bit at a time: unpadded bit k -> padded bit
// (k / 254) * 256 + k % 254, everything else zero. Independent of the word-shifting code.
std::vector<uint8_t> reference_pad_quads(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(in.size() / 127 * 128, 0);
  for (size_t k = 0; k < 8 * (in.size() / 127 * 127); ++k) {
    if ((in[k / 8] >> (k % 8)) & 1) {
      const size_t p = k / 254 * 256 + k % 254;
      out[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
    }
  }
  return out;
}

TEST(Fr32, SizeConversionsMatchRustFormulas) {
  EXPECT_EQ(to_padded_bytes(127), 128u);
  EXPECT_EQ(to_padded_bytes(30), 30u) << "240 bits fit in one word without crossing a gap";
  EXPECT_EQ(to_padded_bytes(32), 33u);
  EXPECT_EQ(to_padded_bytes(34091302912), 34359738368u);
  EXPECT_EQ(to_unpadded_bytes(128), 127u);
  EXPECT_EQ(to_unpadded_bytes(2048), 2032u);
  EXPECT_EQ(to_unpadded_bytes(68719476736), 68182605824u);
  std::mt19937_64 rng(10);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t n = rng() % (uint64_t{1} << 40);
    // Same arithmetic as the Rust code's bit counts, via the per-quad identity.
    const uint64_t bits = 8 * n;
    const uint64_t want = (bits / 254 * 256 + bits % 254 + 7) / 8;
    ASSERT_EQ(to_padded_bytes(n), want) << n;
    ASSERT_LE(to_unpadded_bytes(to_padded_bytes(n)), n + 1) << n;
    ASSERT_GE(to_unpadded_bytes(to_padded_bytes(n)), n) << n;
  }
}

TEST(Fr32, QuadsMatchBitwiseDefinition) {
  std::mt19937_64 rng(11);
  for (size_t quads : {1u, 2u, 3u, 17u}) {
    const auto in = random_bytes(rng, 127 * quads);
    std::vector<uint8_t> out(128 * quads);
    pad_quads(in.data(), out.data(), quads);
    ASSERT_EQ(out, reference_pad_quads(in)) << quads << " quads";
    std::vector<uint8_t> back(127 * quads);
    unpad_quads(out.data(), back.data(), quads);
    ASSERT_EQ(back, in);
  }
}

TEST(Fr32, AllOnesKeepsTopBitsClear) {
  const std::vector<uint8_t> ones(127, 0xff);
  const auto out = pad(ones);
  ASSERT_EQ(out.size(), 128u);
  for (size_t w = 0; w < 4; ++w) {
    for (size_t i = 0; i < 31; ++i) EXPECT_EQ(out[32 * w + i], 0xff) << w << "/" << i;
    EXPECT_EQ(out[32 * w + 31], 0x3f) << "word " << w;
  }
}

TEST(Fr32, PartialLastQuadFollowsFr32Reader) {
  // Upstream fr32 reader tests: 30 bytes -> one word; 32 x 0xff -> two words.
  EXPECT_EQ(pad(std::vector<uint8_t>(30, 7)).size(), 32u);
  const auto out = pad(std::vector<uint8_t>(32, 0xff));
  ASSERT_EQ(out.size(), 64u);
  EXPECT_EQ(out[31], 0x3f);
  EXPECT_EQ(out[32], 0x03);
  std::mt19937_64 rng(12);
  for (size_t n = 1; n < 400; ++n) {
    const auto in = random_bytes(rng, n);
    const auto p = pad(in);
    ASSERT_EQ(p.size() % 32, 0u);
    ASSERT_EQ(p.size(), n / 127 * 128 + (8 * (n % 127) + 253) / 254 * 32) << n;
    ASSERT_EQ(unpad(p, n), in) << n;
  }
}

TEST(Fr32, RandomAccessRoundTripsAtRandomOffsets) {
  std::mt19937_64 rng(13);
  const auto payload = random_bytes(rng, 127 * 40);
  const auto padded = reference_pad_quads(payload);
  for (int iter = 0; iter < 500; ++iter) {
    const uint64_t offset = rng() % payload.size();
    const uint64_t len = rng() % (payload.size() - offset + 1);
    // unpad_from over a window that starts somewhere at or before the range.
    const uint64_t first = offset * 8 / 254 * 256 / 8;
    const uint64_t window_offset = first - rng() % (first + 1);
    std::span<const uint8_t> window(padded.data() + window_offset, padded.size() - window_offset);
    std::vector<uint8_t> got(len);
    unpad_from(window, window_offset, offset, got);
    ASSERT_TRUE(std::equal(got.begin(), got.end(), payload.begin() + offset))
        << "unpad offset " << offset << " len " << len;
    // pad_into the same range over a window that already holds the rest: nothing changes.
    auto target = padded;
    std::span<uint8_t> wtarget(target.data() + window_offset, target.size() - window_offset);
    pad_into({payload.data() + offset, len}, offset, wtarget, window_offset);
    ASSERT_EQ(target, padded) << "pad offset " << offset << " len " << len;
  }
}

TEST(Fr32, StreamingPadInRandomPiecesBuildsTheWholeBuffer) {
  std::mt19937_64 rng(14);
  const auto payload = random_bytes(rng, 127 * 33);
  std::vector<uint8_t> built(128 * 33, 0xaa);  // garbage must be overwritten bit by bit
  uint64_t pos = 0;
  while (pos < payload.size()) {
    const uint64_t len = std::min<uint64_t>(payload.size() - pos, 1 + rng() % 300);
    pad_into({payload.data() + pos, len}, pos, built, 0);
    pos += len;
  }
  // Bits 254/255 of each word are not payload bits; pad_into leaves them alone.
  for (size_t w = 0; w < built.size() / 32; ++w) built[32 * w + 31] &= 0x3f;
  EXPECT_EQ(built, reference_pad_quads(payload));
}

TEST(Fr32, WindowNotCoveringTheRangeThrows) {
  std::vector<uint8_t> window(128);
  std::vector<uint8_t> out(10);
  EXPECT_THROW(unpad_from(window, 128, 0, out), std::out_of_range);
  EXPECT_THROW(unpad_from(window, 0, 125, out), std::out_of_range);
  EXPECT_THROW(pad_into(out, 200, window, 0), std::out_of_range);
  EXPECT_NO_THROW(unpad_from(window, 0, 117, out));
}

}  // namespace
}  // namespace sealhost::proofs::fr32
