// Crash safety: a writer process is SIGKILLed at random moments; after each kill the store must
// reopen with every committed batch intact and no trace of the batch in flight.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sealhost/sdk/testing.hpp>

#include "host/store/env.hpp"
#include "tests/host/store/kill_workload.hpp"

extern char** environ;

namespace sealhost::store {
namespace {

using namespace std::chrono_literals;
using sdk::testing::TempDir;

// A running store_kill_writer with its stdout on a pipe and stderr in a file.
class Writer {
 public:
  Writer(const std::filesystem::path& dir, std::uint64_t seed, const std::string& max_batches,
         const std::filesystem::path& stderr_file) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> args = {SEALHOST_STORE_KILL_WRITER, dir.string(),
                                     std::to_string(seed)};
    if (!max_batches.empty()) args.push_back(max_batches);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
      pid_ = -1;
    }
  }
  ~Writer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (out_ >= 0) ::close(out_);
  }

  // True once the child printed "ready".
  bool wait_ready(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[64];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) return false;
      line.append(buf, static_cast<std::size_t>(n));
    }
    return line == "ready\n";
  }

  void kill() { ::kill(pid_, SIGKILL); }

  // Raw waitpid status.
  int wait() {
    int status = 0;
    if (pid_ > 0) ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StoreKillTest, CommittedBatchesSurviveSigkillAtRandomMoments) {
  TempDir tmp;
  const auto dir = tmp / "datastore";
  const auto log = tmp / "writer.stderr";
  std::mt19937_64 rng(0x5ea1);  // fixed: a failure replays the same kill schedule
  constexpr int kIterations = 30;
  const auto budget_end = std::chrono::steady_clock::now() + 15s;
  std::uint64_t last_batches = 0;
  int iterations = 0;
  for (int it = 0; it < kIterations && std::chrono::steady_clock::now() < budget_end; ++it) {
    {
      Writer writer(dir, rng(), "", log);
      ASSERT_TRUE(writer.wait_ready(10s)) << "writer did not start: " << slurp(log);
      // Mostly mid-stream kills; a few right after opening.
      const auto delay = std::chrono::milliseconds(it % 10 == 0 ? 0 : 5 + rng() % 300);
      std::this_thread::sleep_for(delay);
      writer.kill();
      const int status = writer.wait();
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "writer ended on its own (status " << status << "): " << slurp(log);
    }
    auto env = Env::open(dir, testing::kill_workload_options());
    ASSERT_TRUE(env) << "reopen after kill " << it << ": " << env.status().to_string();
    auto summary = testing::verify_workload(**env);
    ASSERT_TRUE(summary) << "after kill " << it << ": " << summary.status().to_string();
    EXPECT_GE(summary->batches, last_batches) << "committed batches disappeared";
    last_batches = summary->batches;
    ++iterations;
  }
  EXPECT_GE(iterations, 10) << "too few kill iterations fit in the time budget";
  EXPECT_GT(last_batches, 0u) << "the writer never committed anything; the test proved nothing";
  EXPECT_GT(std::filesystem::file_size(dir / "data.mdb"),
            testing::kill_workload_options().initial_map_size)
      << "the map never had to grow";
  RecordProperty("batches", std::to_string(last_batches));
  RecordProperty("iterations", std::to_string(iterations));
}

TEST(StoreKillTest, AdoptsMapGrownByAnotherProcess) {
  TempDir tmp;
  const auto dir = tmp / "datastore";
  const auto log = tmp / "writer.stderr";
  auto opened = Env::open(dir, testing::kill_workload_options());
  ASSERT_TRUE(opened) << opened.status().to_string();
  auto& env = **opened;
  const auto before = env.map_size();
  {
    Writer writer(dir, 7, "250", log);
    const int status = writer.wait();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "writer failed (status " << status << "): " << slurp(log);
  }
  auto summary = testing::verify_workload(env);
  ASSERT_TRUE(summary) << summary.status().to_string();
  EXPECT_EQ(summary->batches, 250u);
  EXPECT_GT(env.map_size(), before) << "this process adopted the size the writer set";
  EXPECT_TRUE(env.write([](WriteTxn& t) { return t.put(Db::kMeta, "after", "resize"); }));
}

}  // namespace
}  // namespace sealhost::store
