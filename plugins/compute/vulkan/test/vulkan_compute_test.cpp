// sealhost.compute.vulkan without the loader: VulkanCompute on the machine's Vulkan device (Mesa
// lavapipe in CI) against the proofs libraries, including the paths only small work buffers reach
// (chunked batches, trees built as subtrees), progress and cancel, device selection and options.
#include "plugins/compute/vulkan/vulkan_compute.hpp"
#include "plugins/compute/vulkan/options.hpp"
#include "plugins/compute/vulkan/vulkan_context.hpp"
#include "proofs/field/fr.hpp"
#include "proofs/merkle/merkle.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/testing.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace sealhost::compute_vulkan {
namespace {

namespace poseidon = proofs::poseidon;
using proofs::field::Fr;
using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

const sdk::Job kNoJob(nullptr);

Bytes random_elements(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(count * 32);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  for (size_t i = 0; i < count; ++i) b[i * 32 + 31] &= 0x3f;
  const auto r_minus_1 = (Fr::zero() - Fr::one()).to_bytes();
  for (size_t i = 0; i < count; i += 13) std::memcpy(&b[i * 32], r_minus_1.data(), 32);
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
    for (size_t j = 0; j < arity; ++j) e[j] = Fr::from_bytes_checked(&in[(i * arity + j) * 32]);
    poseidon::hash_constant_length(arity, e).to_bytes(&out[i * 32]);
  }
  return out;
}

Bytes reference_rows(uint32_t arity, const Bytes& leaves) {
  Bytes rows, row = leaves;
  while (row.size() > 32) {
    Bytes next(row.size() / arity);
    proofs::merkle::hash_row(proofs::merkle::NodeHash::kPoseidon, arity, row.data(), next.data(),
                             next.size() / 32);
    rows.insert(rows.end(), next.begin(), next.end());
    row = std::move(next);
  }
  return rows;
}

template <class Fn>
sealhost_status status_of(Fn&& fn, std::string* message = nullptr) {
  try {
    fn();
    return SEALHOST_OK;
  } catch (const sdk::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
}

// Records progress; cancels once `cancel_at` hashes are reported done.
class RecordingJob {
 public:
  explicit RecordingJob(uint64_t cancel_at = UINT64_MAX) : cancel_at_(cancel_at) {
    job_.struct_size = sizeof job_;
    job_.ctx = this;
    job_.progress = [](void* ctx, uint64_t done, uint64_t total, sealhost_str) {
      static_cast<RecordingJob*>(ctx)->reports.emplace_back(done, total);
    };
    job_.cancelled = [](void* ctx) -> int32_t {
      auto* self = static_cast<RecordingJob*>(ctx);
      return !self->reports.empty() && self->reports.back().first >= self->cancel_at_;
    };
  }
  sdk::Job job() { return sdk::Job(&job_); }
  std::vector<std::pair<uint64_t, uint64_t>> reports;

 private:
  sealhost_job job_{};
  uint64_t cancel_at_;
};

VulkanOptions options(size_t batch = kAutoBatch) {
  VulkanOptions o;
  o.batch = batch;
  return o;
}

// One instance for the tests that do not change options: pipelines are built once per arity.
VulkanCompute& shared() {
  static VulkanCompute* c = new VulkanCompute(options());
  return *c;
}

TEST(VulkanComputeTest, DeviceInfoNamesTheVulkanDevice) {
  const auto d = shared().device_info();
  EXPECT_EQ(d.backend, "vulkan");
  EXPECT_FALSE(d.name.empty());
  EXPECT_GE(d.compute_units, 1u);
  EXPECT_GT(d.memory_bytes, 0u);
  EXPECT_GT(shared().work_capacity(), uint64_t{1} << 20);
  EXPECT_THAT(shared().batch(), ::testing::AnyOf(kGpuBatch, kCpuDriverBatch))
      << "batch = 0 picks the submission size by device type";
}

TEST(VulkanComputeTest, FilecoinAritiesAndTheWidestEqualTheLibrary) {
  // The arities Filecoin trees and columns use and the widest state; compute_suite covers all
  // seven (each arity is a pipeline the driver compiles, ~2 CPU-s on lavapipe without its cache).
  for (size_t arity : {2u, 8u, 11u, 36u}) {
    const auto a = static_cast<uint32_t>(arity);
    for (uint32_t tag : {sdk::kTagMerkleTree, sdk::kTagConstantLength}) {
      const size_t n = 67;  // more than one workgroup of 64
      const Bytes in = random_elements(n * arity, arity * 10 + tag);
      Bytes out(n * 32);
      shared().poseidon_batch(a, tag, in.data(), out.data(), n, kNoJob);
      EXPECT_EQ(out, reference_poseidon(a, tag, in, n)) << "arity " << arity << " tag " << tag;
    }
  }
}

TEST(VulkanComputeTest, NeptuneVectorsAtArity2And8) {
  // neptune poseidon.rs hash_values: preimage [0, 1, ..., a-1], MerkleTree tag (spec §7).
  struct V {
    uint32_t arity;
    std::array<uint64_t, 4> limbs;
  };
  for (const V& v :
       {V{2, {0x2e203c369a02e7ff, 0xa6fba9339d05a69d, 0x739e0fd902efe161, 0x396508d75e76a56b}},
        V{8, {0x2a9934f56d38a5e6, 0x4b682e9d9cc4aed9, 0x1201004211677077, 0x2394611da3a5de55}}}) {
    Bytes in(v.arity * 32, 0);
    for (uint32_t i = 0; i < v.arity; ++i) Fr::from_u64(i).to_bytes(&in[i * 32]);
    Bytes out(32);
    shared().poseidon_batch(v.arity, sdk::kTagMerkleTree, in.data(), out.data(), 1, kNoJob);
    const auto want = Fr::from_canonical_limbs(v.limbs)->to_bytes();
    EXPECT_EQ(out, Bytes(want.begin(), want.end())) << "arity " << v.arity;
  }
}

TEST(VulkanComputeTest, SmallBatchesSplitACallIntoManySubmissions) {
  VulkanCompute c(options(kMinBatch));
  const size_t n = 1000;  // 16 submissions of 64, the last one short
  const Bytes in = random_elements(n * 2, 5);
  Bytes out(n * 32);
  RecordingJob rec;
  c.poseidon_batch(2, sdk::kTagMerkleTree, in.data(), out.data(), n, rec.job());
  EXPECT_EQ(out, reference_poseidon(2, sdk::kTagMerkleTree, in, n));
  ASSERT_GE(rec.reports.size(), 16u);
  uint64_t last = 0;
  for (const auto& [done, total] : rec.reports) {
    EXPECT_EQ(total, n);
    EXPECT_GE(done, last);
    last = done;
  }
  EXPECT_EQ(rec.reports.back().first, n);
}

TEST(VulkanComputeTest, ChunksBiggerThanTheWorkBufferAndReportsTheRightBadIndex) {
  VulkanCompute c(options(kMinBatch));
  c.limit_work_capacity(8192);  // 85 arity-2 hashes or 85 sha nodes per chunk
  const size_t n = 300;
  Bytes in = random_elements(n * 2, 6);
  Bytes out(n * 32);
  for (uint32_t tag : {sdk::kTagMerkleTree, sdk::kTagConstantLength}) {
    c.poseidon_batch(2, tag, in.data(), out.data(), n, kNoJob);
    EXPECT_EQ(out, reference_poseidon(2, tag, in, n)) << "tag " << tag;
  }
  Bytes sha(n * 32), want(n * 32);
  c.sha254_batch(in.data(), sha.data(), n, kNoJob);
  proofs::sha256::sha254_nodes(in.data(), want.data(), n);
  EXPECT_EQ(sha, want);

  // Element 555 is in the fourth chunk: the index is the caller's, not the chunk's.
  std::memset(&in[555 * 32], 0xff, 32);
  std::memset(&in[590 * 32], 0xff, 32);
  std::string msg;
  EXPECT_EQ(status_of([&] { c.poseidon_batch(2, 0, in.data(), out.data(), n, kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("input element 555 is not a canonical field element"));
}

TEST(VulkanComputeTest, TreesBiggerThanTheWorkBufferAreBuiltAsSubtrees) {
  VulkanCompute c(options(kMinBatch));
  // 4096 leaves of arity 8 need 149 KiB; 40 KiB holds a 512-leaf subtree (18.3 KiB) but not 4096.
  c.limit_work_capacity(40 * 1024);
  const Bytes leaves = random_elements(4096, 7);
  Bytes rows(sdk::tree_rows_nodes(4096, 8) * 32);
  RecordingJob rec;
  c.tree_build(8, leaves.data(), 4096, rows.data(), rec.job());
  EXPECT_EQ(rows, reference_rows(8, leaves));
  ASSERT_FALSE(rec.reports.empty());
  EXPECT_EQ(rec.reports.back().first, sdk::tree_rows_nodes(4096, 8));
  uint64_t last = 0;
  for (const auto& [done, total] : rec.reports) {
    EXPECT_EQ(total, sdk::tree_rows_nodes(4096, 8));
    EXPECT_GE(done, last) << "progress went backwards across subtrees";
    last = done;
  }

  // A bad leaf in the third subtree is named by its index in the whole tree.
  Bytes bad = leaves;
  std::memset(&bad[1500 * 32], 0xff, 32);
  std::string msg;
  EXPECT_EQ(status_of([&] { c.tree_build(8, bad.data(), 4096, rows.data(), kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("leaf 1500 "));

  // Arity 2 with subtrees of 2 leaves at the top: several levels of recursion.
  c.limit_work_capacity(256);
  const Bytes bin = random_elements(64, 8);
  Bytes bin_rows(63 * 32);
  c.tree_build(2, bin.data(), 64, bin_rows.data(), kNoJob);
  EXPECT_EQ(bin_rows, reference_rows(2, bin));

  // Not even the smallest subtree fits: RESOURCE_EXHAUSTED naming the fix.
  c.limit_work_capacity(512);
  EXPECT_EQ(status_of([&] { c.tree_build(36, bad.data(), 36 * 36, rows.data(), kNoJob); }, &msg),
            SEALHOST_E_RESOURCE_EXHAUSTED);
  EXPECT_THAT(msg, HasSubstr("raise memory_limit"));
}

TEST(VulkanComputeTest, OverlappingBuffersAreReadBeforeWritten) {
  const size_t n = 100;
  const Bytes in = random_elements(n * 2, 9);
  Bytes inplace = in;
  shared().poseidon_batch(2, 0, inplace.data(), inplace.data(), n, kNoJob);
  EXPECT_EQ(Bytes(inplace.begin(), inplace.begin() + n * 32), reference_poseidon(2, 0, in, n));
  Bytes sha = in, want(n * 32);
  proofs::sha256::sha254_nodes(in.data(), want.data(), n);
  shared().sha254_batch(sha.data(), sha.data(), n, kNoJob);
  EXPECT_EQ(Bytes(sha.begin(), sha.begin() + n * 32), want);
}

TEST(VulkanComputeTest, TheStagedPathOfDiscreteGpusGivesTheSameResults) {
  VulkanOptions o = options();
  o.force_staging = true;
  o.memory_limit = kMinMemoryLimit;  // 2 MiB of staging: bigger copies take several rounds
  VulkanCompute c(o);
  EXPECT_FALSE(c.mapped_memory());
  const size_t n = 100000;  // 6.4 MB of pairs through a 2 MiB staging buffer
  const Bytes pairs = random_elements(2 * n, 12);
  Bytes sha(n * 32), want(n * 32);
  c.sha254_batch(pairs.data(), sha.data(), n, kNoJob);
  proofs::sha256::sha254_nodes(pairs.data(), want.data(), n);
  EXPECT_EQ(sha, want);

  const Bytes in = random_elements(300 * 11, 13);
  Bytes out(300 * 32);
  c.poseidon_batch(11, sdk::kTagConstantLength, in.data(), out.data(), 300, kNoJob);
  EXPECT_EQ(out, reference_poseidon(11, sdk::kTagConstantLength, in, 300));

  const Bytes leaves = random_elements(4096, 14);
  Bytes rows(sdk::tree_rows_nodes(4096, 8) * 32);
  c.tree_build(8, leaves.data(), 4096, rows.data(), kNoJob);
  EXPECT_EQ(rows, reference_rows(8, leaves));

  Bytes bad = in;
  std::memset(&bad[77 * 32], 0xff, 32);
  std::string msg;
  EXPECT_EQ(status_of([&] { c.poseidon_batch(11, 0, bad.data(), out.data(), 300, kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("input element 77 ")) << "the status word is read back staged too";
}

TEST(VulkanComputeTest, CancelStopsBetweenSubmissionsAndTheInstanceKeepsWorking) {
  VulkanCompute c(options(kMinBatch));
  const size_t n = 2000;
  const Bytes in = random_elements(n * 2, 10);
  Bytes out(n * 32);
  RecordingJob rec(128);  // cancel after the second submission
  std::string msg;
  EXPECT_EQ(status_of([&] { c.poseidon_batch(2, 0, in.data(), out.data(), n, rec.job()); }, &msg),
            SEALHOST_E_CANCELLED);
  EXPECT_THAT(msg, HasSubstr("poseidon_batch: cancelled after 128 of 2000 hashes"));
  EXPECT_EQ(rec.reports.back().first, 128u) << "no report after the cancel was seen";
  c.poseidon_batch(2, 0, in.data(), out.data(), n, kNoJob);
  EXPECT_EQ(out, reference_poseidon(2, 0, in, n));
}

TEST(VulkanComputeTest, ErrorsNameTheCallAndTheFix) {
  Bytes in = random_elements(64, 11);
  Bytes out(64 * 32);
  std::string msg;
  EXPECT_EQ(
      status_of([&] { shared().poseidon_batch(3, 0, in.data(), out.data(), 1, kNoJob); }, &msg),
      SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("poseidon_batch: arity 3 is not supported (use one of 2, 4, 8, 11, "
                             "16, 24, 36)"));
  EXPECT_EQ(
      status_of([&] { shared().poseidon_batch(2, 7, in.data(), out.data(), 1, kNoJob); }, &msg),
      SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("tag 7 is not a domain tag"));
  EXPECT_EQ(status_of([&] { shared().tree_build(8, in.data(), 16, out.data(), kNoJob); }, &msg),
            SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("16 leaves is not a power of arity 8"));
}

TEST(VulkanComputeTest, OptionsAreValidated) {
  VulkanOptions o;
  o.batch = 1;
  std::string msg;
  EXPECT_EQ(status_of([&] { o.validate(); }, &msg), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("batch 1: out of range"));
  o = VulkanOptions{};
  o.memory_limit = 4096;
  EXPECT_EQ(status_of([&] { o.validate(); }, &msg), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("memory_limit 4096 bytes: too small"));

  sdk::testing::FakeHost host;
  auto opts = sdk::testing::defaults(kOptions);
  opts.set_text("batch", "256");
  opts.set_text("memory_limit", "\"64MiB\"");
  VulkanCompute c(host.context(VulkanCompute::kId, opts));
  EXPECT_EQ(c.batch(), 256u);
  EXPECT_LE(c.work_capacity(), uint64_t{64} << 20);
  bool logged = false;
  for (const auto& line : host.lines()) logged = logged || line.message.find("compute on") == 0;
  EXPECT_TRUE(logged) << "the device is logged at creation";
}

TEST(VulkanComputeTest, AnUnknownDeviceIsAnInvalidArgumentListingTheDevices) {
  VulkanOptions o;
  o.device = "no-such-gpu-anywhere";
  std::string msg;
  EXPECT_EQ(status_of([&] { VulkanCompute c(o); }, &msg), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("device \"no-such-gpu-anywhere\": no such Vulkan device (have 0 \""));
  o.device = "99";
  EXPECT_EQ(status_of([&] { VulkanCompute c(o); }, &msg), SEALHOST_E_INVALID_ARGUMENT);
  // The first device by index and by a piece of its name.
  const std::string name = shared().device_info().name;
  o.device = "0";
  EXPECT_EQ(VulkanCompute(o).device_info().name, name);
  o.device = name.substr(0, 4);
  EXPECT_EQ(VulkanCompute(o).device_info().name, name);
}

TEST(SelectDeviceTest, PrefersDiscreteGpusAndMatchesIndexOrName) {
  std::vector<PhysicalDevice> d(3);
  d[0] = {0, VK_NULL_HANDLE, "llvmpipe (LLVM 15)", VK_PHYSICAL_DEVICE_TYPE_CPU, 1, true};
  d[1] = {1, VK_NULL_HANDLE, "Intel UHD 770", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, 1, true};
  d[2] = {2, VK_NULL_HANDLE, "NVIDIA RTX 4090", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 1, true};
  EXPECT_EQ(select_device(d, "").index, 2u);
  EXPECT_EQ(select_device(d, "1").index, 1u);
  EXPECT_EQ(select_device(d, "rtx").index, 2u);
  EXPECT_EQ(select_device(d, "LLVMPIPE").index, 0u);
  d[2].has_compute_queue = false;
  EXPECT_EQ(select_device(d, "").index, 1u) << "a device without a compute queue is skipped";
  std::string msg;
  EXPECT_EQ(status_of([&] { select_device(d, "2"); }, &msg), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("has no compute queue"));
  EXPECT_EQ(status_of([&] { select_device(d, "amd"); }, &msg), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(msg, HasSubstr("have 0 \"llvmpipe (LLVM 15)\", 1 \"Intel UHD 770\", 2 \"NVIDIA"));
  EXPECT_EQ(status_of([&] { select_device({}, ""); }, &msg), SEALHOST_E_UNAVAILABLE);
  EXPECT_EQ(msg, kNoDeviceMessage);
}

}  // namespace
}  // namespace sealhost::compute_vulkan
