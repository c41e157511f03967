#include "proofs/sha256/sha256.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::proofs::sha256 {
namespace {

std::string hex(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

Digest openssl_sha256(std::span<const uint8_t> data) {
  Digest d;
  SHA256(data.data(), data.size(), d.data());
  return d;
}

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Sha256, Fips180Examples) {
  EXPECT_EQ(hex(digest(as_bytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(digest(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(digest(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(hex(digest(as_bytes(million))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, MatchesOpenSslOnRandomLengthsAndSplits) {
  std::mt19937_64 rng(1);
  for (size_t len = 0; len < 300; ++len) {
    const auto data = random_bytes(rng, len);
    ASSERT_EQ(digest(data), openssl_sha256(data)) << "length " << len;
    // Same data fed in two uneven pieces through the incremental hasher.
    const size_t cut = len == 0 ? 0 : rng() % len;
    Hasher h;
    h.update(std::span(data).first(cut));
    h.update(std::span(data).subspan(cut));
    ASSERT_EQ(h.finish(), openssl_sha256(data)) << "length " << len << " cut " << cut;
  }
}

TEST(Sha256, ImplementationMatchesEnvironment) {
  const char* forced = std::getenv("SEALHOST_SHA256_IMPL");
  const bool want_portable =
      !sha_ni_supported() || (forced != nullptr && std::string_view(forced) == "portable");
  EXPECT_STREQ(implementation_name(), want_portable ? "portable" : "sha-ni")
      << "SEALHOST_SHA256_IMPL=" << (forced ? forced : "(unset)");
}

TEST(Sha256, ShaNiCompressMatchesPortable) {
  if (!sha_ni_supported()) GTEST_SKIP() << "cpu has no SHA extensions";
  std::mt19937_64 rng(2);
  for (size_t nblocks = 1; nblocks <= 17; ++nblocks) {
    const auto data = random_bytes(rng, nblocks * kBlockBytes);
    State a;
    for (auto& w : a.h) w = static_cast<uint32_t>(rng());
    State b = a;
    impl::compress_portable(a, data.data(), nblocks);
    impl::compress_sha_ni(b, data.data(), nblocks);
    ASSERT_EQ(0, std::memcmp(a.h, b.h, sizeof a.h)) << nblocks << " blocks";
  }
}

TEST(Sha256, MultiStreamMatchesSingleStream) {
  std::mt19937_64 rng(3);
  for (size_t nblocks = 1; nblocks <= 9; ++nblocks) {
    std::vector<std::vector<uint8_t>> data;
    std::array<State, 4> single;
    for (int s = 0; s < 4; ++s) {
      data.push_back(random_bytes(rng, nblocks * kBlockBytes));
      for (auto& w : single[s].h) w = static_cast<uint32_t>(rng());
    }
    std::array<State, 4> x2 = single;
    std::array<State, 4> x4 = single;
    for (int s = 0; s < 4; ++s) impl::compress_portable(single[s], data[s].data(), nblocks);
    compress_x2(x2[0], data[0].data(), x2[1], data[1].data(), nblocks);
    compress_x2(x2[2], data[2].data(), x2[3], data[3].data(), nblocks);
    compress_x4({&x4[0], &x4[1], &x4[2], &x4[3]},
                {data[0].data(), data[1].data(), data[2].data(), data[3].data()}, nblocks);
    for (int s = 0; s < 4; ++s) {
      ASSERT_EQ(0, std::memcmp(single[s].h, x2[s].h, 32)) << "x2 stream " << s;
      ASSERT_EQ(0, std::memcmp(single[s].h, x4[s].h, 32)) << "x4 stream " << s;
    }
  }
}

Digest reference_node(const uint8_t* pair) {
  Digest d = openssl_sha256({pair, 64});
  d[31] &= 0x3f;
  return d;
}

TEST(Sha254, NodesMatchTruncatedSha256ForEveryBatchShape) {
  std::mt19937_64 rng(4);
  for (size_t n = 0; n <= 11; ++n) {
    const auto pairs = random_bytes(rng, 64 * n);
    std::vector<uint8_t> out(32 * n);
    std::vector<uint8_t> out_portable(32 * n);
    sha254_nodes(pairs.data(), out.data(), n);
    impl::sha254_nodes_portable(pairs.data(), out_portable.data(), n);
    if (sha_ni_supported()) {
      std::vector<uint8_t> out_ni(32 * n);
      impl::sha254_nodes_sha_ni(pairs.data(), out_ni.data(), n);
      ASSERT_EQ(out_ni, out_portable) << n << " nodes";
    }
    for (size_t i = 0; i < n; ++i) {
      const Digest want = reference_node(pairs.data() + 64 * i);
      ASSERT_EQ(0, std::memcmp(out.data() + 32 * i, want.data(), 32)) << "node " << i << "/" << n;
      ASSERT_EQ(0, std::memcmp(out_portable.data() + 32 * i, want.data(), 32))
          << "portable node " << i << "/" << n;
    }
    // In-place reduction of the row into its first half.
    auto row = pairs;
    sha254_nodes(row.data(), row.data(), n);
    ASSERT_TRUE(std::equal(out.begin(), out.end(), row.begin())) << "in place, " << n << " nodes";
  }
}

TEST(Sha254, SingleAndPairHelpersMatchBatch) {
  std::mt19937_64 rng(5);
  const auto in = random_bytes(rng, 128);
  uint8_t batch[64];
  sha254_nodes(in.data(), batch, 2);
  uint8_t one[32];
  sha254_node(in.data(), in.data() + 32, one);
  EXPECT_EQ(0, std::memcmp(one, batch, 32));
  uint8_t a[32];
  uint8_t b[32];
  sha254_node_x2(in.data(), in.data() + 32, a, in.data() + 64, in.data() + 96, b);
  EXPECT_EQ(0, std::memcmp(a, batch, 32));
  EXPECT_EQ(0, std::memcmp(b, batch + 32, 32));
  // Output aliasing an input.
  uint8_t left[32];
  std::memcpy(left, in.data(), 32);
  sha254_node(left, in.data() + 32, left);
  EXPECT_EQ(0, std::memcmp(left, batch, 32));
}

TEST(Sha254, ZeroNodeIsTheKnownLevelOneZeroCommitment) {
  const uint8_t zero[64] = {};
  uint8_t out[32];
  sha254_node(zero, zero + 32, out);
  EXPECT_EQ(hex(out), "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb0b");
}

}  // namespace
}  // namespace sealhost::proofs::sha256
