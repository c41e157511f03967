// sealhost.stage.addpiece's implementation alone, driven with the SDK fakes: piece placement,
// commitments against the proofs library and upstream vectors, and every failure path.
#include "plugins/stage/addpiece/add_piece_stage.hpp"

#include "plugins/stage/addpiece/add_piece_record.hpp"
#include "plugins/stage/addpiece/options.hpp"
#include "plugins/stage/addpiece/test/test_files.hpp"
#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/fr32/fr32.hpp"
#include "tests/proofs/commp/vector_data.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/testing.hpp>

#include <csignal>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace sealhost::stage_addpiece {
namespace {

namespace commp = proofs::commp;
namespace cid = proofs::cid;
namespace stdfs = std::filesystem;
using sdk::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::pattern;
using testing::read_file;
using testing::write_file;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t k8MiB = 8 * kMiB;

// A job whose progress callback runs a test hook (to change the payload mid-read).
class HookJob {
 public:
  using Hook = std::function<void(uint64_t done, uint64_t total, std::string_view phase)>;
  explicit HookJob(Hook hook) : hook_(std::move(hook)) {
    job_.struct_size = sizeof job_;
    job_.ctx = this;
    job_.progress = [](void* ctx, uint64_t done, uint64_t total, sealhost_str phase) {
      static_cast<HookJob*>(ctx)->hook_(done, total, sdk::to_view(phase));
    };
    job_.cancelled = [](void*) -> int32_t { return 0; };
  }
  sdk::Job job() { return sdk::Job(&job_); }

 private:
  sealhost_job job_{};
  Hook hook_;
};

class AddPieceStageTest : public ::testing::Test {
 protected:
  // Small chunks so even the test pieces take several read/pad/write/cancel steps.
  AddPieceStage stage(const char* chunk = "\"64KiB\"", const char* threads = "2") {
    auto opts = sdk::testing::defaults(kOptions);
    opts.set_text("chunk", chunk);
    opts.set_text("threads", threads);
    return AddPieceStage(host_.context(AddPieceStage::kId, opts));
  }

  AddPieceInput input(uint64_t sector_size = k8MiB) const {
    AddPieceInput in;
    in.sector = {1000, 7, sector_size};
    in.unsealed_path = unsealed_;
    in.existing_pieces = recorded_;
    return in;
  }
  AddPieceInput data_input(const std::string& payload_path, uint64_t size = 0) const {
    AddPieceInput in = input();
    in.piece.path = payload_path;
    in.piece.size = size;
    return in;
  }
  AddPieceInput zero_input(uint64_t size, uint64_t sector_size = k8MiB) const {
    AddPieceInput in = input(sector_size);
    in.piece.zero = true;
    in.piece.size = size;
    return in;
  }
  std::string payload(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string p = tmp_ / name;
    write_file(p, bytes);
    return p;
  }

  // Runs the stage through its JSON hook and records the reported pieces, as the caller would.
  AddPieceOutput add(AddPieceStage& s, const AddPieceInput& in, sealhost_job* job = nullptr) {
    sdk::testing::FakeJob fake;
    const std::string json = s.run(format_input(in), sdk::Job(job ? job : fake.c()));
    AddPieceOutput out = parse_output(json);
    if (!job) {
      EXPECT_EQ(fake.done(), fake.total()) << "progress ends at its total";
    }
    for (const auto& p : out.pieces) recorded_.push_back({p.size, p.cid});
    return out;
  }

  uint64_t recorded_bytes() const {
    uint64_t n = 0;
    for (const auto& p : recorded_) n += p.size;
    return n;
  }

  sdk::testing::FakeHost host_;
  TempDir tmp_;
  std::string unsealed_ = tmp_ / "s-t01000-7";
  std::vector<ExistingPiece> recorded_;
};

// Expects `fn` to throw sdk::Error with `code` and a message containing `text`.
template <class Fn>
void expect_error(Fn&& fn, sealhost_status code, const std::string& text) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected " << sdk::ErrorSink::status_name(code) << ": " << text;
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(text));
  }
}

cid::Commitment commitment_of(const std::string& piece_cid) {
  return cid::parse_piece_cid_v1(piece_cid);
}

// ---------------------------------------------------------------------------------------------

TEST(AddPiecePlacement, PaddingPiecesAreLotusRequiredPaddingSmallestFirst) {
  EXPECT_TRUE(padding_before(0, 128).empty());
  EXPECT_TRUE(padding_before(0, k8MiB).empty());
  EXPECT_TRUE(padding_before(1024, 1024).empty());
  EXPECT_THAT(padding_before(128, 512), ElementsAre(128, 256)) << "spec §5.3 2KiB example";
  EXPECT_THAT(padding_before(384, 2048), ElementsAre(128, 512, 1024));
  EXPECT_THAT(padding_before(5 * kMiB, 2 * kMiB), ElementsAre(kMiB));
  EXPECT_TRUE(padding_before(4 * kMiB, 128).empty()) << "a small piece after a big one is aligned";
}

TEST(AddPiecePlacement, SizesReadAsInErrorMessages) {
  EXPECT_EQ(size_text(k8MiB), "8 MiB");
  EXPECT_EQ(size_text(2 * kKiB), "2 KiB");
  EXPECT_EQ(size_text(uint64_t{32} << 30), "32 GiB");
  EXPECT_EQ(size_text(1000), "1000 bytes");
  EXPECT_EQ(size_text(8323072), "8323072 bytes (7.9 MiB)");
  EXPECT_EQ(size_text(3 * kMiB + 512), "3146240 bytes (3.0 MiB)");
}

TEST_F(AddPieceStageTest, MixedPiecesFillASectorWhoseCommDIsTheRootOfTheFile) {
  auto s = stage();
  struct Step {
    std::vector<uint8_t> payload;  // empty: a zero piece
    uint64_t size;                 // padded size asked for (0: the payload's own)
    uint64_t expect_size;
    uint64_t expect_offset;
  };
  const std::vector<Step> steps = {
      {pattern(1000, 1), 0, 1024, 0},                   // 8 quads -> 1 KiB
      {pattern(300000, 2), 0, 512 * kKiB, 512 * kKiB},  // padding 1 KiB .. 256 KiB
      {pattern(65, 3), 0, 128, kMiB},                   // the smallest payload
      {{}, 64 * kKiB, 64 * kKiB, kMiB + 64 * kKiB},     // zero piece after padding
      {pattern(1572864, 4), 0, 2 * kMiB, 2 * kMiB},     // 1.5 MiB payload -> 2 MiB piece
      {pattern(200000, 5), kMiB, kMiB, 4 * kMiB},       // deal piece larger than its data
      {{}, 2 * kMiB, 2 * kMiB, 6 * kMiB},               // fill: 1 MiB padding + 2 MiB zeros
  };
  std::vector<commp::PieceInfo> deal_pieces;  // what the chain knows: no padding pieces
  std::vector<uint64_t> offsets;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& st = steps[i];
    const uint64_t before = recorded_bytes();
    AddPieceOutput out;
    if (st.payload.empty()) {
      out = add(s, zero_input(st.size));
      EXPECT_EQ(out.payload_size, st.size / 128 * 127);
    } else {
      out = add(s, data_input(payload("p" + std::to_string(i), st.payload), st.size));
      EXPECT_EQ(out.payload_size, st.payload.size());
    }
    ASSERT_FALSE(out.pieces.empty());
    const OutputPiece& piece = out.pieces.back();
    EXPECT_FALSE(piece.padding) << "step " << i;
    EXPECT_EQ(piece.size, st.expect_size) << "step " << i;
    uint64_t padding = 0;
    for (size_t k = 0; k + 1 < out.pieces.size(); ++k) {
      EXPECT_TRUE(out.pieces[k].padding);
      EXPECT_EQ(out.pieces[k].cid,
                cid::piece_cid_v1(commp::zero_piece_commitment(out.pieces[k].size)));
      padding += out.pieces[k].size;
    }
    EXPECT_EQ(before + padding, st.expect_offset) << "step " << i << " starts aligned";
    EXPECT_EQ(out.unsealed_size, recorded_bytes()) << "step " << i;
    EXPECT_EQ(stdfs::file_size(unsealed_), recorded_bytes()) << "step " << i;
    deal_pieces.push_back({commitment_of(piece.cid), piece.size});
    offsets.push_back(st.expect_offset);
  }
  ASSERT_EQ(recorded_bytes(), k8MiB) << "the last zero piece fills the sector";

  // CommD from the deal pieces (the chain's computation) is the root of the file on disk.
  const std::vector<uint8_t> file = read_file(unsealed_);
  ASSERT_EQ(file.size(), k8MiB);
  const commp::Node direct = commp::commp_padded(file, 2).comm_p;
  EXPECT_EQ(commp::comm_d(k8MiB, deal_pieces), direct);

  // The file holds exactly the chain's layout: the reported pieces, padding included.
  const auto layout = commp::sector_piece_layout(k8MiB, deal_pieces);
  ASSERT_EQ(layout.size(), recorded_.size());
  for (size_t i = 0; i < layout.size(); ++i) {
    EXPECT_EQ(layout[i].padded_size, recorded_[i].size) << "piece " << i;
    EXPECT_EQ(cid::piece_cid_v1(layout[i].comm), recorded_[i].cid) << "piece " << i;
  }

  // Each reported CID is the commP of its own bytes in the file, and data pieces hold the
  // fr32-padded payload followed by zeros.
  uint64_t at = 0;
  for (const auto& p : recorded_) {
    const std::span<const uint8_t> bytes(file.data() + at, p.size);
    EXPECT_EQ(cid::piece_cid_v1(commp::commp_padded(bytes).comm_p), p.cid) << "at byte " << at;
    at += p.size;
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].payload.empty()) continue;
    const std::vector<uint8_t> padded = proofs::fr32::pad(steps[i].payload);
    const uint8_t* region = file.data() + offsets[i];
    EXPECT_EQ(std::memcmp(region, padded.data(), padded.size()), 0) << "step " << i;
    const uint64_t zeros = steps[i].expect_size - padded.size();
    EXPECT_EQ(std::vector<uint8_t>(region + padded.size(), region + padded.size() + zeros),
              std::vector<uint8_t>(zeros, 0))
        << "step " << i << ": the piece is zero-extended";
  }
}

TEST_F(AddPieceStageTest, PieceCidsMatchUpstreamVectors) {
  auto s = stage("\"64KiB\"", "3");
  size_t checked = 0;
  for (const auto& v : sealhost::testing::load_commp_vectors()) {
    const std::string id = v.at("id");
    if (id.rfind("commp.storacha.", 0) != 0) continue;
    const uint64_t len = v.at("input").at("data").at("len");
    if (len < commp::kMinPayloadBytes) continue;
    const auto out = add(s, data_input(payload(id, sealhost::testing::sha512_chain(len))));
    EXPECT_EQ(out.pieces.back().cid, v.at("expected").at("cid").get<std::string>()) << id;
    EXPECT_EQ(out.pieces.back().size, v.at("expected").at("padded_size").get<uint64_t>()) << id;
    ++checked;
  }
  EXPECT_GE(checked, 20u) << "the storacha vectors are in tests/vectors/commp.json";
}

TEST_F(AddPieceStageTest, CcSectorIsOneZeroPieceOfTheSectorSize) {
  auto s = stage();
  const auto out = add(s, zero_input(k8MiB));
  ASSERT_EQ(out.pieces.size(), 1u);
  EXPECT_FALSE(out.pieces[0].padding);
  EXPECT_EQ(out.pieces[0].size, k8MiB);
  std::string expected;
  for (const auto& v : sealhost::testing::load_commp_vectors()) {
    if (v.at("id") == "commd.empty.8MiB") expected = v.at("expected").at("unsealed_cid");
  }
  EXPECT_EQ(out.pieces[0].cid, expected) << "vector commd.empty.8MiB";
  EXPECT_EQ(out.unsealed_size, k8MiB);
  const auto file = read_file(unsealed_);
  ASSERT_EQ(file.size(), k8MiB);
  EXPECT_EQ(file, std::vector<uint8_t>(k8MiB, 0));
}

TEST_F(AddPieceStageTest, TwoKiBSectorWithTheSpecExampleLayout) {
  // spec §5.3: pieces of padded 128 and 512 -> [P1, Z128, Z256, P2, Z1024].
  auto s = stage();
  const auto p1 = add(s, [&] {
    auto in = data_input(payload("a", pattern(100, 9)));
    in.sector.size = 2048;
    return in;
  }());
  const auto p2 = add(s, [&] {
    auto in = data_input(payload("b", pattern(500, 10)));
    in.sector.size = 2048;
    return in;
  }());
  EXPECT_EQ(p1.pieces.size(), 1u);
  ASSERT_EQ(p2.pieces.size(), 3u);
  EXPECT_EQ(p2.pieces[0].size, 128u);
  EXPECT_EQ(p2.pieces[1].size, 256u);
  EXPECT_EQ(p2.pieces[2].size, 512u);
  EXPECT_EQ(p2.unsealed_size, 1024u);
  const auto fill = add(s, zero_input(1024, 2048));
  ASSERT_EQ(fill.pieces.size(), 1u);
  const std::vector<commp::PieceInfo> deals = {{commitment_of(p1.pieces[0].cid), 128},
                                               {commitment_of(p2.pieces[2].cid), 512}};
  EXPECT_EQ(commp::comm_d(2048, deals), commp::commp_padded(read_file(unsealed_)).comm_p);
}

TEST_F(AddPieceStageTest, ExpectedPieceCidIsChecked) {
  auto s = stage();
  const auto bytes = pattern(5000, 11);
  const std::string good = cid::piece_cid_v1(commp::commp(bytes).comm_p);
  auto in = data_input(payload("d", bytes));
  in.piece.cid = good;
  EXPECT_EQ(add(s, in).pieces.back().cid, good);

  auto wrong = data_input(payload("e", pattern(5000, 12)));
  wrong.piece.cid = good;
  const uint64_t before = stdfs::file_size(unsealed_);
  expect_error([&] { s.add_piece(wrong, sdk::Job(nullptr)); }, SEALHOST_E_INVALID_ARGUMENT,
               "does not match the expected " + good);
  EXPECT_EQ(stdfs::file_size(unsealed_), before) << "the mismatching piece was cut off again";

  auto malformed = data_input(payload("f", bytes));
  malformed.piece.cid = "bafkqaaa";
  expect_error([&] { s.add_piece(malformed, sdk::Job(nullptr)); }, SEALHOST_E_INVALID_ARGUMENT,
               "expected piece CID");
}

// ---- refusals before anything is written

TEST_F(AddPieceStageTest, PieceThatDoesNotFitNamesTheSizes) {
  auto s = stage();
  add(s, zero_input(2 * kMiB));
  expect_error([&] { s.add_piece(zero_input(k8MiB), sdk::Job(nullptr)); },
               SEALHOST_E_FAILED_PRECONDITION,
               "piece of 8 MiB padded does not fit sector 7 (8 MiB): 2 MiB already used");
  add(s, zero_input(kMiB));  // 3 MiB used: a 4 MiB piece would have to start at 4 MiB
  add(s, zero_input(4 * kMiB));
  expect_error([&] { s.add_piece(zero_input(2 * kMiB), sdk::Job(nullptr)); },
               SEALHOST_E_FAILED_PRECONDITION, "8 MiB already used");
  EXPECT_EQ(stdfs::file_size(unsealed_), k8MiB);
}

TEST_F(AddPieceStageTest, MisalignedFitIsExplained) {
  auto s = stage();
  add(s, zero_input(kMiB));
  add(s, zero_input(2 * kMiB));  // 1 MiB of padding, then 2 MiB at 2 MiB: 4 MiB used
  add(s, zero_input(kMiB));      // 5 MiB used
  expect_error([&] { s.add_piece(zero_input(4 * kMiB), sdk::Job(nullptr)); },
               SEALHOST_E_FAILED_PRECONDITION,
               "piece of 4 MiB padded does not fit sector 7 (8 MiB): 5 MiB already used, and the "
               "piece would start at 8 MiB");
  EXPECT_EQ(stdfs::file_size(unsealed_), 5 * kMiB);
}

TEST_F(AddPieceStageTest, PayloadBelowTheMinimumIsRefused) {
  auto s = stage();
  expect_error(
      [&] { s.add_piece(data_input(payload("small", pattern(64, 1))), sdk::Job(nullptr)); },
      SEALHOST_E_INVALID_ARGUMENT, "64 bytes is below the minimum piece payload of 65");
  EXPECT_FALSE(stdfs::exists(unsealed_)) << "nothing was created";
}

TEST_F(AddPieceStageTest, PayloadLargerThanTheSectorIsRefused) {
  auto s = stage();
  auto in = data_input(payload("big", pattern(2033, 1)));
  in.sector.size = 2048;
  expect_error([&] { s.add_piece(in, sdk::Job(nullptr)); }, SEALHOST_E_INVALID_ARGUMENT,
               "2033 bytes (2.0 KiB) needs a piece of 4 KiB padded, larger than sector 7 (2 KiB)");
}

TEST_F(AddPieceStageTest, BadPieceSizesAreRefused) {
  auto s = stage();
  const std::string p = payload("p", pattern(5000, 1));  // needs 8 KiB
  expect_error([&] { s.add_piece(data_input(p, 4096), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "must be a power of two from 8 KiB");
  expect_error([&] { s.add_piece(data_input(p, 12288), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "must be a power of two from 8 KiB");
  expect_error([&] { s.add_piece(data_input(p, 16 * kMiB), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "up to the size of sector 7 (8 MiB)");
  expect_error([&] { s.add_piece(zero_input(64), sdk::Job(nullptr)); }, SEALHOST_E_INVALID_ARGUMENT,
               "zero piece of 64 bytes");
  expect_error([&] { s.add_piece(zero_input(3 * kMiB), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "power of two");
  expect_error([&] { s.add_piece(zero_input(1024, 4096), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "size 4096 is not a Filecoin sector size");
  EXPECT_FALSE(stdfs::exists(unsealed_));
}

TEST_F(AddPieceStageTest, ExistingPiecesMustBeAlignedAndValid) {
  auto s = stage();
  const std::string zero128 = cid::piece_cid_v1(commp::zero_piece_commitment(128));
  const std::string zero512 = cid::piece_cid_v1(commp::zero_piece_commitment(512));
  recorded_ = {{128, zero128}, {512, zero512}};
  expect_error([&] { s.add_piece(zero_input(128), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT,
               "existing piece 1 (512 bytes) would start at byte 128, not a multiple of its size");
  recorded_ = {{100, zero128}};
  expect_error([&] { s.add_piece(zero_input(128), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "padded size 100 is not a power of two");
  recorded_ = {{128, "baga-not-a-cid"}};
  expect_error([&] { s.add_piece(zero_input(128), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "existing piece 0");
  recorded_ = {{k8MiB, zero128}, {k8MiB, zero128}};
  expect_error([&] { s.add_piece(zero_input(128), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "need more than the sector's 8 MiB");
}

TEST_F(AddPieceStageTest, FileSizeDisagreeingWithThePiecesIsDataLoss) {
  auto s = stage();
  write_file(unsealed_, std::vector<uint8_t>(3 * kMiB, 0));
  recorded_ = {{2 * kMiB, cid::piece_cid_v1(commp::zero_piece_commitment(2 * kMiB))}};
  expect_error([&] { s.add_piece(zero_input(kMiB), sdk::Job(nullptr)); }, SEALHOST_E_DATA_LOSS,
               "unsealed file " + unsealed_ + ": 3 MiB on disk, pieces say 2 MiB");
  EXPECT_EQ(stdfs::file_size(unsealed_), 3 * kMiB) << "a suspicious file is left alone";

  stdfs::remove(unsealed_);
  expect_error([&] { s.add_piece(zero_input(kMiB), sdk::Job(nullptr)); }, SEALHOST_E_DATA_LOSS,
               "unsealed file " + unsealed_ + ": missing, pieces say 2 MiB");
  EXPECT_FALSE(stdfs::exists(unsealed_)) << "a lost file is not recreated";
}

TEST_F(AddPieceStageTest, MissingInputsAreNamed) {
  auto s = stage();
  expect_error([&] { s.add_piece(data_input(tmp_ / "no-such.car"), sdk::Job(nullptr)); },
               SEALHOST_E_NOT_FOUND,
               "payload " + (tmp_ / "no-such.car").string() + ": cannot open");
  expect_error([&] { s.add_piece(data_input(tmp_.path().string()), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "not a regular file");
  unsealed_ = tmp_ / "missing-dir/s-t01000-7";
  expect_error([&] { s.add_piece(zero_input(kMiB), sdk::Job(nullptr)); }, SEALHOST_E_NOT_FOUND,
               "unsealed file " + unsealed_ + ": cannot open");
}

TEST_F(AddPieceStageTest, PayloadThatIsTheUnsealedFileIsRefused) {
  auto s = stage();
  add(s, zero_input(kMiB));
  expect_error([&] { s.add_piece(data_input(unsealed_), sdk::Job(nullptr)); },
               SEALHOST_E_INVALID_ARGUMENT, "is the unsealed file of sector 7");
  EXPECT_EQ(stdfs::file_size(unsealed_), kMiB);
}

TEST_F(AddPieceStageTest, ConcurrentAppendToOneFileIsRefused) {
  auto s = stage();
  add(s, zero_input(kMiB));
  const int fd = ::open(unsealed_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  expect_error([&] { s.add_piece(zero_input(kMiB), sdk::Job(nullptr)); },
               SEALHOST_E_FAILED_PRECONDITION, "another addpiece is writing it");
  ::close(fd);
  add(s, zero_input(kMiB));
  EXPECT_EQ(stdfs::file_size(unsealed_), 2 * kMiB);
}

// ---- failures while writing: the file is cut back to its old size

TEST_F(AddPieceStageTest, CancelMidPieceLeavesTheFileAtItsOldSize) {
  auto s = stage();
  add(s, data_input(payload("first", pattern(3000, 1))));
  const auto before = read_file(unsealed_);
  sdk::testing::FakeJob job;
  job.cancel_after_checks(6);  // padding, then a few 64 KiB chunks into a 2 MiB piece
  expect_error(
      [&] {
        s.run(format_input(data_input(payload("big", pattern(1900000, 2)))), sdk::Job(job.c()));
      },
      SEALHOST_E_CANCELLED, "cancelled");
  EXPECT_GT(job.done(), 0u) << "the cancel came mid-piece";
  EXPECT_LT(job.done(), job.total());
  EXPECT_EQ(read_file(unsealed_), before);
}

TEST_F(AddPieceStageTest, CancelOfTheFirstPieceRemovesTheNewFile) {
  auto s = stage();
  sdk::testing::FakeJob job;
  job.cancel_after_checks(3);
  expect_error([&] { s.add_piece(data_input(payload("p", pattern(kMiB, 1))), sdk::Job(job.c())); },
               SEALHOST_E_CANCELLED, "addpiece of " + unsealed_ + ": cancelled");
  EXPECT_FALSE(stdfs::exists(unsealed_));
  sdk::testing::FakeJob now;
  now.cancel();
  expect_error([&] { s.add_piece(zero_input(k8MiB), sdk::Job(now.c())); }, SEALHOST_E_CANCELLED,
               "cancelled");
  EXPECT_FALSE(stdfs::exists(unsealed_));
}

TEST_F(AddPieceStageTest, PayloadThatShrinksWhileReadIsAnErrorAndCutBack) {
  auto s = stage();
  add(s, zero_input(kMiB));
  const std::string p = payload("shrinking", pattern(kMiB, 3));
  bool cut = false;
  HookJob job([&](uint64_t done, uint64_t, std::string_view phase) {
    if (!cut && phase == "piece" && done > 0) {
      stdfs::resize_file(p, 100000);
      cut = true;
    }
  });
  expect_error([&] { s.add_piece(data_input(p), job.job()); }, SEALHOST_E_FAILED_PRECONDITION,
               "payload " + p + ": ended at byte 100000 of 1048576 (the file shrank");
  EXPECT_TRUE(cut);
  EXPECT_EQ(stdfs::file_size(unsealed_), kMiB);
}

TEST_F(AddPieceStageTest, PayloadThatGrowsWhileReadIsAnErrorAndCutBack) {
  auto s = stage();
  add(s, zero_input(kMiB));
  const std::string p = payload("growing", pattern(300000, 4));
  bool grown = false;
  HookJob job([&](uint64_t done, uint64_t, std::string_view phase) {
    if (!grown && phase == "piece" && done > 0) {
      std::ofstream(p, std::ios::binary | std::ios::app) << "more";
      grown = true;
    }
  });
  expect_error([&] { s.add_piece(data_input(p), job.job()); }, SEALHOST_E_FAILED_PRECONDITION,
               "grew past its size of 300000 bytes");
  EXPECT_EQ(stdfs::file_size(unsealed_), kMiB);
}

TEST_F(AddPieceStageTest, WriteFailureCutsBackAndReportsResourceExhausted) {
  auto s = stage();
  add(s, zero_input(kMiB));
  const auto before = read_file(unsealed_);
  // A file size limit makes writes past 1.5 MiB fail with EFBIG, like a full disk mid-piece.
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = old;
  limited.rlim_cur = kMiB + kMiB / 2;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  try {
    s.add_piece(data_input(payload("p", pattern(900000, 5))), sdk::Job(nullptr));
    ADD_FAILURE() << "wrote past the file size limit";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_RESOURCE_EXHAUSTED) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("unsealed file " + unsealed_ + ": write at byte"));
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(read_file(unsealed_), before);
}

TEST_F(AddPieceStageTest, ResultDoesNotDependOnThreadsOrChunk) {
  // Larger than one hasher batch (8 MiB per thread), so the batch buffer fills and wraps; 65664
  // bytes (513 quads) does not divide a batch, so steps are cut at the buffer's end.
  const auto bytes = pattern(9 * kMiB + 12345, 6);
  const std::string p = payload("p", bytes);
  const std::string expected = cid::piece_cid_v1(commp::commp(bytes, 2).comm_p);
  for (const auto& [chunk, threads] :
       std::vector<std::pair<const char*, const char*>>{{"\"64KiB\"", "1"},
                                                        {"65664", "1"},
                                                        {"\"1MiB\"", "2"},
                                                        {"\"8MiB\"", "0"},
                                                        {"65664", "3"}}) {
    recorded_.clear();
    std::error_code ec;
    stdfs::remove(unsealed_, ec);
    auto s = stage(chunk, threads);
    auto in = data_input(p);
    in.sector.size = uint64_t{512} << 20;
    const auto out = add(s, in);
    EXPECT_EQ(out.pieces.back().cid, expected) << "chunk " << chunk << " threads " << threads;
    EXPECT_EQ(out.pieces.back().size, 16 * kMiB);
    const auto file = read_file(unsealed_);
    const auto padded = proofs::fr32::pad(bytes);
    ASSERT_EQ(file.size(), 16 * kMiB);
    EXPECT_EQ(std::memcmp(file.data(), padded.data(), padded.size()), 0)
        << "chunk " << chunk << " threads " << threads;
  }
}

TEST_F(AddPieceStageTest, ProgressCountsTheAppendedBytes) {
  auto s = stage();
  add(s, zero_input(128));
  sdk::testing::FakeJob job;
  s.add_piece(data_input(payload("p", pattern(kMiB / 128 * 127, 7))), sdk::Job(job.c()));
  EXPECT_EQ(job.total(), 2 * kMiB - 128) << "padding to 1 MiB plus the 1 MiB piece";
  EXPECT_EQ(job.done(), job.total());
  EXPECT_GT(job.progress_calls(), 16u) << "one report per 64 KiB chunk at least";
}

TEST_F(AddPieceStageTest, LogsEachAppendedPiece) {
  auto s = stage();
  add(s, zero_input(kMiB));
  const auto lines = host_.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().logger, AddPieceStage::kId);
  EXPECT_THAT(lines.back().message, HasSubstr("sector 7: added baga"));
}

TEST_F(AddPieceStageTest, DocumentedExampleRecordRuns) {
  auto s = stage();
  const std::string p = payload("deal.car", pattern(1 << 20, 8));
  const std::string json = R"({"v":1,"sector":{"miner":1000,"number":7,"size":8388608},)"
                           R"("unsealed_path":")" +
                           unsealed_ +
                           R"(","existing_pieces":[],)"
                           R"("piece":{"path":")" +
                           p + R"("}})";
  const auto out = parse_output(s.run(json, sdk::Job(nullptr)));
  ASSERT_EQ(out.pieces.size(), 1u);
  EXPECT_EQ(out.pieces[0].size, 2 * kMiB);
  EXPECT_EQ(out.payload_size, kMiB);
  EXPECT_EQ(out.unsealed_size, 2 * kMiB);
  expect_error([&] { s.run("{\"v\":2}", sdk::Job(nullptr)); }, SEALHOST_E_INVALID_ARGUMENT,
               "record version 2 is not supported");
}

}  // namespace
}  // namespace sealhost::stage_addpiece
