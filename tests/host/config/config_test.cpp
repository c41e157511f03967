// Config parsing and validation: every error names file:line:column and the component, and all
// errors of a file are reported in one run.
#include "host/config/config.hpp"
#include "host/plugin/host_services.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sealhost::host {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = registry_.load_file(std::filesystem::path(SEALHOST_FIXTURE_DIR) / "good.so");
    ASSERT_FALSE(f) << f->message;
  }
  // Parses and resolves; returns the diagnostics as "line:col: message" strings.
  std::vector<std::string> errors(const std::string& text, Config* out = nullptr) {
    std::vector<Diagnostic> diags;
    auto cf = ConfigFile::parse(text, "test.toml", diags);
    if (cf) {
      auto c = cf->resolve(registry_, diags);
      if (out) *out = std::move(c);
    }
    std::vector<std::string> v;
    for (const auto& d : diags) v.push_back(d.to_string());
    return v;
  }
  PluginRegistry registry_{host_services()};
};

bool contains(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v) {
    if (s.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(ConfigTest, DefaultConfigParses) {
  std::vector<Diagnostic> diags;
  auto cf = ConfigFile::parse(default_config_text(), "default.toml", diags);
  ASSERT_TRUE(cf);
  EXPECT_TRUE(diags.empty()) << diags[0].to_string();
  EXPECT_EQ(cf->host_part().api.port, 2345);
  EXPECT_EQ(cf->host_part().api.max_body_bytes, 16u << 20);
  ASSERT_EQ(cf->host_part().plugin_search_path.size(), 1u);
  EXPECT_EQ(cf->host_part().plugin_search_path[0], default_plugin_dir());
}

TEST_F(ConfigTest, ValidComponentWithOptions) {
  Config c;
  auto e = errors(R"(
[api]
listen_address = "0.0.0.0:1234"
[stages.addpiece]
component = "fixture.stage.echo"
[stages.addpiece.options]
threads = 8
chunk = "4MiB"
timeout = "2m"
mode = "safe"
)",
                  &c);
  ASSERT_TRUE(e.empty()) << e[0];
  EXPECT_EQ(c.api.host, "0.0.0.0");
  EXPECT_EQ(c.api.port, 1234);
  auto& comp = c.components.at("stages.addpiece");
  sdk::Options o(comp.options->c());
  EXPECT_EQ(o.get_int("threads"), 8);
  EXPECT_EQ(o.get_size("chunk"), 4u << 20);
  EXPECT_EQ(o.get_duration("timeout").count(), 120'000);
  EXPECT_EQ(o.get_string("mode"), "safe");
  EXPECT_FALSE(o.get_bool("verify")) << "default applied";
}

TEST_F(ConfigTest, SyntaxErrorHasPosition) {
  auto e = errors("[api]\nlisten_address = \"x\nthreads = 2\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("test.toml:2:", 0), 0u) << e[0];
  EXPECT_NE(e[0].find("TOML syntax"), std::string::npos);
}

TEST_F(ConfigTest, AllErrorsReportedTogetherWithPositions) {
  auto e = errors(R"([api]
listen_address = "nohostport"
threads = 0
bogus = 1

[stages.addpiece]
component = "fixture.stage.echo"

[stages.addpiece.options]
threads = 100
chunk = "12 parsecs"
timeout = "soon"
mode = "slow"
verify = "yes"
colour = "blue"

[stages.pc1]
component = "nobody.stage.pc1"

[compute]
component = "fixture.stage.echo"

[mystery]
x = 1
)");
  EXPECT_TRUE(contains(e, "test.toml:2:18: [api] listen_address")) << ::testing::PrintToString(e);
  EXPECT_TRUE(contains(e, "test.toml:3:11: [api] threads"));
  EXPECT_TRUE(contains(e, "test.toml:4:1: [api]: unknown key 'bogus'"));
  EXPECT_TRUE(contains(e,
                       "test.toml:10:11: [stages.addpiece] component fixture.stage.echo: option "
                       "'threads': value 100 is out of range [1, 64]"));
  EXPECT_TRUE(contains(e,
                       "test.toml:11:9: [stages.addpiece] component fixture.stage.echo: option "
                       "'chunk' must be a size"));
  EXPECT_TRUE(contains(e,
                       "test.toml:12:11: [stages.addpiece] component fixture.stage.echo: option "
                       "'timeout' must be a duration"));
  EXPECT_TRUE(contains(e,
                       "test.toml:13:8: [stages.addpiece] component fixture.stage.echo: option "
                       "'mode': \"slow\" is not one of"));
  EXPECT_TRUE(contains(e,
                       "test.toml:14:10: [stages.addpiece] component fixture.stage.echo: option "
                       "'verify' must be true or false"));
  EXPECT_TRUE(contains(
      e,
      "test.toml:15:1: [stages.addpiece] component fixture.stage.echo: unknown option 'colour'"));
  EXPECT_TRUE(contains(e,
                       "test.toml:18:13: [stages.pc1] component nobody.stage.pc1: not provided by "
                       "any loaded plugin"));
  EXPECT_TRUE(contains(e,
                       "[compute] component fixture.stage.echo: is a stage component, [compute] "
                       "needs a compute component"));
  EXPECT_TRUE(contains(e, "test.toml:23:2: unknown section 'mystery'"));
  EXPECT_EQ(e.size(), 12u) << ::testing::PrintToString(e);
}

TEST_F(ConfigTest, StageNameMustMatchComponent) {
  auto e = errors("[stages.pc2]\ncomponent = \"fixture.stage.echo\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("implements stage 'addpiece', not 'pc2'"), std::string::npos) << e[0];
  e = errors("[stages.pc9]\ncomponent = \"fixture.stage.echo\"\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("unknown [stages.pc9]"), std::string::npos) << e[0];
}

TEST_F(ConfigTest, StoragePathsAndSearchPathResolveRelativeToFile) {
  std::vector<Diagnostic> diags;
  auto cf = ConfigFile::parse(R"(
[plugins]
search_path = ["plugins", "/abs/dir"]
[[storage.paths]]
path = "seal"
[[storage.paths]]
path = "/mnt/store"
[[storage.paths]]
nopath = 1
)",
                              "/etc/sealhost/config.toml", diags);
  ASSERT_TRUE(cf);
  const auto& c = cf->host_part();
  ASSERT_EQ(c.plugin_search_path.size(), 2u);
  EXPECT_EQ(c.plugin_search_path[0], "/etc/sealhost/plugins");
  EXPECT_EQ(c.plugin_search_path[1], "/abs/dir");
  ASSERT_EQ(c.storage_paths.size(), 2u);
  EXPECT_EQ(c.storage_paths[0].path, "/etc/sealhost/seal");
  EXPECT_EQ(c.storage_paths[1].path, "/mnt/store");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 8u);
}

TEST_F(ConfigTest, SizesAndDurationsAsIntegers) {
  Config c;
  auto e = errors(
      "[stages.addpiece]\ncomponent = \"fixture.stage.echo\"\n[stages.addpiece.options]\n"
      "chunk = 8192\ntimeout = 1500\n",
      &c);
  ASSERT_TRUE(e.empty()) << e[0];
  sdk::Options o(c.components.at("stages.addpiece").options->c());
  EXPECT_EQ(o.get_size("chunk"), 8192u);
  EXPECT_EQ(o.get_duration("timeout").count(), 1500);
  e = errors(
      "[stages.addpiece]\ncomponent = \"fixture.stage.echo\"\n[stages.addpiece.options]\nchunk = "
      "1\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("out of range"), std::string::npos) << e[0];
}

TEST_F(ConfigTest, MissingFileIsClear) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(ConfigFile::load("/nonexistent/config.toml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("sealhost config default"), std::string::npos);
}

TEST_F(ConfigTest, SchemaListsEveryOption) {
  auto text = schema_text(registry_);
  for (const char* key : {"threads", "chunk", "timeout", "mode", "verify"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key;
  }
  auto json = nlohmann::json::parse(schema_json(registry_));
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["id"], "fixture.stage.echo");
  EXPECT_EQ(json[0]["options"].size(), 5u);
  EXPECT_EQ(json[0]["options"][3]["choices"].size(), 3u);
}

}  // namespace
}  // namespace sealhost::host
