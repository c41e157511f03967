// sealhost.stage.finalize driven directly (no loader), on real files in a temp dir: the cache-dir
// file set of 2KiB and (sparse) 32GiB/64GiB sectors, idempotence, keep_unsealed, every way the
// PoSt set can be incomplete (nothing deleted), records and cancel. The move through a storage
// component is in finalize_load_test.
#include "plugins/stage/finalize/finalize_stage.hpp"
#include "plugins/stage/finalize/test/cache_files.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/testing.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace sealhost::stage_finalize {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::make_file;
using testing::make_sector;
using testing::read_file;

constexpr uint64_t k2KiB = 2048;
constexpr uint64_t k32GiB = 32ull << 30;

class FinalizeStageTest : public ::testing::Test {
 protected:
  FinalizeStage make(bool require_t_aux = true) {
    FinalizeOptions o;
    o.require_t_aux = require_t_aux;
    return FinalizeStage(o, sdk::Logger(), nullptr);
  }
  FinalizeInput input(uint64_t size = k2KiB) {
    FinalizeInput in;
    in.sector = {1000, 7, size};
    in.cache_dir = (tmp_ / "cache").string();
    in.sealed_path = (tmp_ / "sealed").string();
    in.unsealed_path = (tmp_ / "unsealed").string();
    return in;
  }
  testing::CacheSet sector(uint64_t size = k2KiB, uint32_t layers = 2) {
    auto set = make_sector(tmp_ / "cache", tmp_ / "sealed", size, layers);
    make_file(tmp_ / "unsealed", size, 9);
    return set;
  }
  static bool all_exist(const std::vector<fs::path>& ps) {
    return std::all_of(ps.begin(), ps.end(), [](const fs::path& p) { return fs::exists(p); });
  }
  sdk::testing::TempDir tmp_{"sealhost-finalize"};
};

TEST_F(FinalizeStageTest, RemovesSealingFilesAndKeepsWhatPostNeeds) {
  const auto set = sector();
  const std::string t_aux = read_file(tmp_ / "cache" / "t_aux");
  make_file(tmp_ / "cache" / "sc-02-data-tree-d.dat.tmp", 100);  // an interrupted pc1 writer
  make_file(tmp_ / "cache" / "notes.txt", 10);                   // not ours: left alone
  auto st = make();
  const auto out = st.finalize(input(), sdk::Job(nullptr));

  for (const auto& p : set.sealing) EXPECT_FALSE(fs::exists(p)) << p;
  EXPECT_FALSE(fs::exists(tmp_ / "cache" / "sc-02-data-tree-d.dat.tmp"));
  EXPECT_FALSE(fs::exists(tmp_ / "unsealed"));
  EXPECT_TRUE(all_exist(set.post));
  EXPECT_TRUE(fs::exists(tmp_ / "cache" / "notes.txt"));
  EXPECT_EQ(read_file(tmp_ / "cache" / "t_aux"), t_aux);
  EXPECT_EQ(fs::file_size(tmp_ / "sealed"), k2KiB);

  // layers 2x2048, tree-d 4064, tree-c 2336 (spec sdr.md §12), the .tmp, the unsealed copy.
  EXPECT_EQ(set.sealing_bytes, 2 * 2048u + 4064u + 2336u);
  EXPECT_EQ(out.bytes_freed, set.sealing_bytes + 100 + k2KiB);
  EXPECT_EQ(out.removed.size(), set.sealing.size() + 2);
  EXPECT_FALSE(out.moved);
  EXPECT_FALSE(out.path_id);
  EXPECT_FALSE(out.unsealed_path);
  EXPECT_EQ(out.sealed_path, (tmp_ / "sealed").string());
  EXPECT_EQ(out.cache_dir, (tmp_ / "cache").string());
  EXPECT_THAT(out.kept, ::testing::ElementsAre((tmp_ / "sealed").string(),
                                               (tmp_ / "cache/sc-02-data-tree-r-last.dat").string(),
                                               (tmp_ / "cache/p_aux").string(),
                                               (tmp_ / "cache/t_aux").string()));
}

TEST_F(FinalizeStageTest, RunningTwiceIsFine) {
  sector();
  auto st = make();
  const auto first = st.finalize(input(), sdk::Job(nullptr));
  const auto second = st.finalize(input(), sdk::Job(nullptr));
  EXPECT_GT(first.bytes_freed, 0u);
  EXPECT_EQ(second.bytes_freed, 0u);
  EXPECT_TRUE(second.removed.empty());
  EXPECT_EQ(second.kept, first.kept);
}

TEST_F(FinalizeStageTest, KeepUnsealedKeepsTheCopy) {
  sector();
  const std::string before = read_file(tmp_ / "unsealed");
  auto in = input();
  in.keep_unsealed = true;
  const auto out = make().finalize(in, sdk::Job(nullptr));
  EXPECT_EQ(read_file(tmp_ / "unsealed"), before);
  ASSERT_TRUE(out.unsealed_path);
  EXPECT_EQ(*out.unsealed_path, (tmp_ / "unsealed").string());
  EXPECT_EQ(out.kept.back(), (tmp_ / "unsealed").string());
}

TEST_F(FinalizeStageTest, KeepUnsealedWithoutTheFileIsRefusedBeforeDeleting) {
  const auto set = sector();
  fs::remove(tmp_ / "unsealed");
  auto in = input();
  in.keep_unsealed = true;
  try {
    make().finalize(in, sdk::Job(nullptr));
    FAIL() << "expected an error";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
    EXPECT_THAT(e.what(), HasSubstr("keep_unsealed"));
  }
  EXPECT_TRUE(all_exist(set.sealing));
}

TEST_F(FinalizeStageTest, UnsealedPathPointingAtKeptFilesIsRefused) {
  const auto set = sector();
  for (const fs::path& bad : {tmp_ / "sealed", tmp_ / "cache" / "p_aux", tmp_ / "cache",
                              tmp_ / "cache" / "." / "t_aux"}) {
    auto in = input();
    in.unsealed_path = bad.string();
    try {
      make().finalize(in, sdk::Job(nullptr));
      ADD_FAILURE() << "accepted unsealed_path " << bad;
    } catch (const sdk::Error& e) {
      EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
      EXPECT_THAT(e.what(), HasSubstr("unsealed_path"));
    }
  }
  EXPECT_TRUE(all_exist(set.sealing));
  EXPECT_TRUE(all_exist(set.post));
  EXPECT_TRUE(fs::exists(tmp_ / "sealed"));
}

TEST_F(FinalizeStageTest, WithoutUnsealedPathNothingElseIsTouched) {
  sector();
  auto in = input();
  in.unsealed_path.reset();
  make().finalize(in, sdk::Job(nullptr));
  EXPECT_TRUE(fs::exists(tmp_ / "unsealed"));
}

// Every way the PoSt set can be broken: the call fails, names the problem, deletes nothing.
struct Breakage {
  const char* name;
  std::function<void(const fs::path& tmp)> apply;
  const char* message;
};

class FinalizeRefusesTest : public FinalizeStageTest,
                            public ::testing::WithParamInterface<Breakage> {};

TEST_P(FinalizeRefusesTest, AndDeletesNothing) {
  const auto set = sector();
  GetParam().apply(tmp_.path());
  try {
    make().finalize(input(), sdk::Job(nullptr));
    FAIL() << "expected an error";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(GetParam().message));
    EXPECT_THAT(e.what(), HasSubstr("nothing was deleted"));
  }
  EXPECT_TRUE(all_exist(set.sealing));
  EXPECT_TRUE(fs::exists(tmp_ / "unsealed"));
}

INSTANTIATE_TEST_SUITE_P(
    Broken, FinalizeRefusesTest,
    ::testing::Values(
        Breakage{"ShortSealed", [](const fs::path& dir) { fs::resize_file(dir / "sealed", 2047); },
                 "sealed file"},
        Breakage{"LongSealed", [](const fs::path& dir) { fs::resize_file(dir / "sealed", 4096); },
                 "not the sector size 2048"},
        Breakage{"NoTreeRLast",
                 [](const fs::path& dir) { fs::remove(dir / "cache/sc-02-data-tree-r-last.dat"); },
                 "sc-02-data-tree-r-last.dat is missing"},
        Breakage{"TreeRLastWrongSize",
                 [](const fs::path& dir) {
                   fs::resize_file(dir / "cache/sc-02-data-tree-r-last.dat", 33);
                 },
                 "not a tree-r-last size"},
        Breakage{"NoPAux", [](const fs::path& dir) { fs::remove(dir / "cache/p_aux"); },
                 "p_aux is missing"},
        Breakage{"PAuxWrongSize",
                 [](const fs::path& dir) { fs::resize_file(dir / "cache/p_aux", 63); },
                 "p_aux has 63 bytes"},
        Breakage{"NoTAux", [](const fs::path& dir) { fs::remove(dir / "cache/t_aux"); },
                 "t_aux is missing"},
        Breakage{"EmptyTAux", [](const fs::path& dir) { fs::resize_file(dir / "cache/t_aux", 0); },
                 "t_aux is missing or empty"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(FinalizeStageTest, AllProblemsAreListedAtOnce) {
  sector();
  fs::remove(tmp_ / "cache/p_aux");
  fs::remove(tmp_ / "cache/t_aux");
  try {
    make().finalize(input(), sdk::Job(nullptr));
    FAIL() << "expected an error";
  } catch (const sdk::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("p_aux is missing; t_aux is missing"));
  }
}

TEST_F(FinalizeStageTest, TAuxIsOptionalWhenConfigured) {
  const auto set = sector();
  fs::remove(tmp_ / "cache/t_aux");
  const auto out = make(/*require_t_aux=*/false).finalize(input(), sdk::Job(nullptr));
  EXPECT_FALSE(fs::exists(set.sealing.front()));
  EXPECT_EQ(out.kept.size(), 3u);  // sealed, tree-r-last, p_aux
}

TEST_F(FinalizeStageTest, MissingSealedOrCacheIsNotFound) {
  sector();
  auto in = input();
  in.sealed_path = (tmp_ / "nope").string();
  try {
    make().finalize(in, sdk::Job(nullptr));
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr((tmp_ / "nope").string()));
  }
  in = input();
  in.cache_dir = (tmp_ / "nocache").string();
  try {
    make().finalize(in, sdk::Job(nullptr));
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("nocache"));
  }
}

// 32GiB: eight base trees (sc-02-data-tree-r-last-0..7.dat of 9,586,976 bytes), 11 layers of
// 32 GiB, tree-d of 64 GiB - 32 B; all sparse here.
TEST_F(FinalizeStageTest, ThirtyTwoGiBSectorFileSet) {
  EXPECT_EQ(tree_r_last_names(k32GiB).size(), 8u);
  EXPECT_EQ(tree_r_last_names(k32GiB)[7], "sc-02-data-tree-r-last-7.dat");
  EXPECT_THAT(tree_r_last_sizes(k32GiB), ::testing::Contains(9586976u));
  const auto set = make_sector(tmp_ / "cache", tmp_ / "sealed", k32GiB, 11);
  EXPECT_EQ(set.sealing.size(), 11u + 1u + 8u);
  EXPECT_EQ(fs::file_size(tmp_ / "cache/sc-02-data-tree-c-0.dat"), 4908534048u);
  auto in = input(k32GiB);
  in.unsealed_path.reset();
  // One base tree missing: refused, nothing deleted.
  fs::rename(tmp_ / "cache/sc-02-data-tree-r-last-5.dat", tmp_ / "r5");
  EXPECT_THROW(make().finalize(in, sdk::Job(nullptr)), sdk::Error);
  EXPECT_TRUE(all_exist(set.sealing));
  fs::rename(tmp_ / "r5", tmp_ / "cache/sc-02-data-tree-r-last-5.dat");
  const auto out = make().finalize(in, sdk::Job(nullptr));
  EXPECT_EQ(out.bytes_freed, set.sealing_bytes);
  EXPECT_EQ(out.bytes_freed, 13 * k32GiB - 32 + 8 * 4908534048ull);
  EXPECT_EQ(out.kept.size(), 1u + 8u + 2u);
  EXPECT_TRUE(all_exist(set.post));
}

TEST_F(FinalizeStageTest, TreeRLastSizesFollowRowsToDiscard) {
  // 2KiB: one base tree of 64 leaves (rows 64, 8, 1): rows_to_discard 0 keeps 8+1, 1 keeps 1.
  EXPECT_THAT(tree_r_last_sizes(k2KiB), ::testing::ElementsAre(9 * 32u, 32u));
  EXPECT_EQ(tree_r_last_names(k2KiB), std::vector<std::string>{"sc-02-data-tree-r-last.dat"});
  // 8MiB: default rows_to_discard 2 -> 18,720 bytes (spec sdr.md §12).
  EXPECT_THAT(tree_r_last_sizes(8u << 20), ::testing::Contains(18720u));
  EXPECT_EQ(tree_r_last_names(64ull << 30).size(), 16u);
}

TEST_F(FinalizeStageTest, SealingOnlyNames) {
  EXPECT_TRUE(is_sealing_only_file("sc-02-data-layer-11.dat"));
  EXPECT_TRUE(is_sealing_only_file("sc-02-data-tree-c-3.dat"));
  EXPECT_TRUE(is_sealing_only_file("sc-02-data-tree-c.dat"));
  EXPECT_TRUE(is_sealing_only_file("sc-02-data-tree-d.dat"));
  EXPECT_TRUE(is_sealing_only_file("syn-porep-vanilla-proofs.dat"));
  EXPECT_FALSE(is_sealing_only_file("sc-02-data-tree-r-last.dat"));
  EXPECT_FALSE(is_sealing_only_file("sc-02-data-tree-r-last-0.dat"));
  EXPECT_FALSE(is_sealing_only_file("p_aux"));
  EXPECT_FALSE(is_sealing_only_file("t_aux"));
}

TEST_F(FinalizeStageTest, CancelBeforeDeletingLeavesEverything) {
  const auto set = sector();
  sdk::testing::FakeJob job;
  job.cancel();
  try {
    make().finalize(input(), sdk::Job(job.c()));
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_CANCELLED);
  }
  EXPECT_TRUE(all_exist(set.sealing));
}

TEST_F(FinalizeStageTest, MoveWithoutStorageIsRefusedBeforeDeleting) {
  const auto set = sector();
  auto in = input();
  in.move_to = "some-path-id";
  EXPECT_THROW(make().finalize(in, sdk::Job(nullptr)), sdk::Error);
  EXPECT_TRUE(all_exist(set.sealing));
  // A resolver that fails (plugin not loaded) says so and names the option.
  FinalizeStage st(FinalizeOptions{}, sdk::Logger(), [](const std::string& id) -> sdk::StorageRef {
    throw sdk::not_found("no component " + id);
  });
  try {
    st.finalize(in, sdk::Job(nullptr));
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("option storage"));
  }
  EXPECT_TRUE(all_exist(set.sealing));
}

TEST_F(FinalizeStageTest, RecordsRoundTripAndRejectBadInput) {
  auto in = input();
  in.keep_unsealed = true;
  in.move_to = "abc";
  const auto back = parse_input(format_input(in));
  EXPECT_EQ(back.cache_dir, in.cache_dir);
  EXPECT_EQ(back.sealed_path, in.sealed_path);
  EXPECT_EQ(back.unsealed_path, in.unsealed_path);
  EXPECT_TRUE(back.keep_unsealed);
  EXPECT_EQ(back.move_to, in.move_to);

  const std::string ok =
      R"({"v":1,"sector":{"miner":1,"number":2,"size":2048},"cache_dir":"/c","sealed_path":"/s")";
  EXPECT_FALSE(parse_input(ok + "}").keep_unsealed);
  auto refused = [](const std::string& json, const char* what) {
    try {
      parse_input(json);
      ADD_FAILURE() << "accepted " << json;
    } catch (const sdk::Error& e) {
      EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
      EXPECT_THAT(e.what(), HasSubstr(what)) << json;
    }
  };
  refused(ok + R"(,"keep_unsealed":"yes"})", "keep_unsealed");
  refused(ok + R"(,"move_too":"x"})", "move_too");
  refused(ok + R"(,"move_to":""})", "move_to");
  refused(R"({"v":1,"sector":{"miner":1,"number":2,"size":2048},"sealed_path":"/s"})", "cache_dir");
  refused(R"({"v":1,"sector":{"miner":1,"number":2,"size":3000},"cache_dir":"/c",)"
          R"("sealed_path":"/s"})",
          "sector.size");
  refused("[]", "object");
  refused("{", "JSON");

  FinalizeOutput out;
  out.sector = in.sector;
  out.sealed_path = "/a";
  out.cache_dir = "/b";
  out.path_id = "p";
  out.moved = true;
  out.kept = {"/a", "/b/p_aux"};
  out.removed = {"/b/x"};
  out.bytes_freed = 5;
  out.bytes_moved = 6;
  const auto o2 = parse_output(format_output(out));
  EXPECT_EQ(o2.kept, out.kept);
  EXPECT_EQ(o2.removed, out.removed);
  EXPECT_EQ(o2.path_id, out.path_id);
  EXPECT_EQ(o2.bytes_moved, 6u);
  EXPECT_TRUE(o2.moved);
}

TEST_F(FinalizeStageTest, RunSpeaksJson) {
  sector();
  auto st = make();
  const auto out = parse_output(st.run(format_input(input()), sdk::Job(nullptr)));
  EXPECT_EQ(out.sector.number, 7u);
  EXPECT_GT(out.bytes_freed, 0u);
}

}  // namespace
}  // namespace sealhost::stage_finalize
