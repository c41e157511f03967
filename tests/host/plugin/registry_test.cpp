// The loader's closed list of failures, each provoked by a deliberately broken fixture plugin,
// and a good plugin's component driven through the real loader.
#include "host/plugin/registry.hpp"
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace sealhost::host {
namespace {

const std::filesystem::path kFixtures = SEALHOST_FIXTURE_DIR;

std::filesystem::path fixture(const char* name) {
  return kFixtures / (std::string(name) + ".so");
}

LoadFailure expect_failure(PluginRegistry& reg, const std::filesystem::path& p, LoadError code) {
  auto f = reg.load_file(p);
  EXPECT_TRUE(f.has_value()) << p << " loaded but should have failed";
  if (!f) return {};
  EXPECT_EQ(f->code, code) << load_error_name(f->code) << ": " << f->message;
  EXPECT_NE(f->message.find(p.string()), std::string::npos) << "message must name the file";
  return *f;
}

TEST(Registry, LoadsGoodFixture) {
  PluginRegistry reg(host_services());
  auto f = reg.load_file(fixture("good"));
  ASSERT_FALSE(f) << f->message;
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_STREQ(reg.plugins()[0]->descriptor->id, "fixture.echo");
  auto ref = reg.find("fixture.stage.echo");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_STAGE);
  EXPECT_EQ(reg.components(SEALHOST_KIND_STAGE).size(), 1u);
  EXPECT_TRUE(reg.components(SEALHOST_KIND_STORAGE).empty());
}

TEST(Registry, NotFound) {
  PluginRegistry reg(host_services());
  expect_failure(reg, kFixtures / "does-not-exist.so", LoadError::kNotFound);
}

TEST(Registry, OpenFailedOnGarbageFile) {
  auto p = std::filesystem::temp_directory_path() / "sealhost-garbage-plugin.so";
  std::ofstream(p) << "this is not an ELF file";
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, p, LoadError::kOpenFailed);
  std::filesystem::remove(p);
}

TEST(Registry, OpenFailedOnUnresolvedSymbol) {
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, fixture("undefined"), LoadError::kOpenFailed);
  EXPECT_NE(f.message.find("sealhost_fixture_missing_symbol"), std::string::npos) << f.message;
}

TEST(Registry, NoEntrySymbol) {
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, fixture("no_entry"), LoadError::kNoEntry);
  EXPECT_NE(f.message.find("sealhost_plugin_entry_v1"), std::string::npos);
}

TEST(Registry, AbiMajorMismatch) {
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, fixture("abi_major"), LoadError::kAbiMajorMismatch);
  EXPECT_NE(f.message.find("ABI 2."), std::string::npos) << f.message;
}

TEST(Registry, AbiMinorTooNew) {
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, fixture("abi_minor"), LoadError::kAbiMinorTooNew);
  const std::string ours = "1." + std::to_string(SEALHOST_ABI_MINOR);
  const std::string theirs = "1." + std::to_string(SEALHOST_ABI_MINOR + 1);
  EXPECT_NE(f.message.find(theirs), std::string::npos) << "names both versions: " << f.message;
  EXPECT_NE(f.message.find(ours), std::string::npos) << f.message;
}

TEST(Registry, InvalidDescriptorBadId) {
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, fixture("bad_id"), LoadError::kInvalidDescriptor);
  EXPECT_NE(f.message.find("Fixture.Stage.Echo"), std::string::npos) << f.message;
}

TEST(Registry, InvalidDescriptorBadOptionDefault) {
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, fixture("bad_option"), LoadError::kInvalidDescriptor);
  EXPECT_NE(f.message.find("verify"), std::string::npos) << f.message;
}

TEST(Registry, DuplicateId) {
  PluginRegistry reg(host_services());
  ASSERT_FALSE(reg.load_file(fixture("good")));
  auto dup = expect_failure(reg, fixture("duplicate"), LoadError::kDuplicateId);
  EXPECT_FALSE(dup.shadowed_by_static) << "two loadable copies are a real conflict";
  EXPECT_EQ(reg.plugins().size(), 1u) << "the duplicate must not be registered";
}

TEST(Registry, InitFailed) {
  PluginRegistry reg(host_services());
  auto f = expect_failure(reg, fixture("init_fail"), LoadError::kInitFailed);
  EXPECT_NE(f.message.find("fixture device missing"), std::string::npos) << f.message;
  EXPECT_TRUE(reg.plugins().empty());
}

TEST(Registry, LoadDirectoryReportsEveryFailure) {
  PluginRegistry reg(host_services());
  auto failures = reg.load_directory(kFixtures);
  // Nine fixtures, loaded in name order: "duplicate" loads first and "good" (same id) then
  // collides with it; the other seven fail for their own reasons.
  EXPECT_EQ(reg.plugins().size(), 1u);
  ASSERT_EQ(failures.size(), 8u);
  auto good = std::find_if(failures.begin(), failures.end(),
                           [](const LoadFailure& f) { return f.path.ends_with("good.so"); });
  ASSERT_NE(good, failures.end());
  EXPECT_EQ(good->code, LoadError::kDuplicateId) << good->message;
  auto missing = reg.load_directory(kFixtures / "nope");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].code, LoadError::kNotFound);
}

extern "C" const sealhost_plugin_descriptor* sealhost_plugin_entry_v1__fixture_static(void);

TEST(Registry, StaticPluginRegistersAndCollidesWithItsLoadableTwin) {
  PluginRegistry reg(host_services());
  ASSERT_FALSE(reg.add_static("fixture_static", &sealhost_plugin_entry_v1__fixture_static));
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_TRUE(reg.plugins()[0]->is_static);
  EXPECT_EQ(reg.plugins()[0]->path, "static:fixture_static");
  ASSERT_TRUE(reg.find("fixture.stage.echo"));
  // The same plugin as a .so next to the static copy is a duplicate, not a silent override, and
  // is marked as shadowed so a static build's daemon can skip its own loadable twins.
  auto twin = expect_failure(reg, fixture("good"), LoadError::kDuplicateId);
  EXPECT_TRUE(twin.shadowed_by_static);
  // The generated table of this build (empty unless SEALHOST_STATIC_PLUGINS=ON) registers cleanly.
  PluginRegistry table(host_services());
  EXPECT_TRUE(table.add_static_table().empty());
}

TEST(Registry, ValidateDescriptorRejectsNull) {
  EXPECT_NE(validate_descriptor(nullptr), "");
}

sdk::OptionSet defaults_of(const ComponentRef& ref) {
  sdk::OptionSet o(ref.desc->options, ref.desc->options_len);
  o.apply_defaults();
  return o;
}

TEST(Component, CreateRunAndErrorsThroughBarrier) {
  PluginRegistry reg(host_services());
  ASSERT_FALSE(reg.load_file(fixture("good")));
  auto ref = *reg.find("fixture.stage.echo");
  auto opts = defaults_of(ref);
  opts.set_text("threads", "7");
  opts.set_text("chunk", "2MiB");
  auto inst = std::make_shared<ComponentInstance>(ref, host_services(), std::move(opts));
  StageClient stage(inst);
  EXPECT_EQ(stage.stage(), "addpiece");
  uint64_t progress_calls = 0;
  JobState job([&](uint64_t, uint64_t, std::string_view) { ++progress_calls; });
  EXPECT_EQ(stage.run("42", &job),
            "{\"echo\":42,\"threads\":7,\"chunk\":2097152,\"timeout_ms\":30000,\"mode\":\"fast\","
            "\"verify\":false}");
  EXPECT_EQ(progress_calls, 1u);
  try {
    stage.run("throw");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INTERNAL);
    EXPECT_STREQ(e.what(), "asked to throw");
  }
  JobState cancelled;
  cancelled.cancel();
  try {
    stage.run("cancel", &cancelled);
    FAIL() << "expected cancellation";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_CANCELLED);
  }
}

TEST(Component, CreateFailureCarriesPluginMessage) {
  PluginRegistry reg(host_services());
  ASSERT_FALSE(reg.load_file(fixture("good")));
  auto ref = *reg.find("fixture.stage.echo");
  auto opts = defaults_of(ref);
  opts.set_text("mode", "explode");
  try {
    ComponentInstance inst(ref, host_services(), std::move(opts));
    FAIL() << "create should fail";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("fixture.stage.echo"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("refused on purpose"), std::string::npos);
  }
}

TEST(Component, WrongKindClientRefused) {
  PluginRegistry reg(host_services());
  ASSERT_FALSE(reg.load_file(fixture("good")));
  auto ref = *reg.find("fixture.stage.echo");
  auto inst = std::make_shared<ComponentInstance>(ref, host_services(), defaults_of(ref));
  EXPECT_THROW(StorageClient{inst}, PluginError);
}

}  // namespace
}  // namespace sealhost::host
