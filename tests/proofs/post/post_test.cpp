// proofs/post: the curio golden 32 GiB WindowPoSt vanilla proof (parse, verify, byte-exact
// re-encode), prove -> verify round trips over sectors built here with proofs/merkle, tampering,
// faults, partitioning and the serialisations.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "proofs/cid/cid.hpp"
#include "proofs/pc2/aux_files.hpp"
#include "proofs/post/codec.hpp"
#include "proofs/post/vanilla.hpp"

namespace sealhost::proofs::post {
namespace {

namespace fs = std::filesystem;
using challenges::PoStApiVersion;
using nlohmann::json;

const json& vector_by_id(const std::string& id) {
  static const json kJson = [] {
    std::ifstream f(std::string(SEALHOST_TEST_VECTORS) + "/challenges.json");
    if (!f) throw std::runtime_error("tests/vectors/challenges.json: cannot open");
    return json::parse(f);
  }();
  for (const auto& v : kJson["vectors"]) {
    if (v["id"] == id) return v;
  }
  throw std::runtime_error("tests/vectors/challenges.json: no vector " + id);
}

std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Node node_of(const std::string& s) {
  const auto v = unhex(s);
  Node n{};
  std::copy(v.begin(), v.end(), n.begin());
  return n;
}

constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB;

// A sealed sector stand-in: a random replica of canonical nodes, its TreeRLast level-cache
// store built by proofs/merkle, a random comm_c and the p_aux file.
struct TestSector {
  ReplicaInfo info;
  uint64_t sector_bytes = 0;
};

class PostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("sealhost_post_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  TestSector make_sector(uint64_t sector_id, uint64_t sector_bytes, uint32_t seed,
                         std::optional<size_t> rows_to_discard = std::nullopt) {
    TestSector s;
    s.sector_bytes = sector_bytes;
    const fs::path dir = root_ / ("s" + std::to_string(sector_id));
    fs::create_directories(dir / "cache");
    s.info.sector_id = sector_id;
    s.info.cache_dir = dir / "cache";
    s.info.replica_path = dir / "sealed";
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> replica(sector_bytes);
    for (size_t i = 0; i < replica.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(&replica[i], &v, 8);
    }
    for (size_t i = 31; i < replica.size(); i += 32) replica[i] &= 0x3f;
    {
      std::ofstream f(s.info.replica_path, std::ios::binary);
      f.write(reinterpret_cast<const char*>(replica.data()),
              static_cast<std::streamsize>(replica.size()));
    }
    const auto shape = merkle::TreeShape::for_sector(sector_bytes);
    const size_t rtd =
        rows_to_discard.value_or(merkle::default_rows_to_discard(shape.base_leaves, 8));
    const Node comm_r_last =
        merkle::build_tree(s.info.cache_dir, merkle::TreeId::kTreeRLast, shape,
                           merkle::memory_leaf_reader(replica.data(), shape.total_leaves()), {rtd});
    Node comm_c{};
    for (auto& b : comm_c) b = static_cast<uint8_t>(rng());
    comm_c[31] &= 0x3f;
    s.info.comm_r = comm_r_of(comm_c, comm_r_last);
    std::ofstream p(s.info.cache_dir / "p_aux", std::ios::binary);
    p.write(reinterpret_cast<const char*>(comm_c.data()), 32);
    p.write(reinterpret_cast<const char*>(comm_r_last.data()), 32);
    return s;
  }

  static Bytes32 randomness(uint8_t salt) {
    Bytes32 r{};
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<uint8_t>(i * 31 + salt);
    r[31] &= 0x3f;
    return r;
  }

  static PublicSector pub(const TestSector& s) { return {s.info.sector_id, s.info.comm_r}; }

  fs::path root_;
};

// ---- the curio golden proof ----

TEST(CurioGolden, ParsesVerifiesAndReencodesByteExact) {
  const auto& v = vector_by_id("challenges.post.curio32g");
  const auto& in = v["input"];
  const auto bytes = unhex(in["vanilla_proof_bincode_hex"].get<std::string>());
  ASSERT_EQ(bytes.size(), 24960u);
  const auto config = PoStConfig::for_registered_proof(8);
  const auto proof = decode_sector_vanilla_proof(config, bytes);
  EXPECT_EQ(proof.sector_id, in["sector_id"].get<uint64_t>());
  ASSERT_EQ(proof.vanilla_proof.sectors.size(), 1u);
  const auto& sp = proof.vanilla_proof.sectors[0];
  ASSERT_EQ(sp.inclusion_proofs.size(), 10u);
  const auto leaves = v["expected"]["leaf_values_le_hex"];
  const auto challenges = v["expected"]["leaf_challenges"].get<std::vector<uint64_t>>();
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(sp.inclusion_proofs[i].leaf, node_of(leaves[i].get<std::string>())) << i;
    EXPECT_EQ(sp.inclusion_proofs[i].path_index(), challenges[i]) << i;
    EXPECT_EQ(sp.inclusion_proofs[i].path.size(), 10u);  // 9 base levels + 1 sub level
  }
  EXPECT_EQ(sp.inclusion_proofs[0].root, sp.comm_r_last);
  // comm_r of the proof is the one in the sealed CID of the public inputs.
  EXPECT_EQ(proof.comm_r, cid::parse_sealed_cid(in["sealed_cid"].get<std::string>()));

  Bytes32 rnd{};
  const PublicSector sector{proof.sector_id, proof.comm_r};
  const auto ok = verify_sector_vanilla_proof(config, rnd, sector, 0, proof);
  EXPECT_TRUE(ok.valid) << ok.reason;
  // As a one-sector window partition (padded to 2349 sector proofs).
  const auto parts = partition_vanilla_proofs(config, std::span(&proof, 1));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].sectors.size(), 2349u);
  const auto all = verify_all_partitions(config, rnd, std::span(&sector, 1), parts);
  EXPECT_TRUE(all.valid) << all.reason;

  EXPECT_EQ(encode_sector_vanilla_proof(config, proof), bytes);

  // Rejections: other randomness, other position (API 1.0.0), other comm_r, other sector id,
  // the V1_1 (API 1.2.0) challenge rule happens to agree for position 0.
  Bytes32 rnd2{};
  rnd2[0] = 1;
  EXPECT_FALSE(verify_sector_vanilla_proof(config, rnd2, sector, 0, proof).valid);
  EXPECT_FALSE(verify_sector_vanilla_proof(config, rnd, sector, 1, proof).valid);
  PublicSector other = sector;
  other.comm_r[0] ^= 1;
  EXPECT_FALSE(verify_sector_vanilla_proof(config, rnd, other, 0, proof).valid);
  auto moved = proof;
  moved.sector_id = 2;
  EXPECT_FALSE(verify_sector_vanilla_proof(config, rnd, {2, proof.comm_r}, 0, moved).valid);
  EXPECT_TRUE(
      verify_sector_vanilla_proof(PoStConfig::for_registered_proof(13), rnd, sector, 0, proof)
          .valid);
  // One sibling flipped.
  auto bad = proof;
  bad.vanilla_proof.sectors[0].inclusion_proofs[3].path[4].siblings[2][5] ^= 0x10;
  const auto rej = verify_sector_vanilla_proof(config, rnd, sector, 0, bad);
  EXPECT_FALSE(rej.valid);
  EXPECT_NE(rej.reason.find("challenge 3"), std::string::npos) << rej.reason;
  // The wrong PoSt type for these bytes (2KiB shape) is a format error.
  EXPECT_THROW(decode_sector_vanilla_proof(PoStConfig::for_registered_proof(5), bytes),
               FormatError);
}

TEST(CurioGolden, EveryTruncationIsAFormatError) {
  const auto bytes =
      unhex(vector_by_id("challenges.post.curio32g")["input"]["vanilla_proof_bincode_hex"]
                .get<std::string>());
  const auto config = PoStConfig::for_registered_proof(8);
  for (size_t n = 0; n < bytes.size(); n += 97) {
    EXPECT_THROW(decode_sector_vanilla_proof(config, std::span(bytes).first(n)), FormatError) << n;
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(decode_sector_vanilla_proof(config, longer), FormatError);
  auto huge = bytes;
  huge[40] = 0xff;  // sector proof count
  EXPECT_THROW(decode_sector_vanilla_proof(config, huge), FormatError);
  auto bad_index = bytes;
  // First path element of the first proof: variant(4) + path len(8) + hashes len(8) + 7*32,
  // then the u64 index.
  const size_t index_at = 48 + 8 + 4 + 8 + 8 + 7 * 32;
  ASSERT_EQ(bad_index[index_at], bytes[index_at]);
  bad_index[index_at] = 8;
  EXPECT_THROW(decode_sector_vanilla_proof(config, bad_index), FormatError);
}

// ---- round trips over sectors built here ----

TEST_F(PostTest, Window2KiBTwoSectorsRoundTrip) {
  const auto a = make_sector(7, 2 * kKiB, 1);
  const auto b = make_sector(9, 2 * kKiB, 2);
  const auto config = PoStConfig::window(2 * kKiB);
  const auto rnd = randomness(3);
  const std::vector<ReplicaInfo> sectors = {a.info, b.info};
  const auto out = prove_window(config, rnd, sectors);
  ASSERT_TRUE(out.faults.empty()) << out.faults[0].reason;
  ASSERT_EQ(out.proofs.size(), 2u);
  const std::vector<PublicSector> pubs = {pub(a), pub(b)};
  for (size_t i = 0; i < 2; ++i) {
    const auto v = verify_sector_vanilla_proof(config, rnd, pubs[i], i, out.proofs[i]);
    EXPECT_TRUE(v.valid) << v.reason;
  }
  const auto parts = partition_vanilla_proofs(config, out.proofs);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(verify_all_partitions(config, rnd, pubs, parts).valid);
  EXPECT_TRUE(verify_partition(config, rnd, pubs, 0, parts[0]).valid);

  // Tampering with the public inputs or the proof.
  EXPECT_FALSE(verify_all_partitions(config, randomness(4), pubs, parts).valid);
  auto wrong_comm_r = pubs;
  wrong_comm_r[1].comm_r[3] ^= 1;
  EXPECT_FALSE(verify_all_partitions(config, rnd, wrong_comm_r, parts).valid);
  auto swapped = pubs;
  std::swap(swapped[0], swapped[1]);
  EXPECT_FALSE(verify_all_partitions(config, rnd, swapped, parts).valid);
  auto bad_path = parts;
  bad_path[0].sectors[1].inclusion_proofs[0].path[0].siblings[0][0] ^= 1;
  EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, bad_path).valid);
  auto bad_leaf = parts;
  bad_leaf[0].sectors[0].inclusion_proofs[1].leaf[2] ^= 4;
  EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, bad_leaf).valid);
  auto bad_pos = parts;
  auto& level = bad_pos[0].sectors[0].inclusion_proofs[0].path[0];
  level.position = (level.position + 1) % 8;
  EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, bad_pos).valid);
  auto bad_comm_c = parts;
  bad_comm_c[0].sectors[0].comm_c[0] ^= 1;
  EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, bad_comm_c).valid);
  auto missing = parts;
  missing[0].sectors[0].inclusion_proofs.pop_back();
  EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, missing).valid);
  auto empty = parts;
  empty[0].sectors[0].inclusion_proofs.clear();
  EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, empty).valid);
  auto short_part = parts;
  short_part[0].sectors.pop_back();
  EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, short_part).valid);
  Bytes32 not_canonical{};
  not_canonical.fill(0xff);
  EXPECT_FALSE(verify_all_partitions(config, not_canonical, pubs, parts).valid);
  EXPECT_THROW(prove_window(config, not_canonical, sectors), challenges::ChallengeError);
}

TEST_F(PostTest, Window8MiBAndFlippedReplicaByteIsAFault) {
  const auto a = make_sector(100, 8 * kMiB, 11);
  const auto b = make_sector(101, 8 * kMiB, 12);
  const auto config = PoStConfig::window(8 * kMiB);
  const auto rnd = randomness(5);
  const std::vector<ReplicaInfo> sectors = {a.info, b.info};
  ProveOptions two_threads;
  two_threads.threads = 2;
  const auto out = prove_window(config, rnd, sectors, two_threads);
  ASSERT_TRUE(out.faults.empty()) << out.faults[0].reason;
  const std::vector<PublicSector> pubs = {pub(a), pub(b)};
  const auto parts = partition_vanilla_proofs(config, out.proofs);
  const auto v = verify_all_partitions(config, rnd, pubs, parts);
  EXPECT_TRUE(v.valid) << v.reason;
  // The path is 7 base levels (no sub/top for 8 MiB).
  EXPECT_EQ(parts[0].sectors[0].inclusion_proofs[0].path.size(), 6u);

  // Flip one byte of a challenged leaf of sector b in its replica: b is faulty, a is proven.
  const uint64_t leaf = challenges::post_sector_challenges(config, rnd, 101, 1)[4];
  {
    std::fstream f(b.info.replica_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(leaf * 32 + 3));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(static_cast<std::streamoff>(leaf * 32 + 3));
    f.write(&c, 1);
  }
  const auto again = prove_window(config, rnd, sectors);
  ASSERT_EQ(again.proofs.size(), 1u);
  EXPECT_EQ(again.proofs[0].sector_id, 100u);
  ASSERT_EQ(again.faults.size(), 1u);
  EXPECT_EQ(again.faults[0].sector_id, 101u);
  EXPECT_NE(again.faults[0].reason.find("leaf " + std::to_string(leaf)), std::string::npos)
      << again.faults[0].reason;
}

// Challenges of all sectors share the worker threads: any thread count gives the same proofs,
// and a sector with several damaged challenges is reported with its first one whatever thread
// found a damaged path first.
TEST_F(PostTest, ThreadCountsGiveIdenticalProofsAndFaults) {
  std::vector<TestSector> s;
  for (uint64_t i = 0; i < 3; ++i) s.push_back(make_sector(20 + i, 2 * kKiB, 70 + i));
  const auto config = PoStConfig::window(2 * kKiB);
  const auto rnd = randomness(12);
  std::vector<ReplicaInfo> infos;
  for (const auto& t : s) infos.push_back(t.info);
  const auto one = prove_window(config, rnd, infos);
  ASSERT_TRUE(one.faults.empty()) << one.faults[0].reason;
  for (unsigned threads : {2u, 3u, 8u}) {
    ProveOptions o;
    o.threads = threads;
    const auto many = prove_window(config, rnd, infos, o);
    ASSERT_TRUE(many.faults.empty()) << many.faults[0].reason;
    ASSERT_EQ(many.proofs.size(), one.proofs.size());
    for (size_t i = 0; i < one.proofs.size(); ++i) {
      EXPECT_TRUE(many.proofs[i] == one.proofs[i]) << threads << " threads, sector " << i;
    }
  }
  // Damage every challenged leaf of the middle sector (2 KiB: 64 leaves, challenges may repeat).
  const auto leaves = challenges::post_sector_challenges(config, rnd, 21, 1);
  {
    std::fstream f(infos[1].replica_path, std::ios::in | std::ios::out | std::ios::binary);
    for (uint64_t leaf : leaves) {
      f.seekp(static_cast<std::streamoff>(leaf * 32));
      f.put(0x55);
    }
  }
  std::vector<std::string> reasons;
  for (unsigned threads : {1u, 2u, 8u}) {
    ProveOptions o;
    o.threads = threads;
    const auto out = prove_window(config, rnd, infos, o);
    ASSERT_EQ(out.faults.size(), 1u);
    EXPECT_EQ(out.faults[0].sector_id, 21u);
    ASSERT_EQ(out.proofs.size(), 2u);
    EXPECT_TRUE(out.proofs[0] == one.proofs[0]);
    EXPECT_TRUE(out.proofs[1] == one.proofs[2]);
    reasons.push_back(out.faults[0].reason);
  }
  EXPECT_NE(reasons[0].find("challenge leaf " + std::to_string(leaves[0]) + " "), std::string::npos)
      << reasons[0];
  EXPECT_EQ(reasons[1], reasons[0]);
  EXPECT_EQ(reasons[2], reasons[0]);
}

TEST_F(PostTest, DeletedSectorIsReportedOtherIsProven) {
  const auto a = make_sector(1, 2 * kKiB, 21);
  const auto b = make_sector(2, 2 * kKiB, 22);
  const auto c = make_sector(3, 2 * kKiB, 23);
  fs::remove(b.info.replica_path);
  fs::remove(c.info.cache_dir / "sc-02-data-tree-r-last.dat");
  const auto config = PoStConfig::window(2 * kKiB);
  const auto rnd = randomness(6);
  const std::vector<ReplicaInfo> sectors = {a.info, b.info, c.info};
  const auto out = prove_window(config, rnd, sectors);
  ASSERT_EQ(out.proofs.size(), 1u);
  EXPECT_EQ(out.proofs[0].sector_id, 1u);
  ASSERT_EQ(out.faults.size(), 2u);
  EXPECT_EQ(out.faults[0].sector_id, 2u);
  EXPECT_NE(out.faults[0].reason.find("sealed"), std::string::npos) << out.faults[0].reason;
  EXPECT_EQ(out.faults[1].sector_id, 3u);
  EXPECT_NE(out.faults[1].reason.find("tree-r-last"), std::string::npos) << out.faults[1].reason;
  const auto parts = partition_vanilla_proofs(config, out.proofs);
  const std::vector<PublicSector> pubs = {pub(a)};
  EXPECT_TRUE(verify_all_partitions(config, rnd, pubs, parts).valid);
}

TEST_F(PostTest, OtherFaults) {
  const auto config = PoStConfig::window(2 * kKiB);
  const auto rnd = randomness(7);
  auto a = make_sector(1, 2 * kKiB, 31);
  // Wrong comm_r (p_aux disagrees).
  auto wrong = a.info;
  wrong.comm_r[0] ^= 1;
  auto r = prove_window(config, rnd, std::span(&wrong, 1));
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_NE(r.faults[0].reason.find("comm_r"), std::string::npos);
  // Truncated p_aux.
  auto b = make_sector(2, 2 * kKiB, 32);
  fs::resize_file(b.info.cache_dir / "p_aux", 10);
  r = prove_window(config, rnd, std::span(&b.info, 1));
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_NE(r.faults[0].reason.find("p_aux"), std::string::npos);
  // Commitments given explicitly do not need p_aux.
  auto explicit_info = a.info;
  const auto paux = pc2::read_p_aux(a.info.cache_dir);
  explicit_info.comm_c = paux.comm_c;
  explicit_info.comm_r_last = paux.comm_r_last;
  fs::remove(a.info.cache_dir / "p_aux");
  r = prove_window(config, rnd, std::span(&explicit_info, 1));
  EXPECT_TRUE(r.faults.empty());
  // Truncated replica.
  auto c = make_sector(3, 2 * kKiB, 33);
  fs::resize_file(c.info.replica_path, 1024);
  r = prove_window(config, rnd, std::span(&c.info, 1));
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_NE(r.faults[0].reason.find("truncated"), std::string::npos) << r.faults[0].reason;
  // Store written with another rows_to_discard than the reader assumes.
  auto d = make_sector(4, 8 * kMiB, 34, 1);
  r = prove_window(PoStConfig::window(8 * kMiB), rnd, std::span(&d.info, 1));
  ASSERT_EQ(r.faults.size(), 1u);
  d.info.rows_to_discard = 1;
  r = prove_window(PoStConfig::window(8 * kMiB), rnd, std::span(&d.info, 1));
  EXPECT_TRUE(r.faults.empty()) << r.faults[0].reason;
  // Caller errors are exceptions, not faults.
  const std::vector<ReplicaInfo> dup = {a.info, a.info};
  EXPECT_THROW(prove_window(config, rnd, dup), PoStError);
  EXPECT_THROW(prove_window(PoStConfig::winning(2 * kKiB), rnd, dup), PoStError);
  const uint64_t out_of_range[] = {64};
  EXPECT_THROW(prove_sector(config, a.info, out_of_range), PoStError);
}

TEST_F(PostTest, CancelStopsProving) {
  const auto a = make_sector(1, 2 * kKiB, 41);
  ProveOptions options;
  options.cancelled = [] { return true; };
  EXPECT_THROW(
      prove_window(PoStConfig::window(2 * kKiB), randomness(1), std::span(&a.info, 1), options),
      Cancelled);
}

TEST_F(PostTest, ThreePartitionsOfTwoWithPaddingAndV1Refaulting) {
  std::vector<TestSector> s;
  for (uint64_t i = 0; i < 5; ++i) s.push_back(make_sector(10 + i, 2 * kKiB, 50 + i));
  for (auto api : {PoStApiVersion::kV1_2_0, PoStApiVersion::kV1_0_0}) {
    const auto config = PoStConfig::window(2 * kKiB, api);
    const auto rnd = randomness(8);
    std::vector<ReplicaInfo> infos;
    std::vector<PublicSector> pubs;
    for (const auto& t : s) {
      infos.push_back(t.info);
      pubs.push_back(pub(t));
    }
    const auto out = prove_window(config, rnd, infos);
    ASSERT_TRUE(out.faults.empty());
    const auto parts = partition_vanilla_proofs(config, out.proofs);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_TRUE(parts[2].sectors[1] == parts[2].sectors[0]);  // padded with the last sector
    auto v = verify_all_partitions(config, rnd, pubs, parts);
    EXPECT_TRUE(v.valid) << v.reason;
    EXPECT_FALSE(verify_all_partitions(config, rnd, pubs, std::span(parts).first(2)).valid);
  }
  // API 1.0.0: a fault in the middle shifts positions; the remaining sectors are re-challenged.
  const auto config = PoStConfig::window(2 * kKiB, PoStApiVersion::kV1_0_0);
  const auto rnd = randomness(9);
  fs::remove(s[1].info.replica_path);
  std::vector<ReplicaInfo> infos;
  std::vector<PublicSector> pubs;
  for (size_t i = 0; i < s.size(); ++i) {
    infos.push_back(s[i].info);
    if (i != 1) pubs.push_back(pub(s[i]));
  }
  const auto out = prove_window(config, rnd, infos);
  ASSERT_EQ(out.faults.size(), 1u);
  ASSERT_EQ(out.proofs.size(), 4u);
  const auto parts = partition_vanilla_proofs(config, out.proofs);
  const auto v = verify_all_partitions(config, rnd, pubs, parts);
  EXPECT_TRUE(v.valid) << v.reason;
}

TEST_F(PostTest, Winning2KiB) {
  const auto a = make_sector(42, 2 * kKiB, 61);
  const auto config = PoStConfig::winning(2 * kKiB);
  const auto rnd = randomness(10);
  const auto out = prove_winning(config, rnd, a.info);
  ASSERT_TRUE(out.faults.empty());
  ASSERT_EQ(out.proofs.size(), 1u);
  EXPECT_EQ(out.proofs[0].vanilla_proof.sectors[0].inclusion_proofs.size(), 66u);
  EXPECT_TRUE(verify_sector_vanilla_proof(config, rnd, pub(a), 0, out.proofs[0]).valid);
  const auto parts = partition_vanilla_proofs(config, out.proofs);
  ASSERT_EQ(parts.size(), 1u);
  ASSERT_EQ(parts[0].sectors.size(), 66u);
  EXPECT_EQ(parts[0].sectors[5].inclusion_proofs.size(), 1u);
  const PublicSector p = pub(a);
  auto v = verify_all_partitions(config, rnd, std::span(&p, 1), parts);
  EXPECT_TRUE(v.valid) << v.reason;
  auto reordered = parts;
  std::swap(reordered[0].sectors[0], reordered[0].sectors[1]);
  EXPECT_FALSE(verify_all_partitions(config, rnd, std::span(&p, 1), reordered).valid);
  EXPECT_FALSE(verify_all_partitions(config, randomness(11), std::span(&p, 1), parts).valid);
  fs::remove(a.info.replica_path);
  const auto faulty = prove_winning(config, rnd, a.info);
  EXPECT_TRUE(faulty.proofs.empty());
  ASSERT_EQ(faulty.faults.size(), 1u);
}

TEST_F(PostTest, CompoundShapesAndCodecRoundTrips) {
  // 4 KiB: 8-2-0 (Sub proofs); 32 KiB: 8-8-2 (Top proofs); 2 KiB: Single.
  for (uint64_t bytes : {2 * kKiB, 4 * kKiB, 32 * kKiB}) {
    SCOPED_TRACE(bytes);
    const auto a = make_sector(5, bytes, 70 + static_cast<uint32_t>(bytes / kKiB));
    // No registered proof for test sizes: build the configs directly.
    auto config = PoStConfig::window(bytes);
    const auto rnd = randomness(12);
    const auto out = prove_window(config, rnd, std::span(&a.info, 1));
    ASSERT_TRUE(out.faults.empty()) << out.faults[0].reason;
    EXPECT_TRUE(verify_sector_vanilla_proof(config, rnd, pub(a), 0, out.proofs[0]).valid);
    const auto enc = encode_sector_vanilla_proof(config, out.proofs[0]);
    const auto dec = decode_sector_vanilla_proof(config, enc);
    EXPECT_EQ(dec, out.proofs[0]);
    const auto parts = partition_vanilla_proofs(config, out.proofs);
    const auto penc = encode_partition_proof(config, parts[0]);
    EXPECT_EQ(decode_partition_proof(config, penc), parts[0]);
    // The variant tag follows the shape.
    const uint32_t variant = enc[48 + 8];  // after sector_id, comm_r, two Vec lengths
    EXPECT_EQ(variant, bytes == 2 * kKiB ? 0u : bytes == 4 * kKiB ? 1u : 2u);
    // Flipping any single byte of the encoding either fails to decode or fails to verify
    // (bytes of the comm_r_last copy, which the verifier does not use, excepted).
    size_t rejected = 0, checked = 0;
    for (size_t i = 0; i + 32 < enc.size(); i += 13) {
      auto bad = enc;
      bad[i] ^= 0x01;
      ++checked;
      try {
        const auto p = decode_sector_vanilla_proof(config, bad);
        if (!verify_sector_vanilla_proof(config, rnd, pub(a), 0, p).valid) ++rejected;
      } catch (const FormatError&) {
        ++rejected;
      }
    }
    EXPECT_EQ(rejected, checked);
  }
}

TEST_F(PostTest, BundleRoundTripAndRejections) {
  const auto a = make_sector(1, 2 * kKiB, 81);
  const auto b = make_sector(2, 2 * kKiB, 82);
  fs::remove(b.info.replica_path);
  const auto config = PoStConfig::window(2 * kKiB);
  const auto rnd = randomness(13);
  const std::vector<ReplicaInfo> sectors = {a.info, b.info};
  const auto out = prove_window(config, rnd, sectors);
  VanillaBundle bundle;
  bundle.registered_post_proof = challenges::registered_post_proof(config);
  EXPECT_EQ(bundle.registered_post_proof, 10);
  bundle.randomness = rnd;
  bundle.proofs = out.proofs;
  bundle.faults = out.faults;
  const auto bytes = encode_bundle(bundle);
  const auto back = decode_bundle(bytes);
  EXPECT_TRUE(back == bundle);
  EXPECT_EQ(back.faults[0].reason, out.faults[0].reason);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "SHPOSTVP");

  auto bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_THROW(decode_bundle(bad_magic), FormatError);
  auto bad_version = bytes;
  bad_version[8] = 2;
  try {
    decode_bundle(bad_version);
    ADD_FAILURE() << "version 2 accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
  }
  auto bad_type = bytes;
  bad_type[16] = 99;
  EXPECT_THROW(decode_bundle(bad_type), FormatError);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_THROW(decode_bundle(std::span(bytes).first(n)), FormatError) << n;
  }
}

}  // namespace
}  // namespace sealhost::proofs::post
