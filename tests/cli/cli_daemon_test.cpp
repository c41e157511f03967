// Drives the real sealhost binary: init, run, every CLI command through the daemon's RPC,
// authentication failures, repo lock, busy port, config check/schema, restart persistence.
#include "host/rpc/client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct CmdResult {
  int code;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs sealhost with args; captures stdout and stderr through files.
CmdResult sealhost(const std::vector<std::string>& args, const fs::path& scratch) {
  static int n = 0;
  fs::path out = scratch / ("out" + std::to_string(++n));
  fs::path err = scratch / ("err" + std::to_string(n));
  std::string cmd = std::string("'") + SEALHOST_BIN + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >'" + out.string() + "' 2>'" + err.string() + "' </dev/null";
  int st = std::system(cmd.c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
}

class Daemon {
 public:
  Daemon(const fs::path& repo, const fs::path& log, std::string listen = "127.0.0.1:0")
      : repo_(repo) {
    std::vector<std::string> args = {SEALHOST_BIN, "--repo",   repo.string(),
                                     "run",        "--listen", listen};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&pid_, SEALHOST_BIN, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) pid_ = -1;
  }
  // Waits until the daemon wrote its api file; false if it exited first.
  bool wait_ready() {
    for (int i = 0; i < 400; ++i) {
      if (fs::exists(repo_ / "api") && fs::file_size(repo_ / "api") > 0) return true;
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }
  int wait_exit() {
    if (exited_) return code_;
    int st = 0;
    for (int i = 0; i < 400; ++i) {
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &st, 0);
    exited_ = true;
    return -1;
  }
  ~Daemon() {
    if (!exited_ && pid_ > 0) {
      kill(pid_, SIGTERM);
      wait_exit();
    }
  }
  pid_t pid() const { return pid_; }

 private:
  fs::path repo_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("sealhost-cli-" + std::to_string(rd()));
    fs::create_directories(dir_);
    repo_ = dir_ / "repo";
    unsetenv("MINER_API_INFO");
  }
  void TearDown() override { fs::remove_all(dir_); }
  CmdResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--repo", repo_.string()});
    return sealhost(args, dir_);
  }
  void init() {
    auto r = cli({"init"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::unique_ptr<Daemon> start() {
    auto d = std::make_unique<Daemon>(repo_, dir_ / "daemon.log");
    EXPECT_TRUE(d->wait_ready()) << slurp(dir_ / "daemon.log");
    return d;
  }
  sealhost::rpc::ApiInfo api(const std::string& token) {
    auto info = sealhost::rpc::ApiInfo::parse(slurp(repo_ / "api"));
    info.token = token;
    return info;
  }
  fs::path dir_, repo_;
};

TEST_F(CliTest, InitCreatesPrivateRepo) {
  init();
  EXPECT_TRUE(fs::exists(repo_ / "config.toml"));
  struct stat st {};
  ASSERT_EQ(stat((repo_ / "token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "token must be private";
  ASSERT_EQ(stat((repo_ / "keystore" / "MF2XI2BNNJ3XILLQOJUXMYLUMU").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "jwt secret must be private";
  EXPECT_TRUE(fs::exists(repo_ / "storage" / "sectorstore.json"));
  auto again = cli({"init"});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("already initialised"), std::string::npos) << again.err;
}

TEST_F(CliTest, CommandsAgainstRunningDaemon) {
  init();
  auto d = start();
  auto info = cli({"info"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("sealhost/"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("1 path(s)"), std::string::npos) << info.out;

  auto plugins = cli({"plugins", "list"});
  ASSERT_EQ(plugins.code, 0) << plugins.err;
  EXPECT_NE(plugins.out.find("sealhost.storage.local"), std::string::npos) << plugins.out;
  // Every first-party plugin built beside the binary is loaded; storage.local must be among them.
  auto pj = nlohmann::json::parse(cli({"plugins", "list", "--json"}).out);
  ASSERT_GE(pj.size(), 1u);
  bool storage_local = false;
  for (const auto& p : pj) {
    EXPECT_FALSE(p["Components"].empty()) << p.dump();
    for (const auto& c : p["Components"]) storage_local |= c["ID"] == "sealhost.storage.local";
  }
  EXPECT_TRUE(storage_local) << pj.dump();

  // Attach a second path, see it listed, stat it, detach it.
  fs::path extra = dir_ / "extra";
  fs::create_directories(extra);
  auto att = cli({"storage", "attach", "--init", "--store", "--weight", "20", "--max-storage",
                  "1GiB", extra.string()});
  ASSERT_EQ(att.code, 0) << att.err;
  auto list = nlohmann::json::parse(cli({"storage", "list", "--json"}).out);
  ASSERT_EQ(list.size(), 2u);
  std::string extra_id;
  for (const auto& p : list) {
    if (p["Path"] == extra.string()) {
      extra_id = p["ID"];
      EXPECT_EQ(p["Weight"], 20);
      EXPECT_EQ(p["CanStore"], true);
      EXPECT_EQ(p["CanSeal"], false);
      EXPECT_EQ(p["MaxStorage"], 1u << 30);
      EXPECT_LE(p["Available"].get<uint64_t>(), 1u << 30);
    }
  }
  ASSERT_FALSE(extra_id.empty());
  auto stat_out = cli({"storage", "stat", extra_id});
  ASSERT_EQ(stat_out.code, 0) << stat_out.err;
  EXPECT_EQ(nlohmann::json::parse(stat_out.out)["Path"], extra.string());
  EXPECT_EQ(cli({"storage", "list"}).code, 0);

  // Attaching an uninitialised directory without --init is refused with a clear message.
  fs::create_directories(dir_ / "bare");
  auto bare = cli({"storage", "attach", (dir_ / "bare").string()});
  EXPECT_NE(bare.code, 0);
  EXPECT_NE(bare.err.find("sectorstore.json"), std::string::npos) << bare.err;

  // Restart: the attached path is remembered.
  ASSERT_EQ(cli({"stop"}).code, 0);
  EXPECT_EQ(d->wait_exit(), 0);
  EXPECT_FALSE(fs::exists(repo_ / "api")) << "api file removed on stop";
  d = start();
  list = nlohmann::json::parse(cli({"storage", "list", "--json"}).out);
  EXPECT_EQ(list.size(), 2u) << list.dump();

  auto det = cli({"storage", "detach", extra.string()});
  ASSERT_EQ(det.code, 0) << det.err;
  EXPECT_EQ(nlohmann::json::parse(cli({"storage", "list", "--json"}).out).size(), 1u);
  auto det2 = cli({"storage", "detach", extra.string()});
  EXPECT_NE(det2.code, 0);
  EXPECT_NE(det2.err.find("not attached"), std::string::npos) << det2.err;

  ASSERT_EQ(cli({"stop"}).code, 0);
  EXPECT_EQ(d->wait_exit(), 0);
  d = start();
  EXPECT_EQ(nlohmann::json::parse(cli({"storage", "list", "--json"}).out).size(), 1u)
      << "detach is remembered";
  ASSERT_EQ(cli({"stop"}).code, 0);
}

TEST_F(CliTest, AuthTokensAndPermissions) {
  init();
  auto d = start();
  // No token: 401.
  try {
    sealhost::rpc::RpcClient(api("")).call("Filecoin.Version");
    FAIL() << "call without a token must fail";
  } catch (const sealhost::rpc::RpcCallError& e) {
    EXPECT_EQ(e.http_status(), 401) << e.what();
  }
  // A read token: Version works, Shutdown is 403.
  auto tok = cli({"auth", "create-token", "--perm", "read"});
  ASSERT_EQ(tok.code, 0) << tok.err;
  std::string read_token = tok.out.substr(0, tok.out.find('\n'));
  sealhost::rpc::RpcClient reader(api(read_token));
  EXPECT_EQ(reader.call("Filecoin.Version")["Version"].get<std::string>().rfind("sealhost/", 0),
            0u);
  EXPECT_EQ(reader.call("Filecoin.AuthVerify", {read_token}), nlohmann::json({"read"}));
  try {
    reader.call("Filecoin.Shutdown");
    FAIL() << "read token must not shut down the daemon";
  } catch (const sealhost::rpc::RpcCallError& e) {
    EXPECT_EQ(e.http_status(), 403) << e.what();
  }
  // MINER_API_INFO from `auth api-info` drives the CLI without the repo's token.
  auto ai = cli({"auth", "api-info", "--perm", "write"});
  ASSERT_EQ(ai.code, 0) << ai.err;
  std::string line = ai.out.substr(0, ai.out.find('\n'));
  ASSERT_EQ(line.rfind("MINER_API_INFO=", 0), 0u) << line;
  setenv("MINER_API_INFO", line.substr(15).c_str(), 1);
  auto info = sealhost({"info"}, dir_);
  unsetenv("MINER_API_INFO");
  EXPECT_EQ(info.code, 0) << info.err;
  // Bad permission name.
  auto bad = cli({"auth", "create-token", "--perm", "root"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("read, write, sign or admin"), std::string::npos) << bad.err;
  ASSERT_EQ(cli({"stop"}).code, 0);
}

TEST_F(CliTest, SecondDaemonAndBusyPortAreClearErrors) {
  init();
  auto d = start();
  Daemon second(repo_, dir_ / "second.log");
  EXPECT_NE(second.wait_exit(), 0);
  EXPECT_TRUE(fs::exists(repo_ / "api"))
      << "the refused daemon must not touch the running one's api file";
  EXPECT_NE(slurp(dir_ / "second.log").find("in use by another sealhost daemon"), std::string::npos)
      << slurp(dir_ / "second.log");

  // Another repo on the first daemon's port.
  std::string port = slurp(repo_ / "api");
  port = port.substr(port.find("/tcp/") + 5);
  port = port.substr(0, port.find('/'));
  fs::path repo2 = dir_ / "repo2";
  ASSERT_EQ(sealhost({"--repo", repo2.string(), "init", "--no-local-storage"}, dir_).code, 0);
  Daemon busy(repo2, dir_ / "busy.log", "127.0.0.1:" + port);
  EXPECT_FALSE(busy.wait_ready());
  EXPECT_NE(busy.wait_exit(), 0);
  EXPECT_NE(slurp(dir_ / "busy.log").find("address already in use"), std::string::npos)
      << slurp(dir_ / "busy.log");
  ASSERT_EQ(cli({"stop"}).code, 0);
}

// Configured stages are created when the daemon starts: a bad option stops the start naming the
// section and the option; a PC1 layer buffer reservation comes up with the daemon.
TEST_F(CliTest, ConfiguredStagesComeUpWithTheDaemon) {
  init();
  const fs::path cfg = repo_ / "config.toml";
  const std::string base = slurp(cfg);
  auto write_config = [&](const std::string& reserve) {
    std::ofstream(cfg) << base << "\n[stages.pc1]\ncomponent = \"sealhost.stage.pc1\"\n"
                       << "[stages.pc1.options]\nparent_cache_dir = \""
                       << (dir_ / "parents").string() << "\"\nreserve_layer_buffers = \"" << reserve
                       << "\"\n";
  };
  write_config("StackedDrg3GiBV1_1");
  Daemon bad(repo_, dir_ / "bad.log");
  EXPECT_FALSE(bad.wait_ready());
  EXPECT_NE(bad.wait_exit(), 0);
  const std::string log = slurp(dir_ / "bad.log");
  EXPECT_NE(log.find("[stages.pc1]"), std::string::npos) << log;
  EXPECT_NE(log.find("reserve_layer_buffers"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(repo_ / "api")) << "a daemon that did not start publishes no api file";

  write_config("2KiB-v1.1");
  auto d = start();
  // The reservation (16 KiB: 4 x 2 KiB sectors, two layers each) runs on its own thread.
  const std::string want = "reserved 16.0 KiB of layer buffers";
  for (int i = 0; i < 200 && slurp(dir_ / "daemon.log").find(want) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(slurp(dir_ / "daemon.log").find(want), std::string::npos) << slurp(dir_ / "daemon.log");
  ASSERT_EQ(cli({"stop"}).code, 0);
}

TEST_F(CliTest, NoDaemonIsAClearError) {
  init();
  auto r = cli({"info"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("sealhost run"), std::string::npos) << r.err;
  auto u = sealhost({"--repo", (dir_ / "nowhere").string(), "info"}, dir_);
  EXPECT_NE(u.code, 0);
  EXPECT_NE(u.err.find("not initialised"), std::string::npos) << u.err;
}

TEST_F(CliTest, ConfigDefaultCheckSchema) {
  auto def = sealhost({"config", "default"}, dir_);
  ASSERT_EQ(def.code, 0);
  fs::path good = dir_ / "good.toml";
  std::ofstream(good) << def.out;
  auto ok = sealhost({"config", "check", good.string()}, dir_);
  EXPECT_EQ(ok.code, 0) << ok.err;

  fs::path bad = dir_ / "bad.toml";
  std::ofstream(bad) << "[api]\nlisten_address = \"nope\"\n[storage]\ncomponent = "
                        "\"sealhost.storage.local\"\n[storage.options]\nnot_an_option = 1\n"
                        "[log]\nlevel = \"loud\"\n";
  auto r = sealhost({"config", "check", bad.string()}, dir_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(bad.string() + ":2:18:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad.string() + ":6:1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad.string() + ":8:9:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 error(s)"), std::string::npos) << r.err;

  auto schema = sealhost({"config", "schema", "--json"}, dir_);
  ASSERT_EQ(schema.code, 0) << schema.err;
  auto j = nlohmann::json::parse(schema.out);
  bool found = false;
  for (const auto& c : j) found |= c["id"] == "sealhost.storage.local";
  EXPECT_TRUE(found) << schema.out;
}

TEST_F(CliTest, ShippedExampleConfigsAreValid) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(SEALHOST_CONFIGS_DIR)) {
    if (e.path().extension() != ".toml") continue;
    auto r = sealhost({"config", "check", e.path().string()}, dir_);
    EXPECT_EQ(r.code, 0) << e.path() << ":\n" << r.err;
    ++n;
  }
  EXPECT_GE(n, 1);
}

TEST_F(CliTest, HelpEverywhereAndUnknownCommand) {
  for (std::vector<std::string> cmd : {std::vector<std::string>{"init"},
                                       {"run"},
                                       {"stop"},
                                       {"info"},
                                       {"auth", "create-token"},
                                       {"auth", "api-info"},
                                       {"plugins", "list"},
                                       {"config"},
                                       {"storage", "attach"},
                                       {"storage", "list"},
                                       {"storage", "detach"},
                                       {"storage", "stat"},
                                       {"commp"},
                                       {"debug", "poseidon"}}) {
    cmd.push_back("--help");
    auto r = sealhost(cmd, dir_);
    EXPECT_EQ(r.code, 0) << cmd[0] << ": " << r.err;
    EXPECT_NE(r.out.find("usage: sealhost"), std::string::npos) << cmd[0] << ": " << r.out;
  }
  auto r = sealhost({"frobnicate"}, dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(sealhost({"--help"}, dir_).code, 0);
  EXPECT_EQ(sealhost({"version"}, dir_).code, 0);
}

TEST_F(CliTest, CommpMatchesGoCommpUtilsVector) {
  // commp.gcu.cat127 (filecoin-project/go-commp-utils TestZeroPadding), from tests/vectors.
  fs::path f = dir_ / "cat.bin";
  std::string data = "i am the biggest cat, what do you think about that";
  data.resize(127, '\0');
  std::ofstream(f, std::ios::binary) << data;
  for (const char* threads : {"1", "2"}) {
    auto r = sealhost({"commp", "--json", "--threads", threads, f.string()}, dir_);
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["piece_cid"], "baga6ea4seaqozp3abki6vgdf7ztbipcycmxfyt2o64cpuyvdkczsjxsg7bqmioi");
    EXPECT_EQ(j["comm_p"], "ecbf600a91ea9865fe66143c58132e5c4f4ef704fa62a350b324de46f860c439");
    EXPECT_EQ(j["padded_size"], 128);
    EXPECT_EQ(j["payload_size"], 127);
    EXPECT_EQ(j["piece_cid_v2"].get<std::string>().rfind("bafkzcib", 0), 0u) << j.dump();
  }
  auto text = sealhost({"commp", f.string()}, dir_);
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("baga6ea4seaqozp3abki6vgdf7ztbipcycmxfyt2o64cpuyvdkczsjxsg7bqmioi"),
            std::string::npos);
}

TEST_F(CliTest, CommpBadInputIsAClearError) {
  auto missing = sealhost({"commp", (dir_ / "nope.bin").string()}, dir_);
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("nope.bin"), std::string::npos) << missing.err;
  fs::path tiny = dir_ / "tiny.bin";
  std::ofstream(tiny) << "short";
  auto small = sealhost({"commp", tiny.string()}, dir_);
  EXPECT_NE(small.code, 0);
  EXPECT_NE(small.err.find("65"), std::string::npos) << "names the minimum payload: " << small.err;
  auto threads = sealhost({"commp", "--threads", "0", tiny.string()}, dir_);
  EXPECT_NE(threads.code, 0);
}

TEST_F(CliTest, DebugPoseidonReproducesNeptuneVectors) {
  std::ifstream in(std::string(SEALHOST_TEST_VECTORS) + "/poseidon.json");
  auto vectors = nlohmann::json::parse(in)["vectors"];
  int checked = 0;
  for (const auto& v : vectors) {
    const auto& input = v["input"];
    if (!input.contains("preimage") || !v["expected"].contains("digest_le_hex")) continue;
    std::string id = v["id"];
    bool merkle = id.find(".merkle.") != std::string::npos;
    bool constlen = id.find(".constlen") != std::string::npos;
    if (!merkle && !constlen) continue;
    std::vector<std::string> args = {"debug",   "poseidon",
                                     "--arity", std::to_string(input["arity"].get<int>()),
                                     "--tag",   merkle ? "merkle" : "constlen"};
    size_t n = merkle ? input["preimage"].size() : 4;  // ConstantLength(4) vectors
    for (size_t i = 0; i < n; ++i) args.push_back(std::to_string(input["preimage"][i].get<int>()));
    auto r = sealhost(args, dir_);
    ASSERT_EQ(r.code, 0) << id << ": " << r.err;
    EXPECT_EQ(r.out, v["expected"]["digest_le_hex"].get<std::string>() + "\n") << id;
    ++checked;
  }
  EXPECT_GE(checked, 5) << "expected the neptune merkle and constlen vectors";
  auto bad = sealhost({"debug", "poseidon", "--arity", "3", "1", "2", "3"}, dir_);
  EXPECT_NE(bad.code, 0);
  auto wrong_count = sealhost({"debug", "poseidon", "--arity", "2", "1"}, dir_);
  EXPECT_NE(wrong_count.code, 0);
  EXPECT_NE(wrong_count.err.find("exactly 2"), std::string::npos) << wrong_count.err;
}

TEST_F(CliTest, DebugParentCacheMatchesTheRustManifest) {
  std::ifstream in(std::string(SEALHOST_TEST_VECTORS) + "/sdr.json");
  const auto vectors = nlohmann::json::parse(in)["vectors"];
  int checked = 0;
  for (const auto& v : vectors) {
    const std::string id = v["id"];
    if (id.rfind("sdr.parent_cache.", 0) != 0) continue;
    const std::string proof = v["input"]["registered_proof"];
    auto r = sealhost({"debug", "parent-cache", "--proof", proof, "--digest", "--dir",
                       (dir_ / "parents").string()},
                      dir_);
    ASSERT_EQ(r.code, 0) << id << ": " << r.err;
    const std::string file = v["expected"]["cache_file_id"].get<std::string>() + ".cache";
    const std::string digest = v["expected"]["sha256_of_cache"];
    EXPECT_EQ(r.out, (dir_ / "parents" / file).string() + "\n" + digest + "\n") << id;
    EXPECT_NE(r.err.find("matches"), std::string::npos) << id << ": " << r.err;
    ++checked;
  }
  EXPECT_GE(checked, 3) << "expected the 2 KiB and 8 MiB manifest vectors";
  auto bad = sealhost({"debug", "parent-cache", "--proof", "StackedDrg3KiBV1"}, dir_);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("StackedDrg2KiBV1_1"), std::string::npos)
      << "lists valid names: " << bad.err;
}

TEST_F(CliTest, DebugLabelsReproducesTheRustLabels) {
  std::ifstream in(std::string(SEALHOST_TEST_VECTORS) + "/sdr.json");
  const auto vectors = nlohmann::json::parse(in)["vectors"];
  int checked = 0;
  for (const auto& v : vectors) {
    const std::string id = v["id"];
    if (id.rfind("sdr.labels.", 0) != 0) continue;
    const auto& i = v["input"];
    const std::string api = i["api_version"].get<std::string>().substr(0, 6);
    auto r = sealhost({"debug", "labels", "--nodes", std::to_string(i["nodes"].get<int>()),
                       "--layers", std::to_string(i["layers"].get<int>()), "--replica-id",
                       i["replica_id_hex"], "--porep-id", i["porep_id_hex"], "--api", api},
                      dir_);
    ASSERT_EQ(r.code, 0) << id << ": " << r.err;
    EXPECT_EQ(r.out, v["expected"]["last_layer_last_label_hex"].get<std::string>() + "\n") << id;
    ++checked;
  }
  EXPECT_GE(checked, 2);
  // One node of one layer: node 63 of layer 2 of the 2 KiB end-to-end vector.
  auto one = sealhost({"debug", "labels", "--nodes", "64", "--layers", "2", "--replica-id",
                       "3e75e87332cd5d60132c1f9f9a8362e2e4cf190b46f4fd636fd8864b842d170b",
                       "--porep-id", "05" + std::string(62, '0'), "--node", "0", "--layer", "1"},
                      dir_);
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "a7cc1fe75634063bb01dba191aeb0256505eb56d24b67027b44989c8c0d2680e\n");
  auto bad = sealhost({"debug", "labels", "--nodes", "64", "--layers", "2", "--replica-id", "xyz",
                       "--porep-id", std::string(64, '0')},
                      dir_);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--replica-id"), std::string::npos) << bad.err;
  auto half = sealhost({"debug", "labels", "--nodes", "64", "--layers", "2", "--replica-id",
                        std::string(64, '0'), "--porep-id", std::string(64, '0'), "--node", "3"},
                       dir_);
  EXPECT_NE(half.code, 0);
  EXPECT_NE(half.err.find("--layer"), std::string::npos) << half.err;
}

TEST_F(CliTest, BenchSeal2KiBReproducesTheEndToEndVector) {
  std::ifstream in(std::string(SEALHOST_TEST_VECTORS) + "/e2e.json");
  nlohmann::json want;
  const auto doc = nlohmann::json::parse(in);
  for (const auto& v : doc["vectors"]) {
    if (v["id"] == "e2e.2k.zero.StackedDrg2KiBV1_1") want = v["expected"];
  }
  ASSERT_FALSE(want.is_null());
  auto r = sealhost({"bench", "seal", "--sector-size", "2KiB", "--json", "--parent-cache",
                     (dir_ / "parents").string(), "--plugin-dir", SEALHOST_TEST_PLUGIN_DIR},
                    dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);  // stdout is JSON only: logs go to stderr
  EXPECT_EQ(j["comm_d"], want["comm_d_hex"]);
  EXPECT_EQ(j["comm_r"], want["comm_r_hex"]);
  EXPECT_EQ(j["replica_id"], want["replica_id_hex"]);
  EXPECT_EQ(j["unsealed_cid"], want["unsealed_cid"]);
  EXPECT_EQ(j["sealed_cid"], want["sealed_cid"]);
  for (const char* k :
       {"init", "addpiece", "pc1", "pc2", "c1", "c2", "verify", "window_post", "winning_post"}) {
    EXPECT_TRUE(j["seconds"].contains(k)) << k;
  }
  // The synthetic proof type: its own vector, through the synthetic proofs file.
  nlohmann::json want_synth;
  for (const auto& v : doc["vectors"]) {
    if (v["id"] == "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep") {
      want_synth = v["expected"];
    }
  }
  auto zero_synth = sealhost(
      {"bench", "seal", "--sector-size", "2KiB", "--proof", "2KiB-synth", "--json",
       "--parent-cache", (dir_ / "parents").string(), "--plugin-dir", SEALHOST_TEST_PLUGIN_DIR},
      dir_);
  ASSERT_EQ(zero_synth.code, 0) << zero_synth.err;
  EXPECT_EQ(nlohmann::json::parse(zero_synth.out)["comm_r"], want_synth["comm_r_hex"]);

  // A data piece goes through the same pipeline.
  const fs::path data = dir_ / "deal.bin";
  std::ofstream(data, std::ios::binary) << std::string(1000, 'x');
  auto synth = sealhost({"bench", "seal", "--sector-size", "2KiB", "--proof", "2KiB-synth",
                         "--data", data.string(), "--threads", "3", "--json", "--parent-cache",
                         (dir_ / "parents").string(), "--plugin-dir", SEALHOST_TEST_PLUGIN_DIR},
                        dir_);
  ASSERT_EQ(synth.code, 0) << synth.err;
  EXPECT_NE(nlohmann::json::parse(synth.out)["comm_d"], want["comm_d_hex"]);
  auto bad = sealhost({"bench", "seal", "--sector-size", "3KiB"}, dir_);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("2KiB, 8MiB or 512MiB"), std::string::npos) << bad.err;
}

TEST_F(CliTest, BenchProveVerifiesASavedCommit2Input) {
  const fs::path saved = dir_ / "c2in.json";
  auto r = sealhost(
      {"bench", "seal", "--sector-size", "2KiB", "--json", "--save-commit2-input", saved.string(),
       "--parent-cache", (dir_ / "parents").string(), "--plugin-dir", SEALHOST_TEST_PLUGIN_DIR},
      dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(saved);
  auto c2in = nlohmann::json::parse(in);
  EXPECT_EQ(c2in["SectorNum"], 1);
  EXPECT_EQ(c2in["SectorSize"], 2048);
  ASSERT_TRUE(c2in["Phase1Out"].is_string());
  auto ok = sealhost({"bench", "prove", "--json", saved.string()}, dir_);
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["vanilla_valid"], true);

  // Flip one character inside the base64 proof body: the proofs no longer verify (or parse).
  std::string p1 = c2in["Phase1Out"];
  const size_t at = p1.size() / 2;
  p1[at] = p1[at] == 'A' ? 'B' : 'A';
  c2in["Phase1Out"] = p1;
  const fs::path tampered = dir_ / "tampered.json";
  std::ofstream(tampered) << c2in.dump();
  auto bad = sealhost({"bench", "prove", tampered.string()}, dir_);
  EXPECT_NE(bad.code, 0) << bad.out;
  const fs::path garbage = dir_ / "garbage.json";
  std::ofstream(garbage) << "{\"x\":1}";
  auto g = sealhost({"bench", "prove", garbage.string()}, dir_);
  EXPECT_NE(g.code, 0);
  EXPECT_NE(g.err.find("commit2 input"), std::string::npos) << g.err;
}

TEST_F(CliTest, BenchSeal2KiBGivesTheSameCommRThroughEveryComputeBackend) {
  // Issue: PC2 through each compute backend gives the vector's comm_r. The OpenCL and Vulkan
  // backends run here on POCL and lavapipe (installed by scripts/install-deps.sh).
  const std::string want = "77424390b36f74acd595c40d0e341f4fbff18623feaf8ad72fe73d7490d0d65c";
  for (const char* compute :
       {"builtin", "sealhost.compute.cpu", "sealhost.compute.opencl", "sealhost.compute.vulkan"}) {
    auto r = sealhost(
        {"bench", "seal", "--sector-size", "2KiB", "--json", "--compute", compute, "--parent-cache",
         (dir_ / "parents").string(), "--plugin-dir", SEALHOST_TEST_PLUGIN_DIR},
        dir_);
    ASSERT_EQ(r.code, 0) << compute << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["comm_r"], want) << compute;
  }
  auto bad = sealhost(
      {"bench", "seal", "--sector-size", "2KiB", "--compute", "acme.compute.none", "--parent-cache",
       (dir_ / "parents").string(), "--plugin-dir", SEALHOST_TEST_PLUGIN_DIR},
      dir_);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("acme.compute.none"), std::string::npos) << bad.err;
}

}  // namespace
