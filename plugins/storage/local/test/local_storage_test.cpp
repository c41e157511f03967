// sealhost.storage.local, the implementation class alone: no loader, the SDK's fakes for the host.
#include "plugins/storage/local/local_storage.hpp"
#include "plugins/storage/local/options.hpp"
#include "plugins/storage/local/sector_store_meta.hpp"
#include "plugins/storage/local/test/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sealhost/sdk/storage.hpp>
#include <sealhost/sdk/testing.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <unistd.h>
#include <utility>
#include <vector>

namespace sealhost::storage_local {
namespace {

namespace stdfs = std::filesystem;
using sdk::testing::TempDir;
using ::testing::HasSubstr;
using testing::pattern;
using testing::read_file;
using testing::write_file;

constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;
const sdk::SectorRef kSector{1000, 7, 2048};

// Runs fn, which must throw sdk::Error with `code` and a message containing `needle`.
template <class Fn>
void expect_error(Fn&& fn, sealhost_status code, std::string_view needle) {
  try {
    fn();
    ADD_FAILURE() << "expected status " << sdk::ErrorSink::status_name(code) << ", got success";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), code) << "status " << sdk::ErrorSink::status_name(e.code()) << ": "
                              << e.what();
    EXPECT_THAT(e.what(), HasSubstr(std::string(needle)));
  }
}

class LocalStorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalStorage> make(std::vector<std::pair<const char*, const char*>> opts = {},
                                     LocalStorage::Tuning tuning = {}) {
    options_ = sdk::testing::defaults(kOptions);
    for (const auto& [k, v] : opts) options_.set_text(k, v);
    return std::make_unique<LocalStorage>(host_.context(LocalStorage::kId, options_), tuning);
  }
  static sdk::AttachRequest init(const stdfs::path& p, uint64_t max_storage = 0,
                                 uint64_t weight = 10, bool seal = true, bool store = true) {
    return {p.string(), true, seal, store, weight, max_storage};
  }
  static sdk::AttachRequest existing(const stdfs::path& p) { return {p.string(), false}; }

  sdk::testing::FakeHost host_;
  sdk::OptionSet options_;
  TempDir tmp_;
};

// ---------------------------------------------------------------- metadata

TEST(SectorStoreMetaTest, WritesLotusFieldsAndReadsThemBack) {
  SectorStoreMeta m{"0b5a5f1e-3b4c-4d5e-8f60-718293a4b5c6", 10, true, false, 5 * kMiB, {"g"}, {}};
  auto j = nlohmann::json::parse(to_json(m));
  EXPECT_EQ(j.at("ID"), m.id);
  EXPECT_EQ(j.at("Weight"), 10);
  EXPECT_EQ(j.at("CanSeal"), true);
  EXPECT_EQ(j.at("CanStore"), false);
  EXPECT_EQ(j.at("MaxStorage"), 5 * kMiB);
  EXPECT_EQ(j.at("Groups"), nlohmann::json::array({"g"}));
  EXPECT_EQ(j.at("AllowTo"), nlohmann::json::array());
  auto back = parse_meta(to_json(m), "x");
  EXPECT_EQ(back.id, m.id);
  EXPECT_EQ(back.max_storage, m.max_storage);
  EXPECT_EQ(back.groups, m.groups);
}

TEST(SectorStoreMetaTest, AcceptsNewerLotusFieldsAndGoZeroValues) {
  auto m =
      parse_meta(R"({"ID":"abc","AllowTypes":["sealed"],"DenyMiners":[],"CanStore":true})", "x");
  EXPECT_EQ(m.id, "abc");
  EXPECT_EQ(m.weight, 0u) << "a missing Weight is Go's zero value";
  EXPECT_FALSE(m.can_seal);
  EXPECT_TRUE(m.can_store);
}

TEST(SectorStoreMetaTest, RejectsMalformedFilesAsDataLoss) {
  expect_error([] { parse_meta("{not json", "/p/sectorstore.json"); }, SEALHOST_E_DATA_LOSS,
               "/p/sectorstore.json: not valid JSON");
  expect_error([] { parse_meta("[]", "f"); }, SEALHOST_E_DATA_LOSS, "not a JSON object");
  expect_error([] { parse_meta(R"({"Weight":10})", "f"); }, SEALHOST_E_DATA_LOSS, "\"ID\"");
  expect_error([] { parse_meta(R"({"ID":"a","Weight":"ten"})", "f"); }, SEALHOST_E_DATA_LOSS,
               "\"Weight\" has the wrong type");
}

TEST(SectorStoreMetaTest, UuidsAreVersion4AndDistinct) {
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    auto u = new_uuid_v4();
    EXPECT_TRUE(std::regex_match(u, v4)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 64u) << "random UUIDs repeated";
}

TEST(LayoutTest, NamesAndEstimatesFollowLotus) {
  EXPECT_EQ(sector_name({1000, 7, 2048}), "s-t01000-7");
  EXPECT_EQ(sector_name({0, 0, 2048}), "s-t00-0");
  EXPECT_EQ(file_type_dir(SEALHOST_FT_UPDATE_CACHE), "update-cache");
  const uint64_t g32 = uint64_t{32} << 30;
  EXPECT_EQ(estimate_bytes(SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING, g32), g32);
  EXPECT_EQ(estimate_bytes(SEALHOST_FT_UNSEALED, SEALHOST_PATH_STORAGE, g32), g32);
  // Lotus computes overhead * ssize / 10 in int64; 32 GiB * 141 does not overflow.
  EXPECT_EQ(estimate_bytes(SEALHOST_FT_CACHE, SEALHOST_PATH_SEALING, g32), g32 * 141 / 10);
  EXPECT_EQ(estimate_bytes(SEALHOST_FT_CACHE, SEALHOST_PATH_STORAGE, g32), g32 / 10);
  EXPECT_EQ(estimate_bytes(SEALHOST_FT_UPDATE_CACHE, SEALHOST_PATH_SEALING, 2048), 2048 * 21 / 10);
  EXPECT_EQ(estimate_bytes(SEALHOST_FT_UPDATE_CACHE, SEALHOST_PATH_STORAGE, 2048), 2048 / 10);
}

// ---------------------------------------------------------------- attach / detach

TEST_F(LocalStorageTest, InitCreatesLotusLayoutInAMissingDirectory) {
  auto s = make();
  const auto root = tmp_ / "new" / "path";
  auto info = s->attach(init(root, 3 * kMiB, 25, true, false));
  EXPECT_EQ(info.location, stdfs::canonical(root).string());
  EXPECT_TRUE(info.can_seal);
  EXPECT_FALSE(info.can_store);
  EXPECT_EQ(info.weight, 25u);
  EXPECT_EQ(info.max_storage, 3 * kMiB);
  EXPECT_GT(info.capacity, 0u);
  EXPECT_EQ(info.used, 0u);
  EXPECT_EQ(info.reserved, 0u);
  EXPECT_EQ(info.available, 3 * kMiB) << "MaxStorage caps available space";
  for (const char* d : {"unsealed", "sealed", "cache", "update", "update-cache"}) {
    EXPECT_TRUE(stdfs::is_directory(root / d)) << d;
  }
  auto j = nlohmann::json::parse(read_file(root / "sectorstore.json"));
  EXPECT_EQ(j.at("ID"), info.id);
  EXPECT_EQ(j.at("Weight"), 25);
  EXPECT_EQ(j.at("CanSeal"), true);
  EXPECT_EQ(j.at("CanStore"), false);
  EXPECT_EQ(j.at("MaxStorage"), 3 * kMiB);
  EXPECT_TRUE(j.at("Groups").is_array());
  EXPECT_TRUE(j.at("AllowTo").is_array());
  bool logged = false;
  for (const auto& l : host_.lines()) {
    logged |= l.level == SEALHOST_LOG_INFO && l.logger == LocalStorage::kId &&
              l.message.find("attached storage path " + info.location) != std::string::npos;
  }
  EXPECT_TRUE(logged) << "attach is logged at info";
}

TEST_F(LocalStorageTest, ReattachKeepsTheIdAndNeverReinitialises) {
  auto s = make();
  const auto root = tmp_ / "p";
  auto first = s->attach(init(root, 0, 10));
  s->detach(first.id);
  EXPECT_EQ(s->attach(existing(root)).id, first.id);
  s->detach(first.location);
  auto again = s->attach(init(root, 0, 99));
  EXPECT_EQ(again.id, first.id) << "init on an initialised path attaches it as it is";
  EXPECT_EQ(again.weight, 10u);
}

TEST_F(LocalStorageTest, AttachWithoutInitNeedsAnExistingInitialisedPath) {
  auto s = make();
  expect_error([&] { s->attach(existing(tmp_ / "missing")); }, SEALHOST_E_NOT_FOUND,
               "does not exist");
  stdfs::create_directory(tmp_ / "bare");
  expect_error([&] { s->attach(existing(tmp_ / "bare")); }, SEALHOST_E_FAILED_PRECONDITION,
               "has no sectorstore.json (attach with init");
  EXPECT_FALSE(stdfs::exists(tmp_ / "bare" / "sealed")) << "a refused attach changes nothing";
}

TEST_F(LocalStorageTest, InitRefusesANonEmptyDirectory) {
  auto s = make();
  const auto root = tmp_ / "busy";
  stdfs::create_directory(root);
  write_file(root / "somebody-elses-file", "x");
  expect_error([&] { s->attach(init(root)); }, SEALHOST_E_FAILED_PRECONDITION,
               "not empty and has no sectorstore.json");
  EXPECT_FALSE(stdfs::exists(root / "sectorstore.json"));

  const auto fresh_fs = tmp_ / "fresh";
  stdfs::create_directories(fresh_fs / "lost+found");
  EXPECT_NO_THROW(s->attach(init(fresh_fs))) << "lost+found does not make a mount point busy";
}

TEST_F(LocalStorageTest, RejectsBadAttachRequests) {
  auto s = make();
  expect_error([&] { s->attach(init("")); }, SEALHOST_E_INVALID_ARGUMENT, "empty location");
  write_file(tmp_ / "file", "x");
  expect_error([&] { s->attach(init(tmp_ / "file")); }, SEALHOST_E_FAILED_PRECONDITION,
               "not a directory");
  expect_error([&] { s->attach(init(tmp_ / "none", 0, 10, false, false)); },
               SEALHOST_E_INVALID_ARGUMENT, "init needs can_seal or can_store");
  EXPECT_FALSE(stdfs::exists(tmp_ / "none")) << "nothing is created for a refused init";
}

TEST_F(LocalStorageTest, AttachRefusesAReadOnlyPath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permission bits";
  auto s = make();
  const auto root = tmp_ / "ro";
  s->detach(s->attach(init(root)).id);
  stdfs::permissions(root, stdfs::perms::owner_read | stdfs::perms::owner_exec);
  expect_error([&] { s->attach(existing(root)); }, SEALHOST_E_PERMISSION, "not writable");
  stdfs::permissions(root, stdfs::perms::owner_all);
}

TEST_F(LocalStorageTest, RefusesToAttachOnePathOrIdTwice) {
  auto s = make();
  const auto a = tmp_ / "a";
  auto info = s->attach(init(a));
  expect_error([&] { s->attach(existing(a)); }, SEALHOST_E_ALREADY_EXISTS, "already attached");
  expect_error([&] { s->attach(existing(a.string() + "/")); }, SEALHOST_E_ALREADY_EXISTS,
               "already attached");
  stdfs::create_directory_symlink(a, tmp_ / "link");
  expect_error([&] { s->attach(existing(tmp_ / "link")); }, SEALHOST_E_ALREADY_EXISTS,
               "already attached");
  // A copied sectorstore.json: a second directory claiming the same id.
  stdfs::create_directory(tmp_ / "copy");
  stdfs::copy_file(a / "sectorstore.json", tmp_ / "copy" / "sectorstore.json");
  expect_error([&] { s->attach(existing(tmp_ / "copy")); }, SEALHOST_E_ALREADY_EXISTS,
               "has id " + info.id);
  EXPECT_EQ(s->list().size(), 1u);
}

TEST_F(LocalStorageTest, MalformedMetadataIsDataLoss) {
  auto s = make();
  stdfs::create_directory(tmp_ / "bad");
  write_file(tmp_ / "bad" / "sectorstore.json", "{\"ID\": ");
  expect_error([&] { s->attach(existing(tmp_ / "bad")); }, SEALHOST_E_DATA_LOSS,
               "sectorstore.json: not valid JSON");
}

TEST_F(LocalStorageTest, DetachNamesUnknownPathsAndRefusesWhileReserved) {
  auto s = make();
  expect_error([&] { s->detach("no-such-id"); }, SEALHOST_E_NOT_FOUND, "no-such-id: not attached");
  auto info = s->attach(init(tmp_ / "p"));
  auto a = s->allocate(kSector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
  expect_error([&] { s->detach(info.id); }, SEALHOST_E_FAILED_PRECONDITION,
               "1 open reservation(s)");
  s->release(a.reservation_id);
  s->detach((tmp_ / "p").string());
  EXPECT_TRUE(s->list().empty());
  expect_error([&] { s->stat(info.id); }, SEALHOST_E_NOT_FOUND, "not attached");
}

// ---------------------------------------------------------------- allocate / release

TEST_F(LocalStorageTest, AllocateReservesLotusEstimatesUnderLotusNames) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "p", 1 * kMiB));
  const uint32_t types = SEALHOST_FT_UNSEALED | SEALHOST_FT_SEALED | SEALHOST_FT_CACHE;
  auto a = s->allocate(kSector, types, SEALHOST_PATH_SEALING);
  EXPECT_NE(a.reservation_id, 0u);
  ASSERT_EQ(a.locations.size(), 3u);
  const auto root = stdfs::path(p.location);
  EXPECT_EQ(a.locations[0].local_path, (root / "unsealed" / "s-t01000-7").string());
  EXPECT_EQ(a.locations[1].local_path, (root / "sealed" / "s-t01000-7").string());
  EXPECT_EQ(a.locations[2].local_path, (root / "cache" / "s-t01000-7").string());
  for (const auto& l : a.locations) {
    EXPECT_EQ(l.path_id, p.id);
    EXPECT_EQ(l.size, 0u);
    EXPECT_FALSE(stdfs::exists(l.local_path)) << "allocate creates parents, not the files";
    EXPECT_TRUE(stdfs::is_directory(stdfs::path(l.local_path).parent_path()));
  }
  const uint64_t need =
      2048 + 2048 + estimate_bytes(SEALHOST_FT_CACHE, SEALHOST_PATH_SEALING, 2048);
  auto st = s->stat(p.id);
  EXPECT_EQ(st.reserved, need);
  EXPECT_EQ(st.available, 1 * kMiB - need);
  s->release(a.reservation_id);
  st = s->stat(p.id);
  EXPECT_EQ(st.reserved, 0u);
  EXPECT_EQ(st.available, 1 * kMiB);
}

TEST_F(LocalStorageTest, WrittenBytesMoveFromReservedToUsed) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "p", 64 * kMiB));
  const sdk::SectorRef sector{1000, 9, 8 * kMiB};
  auto a = s->allocate(sector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
  write_file(a.locations[0].local_path, pattern(1 * kMiB, 1));
  auto st = s->stat(p.id);
  EXPECT_GE(st.used, 1 * kMiB);
  EXPECT_EQ(st.reserved, 8 * kMiB - st.used) << "written bytes are not charged twice";
  EXPECT_EQ(st.available, 64 * kMiB - 8 * kMiB);
  const uint64_t used = st.used;
  s->release(a.reservation_id);
  st = s->stat(p.id);
  EXPECT_EQ(st.used, used);
  EXPECT_EQ(st.reserved, 0u);
  EXPECT_EQ(st.available, 64 * kMiB - used);
  EXPECT_EQ(s->list().at(0).used, used) << "list and stat agree";
}

TEST_F(LocalStorageTest, AllocatePrefersWeightThenFreeSpaceAndSkipsReadOnlyPaths) {
  auto s = make();
  auto light = s->attach(init(tmp_ / "light", 4 * kMiB, 10));
  s->attach(init(tmp_ / "heavy-small", 100 * kKiB, 20));
  auto heavy_big = s->attach(init(tmp_ / "heavy-big", 200 * kKiB, 20));
  s->attach(init(tmp_ / "readonly", 0, 0));  // weight 0: Lotus's read-only path
  auto a = s->allocate(kSector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
  EXPECT_EQ(a.locations.at(0).path_id, heavy_big.id);
  // 14.1 x 64 KiB of sealing cache fits only the light path.
  auto b = s->allocate({1000, 8, 64 * kKiB}, SEALHOST_FT_CACHE, SEALHOST_PATH_SEALING);
  EXPECT_EQ(b.locations.at(0).path_id, light.id);
}

TEST_F(LocalStorageTest, AllocateHonoursTheRole) {
  auto s = make();
  auto seal = s->attach(init(tmp_ / "seal", 0, 10, true, false));
  expect_error([&] { s->allocate(kSector, SEALHOST_FT_SEALED, SEALHOST_PATH_STORAGE); },
               SEALHOST_E_FAILED_PRECONDITION, "no attached storage path can store");
  auto store = s->attach(init(tmp_ / "store", 0, 10, false, true));
  EXPECT_EQ(s->allocate(kSector, SEALHOST_FT_SEALED, SEALHOST_PATH_STORAGE).locations[0].path_id,
            store.id);
  EXPECT_EQ(
      s->allocate({1000, 8, 2048}, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING).locations[0].path_id,
      seal.id);
}

TEST_F(LocalStorageTest, AllocateWithoutRoomIsResourceExhaustedWithAClearMessage) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "small", 10 * kKiB));
  expect_error(
      [&] {
        s->allocate(kSector, SEALHOST_FT_UNSEALED | SEALHOST_FT_SEALED | SEALHOST_FT_CACHE,
                    SEALHOST_PATH_SEALING);
      },
      SEALHOST_E_RESOURCE_EXHAUSTED,
      "no storage path can hold 3 more files of 2KiB sector s-t01000-7 (need 32.2 KiB, best path " +
          p.location + " has 10.0 KiB free): attach more storage");
  EXPECT_EQ(s->stat(p.id).reserved, 0u) << "a refused allocation reserves nothing";
}

TEST_F(LocalStorageTest, ReserveHeadroomIsKeptFreeOnEveryPath) {
  auto s = make({{"reserve_headroom", "\"1PiB\""}});
  EXPECT_EQ(s->options().reserve_headroom, uint64_t{1} << 50);
  auto p = s->attach(init(tmp_ / "p"));
  EXPECT_EQ(p.available, 0u) << "this filesystem has less than 1 PiB free";
  expect_error([&] { s->allocate(kSector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING); },
               SEALHOST_E_RESOURCE_EXHAUSTED, "attach more storage");
}

TEST_F(LocalStorageTest, AllocateReportsExistingFilesAndNeverDoubleBooks) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "p", 100 * kKiB));
  const sdk::SectorRef sector{1000, 7, 64 * kKiB};
  auto a = s->allocate(sector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
  expect_error([&] { s->allocate(sector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING); },
               SEALHOST_E_ALREADY_EXISTS, "already allocated on " + p.location);
  write_file(a.locations[0].local_path, pattern(64 * kKiB, 1));
  s->release(a.reservation_id);
  ASSERT_LT(s->stat(p.id).available, 64 * kKiB);
  // The file is there: the path only needs what is still to be written, and the location says
  // how much exists. The plugin never truncates or overwrites anything itself.
  auto again = s->allocate(sector, SEALHOST_FT_SEALED, SEALHOST_PATH_STORAGE);
  EXPECT_EQ(again.locations.at(0).path_id, p.id);
  EXPECT_EQ(again.locations.at(0).size, 64 * kKiB);
  EXPECT_EQ(read_file(again.locations[0].local_path), pattern(64 * kKiB, 1));
  EXPECT_EQ(s->stat(p.id).reserved, 0u) << "a complete file needs no more space";
}

TEST_F(LocalStorageTest, AllocateAndReleaseRejectBadArguments) {
  auto s = make();
  s->attach(init(tmp_ / "p"));
  expect_error([&] { s->allocate(kSector, 0, SEALHOST_PATH_SEALING); }, SEALHOST_E_INVALID_ARGUMENT,
               "empty or has unknown bits");
  expect_error([&] { s->allocate(kSector, 1u << 7, SEALHOST_PATH_SEALING); },
               SEALHOST_E_INVALID_ARGUMENT, "unknown bits");
  expect_error([&] { s->allocate(kSector, SEALHOST_FT_SEALED, 3); }, SEALHOST_E_INVALID_ARGUMENT,
               "role 3");
  expect_error(
      [&] {
        s->allocate({1000, 7, 0}, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
      },
      SEALHOST_E_INVALID_ARGUMENT, "not a power of two");
  expect_error(
      [&] {
        s->allocate({1000, 7, 3000}, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
      },
      SEALHOST_E_INVALID_ARGUMENT, "not a power of two");
  expect_error([&] { s->release(12345); }, SEALHOST_E_NOT_FOUND, "reservation 12345: not open");
  auto a = s->allocate(kSector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
  s->release(a.reservation_id);
  expect_error([&] { s->release(a.reservation_id); }, SEALHOST_E_NOT_FOUND, "not open");
}

TEST_F(LocalStorageTest, ConcurrentAllocationsDoNotOvercommit) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "p", 10 * 2048 + 100));
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 5; ++i) {
        try {
          s->allocate({1000, static_cast<uint64_t>(t) * 100 + i, 2048}, SEALHOST_FT_SEALED,
                      SEALHOST_PATH_SEALING);
          ++ok;
        } catch (const sdk::Error& e) {
          ++(e.code() == SEALHOST_E_RESOURCE_EXHAUSTED ? exhausted : other);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(exhausted.load(), 30);
  EXPECT_EQ(other.load(), 0);
  auto st = s->stat(p.id);
  EXPECT_EQ(st.reserved, 10u * 2048);
  EXPECT_EQ(st.available, 100u);
}

// ---------------------------------------------------------------- find / read_range / remove

TEST_F(LocalStorageTest, FindReportsExistingFilesWithSizes) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "p"));
  EXPECT_TRUE(s->find(kSector, sdk::kAllFileTypes).empty());
  auto a = s->allocate(kSector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, SEALHOST_PATH_SEALING);
  write_file(a.locations[0].local_path, pattern(2048, 1));
  stdfs::create_directory(a.locations[1].local_path);
  write_file(stdfs::path(a.locations[1].local_path) / "p_aux", pattern(64, 2));
  write_file(stdfs::path(a.locations[1].local_path) / "t_aux", pattern(100, 3));
  s->release(a.reservation_id);

  auto found = s->find(kSector, SEALHOST_FT_UNSEALED | SEALHOST_FT_SEALED | SEALHOST_FT_CACHE);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].file_type, uint32_t{SEALHOST_FT_SEALED});
  EXPECT_EQ(found[0].path_id, p.id);
  EXPECT_EQ(found[0].local_path, a.locations[0].local_path);
  EXPECT_EQ(found[0].size, 2048u);
  EXPECT_EQ(found[1].file_type, uint32_t{SEALHOST_FT_CACHE});
  EXPECT_EQ(found[1].size, 164u) << "a cache directory's size is the sum of its files";
  EXPECT_TRUE(s->find({1000, 8, 2048}, sdk::kAllFileTypes).empty()) << "other sector";
  EXPECT_TRUE(s->find({1001, 7, 2048}, sdk::kAllFileTypes).empty()) << "other miner";
  expect_error([&] { s->find(kSector, 0); }, SEALHOST_E_INVALID_ARGUMENT, "find");
}

TEST_F(LocalStorageTest, ReadRangeIsExactAndBounded) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "p"));
  const auto root = stdfs::path(p.location);
  const std::string sealed = pattern(10000, 7), tree = pattern(4096, 8);
  write_file(root / "sealed" / "s-t01000-7", sealed);
  stdfs::create_directory(root / "cache" / "s-t01000-7");
  write_file(root / "cache" / "s-t01000-7" / "sc-02-data-tree-r-last.dat", tree);

  for (auto [off, len] :
       {std::pair<uint64_t, size_t>{0, 10000}, {1, 1}, {4093, 3000}, {9999, 1}, {10000, 0}}) {
    std::vector<uint8_t> buf(len);
    s->read_range(kSector, SEALHOST_FT_SEALED, "", off, buf.data(), len);
    EXPECT_EQ(std::string(buf.begin(), buf.end()), sealed.substr(off, len)) << off << "+" << len;
  }
  std::vector<uint8_t> buf(4096);
  s->read_range(kSector, SEALHOST_FT_CACHE, "sc-02-data-tree-r-last.dat", 0, buf.data(), 4096);
  EXPECT_EQ(std::string(buf.begin(), buf.end()), tree);

  expect_error([&] { s->read_range(kSector, SEALHOST_FT_SEALED, "", 9999, buf.data(), 2); },
               SEALHOST_E_OUT_OF_RANGE, "passes the end");
  expect_error([&] { s->read_range(kSector, SEALHOST_FT_SEALED, "", 10001, buf.data(), 0); },
               SEALHOST_E_OUT_OF_RANGE, "(10000 bytes)");
  expect_error([&] { s->read_range(kSector, SEALHOST_FT_SEALED, "", ~uint64_t{0}, buf.data(), 2); },
               SEALHOST_E_OUT_OF_RANGE, "passes the end");
}

TEST_F(LocalStorageTest, ReadRangeRejectsBadNamesTypesAndMissingFiles) {
  auto s = make();
  auto p = s->attach(init(tmp_ / "p"));
  const auto root = stdfs::path(p.location);
  write_file(root / "sealed" / "s-t01000-7", "secret");
  stdfs::create_directory(root / "cache" / "s-t01000-7");
  uint8_t buf[8];
  for (const char* bad : {"", ".", "..", "../../sealed/s-t01000-7", "a/b", "/etc/passwd"}) {
    expect_error([&] { s->read_range(kSector, SEALHOST_FT_CACHE, bad, 0, buf, 1); },
                 SEALHOST_E_INVALID_ARGUMENT, "is not a file name");
  }
  expect_error([&] { s->read_range(kSector, SEALHOST_FT_SEALED, "p_aux", 0, buf, 1); },
               SEALHOST_E_INVALID_ARGUMENT, "only meaningful for cache");
  expect_error(
      [&] { s->read_range(kSector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, "", 0, buf, 1); },
      SEALHOST_E_INVALID_ARGUMENT, "not exactly one");
  expect_error([&] { s->read_range(kSector, SEALHOST_FT_UNSEALED, "", 0, buf, 1); },
               SEALHOST_E_NOT_FOUND, "s-t01000-7 unsealed: not on any attached storage path");
  expect_error([&] { s->read_range(kSector, SEALHOST_FT_CACHE, "p_aux", 0, buf, 1); },
               SEALHOST_E_NOT_FOUND, "p_aux");
}

TEST_F(LocalStorageTest, RemoveClearsEveryPathAndIsIdempotent) {
  auto s = make();
  auto a = s->attach(init(tmp_ / "a"));
  auto b = s->attach(init(tmp_ / "b"));
  write_file(stdfs::path(a.location) / "sealed" / "s-t01000-7", pattern(5000, 1));
  write_file(stdfs::path(b.location) / "sealed" / "s-t01000-7", pattern(5000, 1));
  stdfs::create_directories(stdfs::path(b.location) / "cache" / "s-t01000-7" / "sub");
  write_file(stdfs::path(b.location) / "cache" / "s-t01000-7" / "sub" / "f", "x");
  write_file(stdfs::path(a.location) / "sealed" / "s-t01000-8", "other sector");
  EXPECT_EQ(s->find(kSector, sdk::kAllFileTypes).size(), 3u);

  s->remove(kSector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE);
  EXPECT_TRUE(s->find(kSector, sdk::kAllFileTypes).empty());
  EXPECT_NO_THROW(s->remove(kSector, sdk::kAllFileTypes)) << "missing files are not an error";
  EXPECT_EQ(read_file(stdfs::path(a.location) / "sealed" / "s-t01000-8"), "other sector");
  EXPECT_EQ(s->stat(b.id).used, 0u);
  expect_error([&] { s->remove(kSector, 0); }, SEALHOST_E_INVALID_ARGUMENT, "remove");
}

// ---------------------------------------------------------------- move

class MoveTest : public LocalStorageTest {
 protected:
  void set_up_paths(LocalStorage& s, uint64_t dest_max = 0) {
    src_ = s.attach(init(tmp_ / "src"));
    dest_ = s.attach(init(tmp_ / "dest", dest_max));
    sealed_ = pattern(100 * 1000 + 17, 1);
    t_aux_ = pattern(3000, 2);
    tree_ = pattern(50 * 1000, 3);
    const auto root = stdfs::path(src_.location);
    write_file(root / "sealed" / "s-t01000-7", sealed_);
    stdfs::create_directories(root / "cache" / "s-t01000-7" / "nested");
    write_file(root / "cache" / "s-t01000-7" / "t_aux", t_aux_);
    write_file(root / "cache" / "s-t01000-7" / "nested" / "sc-02-data-tree-r-last.dat", tree_);
  }
  void expect_moved() {
    const auto root = stdfs::path(dest_.location);
    EXPECT_EQ(read_file(root / "sealed" / "s-t01000-7"), sealed_);
    EXPECT_EQ(read_file(root / "cache" / "s-t01000-7" / "t_aux"), t_aux_);
    EXPECT_EQ(read_file(root / "cache" / "s-t01000-7" / "nested" / "sc-02-data-tree-r-last.dat"),
              tree_);
    EXPECT_FALSE(stdfs::exists(stdfs::path(src_.location) / "sealed" / "s-t01000-7"));
    EXPECT_FALSE(stdfs::exists(stdfs::path(src_.location) / "cache" / "s-t01000-7"));
    expect_no_temporaries(dest_);
  }
  static void expect_no_temporaries(const sdk::PathInfo& p) {
    for (const char* d : {"sealed", "cache"}) {
      for (const auto& e : stdfs::directory_iterator(stdfs::path(p.location) / d)) {
        EXPECT_EQ(e.path().filename().string().find(".moving"), std::string::npos) << e.path();
      }
    }
  }
  static constexpr uint32_t kTypes = SEALHOST_FT_SEALED | SEALHOST_FT_CACHE;
  sdk::PathInfo src_, dest_;
  std::string sealed_, t_aux_, tree_;
};

TEST_F(MoveTest, RenamesWithinOneFilesystem) {
  auto s = make();
  set_up_paths(*s);
  sdk::testing::FakeJob job;
  s->move(kSector, kTypes, dest_.id, sdk::Job(job.c()));
  expect_moved();
  auto found = s->find(kSector, kTypes);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].path_id, dest_.id);
  EXPECT_EQ(found[1].path_id, dest_.id);
  EXPECT_EQ(s->stat(src_.id).used, 0u);
  EXPECT_GE(s->stat(dest_.id).used, sealed_.size() + t_aux_.size() + tree_.size());
  EXPECT_EQ(s->stat(dest_.id).reserved, 0u) << "the move's reservation is released";
}

TEST_F(MoveTest, CopiesAcrossFilesystemsKeepingBytesAndReportingProgress) {
  auto s = make({{"fsync", "true"}}, {/*rename_within_filesystem=*/false, 4096});
  set_up_paths(*s);
  sdk::testing::FakeJob job;
  s->move(kSector, kTypes, dest_.id, sdk::Job(job.c()));
  expect_moved();
  const uint64_t total = sealed_.size() + t_aux_.size() + tree_.size();
  EXPECT_EQ(job.total(), total);
  EXPECT_EQ(job.done(), total);
  EXPECT_GT(job.progress_calls(), total / 4096) << "progress is reported per chunk";
  bool logged = false;
  for (const auto& l : host_.lines()) {
    logged |= l.level == SEALHOST_LOG_INFO &&
              l.message.find("moved sealed of sector s-t01000-7") != std::string::npos;
  }
  EXPECT_TRUE(logged) << "moves are logged at info";
}

TEST_F(MoveTest, CancelRemovesThePartialCopyAndKeepsTheSource) {
  auto s = make({}, {/*rename_within_filesystem=*/false, 4096});
  set_up_paths(*s);
  sdk::testing::FakeJob job;
  job.cancel_after_checks(5);  // inside the 100 KB sealed file
  expect_error([&] { s->move(kSector, kTypes, dest_.id, sdk::Job(job.c())); }, SEALHOST_E_CANCELLED,
               "cancelled");
  EXPECT_FALSE(stdfs::exists(stdfs::path(dest_.location) / "sealed" / "s-t01000-7"));
  expect_no_temporaries(dest_);
  EXPECT_EQ(read_file(stdfs::path(src_.location) / "sealed" / "s-t01000-7"), sealed_);
  EXPECT_EQ(s->stat(dest_.id).reserved, 0u);
  EXPECT_EQ(s->stat(dest_.id).used, 0u);

  // Cancelled inside the cache directory, after sealed has completed: sealed stays moved (each file
  // is atomic), the cache stays at the source.
  sdk::testing::FakeJob late;
  late.cancel_after_checks(static_cast<int>(sealed_.size() / 4096) + 3);
  expect_error([&] { s->move(kSector, kTypes, dest_.id, sdk::Job(late.c())); },
               SEALHOST_E_CANCELLED, "cancelled");
  EXPECT_EQ(read_file(stdfs::path(dest_.location) / "sealed" / "s-t01000-7"), sealed_);
  EXPECT_TRUE(stdfs::exists(stdfs::path(src_.location) / "cache" / "s-t01000-7" / "t_aux"));
  expect_no_temporaries(dest_);

  sdk::testing::FakeJob ok;
  s->move(kSector, kTypes, dest_.id, sdk::Job(ok.c()));
  expect_moved();
}

TEST_F(MoveTest, RefusesUnknownDestinationsMissingFilesAndFullPaths) {
  auto s = make();
  set_up_paths(*s, /*dest_max=*/50 * 1000);
  sdk::Job none(nullptr);
  expect_error([&] { s->move(kSector, kTypes, "nope", none); }, SEALHOST_E_NOT_FOUND,
               "storage path nope: not attached");
  expect_error(
      [&] {
        s->move({1000, 99, 2048}, SEALHOST_FT_SEALED, dest_.id, none);
      },
      SEALHOST_E_NOT_FOUND, "has no sealed");
  expect_error([&] { s->move(kSector, kTypes, dest_.id, none); }, SEALHOST_E_RESOURCE_EXHAUSTED,
               "cannot take sector s-t01000-7");
  EXPECT_EQ(read_file(stdfs::path(src_.location) / "sealed" / "s-t01000-7"), sealed_);
  EXPECT_NO_THROW(s->move(kSector, kTypes, src_.id, none)) << "already there: nothing to do";
}

TEST_F(MoveTest, FinishesAnInterruptedMoveAndRefusesConflictingCopies) {
  auto s = make();
  set_up_paths(*s);
  const auto dest_sealed = stdfs::path(dest_.location) / "sealed" / "s-t01000-7";
  // A crash after the rename and before the source was removed leaves two equal copies.
  write_file(dest_sealed, sealed_);
  s->move(kSector, SEALHOST_FT_SEALED, dest_.id, sdk::Job(nullptr));
  EXPECT_FALSE(stdfs::exists(stdfs::path(src_.location) / "sealed" / "s-t01000-7"));
  EXPECT_EQ(read_file(dest_sealed), sealed_);

  // Different bytes on each side: refuse rather than guess which one is right.
  write_file(stdfs::path(src_.location) / "sealed" / "s-t01000-7", "short");
  expect_error([&] { s->move(kSector, SEALHOST_FT_SEALED, dest_.id, sdk::Job(nullptr)); },
               SEALHOST_E_ALREADY_EXISTS, "exists on both");
  EXPECT_EQ(read_file(dest_sealed), sealed_);
}

TEST_F(MoveTest, ConflictingCallsDuringAMoveAreRefused) {
  auto s = make({}, {/*rename_within_filesystem=*/false, 4096});
  set_up_paths(*s);
  // A job whose first progress report runs the conflicting calls from inside the copy, i.e. while
  // the move is in flight (and proves no lock is held while copying).
  struct Probe {
    std::function<void()> on_first_progress;
    bool fired = false;
  } probe;
  probe.on_first_progress = [&] {
    expect_error([&] { s->remove(kSector, SEALHOST_FT_SEALED); }, SEALHOST_E_FAILED_PRECONDITION,
                 "is being moved");
    expect_error([&] { s->move(kSector, kTypes, dest_.id, sdk::Job(nullptr)); },
                 SEALHOST_E_FAILED_PRECONDITION, "already being moved");
    expect_error([&] { s->detach(src_.id); }, SEALHOST_E_FAILED_PRECONDITION,
                 "a move is reading from it");
    expect_error([&] { s->detach(dest_.id); }, SEALHOST_E_FAILED_PRECONDITION, "open reservation");
    EXPECT_GT(s->stat(dest_.id).reserved, 0u) << "the destination space is held during the copy";
  };
  sealhost_job job{};
  job.struct_size = sizeof job;
  job.ctx = &probe;
  job.progress = [](void* ctx, uint64_t, uint64_t, sealhost_str) {
    auto* p = static_cast<Probe*>(ctx);
    if (!p->fired) {
      p->fired = true;
      p->on_first_progress();
    }
  };
  job.cancelled = [](void*) -> int32_t { return 0; };
  s->move(kSector, kTypes, dest_.id, sdk::Job(&job));
  EXPECT_TRUE(probe.fired);
  expect_moved();
  EXPECT_NO_THROW(s->detach(src_.id)) << "nothing holds the source after the move";
}

TEST_F(MoveTest, FinalizeMovesIntoTheCallersAllocationWithoutHoldingSpaceTwice) {
  auto s = make({}, {/*rename_within_filesystem=*/false, 4096});
  const sdk::SectorRef sector{1000, 7, 64 * kKiB};
  auto seal = s->attach(init(tmp_ / "seal", 0, 10, true, false));
  auto store = s->attach(init(tmp_ / "store", 80 * kKiB, 10, false, true));
  auto sealing = s->allocate(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, SEALHOST_PATH_SEALING);
  ASSERT_EQ(sealing.locations.at(0).path_id, seal.id);
  const std::string sealed = pattern(64 * kKiB, 1), p_aux = pattern(1000, 2);
  write_file(sealing.locations[0].local_path, sealed);
  stdfs::create_directory(sealing.locations[1].local_path);
  write_file(stdfs::path(sealing.locations[1].local_path) / "p_aux", p_aux);
  s->release(sealing.reservation_id);

  // Lotus's finalize: choose and reserve a storage path, then move the files into it.
  auto storage = s->allocate(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, SEALHOST_PATH_STORAGE);
  ASSERT_EQ(storage.locations.at(0).path_id, store.id);
  ASSERT_LT(s->stat(store.id).available, 64 * kKiB) << "the test needs the allocation to fill it";
  s->move(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, store.id, sdk::Job(nullptr));
  EXPECT_EQ(read_file(storage.locations[0].local_path), sealed);
  EXPECT_EQ(read_file(stdfs::path(storage.locations[1].local_path) / "p_aux"), p_aux);
  s->release(storage.reservation_id);
  auto st = s->stat(store.id);
  EXPECT_EQ(st.reserved, 0u);
  EXPECT_GE(st.used, 64 * kKiB + 1000);
  EXPECT_EQ(s->stat(seal.id).used, 0u);
}

// ---------------------------------------------------------------- options and the C adapter

TEST_F(LocalStorageTest, ParsesOptions) {
  auto s = make();
  EXPECT_EQ(s->options().reserve_headroom, 0u);
  EXPECT_TRUE(s->options().fsync);
  s = make({{"reserve_headroom", "\"512MiB\""}, {"fsync", "false"}});
  EXPECT_EQ(s->options().reserve_headroom, 512 * kMiB);
  EXPECT_FALSE(s->options().fsync);
}

TEST_F(LocalStorageTest, TheSdkAdapterTurnsErrorsIntoStatusesAndMessages) {
  auto s = make();
  const auto& vt = sdk::storage_vtable<LocalStorage>;
  sdk::ErrorSink err;
  EXPECT_EQ(vt.stat(s.get(), sdk::to_str("missing"), nullptr, nullptr, err.c()),
            SEALHOST_E_NOT_FOUND);
  EXPECT_THAT(err.message, HasSubstr("storage path missing: not attached"));
  const auto ref = sdk::to_c(kSector);
  uint8_t b = 0;
  EXPECT_EQ(vt.read_range(s.get(), &ref, SEALHOST_FT_CACHE, sdk::to_str(".."), 0, &b, 1, err.c()),
            SEALHOST_E_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace sealhost::storage_local
