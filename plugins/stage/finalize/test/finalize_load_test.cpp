// sealhost.stage.finalize as the host runs it: the built .so through the real loader and the C
// ABI, and the move to long-term storage through the real sealhost.storage.local plugin, which
// the stage obtains from the host's ComponentDirectory (ABI 1.1 get_component) with
// sdk::find_storage — the same shared instance the test attaches paths to. Also covers
// sdk::StorageRef / find_storage / JobRelay on their own.
#include "host/plugin/component.hpp"
#include "host/plugin/directory.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/stage/finalize/finalize_stage.hpp"
#include "plugins/stage/finalize/test/cache_files.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/storage_ref.hpp>
#include <sealhost/sdk/testing.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sealhost::stage_finalize {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::make_file;
using testing::make_sector;
using testing::read_file;

constexpr const char* kStorageId = "sealhost.storage.local";
constexpr uint64_t k2KiB = 2048;

std::string plugin(const char* name) {
  return std::string(SEALHOST_TEST_PLUGIN_DIR) + "/" + name;
}

class LoadedFinalizeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new host::PluginRegistry(host::host_services());
    for (const char* so : {"sealhost-stage-finalize.so", "sealhost-storage-local.so"}) {
      auto failure = registry_->load_file(plugin(so));
      ASSERT_FALSE(failure) << failure->message;
    }
  }
  void SetUp() override { host::ComponentDirectory::global().bind(registry_); }
  void TearDown() override { host::ComponentDirectory::global().clear(); }

  host::StageClient client(std::vector<std::pair<std::string, std::string>> overrides = {}) {
    auto ref = registry_->find(FinalizeStage::kId);
    EXPECT_TRUE(ref);
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return host::StageClient(
        std::make_shared<host::ComponentInstance>(*ref, host::host_services(), std::move(opts)));
  }
  // The shared storage instance (the one the stage gets), with a sealing and a storage path.
  sdk::StorageRef storage() { return sdk::find_storage(host::host_services(), kStorageId); }
  void attach_paths() {
    auto st = storage();
    seal_ = st.attach({(tmp_ / "seal").string(), true, true, false});
    store_ = st.attach({(tmp_ / "store").string(), true, false, true});
  }
  // Allocates the sector on the sealing path and fabricates its post-PC2 files there.
  FinalizeInput sealed_sector(uint64_t number, testing::CacheSet* set = nullptr) {
    const sdk::SectorRef ref{1000, number, k2KiB};
    auto a = storage().allocate(ref, SEALHOST_FT_UNSEALED | SEALHOST_FT_SEALED | SEALHOST_FT_CACHE,
                                SEALHOST_PATH_SEALING);
    FinalizeInput in;
    in.sector = {1000, number, k2KiB};
    for (const auto& l : a.locations) {
      if (l.file_type == SEALHOST_FT_SEALED) in.sealed_path = l.local_path;
      if (l.file_type == SEALHOST_FT_CACHE) in.cache_dir = l.local_path;
      if (l.file_type == SEALHOST_FT_UNSEALED) in.unsealed_path = l.local_path;
    }
    auto s = make_sector(in.cache_dir, in.sealed_path, k2KiB, 2);
    if (set) *set = s;
    make_file(*in.unsealed_path, k2KiB, 77);
    storage().release(a.reservation_id);
    return in;
  }

  static host::PluginRegistry* registry_;
  sdk::testing::TempDir tmp_{"sealhost-finalize-load"};
  sdk::PathInfo seal_, store_;
};
host::PluginRegistry* LoadedFinalizeTest::registry_ = nullptr;

TEST_F(LoadedFinalizeTest, DescribesItselfAndItsOptions) {
  auto ref = registry_->find(FinalizeStage::kId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_STAGE);
  EXPECT_EQ(host::validate_descriptor(ref->plugin->descriptor), "");
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.push_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("storage", "require_t_aux"));
  EXPECT_EQ(client().stage(), "finalize");
}

TEST_F(LoadedFinalizeTest, FinalizesInPlaceThroughTheAbi) {
  const auto set = make_sector(tmp_ / "cache", tmp_ / "sealed", k2KiB, 2);
  FinalizeInput in;
  in.sector = {1000, 3, k2KiB};
  in.cache_dir = (tmp_ / "cache").string();
  in.sealed_path = (tmp_ / "sealed").string();
  std::vector<std::string> phases;
  host::JobState job([&](uint64_t, uint64_t, std::string_view p) { phases.emplace_back(p); });
  const auto out = parse_output(client().run(format_input(in), &job));
  EXPECT_EQ(out.bytes_freed, set.sealing_bytes);
  EXPECT_EQ(out.removed.size(), set.sealing.size());
  EXPECT_FALSE(out.moved);
  EXPECT_THAT(phases, ::testing::ElementsAre("verify", "remove", "done"));
}

TEST_F(LoadedFinalizeTest, ErrorsCrossTheAbiWithTheirCode) {
  try {
    client().run(R"({"v":1,"sector":{"miner":1,"number":1,"size":2048},)"
                 R"("cache_dir":"/nonexistent/c","sealed_path":"/nonexistent/s"})");
    FAIL() << "expected an error";
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/s"));
  }
  try {
    client().run(R"({"v":1,"sector":{"miner":1,"number":1,"size":2048},"bogus":1})");
    FAIL() << "expected an error";
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("bogus"));
  }
}

TEST_F(LoadedFinalizeTest, EmptyStorageOptionIsRefusedAtCreate) {
  auto ref = registry_->find(FinalizeStage::kId);
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  opts.set_text("storage", "\"\"");
  EXPECT_THROW(host::ComponentInstance(*ref, host::host_services(), std::move(opts)),
               host::PluginError);
}

TEST_F(LoadedFinalizeTest, MovesTheSectorThroughStorageLocal) {
  attach_paths();
  testing::CacheSet set;
  auto in = sealed_sector(7, &set);
  in.move_to = store_.id;
  const std::string t_aux = read_file(fs::path(in.cache_dir) / "t_aux");
  const std::string sealed_bytes = read_file(in.sealed_path);
  std::vector<std::string> phases;
  host::JobState job([&](uint64_t, uint64_t, std::string_view p) { phases.emplace_back(p); });
  const auto out = parse_output(client().run(format_input(in), &job));

  const fs::path dest = store_.location;
  EXPECT_TRUE(out.moved);
  ASSERT_TRUE(out.path_id);
  EXPECT_EQ(*out.path_id, store_.id);
  EXPECT_EQ(out.sealed_path, (dest / "sealed/s-t01000-7").string());
  EXPECT_EQ(out.cache_dir, (dest / "cache/s-t01000-7").string());
  EXPECT_FALSE(out.unsealed_path);
  EXPECT_EQ(read_file(out.sealed_path), sealed_bytes);
  EXPECT_EQ(read_file(fs::path(out.cache_dir) / "t_aux"), t_aux);
  EXPECT_EQ(out.bytes_freed, set.sealing_bytes + k2KiB);
  // sealed + tree-r-last (32) + p_aux (64) + t_aux (1234) moved.
  EXPECT_EQ(out.bytes_moved, k2KiB + 32 + 64 + 1234);
  for (const auto& k : out.kept) EXPECT_TRUE(fs::exists(k)) << k;
  EXPECT_FALSE(fs::exists(in.sealed_path));
  EXPECT_FALSE(fs::exists(in.cache_dir));
  EXPECT_FALSE(fs::exists(*in.unsealed_path));
  std::vector<std::string> cache_files;
  for (const auto& e : fs::directory_iterator(out.cache_dir)) {
    cache_files.push_back(e.path().filename().string());
  }
  EXPECT_THAT(cache_files,
              ::testing::UnorderedElementsAre("sc-02-data-tree-r-last.dat", "p_aux", "t_aux"));
  // The storage component agrees: everything is on the storage path now.
  const auto where = storage().find({1000, 7, k2KiB}, sdk::kAllFileTypes);
  ASSERT_EQ(where.size(), 2u);
  for (const auto& l : where) EXPECT_EQ(l.path_id, store_.id);
  // Progress of the nested move came through the relay.
  EXPECT_THAT(phases, ::testing::Contains(::testing::StartsWith("move to " + store_.id)));

  // Idempotent: the same input again (its paths are gone) finds the sector on the storage path.
  const auto again = parse_output(client().run(format_input(in)));
  EXPECT_FALSE(again.moved);
  EXPECT_TRUE(again.removed.empty());
  EXPECT_EQ(again.bytes_freed, 0u);
  EXPECT_EQ(again.sealed_path, out.sealed_path);
  EXPECT_EQ(again.kept, out.kept);
}

TEST_F(LoadedFinalizeTest, ResumesAMoveThatStoppedHalfway) {
  attach_paths();
  testing::CacheSet set;
  auto in = sealed_sector(13, &set);
  in.move_to = store_.id;
  // An earlier run got as far as moving the sealed file (a cancelled multi-type move keeps the
  // files already moved), but not the cache dir.
  storage().move({1000, 13, k2KiB}, SEALHOST_FT_SEALED, store_.id);
  ASSERT_FALSE(fs::exists(in.sealed_path));
  const auto out = parse_output(client().run(format_input(in)));
  EXPECT_TRUE(out.moved);
  EXPECT_EQ(out.bytes_moved, 32u + 64u + 1234u);  // only the cache dir's remaining files
  EXPECT_EQ(out.bytes_freed, set.sealing_bytes + k2KiB);
  EXPECT_EQ(out.sealed_path, (fs::path(store_.location) / "sealed/s-t01000-13").string());
  EXPECT_EQ(out.cache_dir, (fs::path(store_.location) / "cache/s-t01000-13").string());
  for (const auto& l : storage().find({1000, 13, k2KiB}, sdk::kAllFileTypes)) {
    EXPECT_EQ(l.path_id, store_.id);
  }
}

TEST_F(LoadedFinalizeTest, KeptUnsealedCopyMovesToo) {
  attach_paths();
  auto in = sealed_sector(8);
  in.keep_unsealed = true;
  in.move_to = store_.id;
  const std::string unsealed = read_file(*in.unsealed_path);
  const auto out = parse_output(client().run(format_input(in)));
  ASSERT_TRUE(out.unsealed_path);
  EXPECT_EQ(*out.unsealed_path, (fs::path(store_.location) / "unsealed/s-t01000-8").string());
  EXPECT_EQ(read_file(*out.unsealed_path), unsealed);
  EXPECT_EQ(storage().find({1000, 8, k2KiB}, sdk::kAllFileTypes).size(), 3u);
}

TEST_F(LoadedFinalizeTest, BadMoveTargetsAreRefusedBeforeDeleting) {
  attach_paths();
  testing::CacheSet set;
  auto in = sealed_sector(9, &set);
  auto refused = [&](const std::string& move_to, sealhost_status code, const char* what) {
    in.move_to = move_to;
    try {
      client().run(format_input(in));
      ADD_FAILURE() << "move_to " << move_to << " accepted";
    } catch (const host::PluginError& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(what));
    }
    for (const auto& p : set.sealing) EXPECT_TRUE(fs::exists(p)) << p;
    EXPECT_TRUE(fs::exists(*in.unsealed_path));
  };
  refused("no-such-path-id", SEALHOST_E_NOT_FOUND, "no-such-path-id");
  refused(seal_.id, SEALHOST_E_FAILED_PRECONDITION, "not a storage path");

  // Files outside every attached path cannot be moved by the storage component.
  const auto loose = make_sector(tmp_ / "loose/cache", tmp_ / "loose/sealed", k2KiB, 2);
  FinalizeInput outside;
  outside.sector = {1000, 10, k2KiB};
  outside.cache_dir = (tmp_ / "loose/cache").string();
  outside.sealed_path = (tmp_ / "loose/sealed").string();
  outside.move_to = store_.id;
  try {
    client().run(format_input(outside));
    FAIL() << "expected an error";
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
    EXPECT_THAT(e.what(), HasSubstr("does not hold"));
  }
  for (const auto& p : loose.sealing) EXPECT_TRUE(fs::exists(p)) << p;
}

TEST_F(LoadedFinalizeTest, UnknownStorageComponentIsNamed) {
  attach_paths();
  auto in = sealed_sector(11);
  in.move_to = store_.id;
  try {
    client({{"storage", "\"acme.storage.tape\""}}).run(format_input(in));
    FAIL() << "expected an error";
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("acme.storage.tape"));
    EXPECT_THAT(e.what(), HasSubstr("option storage"));
  }
}

// ---- sdk::find_storage / StorageRef / JobRelay on their own

TEST_F(LoadedFinalizeTest, StorageRefDrivesTheSharedInstance) {
  auto st = storage();
  EXPECT_EQ(st.id(), kStorageId);
  attach_paths();
  EXPECT_EQ(st.list().size(), 2u);
  EXPECT_EQ(st.stat(store_.id).location, store_.location);
  const sdk::SectorRef ref{1000, 12, k2KiB};
  EXPECT_TRUE(st.find(ref, SEALHOST_FT_SEALED).empty());
  auto a = st.allocate(ref, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
  ASSERT_EQ(a.locations.size(), 1u);
  make_file(a.locations[0].local_path, k2KiB, 5);
  st.release(a.reservation_id);
  uint8_t buf[16];
  st.read_range(ref, SEALHOST_FT_SEALED, "", 100, buf, sizeof buf);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 16),
            testing::content(k2KiB, 5).substr(100, 16));

  // A nested call's progress arrives prefixed; the outer cancel reaches it.
  sdk::testing::FakeJob outer;
  {
    sdk::JobRelay relay(sdk::Job(outer.c()), "move");
    st.move(ref, SEALHOST_FT_SEALED, store_.id, relay.c());
  }
  EXPECT_GT(outer.progress_calls(), 0u);
  const auto where = st.find(ref, SEALHOST_FT_SEALED);
  ASSERT_EQ(where.size(), 1u);
  EXPECT_EQ(where[0].path_id, store_.id);
  outer.cancel();
  sdk::JobRelay relay(sdk::Job(outer.c()), "x");
  EXPECT_EQ(relay.c()->cancelled(relay.c()->ctx), 1);

  st.remove(ref, SEALHOST_FT_SEALED);
  EXPECT_TRUE(st.find(ref, SEALHOST_FT_SEALED).empty());
  // Errors carry the component's status, prefixed by its id.
  try {
    st.stat("nope");
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr(kStorageId));
  }
  st.detach(store_.id);
  EXPECT_EQ(st.list().size(), 1u);
}

TEST_F(LoadedFinalizeTest, FindStorageRefusesUnknownWrongKindAndOldHosts) {
  try {
    sdk::find_storage(host::host_services(), "acme.storage.tape");
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("acme.storage.tape"));
  }
  try {
    sdk::find_storage(host::host_services(), FinalizeStage::kId);  // a stage, not a storage
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
  }
  sealhost_host_services old = *host::host_services();
  old.struct_size = offsetof(sealhost_host_services, get_component);
  try {
    sdk::find_storage(&old, kStorageId);
    FAIL();
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
    EXPECT_THAT(e.what(), HasSubstr("ABI 1.1"));
  }
}

}  // namespace
}  // namespace sealhost::stage_finalize
