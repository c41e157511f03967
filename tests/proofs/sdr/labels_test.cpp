// In-memory labelling against the area-4 label vectors (64 and 128 nodes, both API versions) and
// the 2 KiB end-to-end layer vectors.
#include "proofs/sdr/labels.hpp"

#include <gtest/gtest.h>

#include "proofs/sha256/sha256.hpp"
#include "tests/proofs/sdr/test_dir.hpp"
#include "tests/proofs/sdr/vectors.hpp"

namespace sealhost::proofs::sdr {
namespace {

using testing::api_from_string;
using testing::vector_by_id;

ReplicaId hex32(const nlohmann::json& j) {
  return bytes32_from_hex(j.get<std::string>(), "hex");
}

TEST(Labels, SixtyFourNodeVectorsBothApiVersions) {
  for (const char* id : {"sdr.labels.n64.legacy", "sdr.labels.n64.new"}) {
    const auto& v = vector_by_id(id);
    const auto& in = v.at("input");
    const auto& exp = v.at("expected");
    const Graph g(in.at("nodes").get<uint64_t>(), hex32(in.at("porep_id_hex")),
                  api_from_string(in.at("api_version").get<std::string>()));
    const uint32_t layers = in.at("layers").get<uint32_t>();
    const auto labels = label_in_memory(g, hex32(in.at("replica_id_hex")), layers);
    ASSERT_EQ(labels.layers, layers);
    const auto& d = exp.at("derived_intermediates");
    const uint64_t last = g.nodes() - 1;
    EXPECT_EQ(to_hex(labels.label_bytes(1, 0)), d.at("L1_n0").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(1, 1)), d.at("L1_n1").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(1, 2)), d.at("L1_n2").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(1, last)), d.at("L1_last").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(2, 0)), d.at("L2_n0").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(2, last)), d.at("L2_last").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(11, 0)), d.at("L11_n0").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.last_label()), exp.at("last_layer_last_label_hex").get<std::string>())
        << id;
    EXPECT_EQ(labels.last_label(), testing::bytes_from_limbs(exp.at("limbs"))) << id;
  }
}

TEST(Labels, HundredTwentyEightNodeVectorsBothApiVersions) {
  for (const auto& c : testing::sdr_vectors().at("spec").at("labels_n128").at("cases")) {
    const Graph g(c.at("nodes").get<uint64_t>(), hex32(c.at("porep_id_hex")),
                  api_from_string(c.at("api_version").get<std::string>()));
    const auto labels =
        label_in_memory(g, hex32(c.at("replica_id_hex")), c.at("layers").get<uint32_t>());
    EXPECT_EQ(labels.last_label(), testing::bytes_from_limbs(c.at("limbs"))) << c.at("api_version");
  }
}

TEST(Labels, TwoKiBEndToEndLayers) {
  for (const char* id :
       {"e2e.2k.zero.StackedDrg2KiBV1_1", "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep"}) {
    const auto& v = vector_by_id(id);
    const auto& exp = v.at("expected");
    const auto& proof = lookup_seal_proof(v.at("input").at("registered_proof").get<std::string>());
    const auto labels =
        label_in_memory(Graph(proof), hex32(exp.at("replica_id_hex")), proof.layers);
    EXPECT_EQ(to_hex(labels.label_bytes(1, 0)), exp.at("L1_n0").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(1, 1)), exp.at("L1_n1").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(1, 63)), exp.at("L1_n63").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(2, 0)), exp.at("L2_n0").get<std::string>()) << id;
    EXPECT_EQ(to_hex(labels.label_bytes(2, 63)), exp.at("L2_n63").get<std::string>()) << id;
    for (uint32_t l = 1; l <= 2; ++l) {
      const auto digest = sha256::digest({labels.label(l, 0), 64 * kLabelBytes});
      EXPECT_EQ(to_hex(digest),
                exp.at("sha256_layer" + std::to_string(l) + "_labels").get<std::string>())
          << id << " layer " << l;
    }
  }
}

TEST(Labels, CacheAndGraphGiveTheSameLabels) {
  testing::TempDir dir;
  const auto& proof = lookup_seal_proof("2KiB-v1");
  const Graph g(proof);
  const auto cache = ParentCache::open_or_create(g, dir.path());
  ReplicaId rid{};
  rid[0] = 1;
  const auto a = label_in_memory(g, rid, 5);
  const auto b = label_in_memory(cache, rid, 5);
  EXPECT_EQ(a.data, b.data);
}

TEST(Labels, BadArguments) {
  const Graph g(64, PorepId{}, ApiVersion::V1_1_0);
  EXPECT_THROW(label_in_memory(g, ReplicaId{}, 0), SdrError);
  const Graph big(uint64_t{1} << 30, PorepId{}, ApiVersion::V1_1_0);
  EXPECT_THROW(label_in_memory(big, ReplicaId{}, 11), SdrError);
  EXPECT_EQ(layer_file_name(3), "sc-02-data-layer-3.dat");
}

}  // namespace
}  // namespace sealhost::proofs::sdr
