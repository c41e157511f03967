// proofs/challenges against upstream vectors (tests/vectors/challenges.json), RFC known answers
// for BLAKE2b / ChaCha20, and the argument checks.
#include "proofs/challenges/challenges.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "proofs/challenges/stream.hpp"

namespace sealhost::proofs::challenges {
namespace {

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
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Bytes32 b32(const std::string& s) {
  const auto v = unhex(s);
  if (v.size() != 32) throw std::runtime_error("not 32 bytes: " + s);
  Bytes32 out{};
  std::copy(v.begin(), v.end(), out.begin());
  return out;
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

std::vector<uint64_t> u64s(const json& a) {
  return a.get<std::vector<uint64_t>>();
}

TEST(Blake2b, Rfc7693Abc) {
  Blake2b h(64);
  const uint8_t abc[] = {'a', 'b', 'c'};
  h.update(abc);
  uint8_t out[64];
  h.finish(out);
  EXPECT_EQ(hex(out, 64),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5"
            "de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST(Blake2b, KeyedEmptyMessageKat) {
  // blake2b-kat.txt (BLAKE2 reference): key 00..3f, empty input.
  std::vector<uint8_t> key(64);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  Blake2b h(64, key);
  uint8_t out[64];
  h.finish(out);
  EXPECT_EQ(hex(out, 64),
            "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214"
            "b005f42d2ff4233499391653df7aefcbc13fc51568");
}

TEST(Blake2b, SplitUpdatesEqualOneShot) {
  std::vector<uint8_t> msg(300);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i * 7);
  const uint8_t key[] = {1, 2, 3};
  Blake2b a(32, key), b(32, key);
  a.update(msg);
  b.update(std::span(msg).first(128));
  b.update(std::span(msg).subspan(128, 1));
  b.update(std::span(msg).subspan(129));
  uint8_t oa[32], ob[32];
  a.finish(oa);
  b.finish(ob);
  EXPECT_EQ(hex(oa, 32), hex(ob, 32));
}

TEST(Blake2b, RejectsBadLengths) {
  EXPECT_THROW(Blake2b(0), std::invalid_argument);
  EXPECT_THROW(Blake2b(65), std::invalid_argument);
  std::vector<uint8_t> key(65);
  EXPECT_THROW(Blake2b(32, key), std::invalid_argument);
}

TEST(ChaCha20, Rfc8439Block) {
  // RFC 8439 §2.3.2: key 00..1f, nonce 000000090000004a00000000, block counter 1.
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i);
  const std::array<uint8_t, 12> nonce = {0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0};
  const ChaCha20 c(key, nonce);
  uint8_t out[64];
  c.keystream(64, out, 64);
  EXPECT_EQ(hex(out, 64),
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4ed2826446079faa0914c2d7"
            "05d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
  // Unaligned random access equals the same bytes of a longer read.
  uint8_t long_read[200], part[37];
  c.keystream(10, long_read, sizeof long_read);
  c.keystream(90, part, sizeof part);
  EXPECT_EQ(hex(part, sizeof part), hex(long_read + 80, sizeof part));
  EXPECT_THROW(c.keystream(uint64_t{1} << 38, out, 1), std::out_of_range);
}

TEST(Synthetic, UpstreamHardcoded) {
  const auto& v = vector_by_id("challenges.synthetic.hardcoded");
  const auto& in = v["input"];
  const SyntheticChallenges s(b32(in["replica_id_le_hex"]), b32(in["comm_r_le_hex"]),
                              in["sector_nodes"].get<uint64_t>(),
                              in["num_synth_challenges"].get<uint64_t>());
  EXPECT_EQ(s.all(), u64s(v["expected"]["synthetic_challenges"]));
  const auto seed = b32(in["rand_hex"]);
  const auto n = in["num_porep_challenges"].get<uint32_t>();
  EXPECT_EQ(s.selected_indexes(seed, 0, n), u64s(v["expected"]["selected_synth_indexes"]));
  EXPECT_EQ(s.porep_challenges(seed, 0, n), u64s(v["expected"]["porep_challenges"]));
  // Random access agrees with the sequential walk.
  EXPECT_EQ(s.at(18), 986u);
  // Partition k of c challenges is the k-th window of one long selection.
  const auto long_sel = s.selected_indexes(seed, 0, 2 * n);
  const auto second = s.selected_indexes(seed, 1, n);
  EXPECT_EQ(std::vector<uint64_t>(long_sel.begin() + n, long_sel.end()), second);
}

TEST(Synthetic, Model2KiB) {
  const auto& v = vector_by_id("challenges.synthetic.2kib");
  const auto& in = v["input"];
  const SyntheticChallenges s(b32(in["replica_id_le_hex"]), b32(in["comm_r_le_hex"]),
                              in["nodes"].get<uint64_t>());
  EXPECT_EQ(s.count(), 64u);
  const auto seed = b32(in["seed_hex"]);
  EXPECT_EQ(s.selected_indexes(seed, 0, 2), u64s(v["expected"]["selected_synth_indexes"]));
  EXPECT_EQ(s.porep_challenges(seed, 0, 2), u64s(v["expected"]["porep_challenges"]));
  for (uint64_t c : s.all()) {
    EXPECT_GE(c, 1u);
    EXPECT_LT(c, 64u);
  }
}

TEST(Synthetic, DefaultCountAndChecks) {
  Bytes32 small{};
  small[0] = 5;
  EXPECT_EQ(SyntheticChallenges(small, small, uint64_t{1} << 30).count(), uint64_t{1} << 18);
  EXPECT_EQ(SyntheticChallenges(small, small, 64).count(), 64u);
  Bytes32 big{};
  big.fill(0xff);
  EXPECT_THROW(SyntheticChallenges(big, small, 64), ChallengeError);
  EXPECT_THROW(SyntheticChallenges(small, big, 64), ChallengeError);
  EXPECT_THROW(SyntheticChallenges(small, small, 1), ChallengeError);
  const SyntheticChallenges s(small, small, 64);
  EXPECT_THROW((void)s.at(64), ChallengeError);
}

TEST(Interactive, Model2KiB) {
  const auto& v = vector_by_id("challenges.interactive.2kib");
  const auto& in = v["input"];
  EXPECT_EQ(interactive_porep_challenges(b32(in["replica_id_le_hex"]), b32(in["seed_hex"]),
                                         in["nodes"].get<uint64_t>(), 0, 2),
            u64s(v["expected"]["challenges"]));
}

TEST(Interactive, Model32GiBPartitions) {
  const auto& v = vector_by_id("challenges.interactive.32gib");
  const auto& in = v["input"];
  const auto rid = b32(in["replica_id_le_hex"]);
  const auto seed = b32(in["seed_hex"]);
  const auto k0 = interactive_porep_challenges(rid, seed, uint64_t{1} << 30, 0, 18);
  const auto prefix = u64s(v["expected"]["k0_prefix"]);
  EXPECT_EQ(std::vector<uint64_t>(k0.begin(), k0.begin() + 4), prefix);
  const auto k9 = interactive_porep_challenges(rid, seed, uint64_t{1} << 30, 9, 18);
  EXPECT_EQ(k9.back(), v["expected"]["k9_last"].get<uint64_t>());
  // Partitions are windows of one long list.
  const auto all = interactive_porep_challenges(rid, seed, uint64_t{1} << 30, 0, 180);
  EXPECT_EQ(std::vector<uint64_t>(all.end() - 18, all.end()), k9);
  for (uint64_t c : all) EXPECT_NE(c, 0u);
}

TEST(Interactive, RejectsBadNodes) {
  const Bytes32 z{};
  EXPECT_THROW(interactive_porep_challenges(z, z, 1, 0, 2), ChallengeError);
  EXPECT_THROW(interactive_porep_challenges(z, z, uint64_t{1} << 32, 0, 2), ChallengeError);
}

TEST(PoSt, CurioGoldenLeafChallenges) {
  const auto& v = vector_by_id("challenges.post.curio32g");
  const auto& in = v["input"];
  const auto cfg = PoStConfig::for_registered_proof(8);
  EXPECT_EQ(cfg.type, PoStType::kWindow);
  EXPECT_EQ(cfg.api_version, PoStApiVersion::kV1_0_0);
  EXPECT_EQ(cfg.sector_bytes, in["sector_size"].get<uint64_t>());
  EXPECT_EQ(cfg.challenge_count, in["challenge_count"].get<size_t>());
  EXPECT_EQ(post_sector_challenges(cfg, b32(in["randomness_hex"]), in["sector_id"].get<uint64_t>(),
                                   in["sector_index_in_partition"].get<uint64_t>()),
            u64s(v["expected"]["leaf_challenges"]));
}

TEST(PoSt, ModelVectors) {
  const auto& v = vector_by_id("challenges.post.model");
  const auto& in = v["input"];
  const auto rnd = b32(in["randomness_hex"]);
  const auto prover = prover_id_from_actor(in["prover_actor_id"].get<uint64_t>());
  EXPECT_EQ(prover[0], 0xe8);
  EXPECT_EQ(prover[1], 0x07);
  EXPECT_EQ(prover[2], 0x00);
  EXPECT_EQ(winning_post_sector_challenges(rnd, prover, in["eligible_sectors"].get<uint64_t>()),
            std::vector<uint64_t>{v["expected"]["winning_sector_index"].get<uint64_t>()});
  const uint64_t sector = in["sector_number"].get<uint64_t>();
  const uint64_t kGiB = uint64_t{1} << 30;
  // V1_2: independent of the sector's position.
  const auto window = PoStConfig::for_registered_proof(13);
  EXPECT_EQ(post_sector_challenges(window, rnd, sector, 0),
            u64s(v["expected"]["window_32gib_v1_2"]));
  EXPECT_EQ(post_sector_challenges(window, rnd, sector, 7),
            u64s(v["expected"]["window_32gib_v1_2"]));
  EXPECT_EQ(window.sector_bytes, 32 * kGiB);
  EXPECT_EQ(window.sector_count, 2349u);
  const auto winning = PoStConfig::winning(2048);
  const auto w = post_sector_challenges(winning, rnd, sector, 0);
  ASSERT_EQ(w.size(), 66u);
  EXPECT_EQ(std::vector<uint64_t>(w.begin(), w.begin() + 4),
            u64s(v["expected"]["winning_2kib_first4"]));
  EXPECT_EQ(winning.circuit_sector_count(), 66u);
  EXPECT_EQ(winning.circuit_challenge_count(), 1u);
}

TEST(PoSt, V1ChallengeIndexDependsOnPosition) {
  const auto cfg = PoStConfig::window(2048, PoStApiVersion::kV1_0_0);
  Bytes32 r{};
  r[0] = 1;
  const auto a = post_sector_challenges(cfg, r, 5, 0);
  const auto b = post_sector_challenges(cfg, r, 5, 1);
  EXPECT_NE(a, b);
  EXPECT_EQ(b[0], post_leaf_challenge(r, 5, 10, 64));
  EXPECT_EQ(post_challenge_index(PoStApiVersion::kV1_0_0, 3, 10, 4), 34u);
  EXPECT_EQ(post_challenge_index(PoStApiVersion::kV1_2_0, 3, 10, 4), 4u);
}

TEST(PoSt, RegisteredProofsRoundTrip) {
  for (int64_t id = 0; id <= 14; ++id) {
    const auto cfg = PoStConfig::for_registered_proof(id);
    EXPECT_EQ(registered_post_proof(cfg), id);
    cfg.validate();
  }
  EXPECT_THROW(PoStConfig::for_registered_proof(15), ChallengeError);
  EXPECT_THROW(PoStConfig::for_registered_proof(-1), ChallengeError);
  EXPECT_EQ(window_post_sector_count(uint64_t{64} << 30), 2300u);
  EXPECT_EQ(window_post_sector_count(8 << 20), 2u);
  EXPECT_THROW(window_post_sector_count(12345), ChallengeError);
}

TEST(PoSt, PartitionCount) {
  const auto cfg = PoStConfig::window(8 << 20);
  EXPECT_EQ(window_post_partitions(cfg, 0), 1u);
  EXPECT_EQ(window_post_partitions(cfg, 2), 1u);
  EXPECT_EQ(window_post_partitions(cfg, 3), 2u);
  EXPECT_EQ(window_post_partitions(PoStConfig::window(uint64_t{32} << 30), 2350), 2u);
}

TEST(PoSt, RandomnessMustBeCanonical) {
  Bytes32 r{};
  r.fill(0xff);
  const auto cfg = PoStConfig::window(2048);
  EXPECT_THROW(post_sector_challenges(cfg, r, 1, 0), ChallengeError);
  EXPECT_THROW(winning_post_sector_challenges(r, Bytes32{}, 10), ChallengeError);
  r[31] &= 0x3f;
  EXPECT_NO_THROW(post_sector_challenges(cfg, r, 1, 0));
  EXPECT_THROW(winning_post_sector_challenges(Bytes32{}, Bytes32{}, 0), ChallengeError);
}

TEST(PoSt, ProverIdVarint) {
  EXPECT_EQ(prover_id_from_actor(0)[0], 0);
  const auto p = prover_id_from_actor(300);  // 0xac 0x02
  EXPECT_EQ(p[0], 0xac);
  EXPECT_EQ(p[1], 0x02);
  EXPECT_EQ(p[2], 0x00);
}

TEST(Params, PoRepTable) {
  const auto& p32 = porep_size_params(uint64_t{32} << 30);
  EXPECT_EQ(p32.partitions, 10u);
  EXPECT_EQ(p32.challenges_per_partition, 18u);
  EXPECT_EQ(p32.total_challenges(), 180u);
  EXPECT_EQ(p32.layers, 11u);
  EXPECT_EQ(porep_size_params(2048).nodes, 64u);
  EXPECT_THROW(porep_size_params(4096 + 1), ChallengeError);
  EXPECT_EQ(porep_size_table().size(), 10u);
}

}  // namespace
}  // namespace sealhost::proofs::challenges
