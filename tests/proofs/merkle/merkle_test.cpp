#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "proofs/merkle/merkle.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::merkle {
namespace {

namespace fs = std::filesystem;
using field::Fr;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("sealhost_merkle_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<uint8_t> random_leaves(uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> out(n * 32);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  for (uint64_t i = 0; i < n; ++i) out[i * 32 + 31] &= 0x3f;  // canonical
  return out;
}

Node node_at(const std::vector<uint8_t>& v, uint64_t i) {
  Node n{};
  std::memcpy(n.data(), &v[i * 32], 32);
  return n;
}

// Independent reference: whole tree in memory, row by row, straight from the hash primitives.
std::vector<std::vector<Node>> reference_rows(NodeHash hash, size_t arity,
                                              const std::vector<uint8_t>& leaves, uint64_t first,
                                              uint64_t count) {
  std::vector<std::vector<Node>> rows(1);
  for (uint64_t i = 0; i < count; ++i) rows[0].push_back(node_at(leaves, first + i));
  while (rows.back().size() > 1) {
    const auto& prev = rows.back();
    std::vector<Node> next;
    for (size_t i = 0; i < prev.size(); i += arity) {
      Node out{};
      if (hash == NodeHash::kSha254) {
        sha256::sha254_node(prev[i].data(), prev[i + 1].data(), out.data());
      } else {
        std::vector<Fr> in;
        for (size_t k = 0; k < arity; ++k) in.push_back(*Fr::from_bytes(prev[i + k].data()));
        out = poseidon::hash(in).to_bytes();
      }
      next.push_back(out);
    }
    rows.push_back(std::move(next));
  }
  return rows;
}

std::vector<uint8_t> flatten(const std::vector<std::vector<Node>>& rows, size_t from_row) {
  std::vector<uint8_t> out;
  for (size_t r = from_row; r < rows.size(); ++r) {
    for (const auto& n : rows[r]) out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

Node poseidon_node(const std::vector<Node>& children) {
  std::vector<Fr> in;
  for (const auto& c : children) in.push_back(*Fr::from_bytes(c.data()));
  return poseidon::hash(in).to_bytes();
}

Node reference_compound_root(const TreeShape& shape, const std::vector<uint8_t>& leaves) {
  std::vector<Node> roots;
  for (size_t i = 0; i < shape.base_tree_count(); ++i) {
    roots.push_back(
        reference_rows(NodeHash::kPoseidon, 8, leaves, i * shape.base_leaves, shape.base_leaves)
            .back()[0]);
  }
  if (shape.sub_arity == 0) return roots[0];
  std::vector<Node> subs;
  for (size_t g = 0; g < roots.size(); g += shape.sub_arity) {
    subs.push_back(
        poseidon_node(std::vector<Node>(roots.begin() + g, roots.begin() + g + shape.sub_arity)));
  }
  return shape.top_arity == 0 ? subs[0] : poseidon_node(subs);
}

TEST(MerkleGeometry, LengthsMatchSpecFileSizes) {
  EXPECT_EQ(tree_len(64, 8) * 32, 2336u) << "2KiB tree-c";
  EXPECT_EQ(tree_len(64, 2) * 32, 4064u) << "2KiB tree-d";
  EXPECT_EQ(level_cache_len(64, 8, 1) * 32, 32u) << "2KiB tree-r-last";
  EXPECT_EQ(tree_len(1 << 18, 8) * 32, 9586976u) << "8MiB tree-c";
  EXPECT_EQ(level_cache_len(1 << 18, 8, 2) * 32, 18720u) << "8MiB tree-r-last";
  EXPECT_EQ(tree_len(1 << 24, 8) * 32, 613566752u) << "512MiB tree-c";
  EXPECT_EQ(level_cache_len(1 << 24, 8, 2) * 32, 1198368u) << "512MiB tree-r-last";
  EXPECT_EQ(tree_len(size_t{1} << 27, 8) * 32, 4908534048u) << "32GiB tree-c per file";
  EXPECT_EQ(level_cache_len(size_t{1} << 27, 8, 2) * 32, 9586976u) << "32GiB tree-r-last per file";
  EXPECT_EQ(default_rows_to_discard(64, 8), 1u);
  EXPECT_EQ(default_rows_to_discard(1 << 18, 8), 2u);
  EXPECT_EQ(default_rows_to_discard(8, 8), 0u);
  EXPECT_EQ(row_count(size_t{1} << 27, 8), 10u);
  EXPECT_THROW(check_geometry(48, 8), MerkleError);
  EXPECT_THROW(check_geometry(4, 8), MerkleError);
  EXPECT_THROW(check_geometry(64, 4), MerkleError);
  EXPECT_THROW(level_cache_len(64, 8, 2), MerkleError) << "would discard the root";
}

TEST(MerkleGeometry, ShapesAndFileNames) {
  EXPECT_EQ(store_file_name(TreeId::kTreeD), "sc-02-data-tree-d.dat");
  EXPECT_EQ(store_file_name(TreeId::kTreeC, 3), "sc-02-data-tree-c-3.dat");
  EXPECT_EQ(store_file_name(TreeId::kTreeRLast, 15), "sc-02-data-tree-r-last-15.dat");
  const auto s32 = TreeShape::for_sector(32ULL << 30);
  EXPECT_EQ(s32.base_tree_count(), 8u);
  EXPECT_EQ(s32.base_leaves, 1u << 27);
  const auto s64 = TreeShape::for_sector(64ULL << 30);
  EXPECT_EQ(s64.base_tree_count(), 16u);
  EXPECT_EQ(s64.top_arity, 2u);
  EXPECT_EQ(s64.total_leaves(), 1ULL << 31);
  EXPECT_THROW(TreeShape::for_sector(3000), MerkleError);
  EXPECT_THROW((TreeShape{8, 4, 0, 64}.validate()), MerkleError);
  EXPECT_THROW((TreeShape{8, 0, 2, 64}.validate()), MerkleError);
}

struct ShapeCase {
  const char* name;
  TreeShape shape;
  size_t rows_to_discard;
};

class CompoundShapes : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(CompoundShapes, BuildStoresProveAndVerify) {
  const ShapeCase& sc = GetParam();
  const TreeShape& shape = sc.shape;
  TempDir dir;
  const auto leaves = random_leaves(shape.total_leaves(), shape.total_leaves() + shape.sub_arity);
  const auto reader = memory_leaf_reader(leaves.data(), shape.total_leaves());
  BuildOptions opts;
  opts.chunk_leaves = 64;  // several chunks per base tree where possible
  opts.threads = 2;
  const Node expect_root = reference_compound_root(shape, leaves);
  const Node root_c = build_tree(dir.path(), TreeId::kTreeC, shape, reader, {}, opts);
  EXPECT_EQ(root_c, expect_root) << "full store root";
  const Node root_r =
      build_tree(dir.path(), TreeId::kTreeRLast, shape, reader, {sc.rows_to_discard}, opts);
  EXPECT_EQ(root_r, expect_root) << "level cache build gives the same root";

  // Byte layout of every base file: full = all rows leaves first; cache = rows above discarded.
  const size_t count = shape.base_tree_count();
  for (size_t i = 0; i < count; ++i) {
    const auto idx = count > 1 ? std::optional<size_t>(i) : std::nullopt;
    const auto rows =
        reference_rows(NodeHash::kPoseidon, 8, leaves, i * shape.base_leaves, shape.base_leaves);
    EXPECT_EQ(read_file(dir.path() / store_file_name(TreeId::kTreeC, idx)), flatten(rows, 0))
        << "tree-c file " << i;
    EXPECT_EQ(read_file(dir.path() / store_file_name(TreeId::kTreeRLast, idx)),
              flatten(rows, sc.rows_to_discard + 1))
        << "tree-r-last file " << i;
  }

  const auto full = CompoundTreeReader::open(dir.path(), TreeId::kTreeC, shape, {});
  const auto cached =
      CompoundTreeReader::open(dir.path(), TreeId::kTreeRLast, shape, {sc.rows_to_discard}, reader);
  EXPECT_EQ(full.root(), expect_root);
  EXPECT_EQ(cached.root(), expect_root);
  std::mt19937_64 rng(9);
  for (int k = 0; k < 12; ++k) {
    const uint64_t v =
        k == 0 ? 0 : (k == 1 ? shape.total_leaves() - 1 : rng() % shape.total_leaves());
    const InclusionProof p_full = full.prove(v);
    const InclusionProof p_cache = cached.prove(v);
    EXPECT_EQ(p_full.leaf, node_at(leaves, v));
    EXPECT_EQ(p_full.path_index(), v);
    EXPECT_TRUE(verify(p_full, NodeHash::kPoseidon, expect_root, v)) << "leaf " << v;
    EXPECT_EQ(p_cache.leaf, p_full.leaf);
    EXPECT_EQ(p_cache.root, p_full.root);
    ASSERT_EQ(p_cache.path.size(), p_full.path.size());
    for (size_t l = 0; l < p_full.path.size(); ++l) {
      EXPECT_EQ(p_cache.path[l].siblings, p_full.path[l].siblings) << "level " << l;
      EXPECT_EQ(p_cache.path[l].position, p_full.path[l].position) << "level " << l;
    }
    InclusionProof bad = p_full;
    bad.path[0].siblings[0][0] ^= 1;
    EXPECT_FALSE(verify(bad, NodeHash::kPoseidon)) << "tampered sibling must fail";
    EXPECT_FALSE(verify(p_full, NodeHash::kPoseidon, expect_root, v ^ 1)) << "wrong index";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CompoundShapes,
                         ::testing::Values(ShapeCase{"2KiB", TreeShape::for_sector(2048), 1},
                                           ShapeCase{"4KiB", TreeShape::for_sector(4096), 1},
                                           ShapeCase{"16KiB", TreeShape::for_sector(16384), 1},
                                           ShapeCase{"32KiB", TreeShape::for_sector(32768), 1},
                                           ShapeCase{"base512_rtd2", TreeShape{8, 0, 0, 512}, 2},
                                           ShapeCase{"base4096_sub2_rtd2", TreeShape{8, 2, 0, 4096},
                                                     2},
                                           ShapeCase{"base512_rtd0", TreeShape{8, 0, 0, 512}, 0}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(TreeD, BinarySha254MatchesReferenceAndProves) {
  TempDir dir;
  const uint64_t n = 1024;
  const auto leaves = random_leaves(n, 5);
  const auto reader = memory_leaf_reader(leaves.data(), n);
  BuildOptions opts;
  opts.chunk_leaves = 128;
  const TreeShape shape{2, 0, 0, n};
  const Node root = build_tree(dir.path(), TreeId::kTreeD, shape, reader, {}, opts);
  const auto rows = reference_rows(NodeHash::kSha254, 2, leaves, 0, n);
  EXPECT_EQ(root, rows.back()[0]);
  EXPECT_EQ(read_file(dir.path() / "sc-02-data-tree-d.dat"), flatten(rows, 0));
  const auto tree = CompoundTreeReader::open(dir.path(), TreeId::kTreeD, shape, {});
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{517}, n - 1}) {
    const auto p = tree.prove(v);
    EXPECT_EQ(p.path.size(), 10u);
    EXPECT_TRUE(verify(p, NodeHash::kSha254, root, v)) << "leaf " << v;
    EXPECT_FALSE(verify(p, NodeHash::kPoseidon)) << "wrong hash must not verify";
  }
}

TEST(TreeD, EmptySectorCommDVectors) {
  std::ifstream f(std::string(SEALHOST_TEST_VECTORS) + "/poseidon.json");
  ASSERT_TRUE(f.good()) << "tests/vectors/poseidon.json missing";
  const auto json = nlohmann::json::parse(f);
  int checked = 0;
  for (const auto& v : json["merkle_vectors"]) {
    const uint64_t sector = v["input"]["sector_size"];
    const std::vector<uint8_t> zeros(sector, 0);
    TempDir dir;
    const Node root = build_tree(dir.path(), TreeId::kTreeD, TreeShape::tree_d(sector),
                                 memory_leaf_reader(zeros.data(), sector / 32), {});
    std::string hex;
    for (uint8_t b : root) {
      static constexpr char kD[] = "0123456789abcdef";
      hex += kD[b >> 4];
      hex += kD[b & 15];
    }
    EXPECT_EQ(hex, v["expected"]["comm_d_hex"]) << v["id"];
    EXPECT_EQ(fs::file_size(dir.path() / "sc-02-data-tree-d.dat"), (2 * sector / 32 - 1) * 32);
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(TreeStoreErrors, TruncatedOrWrongSizedStoresAreRejected) {
  TempDir dir;
  const TreeShape shape{8, 0, 0, 512};
  const auto leaves = random_leaves(512, 3);
  const auto reader = memory_leaf_reader(leaves.data(), 512);
  build_tree(dir.path(), TreeId::kTreeC, shape, reader, {});
  build_tree(dir.path(), TreeId::kTreeRLast, shape, reader, {2});
  const auto c_path = dir.path() / store_file_name(TreeId::kTreeC);
  const auto r_path = dir.path() / store_file_name(TreeId::kTreeRLast);

  EXPECT_THROW(CompoundTreeReader::open(dir.path(), TreeId::kTreeRLast, shape, {1}, reader),
               MerkleError)
      << "a level cache opened with another rows_to_discard has the wrong size";
  EXPECT_THROW(CompoundTreeReader::open(dir.path(), TreeId::kTreeRLast, shape, {2}), MerkleError)
      << "level cache without leaves";
  EXPECT_THROW(CompoundTreeReader::open(dir.path(), TreeId::kTreeC, TreeShape{8, 0, 0, 4096}, {}),
               MerkleError)
      << "full store opened for another size";

  fs::resize_file(c_path, fs::file_size(c_path) - 32);
  try {
    CompoundTreeReader::open(dir.path(), TreeId::kTreeC, shape, {});
    FAIL() << "truncated full store must be rejected";
  } catch (const MerkleError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  fs::resize_file(r_path, fs::file_size(r_path) + 1);
  EXPECT_THROW(CompoundTreeReader::open(dir.path(), TreeId::kTreeRLast, shape, {2}, reader),
               MerkleError);
  fs::remove(r_path);
  EXPECT_THROW(CompoundTreeReader::open(dir.path(), TreeId::kTreeRLast, shape, {2}, reader),
               MerkleError)
      << "missing file";
  EXPECT_THROW(CompoundTreeReader::open(dir.path(), TreeId::kTreeC, TreeShape{8, 2, 0, 512}, {}),
               MerkleError)
      << "compound files -0/-1 do not exist";
}

TEST(TreeStoreErrors, ReplicaFileTooShort) {
  TempDir dir;
  const auto leaves = random_leaves(512, 4);
  const auto replica = dir.path() / "sealed";
  {
    std::ofstream f(replica, std::ios::binary);
    f.write(reinterpret_cast<const char*>(leaves.data()),
            static_cast<std::streamsize>(leaves.size()));
  }
  const TreeShape shape{8, 0, 0, 512};
  const Node root =
      build_tree(dir.path(), TreeId::kTreeRLast, shape, file_leaf_reader(replica, 0, 512), {2});
  const auto tree = CompoundTreeReader::open(dir.path(), TreeId::kTreeRLast, shape, {2},
                                             file_leaf_reader(replica, 0, 512));
  EXPECT_TRUE(verify(tree.prove(300), NodeHash::kPoseidon, root, 300));
  EXPECT_THROW(file_leaf_reader(replica, 32, 512), MerkleError) << "offset pushes past the end";
  fs::resize_file(replica, 511 * 32);
  EXPECT_THROW(file_leaf_reader(replica, 0, 512), MerkleError);
}

TEST(TreeStoreErrors, NonCanonicalPoseidonLeafRejected) {
  TempDir dir;
  auto leaves = random_leaves(64, 6);
  leaves[5 * 32 + 31] = 0xff;
  EXPECT_THROW(build_tree(dir.path(), TreeId::kTreeC, TreeShape{8, 0, 0, 64},
                          memory_leaf_reader(leaves.data(), 64), {}),
               MerkleError);
}

TEST(TreeBuild, ChunkingAndThreadsDoNotChangeTheFile) {
  TempDir dir;
  const uint64_t n = 4096;
  const auto leaves = random_leaves(n, 8);
  const auto reader = memory_leaf_reader(leaves.data(), n);
  BuildOptions a;
  a.chunk_leaves = 8;
  BuildOptions b;
  b.chunk_leaves = 1 << 20;
  b.threads = 2;
  const Node ra = build_tree_file(dir.path() / "a", NodeHash::kPoseidon, 8, n, reader, 0, {}, a);
  const Node rb = build_tree_file(dir.path() / "b", NodeHash::kPoseidon, 8, n, reader, 0, {}, b);
  EXPECT_EQ(ra, rb);
  EXPECT_EQ(read_file(dir.path() / "a"), read_file(dir.path() / "b"));
}

}  // namespace
}  // namespace sealhost::proofs::merkle
