// Seal proof table, porep ids, replica/prover ids and the SDR graph against the area-4 vectors.
#include "proofs/sdr/graph.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>

#include "proofs/sdr/seal_proof.hpp"
#include "tests/proofs/sdr/vectors.hpp"

namespace sealhost::proofs::sdr {
namespace {

using testing::api_from_string;
using testing::vector_by_id;

TEST(SealProof, TableMatchesPorepIdVectors) {
  const auto& v = vector_by_id("sdr.porep_ids");
  size_t checked = 0;
  for (const auto& [name, exp] : v.at("expected").items()) {
    const uint64_t id = exp.at("id").get<uint64_t>();
    if (id >= 15) {  // NI-PoRep: documented as unsupported
      EXPECT_THROW(seal_proof_by_id(id), SdrError) << name;
      EXPECT_THROW(lookup_seal_proof(name), SdrError) << name;
      continue;
    }
    const SealProof& p = lookup_seal_proof(name);
    EXPECT_EQ(p.name, name);
    EXPECT_EQ(p.id, id) << name;
    EXPECT_EQ(&seal_proof_by_id(id), &p) << name;
    EXPECT_EQ(to_hex(porep_id(p)), exp.at("porep_id_hex").get<std::string>()) << name;
    EXPECT_EQ(p.api_version, api_from_string(exp.at("api_version").get<std::string>())) << name;
    const Graph g(p);
    EXPECT_EQ(to_hex(g.drg_seed()), exp.at("drg_seed28_hex").get<std::string>()) << name;
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(g.feistel_keys()[i],
                std::stoull(exp.at("feistel_keys").at(i).get<std::string>(), nullptr, 16))
          << name << " key " << i;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 15u);
  EXPECT_EQ(all_seal_proofs().size(), 15u);
}

TEST(SealProof, SizesLayersAndAliases) {
  const auto& p = lookup_seal_proof("32gib-V1.1");
  EXPECT_EQ(p.name, "StackedDrg32GiBV1_1");
  EXPECT_EQ(p.sector_size, uint64_t{32} << 30);
  EXPECT_EQ(p.nodes, uint64_t{1} << 30);
  EXPECT_EQ(p.layers, 11u);
  EXPECT_FALSE(p.synthetic);
  const auto& s = lookup_seal_proof("64GiB-synth");
  EXPECT_EQ(s.id, 14u);
  EXPECT_TRUE(s.synthetic);
  EXPECT_EQ(lookup_seal_proof("stackeddrg2kibv1").id, 0u);
  EXPECT_EQ(lookup_seal_proof("8MiB-v1").layers, 2u);
  for (const auto& q : all_seal_proofs()) {
    EXPECT_EQ(q.nodes * 32, q.sector_size);
    EXPECT_EQ(&lookup_seal_proof(q.alias), &q);
  }
}

TEST(SealProof, UnknownNameListsValidNames) {
  try {
    lookup_seal_proof("StackedDrg16GiBV1");
    FAIL() << "expected SdrError";
  } catch (const SdrError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("StackedDrg16GiBV1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("StackedDrg32GiBV1_1_Feat_SyntheticPoRep"), std::string::npos) << msg;
    EXPECT_NE(msg.find("32GiB-v1.1"), std::string::npos) << msg;
  }
  EXPECT_THROW(seal_proof_by_id(99), SdrError);
}

TEST(SealProof, ProverIdFromActorIsLeb128) {
  EXPECT_EQ(to_hex(prover_id_from_actor(1000)),
            "e807000000000000000000000000000000000000000000000000000000000000");
  EXPECT_EQ(to_hex(prover_id_from_actor(0)).substr(0, 4), "0000");
  EXPECT_EQ(to_hex(prover_id_from_actor(127)).substr(0, 4), "7f00");
  EXPECT_EQ(to_hex(prover_id_from_actor(128)).substr(0, 6), "800100");
  EXPECT_EQ(to_hex(prover_id_from_actor(UINT64_MAX)).substr(0, 22), "ffffffffffffffffff0100");
}

TEST(SealProof, ReplicaIdMatchesEndToEndVectors) {
  for (const char* id :
       {"e2e.2k.zero.StackedDrg2KiBV1_1", "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep"}) {
    const auto& v = vector_by_id(id);
    const auto& in = v.at("input");
    const auto& proof = lookup_seal_proof(in.at("registered_proof").get<std::string>());
    EXPECT_EQ(to_hex(porep_id(proof)), in.at("porep_id_hex").get<std::string>());
    const auto prover = bytes32_from_hex(in.at("prover_id_hex").get<std::string>(), "prover");
    EXPECT_EQ(prover, prover_id_from_actor(1000));
    const auto rid =
        replica_id(prover, in.at("sector_id").get<uint64_t>(),
                   bytes32_from_hex(in.at("ticket_hex").get<std::string>(), "ticket"),
                   bytes32_from_hex(v.at("expected").at("comm_d_hex").get<std::string>(), "d"),
                   porep_id(proof));
    EXPECT_EQ(to_hex(rid), v.at("expected").at("replica_id_hex").get<std::string>()) << id;
  }
  const auto& s = testing::sdr_vectors().at("spec").at("replica_id_2KiB");
  for (const auto& [name, hex] : s.at("expected").items()) {
    const auto rid = replica_id(prover_id_from_actor(s.at("prover_actor").get<uint64_t>()),
                                s.at("sector_number").get<uint64_t>(),
                                bytes32_from_hex(s.at("ticket_hex").get<std::string>(), "t"),
                                bytes32_from_hex(s.at("comm_d_hex").get<std::string>(), "d"),
                                porep_id(lookup_seal_proof(name)));
    EXPECT_EQ(to_hex(rid), hex.get<std::string>()) << name;
  }
}

TEST(SealProof, HexParsingErrorsNameTheField) {
  EXPECT_THROW(bytes32_from_hex("00", "ticket"), SdrError);
  try {
    bytes32_from_hex(std::string(63, '0') + "g", "ticket");
    FAIL();
  } catch (const SdrError& e) {
    EXPECT_NE(std::string(e.what()).find("ticket"), std::string::npos);
  }
}

TEST(Graph, FeistelRoundHashIsBlake2b512) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    const uint64_t r = rng(), k = rng();
    uint8_t msg[16];
    for (int b = 0; b < 8; ++b) {
      msg[b] = static_cast<uint8_t>(r >> (56 - 8 * b));
      msg[8 + b] = static_cast<uint8_t>(k >> (56 - 8 * b));
    }
    uint8_t md[64];
    unsigned len = 0;
    ASSERT_EQ(EVP_Digest(msg, sizeof msg, md, &len, EVP_blake2b512(), nullptr), 1);
    uint64_t expect = 0;
    for (int b = 0; b < 8; ++b) expect = expect << 8 | md[b];
    EXPECT_EQ(feistel_round_hash(r, k), expect);
  }
}

TEST(Graph, VectorisedExpanderParentsEqualScalarPermutation) {
  // expander_parents uses the AVX2 kernel when available; feistel_permute is always scalar.
  for (const char* name : {"2KiB-v1.1", "8MiB-v1", "32GiB-v1", "64GiB-v1.1"}) {
    const Graph g(lookup_seal_proof(name));
    std::mt19937_64 rng(11);
    for (int i = 0; i < 200; ++i) {
      const uint64_t v = rng() % g.nodes();
      uint32_t e[kExpansionDegree];
      g.expander_parents(v, e);
      for (uint32_t k = 0; k < kExpansionDegree; ++k) {
        uint64_t p = g.feistel_permute(v * kExpansionDegree + k);
        if (g.api_version() == ApiVersion::V1_0_0) p &= 0xffffffffu;
        ASSERT_EQ(e[k], p / kExpansionDegree) << name << " node " << v << " edge " << k;
      }
    }
  }
}

TEST(Graph, ParentsRangeEqualsParents) {
  for (const char* name : {"2KiB-v1", "8MiB-v1.1", "32GiB-v1", "64GiB-synth"}) {
    const Graph g(lookup_seal_proof(name));
    for (uint64_t first : {uint64_t{0}, uint64_t{1000}, g.nodes() - 37}) {
      std::vector<uint32_t> range(37 * kDegree);
      g.parents_range(first, 37, range.data());
      for (uint64_t i = 0; i < 37; ++i) {
        uint32_t p[kDegree];
        g.parents(first + i, p);
        ASSERT_EQ(std::vector<uint32_t>(p, p + kDegree),
                  std::vector<uint32_t>(range.begin() + static_cast<long>(i * kDegree),
                                        range.begin() + static_cast<long>((i + 1) * kDegree)))
            << name << " node " << first + i;
      }
    }
  }
}

TEST(Graph, FeistelIsAPermutation) {
  const Graph g(64, PorepId{}, ApiVersion::V1_1_0);
  std::vector<bool> seen(512);
  for (uint64_t x = 0; x < 512; ++x) {
    const uint64_t y = g.feistel_permute(x);
    ASSERT_LT(y, 512u);
    EXPECT_FALSE(seen[y]) << "duplicate image " << y;
    seen[y] = true;
  }
}

void expect_parents(const Graph& g, uint64_t node, const nlohmann::json& expected) {
  uint32_t p[kDegree];
  g.parents(node, p);
  std::vector<uint32_t> got(p, p + kDegree);
  EXPECT_EQ(got, expected.get<std::vector<uint32_t>>()) << "node " << node;
}

TEST(Graph, SmallGraphParentsMatchLabelVectors) {
  for (const char* id : {"sdr.labels.n64.legacy", "sdr.labels.n64.new"}) {
    const auto& v = vector_by_id(id);
    const auto& in = v.at("input");
    const Graph g(in.at("nodes").get<uint64_t>(),
                  bytes32_from_hex(in.at("porep_id_hex").get<std::string>(), "porep_id"),
                  api_from_string(in.at("api_version").get<std::string>()));
    const auto& d = v.at("expected").at("derived_intermediates");
    expect_parents(g, 2, d.at("parents_node2"));
    expect_parents(g, 3, d.at("parents_node3"));
    expect_parents(g, 63, d.at("parents_node63"));
  }
}

TEST(Graph, ProductionGraphParentSamples) {
  for (const char* id : {"sdr.parents.StackedDrg512MiBV1", "sdr.parents.StackedDrg512MiBV1_1"}) {
    const auto& v = vector_by_id(id);
    const auto& proof = lookup_seal_proof(v.at("input").at("registered_proof").get<std::string>());
    const Graph g(proof);
    EXPECT_EQ(g.nodes(), v.at("input").at("nodes").get<uint64_t>());
    for (const auto& [node, parents] : v.at("expected").items()) {
      expect_parents(g, std::stoull(node), parents);
    }
  }
  const auto& s = testing::sdr_vectors().at("spec").at("parents_32GiB_V1_1");
  const Graph g(lookup_seal_proof(s.at("registered_proof").get<std::string>()));
  EXPECT_EQ(to_hex(g.drg_seed()), s.at("drg_seed28_hex").get<std::string>());
  for (const auto& [node, parents] : s.at("nodes").items()) {
    expect_parents(g, std::stoull(node), parents);
  }
}

TEST(Graph, SixtyFourGiBParentsStayInRange) {
  // 64 GiB: 2^31 nodes, expander domain 2^34 (half 17 bits). Legacy truncates to 32 bits, so its
  // expander parents stay below 2^29.
  for (const char* name : {"64GiB-v1.1", "64GiB-v1", "64GiB-synth"}) {
    const Graph g(lookup_seal_proof(name));
    for (uint64_t node : {uint64_t{0}, uint64_t{5}, (uint64_t{1} << 31) - 1}) {
      uint32_t p[kDegree];
      g.parents(node, p);
      for (uint32_t i = 0; i < kDegree; ++i) EXPECT_LT(p[i], uint64_t{1} << 31) << name;
      if (g.api_version() == ApiVersion::V1_0_0) {
        for (uint32_t i = kBaseDegree; i < kDegree; ++i) EXPECT_LT(p[i], 1u << 29) << name;
      }
    }
  }
}

TEST(Graph, SyntheticCacheNames) {
  for (const auto& [name, file_id] :
       testing::sdr_vectors().at("spec").at("synthetic_cache_names").items()) {
    if (name == "source") continue;
    const Graph g(lookup_seal_proof(name));
    EXPECT_EQ("v28-sdr-parent-" + g.cache_digest_hex(), file_id.get<std::string>()) << name;
  }
}

TEST(Graph, RejectsBadNodeCounts) {
  EXPECT_THROW(Graph(1, PorepId{}, ApiVersion::V1_1_0), SdrError);
  EXPECT_THROW(Graph((uint64_t{1} << 31) + 1, PorepId{}, ApiVersion::V1_1_0), SdrError);
}

}  // namespace
}  // namespace sealhost::proofs::sdr
