#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <sealhost/sdk/testing.hpp>

#include "host/store/counters.hpp"
#include "host/store/env.hpp"
#include "host/store/keys.hpp"
#include "host/store/txn_gate.hpp"

namespace sealhost::store {
namespace {

using namespace std::chrono_literals;
using sdk::testing::TempDir;

constexpr std::uint64_t kTinyMap = std::uint64_t{256} << 10;

EnvOptions tiny_options() {
  EnvOptions o;
  o.initial_map_size = kTinyMap;
  o.sync = false;  // these tests are about map handling, not durability
  return o;
}

std::string payload(std::uint64_t i, std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t j = 0; j < size; ++j) s[j] = static_cast<char>('a' + (i * 31 + j) % 26);
  return s;
}

TEST(MapGrowthTest, ManyWritesGrowATinyMap) {
  TempDir tmp;
  auto opened = Env::open(tmp.path(), tiny_options());
  ASSERT_TRUE(opened) << opened.status().to_string();
  auto& env = **opened;
  EXPECT_EQ(env.map_size(), kTinyMap);
  constexpr std::uint64_t kRecords = 6000;
  for (std::uint64_t batch = 0; batch < kRecords / 100; ++batch) {
    Status s = env.write([&](WriteTxn& t) {
      for (std::uint64_t i = batch * 100; i < (batch + 1) * 100; ++i) {
        if (auto put = t.put(Db::kSectors, key_u64(i), payload(i, 700)); !put) return put;
      }
      return Status::ok();
    });
    ASSERT_TRUE(s) << "batch " << batch << ": " << s.to_string();
  }
  EXPECT_GT(env.map_size(), 16 * kTinyMap) << "about 4 MiB of data needs a bigger map";
  EXPECT_GE(env.map_growths(), 4u);
  auto r = env.begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->entries(Db::kSectors), kRecords);
  for (std::uint64_t i = 0; i < kRecords; i += 97) {
    auto v = r->get(Db::kSectors, key_u64(i));
    ASSERT_TRUE(v) << i;
    EXPECT_EQ(*v, payload(i, 700));
  }
}

TEST(MapGrowthTest, OneHugeTransactionGrowsRepeatedly) {
  TempDir tmp;
  auto opened = Env::open(tmp.path(), tiny_options());
  ASSERT_TRUE(opened);
  auto& env = **opened;
  int runs = 0;
  Status s = env.write([&](WriteTxn& t) {
    ++runs;
    return t.put(Db::kChain, "blob", payload(1, 3 << 20));
  });
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_GT(runs, 1) << "the function is rerun after each growth";
  auto r = env.begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get(Db::kChain, "blob")->size(), std::size_t{3} << 20);
}

TEST(MapGrowthTest, GrownMapSurvivesReopen) {
  TempDir tmp;
  {
    auto env = Env::open(tmp.path(), tiny_options());
    ASSERT_TRUE(env);
    ASSERT_TRUE(
        (*env)->write([](WriteTxn& t) { return t.put(Db::kChain, "blob", payload(2, 2 << 20)); }));
  }
  auto env = Env::open(tmp.path(), tiny_options());
  ASSERT_TRUE(env) << env.status().to_string();
  EXPECT_GE((*env)->map_size(), std::uint64_t{2} << 20) << "the file size wins over the option";
  auto r = (*env)->begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->get(Db::kChain, "blob"), payload(2, 2 << 20));
}

TEST(MapGrowthTest, MaximumSizeStopsGrowthWithClearError) {
  TempDir tmp;
  EnvOptions o = tiny_options();
  o.max_map_size = 1 << 20;
  auto opened = Env::open(tmp.path(), o);
  ASSERT_TRUE(opened);
  auto& env = **opened;
  Status s = env.write([&](WriteTxn& t) { return t.put(Db::kChain, "blob", payload(3, 2 << 20)); });
  ASSERT_TRUE(s.is(Code::kResourceExhausted)) << s.to_string();
  EXPECT_NE(s.message().find("raise max_map_size"), std::string::npos) << s.message();
  EXPECT_LE(env.map_size(), o.max_map_size);
  EXPECT_TRUE(env.write([](WriteTxn& t) { return t.put(Db::kChain, "small", "ok"); }))
      << "small writes still work at the cap";
}

TEST(MapGrowthTest, ExplicitTransactionReportsMapFullAndNextWriteGrows) {
  TempDir tmp;
  auto opened = Env::open(tmp.path(), tiny_options());
  ASSERT_TRUE(opened);
  auto& env = **opened;
  {
    auto t = env.begin_write();
    ASSERT_TRUE(t);
    Status s = t->put(Db::kChain, "blob", payload(4, 1 << 20));
    EXPECT_TRUE(s.is(Code::kResourceExhausted)) << s.to_string();
    EXPECT_TRUE(t->hit_map_full());
  }
  const auto before = env.map_size();
  auto t = env.begin_write();
  ASSERT_TRUE(t);
  EXPECT_GT(env.map_size(), before) << "begin_write grows a map known to be full";
}

TEST(MapGrowthTest, OpenReadTransactionBoundsTheResizeWait) {
  TempDir tmp;
  EnvOptions o = tiny_options();
  o.resize_wait_timeout = 200ms;
  auto opened = Env::open(tmp.path(), o);
  ASSERT_TRUE(opened);
  auto& env = **opened;
  auto reader = env.begin_read();
  ASSERT_TRUE(reader);
  Status blocked;
  std::thread writer([&] {
    blocked = env.write([](WriteTxn& t) { return t.put(Db::kChain, "blob", payload(5, 1 << 20)); });
  });
  writer.join();
  ASSERT_TRUE(blocked.is(Code::kResourceExhausted)) << blocked.to_string();
  EXPECT_NE(blocked.message().find("end long-running read transactions"), std::string::npos)
      << blocked.message();
  reader->close();
  EXPECT_TRUE(env.write([](WriteTxn& t) { return t.put(Db::kChain, "blob", payload(5, 1 << 20)); }))
      << "once the reader is gone the map grows";
}

TEST(TxnGateTest, ExclusiveWaitsForTicketsAndBlocksNewOnes) {
  TxnGate gate;
  const auto owner = gate.enter();
  EXPECT_FALSE(gate.lock_exclusive(50ms)) << "an open ticket blocks the resize";
  EXPECT_EQ(gate.active(), 1u);

  std::atomic<bool> got_exclusive{false};
  std::thread resizer([&] {
    got_exclusive = gate.lock_exclusive(5s);
    if (got_exclusive) {
      std::this_thread::sleep_for(50ms);
      gate.unlock_exclusive();
    }
  });
  std::this_thread::sleep_for(30ms);
  // Re-entry from a thread already holding a ticket must not deadlock behind the pending resize.
  const auto nested = gate.enter();
  gate.leave(nested);
  std::atomic<bool> newcomer_in{false};
  std::thread newcomer([&] {
    const auto id = gate.enter();
    newcomer_in = true;
    gate.leave(id);
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(newcomer_in) << "a new ticket waits while a resize is pending";
  gate.leave(owner);
  resizer.join();
  newcomer.join();
  EXPECT_TRUE(got_exclusive);
  EXPECT_TRUE(newcomer_in);
  EXPECT_EQ(gate.active(), 0u);
}

TEST(ConcurrencyTest, ReadersSeeConsistentSnapshotsWhileWriterCommitsAndGrows) {
  TempDir tmp;
  auto opened = Env::open(tmp.path(), tiny_options());
  ASSERT_TRUE(opened);
  auto& env = **opened;
  // Invariant: counter "n" equals the number of records in sectors, and record i holds
  // payload(i, ...). A reader seeing anything else saw a partial commit.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> checks{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        Status s = env.read([&](ReadTxn& t) {
          auto n = peek_counter(t, "n");
          if (!n) return n.status();
          auto entries = t.entries(Db::kSectors);
          if (!entries) return entries.status();
          if (*entries != *n) return Status::internal("entries != counter");
          if (*n > 0) {
            auto last = t.get(Db::kSectors, key_u64(*n - 1));
            if (!last) return last.status();
            if (*last != payload(*n - 1, 300)) return Status::internal("bad payload");
          }
          return Status::ok();
        });
        if (!s) {
          ADD_FAILURE() << s.to_string();
          ++failures;
          return;
        }
        ++checks;
      }
    });
  }
  for (int batch = 0; batch < 300 && failures == 0; ++batch) {
    Status s = env.write([&](WriteTxn& t) {
      for (int i = 0; i < 10; ++i) {
        auto n = next_counter(t, "n");
        if (!n) return n.status();
        if (auto put = t.put(Db::kSectors, key_u64(*n), payload(*n, 300)); !put) return put;
      }
      return Status::ok();
    });
    ASSERT_TRUE(s) << s.to_string();
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(checks, 0u);
  EXPECT_GE(env.map_growths(), 2u) << "the map grew while readers were running";
}

TEST(ConcurrencyTest, WritersFromManyThreadsSerialise) {
  TempDir tmp;
  auto opened = Env::open(tmp.path(), tiny_options());
  ASSERT_TRUE(opened);
  auto& env = **opened;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        Status s = env.write([](WriteTxn& t) {
          auto n = next_counter(t, "sector_number");
          if (!n) return n.status();
          return t.put(Db::kSectors, key_u64(*n), payload(*n, 500), PutMode::kInsertOnly);
        });
        EXPECT_TRUE(s) << s.to_string();
      }
    });
  }
  for (auto& t : writers) t.join();
  auto r = env.begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(*peek_counter(*r, "sector_number"), 400u) << "no number handed out twice";
  EXPECT_EQ(*r->entries(Db::kSectors), 400u);
}

TEST(ConcurrencyTest, ReadTransactionMayMoveBetweenThreads) {
  TempDir tmp;
  auto opened = Env::open(tmp.path(), tiny_options());
  ASSERT_TRUE(opened);
  auto& env = **opened;
  ASSERT_TRUE(env.write([](WriteTxn& t) { return t.put(Db::kMeta, "k", "v"); }));
  auto r = env.begin_read();
  ASSERT_TRUE(r);
  ReadTxn txn = std::move(*r);
  std::thread other([&] {
    auto v = txn.get(Db::kMeta, "k");
    EXPECT_TRUE(v);
    txn.close();
  });
  other.join();
  // The gate must have released the ticket of the thread that began the transaction.
  EXPECT_TRUE(env.write([](WriteTxn& t) { return t.put(Db::kChain, "b", payload(6, 1 << 20)); }));
}

}  // namespace
}  // namespace sealhost::store
