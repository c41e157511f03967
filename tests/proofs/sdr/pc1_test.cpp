// run_pc1: layer files against the vectors and the in-memory labeller, batch == single,
// producer/consumer == inline, kill -9 and resume, cancel, stale/torn files, free space, errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "proofs/sdr/labels.hpp"
#include "proofs/sha256/sha256.hpp"
#include "tests/proofs/sdr/test_dir.hpp"
#include "tests/proofs/sdr/vectors.hpp"

namespace sealhost::proofs::sdr {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::vector_by_id;

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ReplicaId replica(uint8_t seed) {
  ReplicaId r{};
  for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<uint8_t>(seed * 31 + i);
  r[31] &= 0x3f;
  return r;
}

Pc1Request request(const SealProof& proof, const ParentCache& cache, std::vector<ReplicaId> rids,
                   std::vector<fs::path> dirs, unsigned threads, uint32_t layers = 0) {
  Pc1Request r;
  r.proof = &proof;
  r.parent_cache = &cache;
  r.replica_ids = std::move(rids);
  r.cache_dirs = std::move(dirs);
  r.threads = threads;
  r.layers_override = layers;
  return r;
}

// A batch of n sectors: replica ids replica(seed + i), cache dirs <root>/<tag>-<i>.
struct Sectors {
  std::vector<ReplicaId> rids;
  std::vector<fs::path> dirs;
};
Sectors sectors_of(const fs::path& root, const std::string& tag, size_t n, unsigned seed) {
  Sectors b;
  for (size_t i = 0; i < n; ++i) {
    b.rids.push_back(replica(static_cast<uint8_t>(seed + i)));
    b.dirs.push_back(root / (tag + "-" + std::to_string(i)));
  }
  return b;
}

// Every layer file equals the in-memory labels.
void expect_layers_equal(const fs::path& dir, const LayerLabels& labels) {
  for (uint32_t l = 1; l <= labels.layers; ++l) {
    const auto file = read_file(dir / layer_file_name(l));
    ASSERT_EQ(file.size(), labels.nodes * kLabelBytes) << dir << " layer " << l;
    EXPECT_TRUE(std::equal(file.begin(), file.end(), labels.label(l, 0))) << dir << " layer " << l;
  }
  EXPECT_FALSE(fs::exists(dir / layer_file_name(labels.layers + 1)));
}

class Pc1Test : public ::testing::Test {
 protected:
  // CTest runs every test in its own process: the caches live in the build tree so they are
  // generated once, not per test (creation is atomic, so parallel ctest runs are fine).
  static const ParentCache& cache(const char* proof) {
    static std::map<std::string, ParentCache> caches;
    auto it = caches.find(proof);
    if (it == caches.end()) {
      const fs::path dir = fs::path(SEALHOST_TEST_BINARY_DIR) / "sdr-test-parent-cache";
      it = caches.emplace(proof, ParentCache::open_or_create(Graph(lookup_seal_proof(proof)), dir))
               .first;
    }
    return it->second;
  }
  TempDir tmp_;
};

TEST_F(Pc1Test, TwoKiBEndToEndLayerFiles) {
  for (const char* id :
       {"e2e.2k.zero.StackedDrg2KiBV1_1", "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep"}) {
    const auto& v = vector_by_id(id);
    const auto& exp = v.at("expected");
    const auto& proof = lookup_seal_proof(v.at("input").at("registered_proof").get<std::string>());
    const auto rid = bytes32_from_hex(exp.at("replica_id_hex").get<std::string>(), "replica_id");
    for (unsigned threads : {1u, 2u}) {
      const fs::path dir = tmp_.path() / (proof.alias.data() + std::to_string(threads));
      const auto res = run_pc1(request(proof, cache(proof.name.data()), {rid}, {dir}, threads));
      ASSERT_EQ(res.size(), 1u);
      EXPECT_EQ(res[0].layers_resumed, 0u);
      ASSERT_EQ(res[0].layer_files.size(), 2u);
      for (uint32_t l = 1; l <= 2; ++l) {
        const auto file = read_file(res[0].layer_files[l - 1]);
        EXPECT_EQ(to_hex(sha256::digest(file)),
                  exp.at("sha256_layer" + std::to_string(l) + "_labels").get<std::string>())
            << id << " layer " << l << " threads " << threads;
      }
      EXPECT_EQ(to_hex(res[0].last_label), exp.at("L2_n63").get<std::string>());
    }
  }
}

TEST_F(Pc1Test, ElevenLayerLegacyVectorThroughLayerFiles) {
  // sdr.labels.n64.legacy uses porep_id 0 = StackedDrg2KiBV1 with 11 layers.
  const auto& v = vector_by_id("sdr.labels.n64.legacy");
  const auto& proof = lookup_seal_proof("StackedDrg2KiBV1");
  const auto rid = bytes32_from_hex(v.at("input").at("replica_id_hex").get<std::string>(), "r");
  for (unsigned threads : {1u, 2u}) {
    const fs::path dir = tmp_.path() / std::to_string(threads);
    const auto res = run_pc1(request(proof, cache("StackedDrg2KiBV1"), {rid}, {dir}, threads, 11));
    EXPECT_EQ(to_hex(res[0].last_label),
              v.at("expected").at("last_layer_last_label_hex").get<std::string>());
    expect_layers_equal(dir, label_in_memory(cache("StackedDrg2KiBV1"), rid, 11));
  }
}

TEST_F(Pc1Test, EightMiBPipelinedEqualsInMemory) {
  // Big enough for the producer to run ahead of the hasher (DRG parents handed over both ways).
  const auto& proof = lookup_seal_proof("8MiB-v1.1");
  const auto& pc = cache("8MiB-v1.1");
  // The producer schedule is forced: on its own PC1 picks the inline lane for 8 MiB layers.
  auto req = request(proof, pc, {replica(1)}, {tmp_.path() / "s"}, 2);
  req.schedule = Pc1Request::Schedule::producer;
  Pc1Stats stats;
  req.stats = &stats;
  const auto res = run_pc1(req);
  EXPECT_GT(stats.producer_cpu_seconds, 0.0);
  expect_layers_equal(tmp_.path() / "s", label_in_memory(pc, replica(1), 2));
}

// Whether `dir`'s filesystem takes O_DIRECT writes (tmpfs does not).
bool direct_io_works(const fs::path& dir) {
  const fs::path probe = dir / "direct-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
  if (fd < 0) return false;
  void* buf = nullptr;
  bool ok = ::posix_memalign(&buf, 4096, 4096) == 0;
  if (ok) {
    std::memset(buf, 0, 4096);
    ok = ::pwrite(fd, buf, 4096, 0) == 4096;
  }
  std::free(buf);
  ::close(fd);
  fs::remove(probe);
  return ok;
}

// O_DIRECT layer files (forced: automatic uses it above 16 MiB), from a one-sector lane and
// from an interleaved lane of two sectors (de-interleaved through the writer's staging buffer).
TEST_F(Pc1Test, EightMiBDirectWritesEqualInMemory) {
  const auto& proof = lookup_seal_proof("8MiB-v1.1");
  const auto& pc = cache("8MiB-v1.1");
  const bool direct = direct_io_works(tmp_.path());
  const std::vector<ReplicaId> rids = {replica(31), replica(32)};
  const std::vector<fs::path> dirs = {tmp_.path() / "d0", tmp_.path() / "d1"};
  for (size_t n : {size_t{1}, size_t{2}}) {
    for (const auto& d : dirs) fs::remove_all(d);
    auto req = request(proof, pc, {rids.begin(), rids.begin() + static_cast<ptrdiff_t>(n)},
                       {dirs.begin(), dirs.begin() + static_cast<ptrdiff_t>(n)}, 1);
    req.write_mode = Pc1Request::WriteMode::direct;
    Pc1Stats stats;
    req.stats = &stats;
    const auto res = run_pc1(req);
    if (direct) {
      EXPECT_EQ(stats.layer_files_direct, 2 * n) << n << " sectors";
    }
    for (size_t i = 0; i < n; ++i) {
      const auto single = label_in_memory(pc, rids[i], 2);
      expect_layers_equal(dirs[i], single);
      EXPECT_EQ(res[i].last_label, single.last_label());
    }
  }
  if (!direct) GTEST_SKIP() << tmp_.path() << " does not take O_DIRECT; buffered path checked";
}

// A layer file that cannot be created stops the run with an error naming the cache dir, the
// layer and the file; the layers before it stay valid and a later run resumes after them.
TEST_F(Pc1Test, LayerWriteFailureNamesTheFileAndResumes) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  for (size_t n : {size_t{1}, size_t{3}}) {
    const auto [rids, dirs] = sectors_of(tmp_.path(), "w" + std::to_string(n), n, 40);
    // A non-empty directory where the writer wants layer 3's temporary file.
    const fs::path blocker = dirs.back() / (layer_file_name(3) + ".tmp");
    fs::create_directories(blocker);
    { std::ofstream(blocker / "x") << "x"; }
    try {
      run_pc1(request(proof, pc, rids, dirs, 2, 11));
      FAIL() << "expected SdrError";
    } catch (const SdrError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dirs.back().string()), std::string::npos) << what;
      EXPECT_NE(what.find("layer 3"), std::string::npos) << what;
      EXPECT_NE(what.find(layer_file_name(3) + ".tmp"), std::string::npos) << what;
    }
    EXPECT_TRUE(fs::exists(dirs.back() / layer_file_name(2)));
    EXPECT_FALSE(fs::exists(dirs.back() / layer_file_name(3)));
    fs::remove_all(blocker);
    const auto res = run_pc1(request(proof, pc, rids, dirs, 2, 11));
    EXPECT_EQ(res.back().layers_resumed, 2u);
    for (size_t i = 0; i < n; ++i) expect_layers_equal(dirs[i], label_in_memory(pc, rids[i], 11));
  }
}

TEST_F(Pc1Test, BatchEqualsSingle) {
  // Lanes (sectors per thread) of 5 and of 3: odd, the plain kernels (4-stream group, pairs, a
  // single stream); of 2, 4 and 8: the fused pairs with SHA-NI at width 2, pairs sharing parent
  // rows for 4 and 8 (the plain 4-stream kernel at width 4).
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  for (size_t n : {size_t{5}, size_t{2}, size_t{8}}) {
    for (unsigned threads : {1u, 2u}) {
      const auto [rids, dirs] =
          sectors_of(tmp_.path(), "b" + std::to_string(n) + "-" + std::to_string(threads), n, 10);
      Pc1Stats stats;
      auto req = request(proof, pc, rids, dirs, threads, 11);
      req.stats = &stats;
      const auto res = run_pc1(req);
      ASSERT_EQ(res.size(), n);
      if (const char* forced = std::getenv("SEALHOST_SDR_STREAM_WIDTH")) {
        EXPECT_EQ(stats.stream_width, std::atoi(forced));
      }
      EXPECT_EQ(stats.layers_computed, 11u);
      for (size_t i = 0; i < n; ++i) {
        const auto single = label_in_memory(pc, rids[i], 11);
        expect_layers_equal(dirs[i], single);
        EXPECT_EQ(res[i].last_label, single.last_label());
        EXPECT_EQ(res[i].cache_dir, dirs[i]);
      }
    }
  }
}

TEST_F(Pc1Test, EightMiBBatchOfTwoEqualsSingle) {
  const auto& proof = lookup_seal_proof("8MiB-v1.1");
  const auto& pc = cache("8MiB-v1.1");
  const std::vector<fs::path> dirs = {tmp_.path() / "a", tmp_.path() / "b"};
  run_pc1(request(proof, pc, {replica(3), replica(4)}, dirs, 2));
  run_pc1(request(proof, pc, {replica(4)}, {tmp_.path() / "single"}, 2));
  for (uint32_t l = 1; l <= 2; ++l) {
    EXPECT_EQ(read_file(dirs[1] / layer_file_name(l)),
              read_file(tmp_.path() / "single" / layer_file_name(l)))
        << "layer " << l;
  }
}

TEST(LayerBufferPoolTest, ReusesExactSizesUpToItsLimit) {
  LayerBufferPool pool(3 << 20);
  EXPECT_EQ(pool.take(1 << 20), nullptr);
  auto map = [](size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    return p;
  };
  void* a = map(1 << 20);
  void* b = map(2 << 20);
  void* c = map(1 << 20);
  pool.give(a, 1 << 20);
  pool.give(b, 2 << 20);
  EXPECT_EQ(pool.held_bytes(), uint64_t{3} << 20);
  pool.give(c, 1 << 20);  // over the limit: unmapped, not kept
  EXPECT_EQ(pool.held_bytes(), uint64_t{3} << 20);
  EXPECT_EQ(pool.take(2 << 20), b);
  EXPECT_EQ(pool.held_bytes(), uint64_t{1} << 20);
  EXPECT_EQ(pool.take(1 << 20), a);
  EXPECT_EQ(pool.held_bytes(), 0u);
  pool.give(a, 1 << 20);
  pool.give(b, 2 << 20);
  // A size it does not hold: the workload changed, everything held is released.
  EXPECT_EQ(pool.take(4 << 20), nullptr);
  EXPECT_EQ(pool.held_bytes(), 0u);
  EXPECT_EQ(pool.take(1 << 20), nullptr);
  pool.give(map(1 << 20), 1 << 20);
  pool.release();
  EXPECT_EQ(pool.held_bytes(), 0u);
}

// layer_buffer_sizes() names what run_pc1 maps: a pool reserved with it serves the whole run
// (nothing new mapped), the labels are right, and a second reserve of the same shape maps nothing.
TEST_F(Pc1Test, ReservedBuffersServeTheRunOfThatShape) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const uint64_t layer = pc.nodes() * kLabelBytes;
  EXPECT_EQ(layer_buffer_sizes(proof, 1, 2), (std::vector<uint64_t>{layer, layer}));
  EXPECT_EQ(layer_buffer_sizes(proof, 4, 2),
            (std::vector<uint64_t>{2 * layer, 2 * layer, 2 * layer, 2 * layer}));
  EXPECT_EQ(layer_buffer_sizes(proof, 3, 2),
            (std::vector<uint64_t>{2 * layer, 2 * layer, layer, layer}));
  EXPECT_EQ(layer_buffer_sizes(proof, 2, 1), (std::vector<uint64_t>{2 * layer, 2 * layer}));
  for (const auto& [sectors, threads] : {std::pair<size_t, unsigned>{3, 2}, {1, 2}, {4, 3}}) {
    LayerBufferPool pool;
    const auto sizes = layer_buffer_sizes(proof, sectors, threads);
    uint64_t total = 0;
    for (const uint64_t b : sizes) total += b;
    EXPECT_EQ(pool.reserve(sizes), total);
    EXPECT_EQ(pool.held_bytes(), total);
    EXPECT_EQ(pool.reserve(sizes), 0u) << "the same shape again maps nothing";
    const auto [rids, dirs] = sectors_of(
        tmp_.path(), "r" + std::to_string(sectors) + "-" + std::to_string(threads), sectors, 90);
    Pc1Stats stats;
    auto req = request(proof, pc, rids, dirs, threads, 11);
    req.buffer_pool = &pool;
    req.stats = &stats;
    run_pc1(req);
    EXPECT_EQ(stats.buffers_mapped, 0u) << sectors << " sectors on " << threads << " threads";
    EXPECT_EQ(stats.buffers_reused, sizes.size());
    for (size_t i = 0; i < sectors; ++i) {
      expect_layers_equal(dirs[i], label_in_memory(pc, rids[i], 11));
    }
  }
  // Stopped at once: nothing mapped; stopped after the first buffer: that one is held.
  LayerBufferPool pool;
  EXPECT_EQ(pool.reserve({layer, layer}, [] { return true; }), 0u);
  EXPECT_EQ(pool.held_bytes(), 0u);
  int polls = 0;
  EXPECT_EQ(pool.reserve({uint64_t{4} << 20, uint64_t{4} << 20}, [&] { return ++polls > 3; }),
            uint64_t{4} << 20);
  EXPECT_EQ(pool.held_bytes(), uint64_t{4} << 20);
}

// Runs sharing a pool reuse the buffers of earlier runs (which still hold their labels) and
// produce the same layers; a cancelled run gives its buffers back too.
TEST_F(Pc1Test, PooledLayerBuffersGiveTheSameLabels) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const uint64_t pair_bytes = 2 * pc.nodes() * kLabelBytes;  // a lane of two sectors
  LayerBufferPool pool;
  for (int run = 0; run < 3; ++run) {
    const auto [rids, dirs] = sectors_of(tmp_.path(), "run" + std::to_string(run), 4,
                                         static_cast<unsigned>(40 + 4 * run));
    Pc1Stats stats;
    auto req = request(proof, pc, rids, dirs, 2, 11);
    req.buffer_pool = &pool;
    req.stats = &stats;
    run_pc1(req);
    EXPECT_EQ(stats.buffers_mapped, run == 0 ? 4u : 0u) << "run " << run;
    EXPECT_EQ(stats.buffers_reused, run == 0 ? 0u : 4u) << "run " << run;
    EXPECT_EQ(pool.held_bytes(), 4 * pair_bytes);
    for (int i = 0; i < 4; ++i) expect_layers_equal(dirs[i], label_in_memory(pc, rids[i], 11));
  }
  // Another lane shape (one sector): another size, new buffers; the pairs' buffers are released.
  const uint64_t single_bytes = pc.nodes() * kLabelBytes;
  Pc1Stats stats;
  auto req = request(proof, pc, {replica(60)}, {tmp_.path() / "one"}, 1, 11);
  req.buffer_pool = &pool;
  req.stats = &stats;
  run_pc1(req);
  EXPECT_EQ(stats.buffers_mapped, 2u);
  EXPECT_EQ(pool.held_bytes(), 2 * single_bytes);
  expect_layers_equal(tmp_.path() / "one", label_in_memory(pc, replica(60), 11));
  // Cancelled (one lane of two sectors, pair-sized buffers): they go back all the same.
  auto cancelled = request(proof, pc, {replica(61), replica(62)},
                           {tmp_.path() / "c0", tmp_.path() / "c1"}, 1, 11);
  cancelled.buffer_pool = &pool;
  cancelled.cancelled = [] { return true; };
  EXPECT_THROW(run_pc1(cancelled), SdrCancelled);
  EXPECT_EQ(pool.held_bytes(), 2 * pair_bytes);
}

// 8 MiB, two sectors on one thread: the lane hashes both while gathering the next node's
// parents (the fused two-stream path), from pooled buffers the second time.
TEST_F(Pc1Test, EightMiBLaneOfTwoEqualsInMemory) {
  const auto& proof = lookup_seal_proof("8MiB-v1.1");
  const auto& pc = cache("8MiB-v1.1");
  LayerBufferPool pool;
  for (int run = 0; run < 2; ++run) {
    const std::vector<ReplicaId> rids = {replica(static_cast<uint8_t>(70 + run)),
                                         replica(static_cast<uint8_t>(80 + run))};
    const std::vector<fs::path> dirs = {tmp_.path() / ("p" + std::to_string(run)),
                                        tmp_.path() / ("q" + std::to_string(run))};
    auto req = request(proof, pc, rids, dirs, 1);
    req.buffer_pool = &pool;
    const auto res = run_pc1(req);
    for (size_t i = 0; i < 2; ++i) {
      const auto mem = label_in_memory(pc, rids[i], proof.layers);
      expect_layers_equal(dirs[i], mem);
      EXPECT_EQ(res[i].last_label, mem.last_label());
    }
  }
}

TEST_F(Pc1Test, KillMidLayerThenResume) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const fs::path dir = tmp_.path() / "killed";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto req = request(proof, pc, {replica(7)}, {dir}, 2, 11);
    req.progress = [](const Pc1Progress& p) {
      if (p.layer == 6 && p.nodes_done >= 32 && p.nodes_done < p.nodes_total) ::raise(SIGKILL);
    };
    try {
      run_pc1(req);
    } catch (...) {
    }
    ::_exit(3);  // not reached when the kill happened
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child was not killed mid-layer, status " << status;
  for (uint32_t l = 1; l <= 4; ++l) EXPECT_TRUE(fs::exists(dir / layer_file_name(l))) << l;
  for (uint32_t l = 6; l <= 11; ++l) EXPECT_FALSE(fs::exists(dir / layer_file_name(l))) << l;
  // A torn temporary as a crash inside a write leaves it.
  { std::ofstream(dir / (layer_file_name(6) + ".tmp")) << "torn"; }

  std::vector<Pc1Progress> seen;
  auto req = request(proof, pc, {replica(7)}, {dir}, 2, 11);
  req.progress = [&](const Pc1Progress& p) { seen.push_back(p); };
  const auto res = run_pc1(req);
  EXPECT_GE(res[0].layers_resumed, 4u);
  EXPECT_LE(res[0].layers_resumed, 5u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().layer, res[0].layers_resumed + 1) << "resumed from the wrong layer";
  EXPECT_FALSE(fs::exists(dir / (layer_file_name(6) + ".tmp")));
  expect_layers_equal(dir, label_in_memory(pc, replica(7), 11));
  // Uninterrupted run for comparison.
  run_pc1(request(proof, pc, {replica(7)}, {tmp_.path() / "clean"}, 2, 11));
  for (uint32_t l = 1; l <= 11; ++l) {
    EXPECT_EQ(read_file(dir / layer_file_name(l)),
              read_file(tmp_.path() / "clean" / layer_file_name(l)));
  }
}

TEST_F(Pc1Test, CancelKeepsCompleteLayersAndResumes) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const fs::path dir = tmp_.path() / "cancel";
  for (unsigned threads : {1u, 2u}) {
    fs::remove_all(dir);
    std::atomic<bool> stop{false};
    auto req = request(proof, pc, {replica(8)}, {dir}, threads, 11);
    req.progress = [&](const Pc1Progress& p) {
      if (p.layer == 5 && p.nodes_done >= 16) stop = true;
    };
    req.cancelled = [&] { return stop.load(); };
    try {
      run_pc1(req);
      FAIL() << "expected SdrCancelled";
    } catch (const SdrCancelled& e) {
      EXPECT_NE(std::string(e.what()).find("layer 5"), std::string::npos) << e.what();
    }
    for (uint32_t l = 1; l <= 4; ++l) EXPECT_TRUE(fs::exists(dir / layer_file_name(l))) << l;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
      EXPECT_NE(name, layer_file_name(5)) << "partial layer left behind";
    }
    const auto res = run_pc1(request(proof, pc, {replica(8)}, {dir}, threads, 11));
    EXPECT_EQ(res[0].layers_resumed, 4u);
    expect_layers_equal(dir, label_in_memory(pc, replica(8), 11));
  }
}

// A batch keeps its sectors' layers interleaved per lane: cancel one, then resume it with another
// lane shape (2 lanes of 2 and 1 sectors, then one lane of 3) and a sector that is already
// complete on disk (its previous layer is read back into the middle of the interleaved buffer).
TEST_F(Pc1Test, BatchCancelThenResumeWithOtherLanes) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const std::vector<ReplicaId> rids = {replica(21), replica(22), replica(23)};
  const std::vector<fs::path> dirs = {tmp_.path() / "x", tmp_.path() / "y", tmp_.path() / "z"};
  run_pc1(request(proof, pc, {rids[1]}, {dirs[1]}, 1, 11));  // y complete beforehand

  std::atomic<bool> stop{false};
  auto req = request(proof, pc, rids, dirs, 2, 11);
  req.progress = [&](const Pc1Progress& p) {
    if (p.layer == 5 && p.nodes_done >= 16) stop = true;
  };
  req.cancelled = [&] { return stop.load(); };
  EXPECT_THROW(run_pc1(req), SdrCancelled);
  for (const fs::path& d : {dirs[0], dirs[2]}) {
    for (uint32_t l = 1; l <= 4; ++l) EXPECT_TRUE(fs::exists(d / layer_file_name(l))) << d << l;
    EXPECT_FALSE(fs::exists(d / layer_file_name(5))) << d;
  }

  const auto res = run_pc1(request(proof, pc, rids, dirs, 1, 11));
  EXPECT_EQ(res[0].layers_resumed, 4u);
  EXPECT_EQ(res[1].layers_resumed, 11u);
  EXPECT_EQ(res[2].layers_resumed, 4u);
  for (size_t i = 0; i < rids.size(); ++i) {
    const auto single = label_in_memory(pc, rids[i], 11);
    expect_layers_equal(dirs[i], single);
    EXPECT_EQ(res[i].last_label, single.last_label()) << i;
  }
}

TEST_F(Pc1Test, ThrowingProgressCallbackStopsCleanly) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const fs::path dir = tmp_.path() / "throws";
  auto req = request(proof, pc, {replica(5)}, {dir}, 2, 11);
  req.progress = [](const Pc1Progress& p) {
    if (p.layer == 3 && p.nodes_done >= 8) throw std::runtime_error("progress sink failed");
  };
  EXPECT_THROW(run_pc1(req), std::runtime_error);
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  const auto res = run_pc1(request(proof, pc, {replica(5)}, {dir}, 2, 11));
  EXPECT_EQ(res[0].layers_resumed, 2u);
  expect_layers_equal(dir, label_in_memory(pc, replica(5), 11));
}

TEST_F(Pc1Test, CompleteRunIsNotRedone) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const fs::path dir = tmp_.path() / "done";
  const auto first = run_pc1(request(proof, pc, {replica(9)}, {dir}, 2));
  int calls = 0;
  auto req = request(proof, pc, {replica(9)}, {dir}, 2);
  req.progress = [&](const Pc1Progress&) { ++calls; };
  const auto again = run_pc1(req);
  EXPECT_EQ(again[0].layers_resumed, 2u);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(again[0].last_label, first[0].last_label);
}

TEST_F(Pc1Test, StaleAndTruncatedLayersAreRecomputed) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const fs::path dir = tmp_.path() / "stale";
  // Layers of another replica id in the dir: none may be kept.
  run_pc1(request(proof, pc, {replica(1)}, {dir}, 2, 6));
  auto res = run_pc1(request(proof, pc, {replica(2)}, {dir}, 2, 6));
  EXPECT_EQ(res[0].layers_resumed, 0u);
  expect_layers_equal(dir, label_in_memory(pc, replica(2), 6));
  // Truncated layer 4 and a corrupt last label in layer 5: resume after layer 3.
  fs::resize_file(dir / layer_file_name(4), 100);
  res = run_pc1(request(proof, pc, {replica(2)}, {dir}, 2, 6));
  EXPECT_EQ(res[0].layers_resumed, 3u);
  {
    std::fstream f(dir / layer_file_name(5), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(63 * 32);
    f.put('\x01');
  }
  res = run_pc1(request(proof, pc, {replica(2)}, {dir}, 2, 6));
  EXPECT_EQ(res[0].layers_resumed, 4u);
  expect_layers_equal(dir, label_in_memory(pc, replica(2), 6));
}

TEST_F(Pc1Test, NotEnoughFreeSpaceIsAClearError) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  const fs::path dir = tmp_.path() / "full";
  auto req = request(proof, pc, {replica(1), replica(2)}, {dir, tmp_.path() / "full2"}, 2, 11);
  std::vector<fs::path> probed;
  req.free_space = [&](const fs::path& p) {
    probed.push_back(p);
    return uint64_t{11 * 2048 * 2 - 1};  // one byte short for 2 sectors x 11 layers
  };
  try {
    run_pc1(req);
    FAIL() << "expected SdrError";
  } catch (const SdrCancelled&) {
    FAIL() << "wrong error type";
  } catch (const SdrError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("45056 bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("45055 bytes are free"), std::string::npos) << msg;
    EXPECT_NE(msg.find(dir.string()), std::string::npos) << msg;
  }
  EXPECT_EQ(probed.size(), 1u) << "both dirs are on one filesystem";
  EXPECT_FALSE(fs::exists(dir / layer_file_name(1)));
  // With 2 layers already done only 9 layers per sector are needed.
  req.free_space = {};
  req.layers_override = 2;
  run_pc1(req);
  req.layers_override = 11;
  req.free_space = [](const fs::path&) { return uint64_t{9 * 2048 * 2}; };
  EXPECT_NO_THROW(run_pc1(req));
}

TEST_F(Pc1Test, BadRequestsNameTheField) {
  const auto& proof = lookup_seal_proof("2KiB-v1.1");
  const auto& pc = cache("2KiB-v1.1");
  auto expect_error = [](const Pc1Request& r, const std::string& needle) {
    try {
      run_pc1(r);
      FAIL() << "expected SdrError mentioning " << needle;
    } catch (const SdrError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const fs::path d = tmp_.path() / "x";
  auto r = request(proof, pc, {replica(1)}, {d}, 2);
  r.proof = nullptr;
  expect_error(r, "proof");
  r = request(proof, pc, {replica(1)}, {d}, 2);
  r.parent_cache = nullptr;
  expect_error(r, "parent_cache");
  expect_error(request(lookup_seal_proof("2KiB-v1"), pc, {replica(1)}, {d}, 2),
               "is not the graph of StackedDrg2KiBV1");
  expect_error(request(proof, pc, {}, {}, 2), "replica ids");
  expect_error(
      request(proof, pc, std::vector<ReplicaId>(9, replica(1)), std::vector<fs::path>(9, d), 2),
      "replica ids");
  expect_error(request(proof, pc, {replica(1), replica(2)}, {d}, 2), "one cache dir per sector");
  expect_error(request(proof, pc, {replica(1), replica(2)}, {d, d / "." / ""}, 2), "twice");
  const fs::path file = tmp_.path() / "file";
  { std::ofstream(file) << "x"; }
  expect_error(request(proof, pc, {replica(1)}, {file}, 2), file.string());
}

}  // namespace
}  // namespace sealhost::proofs::sdr
