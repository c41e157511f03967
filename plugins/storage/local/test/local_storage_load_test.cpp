// sealhost.storage.local as the host sees it: the built .so loaded through the real loader, driven
// through the host's typed StorageClient over the C ABI.
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/storage/local/test/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/abi.h>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/storage.hpp>
#include <sealhost/sdk/testing.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace sealhost::storage_local {
namespace {

namespace stdfs = std::filesystem;
using host::ComponentInstance;
using host::PluginError;
using host::PluginRegistry;
using host::StorageClient;
using sdk::testing::TempDir;
using ::testing::HasSubstr;
using testing::pattern;
using testing::write_file;

const stdfs::path kPluginFile = stdfs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-storage-local.so";
constexpr const char* kComponentId = "sealhost.storage.local";

class LoadedLocalStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto failure = registry_.load_file(kPluginFile);
    ASSERT_FALSE(failure) << failure->message;
  }

  // A fresh instance from the component's defaults, with `overrides` applied in text form.
  StorageClient client(std::vector<std::pair<const char*, const char*>> overrides = {}) {
    auto ref = registry_.find(kComponentId);
    EXPECT_TRUE(ref) << kComponentId << " is not registered";
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return StorageClient(
        std::make_shared<ComponentInstance>(*ref, host::host_services(), std::move(opts)));
  }

  static sdk::AttachRequest init(const stdfs::path& p) { return {p.string(), true}; }

  PluginRegistry registry_{host::host_services()};
  TempDir tmp_;
};

TEST_F(LoadedLocalStorageTest, DescriptorDescribesOneStorageComponent) {
  ASSERT_EQ(registry_.plugins().size(), 1u);
  const auto& plugin = *registry_.plugins().front();
  EXPECT_EQ(plugin.path, kPluginFile.string());
  EXPECT_FALSE(plugin.is_static);
  const auto& d = *plugin.descriptor;
  EXPECT_EQ(std::string(d.id), "sealhost.storage-local");
  EXPECT_EQ(d.abi_major, uint32_t{SEALHOST_ABI_MAJOR});
  EXPECT_LE(d.abi_minor, uint32_t{SEALHOST_ABI_MINOR});
  EXPECT_EQ(d.components_len, 1u);
  EXPECT_EQ(host::validate_descriptor(&d), "");

  auto ref = registry_.find(kComponentId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_STORAGE);
  EXPECT_EQ(registry_.components(SEALHOST_KIND_STORAGE).size(), 1u);
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.emplace_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("reserve_headroom", "fsync"));
}

TEST_F(LoadedLocalStorageTest, RoundTripThroughTheStorageClient) {
  auto s = client();
  auto a = s.attach(init(tmp_ / "a"));
  auto b = s.attach(init(tmp_ / "b"));
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(s.list().size(), 2u);

  const sdk::SectorRef sector{1000, 42, 2048};
  auto alloc = s.allocate(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, SEALHOST_PATH_SEALING);
  ASSERT_EQ(alloc.locations.size(), 2u);
  EXPECT_THAT(alloc.locations[0].local_path, HasSubstr("/sealed/s-t01000-42"));
  EXPECT_GT(s.stat(alloc.locations[0].path_id).reserved, 0u);
  const std::string sealed = pattern(2048, 5), p_aux = pattern(64, 6);
  write_file(alloc.locations[0].local_path, sealed);
  stdfs::create_directory(alloc.locations[1].local_path);
  write_file(stdfs::path(alloc.locations[1].local_path) / "p_aux", p_aux);
  s.release(alloc.reservation_id);

  auto found = s.find(sector, sdk::kAllFileTypes);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].size, sealed.size());

  const std::string dest = found[0].path_id == a.id ? b.id : a.id;
  uint64_t last_done = 0, last_total = 0;
  host::JobState job([&](uint64_t done, uint64_t total, std::string_view) {
    last_done = done;
    last_total = total;
  });
  s.move(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, dest, &job);
  EXPECT_EQ(last_done, last_total) << "the move reports completion";
  for (const auto& l : s.find(sector, sdk::kAllFileTypes)) EXPECT_EQ(l.path_id, dest);

  std::vector<uint8_t> buf(100);
  s.read_range(sector, SEALHOST_FT_SEALED, "", 1000, buf.data(), buf.size());
  EXPECT_EQ(std::memcmp(buf.data(), sealed.data() + 1000, buf.size()), 0);
  s.read_range(sector, SEALHOST_FT_CACHE, "p_aux", 0, buf.data(), p_aux.size());
  EXPECT_EQ(std::memcmp(buf.data(), p_aux.data(), p_aux.size()), 0);

  s.remove(sector, sdk::kAllFileTypes);
  EXPECT_TRUE(s.find(sector, sdk::kAllFileTypes).empty());
  s.detach(a.id);
  s.detach(b.location);
  EXPECT_TRUE(s.list().empty());
}

TEST_F(LoadedLocalStorageTest, ErrorsCrossTheBoundaryWithStatusAndMessage) {
  auto s = client();
  try {
    s.stat("no-such-path");
    FAIL() << "stat of an unknown path succeeded";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("storage path no-such-path: not attached"));
  }
  s.attach(init(tmp_ / "p"));
  std::vector<uint8_t> buf(8);
  try {
    s.read_range({1000, 1, 2048}, SEALHOST_FT_CACHE, "../../sectorstore.json", 0, buf.data(), 1);
    FAIL() << "a cache name escaping the directory was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  }
}

TEST_F(LoadedLocalStorageTest, ValidatedOptionsReachTheComponent) {
  auto s = client({{"reserve_headroom", "\"1PiB\""}, {"fsync", "false"}});
  auto p = s.attach(init(tmp_ / "p"));
  EXPECT_EQ(p.available, 0u) << "1 PiB of headroom leaves nothing on this test filesystem";
  try {
    s.allocate({1000, 1, 2048}, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
    FAIL() << "allocated into the headroom";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_RESOURCE_EXHAUSTED);
    EXPECT_THAT(e.what(), HasSubstr("attach more storage"));
  }
}

}  // namespace
}  // namespace sealhost::storage_local
