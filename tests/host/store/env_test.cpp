#include "host/store/env.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sealhost/sdk/testing.hpp>

#include "host/store/keys.hpp"

namespace sealhost::store {
namespace {

using sdk::testing::TempDir;

std::unique_ptr<Env> open_env(const std::filesystem::path& dir, EnvOptions options = {}) {
  auto env = Env::open(dir, options);
  if (!env) ADD_FAILURE() << env.status().to_string();
  return env ? std::move(*env) : nullptr;
}

TEST(EnvTest, DatabaseNamesAreUniqueAndComplete) {
  std::set<std::string_view> names(kDbNames.begin(), kDbNames.end());
  EXPECT_EQ(names.size(), kDbCount) << "database names must be unique";
  EXPECT_EQ(db_name(Db::kSectors), "sectors");
  EXPECT_EQ(db_name(Db::kMeta), "meta");
  EXPECT_EQ(describe(Db::kSectors, key_u64(42)), "sectors/42");
}

TEST(EnvTest, PutGetDeleteRoundTrip) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->write([](WriteTxn& t) {
    if (auto s = t.put(Db::kSectors, key_u64(1), "one"); !s) return s;
    return t.put(Db::kDeals, "deal-a", std::string("bin\0ary", 7));
  }));
  auto r = env->begin_read();
  ASSERT_TRUE(r) << r.status().to_string();
  auto one = r->get(Db::kSectors, key_u64(1));
  ASSERT_TRUE(one) << one.status().to_string();
  EXPECT_EQ(*one, "one");
  auto deal = r->get(Db::kDeals, "deal-a");
  ASSERT_TRUE(deal);
  EXPECT_EQ(*deal, std::string("bin\0ary", 7)) << "values are binary-safe";
  EXPECT_TRUE(r->get(Db::kDeals, key_u64(1)).status().is_not_found())
      << "databases are separate key spaces";
  r->close();

  ASSERT_TRUE(env->write([](WriteTxn& t) { return t.put(Db::kSectors, key_u64(1), "uno"); }));
  ASSERT_TRUE(env->read([](ReadTxn& t) {
    auto v = t.get(Db::kSectors, key_u64(1));
    EXPECT_TRUE(v);
    if (v) {
      EXPECT_EQ(*v, "uno") << "upsert overwrites";
    }
    return Status::ok();
  }));

  ASSERT_TRUE(env->write([](WriteTxn& t) { return t.del(Db::kSectors, key_u64(1)); }));
  Status missing = env->write([](WriteTxn& t) { return t.del(Db::kSectors, key_u64(1)); });
  EXPECT_TRUE(missing.is_not_found());
  EXPECT_EQ(missing.message(), "sectors/1: not found");
}

TEST(EnvTest, GetMissingNamesDatabaseAndKey) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  auto r = env->begin_read();
  ASSERT_TRUE(r);
  auto v = r->get(Db::kSectors, key_u64(7));
  ASSERT_FALSE(v);
  EXPECT_TRUE(v.status().is_not_found());
  EXPECT_EQ(v.status().message(), "sectors/7: not found");
}

TEST(EnvTest, InsertOnlyRefusesExistingKey) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(
      env->write([](WriteTxn& t) { return t.put(Db::kWorkers, "w1", "a", PutMode::kInsertOnly); }));
  Status s =
      env->write([](WriteTxn& t) { return t.put(Db::kWorkers, "w1", "b", PutMode::kInsertOnly); });
  EXPECT_TRUE(s.is(Code::kAlreadyExists)) << s.to_string();
  EXPECT_EQ(s.message(), "workers/w1: already exists");
}

TEST(EnvTest, BadKeysAreRejectedWithReason) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  auto t = env->begin_write();
  ASSERT_TRUE(t);
  Status empty = t->put(Db::kJobs, "", "x");
  EXPECT_TRUE(empty.is(Code::kInvalidArgument));
  EXPECT_NE(empty.message().find("jobs: empty key"), std::string::npos) << empty.message();
  Status long_key = t->put(Db::kJobs, std::string(512, 'k'), "x");
  EXPECT_TRUE(long_key.is(Code::kInvalidArgument));
  EXPECT_NE(long_key.message().find("511-byte limit"), std::string::npos) << long_key.message();
  EXPECT_TRUE(t->put(Db::kJobs, std::string(511, 'k'), "x")) << "511 bytes is the limit";
  EXPECT_TRUE(t->commit());
}

TEST(EnvTest, UncommittedWriteIsAbortedOnDestruction) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  {
    auto t = env->begin_write();
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->put(Db::kSectors, key_u64(5), "draft"));
    auto own = t->get(Db::kSectors, key_u64(5));
    ASSERT_TRUE(own) << "a write transaction sees its own writes";
  }
  auto r = env->begin_read();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->get(Db::kSectors, key_u64(5)).status().is_not_found());
}

TEST(EnvTest, FailingWriteFunctionCommitsNothing) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  Status s = env->write([](WriteTxn& t) {
    if (auto put = t.put(Db::kSectors, key_u64(1), "half"); !put) return put;
    return Status::invalid_argument("sector 1: refused by the caller");
  });
  EXPECT_TRUE(s.is(Code::kInvalidArgument));
  EXPECT_EQ(s.message(), "sector 1: refused by the caller") << "fn's status comes back untouched";
  auto r = env->begin_read();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->get(Db::kSectors, key_u64(1)).status().is_not_found());
}

TEST(EnvTest, CommitTwiceAndUseAfterEndAreErrors) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  auto t = env->begin_write();
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->put(Db::kMeta, "k", "v"));
  ASSERT_TRUE(t->commit());
  EXPECT_FALSE(t->active());
  Status again = t->commit();
  EXPECT_TRUE(again.is(Code::kAborted)) << again.to_string();
  EXPECT_TRUE(t->put(Db::kMeta, "k", "w").is(Code::kAborted));
  EXPECT_TRUE(t->get(Db::kMeta, "k").status().is(Code::kAborted));
}

TEST(EnvTest, ReadSnapshotIgnoresLaterCommits) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->write([](WriteTxn& t) { return t.put(Db::kChain, "head", "100"); }));
  auto snapshot = env->begin_read();
  ASSERT_TRUE(snapshot);
  ASSERT_TRUE(env->write([](WriteTxn& t) { return t.put(Db::kChain, "head", "101"); }));
  auto old = snapshot->get(Db::kChain, "head");
  ASSERT_TRUE(old);
  EXPECT_EQ(*old, "100") << "an open read transaction keeps its snapshot";
  snapshot->close();
  auto fresh = env->begin_read();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(*fresh->get(Db::kChain, "head"), "101");
}

TEST(EnvTest, IterationIsInNumericKeyOrder) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  std::vector<std::uint64_t> numbers = {0, 1, 255, 256, 65535, 65536, 1ull << 32, UINT64_MAX, 7};
  std::mt19937_64 rng(1234);
  for (int i = 0; i < 200; ++i) numbers.push_back(rng() >> (rng() % 64));
  std::shuffle(numbers.begin(), numbers.end(), rng);
  ASSERT_TRUE(env->write([&](WriteTxn& t) {
    for (auto n : numbers) {
      if (auto s = t.put(Db::kSectors, key_u64(n), std::to_string(n)); !s) return s;
    }
    return Status::ok();
  }));
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());

  auto r = env->begin_read();
  ASSERT_TRUE(r);
  std::vector<std::uint64_t> forward;
  {
    Cursor c = r->cursor(Db::kSectors);
    for (c.first(); c.valid(); c.next()) {
      forward.push_back(*parse_key_u64(c.key()));
      EXPECT_EQ(c.value(), std::to_string(forward.back()));
    }
    ASSERT_TRUE(c.status()) << c.status().to_string();
  }
  EXPECT_EQ(forward, numbers);

  std::vector<std::uint64_t> backward;
  {
    Cursor c = r->cursor(Db::kSectors);
    for (c.last(); c.valid(); c.prev()) backward.push_back(*parse_key_u64(c.key()));
    ASSERT_TRUE(c.status());
  }
  std::reverse(backward.begin(), backward.end());
  EXPECT_EQ(backward, numbers);

  Cursor c = r->cursor(Db::kSectors);
  c.seek(key_u64(257));
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(*parse_key_u64(c.key()), *std::lower_bound(numbers.begin(), numbers.end(), 257u))
      << "seek lands on the first key >= target";
  auto r_entries = r->entries(Db::kSectors);
  ASSERT_TRUE(r_entries);
  EXPECT_EQ(*r_entries, numbers.size());
}

TEST(EnvTest, ScanVisitsOnlyThePrefixAndCanStop) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->write([](WriteTxn& t) {
    for (const char* k : {"a/1", "a/2", "a/3", "ab", "b/1", "/"}) {
      if (auto s = t.put(Db::kStoragePaths, k, k); !s) return s;
    }
    return Status::ok();
  }));
  auto r = env->begin_read();
  ASSERT_TRUE(r);
  std::vector<std::string> seen;
  ASSERT_TRUE(r->scan(Db::kStoragePaths, "a/", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a/1", "a/2", "a/3"}));
  seen.clear();
  ASSERT_TRUE(r->scan(Db::kStoragePaths, "a", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return seen.size() < 2;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a/1", "a/2"})) << "returning false stops the scan";
  seen.clear();
  ASSERT_TRUE(r->scan(Db::kStoragePaths, "zzz", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return true;
  }));
  EXPECT_TRUE(seen.empty());
}

TEST(EnvTest, CursorAfterTransactionEndReportsAborted) {
  TempDir tmp;
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->write([](WriteTxn& t) { return t.put(Db::kJobs, "j", "1"); }));
  auto w = env->begin_write();
  ASSERT_TRUE(w);
  Cursor wc = w->cursor(Db::kJobs);
  wc.first();
  ASSERT_TRUE(wc.valid());
  ASSERT_TRUE(w->commit());
  wc.seek("j");
  EXPECT_FALSE(wc.valid());
  EXPECT_TRUE(wc.status().is(Code::kAborted)) << wc.status().to_string();

  auto r = env->begin_read();
  ASSERT_TRUE(r);
  Cursor rc = r->cursor(Db::kJobs);
  r->close();
  rc.first();
  EXPECT_TRUE(rc.status().is(Code::kAborted));
}

TEST(EnvTest, DataSurvivesReopen) {
  TempDir tmp;
  {
    auto env = open_env(tmp.path());
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(env->write([](WriteTxn& t) {
      for (std::uint64_t i = 0; i < 100; ++i) {
        if (auto s = t.put(Db::kSectors, key_u64(i), "sector " + std::to_string(i)); !s) return s;
      }
      return Status::ok();
    }));
  }
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  auto r = env->begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->entries(Db::kSectors), 100u);
  EXPECT_EQ(*r->get(Db::kSectors, key_u64(99)), "sector 99");
}

TEST(EnvTest, SecondOpenInOneProcessIsRefused) {
  TempDir tmp;
  auto first = open_env(tmp.path());
  ASSERT_NE(first, nullptr);
  auto second = Env::open(tmp.path() / "." / "");
  ASSERT_FALSE(second) << "the same directory, spelled differently, is still the same store";
  EXPECT_TRUE(second.status().is(Code::kInvalidArgument));
  EXPECT_NE(second.status().message().find("already open in this process"), std::string::npos)
      << second.status().message();
  first.reset();
  EXPECT_TRUE(Env::open(tmp.path())) << "closing the first Env allows a new open";
}

TEST(EnvTest, NewerStoreFormatIsRefused) {
  TempDir tmp;
  {
    auto env = open_env(tmp.path());
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(env->write([](WriteTxn& t) {
      return t.put(Db::kMeta, "store_format", key_u64(kStoreFormatVersion + 2));
    }));
  }
  auto env = Env::open(tmp.path());
  ASSERT_FALSE(env);
  EXPECT_TRUE(env.status().is(Code::kVersionTooNew));
  EXPECT_EQ(env.status().message(), "datastore " + tmp.path().string() + ": store format " +
                                        std::to_string(kStoreFormatVersion + 2) +
                                        " is newer than this sealhost understands (" +
                                        std::to_string(kStoreFormatVersion) +
                                        "): upgrade sealhost");
}

TEST(EnvTest, DamagedStoreFormatIsCorruption) {
  TempDir tmp;
  {
    auto env = open_env(tmp.path());
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(env->write([](WriteTxn& t) { return t.put(Db::kMeta, "store_format", "x"); }));
  }
  auto env = Env::open(tmp.path());
  ASSERT_FALSE(env);
  EXPECT_TRUE(env.status().is(Code::kCorruption)) << env.status().to_string();
}

TEST(EnvTest, OpenRejectsFileAndBadOptions) {
  TempDir tmp;
  const auto file = tmp / "plain-file";
  std::ofstream(file) << "not a directory";
  auto on_file = Env::open(file);
  ASSERT_FALSE(on_file);
  EXPECT_NE(on_file.status().message().find("datastore " + file.string()), std::string::npos)
      << on_file.status().to_string();

  EnvOptions tiny;
  tiny.initial_map_size = 4096;
  auto small = Env::open(tmp / "db", tiny);
  ASSERT_FALSE(small);
  EXPECT_TRUE(small.status().is(Code::kInvalidArgument));

  EnvOptions inverted;
  inverted.max_map_size = inverted.initial_map_size / 2;
  EXPECT_TRUE(Env::open(tmp / "db", inverted).status().is(Code::kInvalidArgument));

  EnvOptions no_readers;
  no_readers.max_readers = 0;
  EXPECT_TRUE(Env::open(tmp / "db", no_readers).status().is(Code::kInvalidArgument));
}

TEST(EnvTest, OpenRejectsNonLmdbFile) {
  TempDir tmp;
  {
    std::ofstream out(tmp / "data.mdb", std::ios::binary);
    out << std::string(std::size_t{64} << 10, 'x');
  }
  auto env = Env::open(tmp.path());
  ASSERT_FALSE(env);
  EXPECT_TRUE(env.status().is(Code::kCorruption)) << env.status().to_string();
  EXPECT_NE(env.status().message().find("restore it from a backup"), std::string::npos);
}

TEST(EnvTest, ReaderSlotsRunOutWithClearError) {
  TempDir tmp;
  EnvOptions options;
  options.max_readers = 2;
  auto env = open_env(tmp.path(), options);
  ASSERT_NE(env, nullptr);
  auto a = env->begin_read();
  auto b = env->begin_read();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  auto c = env->begin_read();
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.status().is(Code::kResourceExhausted));
  EXPECT_NE(c.status().message().find("raise max_readers"), std::string::npos)
      << c.status().message();
  a->close();
  EXPECT_TRUE(env->begin_read()) << "a closed transaction frees its slot";
}

TEST(EnvTest, CopyToMakesAnOpenableBackup) {
  TempDir tmp;
  auto env = open_env(tmp / "live");
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->write([](WriteTxn& t) { return t.put(Db::kSectors, key_u64(3), "three"); }));
  std::filesystem::create_directories(tmp / "backup");
  ASSERT_TRUE(env->copy_to(tmp / "backup"));
  env.reset();
  auto copy = open_env(tmp / "backup");
  ASSERT_NE(copy, nullptr);
  auto r = copy->begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->get(Db::kSectors, key_u64(3)), "three");
  auto live = open_env(tmp / "live");
  ASSERT_NE(live, nullptr);
  Status again = live->copy_to(tmp / "backup");
  EXPECT_FALSE(again) << "copying over an existing backup must fail, not overwrite it";
}

TEST(EnvTest, NoSyncModeStillPersistsAfterSync) {
  TempDir tmp;
  EnvOptions options;
  options.sync = false;
  {
    auto env = open_env(tmp.path(), options);
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(env->write([](WriteTxn& t) { return t.put(Db::kPost, "d0", "proven"); }));
    ASSERT_TRUE(env->sync());
  }
  auto env = open_env(tmp.path());
  ASSERT_NE(env, nullptr);
  auto r = env->begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->get(Db::kPost, "d0"), "proven");
}

}  // namespace
}  // namespace sealhost::store
