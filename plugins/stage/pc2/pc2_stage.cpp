#include "plugins/stage/pc2/pc2_stage.hpp"

#include "plugins/stage/pc2/compute_engine.hpp"
#include "proofs/cid/cid.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/sdr/seal_proof.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/error.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace sealhost::stage_pc2 {
namespace {

namespace pc2 = proofs::pc2;

std::string sector_name(const SectorId& s) {
  return "sector " + std::to_string(s.miner) + "/" + std::to_string(s.number);
}

std::unique_ptr<pc2::PoseidonEngine> make_engine(const sdk::Context& ctx, const Pc2Options& o) {
  if (o.compute == kBuiltinCompute) {
    const unsigned threads =
        o.threads ? o.threads : std::max(1U, std::thread::hardware_concurrency());
    return std::make_unique<pc2::CpuPoseidonEngine>(threads);
  }
  try {
    return std::make_unique<ComputeEngine>(sdk::find_compute(ctx.host, o.compute));
  } catch (const sdk::Error& e) {
    throw sdk::Error(e.code(), std::string("option compute: ") + e.what() +
                                   " (load the compute plugin, or set compute = \"builtin\")");
  }
}

// Exclusive advisory lock on the cache directory for the duration of one run.
class DirLock {
 public:
  explicit DirLock(const std::string& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      const std::string why = std::strerror(err);
      if (err == ENOENT || err == ENOTDIR) {
        throw sdk::not_found("cache directory " + dir + ": " + why +
                             " (pass the directory PC1 wrote its layers to)");
      }
      throw sdk::permission("cache directory " + dir + ": cannot open (" + why + ")");
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw sdk::failed_precondition("cache directory " + dir +
                                     ": another pc2 run holds it; wait for it to finish");
    }
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock() { ::close(fd_); }  // releases the lock

 private:
  int fd_ = -1;
};

[[noreturn]] void rethrow_as_sdk(const pc2::Pc2Error& e, const std::string& who) {
  const std::string m = who + ": " + e.what();
  switch (e.kind()) {
    case pc2::Pc2ErrorKind::kInvalidInput:
      throw sdk::invalid_argument(m);
    case pc2::Pc2ErrorKind::kNotFound:
      throw sdk::not_found(m);
    case pc2::Pc2ErrorKind::kCorrupt:
      throw sdk::data_loss(m);
    case pc2::Pc2ErrorKind::kIo:
      throw sdk::io_error(m);
    case pc2::Pc2ErrorKind::kEngine:
      throw sdk::unavailable(m);
    case pc2::Pc2ErrorKind::kCancelled:
      throw sdk::cancelled(m);
  }
  throw sdk::Error(SEALHOST_E_INTERNAL, m);
}

}  // namespace

Pc2Stage::Pc2Stage(const sdk::Context& ctx)
    : opts_(Pc2Options::parse(ctx.options)), log_(ctx.log), engine_(make_engine(ctx, opts_)) {}

Pc2Stage::Pc2Stage(const Pc2Options& options, sdk::Logger log,
                   std::unique_ptr<pc2::PoseidonEngine> engine)
    : opts_(options), log_(std::move(log)), engine_(std::move(engine)) {
  if (!engine_) throw sdk::invalid_argument("pc2 stage: no Poseidon engine given");
}

std::string Pc2Stage::run(std::string_view input_json, const sdk::Job& job) {
  return format_output(precommit2(parse_input(input_json), job));
}

Pc2Output Pc2Stage::precommit2(const Pc2Input& in, const sdk::Job& job) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string who = sector_name(in.sector);
  const proofs::sdr::SealProof* proof = nullptr;
  try {
    proof = &proofs::sdr::lookup_seal_proof(in.proof);
  } catch (const std::exception& e) {
    throw sdk::invalid_argument(who + ": proof: " + e.what());
  }
  if (proof->sector_size != in.sector.size) {
    throw sdk::invalid_argument(who + ": sector.size " + std::to_string(in.sector.size) +
                                " does not match proof " + std::string(proof->name) + " (" +
                                std::to_string(proof->sector_size) + " bytes)");
  }
  job.check_cancel(who + " pc2");
  DirLock lock(in.cache_dir);

  pc2::Pc2Input pin;
  pin.sector_bytes = proof->sector_size;
  pin.layers = proof->layers;
  pin.cache_dir = in.cache_dir;
  pin.unsealed_path = in.unsealed_path;
  pin.sealed_path = in.sealed_path;
  pin.comm_d = in.comm_d;
  pin.replica_id = in.replica_id;
  pc2::Pc2Options popt;
  popt.engine = engine_.get();
  const auto shape = proofs::merkle::TreeShape::for_sector(proof->sector_size);
  popt.chunk_leaves = pc2::chunk_leaves_for_memory(opts_.memory, proof->layers, shape.base_leaves);
  popt.progress = [&job](const pc2::Pc2Progress& p) { job.progress(p.done, p.total, p.phase); };
  popt.cancelled = [&job] { return job.cancelled(); };

  pc2::Pc2Output r;
  try {
    r = pc2::run_pc2(pin, popt);
  } catch (const pc2::Pc2Error& e) {
    rethrow_as_sdk(e, who);
  }

  Pc2Output out;
  out.comm_c = r.comm_c;
  out.comm_r_last = r.comm_r_last;
  out.comm_r = r.comm_r;
  out.comm_d = in.comm_d;
  out.sealed_cid = proofs::cid::sealed_cid(r.comm_r);
  out.sealed_path = r.sealed_path.string();
  for (const auto& p : r.tree_c_paths) out.tree_c_paths.push_back(p.string());
  for (const auto& p : r.tree_r_last_paths) out.tree_r_last_paths.push_back(p.string());
  out.p_aux_path = r.p_aux_path.string();
  out.t_aux_path = r.t_aux_path.string();
  out.compute = engine_->name();

  if (log_.enabled(SEALHOST_LOG_INFO)) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    char rate[64];
    std::snprintf(
        rate, sizeof rate, "%.0f",
        ms > 0 ? 1000.0 * static_cast<double>(r.poseidon_hashes) / static_cast<double>(ms) : 0.0);
    log_.info(who + ": pc2 done in " + std::to_string(ms) + " ms on " + engine_->name() + " (" +
              std::to_string(r.poseidon_hashes) + " Poseidon hashes, " + rate + "/s), comm_r " +
              to_hex(r.comm_r) + " = " + out.sealed_cid);
  }
  return out;
}

}  // namespace sealhost::stage_pc2
