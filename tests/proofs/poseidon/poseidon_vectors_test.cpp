// Area 3 vectors (neptune / rust-fil-proofs), copied into tests/vectors/poseidon.json.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::poseidon {
namespace {

using nlohmann::json;

const json& vectors() {
  static const json kJson = [] {
    std::ifstream f(std::string(SEALHOST_TEST_VECTORS) + "/poseidon.json");
    if (!f) throw std::runtime_error("tests/vectors/poseidon.json: cannot open");
    return json::parse(f);
  }();
  return kJson;
}

std::string hex(const uint8_t* p, size_t n) {
  static constexpr char kD[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kD[p[i] >> 4]);
    s.push_back(kD[p[i] & 15]);
  }
  return s;
}

std::string le_hex(const Fr& f) {
  const auto b = f.to_bytes();
  return hex(b.data(), 32);
}

std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Fr from_limbs(const json& limbs) {
  std::array<uint64_t, 4> l{};
  for (size_t i = 0; i < 4; ++i) l[i] = std::stoull(limbs[i].get<std::string>(), nullptr, 16);
  return *Fr::from_canonical_limbs(l);
}

std::vector<Fr> preimage(const json& arr) {
  std::vector<Fr> v;
  for (const auto& x : arr) v.push_back(Fr::from_u64(x.get<uint64_t>()));
  return v;
}

const json& by_id(const std::string& id) {
  for (const auto& v : vectors()["vectors"]) {
    if (v["id"] == id) return v;
  }
  throw std::runtime_error("vector " + id + " missing from poseidon.json");
}

TEST(PoseidonVectors, NeptuneMerkleTreeHashValues) {
  int checked = 0;
  for (const auto& v : vectors()["vectors"]) {
    const std::string id = v["id"];
    if (id.rfind("poseidon.neptune.merkle.", 0) != 0) continue;
    const size_t arity = v["input"]["arity"];
    const auto in = preimage(v["input"]["preimage"]);
    EXPECT_EQ(merkle_tree_tag(arity),
              Fr::from_string_checked(v["input"]["domain_tag_hex_int"].get<std::string>()));
    const Fr out = hash(in);
    EXPECT_EQ(le_hex(out), v["expected"]["digest_le_hex"]) << id;
    EXPECT_EQ(out, from_limbs(v["expected"]["digest_limbs_le_u64"])) << id;
    EXPECT_EQ(hash_plain(arity, merkle_tree_tag(arity), in), out) << id << " plain schedule";
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(PoseidonVectors, NeptuneConstantLength) {
  int checked = 0;
  for (const auto& v : vectors()["vectors"]) {
    const std::string id = v["id"];
    if (id.rfind("poseidon.neptune.constlen4.", 0) != 0) continue;
    const size_t arity = v["input"]["arity"];
    const auto in = preimage(v["input"]["preimage"]);
    EXPECT_EQ(constant_length_tag(in.size()),
              Fr::from_string_checked(v["input"]["domain_tag_hex_int"].get<std::string>()));
    EXPECT_EQ(le_hex(hash_constant_length(arity, in)), v["expected"]["digest_le_hex"]) << id;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(PoseidonVectors, FilecoinHashersHash2) {
  const json& v = by_id("poseidon.fh.hash2_1_0");
  std::vector<Fr> in;
  for (const auto& c : v["input"]["children_le_hex"]) {
    in.push_back(Fr::from_bytes_checked(unhex(c.get<std::string>()).data()));
  }
  EXPECT_EQ(le_hex(hash(in)), v["expected"]["node_le_hex"]);
}

TEST(PoseidonVectors, FilecoinHashersBinaryTree) {
  const json& v = vectors()["binary_tree_vectors"][0];
  const auto leaves = preimage(v["leaves"]);
  const Fr left = hash_merkle<2>({leaves[0], leaves[1]});
  const Fr right = hash_merkle<2>({leaves[2], leaves[3]});
  EXPECT_EQ(hash_merkle<2>({left, right}), from_limbs(v["root_limbs_le_u64"]));
}

TEST(PoseidonVectors, ModelVectors) {
  for (const auto& v : vectors()["model_vectors"]) {
    const auto in = preimage(v["preimage"]);
    EXPECT_EQ(le_hex(hash(in)), v["digest_le_hex"]) << v["id"];
  }
}

std::string be_hex_sha256(const std::vector<Fr>& values) {
  sha256::Hasher h;
  for (const auto& f : values) {
    auto b = f.to_bytes();
    std::reverse(b.begin(), b.end());
    h.update(b);
  }
  const auto d = h.finish();
  return hex(d.data(), d.size());
}

TEST(PoseidonVectors, GrainConstantsT9) {
  const json& v = by_id("poseidon.grain.t9");
  const auto rc = generate_round_constants(9, 8, 57);
  ASSERT_EQ(rc.size(), v["expected"]["count"].get<size_t>());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rc[i].to_hex(), v["expected"]["first3"][i]) << "constant " << i;
  }
  EXPECT_EQ(rc.back().to_hex(), v["expected"]["last"]);
  EXPECT_EQ(be_hex_sha256(rc), v["expected"]["sha256_of_be32_concat"]);
}

TEST(PoseidonVectors, ParametersPerArity) {
  const json& params = by_id("poseidon.params")["expected"];
  for (size_t arity : kSupportedArities) {
    const json& p = params[std::to_string(arity)];
    const Constants& c = constants(arity);
    SCOPED_TRACE("arity " + std::to_string(arity));
    EXPECT_EQ(c.width, p["t"].get<size_t>());
    EXPECT_EQ(c.full_rounds, p["R_F"].get<size_t>());
    EXPECT_EQ(c.partial_rounds, p["R_P"].get<size_t>());
    ASSERT_EQ(c.round_constants.size(), p["n_round_constants"].get<size_t>());
    EXPECT_EQ(c.round_constants[0].to_hex(), p["rc0"]);
    EXPECT_EQ(c.round_constants[1].to_hex(), p["rc1"]);
    EXPECT_EQ(c.round_constants.back().to_hex(), p["rc_last"]);
    EXPECT_EQ(be_hex_sha256(c.round_constants), p["rc_sha256_be32"]);
    EXPECT_EQ(c.mds[0].to_hex(), p["mds00"]);
    EXPECT_EQ(c.mds[1].to_hex(), p["mds01"]);
    EXPECT_EQ(merkle_tree_tag(arity), Fr::from_string_checked(p["merkle_tag"].get<std::string>()));
  }
}

}  // namespace
}  // namespace sealhost::proofs::poseidon
