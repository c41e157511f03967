// addpiece throughput next to the bound it chases: commP of the same payload file alone
// (commp_file: read + fr32 + hash, nothing written). addpiece adds the fr32 pass for the file,
// the write, and optionally fdatasync, so the ratio shows what placement costs on top of hashing.
//
//   add_piece_bench [payload_MiB=127] [threads=0] [dir=/tmp]
#include "plugins/stage/addpiece/add_piece_stage.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/fr32/fr32.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace ap = sealhost::stage_addpiece;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void write_payload(const std::filesystem::path& p, uint64_t bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  std::vector<char> block(1 << 20);
  uint32_t x = 12345;
  for (uint64_t done = 0; done < bytes; done += block.size()) {
    for (auto& c : block) {
      x = x * 1664525u + 1013904223u;
      c = static_cast<char>(x >> 24);
    }
    out.write(block.data(),
              static_cast<std::streamsize>(std::min<uint64_t>(block.size(), bytes - done)));
  }
}

double add_piece_once(const std::filesystem::path& dir, const std::filesystem::path& payload,
                      unsigned threads, bool fsync) {
  const auto unsealed = dir / "bench-unsealed";
  std::filesystem::remove(unsealed);
  ap::AddPieceStage stage(ap::AddPieceOptions{threads, fsync, uint64_t{8} << 20}, {});
  ap::AddPieceInput in;
  in.sector = {1000, 1, uint64_t{512} << 20};
  in.unsealed_path = unsealed.string();
  in.piece.path = payload.string();
  const auto t0 = Clock::now();
  (void)stage.add_piece(in, sealhost::sdk::Job(nullptr));
  const double s = seconds_since(t0);
  std::filesystem::remove(unsealed);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 127;
  unsigned threads = argc > 2 ? static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10)) : 0;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::filesystem::path dir = argc > 3 ? argv[3] : "/tmp";
  const auto payload = dir / ("sealhost-addpiece-bench-" + std::to_string(::getpid()));
  const uint64_t bytes = mib << 20;
  write_payload(payload, bytes);
  const double mb = static_cast<double>(bytes) / (1 << 20);

  // Single-thread fr32 rate: addpiece pads on the calling thread.
  std::vector<uint8_t> in(127 << 16), out(128 << 16);
  auto t0 = Clock::now();
  int reps = 0;
  while (seconds_since(t0) < 1.0) {
    sealhost::proofs::fr32::pad_quads(in.data(), out.data(), 1 << 16);
    ++reps;
  }
  const double pad_rate = reps * (in.size() / 1048576.0) / seconds_since(t0);

  (void)sealhost::proofs::commp::commp_file(payload, threads);  // warm the page cache
  t0 = Clock::now();
  (void)sealhost::proofs::commp::commp_file(payload, threads);
  const double commp_s = seconds_since(t0);
  const double nosync_s = add_piece_once(dir, payload, threads, false);
  const double sync_s = add_piece_once(dir, payload, threads, true);
  std::filesystem::remove(payload);

  std::printf("payload %.0f MiB, %u threads, chunk 8 MiB, dir %s\n", mb, threads, dir.c_str());
  std::printf("fr32 pad (1 thread)          %8.0f MiB/s\n", pad_rate);
  std::printf("commp_file (bound)           %8.0f MiB/s\n", mb / commp_s);
  std::printf("addpiece, fsync off          %8.0f MiB/s   ratio to bound %.2f\n", mb / nosync_s,
              commp_s / nosync_s);
  std::printf("addpiece, fsync on           %8.0f MiB/s   ratio to bound %.2f\n", mb / sync_s,
              commp_s / sync_s);
  return 0;
}
