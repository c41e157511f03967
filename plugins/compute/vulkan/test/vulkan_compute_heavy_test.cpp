// sealhost.compute.vulkan at sector scale (label heavy): an 8 MiB tree_r_last base tree (262144
// leaves, arity 8, 37449 hashes) built in one piece on mapped memory and again as subtrees through
// the staged discrete-GPU path, both equal to proofs::merkle row by row. ~15 CPU-seconds on
// lavapipe.
#include "plugins/compute/vulkan/options.hpp"
#include "plugins/compute/vulkan/vulkan_compute.hpp"
#include "proofs/merkle/merkle.hpp"

#include <gtest/gtest.h>
#include <sealhost/sdk/compute.hpp>

#include <cstring>
#include <random>
#include <vector>

namespace sealhost::compute_vulkan {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr size_t kLeaves = 262144;

Bytes leaves() {
  std::mt19937_64 rng(262144);
  Bytes b(kLeaves * 32);
  for (size_t i = 0; i < b.size(); i += 8) {
    const uint64_t x = rng();
    std::memcpy(&b[i], &x, 8);
  }
  for (size_t i = 0; i < kLeaves; ++i) b[i * 32 + 31] &= 0x3f;
  return b;
}

Bytes reference_rows(const Bytes& in) {
  Bytes rows, row = in;
  while (row.size() > 32) {
    Bytes next(row.size() / 8);
    proofs::merkle::hash_row(proofs::merkle::NodeHash::kPoseidon, 8, row.data(), next.data(),
                             next.size() / 32);
    rows.insert(rows.end(), next.begin(), next.end());
    row = std::move(next);
  }
  return rows;
}

TEST(VulkanComputeHeavyTest, EightMiBTreeInOnePieceAndAsStagedSubtrees) {
  const Bytes in = leaves();
  const Bytes want = reference_rows(in);
  const sdk::Job no_job(nullptr);

  VulkanCompute whole{VulkanOptions{}};
  Bytes rows(sdk::tree_rows_nodes(kLeaves, 8) * 32);
  whole.tree_build(8, in.data(), kLeaves, rows.data(), no_job);
  EXPECT_EQ(rows, want) << "the tree built in one piece";

  VulkanOptions o;
  o.force_staging = true;
  o.memory_limit = kMinMemoryLimit;
  VulkanCompute staged(o);
  staged.limit_work_capacity(uint64_t{3} << 20);  // 32768-leaf subtrees, then the top two rows
  Bytes rows2(rows.size(), 0);
  staged.tree_build(8, in.data(), kLeaves, rows2.data(), no_job);
  EXPECT_EQ(rows2, want) << "the tree built as staged subtrees";
}

}  // namespace
}  // namespace sealhost::compute_vulkan
