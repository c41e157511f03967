// The SDK's pieces that every plugin relies on: units, option sets, the exception barrier, fakes.
#include <sealhost/sdk/sdk.hpp>
#include <sealhost/sdk/testing.hpp>

#include <gtest/gtest.h>

namespace sealhost::sdk {
namespace {

TEST(Units, Sizes) {
  EXPECT_EQ(units::parse_size("2048"), 2048u);
  EXPECT_EQ(units::parse_size("2KiB"), 2048u);
  EXPECT_EQ(units::parse_size("32GiB"), 32ull << 30);
  EXPECT_EQ(units::parse_size("8MB"), 8'000'000u);
  EXPECT_FALSE(units::parse_size("1.5GiB"));
  EXPECT_FALSE(units::parse_size("GiB"));
  EXPECT_FALSE(units::parse_size("12XiB"));
  EXPECT_FALSE(units::parse_size("99999999999PiB")) << "overflow must be rejected";
  EXPECT_EQ(units::format_size(32ull << 30), "32GiB");
  EXPECT_EQ(units::format_size(1000), "1000B");
  EXPECT_EQ(units::format_size_human(1536ull << 20), "1.5 GiB");
}

TEST(Units, Durations) {
  EXPECT_EQ(units::parse_duration_ms("250ms"), 250u);
  EXPECT_EQ(units::parse_duration_ms("30s"), 30'000u);
  EXPECT_EQ(units::parse_duration_ms("1h30m"), 5'400'000u);
  EXPECT_EQ(units::parse_duration_ms("1500"), 1500u);
  EXPECT_FALSE(
      units::parse_duration_ms("30"
                               "x"));
  EXPECT_FALSE(units::parse_duration_ms(""));
  EXPECT_FALSE(units::parse_duration_ms("5m10"));
}

constexpr const char* kChoices[] = {"a", "b"};
constexpr sealhost_option_desc kTable[] = {
    opt_bool("flag", "true", "a flag"),
    opt_int("n", "3", 1, 8, "count", "a count"),
    opt_size("sz", "\"1MiB\"", 1024, 1 << 30, "a size"),
    opt_duration("t", "\"2s\"", 1, 60'000, "a timeout"),
    opt_enum("e", "\"a\"", kChoices, "a choice"),
    opt_list("l", "[\"x\", \"y\"]", "a list"),
    opt_double("f", "0.5", "ratio", "a ratio"),
};

TEST(OptionSet, DefaultsAndTypedAccess) {
  auto set = testing::defaults(kTable);
  Options o(set.c());
  EXPECT_TRUE(o.get_bool("flag"));
  EXPECT_EQ(o.get_int("n"), 3);
  EXPECT_EQ(o.get_size("sz"), 1u << 20);
  EXPECT_EQ(o.get_duration("t").count(), 2000);
  EXPECT_EQ(o.get_string("e"), "a");
  EXPECT_EQ(o.get_list("l"), (std::vector<std::string>{"x", "y"}));
  EXPECT_DOUBLE_EQ(o.get_double("f"), 0.5);
  EXPECT_THROW(o.get_int("flag"), Error) << "type mismatch must throw";
  EXPECT_THROW(o.get_int("missing"), Error);
}

TEST(OptionSet, SetTextValidates) {
  auto set = testing::defaults(kTable);
  set.set_text("n", "8");
  EXPECT_THROW(set.set_text("n", "9"), Error) << "out of range";
  EXPECT_THROW(set.set_text("n", "x"), Error);
  EXPECT_THROW(set.set_text("e", "c"), Error) << "not a choice";
  EXPECT_THROW(set.set_text("sz", "1B"), Error) << "below min";
  EXPECT_THROW(set.set_text("nope", "1"), Error);
  set.set_text("t", "1m");
  EXPECT_EQ(Options(set.c()).get_duration("t").count(), 60'000);
}

TEST(Barrier, MapsExceptionsToStatus) {
  ErrorSink e;
  EXPECT_EQ(barrier(e.c(), [] {}), SEALHOST_OK);
  EXPECT_EQ(barrier(e.c(), [] { throw not_found("thing x: missing"); }), SEALHOST_E_NOT_FOUND);
  EXPECT_EQ(e.message, "thing x: missing");
  EXPECT_EQ(barrier(e.c(), [] { throw std::bad_alloc(); }), SEALHOST_E_RESOURCE_EXHAUSTED);
  EXPECT_EQ(barrier(e.c(), [] { throw 42; }), SEALHOST_E_INTERNAL);
  EXPECT_EQ(barrier(nullptr, [] { throw std::runtime_error("no sink"); }), SEALHOST_E_INTERNAL);
  EXPECT_EQ(barrier(e.c(), []() -> sealhost_status { return SEALHOST_E_IO; }), SEALHOST_E_IO);
}

TEST(Fakes, JobAndHost) {
  testing::FakeJob job;
  Job j(job.c());
  j.progress(3, 10, "x");
  EXPECT_EQ(job.done(), 3u);
  EXPECT_EQ(job.total(), 10u);
  EXPECT_FALSE(j.cancelled());
  job.cancel_after_checks(1);
  EXPECT_FALSE(j.cancelled());
  EXPECT_THROW(j.check_cancel("work"), Error);
  testing::FakeHost host;
  Logger log(host.services(), "c.x.y");
  log.warn("hello");
  ASSERT_EQ(host.lines().size(), 1u);
  EXPECT_EQ(host.lines()[0].message, "hello");
  EXPECT_EQ(host.lines()[0].level, SEALHOST_LOG_WARN);
  Job none(nullptr);
  EXPECT_FALSE(none.cancelled());
}

}  // namespace
}  // namespace sealhost::sdk
