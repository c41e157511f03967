// sealhost.stage.pc2 without loading anything: the stage class driven with JSON records, the
// builtin engine, the SDK's fake host and job.
#include "plugins/stage/pc2/pc2_stage.hpp"

#include "proofs/pc2/pc2.hpp"
#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sdr/seal_proof.hpp"
#include "tests/proofs/pc2/pc2_test_util.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sealhost/sdk/testing.hpp>

namespace sealhost::stage_pc2 {
namespace {

namespace fs = std::filesystem;
namespace sdr = proofs::sdr;
using proofs::pc2::testing::list_dir;
using proofs::pc2::testing::TempDir;
using proofs::pc2::testing::write_file;
using ::testing::HasSubstr;

nlohmann::json vector(const std::string& id) {
  std::ifstream in(std::string(SEALHOST_TEST_VECTORS) + "/e2e.json");
  const auto doc = nlohmann::json::parse(in);
  for (const auto& v : doc.at("vectors")) {
    if (v.at("id") == id) return v;
  }
  ADD_FAILURE() << id << " missing";
  return {};
}

// The 2KiB V1_1 zero sector of the e2e vector, labelled with proofs/sdr.
struct VectorSector {
  TempDir tmp;
  nlohmann::json v = vector("e2e.2k.zero.StackedDrg2KiBV1_1");
  Pc2Input in;

  VectorSector() {
    const auto& proof = sdr::lookup_seal_proof("StackedDrg2KiBV1_1");
    const auto replica_id = *from_hex(v.at("expected").at("replica_id_hex").get<std::string>());
    const auto labels = sdr::label_in_memory(sdr::Graph(proof), replica_id, proof.layers);
    in.sector = {1000, 1, 2048};
    in.proof = "StackedDrg2KiBV1_1";
    in.cache_dir = (tmp.path() / "cache").string();
    fs::create_directories(in.cache_dir);
    for (uint32_t l = 1; l <= 2; ++l) {
      write_file(fs::path(in.cache_dir) / sdr::layer_file_name(l),
                 std::vector<uint8_t>(labels.label(l, 0), labels.label(l, 0) + 2048));
    }
    in.unsealed_path = (tmp.path() / "unsealed").string();
    write_file(in.unsealed_path, std::vector<uint8_t>(2048, 0));
    in.sealed_path = (tmp.path() / "sealed").string();
    in.comm_d = *from_hex(v.at("expected").at("comm_d_hex").get<std::string>());
    in.replica_id = replica_id;
  }
};

Pc2Stage builtin_stage(sdk::Logger log = sdk::Logger(nullptr, Pc2Stage::kId)) {
  return Pc2Stage(Pc2Options{kBuiltinCompute, 2, 1 << 20}, std::move(log),
                  std::make_unique<proofs::pc2::CpuPoseidonEngine>(2));
}

sdk::Error run_error(Pc2Stage& stage, const Pc2Input& in, sdk::testing::FakeJob* job = nullptr) {
  try {
    stage.run(format_input(in), sdk::Job(job ? job->c() : nullptr));
  } catch (const sdk::Error& e) {
    return e;
  }
  ADD_FAILURE() << "pc2 succeeded";
  return sdk::Error(SEALHOST_OK, "");
}

TEST(Pc2Stage, VectorSectorThroughTheRecordInterface) {
  VectorSector s;
  sdk::testing::FakeHost host;
  auto opts = sdk::testing::defaults(kOptions);
  opts.set_text("compute", "builtin");
  opts.set_text("threads", "2");
  Pc2Stage stage(host.context(Pc2Stage::kId, opts));
  EXPECT_EQ(stage.engine().name(), "builtin-cpu");
  sdk::testing::FakeJob job;
  const auto out = parse_output(stage.run(format_input(s.in), sdk::Job(job.c())));
  const auto& e = s.v.at("expected");
  EXPECT_EQ(to_hex(out.comm_c), e.at("comm_c_hex"));
  EXPECT_EQ(to_hex(out.comm_r_last), e.at("comm_r_last_hex"));
  EXPECT_EQ(to_hex(out.comm_r), e.at("comm_r_hex"));
  EXPECT_EQ(to_hex(out.comm_d), e.at("comm_d_hex"));
  EXPECT_EQ(out.sealed_cid, e.at("sealed_cid"));
  EXPECT_EQ(out.compute, "builtin-cpu");
  EXPECT_EQ(out.sealed_path, s.in.sealed_path);
  ASSERT_EQ(out.tree_c_paths.size(), 1U);
  EXPECT_EQ(fs::file_size(out.tree_c_paths[0]), 2336U);
  EXPECT_EQ(fs::file_size(out.tree_r_last_paths[0]), 32U);
  EXPECT_EQ(fs::file_size(out.p_aux_path), 64U);
  EXPECT_TRUE(fs::exists(out.t_aux_path));
  EXPECT_EQ(job.done(), job.total());
  EXPECT_EQ(job.total(), 128U);
  bool logged = false;
  for (const auto& line : host.lines()) {
    logged = logged || line.message.find("pc2 done") != std::string::npos;
  }
  EXPECT_TRUE(logged) << "completion is logged through the host logger";
}

TEST(Pc2Stage, ProofAndSizeAreChecked) {
  VectorSector s;
  auto stage = builtin_stage();
  auto in = s.in;
  in.proof = "StackedDrg3KiBV1_1";
  auto e = run_error(stage, in);
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("proof"));
  in = s.in;
  in.proof = "8MiB-v1.1";
  e = run_error(stage, in);
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("does not match proof StackedDrg8MiBV1_1"));
}

TEST(Pc2Stage, ErrorsMapToStatusesAndLeaveNothing) {
  VectorSector s;
  auto stage = builtin_stage();
  const auto before = list_dir(s.in.cache_dir);
  auto in = s.in;
  in.replica_id->at(0) ^= 1;
  auto e = run_error(stage, in);
  EXPECT_EQ(e.code(), SEALHOST_E_DATA_LOSS);
  EXPECT_THAT(e.what(), HasSubstr("sector 1000/1"));
  EXPECT_THAT(e.what(), HasSubstr("replica_id"));
  in = s.in;
  fs::rename(fs::path(s.in.cache_dir) / sdr::layer_file_name(2), s.tmp.path() / "aside");
  EXPECT_EQ(run_error(stage, in).code(), SEALHOST_E_NOT_FOUND);
  fs::rename(s.tmp.path() / "aside", fs::path(s.in.cache_dir) / sdr::layer_file_name(2));
  in.cache_dir = (s.tmp.path() / "missing").string();
  EXPECT_EQ(run_error(stage, in).code(), SEALHOST_E_NOT_FOUND);
  EXPECT_EQ(list_dir(s.in.cache_dir), before);
  EXPECT_FALSE(fs::exists(s.in.sealed_path));
}

TEST(Pc2Stage, CancelThroughTheJob) {
  VectorSector s;
  auto stage = Pc2Stage(Pc2Options{kBuiltinCompute, 1, 64 << 10}, sdk::Logger(nullptr, "t"),
                        std::make_unique<proofs::pc2::CpuPoseidonEngine>(1));
  const auto before = list_dir(s.in.cache_dir);
  sdk::testing::FakeJob job;
  job.cancel_after_checks(3);
  EXPECT_EQ(run_error(stage, s.in, &job).code(), SEALHOST_E_CANCELLED);
  EXPECT_EQ(list_dir(s.in.cache_dir), before);
  EXPECT_FALSE(fs::exists(s.in.sealed_path));
}

TEST(Pc2Stage, ABusyCacheDirectoryIsRefused) {
  VectorSector s;
  auto stage = builtin_stage();
  const int fd = ::open(s.in.cache_dir.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  const auto e = run_error(stage, s.in);
  EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
  EXPECT_THAT(e.what(), HasSubstr("another pc2 run"));
  ::close(fd);
  EXPECT_NO_THROW(stage.run(format_input(s.in), sdk::Job(nullptr)));
}

class BrokenEngine final : public proofs::pc2::PoseidonEngine {
 public:
  void hash_batch(size_t, proofs::pc2::PoseidonTag, const uint8_t*, uint8_t*, size_t) override {
    throw std::runtime_error("device reset");
  }
  void tree_rows(size_t, const uint8_t*, size_t, uint8_t*) override {
    throw std::runtime_error("device reset");
  }
  std::string name() const override { return "acme.compute.broken"; }
};

TEST(Pc2Stage, ComputeFailureIsUnavailable) {
  VectorSector s;
  Pc2Stage stage(Pc2Options{}, sdk::Logger(nullptr, "t"), std::make_unique<BrokenEngine>());
  const auto e = run_error(stage, s.in);
  EXPECT_EQ(e.code(), SEALHOST_E_UNAVAILABLE);
  EXPECT_THAT(e.what(), HasSubstr("acme.compute.broken"));
  EXPECT_THAT(e.what(), HasSubstr("device reset"));
}

TEST(Pc2Stage, ComputeComponentNeedsAHostThatCanHandItOut) {
  sdk::testing::FakeHost host;  // ABI 1.0-style services without get_component
  auto opts = sdk::testing::defaults(kOptions);
  try {
    Pc2Stage stage(host.context(Pc2Stage::kId, opts));
    FAIL() << "created without a compute component";
  } catch (const sdk::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("option compute"));
    EXPECT_THAT(e.what(), HasSubstr("builtin"));
  }
}

}  // namespace
}  // namespace sealhost::stage_pc2
