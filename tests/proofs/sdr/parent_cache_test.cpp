// Parent cache files: names and SHA-256 digests against rust-fil-proofs' manifest, content equal
// to the graph, regeneration of wrong-size and corrupt files, concurrent creators, stale temps.
#include "proofs/sdr/parent_cache.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "proofs/sha256/sha256.hpp"
#include "tests/proofs/sdr/test_dir.hpp"
#include "tests/proofs/sdr/vectors.hpp"

namespace sealhost::proofs::sdr {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::vector_by_id;

ParentCacheOptions options(bool verify, unsigned threads = 0,
                           std::function<void(std::string_view)> warn = {}) {
  ParentCacheOptions o;
  o.verify = verify;
  o.threads = threads;
  o.warn = std::move(warn);
  return o;
}

std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buf(1 << 20);
  sha256::Hasher h;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update({reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(in.gcount())});
  }
  return to_hex(h.finish());
}

void check_manifest_vector(const std::string& name, const std::string& file_id,
                           const std::string& digest, uint64_t size) {
  TempDir dir;
  const auto& proof = lookup_seal_proof(name);
  const Graph graph(proof);
  EXPECT_EQ(parent_cache_file_name(graph), file_id + ".cache") << name;
  ASSERT_EQ(known_parent_cache_digest(file_id).value_or(""), digest) << name;
  const auto cache = ParentCache::open_or_create(graph, dir.path(), options(true, 2));
  EXPECT_TRUE(cache.generated());
  EXPECT_EQ(cache.path(), dir.path() / (file_id + ".cache"));
  EXPECT_EQ(fs::file_size(cache.path()), size) << name;
  EXPECT_EQ(cache.sha256_hex(), digest) << name;
  EXPECT_EQ(file_sha256(cache.path()), digest) << name;
  EXPECT_EQ(cache.nodes(), proof.nodes);
}

TEST(ParentCache, ManifestVectors2KiBAnd8MiB) {
  for (const char* id : {"sdr.parent_cache.StackedDrg2KiBV1", "sdr.parent_cache.StackedDrg2KiBV1_1",
                         "sdr.parent_cache.StackedDrg8MiBV1"}) {
    const auto& v = vector_by_id(id);
    check_manifest_vector(v.at("input").at("registered_proof").get<std::string>(),
                          v.at("expected").at("cache_file_id").get<std::string>(),
                          v.at("expected").at("sha256_of_cache").get<std::string>(),
                          v.at("expected").at("cache_size_bytes").get<uint64_t>());
  }
  const auto& s = testing::sdr_vectors().at("spec").at("parent_cache_8MiB_V1_1");
  check_manifest_vector(
      s.at("registered_proof").get<std::string>(), s.at("cache_file_id").get<std::string>(),
      s.at("sha256_of_cache").get<std::string>(), s.at("cache_size_bytes").get<uint64_t>());
}

TEST(ParentCache, ContentEqualsGraphAndIsReused) {
  TempDir dir;
  const Graph graph(lookup_seal_proof("2KiB-synth"));
  {
    const auto cache = ParentCache::open_or_create(graph, dir.path());
    EXPECT_TRUE(cache.generated());
    uint32_t p[kDegree];
    for (uint64_t v = 0; v < graph.nodes(); ++v) {
      graph.parents(v, p);
      EXPECT_EQ(std::vector<uint32_t>(p, p + kDegree),
                std::vector<uint32_t>(cache.parents(v), cache.parents(v) + kDegree))
          << "node " << v;
    }
    // Synthetic graphs are not in the manifest: verify has nothing to compare with.
    EXPECT_FALSE(known_parent_cache_digest(cache.path().filename().string()).has_value());
  }
  const auto again = ParentCache::open_or_create(graph, dir.path(), options(true));
  EXPECT_FALSE(again.generated());
}

TEST(ParentCache, KnownDigestTable) {
  EXPECT_EQ(known_parent_cache_digests().size(), 10u);
  const std::string id =
      "v28-sdr-parent-21981246c370f9d76c7a77ab273d94bde0ceb4e938292334960bce05585dc117";
  EXPECT_EQ(known_parent_cache_digest(id + ".cache"), known_parent_cache_digest(id));
  EXPECT_EQ(parent_cache_file_name(Graph(lookup_seal_proof("32GiB-v1.1"))), id + ".cache");
  for (const auto& k : known_parent_cache_digests()) {
    EXPECT_EQ(parent_cache_file_name(Graph(lookup_seal_proof(k.proof))),
              std::string(k.file_id) + ".cache")
        << k.proof;
  }
}

TEST(ParentCache, WrongSizeIsAlwaysRegenerated) {
  TempDir dir;
  const Graph graph(lookup_seal_proof("2KiB-v1.1"));
  const fs::path path = dir.path() / parent_cache_file_name(graph);
  { std::ofstream(path) << "short"; }
  std::vector<std::string> warnings;
  const auto cache = ParentCache::open_or_create(
      graph, dir.path(), options(false, 0, [&](std::string_view w) { warnings.emplace_back(w); }));
  EXPECT_TRUE(cache.generated());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("size 5 bytes"), std::string::npos) << warnings[0];
  EXPECT_EQ(cache.sha256_hex(), "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97");
}

TEST(ParentCache, CorruptContentRegeneratedOnlyWhenVerifying) {
  TempDir dir;
  const Graph graph(lookup_seal_proof("2KiB-v1"));
  const fs::path path = ParentCache::open_or_create(graph, dir.path()).path();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x55');
  }
  const std::string good = "3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d";
  std::vector<std::string> warnings;
  auto warn = [&](std::string_view w) { warnings.emplace_back(w); };
  {
    // Without verification a file of the right size is trusted (as rust-fil-proofs does).
    const auto cache = ParentCache::open_or_create(graph, dir.path(), options(false, 0, warn));
    EXPECT_FALSE(cache.generated());
    EXPECT_NE(cache.sha256_hex(), good);
  }
  const auto cache = ParentCache::open_or_create(graph, dir.path(), options(true, 0, warn));
  EXPECT_TRUE(cache.generated());
  EXPECT_EQ(cache.sha256_hex(), good);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("does not match"), std::string::npos) << warnings[0];
  EXPECT_EQ(file_sha256(path), good);
}

TEST(ParentCache, ConcurrentCreatorsAllSeeACompleteFile) {
  TempDir dir;
  const Graph graph(lookup_seal_proof("8MiB-v1.1"));
  std::vector<std::string> digests(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < digests.size(); ++i) {
    threads.emplace_back([&, i] {
      const auto cache = ParentCache::open_or_create(graph, dir.path(), options(false, 1));
      digests[i] = cache.sha256_hex();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& d : digests) {
    EXPECT_EQ(d, "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab");
  }
  // Only the final file remains: no temporaries.
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(ParentCache, StaleTemporaryOfADeadCreatorIsRemoved) {
  TempDir dir;
  const Graph graph(lookup_seal_proof("2KiB-v1.1"));
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  const fs::path stale =
      dir.path() / (parent_cache_file_name(graph) + ".tmp." + std::to_string(child) + ".0");
  { std::ofstream(stale) << "partial"; }
  const fs::path live =
      dir.path() / (parent_cache_file_name(graph) + ".tmp." + std::to_string(::getpid()) + ".99");
  { std::ofstream(live) << "being written"; }
  const auto cache = ParentCache::open_or_create(graph, dir.path());
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));  // a live process may still be writing it
}

TEST(ParentCache, UnwritableDirectoryIsAClearError) {
  TempDir dir;
  const fs::path file = dir.path() / "not-a-dir";
  { std::ofstream(file) << "x"; }
  try {
    ParentCache::open_or_create(Graph(lookup_seal_proof("2KiB-v1.1")), file / "sub");
    FAIL() << "expected SdrError";
  } catch (const SdrError& e) {
    EXPECT_NE(std::string(e.what()).find("not-a-dir"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sealhost::proofs::sdr
