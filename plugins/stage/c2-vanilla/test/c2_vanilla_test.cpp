// sealhost.stage.c2-vanilla: a real 2 KiB sector is sealed with the proofs libraries, its C1
// output bundled by the stage (directly and through the loader), the bundle re-verified, and
// every kind of tampering refused.
#include "plugins/stage/c2-vanilla/c2_vanilla.hpp"
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "proofs/c1/c1.hpp"
#include "proofs/c1/c1_json.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/pc2/poseidon_engine.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sdr/parent_cache.hpp"
#include "proofs/sdr/seal_proof.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/testing.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace sealhost::stage_c2_vanilla {
namespace {

namespace fs = std::filesystem;
namespace sdr = proofs::sdr;
using sdk::testing::error_of;
using ::testing::HasSubstr;

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

// Seals a zero 2 KiB sector (PC1 + PC2 with the libraries) and writes its C1 output JSON.
class C2VanillaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new sdk::testing::TempDir("sealhost-c2v");
    const auto& proof = sdr::lookup_seal_proof("StackedDrg2KiBV1_1");
    const fs::path cache = dir_->path() / "cache", unsealed = dir_->path() / "unsealed",
                   sealed = dir_->path() / "sealed";
    fs::create_directories(cache);
    write(unsealed, std::string(2048, '\0'));
    const auto comm_d = proofs::commp::write_tree_d(unsealed, cache / "sc-02-data-tree-d.dat");
    sdr::Bytes32 ticket;
    ticket.fill(1);
    const auto replica_id =
        sdr::replica_id(sdr::prover_id_from_actor(1000), 1, ticket, comm_d, sdr::porep_id(proof));
    const sdr::Graph graph(proof);
    const auto parents = sdr::ParentCache::open_or_create(graph, dir_->path() / "parents");
    sdr::Pc1Request req;
    req.proof = &proof;
    req.parent_cache = &parents;
    req.replica_ids = {replica_id};
    req.cache_dirs = {cache};
    sdr::run_pc1(req);
    proofs::pc2::CpuPoseidonEngine engine(1);
    proofs::pc2::Pc2Input in;
    in.sector_bytes = 2048;
    in.cache_dir = cache;
    in.unsealed_path = unsealed;
    in.sealed_path = sealed;
    proofs::pc2::Pc2Options po;
    po.engine = &engine;
    const auto pc2 = proofs::pc2::run_pc2(in, po);
    const auto params = proofs::c1::PoRepParams::for_seal_proof(proof);
    proofs::c1::PublicInputs pub;
    pub.replica_id = replica_id;
    pub.comm_d = comm_d;
    pub.comm_r = pc2.comm_r;
    pub.seed.fill(2);
    const auto c1 = proofs::c1::prove_commit1(params, graph, pub, {cache, sealed});
    phase1_ =
        new std::string(proofs::c1::c1_output_to_json(params, std::string(proof.name), ticket, c1));
    comm_r_ = pc2.comm_r;
  }
  static void TearDownTestSuite() {
    delete phase1_;
    delete dir_;
  }
  Input input(const std::string& json_text, const std::string& name = "c1.json") {
    const fs::path p = dir_->path() / name;
    write(p, json_text);
    return {{1000, 1, 2048}, p.string()};
  }
  static sdk::testing::TempDir* dir_;
  static std::string* phase1_;
  static proofs::merkle::Node comm_r_;
};
sdk::testing::TempDir* C2VanillaTest::dir_ = nullptr;
std::string* C2VanillaTest::phase1_ = nullptr;
proofs::merkle::Node C2VanillaTest::comm_r_{};

TEST_F(C2VanillaTest, BundlesVerifiedProofsAndTheBundleVerifiesAgain) {
  C2VanillaStage stage{sdk::Logger()};
  sdk::testing::FakeJob job;
  const auto out = parse_output(stage.run(format_input(input(*phase1_)), sdk::Job(job.c())));
  EXPECT_EQ(out.registered_proof, "StackedDrg2KiBV1_1");
  EXPECT_EQ(out.comm_r, comm_r_);
  EXPECT_EQ(out.partitions, 1u);
  EXPECT_EQ(out.challenges, 2u);  // 2 KiB test sectors: one partition of 2 challenges
  const auto v = verify_bundle(out.bundle_path);
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.comm_r, comm_r_);
  const auto bundle = nlohmann::json::parse(read(out.bundle_path));
  EXPECT_THAT(bundle["warning"].get<std::string>(), HasSubstr("never by mainnet"));
  EXPECT_EQ(job.done(), job.total());
}

TEST_F(C2VanillaTest, TamperedBundlesAreRefused) {
  C2VanillaStage stage{sdk::Logger()};
  const auto out = stage.prove(input(*phase1_, "c1-t.json"), sdk::Job(nullptr));
  auto bundle = nlohmann::json::parse(read(out.bundle_path));
  {
    auto b = bundle;
    std::string r = b["comm_r"];
    r[0] = r[0] == '0' ? '1' : '0';
    b["comm_r"] = r;
    write(out.bundle_path, b.dump());
    EXPECT_FALSE(verify_bundle(out.bundle_path).valid);
  }
  {
    auto b = bundle;
    auto& leaf = b["phase1_output"]["comm_r"];
    leaf[0] = (leaf[0].get<int>() + 1) % 64;
    write(out.bundle_path, b.dump());
    const auto v = verify_bundle(out.bundle_path);
    EXPECT_FALSE(v.valid);
  }
  {
    auto b = bundle;
    b["kind"] = "something-else";
    write(out.bundle_path, b.dump());
    EXPECT_FALSE(verify_bundle(out.bundle_path).valid);
  }
  write(out.bundle_path, "{not json");
  EXPECT_FALSE(verify_bundle(out.bundle_path).valid);
  EXPECT_FALSE(verify_bundle((dir_->path() / "missing").string()).valid);
}

TEST_F(C2VanillaTest, ProofsThatDoNotVerifyAreDataLoss) {
  auto j = nlohmann::json::parse(*phase1_);
  // The seed decides the challenges: another seed makes every proof answer the wrong challenge.
  j["seed"][0] = (j["seed"][0].get<int>() + 1) % 256;
  C2VanillaStage stage{sdk::Logger()};
  const auto e = error_of([&] { stage.prove(input(j.dump(), "c1-bad.json"), sdk::Job(nullptr)); });
  EXPECT_EQ(e.code(), SEALHOST_E_DATA_LOSS) << e.what();
  EXPECT_FALSE(fs::exists(dir_->path() / "c1-bad.json.vanilla-bundle.json"));
}

TEST_F(C2VanillaTest, BadInputsAreClearErrors) {
  C2VanillaStage stage{sdk::Logger()};
  auto wrong_size = input(*phase1_, "c1-size.json");
  wrong_size.sector.size = 8 << 20;
  EXPECT_EQ(error_of([&] { stage.prove(wrong_size, sdk::Job(nullptr)); }).code(),
            SEALHOST_E_INVALID_ARGUMENT);
  Input missing{{1000, 1, 2048}, (dir_->path() / "nope.json").string()};
  EXPECT_EQ(error_of([&] { stage.prove(missing, sdk::Job(nullptr)); }).code(),
            SEALHOST_E_NOT_FOUND);
  EXPECT_EQ(error_of([&] { stage.prove(input("[1,2", "c1-junk.json"), sdk::Job(nullptr)); }).code(),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(error_of([] {
                parse_input(R"({"v":1,"sector":{"miner":1,"number":1,"size":2048},)"
                            R"("phase1_output_path":"/x","extra":1})");
              }).what(),
              HasSubstr("extra"));
}

TEST_F(C2VanillaTest, ThroughTheLoader) {
  host::PluginRegistry registry(host::host_services());
  ASSERT_FALSE(
      registry.load_file(fs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-stage-c2-vanilla.so"));
  auto ref = registry.find(C2VanillaStage::kId);
  ASSERT_TRUE(ref);
  host::StageClient client(std::make_shared<host::ComponentInstance>(
      *ref, host::host_services(), sdk::OptionSet(ref->desc->options, ref->desc->options_len)));
  EXPECT_EQ(client.stage(), "c2");
  const auto out = parse_output(client.run(format_input(input(*phase1_, "c1-loader.json"))));
  EXPECT_TRUE(verify_bundle(out.bundle_path).valid);
}

}  // namespace
}  // namespace sealhost::stage_c2_vanilla
