// Every area-1 (commp) and area-2 (empty-sector CommD) vector in tests/vectors/commp.json.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/fr32/fr32.hpp"
#include "proofs/sha256/sha256.hpp"
#include "tests/proofs/commp/vector_data.hpp"

namespace sealhost::proofs::commp {
namespace {

using nlohmann::json;
using testing::from_hex;
using testing::to_hex;

// Hashing real zero data beyond this uses the zero table instead (64 GiB would take minutes).
constexpr uint64_t kMaxHashedBytes = uint64_t{64} << 20;

const json& vectors() {
  static const json kVectors = testing::load_commp_vectors();
  return kVectors;
}

std::vector<json> with_prefix(const std::string& prefix) {
  std::vector<json> out;
  for (const auto& v : vectors()) {
    if (v.at("id").get<std::string>().starts_with(prefix)) out.push_back(v);
  }
  return out;
}

// Id prefixes handled by the tests below; CoversEveryVector checks nothing is left out.
const std::vector<std::string> kHandledPrefixes = {
    "fr32.",       "commp.zero.",     "commp.gcu.",          "commp.commcid.",
    "commp.hh.",   "commp.storacha.", "commd.curio.",        "sha254.curio.",
    "commd.gcu.",  "commd.rfp.",      "commp.rfp.alignment", "commp.gds.",
    "commd.empty."};

TEST(CommpVectors, CoversEveryVector) {
  ASSERT_GE(vectors().size(), 144u) << "tests/vectors/commp.json lost vectors";
  for (const auto& v : vectors()) {
    const std::string id = v.at("id");
    bool handled = false;
    for (const auto& p : kHandledPrefixes) handled = handled || id.starts_with(p);
    EXPECT_TRUE(handled) << "vector " << id << " has no test";
  }
}

// CommP of a payload generator, with the zero table standing in for huge all-zero payloads.
CommpResult payload_commp(const json& gen, unsigned threads = 1) {
  const uint64_t n = testing::generated_size(gen);
  if (n > kMaxHashedBytes && testing::all_zero(gen)) {
    CommpResult r;
    r.payload_size = n;
    r.padded_piece_size = padded_piece_size(n);
    r.comm_p = zero_piece_commitment(r.padded_piece_size);
    return r;
  }
  const auto data = testing::generate(gen);
  return commp(data, threads);
}

TEST(CommpVectors, Fr32) {
  const auto vs = with_prefix("fr32.");
  ASSERT_EQ(vs.size(), 2u);
  for (const auto& v : vs) {
    SCOPED_TRACE(v.at("id").get<std::string>());
    const auto data = testing::generate(v["input"]["data"]);
    const auto padded = fr32::pad(data);
    EXPECT_EQ(to_hex(padded), v["expected"]["padded_hex"].get<std::string>());
    EXPECT_EQ(fr32::unpad(padded, data.size()), data);
  }
}

TEST(CommpVectors, ZeroPieces) {
  const auto vs = with_prefix("commp.zero.");
  ASSERT_EQ(vs.size(), 30u);
  for (const auto& v : vs) {
    SCOPED_TRACE(v.at("id").get<std::string>());
    const uint64_t padded = v["input"]["padded_size"];
    const auto& e = v["expected"];
    const Node table = zero_piece_commitment(padded);
    EXPECT_EQ(to_hex(table), e["root_hex"].get<std::string>());
    EXPECT_EQ(cid::piece_cid_v1(table), e["cid"].get<std::string>());
    if (padded <= kMaxHashedBytes) {
      // Actually hash the zero payload, single- and multi-threaded.
      const auto data = testing::generate(v["input"]["data"]);
      for (unsigned threads : {1u, 2u}) {
        const CommpResult r = commp(data, threads);
        EXPECT_EQ(to_hex(r.comm_p), e["root_hex"].get<std::string>()) << threads << " threads";
        EXPECT_EQ(r.padded_piece_size, padded);
      }
    }
  }
}

TEST(CommpVectors, PayloadCidsGoCommpUtilsAndHashhash) {
  size_t n = 0;
  for (const std::string prefix : {"commp.gcu.", "commp.hh."}) {
    for (const auto& v : with_prefix(prefix)) {
      SCOPED_TRACE(v.at("id").get<std::string>());
      ++n;
      const auto& e = v["expected"];
      const CommpResult r = payload_commp(v["input"]["data"]);
      EXPECT_EQ(cid::piece_cid_v1(r.comm_p), e["cid"].get<std::string>());
      EXPECT_EQ(r.padded_piece_size, e["padded_size"].get<uint64_t>());
      if (e.contains("root_hex")) {
        EXPECT_EQ(to_hex(r.comm_p), e["root_hex"].get<std::string>());
      }
    }
  }
  EXPECT_EQ(n, 38u) << "go-commp-utils + go-fil-commp-hashhash vectors";
}

TEST(CommpVectors, GoFilCommcidV1AndV2) {
  const auto vs = with_prefix("commp.commcid.");
  ASSERT_EQ(vs.size(), 6u);
  for (const auto& v : vs) {
    SCOPED_TRACE(v.at("id").get<std::string>());
    const auto& e = v["expected"];
    const CommpResult r = payload_commp(v["input"]["data"]);
    EXPECT_EQ(to_hex(r.comm_p), e["root_hex"].get<std::string>());
    EXPECT_EQ(cid::piece_cid_v1(r.comm_p), e["cid_v1"].get<std::string>());
    EXPECT_EQ(cid::piece_cid_v2(r.comm_p, r.payload_size), e["cid_v2"].get<std::string>());
    // And back.
    EXPECT_EQ(cid::parse_piece_cid_v1(e["cid_v1"].get<std::string>()), r.comm_p);
    const cid::PieceCidV2 p = cid::parse_piece_cid_v2(e["cid_v2"].get<std::string>());
    EXPECT_EQ(p.root, r.comm_p);
    EXPECT_EQ(p.payload_size, r.payload_size);
    EXPECT_EQ(uint64_t{32} << p.height, r.padded_piece_size);
  }
}

TEST(CommpVectors, StorachaDataSegmentSizes) {
  const auto vs = with_prefix("commp.storacha.");
  ASSERT_GE(vs.size(), 50u);
  for (const auto& v : vs) {
    SCOPED_TRACE(v.at("id").get<std::string>());
    const auto& e = v["expected"];
    const auto data = testing::generate(v["input"]["data"]);
    // The generator itself is pinned by the payload's raw CID.
    const auto digest = sha256::digest(data);
    EXPECT_EQ(cid::encode_cid(cid::kCodecRaw, cid::kHashSha2_256, digest),
              v["input"]["payload_cid_check"].get<std::string>());
    const CommpResult r = commp(data);
    EXPECT_EQ(cid::piece_cid_v1(r.comm_p), e["cid"].get<std::string>());
    EXPECT_EQ(r.padded_piece_size, e["padded_size"].get<uint64_t>());
    EXPECT_EQ(r.unpadded_piece_size(), e["unpadded_piece_size"].get<uint64_t>());
    EXPECT_EQ(unpadded_piece_size(data.size()), e["unpadded_piece_size"].get<uint64_t>());
  }
}

TEST(CommpVectors, CurioTreeD) {
  const auto vs = with_prefix("commd.curio.");
  ASSERT_EQ(vs.size(), 2u);
  for (const auto& v : vs) {
    SCOPED_TRACE(v.at("id").get<std::string>());
    const auto& e = v["expected"];
    const auto padded = testing::generate(v["input"]["padded_data"]);
    for (unsigned threads : {1u, 2u}) {
      const CommpResult r = commp_padded(padded, threads);
      EXPECT_EQ(to_hex(r.comm_p), e["root_hex"].get<std::string>());
      EXPECT_EQ(cid::piece_cid_v1(r.comm_p), e["cid"].get<std::string>());
      EXPECT_EQ(r.padded_piece_size, padded.size());
    }
    EXPECT_EQ(to_hex(merkle_root(padded)), e["root_hex"].get<std::string>());
    if (e.contains("level1_node0_hex")) {
      uint8_t node[32];
      sha256::sha254_node(padded.data(), padded.data() + 32, node);
      EXPECT_EQ(to_hex(node), e["level1_node0_hex"].get<std::string>());
    }
  }
  for (const auto& v : with_prefix("sha254.curio.")) {
    const auto data = testing::generate(v["input"]["data"]);
    ASSERT_EQ(data.size(), 64u);
    uint8_t node[32];
    sha256::sha254_node(data.data(), data.data() + 32, node);
    EXPECT_EQ(to_hex(node), v["expected"]["digest_hex"].get<std::string>());
  }
}

TEST(CommpVectors, MainnetSectorCommD) {
  const auto vs = with_prefix("commd.gcu.");
  ASSERT_EQ(vs.size(), 1u);
  const auto& v = vs[0];
  std::vector<PieceInfo> pieces;
  for (const auto& p : v["input"]["pieces_in_order"]) {
    pieces.push_back({cid::parse_piece_cid_v1(p["cid"].get<std::string>()), p["padded_size"]});
  }
  const uint64_t sector = v["input"]["sector_size"];
  const Node d = comm_d(sector, pieces);
  EXPECT_EQ(to_hex(d), v["expected"]["root_hex"].get<std::string>());
  EXPECT_EQ(cid::piece_cid_v1(d), v["expected"]["cid"].get<std::string>());
  // The listed zero pieces are exactly what the chain layout would insert.
  std::vector<PieceInfo> data_only(pieces.begin(), pieces.end() - 2);
  EXPECT_EQ(to_hex(comm_d(sector, data_only)), v["expected"]["root_hex"].get<std::string>());
  EXPECT_EQ(to_hex(join_pieces(pieces)), v["expected"]["root_hex"].get<std::string>());
}

TEST(CommpVectors, RustFilProofsEmptyAndAlignment) {
  const auto empty = with_prefix("commd.rfp.empty");
  ASSERT_EQ(empty.size(), 1u);
  const auto& cases = empty[0]["input"]["cases"];
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(to_hex(comm_d(cases[i]["sector_size"], {})),
              empty[0]["expected"]["comm_d_hex"][i].get<std::string>());
  }
  const auto align = with_prefix("commp.rfp.alignment");
  ASSERT_EQ(align.size(), 1u);
  const auto& ws = align[0]["input"]["cases_W_S"];
  const auto& lr = align[0]["expected"]["left_right"];
  ASSERT_EQ(ws.size(), lr.size());
  for (size_t i = 0; i < ws.size(); ++i) {
    const PieceAlignment a = piece_alignment(ws[i][0], ws[i][1]);
    EXPECT_EQ(a.left, lr[i][0].get<uint64_t>()) << "case " << i;
    EXPECT_EQ(a.right, lr[i][1].get<uint64_t>()) << "case " << i;
  }
  const auto pieces = align[0]["input"]["start_byte_pieces"].get<std::vector<uint64_t>>();
  const auto starts = align[0]["expected"]["start_bytes"].get<std::vector<uint64_t>>();
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(piece_start_byte(std::span(pieces).first(i), pieces[i]), starts[i]) << "piece " << i;
  }
}

TEST(CommpVectors, GoDataSegmentFiles) {
  const auto vs = with_prefix("commp.gds.");
  ASSERT_EQ(vs.size(), 4u);
  const std::filesystem::path dir =
      std::filesystem::path(SEALHOST_TEST_VECTORS).parent_path() / "proofs/commp/data";
  for (const auto& v : vs) {
    SCOPED_TRACE(v.at("id").get<std::string>());
    const auto& f = v["input"]["file"];
    std::string name = std::filesystem::path(f["path"].get<std::string>()).filename().string();
    for (auto& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    const auto path = dir / name;
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << "missing test data file " << path;
    const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    ASSERT_EQ(data.size(), f["size"].get<uint64_t>());
    ASSERT_EQ(to_hex(sha256::digest(data)), f["sha256"].get<std::string>());
    for (unsigned threads : {1u, 2u}) {
      const CommpResult r = commp_file(path, threads);
      EXPECT_EQ(cid::piece_cid_v1(r.comm_p), v["expected"]["cid"].get<std::string>());
      EXPECT_EQ(r.padded_piece_size, v["expected"]["padded_size"].get<uint64_t>());
      EXPECT_EQ(r.payload_size, data.size());
    }
  }
}

TEST(CommpVectors, EmptySectors) {
  const auto vs = with_prefix("commd.empty.");
  ASSERT_EQ(vs.size(), 5u);
  for (const auto& v : vs) {
    SCOPED_TRACE(v.at("id").get<std::string>());
    const uint64_t sector = v["input"]["sector_size"];
    const Node d = comm_d(sector, {});
    EXPECT_EQ(to_hex(d), v["expected"]["comm_d_hex"].get<std::string>());
    EXPECT_EQ(cid::piece_cid_v1(d), v["expected"]["unsealed_cid"].get<std::string>());
    if (sector <= (uint64_t{8} << 20)) {
      const std::vector<uint8_t> zeros(sector, 0);
      EXPECT_EQ(to_hex(commp_padded(zeros, 2).comm_p),
                v["expected"]["comm_d_hex"].get<std::string>());
    }
  }
}

}  // namespace
}  // namespace sealhost::proofs::commp
