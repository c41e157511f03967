#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include <sealhost/sdk/testing.hpp>

#include "host/store/counters.hpp"
#include "host/store/event_log.hpp"
#include "host/store/keys.hpp"

namespace sealhost::store {
namespace {

using nlohmann::json;
using sdk::testing::TempDir;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    env_.reset();
    auto opened = Env::open(tmp_.path());
    ASSERT_TRUE(opened) << opened.status().to_string();
    env_ = std::move(*opened);
  }
  std::vector<std::pair<std::uint64_t, std::string>> events(std::uint64_t stream) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    auto r = env_->begin_read();
    EXPECT_TRUE(r);
    if (!r) return out;
    Status s = for_each_event(*r, stream, [&](std::uint64_t seq, std::string_view v) {
      out.emplace_back(seq, std::string(v));
      return true;
    });
    EXPECT_TRUE(s) << s.to_string();
    return out;
  }
  Result<std::uint64_t> append(std::uint64_t stream, std::string value) {
    std::uint64_t seq = 0;
    Status s = env_->write([&](WriteTxn& t) {
      auto r = append_event(t, stream, value);
      if (!r) return r.status();
      seq = *r;
      return Status::ok();
    });
    if (!s) return s;
    return seq;
  }

  TempDir tmp_;
  std::unique_ptr<Env> env_;
};

using Events = std::vector<std::pair<std::uint64_t, std::string>>;

TEST_F(LogTest, StreamsHaveIndependentDenseSequences) {
  EXPECT_EQ(*append(1, "a0"), 0u);
  EXPECT_EQ(*append(2, "b0"), 0u);
  EXPECT_EQ(*append(1, "a1"), 1u);
  EXPECT_EQ(*append(1, "a2"), 2u);
  EXPECT_EQ(*append(2, "b1"), 1u);
  EXPECT_EQ(events(1), (Events{{0, "a0"}, {1, "a1"}, {2, "a2"}}));
  EXPECT_EQ(events(2), (Events{{0, "b0"}, {1, "b1"}}));
  EXPECT_TRUE(events(3).empty());
  EXPECT_TRUE(events(0).empty());
}

TEST_F(LogTest, SequenceContinuesAfterReopen) {
  ASSERT_TRUE(append(7, "x"));
  ASSERT_TRUE(append(7, "y"));
  reopen();
  EXPECT_EQ(*append(7, "z"), 2u);
  EXPECT_EQ(events(7).size(), 3u);
}

TEST_F(LogTest, ManyEventsStayOrderedPastByteBoundaries) {
  ASSERT_TRUE(env_->write([](WriteTxn& t) {
    for (int i = 0; i < 300; ++i) {
      if (auto r = append_event(t, 5, std::to_string(i)); !r) return r.status();
    }
    return Status::ok();
  }));
  const auto got = events(5);
  ASSERT_EQ(got.size(), 300u);
  for (std::uint64_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, i);
    EXPECT_EQ(got[i].second, std::to_string(i));
  }
}

TEST_F(LogTest, ExtremeStreamNumbersWork) {
  const auto max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(*append(max, "last"), 0u);
  EXPECT_EQ(*append(max, "last2"), 1u);
  EXPECT_EQ(*append(max - 1, "before"), 0u);
  EXPECT_EQ(*append(0, "zero"), 0u);
  EXPECT_EQ(events(max), (Events{{0, "last"}, {1, "last2"}}));
  EXPECT_EQ(events(max - 1), (Events{{0, "before"}}));
}

TEST_F(LogTest, AbortedAppendLeavesNoTrace) {
  ASSERT_TRUE(append(1, "kept"));
  Status s = env_->write([](WriteTxn& t) {
    if (auto r = append_event(t, 1, "dropped"); !r) return r.status();
    return Status::aborted("caller changed its mind");
  });
  EXPECT_TRUE(s.is(Code::kAborted));
  EXPECT_EQ(events(1), (Events{{0, "kept"}}));
  EXPECT_EQ(*append(1, "next"), 1u);
}

TEST_F(LogTest, EventRecordsAreVersioned) {
  ASSERT_TRUE(env_->write([](WriteTxn& t) {
    auto r = append_event_record(t, 42, json{{"to", "PreCommit1"}}, "sector_event", 1);
    return r.status();
  }));
  auto r = env_->begin_read();
  ASSERT_TRUE(r);
  int n = 0;
  ASSERT_TRUE(for_each_event(*r, 42, [&](std::uint64_t seq, std::string_view v) {
    auto rec =
        decode_record(describe(Db::kSectorEvents, key_u64_pair(42, seq)), v, "sector_event", 1);
    EXPECT_TRUE(rec) << rec.status().to_string();
    if (rec) {
      EXPECT_EQ(rec->data["to"], "PreCommit1");
    }
    ++n;
    return true;
  }));
  EXPECT_EQ(n, 1);
}

TEST_F(LogTest, MalformedEventKeyIsCorruption) {
  ASSERT_TRUE(
      env_->write([](WriteTxn& t) { return t.put(Db::kSectorEvents, key_u64(9) + "x", "odd"); }));
  auto r = env_->begin_read();
  ASSERT_TRUE(r);
  Status s = for_each_event(*r, 9, [](std::uint64_t, std::string_view) { return true; });
  EXPECT_TRUE(s.is(Code::kCorruption)) << s.to_string();
  auto next = next_event_sequence(*r, 9);
  EXPECT_TRUE(next.status().is(Code::kCorruption)) << next.status().to_string();
}

TEST_F(LogTest, CountersHandOutConsecutiveNumbers) {
  std::vector<std::uint64_t> got;
  ASSERT_TRUE(env_->write([&](WriteTxn& t) {
    for (int i = 0; i < 3; ++i) {
      auto n = next_counter(t, "sector_number", 1);
      if (!n) return n.status();
      got.push_back(*n);
    }
    return Status::ok();
  }));
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 2, 3})) << "first value is honoured";
  reopen();
  ASSERT_TRUE(env_->write([&](WriteTxn& t) {
    auto n = next_counter(t, "sector_number", 1);
    if (n) got.push_back(*n);
    auto other = next_counter(t, "job_id");
    if (other) {
      EXPECT_EQ(*other, 0u) << "counters are independent";
    }
    return n.status();
  }));
  EXPECT_EQ(got.back(), 4u) << "counters persist";
}

TEST_F(LogTest, AbortedCounterNumberIsHandedOutAgain) {
  Status s = env_->write([](WriteTxn& t) {
    auto n = next_counter(t, "c");
    EXPECT_TRUE(n);
    return Status::aborted("rolled back");
  });
  EXPECT_TRUE(s.is(Code::kAborted));
  auto r = env_->begin_read();
  ASSERT_TRUE(r);
  EXPECT_EQ(*peek_counter(*r, "c"), 0u);
}

TEST_F(LogTest, DamagedOrExhaustedCounterIsReported) {
  ASSERT_TRUE(env_->write([](WriteTxn& t) { return t.put(Db::kCounters, "bad", "123"); }));
  ASSERT_TRUE(env_->write([](WriteTxn& t) {
    return t.put(Db::kCounters, "full", key_u64(std::numeric_limits<std::uint64_t>::max()));
  }));
  Status bad = env_->write([](WriteTxn& t) { return next_counter(t, "bad").status(); });
  EXPECT_TRUE(bad.is(Code::kCorruption)) << bad.to_string();
  EXPECT_EQ(bad.message().rfind("counters/bad: ", 0), 0u) << bad.message();
  Status full = env_->write([](WriteTxn& t) { return next_counter(t, "full").status(); });
  EXPECT_TRUE(full.is(Code::kResourceExhausted)) << full.to_string();
}

}  // namespace
}  // namespace sealhost::store
