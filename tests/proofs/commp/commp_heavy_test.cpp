// Hashes the large zero-piece vectors for real (streaming the same zero buffer through the
// hasher in constant memory) instead of trusting the zero table. Minutes of CPU: label heavy.
#include <gtest/gtest.h>

#include <string>

#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "tests/proofs/commp/vector_data.hpp"

namespace sealhost::proofs::commp {
namespace {

TEST(CommpHeavy, LargeZeroPiecesStreamedThroughTwoThreads) {
  const std::vector<uint8_t> zeros(CommpHasher(2).batch_bytes(), 0);
  size_t checked = 0;
  for (const auto& v : testing::load_commp_vectors()) {
    const std::string id = v.at("id");
    // (commp.commcid.empty32g/64g repeat the 32/64 GiB roots below.)
    if (!id.starts_with("commp.zero.")) continue;
    const auto& gen = v["input"]["data"];
    const uint64_t n = testing::generated_size(gen);
    if (n <= (uint64_t{64} << 20)) continue;  // the vectors test hashes these already
    ASSERT_TRUE(testing::all_zero(gen)) << id;
    SCOPED_TRACE(id);
    CommpHasher h(2);
    for (uint64_t done = 0; done < n;) {
      const uint64_t len = std::min<uint64_t>(zeros.size(), n - done);
      h.update({zeros.data(), static_cast<size_t>(len)});
      done += len;
    }
    const CommpResult r = h.finish();
    const auto& e = v["expected"];
    EXPECT_EQ(testing::to_hex(r.comm_p), e["root_hex"].get<std::string>());
    EXPECT_EQ(cid::piece_cid_v1(r.comm_p), e["cid"].get<std::string>());
    EXPECT_EQ(r.padded_piece_size, v["input"]["padded_size"].get<uint64_t>());
    ++checked;
  }
  EXPECT_EQ(checked, 10u) << "zero pieces of 128 MiB .. 64 GiB";
}

}  // namespace
}  // namespace sealhost::proofs::commp
