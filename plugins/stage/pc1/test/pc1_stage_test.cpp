// sealhost.stage.pc1 driven directly (no loader): the 2 KiB end-to-end vector through the stage,
// batch == single, resume after a lost layer, and every bad input.
#include "plugins/stage/pc1/pc1_stage.hpp"
#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sha256/sha256.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sealhost/sdk/testing.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sealhost::stage_pc1 {
namespace {

namespace fs = std::filesystem;
using sdk::testing::error_of;
using ::testing::HasSubstr;

nlohmann::json vector_expected(const std::string& id) {
  std::ifstream f(std::string(SEALHOST_TEST_VECTORS) + "/e2e.json");
  const auto doc = nlohmann::json::parse(f);
  for (const auto& v : doc.at("vectors")) {
    if (v.at("id") == id) return v;
  }
  ADD_FAILURE() << "vector " << id << " missing from tests/vectors/e2e.json";
  return {};
}

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string sha256_hex(const fs::path& p) {
  const auto bytes = read_all(p);
  const auto d = proofs::sha256::digest(bytes);
  return stage::hex(d.data(), d.size());
}

void write_file(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Random fr32-valid data: the top two bits of every 32-byte node cleared.
std::vector<uint8_t> random_sector(uint64_t size, uint64_t seed) {
  std::vector<uint8_t> b(size);
  std::mt19937_64 rng(seed);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  for (uint64_t i = 31; i < size; i += 32) b[i] &= 0x3f;
  return b;
}

class Pc1StageTest : public ::testing::Test {
 protected:
  Pc1Options options(unsigned batch = 4, std::string layer_io = "auto") {
    Pc1Options o;
    o.parent_cache_dir = (tmp_ / "parents").string();
    o.batch_size = batch;
    o.layer_io = std::move(layer_io);
    o.fsync = false;
    return o;
  }
  Pc1Stage make(unsigned batch = 4, std::string layer_io = "auto") {
    return Pc1Stage(options(batch, std::move(layer_io)), sdk::Logger());
  }
  Pc1SectorInput sector(uint64_t number, uint64_t size, const std::vector<uint8_t>& data,
                        uint8_t ticket_byte = 1) {
    Pc1SectorInput s;
    s.sector = {1000, number, size};
    s.ticket.fill(ticket_byte);
    s.unsealed_path = (tmp_ / ("unsealed-" + std::to_string(number))).string();
    s.cache_dir = (tmp_ / ("cache-" + std::to_string(number))).string();
    write_file(s.unsealed_path, data);
    return s;
  }
  static Pc1Input one(Pc1SectorInput s) {
    Pc1Input in;
    in.sectors.push_back(std::move(s));
    return in;
  }
  sdk::testing::TempDir tmp_{"sealhost-pc1"};
};

TEST_F(Pc1StageTest, ZeroSector2KiBMatchesTheEndToEndVector) {
  const auto v = vector_expected("e2e.2k.zero.StackedDrg2KiBV1_1");
  const auto& e = v.at("expected");
  auto stage = make();
  auto s = sector(1, 2048, std::vector<uint8_t>(2048, 0));
  s.unsealed_cid = e.at("unsealed_cid").get<std::string>();
  sdk::testing::FakeJob job;
  const auto out = parse_output(stage.run(format_input(one(s)), sdk::Job(job.c())));
  ASSERT_EQ(out.sectors.size(), 1u);
  const auto& o = out.sectors[0];
  EXPECT_EQ(o.proof, "StackedDrg2KiBV1_1");
  EXPECT_EQ(stage::hex(o.comm_d), e.at("comm_d_hex"));
  EXPECT_EQ(o.unsealed_cid, e.at("unsealed_cid"));
  EXPECT_EQ(stage::hex(o.prover_id), v.at("input").at("prover_id_hex"));
  EXPECT_EQ(stage::hex(o.replica_id), e.at("replica_id_hex"));
  ASSERT_EQ(o.layers.size(), 2u);
  EXPECT_EQ(sha256_hex(o.layers[0]), e.at("sha256_layer1_labels"));
  EXPECT_EQ(sha256_hex(o.layers[1]), e.at("sha256_layer2_labels"));
  EXPECT_EQ(fs::file_size(o.tree_d), (2 * 64 - 1) * 32u);
  EXPECT_FALSE(o.tree_d_resumed);
  EXPECT_EQ(o.layers_resumed, 0u);
  EXPECT_TRUE(fs::exists(o.parent_cache));
  EXPECT_GT(job.progress_calls(), 0u);
  EXPECT_EQ(job.done(), job.total()) << "progress ends at 100%";
}

TEST_F(Pc1StageTest, DefaultProofIsV1_1OfTheSectorSize) {
  auto stage = make();
  auto s = sector(2, 2048, random_sector(2048, 2));
  const auto out = stage.seal(one(s), sdk::Job(nullptr));
  EXPECT_EQ(out.sectors[0].proof, "StackedDrg2KiBV1_1");
  s.proof = "2KiB-synth";
  s.cache_dir += "-synth";
  EXPECT_EQ(stage.seal(one(s), sdk::Job(nullptr)).sectors[0].proof,
            "StackedDrg2KiBV1_1_Feat_SyntheticPoRep");
}

TEST_F(Pc1StageTest, LabelsEqualTheLibraryForRandomData8MiB) {
  // layer_io = direct: the 8 MiB layers go through O_DIRECT (auto would use the page cache).
  auto stage = make(4, "direct");
  auto s = sector(3, 8 << 20, random_sector(8 << 20, 3));
  const auto o = stage.seal(one(s), sdk::Job(nullptr)).sectors[0];
  const auto& proof = proofs::sdr::lookup_seal_proof("StackedDrg8MiBV1_1");
  EXPECT_EQ(o.comm_d, proofs::commp::write_tree_d(s.unsealed_path, tmp_ / "tree-d-check"));
  const auto labels =
      proofs::sdr::label_in_memory(proofs::sdr::Graph(proof), o.replica_id, proof.layers);
  ASSERT_EQ(o.layers.size(), proof.layers);
  for (uint32_t l = 1; l <= proof.layers; ++l) {
    const auto file = read_all(o.layers[l - 1]);
    ASSERT_EQ(file.size(), proof.nodes * 32);
    EXPECT_TRUE(std::equal(file.begin(), file.end(), labels.label(l, 0))) << "layer " << l;
  }
}

TEST_F(Pc1StageTest, LayerBuffersAreKeptForTheNextCallAndReleasedWhenIdle) {
  const uint64_t layer_bytes = 64 * 32;  // 2 KiB sector: 64 nodes
  auto o = options();
  o.layer_buffer_idle_seconds = 1;
  Pc1Stage stage(o, sdk::Logger());
  EXPECT_EQ(stage.kept_layer_bytes(), 0u);
  for (uint64_t n = 20; n < 22; ++n) {
    const auto s = sector(n, 2048, random_sector(2048, n));
    const auto out = stage.seal(one(s), sdk::Job(nullptr)).sectors[0];
    EXPECT_EQ(stage.kept_layer_bytes(), 2 * layer_bytes) << "sector " << n;
    const auto& proof = proofs::sdr::lookup_seal_proof("StackedDrg2KiBV1_1");
    const auto labels =
        proofs::sdr::label_in_memory(proofs::sdr::Graph(proof), out.replica_id, proof.layers);
    for (uint32_t l = 1; l <= proof.layers; ++l) {
      const auto file = read_all(out.layers[l - 1]);
      EXPECT_TRUE(std::equal(file.begin(), file.end(), labels.label(l, 0)))
          << "sector " << n << " layer " << l;
    }
  }
  // No call for layer_buffer_idle_seconds: the reaper unmaps them.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stage.kept_layer_bytes() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(stage.kept_layer_bytes(), 0u);

  o.keep_layer_buffers = false;
  Pc1Stage unpooled(o, sdk::Logger());
  unpooled.seal(one(sector(22, 2048, random_sector(2048, 22))), sdk::Job(nullptr));
  EXPECT_EQ(unpooled.kept_layer_bytes(), 0u);
}

// reserve_layer_buffers: a full batch of buffers is mapped at load, the first call maps none,
// the reservation is not reaped for idleness, and bad settings name the option and the fix.
TEST_F(Pc1StageTest, ReservedLayerBuffersServeTheFirstCall) {
  const uint64_t layer_bytes = 64 * 32;  // 2 KiB sector
  auto o = options(2);
  o.threads = 2;
  o.reserve_layer_buffers = "2KiB-v1.1";
  o.layer_buffer_idle_seconds = 1;
  Pc1Stage stage(o, sdk::Logger());
  stage.wait_for_reservation();
  EXPECT_EQ(stage.kept_layer_bytes(), 4 * layer_bytes) << "two lanes of one sector, 2 layers each";
  Pc1Input batch;
  batch.batch = true;
  for (uint64_t n = 30; n < 32; ++n)
    batch.sectors.push_back(sector(n, 2048, random_sector(2048, n)));
  const auto out = stage.seal(batch, sdk::Job(nullptr));
  EXPECT_EQ(stage.last_run_stats().buffers_mapped, 0u);
  EXPECT_EQ(stage.last_run_stats().buffers_reused, 4u);
  const auto& proof = proofs::sdr::lookup_seal_proof("StackedDrg2KiBV1_1");
  for (const auto& s : out.sectors) {
    const auto labels =
        proofs::sdr::label_in_memory(proofs::sdr::Graph(proof), s.replica_id, proof.layers);
    const auto file = read_all(s.layers.back());
    EXPECT_TRUE(std::equal(file.begin(), file.end(), labels.label(proof.layers, 0)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(stage.kept_layer_bytes(), 4 * layer_bytes) << "reserved buffers are not reaped";

  auto bad = o;
  bad.keep_layer_buffers = false;
  auto e = error_of([&] { Pc1Stage s(bad, sdk::Logger()); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(e.what()).find("keep_layer_buffers"), std::string::npos) << e.what();
  bad = o;
  bad.reserve_layer_buffers = "3GiB-v9";
  e = error_of([&] { Pc1Stage s(bad, sdk::Logger()); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(e.what()).find("reserve_layer_buffers"), std::string::npos) << e.what();
  bad = o;
  bad.reserve_layer_buffers = "64GiB-v1.1";
  bad.batch_size = 8;  // 8 x 2 x 64 GiB: more than any test machine has
  e = error_of([&] { Pc1Stage s(bad, sdk::Logger()); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(e.what()).find("of memory are available"), std::string::npos) << e.what();
}

TEST_F(Pc1StageTest, BatchProducesTheSameLayersAsSingleCalls) {
  auto stage = make();
  Pc1Input batch;
  batch.batch = true;
  for (uint64_t n = 10; n < 13; ++n) {
    batch.sectors.push_back(sector(n, 2048, random_sector(2048, n), static_cast<uint8_t>(n)));
  }
  const auto out = parse_output(stage.run(format_input(batch), sdk::Job(nullptr)));
  ASSERT_TRUE(out.batch);
  ASSERT_EQ(out.sectors.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    auto single = batch.sectors[i];
    single.cache_dir += "-single";
    const auto o = stage.seal(one(single), sdk::Job(nullptr)).sectors[0];
    EXPECT_EQ(o.replica_id, out.sectors[i].replica_id);
    for (size_t l = 0; l < o.layers.size(); ++l) {
      EXPECT_EQ(read_all(o.layers[l]), read_all(out.sectors[i].layers[l]))
          << "sector " << i << " layer " << l + 1;
    }
  }
}

TEST_F(Pc1StageTest, RestartResumesAfterTheLastCompleteLayer) {
  auto stage = make();
  auto s = sector(4, 8 << 20, random_sector(8 << 20, 4));
  const auto first = stage.seal(one(s), sdk::Job(nullptr)).sectors[0];
  const auto layer2 = read_all(first.layers[1]);
  // A crash during layer 2 leaves layer 1, tree_d and at most a temporary file.
  fs::remove(first.layers[1]);
  write_file(first.layers[1] + ".tmp", std::vector<uint8_t>(4096, 0xee));
  const auto again = stage.seal(one(s), sdk::Job(nullptr)).sectors[0];
  EXPECT_TRUE(again.tree_d_resumed);
  EXPECT_EQ(again.layers_resumed, 1u);
  EXPECT_EQ(again.comm_d, first.comm_d);
  EXPECT_EQ(read_all(again.layers[1]), layer2);
}

TEST_F(Pc1StageTest, CancelLeavesNoPartialLayer) {
  auto stage = make();
  auto s = sector(5, 8 << 20, random_sector(8 << 20, 5));
  sdk::testing::FakeJob job;
  job.cancel_after_checks(3);
  try {
    stage.seal(one(s), sdk::Job(job.c()));
    FAIL() << "expected cancel";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_CANCELLED) << e.what();
  }
  for (const auto& entry : fs::directory_iterator(s.cache_dir)) {
    const auto name = entry.path().filename().string();
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << "left behind: " << name;
    if (name.starts_with("sc-02-data-layer-")) {
      EXPECT_EQ(entry.file_size(), (8u << 20)) << name << " is partial";
    }
  }
}

TEST_F(Pc1StageTest, BadInputIsRefusedBeforeAnyFileIsWritten) {
  auto stage = make(2);
  auto s = sector(6, 2048, std::vector<uint8_t>(2048, 0));
  {
    auto bad = s;
    write_file(bad.unsealed_path, std::vector<uint8_t>(1000, 0));
    auto e = error_of([&] { stage.seal(one(bad), sdk::Job(nullptr)); });
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
    EXPECT_THAT(e.what(), HasSubstr("1000 bytes"));
    write_file(bad.unsealed_path, std::vector<uint8_t>(2048, 0));
  }
  {
    auto bad = s;
    bad.unsealed_path += "-missing";
    EXPECT_EQ(error_of([&] { stage.seal(one(bad), sdk::Job(nullptr)); }).code(),
              SEALHOST_E_NOT_FOUND);
  }
  {
    auto bad = s;
    bad.proof = "StackedDrg8MiBV1_1";
    auto e = error_of([&] { stage.seal(one(bad), sdk::Job(nullptr)); });
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("8388608"));
  }
  {
    auto bad = s;
    bad.proof = "StackedDrg2KiBV9";
    auto e = error_of([&] { stage.seal(one(bad), sdk::Job(nullptr)); });
    EXPECT_THAT(e.what(), HasSubstr("StackedDrg2KiBV1_1")) << "lists the valid names";
  }
  {
    Pc1Input batch;
    batch.batch = true;
    batch.sectors = {s, sector(7, 2048, std::vector<uint8_t>(2048, 0)),
                     sector(8, 2048, std::vector<uint8_t>(2048, 0))};
    auto e = error_of([&] { stage.seal(batch, sdk::Job(nullptr)); });
    EXPECT_THAT(e.what(), HasSubstr("batch_size"));
    batch.sectors.pop_back();
    batch.sectors[1].proof = "2KiB-synth";
    EXPECT_THAT(error_of([&] { stage.seal(batch, sdk::Job(nullptr)); }).what(),
                HasSubstr("shares one proof type"));
    batch.sectors[1].proof.clear();
    batch.sectors[1].cache_dir = batch.sectors[0].cache_dir;
    EXPECT_THAT(error_of([&] { stage.seal(batch, sdk::Job(nullptr)); }).what(), HasSubstr("own"));
  }
  EXPECT_FALSE(fs::exists(s.cache_dir)) << "nothing written for refused inputs";
  {
    // A CommD mismatch is found after tree_d; the fresh tree_d is removed again.
    auto bad = s;
    bad.unsealed_cid = proofs::cid::piece_cid_v1(proofs::commp::zero_piece_commitment(1024));
    auto e = error_of([&] { stage.seal(one(bad), sdk::Job(nullptr)); });
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
    EXPECT_THAT(e.what(), HasSubstr("CommD"));
    EXPECT_FALSE(fs::exists(fs::path(bad.cache_dir) / "sc-02-data-tree-d.dat"));
  }
}

TEST(Pc1Records, RoundTripAndStrictness) {
  Pc1Input in;
  Pc1SectorInput s;
  s.sector = {1000, 9, 2048};
  s.ticket.fill(7);
  s.unsealed_path = "/u";
  s.cache_dir = "/c";
  s.unsealed_cid = "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy";
  in.sectors.push_back(s);
  const auto back = parse_input(format_input(in));
  ASSERT_EQ(back.sectors.size(), 1u);
  EXPECT_EQ(back.sectors[0].ticket, s.ticket);
  EXPECT_EQ(back.sectors[0].unsealed_cid, s.unsealed_cid);
  EXPECT_FALSE(back.batch);

  auto e = error_of([] {
    parse_input(R"({"v":1,"sector":{"miner":1,"number":2,"size":2048},"ticket":")" +
                std::string(64, '0') + R"(","unsealed_path":"/u","cache_dir":"/c","tiket":1})");
  });
  EXPECT_THAT(e.what(), HasSubstr("tiket"));
  EXPECT_THAT(error_of([] { parse_input(R"({"v":2})"); }).what(), HasSubstr("version"));
  EXPECT_THAT(error_of([] {
                parse_input(R"({"v":1,"sector":{"miner":1,"number":2,"size":2048},"ticket":"zz",)"
                            R"("unsealed_path":"/u","cache_dir":"/c"})");
              }).what(),
              HasSubstr("ticket"));
  EXPECT_THAT(error_of([] { parse_input(R"({"v":1,"sectors":[]})"); }).what(),
              HasSubstr("non-empty"));

  Pc1Output out;
  Pc1SectorOutput o;
  o.sector = s.sector;
  o.proof = "StackedDrg2KiBV1_1";
  o.unsealed_cid = *s.unsealed_cid;
  o.cache_dir = "/c";
  o.tree_d = "/c/sc-02-data-tree-d.dat";
  o.layers = {"/c/sc-02-data-layer-1.dat", "/c/sc-02-data-layer-2.dat"};
  o.parent_cache = "/p";
  o.seconds = 1.5;
  o.layers_resumed = 1;
  out.sectors.push_back(o);
  const auto parsed = parse_output(format_output(out));
  EXPECT_EQ(parsed.sectors[0].layers, o.layers);
  EXPECT_EQ(parsed.sectors[0].layers_resumed, 1u);
  EXPECT_DOUBLE_EQ(parsed.sectors[0].seconds, 1.5);
}

}  // namespace
}  // namespace sealhost::stage_pc1
