#include "proofs/cid/cid.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sealhost::proofs::cid {
namespace {

Commitment random_commitment(std::mt19937_64& rng) {
  Commitment c;
  for (auto& b : c) b = static_cast<uint8_t>(rng());
  return c;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const CidError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Cid, Base32MatchesRfc4648LowerCase) {
  auto enc = [](std::string_view s) {
    return base32_encode({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "my");
  EXPECT_EQ(enc("fo"), "mzxq");
  EXPECT_EQ(enc("foo"), "mzxw6");
  EXPECT_EQ(enc("foob"), "mzxw6yq");
  EXPECT_EQ(enc("fooba"), "mzxw6ytb");
  EXPECT_EQ(enc("foobar"), "mzxw6ytboi");
  std::mt19937_64 rng(30);
  for (size_t n = 0; n < 70; ++n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    ASSERT_EQ(base32_decode(base32_encode(v)), v) << n;
  }
}

TEST(Cid, KnownPrefixes) {
  const Commitment zero{};
  EXPECT_TRUE(piece_cid_v1(zero).starts_with("baga6ea4seaq"));
  EXPECT_TRUE(sealed_cid(zero).starts_with("bagboea4b5abc"));
  EXPECT_TRUE(piece_cid_v2(zero, 1000).starts_with("bafkzcib"));
}

TEST(Cid, RoundTrips) {
  std::mt19937_64 rng(31);
  for (int i = 0; i < 200; ++i) {
    const Commitment c = random_commitment(rng);
    ASSERT_EQ(parse_piece_cid_v1(piece_cid_v1(c)), c);
    ASSERT_EQ(parse_sealed_cid(sealed_cid(c)), c);
    const uint64_t payload = 65 + rng() % (uint64_t{1} << (rng() % 36));
    const PieceCidV2 v2 = parse_piece_cid_v2(piece_cid_v2(c, payload));
    ASSERT_EQ(v2.root, c);
    ASSERT_EQ(v2.payload_size, payload);
    // The tree is the padded piece: the smallest 128 * 2^k holding the fr32 payload.
    uint64_t padded = 128;
    while (padded / 128 * 127 < payload) padded *= 2;
    ASSERT_EQ(uint64_t{32} << v2.height, padded) << payload;
  }
}

TEST(Cid, ParseErrorsNameTheProblem) {
  const Commitment c{};
  const std::string v1 = piece_cid_v1(c);
  EXPECT_NE(error_of([] { parse_cid(""); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_cid("z" + v1.substr(1)); }).find("multibase prefix 'z'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_cid("B" + v1.substr(1)); }).find("multibase prefix 'B'"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { parse_cid(v1.substr(0, 10) + "!" + v1.substr(11)); }).find("character '!'"),
      std::string::npos);
  EXPECT_NE(error_of([&] { parse_cid(v1.substr(0, v1.size() - 8)); }).find("digest bytes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_sealed_cid(v1); }).find("not a sealed CID"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_piece_cid_v1(sealed_cid(c)); }).find("not a piece CID v1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_piece_cid_v2(v1); }).find("not a piece CID v2"),
            std::string::npos);
  // A CIDv0-style version byte.
  std::vector<uint8_t> bytes = {0x00, 0x55, 0x12, 0x00};
  EXPECT_NE(error_of([&] { parse_cid("b" + base32_encode(bytes)); }).find("version 0"),
            std::string::npos);
  // 32-byte digests only for commitments.
  const std::vector<uint8_t> short_digest(31, 1);
  EXPECT_NE(error_of([&] {
              parse_piece_cid_v1(encode_cid(kCodecFilCommitmentUnsealed,
                                            kHashSha2_256Trunc254Padded, short_digest));
            }).find("31 bytes"),
            std::string::npos);
}

TEST(Cid, PieceV2RejectsExcessPaddingAndBadDigests) {
  PieceCidV2 info;
  info.height = 10;  // 32 KiB tree, 32512 unpadded bytes
  info.padding = 32512 / 2;
  EXPECT_THROW(encode_piece_cid_v2(info), CidError);
  // Build the same CID by hand so the decoder's own check is exercised.
  std::vector<uint8_t> digest;
  append_uvarint(digest, info.padding);
  digest.push_back(info.height);
  digest.resize(digest.size() + 32, 0);
  const std::string bad = encode_cid(kCodecRaw, kHashFr32Sha256Trunc254PadBinTree, digest);
  EXPECT_NE(error_of([&] { parse_piece_cid_v2(bad); }).find("half"), std::string::npos);
  digest.pop_back();
  EXPECT_NE(error_of([&] {
              parse_piece_cid_v2(encode_cid(kCodecRaw, kHashFr32Sha256Trunc254PadBinTree, digest));
            }).find("expected"),
            std::string::npos);
  info.padding = 32512 / 2 - 1;
  EXPECT_EQ(parse_piece_cid_v2(encode_piece_cid_v2(info)).payload_size, 32512 / 2 + 1);
}

TEST(Cid, VarintsAreMinimal) {
  std::vector<uint8_t> v;
  append_uvarint(v, 0xf101);
  EXPECT_EQ(v, (std::vector<uint8_t>{0x81, 0xe2, 0x03}));
  size_t pos = 0;
  EXPECT_EQ(read_uvarint(v, pos), 0xf101u);
  EXPECT_EQ(pos, 3u);
  const std::vector<uint8_t> non_minimal = {0x81, 0x00};
  pos = 0;
  EXPECT_THROW(read_uvarint(non_minimal, pos), CidError);
  const std::vector<uint8_t> truncated = {0x81};
  pos = 0;
  EXPECT_THROW(read_uvarint(truncated, pos), CidError);
}

}  // namespace
}  // namespace sealhost::proofs::cid
