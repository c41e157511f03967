#include <gtest/gtest.h>

#include "proofs/pc2/pc2.hpp"
#include "tests/proofs/pc2/pc2_test_util.hpp"

namespace sealhost::proofs::pc2 {
namespace {

namespace fs = std::filesystem;
using testing::hex;
using testing::read_file;

// 8 MiB: one base tree of 2^18 leaves (7 rows). Spec §12: tree-c 9,586,976 B (full store),
// tree-r-last 18,720 B (rows 3..6 = 512 + 64 + 8 + 1 nodes with rows_to_discard 2).
TEST(Pc2Heavy, EightMiBMatchesReferenceAndSpecLayout) {
  testing::TempDir tmp;
  const auto cache = tmp.path() / "cache";
  fs::create_directories(cache);
  const uint64_t size = 8 << 20;
  const auto sector = testing::make_sector(cache, tmp.path() / "unsealed", size, 2, 42);
  CpuPoseidonEngine engine(2);
  Pc2Options opt;
  opt.engine = &engine;
  opt.chunk_leaves = 4096;  // many chunks: exercises the chunked store writes
  const auto out = run_pc2(
      {size, 2, cache, tmp.path() / "unsealed", tmp.path() / "sealed", std::nullopt, std::nullopt},
      opt);
  const auto ref = testing::reference_pc2(sector);
  EXPECT_EQ(hex(out.comm_c), hex(ref.comm_c));
  EXPECT_EQ(hex(out.comm_r_last), hex(ref.comm_r_last));
  EXPECT_EQ(hex(out.comm_r), hex(ref.comm_r));
  ASSERT_EQ(fs::file_size(cache / "sc-02-data-tree-c.dat"), 9586976U);
  ASSERT_EQ(fs::file_size(cache / "sc-02-data-tree-r-last.dat"), 18720U);
  EXPECT_EQ(read_file(tmp.path() / "sealed"), ref.replica);

  // tree-r-last holds rows 3.. of the replica tree: row 3 = hash of row 2 = ... rebuilt here.
  std::vector<uint8_t> row = ref.replica;
  for (int r = 1; r <= 3; ++r) {
    std::vector<uint8_t> next(row.size() / 8);
    merkle::hash_row(merkle::NodeHash::kPoseidon, 8, row.data(), next.data(), next.size() / 32, 2);
    row.swap(next);
  }
  const auto stored = read_file(cache / "sc-02-data-tree-r-last.dat");
  ASSERT_EQ(row.size(), 512U * 32);
  EXPECT_TRUE(std::equal(row.begin(), row.end(), stored.begin()));
  EXPECT_EQ(hex(&stored[stored.size() - 32], 32), hex(out.comm_r_last));

  // tree-c leaves are the column hashes; its root is comm_c.
  const auto c = read_file(cache / "sc-02-data-tree-c.dat");
  EXPECT_TRUE(std::equal(ref.columns.begin(), ref.columns.end(), c.begin()));
  EXPECT_EQ(hex(&c[c.size() - 32], 32), hex(out.comm_c));
  const auto t = read_t_aux(cache);
  EXPECT_EQ(t.tree_r_last.rows_to_discard, 2U);
  EXPECT_EQ(t.tree_r_last.size, 299593U);
}

}  // namespace
}  // namespace sealhost::proofs::pc2
