// Compares our commP / piece CIDs with an independent implementation (@web3-storage/data-segment
// under node) on seeded random files of random sizes. Requires `npm ci --prefix tests/oracle`.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"

namespace sealhost::proofs {
namespace {

namespace fs = std::filesystem;

const fs::path kOracleDir = fs::path(SEALHOST_TEST_VECTORS).parent_path() / "oracle";
const char* kInstallHint = "run `npm ci --prefix tests/oracle` (needs node >= 18 and npm)";

std::string run(const std::string& command, int& status) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  status = ::pclose(pipe);
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class OracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sealhost-oracle-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(OracleTest, PieceCidsMatchDataSegmentOnRandomFiles) {
  int status = 0;
  const std::string version = run("node --version 2>&1", status);
  ASSERT_EQ(status, 0) << "node is not available (" << version << "): " << kInstallHint;
  ASSERT_TRUE(fs::exists(kOracleDir / "node_modules/@web3-storage/data-segment/package.json"))
      << "@web3-storage/data-segment is not installed in " << kOracleDir << ": " << kInstallHint;

  // Edge sizes around the minimum, quads and a piece boundary, then seeded random sizes:
  // log-uniform up to 8 MiB plus one large file (32..64 MiB) crossing several 4 MiB segments.
  std::mt19937_64 rng(20261121);
  std::vector<uint64_t> sizes = {65, 126, 127, 128, 254, 4064, 4065, 130048};
  std::uniform_real_distribution<double> log_size(std::log(65.0), std::log(8.0 * (1 << 20)));
  for (int i = 0; i < 6; ++i) sizes.push_back(static_cast<uint64_t>(std::exp(log_size(rng))));
  sizes.push_back((uint64_t{32} << 20) + rng() % (uint64_t{32} << 20));

  std::string command = "node " + shell_quote((kOracleDir / "piece_cid.mjs").string());
  std::vector<fs::path> files;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const fs::path p = dir_ / ("f" + std::to_string(i) + ".bin");
    std::vector<char> data(sizes[i]);
    for (auto& c : data) c = static_cast<char>(rng());
    std::ofstream(p, std::ios::binary)
        .write(data.data(), static_cast<std::streamsize>(data.size()));
    files.push_back(p);
    command += " " + shell_quote(p.string());
  }
  const std::string output = run(command + " 2>&1", status);
  ASSERT_EQ(status, 0) << "oracle failed: " << output << "\n" << kInstallHint;

  std::map<std::string, nlohmann::json> oracle;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    oracle[j.at("file").get<std::string>()] = j;
  }
  ASSERT_EQ(oracle.size(), files.size()) << output;
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE("file of " + std::to_string(sizes[i]) + " bytes");
    const auto& o = oracle.at(files[i].string());
    const commp::CommpResult r = commp::commp_file(files[i], 2);
    EXPECT_EQ(cid::piece_cid_v1(r.comm_p), o.at("v1").get<std::string>());
    EXPECT_EQ(cid::piece_cid_v2(r.comm_p, r.payload_size), o.at("v2").get<std::string>());
    EXPECT_EQ(r.padded_piece_size, o.at("padded_size").get<uint64_t>());
    EXPECT_EQ(cid::piece_cid_v2_info(r.comm_p, r.payload_size).padding,
              o.at("padding").get<uint64_t>());
  }
}

}  // namespace
}  // namespace sealhost::proofs
