#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "proofs/pc2/aux_files.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/pc2/poseidon_engine.hpp"
#include "tests/proofs/pc2/pc2_test_util.hpp"

namespace sealhost::proofs::pc2 {
namespace {

namespace fs = std::filesystem;
using testing::hex;
using testing::list_dir;
using testing::make_sector;
using testing::node_from_hex;
using testing::read_file;
using testing::reference_pc2;
using testing::TempDir;
using testing::write_file;

nlohmann::json vector(const std::string& id) {
  std::ifstream in(std::string(SEALHOST_TEST_VECTORS) + "/e2e.json");
  const auto doc = nlohmann::json::parse(in);
  for (const auto& v : doc.at("vectors")) {
    if (v.at("id") == id) return v;
  }
  ADD_FAILURE() << "vector " << id << " missing from tests/vectors/e2e.json";
  return {};
}

// A sector laid out on disk the way PC1 leaves it.
struct Fixture {
  TempDir tmp;
  fs::path cache = tmp.path() / "cache";
  fs::path unsealed = tmp.path() / "unsealed";
  fs::path sealed = tmp.path() / "sealed";
  testing::SyntheticSector sector;

  Fixture(uint64_t sector_bytes, uint64_t seed) {
    fs::create_directories(cache);
    sector = make_sector(cache, unsealed, sector_bytes, 2, seed);
  }
  Pc2Input input() const {
    Pc2Input in;
    in.sector_bytes = sector.sector_bytes;
    in.cache_dir = cache;
    in.unsealed_path = unsealed;
    in.sealed_path = sealed;
    return in;
  }
};

// ---- engine ----

TEST(Pc2Engine, CpuBatchMatchesPoseidonOnEveryThreadCount) {
  for (size_t arity : {2, 8, 11}) {
    const size_t n = 1000;
    const auto in = testing::random_nodes(n * arity, arity);
    std::vector<uint8_t> want(n * 32);
    poseidon::hash_batch_bytes(arity, in.data(), want.data(), n);
    for (unsigned threads : {1U, 2U, 3U}) {
      CpuPoseidonEngine engine(threads);
      std::vector<uint8_t> got(n * 32);
      engine.hash_batch(arity, PoseidonTag::kMerkleTree, in.data(), got.data(), n);
      EXPECT_EQ(got, want) << "arity " << arity << " threads " << threads;
    }
  }
}

TEST(Pc2Engine, ConstantLengthTagMatchesPoseidon) {
  const auto in = testing::random_nodes(4 * 3, 7);
  CpuPoseidonEngine engine(2);
  std::vector<uint8_t> got(3 * 32);
  engine.hash_batch(4, PoseidonTag::kConstantLength, in.data(), got.data(), 3);
  for (size_t i = 0; i < 3; ++i) {
    std::vector<field::Fr> xs;
    for (size_t j = 0; j < 4; ++j) xs.push_back(*field::Fr::from_bytes(&in[(i * 4 + j) * 32]));
    EXPECT_EQ(hex(&got[i * 32], 32), hex(poseidon::hash_constant_length(4, xs).to_bytes()));
  }
}

TEST(Pc2Engine, TreeRowsMatchReferenceRoot) {
  const auto leaves = testing::random_nodes(512, 3);
  CpuPoseidonEngine engine(2);
  std::vector<uint8_t> rows(tree_rows_nodes(512, 8) * 32);
  ASSERT_EQ(rows.size(), (64 + 8 + 1) * 32U);
  engine.tree_rows(8, leaves.data(), 512, rows.data());
  EXPECT_EQ(hex(&rows[rows.size() - 32], 32), hex(testing::reference_root(leaves, 0, 512)));
  std::vector<uint8_t> row1(64 * 32);
  merkle::hash_row(merkle::NodeHash::kPoseidon, 8, leaves.data(), row1.data(), 64);
  EXPECT_TRUE(std::equal(row1.begin(), row1.end(), rows.begin()));
}

TEST(Pc2Engine, RejectsBadArityGeometryAndInput) {
  CpuPoseidonEngine engine;
  std::vector<uint8_t> buf(64 * 32), out(64 * 32);
  EXPECT_THROW(engine.hash_batch(3, PoseidonTag::kMerkleTree, buf.data(), out.data(), 1),
               std::invalid_argument);
  EXPECT_THROW(engine.tree_rows(8, buf.data(), 63, out.data()), std::invalid_argument);
  EXPECT_THROW(engine.tree_rows(8, buf.data(), 1, out.data()), std::invalid_argument);
  std::fill(buf.begin(), buf.end(), 0xff);
  EXPECT_THROW(engine.hash_batch(2, PoseidonTag::kMerkleTree, buf.data(), out.data(), 1),
               std::invalid_argument);
}

TEST(Pc2Engine, AWorkerThreadFailureReachesTheCaller) {
  const size_t n = 4096;
  auto in = testing::random_nodes(n * 2, 11);
  std::fill(in.begin() + 3000 * 64, in.begin() + 3000 * 64 + 32, 0xff);  // hash 3000, input 0
  std::vector<uint8_t> out(n * 32);
  CpuPoseidonEngine engine(2);
  EXPECT_THROW(engine.hash_batch(2, PoseidonTag::kMerkleTree, in.data(), out.data(), n),
               std::invalid_argument);
}

// ---- encoding ----

TEST(Pc2Encode, CurioVectorEncodesAndDecodes) {
  const auto v = vector("sdr.encode.curio2k");
  const auto unsealed = testing::base64_decode(v.at("input").at("unsealed_b64"));
  const auto key = testing::base64_decode(v.at("input").at("key_b64"));
  const auto sealed = testing::base64_decode(v.at("expected").at("sealed_b64"));
  ASSERT_EQ(unsealed.size(), 2048U);
  ASSERT_EQ(key.size(), 2048U);
  ASSERT_EQ(sealed.size(), 2048U);
  EXPECT_EQ(hex(unsealed.data(), 32), v.at("input").at("unsealed_node0_hex"));
  std::vector<uint8_t> out(2048);
  encode_nodes(unsealed.data(), key.data(), out.data(), 64);
  EXPECT_EQ(out, sealed);
  EXPECT_EQ(hex(out.data(), 32), v.at("expected").at("sealed_node0_hex"));
  std::vector<uint8_t> back(2048);
  decode_nodes(sealed.data(), key.data(), back.data(), 64);
  EXPECT_EQ(back, unsealed);
  // In place, as the stage does it.
  auto inplace = unsealed;
  encode_nodes(inplace.data(), key.data(), inplace.data(), 64);
  EXPECT_EQ(inplace, sealed);
}

TEST(Pc2Encode, CurioVectorThroughRunPc2GivesTheSealedFileAndCommRLast) {
  const auto v = vector("sdr.encode.curio2k");
  TempDir tmp;
  const auto cache = tmp.path() / "cache";
  fs::create_directories(cache);
  write_file(tmp.path() / "unsealed", testing::base64_decode(v.at("input").at("unsealed_b64")));
  // Only the last layer is the key; layer 1 is arbitrary (it only feeds comm_c).
  write_file(cache / testing::layer_name(1), testing::random_nodes(64, 1));
  write_file(cache / testing::layer_name(2), testing::base64_decode(v.at("input").at("key_b64")));
  CpuPoseidonEngine engine(2);
  Pc2Input in{2048,         2,           cache, tmp.path() / "unsealed", tmp.path() / "sealed",
              std::nullopt, std::nullopt};
  Pc2Options opt;
  opt.engine = &engine;
  const auto out = run_pc2(in, opt);
  EXPECT_EQ(read_file(tmp.path() / "sealed"),
            testing::base64_decode(v.at("expected").at("sealed_b64")));
  EXPECT_EQ(hex(out.comm_r_last), v.at("expected").at("derived_comm_r_last_hex"));
}

TEST(Pc2Encode, RejectsNonCanonicalNodesNamingTheIndex) {
  auto data = testing::random_nodes(4, 1);
  const auto key = testing::random_nodes(4, 2);
  std::fill(data.begin() + 64, data.begin() + 96, 0xff);  // node 2
  std::vector<uint8_t> out(128);
  try {
    encode_nodes(data.data(), key.data(), out.data(), 4, 100);
    FAIL() << "non-canonical data accepted";
  } catch (const Pc2Error& e) {
    EXPECT_NE(std::string(e.what()).find("node 102"), std::string::npos) << e.what();
  }
}

// ---- commitments against the e2e vectors ----

TEST(Pc2Vectors, CommRIsPoseidon2OfCommCAndCommRLast) {
  for (const char* id : {"e2e.2k.zero.StackedDrg2KiBV1_1",
                         "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep", "e2e.shape.4k"}) {
    const auto e = vector(id).at("expected");
    EXPECT_EQ(
        hex(comm_r(node_from_hex(e.at("comm_c_hex")), node_from_hex(e.at("comm_r_last_hex")))),
        e.at("comm_r_hex"))
        << id;
  }
}

TEST(Pc2Vectors, ColumnHashOfNodeZeroMatches) {
  for (const char* id :
       {"e2e.2k.zero.StackedDrg2KiBV1_1", "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep"}) {
    const auto e = vector(id).at("expected");
    auto column =
        testing::unhex(e.at("L1_n0").get<std::string>() + e.at("L2_n0").get<std::string>());
    CpuPoseidonEngine engine;
    std::vector<uint8_t> out(32);
    engine.hash_batch(2, PoseidonTag::kMerkleTree, column.data(), out.data(), 1);
    EXPECT_EQ(hex(out), e.at("column_hash_n0")) << id;
    // Zero data: the replica is the key (last layer).
    EXPECT_EQ(e.at("replica_n0"), e.at("L2_n0")) << id;
  }
}

// ---- whole runs against the in-memory reference ----

TEST(Pc2Run, MatchesReferenceForEveryTestShapeChunkAndThreadCount) {
  // 2KiB: 8-0-0; 4KiB: 8-2-0; 16KiB: 8-8-0; 32KiB: 8-8-2 (base trees of 64 leaves).
  for (uint64_t size : {2048ULL, 4096ULL, 16384ULL, 32768ULL}) {
    Fixture f(size, size);
    const auto ref = reference_pc2(f.sector);
    for (size_t chunk : {size_t{8}, size_t{64}, size_t{1} << 18}) {
      for (unsigned threads : {1U, 2U}) {
        CpuPoseidonEngine engine(threads);
        Pc2Options opt;
        opt.engine = &engine;
        opt.chunk_leaves = chunk;
        const auto out = run_pc2(f.input(), opt);
        ASSERT_EQ(hex(out.comm_c), hex(ref.comm_c)) << size << " chunk " << chunk;
        ASSERT_EQ(hex(out.comm_r_last), hex(ref.comm_r_last)) << size << " chunk " << chunk;
        ASSERT_EQ(hex(out.comm_r), hex(ref.comm_r)) << size << " chunk " << chunk;
        ASSERT_EQ(read_file(f.sealed), ref.replica) << size;
      }
    }
  }
}

// The builtin CPU engine takes the task-parallel path (subtrees hashed on the thread that reads
// them); any other engine gets large batches through the PoseidonEngine interface. A real CPU
// engine behind that interface must give byte-identical files either way.
class InterfaceOnlyEngine final : public PoseidonEngine {
 public:
  explicit InterfaceOnlyEngine(unsigned threads) : inner_(threads) {}
  void hash_batch(size_t arity, PoseidonTag tag, const uint8_t* in, uint8_t* out,
                  size_t n) override {
    inner_.hash_batch(arity, tag, in, out, n);
  }
  void tree_rows(size_t arity, const uint8_t* leaves, size_t n, uint8_t* rows_out) override {
    inner_.tree_rows(arity, leaves, n, rows_out);
  }
  std::string name() const override { return "interface-only"; }

 private:
  CpuPoseidonEngine inner_;
};

std::map<std::string, std::vector<uint8_t>> output_files(const fs::path& cache,
                                                         const fs::path& sealed) {
  std::map<std::string, std::vector<uint8_t>> files;
  for (const auto& name : list_dir(cache)) files[name] = read_file(cache / name);
  files["sealed"] = read_file(sealed);
  return files;
}

TEST(Pc2Run, TaskParallelCpuPathWritesTheSameFilesAsTheEngineInterfacePath) {
  for (size_t layers : {size_t{2}, size_t{11}}) {
    for (uint64_t size : {2048ULL, 32768ULL}) {
      TempDir tmp;
      const fs::path cache = tmp.path() / "cache";
      fs::create_directories(cache);
      const auto sector = make_sector(cache, tmp.path() / "unsealed", size, layers, size + layers);
      Pc2Input in;
      in.sector_bytes = size;
      in.layers = layers;
      in.cache_dir = cache;
      in.unsealed_path = tmp.path() / "unsealed";
      in.sealed_path = tmp.path() / "sealed";
      InterfaceOnlyEngine generic(2);
      Pc2Options opt;
      opt.engine = &generic;
      opt.chunk_leaves = 64;
      const auto want = run_pc2(in, opt);
      const auto want_files = output_files(cache, in.sealed_path);
      ASSERT_GT(want_files.size(), layers + 3);
      for (size_t chunk : {size_t{8}, size_t{64}}) {
        for (unsigned threads : {1U, 2U}) {
          CpuPoseidonEngine cpu(threads);
          opt.engine = &cpu;
          opt.chunk_leaves = chunk;
          const auto got = run_pc2(in, opt);
          EXPECT_EQ(hex(got.comm_r), hex(want.comm_r)) << size << " layers " << layers;
          const auto got_files = output_files(cache, in.sealed_path);
          ASSERT_EQ(got_files.size(), want_files.size());
          for (const auto& [name, bytes] : want_files) {
            EXPECT_TRUE(got_files.at(name) == bytes)
                << name << " differs: " << size << " B, " << layers << " layers, chunk " << chunk
                << ", " << threads << " threads";
          }
        }
      }
    }
  }
}

TEST(Pc2Run, StoreFilesHaveTheSpecLayout) {
  // 16KiB = 8 base trees of 64 leaves (8-8-0): tree-c-<i> full stores of 73 nodes (2336 B as
  // the 2KiB single tree, spec §12), tree-r-last-<i> keep only the root (rows_to_discard 1).
  Fixture f(16384, 5);
  CpuPoseidonEngine engine(2);
  Pc2Options opt;
  opt.engine = &engine;
  const auto out = run_pc2(f.input(), opt);
  const auto ref = reference_pc2(f.sector);
  ASSERT_EQ(out.tree_c_paths.size(), 8U);
  ASSERT_EQ(out.tree_r_last_paths.size(), 8U);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(out.tree_c_paths[i].filename(), "sc-02-data-tree-c-" + std::to_string(i) + ".dat");
    EXPECT_EQ(out.tree_r_last_paths[i].filename(),
              "sc-02-data-tree-r-last-" + std::to_string(i) + ".dat");
    const auto c = read_file(out.tree_c_paths[i]);
    ASSERT_EQ(c.size(), 2336U);
    // Leaves = the column hashes of this base tree, then row 1, then the root.
    EXPECT_TRUE(std::equal(c.begin(), c.begin() + 64 * 32, ref.columns.begin() + i * 64 * 32));
    std::vector<uint8_t> row1(8 * 32);
    merkle::hash_row(merkle::NodeHash::kPoseidon, 8, c.data(), row1.data(), 8);
    EXPECT_TRUE(std::equal(row1.begin(), row1.end(), c.begin() + 64 * 32));
    EXPECT_EQ(hex(&c[72 * 32], 32), hex(testing::reference_root(ref.columns, i * 64, 64)));
    const auto r = read_file(out.tree_r_last_paths[i]);
    ASSERT_EQ(r.size(), 32U);
    EXPECT_EQ(hex(r), hex(testing::reference_root(ref.replica, i * 64, 64)));
  }
  // The stores open with proofs/merkle's readers and prove leaves against the roots.
  const auto tree_c = merkle::CompoundTreeReader::open(
      f.cache, merkle::TreeId::kTreeC, merkle::TreeShape::for_sector(16384), {std::nullopt});
  EXPECT_EQ(hex(tree_c.root()), hex(out.comm_c));
  const auto tree_r = merkle::CompoundTreeReader::open(f.cache, merkle::TreeId::kTreeRLast,
                                                       merkle::TreeShape::for_sector(16384), {1},
                                                       merkle::file_leaf_reader(f.sealed, 0, 512));
  EXPECT_EQ(hex(tree_r.root()), hex(out.comm_r_last));
  EXPECT_TRUE(merkle::verify(tree_r.prove(300), merkle::NodeHash::kPoseidon, out.comm_r_last, 300));
  // p_aux and t_aux.
  const auto p = read_p_aux(f.cache);
  EXPECT_EQ(p.comm_c, out.comm_c);
  EXPECT_EQ(p.comm_r_last, out.comm_r_last);
  EXPECT_EQ(read_t_aux(f.cache), default_t_aux(f.cache, 16384, 2));
  // Nothing temporary left.
  for (const auto& name : list_dir(f.cache)) EXPECT_EQ(name.find("tmp"), std::string::npos) << name;
}

TEST(Pc2Run, ReportsProgressAndHonoursCancel) {
  Fixture f(4096, 9);
  CpuPoseidonEngine engine;
  Pc2Options opt;
  opt.engine = &engine;
  opt.chunk_leaves = 8;
  std::vector<uint64_t> seen;
  opt.progress = [&](const Pc2Progress& p) {
    EXPECT_EQ(p.total, 2 * 128U);
    seen.push_back(p.done);
  };
  run_pc2(f.input(), opt);
  ASSERT_EQ(seen.size(), 2 * 128U / 8);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(seen.back(), 256U);

  // Cancel in the middle of tree_r_last: nothing new appears, old outputs stay as they were.
  const auto before = list_dir(f.cache);
  const auto sealed_before = read_file(f.sealed);
  write_file(f.sealed, {1, 2, 3});
  int calls = 0;
  opt.progress = nullptr;
  opt.cancelled = [&] { return ++calls > 20; };
  EXPECT_THROW(run_pc2(f.input(), opt), Pc2Cancelled);
  EXPECT_EQ(list_dir(f.cache), before);
  EXPECT_EQ(read_file(f.sealed), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(list_dir(f.tmp.path()), (std::vector<std::string>{"cache", "sealed", "unsealed"}));
}

TEST(Pc2Run, AProgressCallbackThatThrowsAbortsWithoutOutputs) {
  Fixture f(2048, 10);
  CpuPoseidonEngine engine;
  Pc2Options opt;
  opt.engine = &engine;
  opt.chunk_leaves = 8;
  opt.progress = [](const Pc2Progress& p) {
    if (p.done > 40) throw std::runtime_error("host went away");
  };
  try {
    run_pc2(f.input(), opt);
    FAIL() << "a throwing progress callback did not abort";
  } catch (const Pc2Cancelled& e) {
    EXPECT_NE(std::string(e.what()).find("host went away"), std::string::npos) << e.what();
  }
  EXPECT_EQ(list_dir(f.cache),
            (std::vector<std::string>{testing::layer_name(1), testing::layer_name(2)}));
  EXPECT_FALSE(fs::exists(f.sealed));
}

// ---- bad input ----

// Runs PC2 expecting a Pc2Error containing `needle`, and checks nothing was created.
void expect_rejected(const Fixture& f, const Pc2Input& in, const std::string& needle,
                     Pc2ErrorKind kind = Pc2ErrorKind::kInvalidInput) {
  const auto cache_before = list_dir(f.cache);
  const auto top_before = list_dir(f.tmp.path());
  CpuPoseidonEngine engine;
  Pc2Options opt;
  opt.engine = &engine;
  opt.chunk_leaves = 8;
  try {
    run_pc2(in, opt);
    ADD_FAILURE() << "accepted; expected an error containing '" << needle << "'";
  } catch (const Pc2Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), kind) << e.what();
  }
  EXPECT_EQ(list_dir(f.cache), cache_before);
  EXPECT_EQ(list_dir(f.tmp.path()), top_before);
}

TEST(Pc2BadInput, MissingShortAndCorruptLayerFiles) {
  {
    Fixture f(2048, 1);
    fs::remove(f.cache / testing::layer_name(2));
    expect_rejected(f, f.input(), "layer 2 file", Pc2ErrorKind::kNotFound);
  }
  {
    Fixture f(2048, 2);
    fs::resize_file(f.cache / testing::layer_name(1), 2016);
    expect_rejected(f, f.input(), "2016 bytes, expected 2048");
  }
  {
    Fixture f(2048, 3);
    auto l1 = f.sector.labels[0];
    std::fill(l1.begin() + 45 * 32, l1.begin() + 46 * 32, 0xff);
    write_file(f.cache / testing::layer_name(1), l1);
    expect_rejected(f, f.input(), "node 45", Pc2ErrorKind::kCorrupt);
  }
  {
    // Corrupt key (last layer) past the first tree_c chunk: caught while encoding or hashing.
    Fixture f(2048, 4);
    auto l2 = f.sector.labels[1];
    l2[63 * 32 + 31] = 0x80;
    write_file(f.cache / testing::layer_name(2), l2);
    expect_rejected(f, f.input(), "node 63", Pc2ErrorKind::kCorrupt);
  }
}

TEST(Pc2BadInput, UnsealedFileSizeContentAndPaths) {
  {
    Fixture f(2048, 5);
    fs::resize_file(f.unsealed, 4096);
    expect_rejected(f, f.input(), "unsealed file");
  }
  {
    Fixture f(2048, 6);
    auto u = f.sector.unsealed;
    std::fill(u.begin() + 7 * 32, u.begin() + 8 * 32, 0xff);
    write_file(f.unsealed, u);
    expect_rejected(f, f.input(), "unsealed file " + f.unsealed.string() + ": node 7",
                    Pc2ErrorKind::kCorrupt);
  }
  {
    Fixture f(2048, 7);
    auto in = f.input();
    in.sealed_path = f.tmp.path() / "no-such-dir" / "sealed";
    expect_rejected(f, in, "directory does not exist");
    in.sealed_path = f.unsealed;
    expect_rejected(f, in, "is the unsealed file");
    in = f.input();
    in.sector_bytes = 3000;
    expect_rejected(f, in, "sector size 3000");
    in = f.input();
    in.layers = 3;
    expect_rejected(f, in, "layers 3");
    in = f.input();
    in.cache_dir = f.tmp.path() / "nope";
    expect_rejected(f, in, "cache directory", Pc2ErrorKind::kNotFound);
  }
}

TEST(Pc2BadInput, TreeDOfAnotherSector) {
  Fixture f(2048, 8);
  std::vector<uint8_t> tree_d(127 * 32, 0);
  write_file(f.cache / "sc-02-data-tree-d.dat", tree_d);
  auto in = f.input();
  in.comm_d = merkle::Node{};
  in.comm_d->at(0) = 1;
  expect_rejected(f, in, "root differs from the given comm_d", Pc2ErrorKind::kCorrupt);
  in.comm_d = merkle::Node{};  // matches the all-zero file
  CpuPoseidonEngine engine;
  Pc2Options opt;
  opt.engine = &engine;
  EXPECT_NO_THROW(run_pc2(in, opt));
  fs::resize_file(f.cache / "sc-02-data-tree-d.dat", 100);
  expect_rejected(f, in, "tree_d store");
}

TEST(Pc2BadInput, NoEngine) {
  Fixture f(2048, 9);
  EXPECT_THROW(run_pc2(f.input(), Pc2Options{}), Pc2Error);
}

// An engine that fails half way: the error names the engine and no outputs remain.
class FailingEngine final : public PoseidonEngine {
 public:
  void hash_batch(size_t arity, PoseidonTag tag, const uint8_t* in, uint8_t* out,
                  size_t n) override {
    inner_.hash_batch(arity, tag, in, out, n);
  }
  void tree_rows(size_t, const uint8_t*, size_t, uint8_t*) override {
    throw std::runtime_error("device lost");
  }
  std::string name() const override { return "flaky-gpu"; }

 private:
  CpuPoseidonEngine inner_;
};

TEST(Pc2BadInput, EngineFailureIsNamedAndCleansUp) {
  Fixture f(2048, 11);
  FailingEngine engine;
  Pc2Options opt;
  opt.engine = &engine;
  try {
    run_pc2(f.input(), opt);
    FAIL() << "engine failure swallowed";
  } catch (const Pc2Error& e) {
    EXPECT_NE(std::string(e.what()).find("flaky-gpu"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), Pc2ErrorKind::kEngine);
    EXPECT_NE(std::string(e.what()).find("device lost"), std::string::npos) << e.what();
  }
  EXPECT_EQ(list_dir(f.cache),
            (std::vector<std::string>{testing::layer_name(1), testing::layer_name(2)}));
}

// ---- p_aux / t_aux bytes ----

TEST(Pc2Aux, PAuxIsCommCThenCommRLast) {
  PersistentAux a;
  for (uint8_t i = 0; i < 32; ++i) {
    a.comm_c[i] = i;
    a.comm_r_last[i] = static_cast<uint8_t>(0x20 + i);
  }
  const auto bytes = serialize_p_aux(a);
  ASSERT_EQ(bytes.size(), 64U);
  for (uint8_t i = 0; i < 64; ++i) EXPECT_EQ(bytes[i], i);
  EXPECT_EQ(parse_p_aux(bytes), a);
  EXPECT_THROW(parse_p_aux(std::vector<uint8_t>(63)), AuxError);
  auto bad = bytes;
  bad[31] = 0xff;
  EXPECT_THROW(parse_p_aux(bad), AuxError);
}

TEST(Pc2Aux, TAuxBytesFor2KiBAreBincodeOfTemporaryAux) {
  // Expected bytes written out independently (Python struct.pack of the bincode layout): u64
  // label count, then per StoreConfig u64-prefixed path and id, Option<usize> tag + u64, u64
  // rows_to_discard. 2KiB: 64 nodes, tree-d 127, tree-c/tree-r-last len(64, 8) = 73, rows 1.
  const std::string want =
      "020000000000000002000000000000002f7807000000000000006c617965722d3101400000000000000000000"
      "0000000000002000000000000002f7807000000000000006c617965722d3201400000000000000000000000000"
      "0000002000000000000002f780600000000000000747265652d64017f00000000000000000000000000000002"
      "000000000000002f780b00000000000000747265652d722d6c61737401490000000000000001000000000000"
      "0002000000000000002f780600000000000000747265652d630149000000000000000000000000000000";
  const auto aux = default_t_aux("/x", 2048, 2);
  EXPECT_EQ(hex(serialize_t_aux(aux)), want);
  EXPECT_EQ(parse_t_aux(testing::unhex(want)), aux);
}

TEST(Pc2Aux, TAuxFor32GiBUsesElevenLayersAndTwoDiscardedRows) {
  const auto aux = default_t_aux("/c", uint64_t{32} << 30, 11);
  ASSERT_EQ(aux.labels.size(), 11U);
  EXPECT_EQ(aux.labels[10].id, "layer-11");
  EXPECT_EQ(aux.labels[0].size, uint64_t{1} << 30);
  EXPECT_EQ(aux.tree_d.size, (uint64_t{2} << 30) - 1);
  // Spec §12: 4,908,534,048 bytes per tree-c base tree = 153,391,689 nodes.
  EXPECT_EQ(aux.tree_c.size, 153391689U);
  EXPECT_EQ(aux.tree_r_last.size, 153391689U);
  EXPECT_EQ(aux.tree_r_last.rows_to_discard, 2U);
  EXPECT_EQ(aux.tree_c.rows_to_discard, 0U);
}

TEST(Pc2Aux, TAuxParserRejectsDamage) {
  const auto good = serialize_t_aux(default_t_aux("/x", 2048, 2));
  auto truncated = good;
  truncated.pop_back();
  EXPECT_THROW(parse_t_aux(truncated), AuxError);
  auto trailing = good;
  trailing.push_back(0);
  EXPECT_THROW(parse_t_aux(trailing), AuxError);
  auto bad_tag = good;
  bad_tag[8 + 8 + 2 + 8 + 7] = 2;  // first label's Option tag
  EXPECT_THROW(parse_t_aux(bad_tag), AuxError);
  auto huge = good;
  huge[8 + 7] = 0x10;  // first path length 2^60
  EXPECT_THROW(parse_t_aux(huge), AuxError);
  EXPECT_THROW(parse_t_aux({}), AuxError);
}

TEST(Pc2Aux, FilesRoundTripAndMissingFilesAreNamed) {
  TempDir tmp;
  const PersistentAux p{node_from_hex(std::string(64, '1')), node_from_hex(std::string(64, '2'))};
  write_p_aux(tmp.path(), p);
  EXPECT_EQ(read_p_aux(tmp.path()), p);
  const auto t = default_t_aux(tmp.path(), 4096, 2);
  write_t_aux(tmp.path(), t);
  EXPECT_EQ(read_t_aux(tmp.path()), t);
  EXPECT_EQ(list_dir(tmp.path()), (std::vector<std::string>{"p_aux", "t_aux"}));
  try {
    read_p_aux(tmp.path() / "none");
    FAIL() << "missing p_aux accepted";
  } catch (const AuxError& e) {
    EXPECT_NE(std::string(e.what()).find("none/p_aux"), std::string::npos) << e.what();
  }
}

TEST(Pc2Layout, StoreSizesOfProductionSectorsMatchSpec) {
  // Spec §12: per base tree, tree-c full store / tree-r-last level cache (rows_to_discard 2).
  struct Row {
    uint64_t sector;
    size_t files;
    uint64_t tree_c;
    uint64_t tree_r_last;
  };
  for (const Row& r :
       {Row{uint64_t{8} << 20, 1, 9586976, 18720}, Row{uint64_t{512} << 20, 1, 613566752, 1198368},
        Row{uint64_t{32} << 30, 8, 4908534048, 9586976},
        Row{uint64_t{64} << 30, 16, 4908534048, 9586976}}) {
    const auto shape = merkle::TreeShape::for_sector(r.sector);
    EXPECT_EQ(shape.base_tree_count(), r.files) << r.sector;
    EXPECT_EQ(merkle::tree_len(shape.base_leaves, 8) * 32, r.tree_c) << r.sector;
    const size_t discard = merkle::default_rows_to_discard(shape.base_leaves, 8);
    EXPECT_EQ(discard, 2U);
    EXPECT_EQ(merkle::level_cache_len(shape.base_leaves, 8, discard) * 32, r.tree_r_last)
        << r.sector;
    EXPECT_EQ(layers_for_sector(r.sector), r.sector >= (uint64_t{32} << 30) ? 11U : 2U);
  }
}

TEST(Pc2Cost, CountsEveryHash) {
  // 2KiB: 64 column hashes (arity 2), 9 hashes per tree (8 + root) x 2 trees, comm_r.
  const auto c = pc2_cost(2048);
  EXPECT_EQ(c.hashes, 64U + 18U + 1U);
  EXPECT_EQ(c.multiplications, 65 * poseidon::multiplications_per_hash(2) +
                                   18 * poseidon::multiplications_per_hash(8));
  // 32KiB 8-8-2: 16 base trees of 9 hashes, 2 sub hashes (arity 8), 1 top (arity 2), per tree.
  EXPECT_EQ(pc2_cost(32768).hashes, 1024U + 2 * (16 * 9 + 2 + 1) + 1);
  EXPECT_EQ(chunk_leaves_for_memory(1 << 20, 2, 1 << 18), 4096U);
  EXPECT_EQ(chunk_leaves_for_memory(0, 11, 64), 8U);
  EXPECT_EQ(chunk_leaves_for_memory(uint64_t{1} << 40, 2, 64), 64U);
}

}  // namespace
}  // namespace sealhost::proofs::pc2
