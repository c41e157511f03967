// Storage conformance suite: the contract every storage backend must meet, checked through the real
// loader and the host's StorageClient, exactly as the host will drive the backend.
//
// Target (environment; see README.md):
//   SEALHOST_STORAGE_PLUGIN     path of the plugin .so       (default: the built local plugin)
//   SEALHOST_STORAGE_COMPONENT  component id                 (default: sealhost.storage.local)
//   SEALHOST_STORAGE_OPTIONS    "key=value;key=value" overrides of the component's defaults,
//                               values in TOML text form (e.g. reserve_headroom="1GiB")
// Locations are fresh directories under the system temp dir ($TMPDIR).
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "tests/conformance/suite_target.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/storage.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sealhost::conformance {
namespace {

namespace stdfs = std::filesystem;
using host::ComponentInstance;
using host::PluginError;
using host::StorageClient;
using ::testing::AnyOf;

constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB;
constexpr uint64_t kSectorSize = 2048;

const SuiteTarget& target() {
  static const SuiteTarget t = target_from_env(
      "SEALHOST_STORAGE", std::string(SEALHOST_TEST_PLUGIN_DIR) + "/sealhost-storage-local.so",
      "sealhost.storage.local");
  return t;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (stdfs::temp_directory_path() / "sealhost-conformance-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  stdfs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  stdfs::path path_;
};

std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

void write_file(const stdfs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << p;
}

// The status a call fails with; OK when it succeeds.
template <class Fn>
sealhost_status status_of(Fn&& fn) {
  try {
    fn();
    return SEALHOST_OK;
  } catch (const PluginError& e) {
    EXPECT_FALSE(std::string(e.what()).empty()) << "errors carry a message";
    return e.code();
  }
}

MATCHER_P(Status, code, "") {
  *result_listener << "status " << sdk::ErrorSink::status_name(arg);
  return arg == code;
}

class StorageConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    auto instance = create_instance(target(), SEALHOST_KIND_STORAGE, &error);
    ASSERT_TRUE(instance) << error;
    client_.emplace(std::move(instance));
  }

  StorageClient& s() { return *client_; }

  sdk::PathInfo attach_new(const std::string& name, uint64_t max_storage = 0, bool seal = true,
                           bool store = true, uint64_t weight = 10) {
    return s().attach({(tmp_ / name).string(), true, seal, store, weight, max_storage});
  }

  // Allocates the types for `sector` and writes `data` to each one (a file inside the directory
  // for cache types). Returns false when the backend exposes no local paths.
  bool write_sector(const sdk::SectorRef& sector, uint32_t types, const std::string& data,
                    const std::string& cache_file = "p_aux") {
    auto a = s().allocate(sector, types, SEALHOST_PATH_SEALING);
    bool local = true;
    for (const auto& l : a.locations) {
      if (l.local_path.empty()) {
        local = false;
        continue;
      }
      if (l.file_type == SEALHOST_FT_CACHE || l.file_type == SEALHOST_FT_UPDATE_CACHE) {
        stdfs::create_directories(l.local_path);
        write_file(stdfs::path(l.local_path) / cache_file, data);
      } else {
        write_file(l.local_path, data);
      }
    }
    s().release(a.reservation_id);
    return local;
  }

  std::string read_all(const sdk::SectorRef& sector, uint32_t type, std::string_view name,
                       size_t size) {
    std::string out(size, '\0');
    s().read_range(sector, type, name, 0, reinterpret_cast<uint8_t*>(out.data()), size);
    return out;
  }

  TempDir tmp_;
  std::optional<StorageClient> client_;
};

// ---------------------------------------------------------------- attach, list, stat

TEST_F(StorageConformance, AttachInitReportsThePathAsRequested) {
  auto p = attach_new("p", 8 * kMiB, true, false, 25);
  EXPECT_FALSE(p.id.empty());
  EXPECT_FALSE(p.location.empty());
  EXPECT_TRUE(p.can_seal);
  EXPECT_FALSE(p.can_store);
  EXPECT_EQ(p.weight, 25u);
  EXPECT_EQ(p.max_storage, 8 * kMiB);
  EXPECT_EQ(p.used, 0u);
  EXPECT_EQ(p.reserved, 0u);
  EXPECT_LE(p.available, 8 * kMiB) << "available honours max_storage";
  if (p.capacity) {
    EXPECT_LE(p.available, p.capacity);
  }
}

TEST_F(StorageConformance, ListAndStatAgree) {
  auto a = attach_new("a", 4 * kMiB);
  auto b = attach_new("b", 6 * kMiB, false, true, 5);
  EXPECT_NE(a.id, b.id);
  auto all = s().list();
  ASSERT_EQ(all.size(), 2u);
  for (const auto& l : all) {
    auto st = s().stat(l.id);
    EXPECT_EQ(st.id, l.id);
    EXPECT_EQ(st.location, l.location);
    EXPECT_EQ(st.can_seal, l.can_seal);
    EXPECT_EQ(st.can_store, l.can_store);
    EXPECT_EQ(st.weight, l.weight);
    EXPECT_EQ(st.max_storage, l.max_storage);
    EXPECT_EQ(st.used, l.used);
    EXPECT_EQ(st.reserved, l.reserved);
    EXPECT_EQ(st.available, l.available) << "below max_storage, available is stable";
  }
  std::set<std::string> ids{all[0].id, all[1].id};
  EXPECT_EQ(ids, (std::set<std::string>{a.id, b.id}));
}

TEST_F(StorageConformance, AttachWithoutInitNeedsAnInitialisedPath) {
  stdfs::create_directories(tmp_ / "bare");
  EXPECT_THAT(status_of([&] {
                s().attach({(tmp_ / "bare").string(), false});
              }),
              AnyOf(Status(SEALHOST_E_NOT_FOUND), Status(SEALHOST_E_FAILED_PRECONDITION)));
  EXPECT_TRUE(s().list().empty());
}

TEST_F(StorageConformance, AttachingTwiceIsRefusedAndReattachKeepsTheId) {
  auto p = attach_new("p");
  EXPECT_THAT(status_of([&] {
                s().attach({(tmp_ / "p").string(), false});
              }),
              Status(SEALHOST_E_ALREADY_EXISTS));
  s().detach(p.id);
  EXPECT_TRUE(s().list().empty());
  EXPECT_EQ(s().attach({(tmp_ / "p").string(), false}).id, p.id);
}

TEST_F(StorageConformance, UnknownIdsAreNotFound) {
  attach_new("p");
  const sdk::SectorRef sector{1000, 1, kSectorSize};
  EXPECT_THAT(status_of([&] { s().stat("no-such-path"); }), Status(SEALHOST_E_NOT_FOUND));
  EXPECT_THAT(status_of([&] { s().detach("no-such-path"); }), Status(SEALHOST_E_NOT_FOUND));
  EXPECT_THAT(status_of([&] { s().release(0xdeadbeef); }), Status(SEALHOST_E_NOT_FOUND));
  EXPECT_THAT(status_of([&] { s().move(sector, SEALHOST_FT_SEALED, "no-such-path"); }),
              Status(SEALHOST_E_NOT_FOUND));
  EXPECT_TRUE(s().find(sector, sdk::kAllFileTypes).empty());
}

// ---------------------------------------------------------------- allocate / release

TEST_F(StorageConformance, AllocateAndReleaseAccountForReservedSpace) {
  auto p = attach_new("p", 16 * kMiB);
  const sdk::SectorRef sector{1000, 2, kSectorSize};
  const uint32_t types = SEALHOST_FT_SEALED | SEALHOST_FT_CACHE;
  auto before = s().stat(p.id);
  auto a = s().allocate(sector, types, SEALHOST_PATH_SEALING);
  ASSERT_EQ(a.locations.size(), 2u) << "one location per requested type";
  uint32_t seen = 0;
  for (const auto& l : a.locations) {
    EXPECT_EQ(l.path_id, p.id);
    EXPECT_EQ(l.size, 0u);
    seen |= l.file_type;
  }
  EXPECT_EQ(seen, types);
  auto during = s().stat(p.id);
  EXPECT_GT(during.reserved, before.reserved) << "allocate reserves space";
  EXPECT_EQ(before.available - during.available, during.reserved - before.reserved)
      << "what is reserved is no longer available";
  s().release(a.reservation_id);
  auto after = s().stat(p.id);
  EXPECT_EQ(after.reserved, before.reserved);
  EXPECT_EQ(after.available, before.available);
  EXPECT_THAT(status_of([&] { s().release(a.reservation_id); }), Status(SEALHOST_E_NOT_FOUND))
      << "a reservation is released once";
}

TEST_F(StorageConformance, AllocateHonoursRolesAndSpace) {
  attach_new("store-only", 0, false, true);
  const sdk::SectorRef sector{1000, 3, kSectorSize};
  EXPECT_NE(status_of([&] { s().allocate(sector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING); }),
            SEALHOST_OK)
      << "no path may seal";
  auto tiny = attach_new("tiny", 1, true, false);
  EXPECT_THAT(status_of([&] { s().allocate(sector, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING); }),
              Status(SEALHOST_E_RESOURCE_EXHAUSTED));
  EXPECT_EQ(s().stat(tiny.id).reserved, 0u) << "a refused allocation reserves nothing";
  EXPECT_THAT(status_of([&] { s().allocate(sector, 0, SEALHOST_PATH_STORAGE); }),
              Status(SEALHOST_E_INVALID_ARGUMENT));
}

TEST_F(StorageConformance, ConcurrentAllocationsDoNotOvercommit) {
  auto p = attach_new("p", 64 * kKiB);
  const auto before = s().stat(p.id);
  auto probe = s().allocate({1000, 999999, kSectorSize}, SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
  const uint64_t each = s().stat(p.id).reserved - before.reserved;
  s().release(probe.reservation_id);
  ASSERT_GT(each, 0u);
  const uint64_t fits = before.available / each;
  ASSERT_GE(fits, 2u) << "64 KiB should hold at least two 2 KiB sealed files";

  constexpr int kThreads = 8;
  const uint64_t per_thread = fits / kThreads + 3;  // together well past what fits
  std::atomic<uint64_t> ok{0};
  std::atomic<int> wrong_status{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<std::vector<uint64_t>> held(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < per_thread; ++i) {
        try {
          auto a = s().allocate({1000, static_cast<uint64_t>(t) * 1000 + i, kSectorSize},
                                SEALHOST_FT_SEALED, SEALHOST_PATH_SEALING);
          held[t].push_back(a.reservation_id);
          ++ok;
        } catch (const PluginError& e) {
          if (e.code() != SEALHOST_E_RESOURCE_EXHAUSTED) ++wrong_status;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong_status.load(), 0) << "running out of space is RESOURCE_EXHAUSTED";
  EXPECT_GE(ok.load(), 1u);
  EXPECT_LE(ok.load(), fits) << "more allocations succeeded than the space holds";
  const auto full = s().stat(p.id);
  EXPECT_EQ(full.reserved - before.reserved, ok.load() * each);
  EXPECT_LE(full.reserved, before.available + before.reserved);
  std::set<uint64_t> ids;
  for (const auto& h : held) {
    for (uint64_t id : h) {
      EXPECT_TRUE(ids.insert(id).second) << "reservation id " << id << " handed out twice";
      s().release(id);
    }
  }
  EXPECT_EQ(s().stat(p.id).reserved, before.reserved);
}

// ---------------------------------------------------------------- data: find, read, move, remove

TEST_F(StorageConformance, FindReportsWrittenFiles) {
  auto p = attach_new("p");
  const sdk::SectorRef sector{1000, 4, kSectorSize};
  const std::string data = pattern(3000, 4);
  if (!write_sector(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, data)) {
    GTEST_SKIP() << "backend exposes no local paths; nothing can be written through them";
  }
  auto found = s().find(sector, sdk::kAllFileTypes);
  ASSERT_EQ(found.size(), 2u);
  for (const auto& l : found) {
    EXPECT_EQ(l.path_id, p.id);
    EXPECT_EQ(l.size, data.size()) << sdk::file_type_name(l.file_type);
  }
  auto only_sealed = s().find(sector, SEALHOST_FT_SEALED);
  ASSERT_EQ(only_sealed.size(), 1u);
  EXPECT_EQ(only_sealed[0].file_type, uint32_t{SEALHOST_FT_SEALED});
  EXPECT_TRUE(s().find(sector, SEALHOST_FT_UNSEALED).empty());
  EXPECT_TRUE(s().find({1000, 5, kSectorSize}, sdk::kAllFileTypes).empty());
  EXPECT_TRUE(s().find({1001, 4, kSectorSize}, sdk::kAllFileTypes).empty());
}

TEST_F(StorageConformance, ReadRangeIsExactAndBounded) {
  attach_new("p");
  const sdk::SectorRef sector{1000, 6, kSectorSize};
  const std::string data = pattern(10000, 6);
  if (!write_sector(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, data, "t_aux")) {
    GTEST_SKIP() << "backend exposes no local paths; nothing can be written through them";
  }
  for (auto [off, len] :
       {std::pair<uint64_t, size_t>{0, 10000}, {1, 1}, {4095, 4097}, {9999, 1}, {10000, 0}}) {
    std::string buf(len, '\0');
    s().read_range(sector, SEALHOST_FT_SEALED, "", off, reinterpret_cast<uint8_t*>(buf.data()),
                   len);
    EXPECT_EQ(buf, data.substr(off, len)) << "range " << off << "+" << len;
  }
  EXPECT_EQ(read_all(sector, SEALHOST_FT_CACHE, "t_aux", data.size()), data);
  uint8_t buf[16];
  EXPECT_THAT(status_of([&] { s().read_range(sector, SEALHOST_FT_SEALED, "", 9990, buf, 16); }),
              Status(SEALHOST_E_OUT_OF_RANGE));
  EXPECT_THAT(status_of([&] { s().read_range(sector, SEALHOST_FT_SEALED, "", 20000, buf, 1); }),
              Status(SEALHOST_E_OUT_OF_RANGE));
  EXPECT_THAT(status_of([&] { s().read_range(sector, SEALHOST_FT_CACHE, "../t_aux", 0, buf, 1); }),
              Status(SEALHOST_E_INVALID_ARGUMENT));
  EXPECT_THAT(status_of([&] { s().read_range(sector, SEALHOST_FT_UNSEALED, "", 0, buf, 1); }),
              Status(SEALHOST_E_NOT_FOUND));
}

TEST_F(StorageConformance, MoveBetweenPathsKeepsBytesIdentical) {
  auto a = attach_new("a");
  auto b = attach_new("b");
  const sdk::SectorRef sector{1000, 7, kSectorSize};
  const std::string data = pattern(300 * 1000 + 3, 7);
  if (!write_sector(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, data)) {
    GTEST_SKIP() << "backend exposes no local paths; nothing can be written through them";
  }
  const auto from = s().find(sector, SEALHOST_FT_SEALED).at(0).path_id;
  const auto to = from == a.id ? b.id : a.id;
  uint64_t done = 0, total = 0;
  host::JobState job([&](uint64_t d, uint64_t t, std::string_view) {
    done = d;
    total = t;
  });
  s().move(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, to, &job);
  EXPECT_EQ(done, total) << "the last progress report says complete";
  auto found = s().find(sector, sdk::kAllFileTypes);
  ASSERT_EQ(found.size(), 2u) << "exactly one copy of each file after the move";
  for (const auto& l : found) EXPECT_EQ(l.path_id, to);
  EXPECT_EQ(read_all(sector, SEALHOST_FT_SEALED, "", data.size()), data);
  EXPECT_EQ(read_all(sector, SEALHOST_FT_CACHE, "p_aux", data.size()), data);
  EXPECT_EQ(s().stat(to).reserved, 0u) << "the move holds no space once done";
}

TEST_F(StorageConformance, RemoveIsIdempotent) {
  attach_new("p");
  const sdk::SectorRef sector{1000, 8, kSectorSize};
  if (!write_sector(sector, SEALHOST_FT_SEALED | SEALHOST_FT_CACHE, pattern(500, 8))) {
    GTEST_SKIP() << "backend exposes no local paths; nothing can be written through them";
  }
  s().remove(sector, sdk::kAllFileTypes);
  EXPECT_TRUE(s().find(sector, sdk::kAllFileTypes).empty());
  EXPECT_NO_THROW(s().remove(sector, sdk::kAllFileTypes)) << "removing again is not an error";
  EXPECT_NO_THROW(s().remove({1000, 12345, kSectorSize}, SEALHOST_FT_SEALED))
      << "removing what never existed is not an error";
}

}  // namespace
}  // namespace sealhost::conformance
