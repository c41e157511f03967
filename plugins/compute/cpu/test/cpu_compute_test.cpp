// CpuCompute alone (no loader): results equal the proofs libraries for every arity, thread count
// and task size; every error path; progress, cancel and concurrent calls; the SDK thunks'
// argument checks.
#include "plugins/compute/cpu/cpu_compute.hpp"

#include "proofs/field/fr.hpp"
#include "proofs/merkle/merkle.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/testing.hpp>

#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace sealhost::compute_cpu {
namespace {

namespace poseidon = proofs::poseidon;
using proofs::field::Fr;
using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

// `count` random canonical field elements (the top byte masked below r's top byte 0x73).
Bytes random_elements(size_t count, uint32_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(count * 32);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  for (size_t i = 0; i < count; ++i) b[i * 32 + 31] &= 0x3f;
  return b;
}

Bytes reference_poseidon(uint32_t arity, uint32_t tag, const Bytes& in, size_t n) {
  Bytes out(n * 32);
  if (tag == sdk::kTagMerkleTree) {
    poseidon::hash_batch_bytes(arity, in.data(), out.data(), n);
    return out;
  }
  std::vector<Fr> e(arity);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < arity; ++j) e[j] = *Fr::from_bytes(&in[(i * arity + j) * 32]);
    poseidon::hash_constant_length(arity, e).to_bytes(&out[i * 32]);
  }
  return out;
}

// All rows above the leaves, lowest first, built one row at a time with merkle::hash_row (arity
// 2, 8) or poseidon directly (other arities).
Bytes reference_rows(uint32_t arity, const Bytes& leaves) {
  Bytes rows;
  Bytes row = leaves;
  while (row.size() > 32) {
    const size_t parents = row.size() / 32 / arity;
    Bytes next(parents * 32);
    if (arity == 2 || arity == 8) {
      proofs::merkle::hash_row(proofs::merkle::NodeHash::kPoseidon, arity, row.data(), next.data(),
                               parents);
    } else {
      poseidon::hash_batch_bytes(arity, row.data(), next.data(), parents);
    }
    rows.insert(rows.end(), next.begin(), next.end());
    row = std::move(next);
  }
  return rows;
}

CpuCompute make(unsigned threads, size_t batch_size) {
  return CpuCompute(CpuOptions{threads, batch_size});
}

sealhost_status status_of(const std::function<void()>& fn, std::string* message = nullptr) {
  try {
    fn();
    return SEALHOST_OK;
  } catch (const sdk::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
}

const sdk::Job kNoJob(nullptr);

TEST(CpuComputeTest, PoseidonBatchEqualsTheLibraryForEveryArityAndTag) {
  auto c = make(2, 5);  // tiny tasks: many hand-offs, ragged last task
  for (size_t arity : poseidon::kSupportedArities) {
    const auto a = static_cast<uint32_t>(arity);
    for (uint32_t tag : {0u, 1u}) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{4}, size_t{5}, size_t{13}}) {
        const Bytes in = random_elements(n * arity, static_cast<uint32_t>(arity * 100 + n + tag));
        Bytes out(n * 32, 0xee);
        c.poseidon_batch(a, tag, in.data(), out.data(), n, kNoJob);
        EXPECT_EQ(out, reference_poseidon(a, tag, in, n))
            << "arity " << arity << " tag " << tag << " n " << n;
      }
    }
  }
}

TEST(CpuComputeTest, ThreadAndTaskSizesDoNotChangeResults) {
  const size_t n = 301;
  const Bytes in = random_elements(n * 8, 7);
  const Bytes want = reference_poseidon(8, 0, in, n);
  for (unsigned threads : {1u, 2u, 3u}) {
    for (size_t batch : {size_t{1}, size_t{64}, size_t{300}, size_t{4096}}) {
      auto c = make(threads, batch);
      Bytes out(n * 32);
      c.poseidon_batch(8, 0, in.data(), out.data(), n, kNoJob);
      EXPECT_EQ(out, want) << threads << " threads, batch " << batch;
    }
  }
}

TEST(CpuComputeTest, NonCanonicalInputNamesTheLowestBadElement) {
  auto c = make(2, 3);
  const size_t n = 40;
  Bytes in = random_elements(n * 4, 9);
  // r itself (not canonical) at element 150 and an all-ones value at element 37.
  const auto r = Fr::modulus();
  std::memcpy(&in[150 * 32], r.data(), 32);
  std::memset(&in[37 * 32], 0xff, 32);
  Bytes out(n * 32);
  std::string msg;
  EXPECT_EQ(status_of([&] { c.poseidon_batch(4, 0, in.data(), out.data(), n, kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("poseidon_batch: input element 37 is not a canonical field element"));
  std::memset(&in[37 * 32], 0, 32);
  EXPECT_EQ(status_of([&] { c.poseidon_batch(4, 0, in.data(), out.data(), n, kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("input element 150 "));
}

TEST(CpuComputeTest, UnsupportedArityAndTagAreInvalidArguments) {
  auto c = make(1, 16);
  Bytes in(64 * 32), out(64 * 32);
  std::string msg;
  for (uint32_t arity : {0u, 1u, 3u, 9u, 37u}) {
    EXPECT_EQ(
        status_of([&] { c.poseidon_batch(arity, 0, in.data(), out.data(), 1, kNoJob); }, &msg),
        SEALHOST_E_INVALID_ARGUMENT)
        << arity;
    EXPECT_THAT(msg, HasSubstr("use one of 2, 4, 8, 11, 16, 24, 36"));
    EXPECT_EQ(status_of([&] { c.tree_build(arity, in.data(), 9, out.data(), kNoJob); }, &msg),
              SEALHOST_E_INVALID_ARGUMENT)
        << arity;
    EXPECT_THAT(msg, HasSubstr("tree_build: arity " + std::to_string(arity)));
  }
  EXPECT_EQ(status_of([&] { c.poseidon_batch(2, 2, in.data(), out.data(), 1, kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("tag 2 is not a domain tag"));
}

TEST(CpuComputeTest, TreeBuildEqualsRowByRowHashing) {
  auto c = make(2, 7);
  for (auto [arity, leaves] : {std::pair<uint32_t, size_t>{8, 8},
                               {8, 512},
                               {8, 4096},
                               {2, 2},
                               {2, 256},
                               {4, 64},
                               {11, 121},
                               {16, 256}}) {
    const Bytes in = random_elements(leaves, arity * 1000 + static_cast<uint32_t>(leaves));
    Bytes rows(sdk::tree_rows_nodes(leaves, arity) * 32, 0xee);
    c.tree_build(arity, in.data(), leaves, rows.data(), kNoJob);
    EXPECT_EQ(rows, reference_rows(arity, in)) << "arity " << arity << ", " << leaves << " leaves";
  }
}

TEST(CpuComputeTest, TreeBuildReproducesTheFilecoinHashersVector) {
  // rust-fil-proofs filecoin-hashers test_poseidon_hasher: binary tree over leaves 1, 0, 0, 1
  // (tests/vectors/poseidon.json "poseidon.fh.tree_1_0_0_1").
  Bytes leaves(4 * 32, 0);
  leaves[0] = 1;
  leaves[3 * 32] = 1;
  auto c = make(2, 1);
  Bytes rows(3 * 32);
  c.tree_build(2, leaves.data(), 4, rows.data(), kNoJob);
  const auto root = *Fr::from_canonical_limbs(
      {0xefbb8be3e291e671, 0x77cc72b8cb2b5ad2, 0x30eb6385ae6b74ae, 0x1effebb7b26ad9eb});
  const auto want = root.to_bytes();
  EXPECT_EQ(Bytes(rows.begin() + 64, rows.end()), Bytes(want.begin(), want.end()));
}

TEST(CpuComputeTest, TreeBuildRefusesLeafCountsThatAreNotPowersOfTheArity) {
  auto c = make(1, 16);
  Bytes in(4096 * 32), out(4096 * 32);
  std::string msg;
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{16}, size_t{48}, size_t{4095}}) {
    EXPECT_EQ(status_of([&] { c.tree_build(8, in.data(), n, out.data(), kNoJob); }, &msg),
              SEALHOST_E_INVALID_ARGUMENT)
        << n;
    EXPECT_THAT(msg, HasSubstr(std::to_string(n) + " leaves is not a power of arity 8"));
  }
  EXPECT_EQ(status_of([&] { c.tree_build(2, in.data(), 6, out.data(), kNoJob); }),
            SEALHOST_E_INVALID_ARGUMENT);
}

TEST(CpuComputeTest, TreeBuildNamesANonCanonicalLeaf) {
  auto c = make(2, 2);
  Bytes in = random_elements(64, 3);
  std::memset(&in[45 * 32], 0xff, 32);
  Bytes out(9 * 32);
  std::string msg;
  EXPECT_EQ(status_of([&] { c.tree_build(8, in.data(), 64, out.data(), kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("tree_build: leaf 45 is not a canonical field element"));
}

TEST(CpuComputeTest, Sha254BatchEqualsSha254Nodes) {
  auto c = make(2, 3);
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{10}, size_t{1001}}) {
    Bytes pairs = random_elements(2 * n, static_cast<uint32_t>(n));
    for (size_t i = 0; i < pairs.size(); i += 7) pairs[i] ^= 0xc0;  // any bytes are valid input
    Bytes want(n * 32), out(n * 32, 0xee);
    proofs::sha256::sha254_nodes(pairs.data(), want.data(), n);
    c.sha254_batch(pairs.data(), out.data(), n, kNoJob);
    EXPECT_EQ(out, want) << n;
  }
}

TEST(CpuComputeTest, Sha254BatchReducesAZeroSectorToItsCommD) {
  // 2 KiB of zeros: 64 leaves, six binary rows (tests/vectors/poseidon.json "commd.empty.2KiB").
  auto c = make(2, 4);
  Bytes row(64 * 32, 0);
  while (row.size() > 32) {
    Bytes next(row.size() / 2);
    c.sha254_batch(row.data(), next.data(), next.size() / 32, kNoJob);
    row = std::move(next);
  }
  static const uint8_t kCommD[32] = {0xfc, 0x7e, 0x92, 0x82, 0x96, 0xe5, 0x16, 0xfa,
                                     0xad, 0xe9, 0x86, 0xb2, 0x8f, 0x92, 0xd4, 0x4a,
                                     0x4f, 0x24, 0xb9, 0x35, 0x48, 0x52, 0x23, 0x37,
                                     0x6a, 0x79, 0x90, 0x27, 0xbc, 0x18, 0xf8, 0x33};
  EXPECT_EQ(row, Bytes(kCommD, kCommD + 32));
}

TEST(CpuComputeTest, OverlappingBuffersGiveTheSameResultsAsSeparateOnes) {
  auto c = make(2, 3);
  const size_t n = 50;
  const Bytes in = random_elements(n * 2, 11);
  Bytes inplace = in;
  c.poseidon_batch(2, 0, inplace.data(), inplace.data(), n, kNoJob);
  EXPECT_EQ(Bytes(inplace.begin(), inplace.begin() + n * 32), reference_poseidon(2, 0, in, n));

  Bytes sha = in;
  Bytes want(n * 32);
  proofs::sha256::sha254_nodes(in.data(), want.data(), n);
  c.sha254_batch(sha.data(), sha.data(), n, kNoJob);
  EXPECT_EQ(Bytes(sha.begin(), sha.begin() + n * 32), want);
}

// Records every progress report of a call; optionally cancels once `cancel_at` hashes are done.
class RecordingJob {
 public:
  explicit RecordingJob(uint64_t cancel_at = UINT64_MAX) : cancel_at_(cancel_at) {
    job_.struct_size = sizeof job_;
    job_.ctx = this;
    job_.progress = [](void* ctx, uint64_t done, uint64_t total, sealhost_str phase) {
      auto* self = static_cast<RecordingJob*>(ctx);
      std::lock_guard lock(self->mu_);
      self->reports.push_back({done, total, std::string(sdk::to_view(phase))});
    };
    job_.cancelled = [](void* ctx) -> int32_t {
      auto* self = static_cast<RecordingJob*>(ctx);
      std::lock_guard lock(self->mu_);
      self->checks++;
      return !self->reports.empty() && self->reports.back().done >= self->cancel_at_;
    };
  }
  sdk::Job job() { return sdk::Job(&job_); }

  struct Report {
    uint64_t done, total;
    std::string phase;
  };
  std::vector<Report> reports;
  int checks = 0;

 private:
  sealhost_job job_{};
  uint64_t cancel_at_;
  std::mutex mu_;
};

TEST(CpuComputeTest, ProgressIsMonotonicAndEndsAtTheTotal) {
  auto c = make(2, 64);
  const size_t leaves = 8 * 8 * 8 * 8;  // rows of 512, 64, 8, 1 parents
  const Bytes in = random_elements(leaves, 5);
  Bytes rows(sdk::tree_rows_nodes(leaves, 8) * 32);
  RecordingJob rec;
  c.tree_build(8, in.data(), leaves, rows.data(), rec.job());
  ASSERT_FALSE(rec.reports.empty());
  uint64_t last = 0;
  for (const auto& r : rec.reports) {
    EXPECT_EQ(r.total, 585u) << "total is every hash of the tree";
    EXPECT_GE(r.done, last) << "progress went backwards";
    last = r.done;
  }
  EXPECT_EQ(rec.reports.back().done, 585u);
  EXPECT_GT(rec.checks, 4) << "cancel is polled between tasks";
  bool saw_row1 = false;
  for (const auto& r : rec.reports) saw_row1 |= r.phase == "row 1/4";
  EXPECT_TRUE(saw_row1) << "phases name the row";
}

TEST(CpuComputeTest, CancelStopsTheCallWithCancelled) {
  for (unsigned threads : {1u, 2u}) {
    auto c = make(threads, 16);
    const size_t n = 4096;
    const Bytes in = random_elements(n * 8, 1);
    Bytes out(n * 32);
    RecordingJob rec(/*cancel_at=*/64);
    std::string msg;
    EXPECT_EQ(status_of([&] { c.poseidon_batch(8, 0, in.data(), out.data(), n, rec.job()); }, &msg),
              SEALHOST_E_CANCELLED);
    EXPECT_THAT(msg, HasSubstr("poseidon_batch: cancelled after"));
    EXPECT_LT(rec.reports.back().done, n) << "the call stopped early (" << threads << " threads)";

    sdk::testing::FakeJob pre;
    pre.cancel();
    EXPECT_EQ(status_of([&] { c.sha254_batch(in.data(), out.data(), 100, sdk::Job(pre.c())); }),
              SEALHOST_E_CANCELLED)
        << "a job cancelled before the call starts does no work";
    EXPECT_EQ(status_of([&] { c.tree_build(8, in.data(), 512, out.data(), sdk::Job(pre.c())); }),
              SEALHOST_E_CANCELLED);
  }
}

TEST(CpuComputeTest, ConcurrentCallsOnOneInstance) {
  auto c = make(2, 8);
  constexpr int kCallers = 4;
  std::vector<std::thread> callers;
  std::vector<int> wrong(kCallers, 0);
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        const size_t n = 100 + static_cast<size_t>(t * 10 + round);
        const uint32_t arity = t % 2 ? 8 : 4;
        const Bytes in = random_elements(n * arity, static_cast<uint32_t>(t * 7 + round));
        Bytes out(n * 32);
        c.poseidon_batch(arity, 0, in.data(), out.data(), n, kNoJob);
        if (out != reference_poseidon(arity, 0, in, n)) ++wrong[t];
        Bytes sha(n / 2 * 32), want(n / 2 * 32);
        c.sha254_batch(in.data(), sha.data(), n / 2, kNoJob);
        proofs::sha256::sha254_nodes(in.data(), want.data(), n / 2);
        if (sha != want) ++wrong[t];
      }
    });
  }
  for (auto& th : callers) th.join();
  for (int t = 0; t < kCallers; ++t) EXPECT_EQ(wrong[t], 0) << "caller " << t;
}

TEST(CpuComputeTest, DeviceInfoDescribesTheCpu) {
  auto c = make(3, 16);
  auto d = c.device_info();
  EXPECT_EQ(d.backend, "cpu");
  EXPECT_EQ(d.compute_units, 3u);
  EXPECT_THAT(d.name, HasSubstr("(3 threads)"));
  EXPECT_GT(d.memory_bytes, 0u);
  EXPECT_EQ(make(0, 16).threads(), ThreadPool::available_cpus()) << "threads = 0 uses every CPU";
}

TEST(CpuComputeTest, CpuModelComesFromTheFirstModelNameLine) {
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nvendor_id\t: AuthenticAMD\n"
                                   "model name\t: AMD EPYC 7B13 64-Core Processor  \n"
                                   "processor\t: 1\nmodel name\t: other\n"),
            "AMD EPYC 7B13 64-Core Processor");
  EXPECT_EQ(cpu_model_from_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\n"), "");
  EXPECT_EQ(cpu_model_from_cpuinfo(""), "");
}

// The SDK thunks check what the C signature cannot: null buffers and overflowing sizes.
TEST(CpuComputeTest, ThunksRefuseNullBuffersAndOverflowingSizes) {
  auto c = make(1, 16);
  const auto& vt = sdk::compute_vtable<CpuCompute>;
  sdk::ErrorSink e;
  uint8_t buf[64] = {};
  EXPECT_EQ(vt.poseidon_batch(&c, 2, 0, nullptr, buf, 1, nullptr, e.c()),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.message, HasSubstr("`inputs` is null"));
  EXPECT_EQ(vt.poseidon_batch(&c, 2, 0, buf, buf, SIZE_MAX / 4, nullptr, e.c()),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.message, HasSubstr("overflow"));
  EXPECT_EQ(vt.tree_build(&c, 2, buf, 2, nullptr, nullptr, e.c()), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.message, HasSubstr("`rows_out` is null"));
  EXPECT_EQ(vt.sha254_batch(&c, buf, nullptr, 1, nullptr, e.c()), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_EQ(vt.sha254_batch(&c, nullptr, nullptr, 0, nullptr, e.c()), SEALHOST_OK)
      << "an empty batch needs no buffers";
  sdk::DeviceInfo got;
  EXPECT_EQ(vt.device_info(
                &c,
                [](void* ctx, const sealhost_compute_device_info* d) {
                  *static_cast<sdk::DeviceInfo*>(ctx) = sdk::from_c(*d);
                },
                &got, e.c()),
            SEALHOST_OK);
  EXPECT_EQ(got.backend, "cpu");
}

}  // namespace
}  // namespace sealhost::compute_cpu
