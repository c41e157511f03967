// OpenClCompute alone (no loader), on whatever OpenCL device the machine has (POCL's CPU device
// in CI): results equal the proofs libraries for every arity and tag with launches split in many
// small pieces, trees that do not fit the memory limit, overlapping buffers, device selection,
// option and input errors, progress and cancel. Sizes stay small: POCL runs the kernels on the
// CPU at a few thousand hashes per second per core.
#include "plugins/compute/opencl/opencl_compute.hpp"

#include "proofs/field/fr.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sha256/sha256.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/testing.hpp>

#include <cstring>
#include <random>
#include <vector>

namespace sealhost::compute_opencl {
namespace {

namespace poseidon = proofs::poseidon;
using proofs::field::Fr;
using sdk::testing::error_of;
using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

Bytes random_elements(size_t count, uint32_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(count * 32);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  for (size_t i = 0; i < count; ++i) b[i * 32 + 31] &= 0x3f;
  // The extremes of the field: r - 1 and 0.
  const auto r_minus_1 = (Fr::zero() - Fr::one()).to_bytes();
  if (count > 0) std::memcpy(b.data(), r_minus_1.data(), 32);
  if (count > 1) std::memset(&b[32], 0, 32);
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

Bytes reference_rows(uint32_t arity, const Bytes& leaves) {
  Bytes rows, row = leaves;
  while (row.size() > 32) {
    const size_t parents = row.size() / 32 / arity;
    Bytes next(parents * 32);
    poseidon::hash_batch_bytes(arity, row.data(), next.data(), parents);
    rows.insert(rows.end(), next.begin(), next.end());
    row = std::move(next);
  }
  return rows;
}

OpenClOptions options(size_t batch_size = 0, uint64_t memory_limit = 0, size_t local_size = 0) {
  OpenClOptions o;
  o.batch_size = batch_size;
  o.memory_limit = memory_limit;
  o.local_size = local_size;
  return o;
}

const sdk::Job kNoJob{nullptr};

TEST(FirstNonCanonical, FindsTheLowestElementAtOrAboveR) {
  Bytes b = random_elements(8, 1);
  EXPECT_EQ(first_non_canonical(b.data(), 8), 8u);
  const auto r = Fr::modulus();
  std::memcpy(&b[5 * 32], r.data(), 32);
  EXPECT_EQ(first_non_canonical(b.data(), 8), 5u) << "r itself is not canonical";
  std::memset(&b[3 * 32], 0xff, 32);
  EXPECT_EQ(first_non_canonical(b.data(), 8), 3u);
  // r - 1 with a lower limb raised past r's: r + 2^64 - 1 in limb 1 order is >= r.
  Bytes above((Fr::zero() - Fr::one()).to_bytes().begin(),
              (Fr::zero() - Fr::one()).to_bytes().end());
  above[8] = static_cast<uint8_t>(above[8] + 1);  // limb 1 of r - 1 plus one: above r
  EXPECT_EQ(first_non_canonical(above.data(), 1), 0u);
  above[8] = static_cast<uint8_t>(above[8] - 2);  // below r
  EXPECT_EQ(first_non_canonical(above.data(), 1), 1u);
}

TEST(ClApi, LoadsTheIcdLoaderAndNamesWhatIsMissing) {
  ClApi api;
  EXPECT_EQ(load_cl_api("libOpenCL.so.1", &api), "");
  EXPECT_NE(api.clGetPlatformIDs, nullptr);
  EXPECT_NE(api.clReleaseEvent, nullptr);
  ClApi none;
  EXPECT_THAT(load_cl_api("libsealhost-no-such-opencl.so.1", &none),
              HasSubstr("libsealhost-no-such-opencl.so.1"));
  EXPECT_EQ(none.clGetPlatformIDs, nullptr) << "a failed load leaves the table untouched";
  // A library without the OpenCL entry points: the first missing function is named.
  EXPECT_THAT(load_cl_api("libm.so.6", &none), HasSubstr("has no clGetPlatformIDs"));
}

TEST(ClError, OutOfMemoryIsResourceExhaustedAndTheRestUnavailable) {
  for (cl_int st : {CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY}) {
    const auto e = cl_error(st, "clCreateBuffer");
    EXPECT_EQ(e.code(), SEALHOST_E_RESOURCE_EXHAUSTED) << cl_status_text(st);
    EXPECT_THAT(e.what(), HasSubstr("clCreateBuffer failed: " + cl_status_text(st)));
    EXPECT_THAT(e.what(), HasSubstr("lower memory_limit or batch_size"));
  }
  const auto e = cl_error(CL_INVALID_KERNEL_ARGS, "launching poseidon arity 8");
  EXPECT_EQ(e.code(), SEALHOST_E_UNAVAILABLE);
  EXPECT_THAT(e.what(), HasSubstr("CL_INVALID_KERNEL_ARGS (-52)"));
  EXPECT_EQ(cl_status_text(-9999), "OpenCL error (-9999)");
}

class OpenClComputeTest : public ::testing::Test {
 protected:
  static OpenClCompute& shared() {
    static OpenClCompute* c = new OpenClCompute(options());
    return *c;
  }
};

TEST_F(OpenClComputeTest, DeviceInfoNamesTheOpenClDevice) {
  const auto d = shared().device_info();
  EXPECT_EQ(d.backend, "opencl");
  EXPECT_FALSE(d.name.empty());
  EXPECT_GE(d.compute_units, 1u);
  EXPECT_GT(d.memory_bytes, 0u);
  EXPECT_EQ(shared().memory_limit(), d.memory_bytes / 2) << "memory_limit 0 = half the device";
  EXPECT_TRUE(shared().batch_size() == d.compute_units * kCpuHashesPerComputeUnit ||
              shared().batch_size() == d.compute_units * kGpuHashesPerComputeUnit)
      << "batch_size 0 = a fixed number of hashes per compute unit";
  EXPECT_EQ(OpenClCompute(options(77)).batch_size(), 77u);
  if (d.name.find("Portable Computing Language") != std::string::npos) {
    EXPECT_EQ(shared().field_kernel(), "int128") << "POCL's clang accepts unsigned __int128";
  }
}

// Hashes n = 7 random preimages per arity and tag with batch_size 3 and local_size 4 (many
// launches, a short last one, global sizes rounded up) and compares with the library.
void expect_small_launches_match(bool portable, std::initializer_list<uint32_t> arities) {
  OpenClOptions o = options(3, 0, 4);
  o.portable_field = portable;
  OpenClCompute c(o);
  if (portable) {
    EXPECT_EQ(c.field_kernel(), "portable");
  }
  for (uint32_t a : arities) {
    for (uint32_t tag : {sdk::kTagMerkleTree, sdk::kTagConstantLength}) {
      const size_t n = 7;
      const Bytes in = random_elements(n * a, a * 10 + tag);
      Bytes out(n * 32);
      c.poseidon_batch(a, tag, in.data(), out.data(), n, kNoJob);
      EXPECT_EQ(out, reference_poseidon(a, tag, in, n))
          << c.field_kernel() << " kernel, arity " << a << " tag " << tag;
    }
  }
}

// Split in two so a cold POCL kernel cache (a few seconds per program build) keeps each test
// short. Both Fr kernels run on the arities a create builds anyway; the portable fr_mul does not
// depend on the arity.
TEST_F(OpenClComputeTest, SealingAritiesEqualTheLibraryWithBothFieldKernels) {
  expect_small_launches_match(false, {2, 8, 11});
  expect_small_launches_match(true, {2, 8, 11});
}

TEST_F(OpenClComputeTest, OtherAritiesEqualTheLibrary) {
  expect_small_launches_match(false, {4, 16, 24, 36});
  size_t covered = 0;
  for (size_t a : poseidon::kSupportedArities)
    covered += a == 2 || a == 4 || a == 8 || a == 11 || a == 16 || a == 24 || a == 36;
  EXPECT_EQ(covered, poseidon::kSupportedArities.size()) << "a new arity needs a line here";
}

TEST_F(OpenClComputeTest, NeptuneVectorPreimageZeroToArity) {
  // neptune poseidon.rs hash_values (spec/poseidon.md §7): preimage [0, 1, ..., a-1], arity 8.
  Bytes in(8 * 32, 0);
  for (size_t i = 0; i < 8; ++i) in[i * 32] = static_cast<uint8_t>(i);
  Bytes out(32);
  shared().poseidon_batch(8, sdk::kTagMerkleTree, in.data(), out.data(), 1, kNoJob);
  const auto want = Fr::from_canonical_limbs(
      {0x2a9934f56d38a5e6, 0x4b682e9d9cc4aed9, 0x1201004211677077, 0x2394611da3a5de55});
  ASSERT_TRUE(want);
  const auto bytes = want->to_bytes();
  EXPECT_EQ(out, Bytes(bytes.begin(), bytes.end()));
}

TEST_F(OpenClComputeTest, OverlappingInputAndOutputAreHashedFromACopy) {
  const size_t n = 40;
  Bytes buf = random_elements(n * 2, 3);
  const Bytes want = reference_poseidon(2, sdk::kTagMerkleTree, buf, n);
  OpenClCompute c(options(16));
  c.poseidon_batch(2, sdk::kTagMerkleTree, buf.data(), buf.data(), n, kNoJob);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + n * 32), want);
}

TEST_F(OpenClComputeTest, TreeRowsEqualTheLibraryAcrossLaunches) {
  OpenClCompute c(options(5));  // rows split into pieces of 5 parents
  for (auto [arity, leaves] : {std::pair<uint32_t, size_t>{8, 512}, {2, 256}, {4, 64}, {11, 121}}) {
    const Bytes in = random_elements(leaves, arity + static_cast<uint32_t>(leaves));
    Bytes rows(sdk::tree_rows_nodes(leaves, arity) * 32);
    c.tree_build(arity, in.data(), leaves, rows.data(), kNoJob);
    EXPECT_EQ(rows, reference_rows(arity, in)) << "arity " << arity << ", " << leaves << " leaves";
  }
}

TEST_F(OpenClComputeTest, TreesLargerThanTheMemoryLimitAreBuiltInSubTrees) {
  OpenClCompute c(options(0, 1 << 20));  // 1 MiB: 16384 arity-2 leaves + rows
  EXPECT_EQ(c.tree_chunk_leaves(2, 65536), 16384u);
  EXPECT_EQ(c.tree_chunk_leaves(2, 8192), 8192u) << "a tree that fits is built whole";
  // 32768 leaves and 4681 rows nodes are 1.2 MB; 4096 leaves and 585 nodes fit.
  EXPECT_EQ(c.tree_chunk_leaves(8, 32768), 4096u);
  // 8 sub-trees of 4096 leaves, then the row of their 8 roots hashed into the root.
  const size_t leaves = 32768;
  const Bytes in = random_elements(leaves, 21);
  Bytes rows(sdk::tree_rows_nodes(leaves, 8) * 32);
  sdk::testing::FakeJob job;
  c.tree_build(8, in.data(), leaves, rows.data(), sdk::Job(job.c()));
  EXPECT_EQ(rows, reference_rows(8, in));
  EXPECT_EQ(job.done(), sdk::tree_rows_nodes(leaves, 8));
  EXPECT_EQ(job.total(), sdk::tree_rows_nodes(leaves, 8));
}

TEST_F(OpenClComputeTest, Sha254EqualsTheLibraryAcrossLaunches) {
  OpenClCompute c(options(2));  // sha254 launches are 8 * batch_size pairs: 16
  for (size_t n : {size_t{1}, size_t{16}, size_t{17}, size_t{100}}) {
    Bytes pairs = random_elements(2 * n, static_cast<uint32_t>(n));
    for (size_t i = 0; i < pairs.size(); i += 3) pairs[i] ^= 0xe7;  // any bytes, not only elements
    Bytes want(n * 32), out(n * 32);
    proofs::sha256::sha254_nodes(pairs.data(), want.data(), n);
    c.sha254_batch(pairs.data(), out.data(), n, kNoJob);
    EXPECT_EQ(out, want) << n << " pairs";
  }
  // In place (out == pairs) is an overlap: hashed from a copy.
  Bytes pairs = random_elements(64, 5);
  Bytes want(32 * 32);
  proofs::sha256::sha254_nodes(pairs.data(), want.data(), 32);
  c.sha254_batch(pairs.data(), pairs.data(), 32, kNoJob);
  EXPECT_EQ(Bytes(pairs.begin(), pairs.begin() + 32 * 32), want);
}

TEST_F(OpenClComputeTest, ProgressCountsHashesAndCancelStopsBetweenLaunches) {
  OpenClCompute c(options(100));
  const size_t n = 1000;
  const Bytes in = random_elements(n * 2, 9);
  Bytes out(n * 32);
  {
    sdk::testing::FakeJob job;
    c.poseidon_batch(2, sdk::kTagMerkleTree, in.data(), out.data(), n, sdk::Job(job.c()));
    EXPECT_EQ(job.done(), n);
    EXPECT_EQ(job.total(), n);
    EXPECT_GE(job.progress_calls(), 10u) << "one report per launch of 100";
  }
  {
    sdk::testing::FakeJob job;
    job.cancel_after_checks(3);  // checks: before the call, then after launches 1, 2 and 3
    const auto e = error_of([&] {
      c.poseidon_batch(2, sdk::kTagMerkleTree, in.data(), out.data(), n, sdk::Job(job.c()));
    });
    EXPECT_EQ(e.code(), SEALHOST_E_CANCELLED) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("cancelled after 300 of 1000 hashes"));
  }
  {
    sdk::testing::FakeJob job;
    job.cancel();
    Bytes rows(sdk::tree_rows_nodes(64, 8) * 32);
    EXPECT_EQ(
        error_of([&] { c.tree_build(8, in.data(), 64, rows.data(), sdk::Job(job.c())); }).code(),
        SEALHOST_E_CANCELLED);
    EXPECT_EQ(
        error_of([&] { c.sha254_batch(in.data(), out.data(), 10, sdk::Job(job.c())); }).code(),
        SEALHOST_E_CANCELLED);
  }
  // The instance keeps working after a cancel.
  c.poseidon_batch(2, sdk::kTagMerkleTree, in.data(), out.data(), n, kNoJob);
  EXPECT_EQ(out, reference_poseidon(2, sdk::kTagMerkleTree, in, n));
}

TEST_F(OpenClComputeTest, BadInputsAreInvalidArgumentsNamingTheProblem) {
  auto& c = shared();
  Bytes in = random_elements(64 * 8, 4);
  Bytes out(64 * 32);
  auto e = error_of([&] { c.poseidon_batch(3, 0, in.data(), out.data(), 1, kNoJob); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("2, 4, 8, 11, 16, 24, 36"));
  e = error_of([&] { c.poseidon_batch(8, 2, in.data(), out.data(), 1, kNoJob); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("tag 2"));
  const auto r = Fr::modulus();
  std::memcpy(&in[77 * 32], r.data(), 32);
  e = error_of([&] { c.poseidon_batch(8, 1, in.data(), out.data(), 64, kNoJob); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("input element 77 "));
  Bytes rows(sdk::tree_rows_nodes(512, 8) * 32);
  e = error_of([&] { c.tree_build(8, in.data(), 512, rows.data(), kNoJob); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("leaf 77 "));
  e = error_of([&] { c.tree_build(8, in.data(), 72, rows.data(), kNoJob); });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("not a power of arity 8"));
}

TEST_F(OpenClComputeTest, DeviceSelectionByIndexAndNameAndItsErrors) {
  const std::string name = shared().device_name();
  OpenClOptions o = options();
  o.platform = "0";
  o.device = "0";
  EXPECT_NO_THROW(OpenClCompute{o});
  // The first word of the chosen device's name, in another case, selects it again.
  o.platform = "";
  o.device = name.substr(0, name.find_first_of(" -(")).substr(0, 4);
  for (char& ch : o.device) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(OpenClCompute(o).device_name(), name);

  o.device = "no such device anywhere";
  auto e = error_of([&] { OpenClCompute{o}; });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("option 'device'"));
  EXPECT_THAT(e.what(), HasSubstr("platform 0"));
  o.device = "";
  o.platform = "97";
  e = error_of([&] { OpenClCompute{o}; });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("option 'platform'"));
}

TEST_F(OpenClComputeTest, OptionsOutsideWhatTheDeviceTakesAreRefused) {
  auto e = error_of([&] { OpenClCompute{options(0, 4096)}; });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("memory_limit"));
  e = error_of([&] { OpenClCompute{options(0, 0, kMaxLocalSize + 1)}; });
  EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
  EXPECT_THAT(e.what(), HasSubstr("local_size"));
}

}  // namespace
}  // namespace sealhost::compute_opencl
