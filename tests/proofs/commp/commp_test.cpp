#include "proofs/commp/commp.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "proofs/fr32/fr32.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::commp {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Independent reference: zero-extend the payload to the unpadded piece size, fr32-pad it all,
// and compute the tree level by level.
Node reference_commp(const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> full = payload;
  full.resize(unpadded_piece_size(payload.size()), 0);
  return merkle_root(fr32::pad(full));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sealhost-commp-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& p, const std::vector<uint8_t>& data) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

TEST(Commp, SizeRules) {
  EXPECT_EQ(padded_piece_size(65), 128u);
  EXPECT_EQ(padded_piece_size(127), 128u);
  EXPECT_EQ(padded_piece_size(128), 256u);
  EXPECT_EQ(padded_piece_size(1016), 1024u);
  EXPECT_EQ(padded_piece_size(1017), 2048u);
  EXPECT_EQ(padded_piece_size(34091302912), 34359738368u);
  EXPECT_EQ(unpadded_piece_size(1017), 2032u);
  EXPECT_EQ(tree_level(2048), 6u);
}

TEST(Commp, ZeroTableEdges) {
  EXPECT_EQ(zero_commitment(0), Node{});
  EXPECT_THROW(zero_commitment(kMaxTreeLevel + 1), std::out_of_range);
  EXPECT_THROW(zero_piece_commitment(96), CommpError);
  EXPECT_THROW(zero_piece_commitment(kMaxPaddedPieceBytes * 2), CommpError);
  const std::vector<uint8_t> zeros(4096, 0);
  EXPECT_EQ(zero_piece_commitment(4096), merkle_root(zeros));
}

TEST(Commp, StreamingInRandomPiecesMatchesReferenceForAnyThreadCount) {
  std::mt19937_64 rng(20);
  // Sizes around quad, chunk, 1 MiB-segment and 8 MiB-batch boundaries, plus several batches and
  // a tail.
  const std::vector<size_t> sizes = {1040383,
                                     1040384,
                                     1040385,
                                     2 * 8323072 + 1040384 * 3 + 5,
                                     65,
                                     126,
                                     127,
                                     128,
                                     1017,
                                     65024,
                                     65025,
                                     130047,
                                     4161535,
                                     4161536,
                                     4161537,
                                     8323072 + 12345,
                                     3 * 4161536 + 1};
  for (size_t n : sizes) {
    const auto payload = random_bytes(rng, n);
    const Node want = reference_commp(payload);
    for (unsigned threads : {1u, 2u, 3u}) {
      CommpHasher h(threads);
      size_t pos = 0;
      while (pos < n) {
        // Mix tiny writes with writes larger than a batch.
        const size_t len = std::min(n - pos, rng() % 2 ? 1 + rng() % 1000 : 1 + rng() % 9000000);
        h.update({payload.data() + pos, len});
        pos += len;
      }
      const CommpResult r = h.finish();
      ASSERT_EQ(r.comm_p, want) << n << " bytes, " << threads << " threads";
      ASSERT_EQ(r.payload_size, n);
      ASSERT_EQ(r.padded_piece_size, padded_piece_size(n));
    }
  }
}

TEST(Commp, PaddedInputIsZeroExtendedToAPowerOfTwo) {
  std::mt19937_64 rng(21);
  for (size_t nodes : {1u, 3u, 4u, 5u, 64u, 100u, 131072u + 7u}) {
    const auto padded = random_bytes(rng, 32 * nodes);
    std::vector<uint8_t> full = padded;
    full.resize(std::max<size_t>(128, std::bit_ceil(full.size())), 0);
    for (unsigned threads : {1u, 2u}) {
      const CommpResult r = commp_padded(padded, threads);
      EXPECT_EQ(r.comm_p, merkle_root(full)) << nodes << " nodes";
      EXPECT_EQ(r.padded_piece_size, full.size());
    }
  }
}

TEST(Commp, RejectsBadInput) {
  const std::vector<uint8_t> small(64, 1);
  EXPECT_THROW(commp(small), CommpError);
  try {
    commp(small);
  } catch (const CommpError& e) {
    EXPECT_NE(std::string(e.what()).find("64 bytes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(commp_padded(std::vector<uint8_t>(33, 0)), CommpError);
  EXPECT_THROW(commp_padded(std::vector<uint8_t>{}), CommpError);
  CommpHasher h;
  h.update(std::vector<uint8_t>(100, 1));
  h.finish();
  EXPECT_THROW(h.update(small), std::logic_error);
  EXPECT_THROW(h.finish(), std::logic_error);
  EXPECT_THROW(merkle_root(std::vector<uint8_t>(96, 0)), CommpError);
}

TEST(CommpFile, MatchesInMemoryAndReportsProgress) {
  TempDir dir;
  std::mt19937_64 rng(22);
  const auto payload = random_bytes(rng, 20000001);  // more than one 2-thread batch
  write_file(dir.path() / "payload", payload);
  const Node want = commp(payload).comm_p;
  for (unsigned threads : {1u, 2u}) {
    uint64_t last = 0;
    int calls = 0;
    const CommpResult r =
        commp_file(dir.path() / "payload", threads, [&](uint64_t done, uint64_t total) {
          EXPECT_EQ(total, payload.size());
          EXPECT_GT(done, last);
          last = done;
          ++calls;
        });
    EXPECT_EQ(r.comm_p, want);
    EXPECT_EQ(r.payload_size, payload.size());
    EXPECT_EQ(last, payload.size());
    EXPECT_GE(calls, 2);
  }
}

TEST(CommpFile, Errors) {
  TempDir dir;
  auto expect_error = [](const fs::path& p, const std::string& fragment) {
    try {
      commp_file(p, 1);
      ADD_FAILURE() << "no error for " << p;
    } catch (const CommpError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  };
  expect_error(dir.path() / "missing", "No such file");
  write_file(dir.path() / "tiny", std::vector<uint8_t>(64, 1));
  expect_error(dir.path() / "tiny", "below the minimum");
  expect_error(dir.path(), "not a regular file");
  // A sparse file one byte past the 64 GiB piece is refused before anything is read.
  const fs::path huge = dir.path() / "huge";
  write_file(huge, {});
  fs::resize_file(huge, kMaxPaddedPieceBytes / 128 * 127 + 1);
  expect_error(huge, "64 GiB");
}

TEST(CommpFile, FileShrinkingWhileReadIsAShortRead) {
  TempDir dir;
  const fs::path p = dir.path() / "shrinks";
  const size_t batch = CommpHasher(1).batch_bytes();
  // The reader is at most two batches ahead when the file is cut to one batch, so a later read
  // always hits the early end of file.
  write_file(p, std::vector<uint8_t>(6 * batch, 7));
  try {
    commp_file(p, 1, [&](uint64_t, uint64_t) { fs::resize_file(p, batch); });
    ADD_FAILURE() << "no error for a shrinking file";
  } catch (const CommpError& e) {
    EXPECT_NE(std::string(e.what()).find("short read"), std::string::npos) << e.what();
  }
}

// Writes pieces at the offsets add_piece would use and returns the padded sector bytes.
std::vector<uint8_t> sector_bytes(uint64_t sector,
                                  const std::vector<std::vector<uint8_t>>& pieces) {
  std::vector<uint8_t> out(sector, 0);
  uint64_t at = 0;
  for (const auto& p : pieces) {
    at = (at + p.size() - 1) / p.size() * p.size();
    std::copy(p.begin(), p.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    at += p.size();
  }
  return out;
}

TEST(CommD, MixedPiecesMatchDirectTreeOverTheSector) {
  std::mt19937_64 rng(23);
  const uint64_t sector = 64 * 1024;
  for (int iter = 0; iter < 30; ++iter) {
    std::vector<std::vector<uint8_t>> padded_pieces;
    std::vector<PieceInfo> infos;
    uint64_t used = 0;
    for (;;) {
      const uint64_t size = uint64_t{128} << (rng() % 8);
      const uint64_t aligned = (used + size - 1) / size * size;
      if (aligned + size > sector || rng() % 6 == 0) break;
      std::vector<uint8_t> payload = random_bytes(rng, size / 128 * 127);
      padded_pieces.push_back(fr32::pad(payload));
      infos.push_back({commp(payload).comm_p, size});
      used = aligned + size;
    }
    const auto bytes = sector_bytes(sector, padded_pieces);
    ASSERT_EQ(comm_d(sector, infos), merkle_root(bytes)) << "iteration " << iter;
  }
}

TEST(CommD, LayoutMatchesSpecExample) {
  const Node a{1};
  const Node b{2};
  const std::vector<PieceInfo> pieces = {{a, 128}, {b, 512}};
  const auto layout = sector_piece_layout(2048, pieces);
  ASSERT_EQ(layout.size(), 5u);
  const uint64_t sizes[] = {128, 128, 256, 512, 1024};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(layout[i].padded_size, sizes[i]) << i;
  EXPECT_EQ(layout[0].comm, a);
  EXPECT_EQ(layout[1].comm, zero_piece_commitment(128));
  EXPECT_EQ(layout[3].comm, b);
  // join_pieces stops at the smallest tree holding the pieces (rust compute_comm_d).
  EXPECT_EQ(join_pieces(std::vector<PieceInfo>{{a, 128}}), a);
}

TEST(CommD, Errors) {
  const std::vector<PieceInfo> too_big = {{Node{}, 1024}, {Node{}, 2048}};
  EXPECT_THROW(comm_d(2048, too_big), CommpError);
  EXPECT_THROW(comm_d(2048, std::vector<PieceInfo>{{Node{}, 100}}), CommpError);
  EXPECT_THROW(comm_d(3000, {}), CommpError);
  EXPECT_THROW(join_pieces({}), CommpError);
}

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(TreeD, FileLayoutIsAllLevelsLeavesFirst) {
  TempDir dir;
  std::mt19937_64 rng(24);
  // 2 KiB (one chunk), 4 MiB (several 1 MiB chunks + levels above the chunk).
  for (size_t size : {size_t{2048}, size_t{4} << 20}) {
    const auto data = random_bytes(rng, size);
    write_file(dir.path() / "unsealed", data);
    const Node root = write_tree_d(dir.path() / "unsealed", dir.path() / "tree-d");
    std::vector<uint8_t> expected = data;
    std::vector<uint8_t> row = data;
    while (row.size() > 32) {
      std::vector<uint8_t> next(row.size() / 2);
      sha256::sha254_nodes(row.data(), next.data(), next.size() / 32);
      expected.insert(expected.end(), next.begin(), next.end());
      row = next;
    }
    const auto file = read_file(dir.path() / "tree-d");
    ASSERT_EQ(file.size(), 2 * size - 32);
    EXPECT_TRUE(file == expected) << size << " bytes";
    EXPECT_EQ(0, std::memcmp(root.data(), row.data(), 32));
  }
}

TEST(TreeD, Errors) {
  TempDir dir;
  write_file(dir.path() / "odd", std::vector<uint8_t>(96, 0));
  EXPECT_THROW(write_tree_d(dir.path() / "odd", dir.path() / "t"), CommpError);
  EXPECT_THROW(write_tree_d(dir.path() / "missing", dir.path() / "t"), CommpError);
  write_file(dir.path() / "ok", std::vector<uint8_t>(2048, 0));
  EXPECT_THROW(write_tree_d(dir.path() / "ok", dir.path() / "no/such/dir/t"), CommpError);
}

}  // namespace
}  // namespace sealhost::proofs::commp
