#include "plugins/stage/pc1/pc1_stage.hpp"

#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/sdr/graph.hpp"

#include <sealhost/sdk/units.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>

namespace sealhost::stage_pc1 {
namespace fs = std::filesystem;
namespace sdr = proofs::sdr;

namespace {

// MemAvailable of /proc/meminfo in bytes (0 when unknown).
uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

using stage::Json;

constexpr uint64_t kNode = 32;

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

uint64_t free_bytes(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) {
    throw sdk::io_error("cache dir " + dir.string() + ": statvfs: " + std::strerror(errno));
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

void fsync_file(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fdatasync(fd) != 0) {
    const int e = errno;
    if (fd >= 0) ::close(fd);
    throw sdk::io_error(p.string() + ": fdatasync: " + std::strerror(e));
  }
  ::close(fd);
}

const sdr::SealProof& resolve_proof(const Pc1SectorInput& s, const std::string& where) {
  const sdr::SealProof* proof = nullptr;
  try {
    if (s.proof.empty()) {
      for (const auto& p : sdr::all_seal_proofs()) {
        if (p.sector_size == s.sector.size && p.api_version != sdr::ApiVersion::V1_0_0 &&
            !p.synthetic) {
          proof = &p;
        }
      }
      if (!proof) {
        throw sdk::invalid_argument(where + ".sector.size: " + std::to_string(s.sector.size) +
                                    " bytes is not a sector size (2048, 8388608, 536870912, "
                                    "34359738368 or 68719476736)");
      }
    } else {
      proof = &sdr::lookup_seal_proof(s.proof);
    }
  } catch (const sdr::SdrError& e) {
    throw sdk::invalid_argument(where + ".proof: " + e.what());
  }
  if (proof->sector_size != s.sector.size) {
    throw sdk::invalid_argument(where + ": proof " + std::string(proof->name) + " seals " +
                                std::to_string(proof->sector_size) + "-byte sectors, not " +
                                std::to_string(s.sector.size) + " (fix sector.size or proof)");
  }
  return *proof;
}

// Layer files already complete on disk (right size), counted from layer 1 up.
uint32_t complete_layers(const fs::path& dir, const sdr::SealProof& proof) {
  uint32_t n = 0;
  std::error_code ec;
  while (n < proof.layers) {
    const auto size = fs::file_size(dir / sdr::layer_file_name(n + 1), ec);
    if (ec || size != proof.nodes * kNode) break;
    ++n;
  }
  return n;
}

struct Prepared {
  const sdr::SealProof* proof = nullptr;
  fs::path cache_dir;
  fs::path tree_d;
  sdr::Bytes32 comm_d{};
  sdr::Bytes32 prover_id{};
  sdr::ReplicaId replica_id{};
  bool tree_d_resumed = false;
};

}  // namespace

// ---------------------------------------------------------------------------------- records

namespace {

const stage::RecordReader kIn("pc1 input");
const stage::RecordReader kOut("pc1 output");

Pc1SectorInput parse_sector(const Json& j, const std::string& where) {
  kIn.object(j, where);
  Pc1SectorInput s;
  s.sector = kIn.sector(j);
  if (const Json* p = kIn.optional(j, "proof")) {
    if (!p->is_string())
      kIn.bad(where + ".proof", "expected a proof name such as StackedDrg32GiBV1_1");
    s.proof = p->get<std::string>();
  }
  s.ticket = kIn.hex32(j, "ticket", where);
  s.unsealed_path = kIn.text(j, "unsealed_path", where);
  s.cache_dir = kIn.text(j, "cache_dir", where);
  if (kIn.optional(j, "unsealed_cid")) s.unsealed_cid = kIn.text(j, "unsealed_cid", where);
  if (kIn.optional(j, "prover_id")) s.prover_id = kIn.hex32(j, "prover_id", where);
  return s;
}

void put_sector_input(Json& j, const Pc1SectorInput& s) {
  j["sector"] = stage::sector_json(s.sector);
  if (!s.proof.empty()) j["proof"] = s.proof;
  j["ticket"] = stage::hex(s.ticket);
  j["unsealed_path"] = s.unsealed_path;
  j["cache_dir"] = s.cache_dir;
  if (s.unsealed_cid) j["unsealed_cid"] = *s.unsealed_cid;
  if (s.prover_id) j["prover_id"] = stage::hex(*s.prover_id);
}

void put_sector_output(Json& j, const Pc1SectorOutput& o) {
  j["sector"] = stage::sector_json(o.sector);
  j["proof"] = o.proof;
  j["comm_d"] = stage::hex(o.comm_d);
  j["unsealed_cid"] = o.unsealed_cid;
  j["replica_id"] = stage::hex(o.replica_id);
  j["prover_id"] = stage::hex(o.prover_id);
  j["ticket"] = stage::hex(o.ticket);
  j["cache_dir"] = o.cache_dir;
  j["tree_d"] = o.tree_d;
  j["layers"] = o.layers;
  j["layers_resumed"] = o.layers_resumed;
  j["tree_d_resumed"] = o.tree_d_resumed;
  j["parent_cache"] = o.parent_cache;
  j["seconds"] = o.seconds;
}

Pc1SectorOutput parse_sector_output(const Json& j, const std::string& where) {
  kOut.object(j, where);
  kOut.only_keys(j,
                 {"sector", "proof", "comm_d", "unsealed_cid", "replica_id", "prover_id", "ticket",
                  "cache_dir", "tree_d", "layers", "layers_resumed", "tree_d_resumed",
                  "parent_cache", "seconds"},
                 where);
  Pc1SectorOutput o;
  o.sector = kOut.sector(j);
  o.proof = kOut.text(j, "proof", where);
  o.comm_d = kOut.hex32(j, "comm_d", where);
  o.unsealed_cid = kOut.text(j, "unsealed_cid", where);
  o.replica_id = kOut.hex32(j, "replica_id", where);
  o.prover_id = kOut.hex32(j, "prover_id", where);
  o.ticket = kOut.hex32(j, "ticket", where);
  o.cache_dir = kOut.text(j, "cache_dir", where);
  o.tree_d = kOut.text(j, "tree_d", where);
  const Json& layers = kOut.member(j, "layers", where);
  if (!layers.is_array()) kOut.bad(where + ".layers", "expected an array of paths");
  for (const auto& l : layers) {
    if (!l.is_string()) kOut.bad(where + ".layers", "expected an array of paths");
    o.layers.push_back(l.get<std::string>());
  }
  o.layers_resumed = static_cast<uint32_t>(kOut.u64(j, "layers_resumed", where));
  o.tree_d_resumed = kOut.boolean(j, "tree_d_resumed", where);
  o.parent_cache = kOut.text(j, "parent_cache", where);
  const Json& secs = kOut.member(j, "seconds", where);
  if (!secs.is_number()) kOut.bad(where + ".seconds", "expected a number");
  o.seconds = secs.get<double>();
  return o;
}

constexpr std::initializer_list<const char*> kSectorKeys = {
    "sector", "proof", "ticket", "unsealed_path", "cache_dir", "unsealed_cid", "prover_id"};

}  // namespace

Pc1Input parse_input(std::string_view json) {
  const Json j = kIn.parse(json);
  Pc1Input in;
  if (j.contains("sectors")) {
    kIn.only_keys(j, {"v", "sectors"}, "record");
    const Json& arr = j["sectors"];
    if (!arr.is_array() || arr.empty()) {
      kIn.bad("sectors", "expected a non-empty array of sector records");
    }
    in.batch = true;
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string where = "sectors[" + std::to_string(i) + "]";
      kIn.object(arr[i], where);
      kIn.only_keys(arr[i], kSectorKeys, where);
      in.sectors.push_back(parse_sector(arr[i], where));
    }
  } else {
    std::initializer_list<const char*> keys = {
        "v",         "sector",       "proof",    "ticket", "unsealed_path",
        "cache_dir", "unsealed_cid", "prover_id"};
    kIn.only_keys(j, keys, "record");
    in.sectors.push_back(parse_sector(j, "record"));
  }
  return in;
}

std::string format_input(const Pc1Input& in) {
  Json j = Json::object();
  j["v"] = stage::kRecordVersion;
  if (in.batch) {
    j["sectors"] = Json::array();
    for (const auto& s : in.sectors) {
      Json one = Json::object();
      put_sector_input(one, s);
      j["sectors"].push_back(std::move(one));
    }
  } else {
    put_sector_input(j, in.sectors.at(0));
  }
  return j.dump();
}

std::string format_output(const Pc1Output& out) {
  Json j = Json::object();
  j["v"] = stage::kRecordVersion;
  if (out.batch) {
    j["sectors"] = Json::array();
    for (const auto& s : out.sectors) {
      Json one = Json::object();
      put_sector_output(one, s);
      j["sectors"].push_back(std::move(one));
    }
  } else {
    put_sector_output(j, out.sectors.at(0));
  }
  return j.dump();
}

Pc1Output parse_output(std::string_view json) {
  Json j = kOut.parse(json);
  Pc1Output out;
  if (j.contains("sectors")) {
    kOut.only_keys(j, {"v", "sectors"}, "record");
    out.batch = true;
    const Json& arr = j["sectors"];
    if (!arr.is_array()) kOut.bad("sectors", "expected an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      out.sectors.push_back(parse_sector_output(arr[i], "sectors[" + std::to_string(i) + "]"));
    }
  } else {
    j.erase("v");
    out.sectors.push_back(parse_sector_output(j, "record"));
  }
  return out;
}

// ---------------------------------------------------------------------------------- stage

Pc1Stage::Pc1Stage(const sdk::Context& ctx) : Pc1Stage(Pc1Options::parse(ctx.options), ctx.log) {}

Pc1Stage::Pc1Stage(const Pc1Options& options, sdk::Logger log)
    : opts_(options), log_(std::move(log)) {
  if (opts_.parent_cache_dir.empty()) {
    throw sdk::invalid_argument("option parent_cache_dir: empty (name a directory)");
  }
  if (opts_.keep_layer_buffers) {
    pool_ = std::make_unique<sdr::LayerBufferPool>();
    // Reserved buffers are kept for good: no reaper.
    if (opts_.layer_buffer_idle_seconds > 0 && opts_.reserve_layer_buffers.empty()) {
      reaper_ = std::thread([this] { reap_idle_buffers(); });
    }
  }
  if (!opts_.reserve_layer_buffers.empty()) start_reservation();
}

void Pc1Stage::start_reservation() {
  const auto human = sdk::units::format_size_human;
  const std::string& name = opts_.reserve_layer_buffers;
  if (!pool_) {
    throw sdk::invalid_argument(
        "option reserve_layer_buffers = \"" + name +
        "\" needs keep_layer_buffers = true (set it, or remove reserve_layer_buffers)");
  }
  const sdr::SealProof* proof = nullptr;
  try {
    proof = &sdr::lookup_seal_proof(name);
  } catch (const sdr::SdrError& e) {
    throw sdk::invalid_argument(std::string("option reserve_layer_buffers: ") + e.what());
  }
  auto sizes = sdr::layer_buffer_sizes(*proof, opts_.batch_size, opts_.threads);
  const uint64_t total = std::accumulate(sizes.begin(), sizes.end(), uint64_t{0});
  const std::string what = "a batch of " + std::to_string(opts_.batch_size) + " x " +
                           std::string(proof->name) + " on " + std::to_string(opts_.threads) +
                           " thread(s)";
  if (const uint64_t avail = available_memory(); avail != 0 && total > avail) {
    throw sdk::invalid_argument("option reserve_layer_buffers: " + what + " needs " + human(total) +
                                " of layer buffers and " + human(avail) +
                                " of memory are available (lower batch_size, reserve a "
                                "smaller proof type, or remove reserve_layer_buffers)");
  }
  log_.info("reserving " + human(total) + " of layer buffers for " + what);
  reserver_ = std::thread([this, sizes = std::move(sizes), total, human] {
    // Below the labelling and proving threads: only cycles nobody else wants.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);  // best effort
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const uint64_t got = pool_->reserve(sizes, [this] { return reserve_stop_.load(); });
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (got == total) {
        log_.info("reserved " + human(got) + " of layer buffers in " + std::to_string(secs) + " s");
      } else {
        log_.info("layer buffer reservation ended by a PC1 call after " + human(got) + " of " +
                  human(total));
      }
    } catch (const std::exception& e) {
      log_.error(std::string("layer buffer reservation failed: ") + e.what() +
                 " (PC1 calls map their buffers themselves)");
    }
  });
}

void Pc1Stage::stop_reservation() {
  const std::lock_guard lock(reserve_mu_);
  reserve_stop_.store(true);
  if (reserver_.joinable()) reserver_.join();
}

void Pc1Stage::wait_for_reservation() {
  const std::lock_guard lock(reserve_mu_);
  if (reserver_.joinable()) reserver_.join();
}

sdr::Pc1Stats Pc1Stage::last_run_stats() const {
  const std::lock_guard lock(pool_mu_);
  return last_stats_;
}

Pc1Stage::~Pc1Stage() {
  stop_reservation();
  {
    const std::lock_guard lock(pool_mu_);
    stopping_ = true;
  }
  pool_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

void Pc1Stage::reap_idle_buffers() {
  const auto idle = std::chrono::seconds(opts_.layer_buffer_idle_seconds);
  std::unique_lock lock(pool_mu_);
  while (!stopping_) {
    // Sleeps until the buffers would be idle long enough (or a run ends / the stage stops).
    if (active_runs_ > 0 || pool_->held_bytes() == 0) {
      pool_cv_.wait(lock);
      continue;
    }
    const auto due = last_run_end_ + idle;
    if (std::chrono::steady_clock::now() < due) {
      pool_cv_.wait_until(lock, due);
      continue;
    }
    const uint64_t bytes = pool_->held_bytes();
    pool_->release();
    log_.info("released " + std::to_string(bytes >> 20) + " MiB of kept layer buffers after " +
              std::to_string(opts_.layer_buffer_idle_seconds) + " s without a PC1 call");
  }
}

std::string Pc1Stage::run(std::string_view input_json, const sdk::Job& job) {
  return format_output(seal(parse_input(input_json), job));
}

const sdr::ParentCache& Pc1Stage::parent_cache(const sdr::SealProof& proof) {
  std::lock_guard lock(mu_);
  const sdr::Graph graph(proof);
  const std::string name = sdr::parent_cache_file_name(graph);
  auto& slot = caches_[name];
  if (!slot) {
    sdr::ParentCacheOptions o;
    o.verify = opts_.verify_cache;
    o.threads = std::max(1u, std::thread::hardware_concurrency());
    o.warn = [this](std::string_view m) { log_.warn(m); };
    const auto t0 = std::chrono::steady_clock::now();
    try {
      slot = std::make_unique<sdr::ParentCache>(
          sdr::ParentCache::open_or_create(graph, opts_.parent_cache_dir, o));
    } catch (const sdr::SdrError& e) {
      throw sdk::io_error(std::string("parent cache for ") + std::string(proof.name) + ": " +
                          e.what());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log_.info(std::string(slot->generated() ? "generated" : "opened") + " parent cache " +
              slot->path().string() + " in " + std::to_string(secs) + " s");
  }
  return *slot;
}

Pc1Output Pc1Stage::seal(const Pc1Input& in, const sdk::Job& job) {
  const auto t0 = std::chrono::steady_clock::now();
  if (in.sectors.empty()) throw sdk::invalid_argument("pc1 input: no sectors");
  if (in.sectors.size() > opts_.batch_size) {
    throw sdk::invalid_argument(
        "pc1 input: " + std::to_string(in.sectors.size()) +
        " sectors in one call, more than batch_size = " + std::to_string(opts_.batch_size) +
        " (split the batch or raise [stages.pc1] batch_size)");
  }
  // 1. Validate everything before touching any file.
  std::vector<Prepared> prep(in.sectors.size());
  for (size_t i = 0; i < in.sectors.size(); ++i) {
    const auto& s = in.sectors[i];
    const std::string where = in.batch ? "sectors[" + std::to_string(i) + "]" : "record";
    prep[i].proof = &resolve_proof(s, where);
    if (prep[i].proof->id != prep[0].proof->id) {
      throw sdk::invalid_argument("pc1 input: " + where + " uses " +
                                  std::string(prep[i].proof->name) + " but sectors[0] uses " +
                                  std::string(prep[0].proof->name) +
                                  " (a batch shares one proof type; send separate calls)");
    }
    for (size_t k = 0; k < i; ++k) {
      if (fs::path(in.sectors[k].cache_dir) == fs::path(s.cache_dir)) {
        throw sdk::invalid_argument("pc1 input: " + where + " and sectors[" + std::to_string(k) +
                                    "] share cache_dir " + s.cache_dir +
                                    " (every sector needs its own)");
      }
    }
    std::error_code ec;
    const auto size = fs::file_size(s.unsealed_path, ec);
    if (ec) {
      throw sdk::not_found("pc1: unsealed file " + s.unsealed_path + " of sector " +
                           std::to_string(s.sector.number) + ": " + ec.message() +
                           " (run addpiece first)");
    }
    if (size != s.sector.size) {
      throw sdk::failed_precondition(
          "pc1: unsealed file " + s.unsealed_path + " has " + std::to_string(size) +
          " bytes, sector " + std::to_string(s.sector.number) + " needs exactly " +
          std::to_string(s.sector.size) + " (fill the sector with pieces; a CC sector is one " +
          "zero piece of the sector size)");
    }
    if (s.unsealed_cid) {
      try {
        (void)proofs::cid::parse_piece_cid_v1(*s.unsealed_cid);
      } catch (const std::exception& e) {
        throw sdk::invalid_argument("pc1 input: " + where + ".unsealed_cid: " + e.what());
      }
    }
    prep[i].cache_dir = s.cache_dir;
    prep[i].tree_d =
        prep[i].cache_dir / proofs::merkle::store_file_name(proofs::merkle::TreeId::kTreeD);
    prep[i].prover_id = s.prover_id ? *s.prover_id : sdr::prover_id_from_actor(s.sector.miner);
  }
  const sdr::SealProof& proof = *prep[0].proof;

  // 2. Free space: tree_d (when not already complete) plus the missing layers.
  for (size_t i = 0; i < prep.size(); ++i) {
    std::error_code ec;
    fs::create_directories(prep[i].cache_dir, ec);
    if (ec) {
      throw sdk::io_error("pc1: cannot create cache dir " + prep[i].cache_dir.string() + ": " +
                          ec.message());
    }
    const uint64_t tree_d_bytes = (2 * proof.nodes - 1) * kNode;
    const auto have = fs::file_size(prep[i].tree_d, ec);
    prep[i].tree_d_resumed = !ec && have == tree_d_bytes;
    const uint64_t need =
        (prep[i].tree_d_resumed ? 0 : tree_d_bytes) +
        (proof.layers - complete_layers(prep[i].cache_dir, proof)) * proof.nodes * kNode;
    const uint64_t avail = free_bytes(prep[i].cache_dir);
    if (avail < need) {
      throw sdk::exhausted("pc1: cache dir " + prep[i].cache_dir.string() + " has " + gib(avail) +
                           " free, sector " + std::to_string(in.sectors[i].sector.number) +
                           " needs " + gib(need) +
                           " for tree_d and layers (free space or use "
                           "another sealing path)");
    }
  }

  // 3. TreeD and CommD, replica ids.
  for (size_t i = 0; i < prep.size(); ++i) {
    job.check_cancel("pc1");
    auto& p = prep[i];
    const auto& s = in.sectors[i];
    job.progress(i, prep.size(), "tree_d");
    if (p.tree_d_resumed) {
      // A complete tree_d was renamed into place by an earlier run: its last node is CommD.
      const int fd = ::open(p.tree_d.c_str(), O_RDONLY | O_CLOEXEC);
      const off_t at = static_cast<off_t>((2 * proof.nodes - 2) * kNode);
      const bool ok = fd >= 0 && ::pread(fd, p.comm_d.data(), kNode, at) == kNode;
      if (fd >= 0) ::close(fd);
      if (!ok) throw sdk::io_error("pc1: cannot read " + p.tree_d.string());
    } else {
      const fs::path tmp = p.tree_d.string() + ".tmp";
      try {
        p.comm_d = proofs::commp::write_tree_d(s.unsealed_path, tmp);
        if (opts_.fsync) fsync_file(tmp);
        fs::rename(tmp, p.tree_d);
      } catch (const std::exception& e) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw sdk::io_error(std::string("pc1: tree_d of sector ") +
                            std::to_string(s.sector.number) + ": " + e.what());
      }
    }
    if (s.unsealed_cid) {
      const auto want = proofs::cid::parse_piece_cid_v1(*s.unsealed_cid);
      if (!std::equal(want.begin(), want.end(), p.comm_d.begin())) {
        std::error_code ec;
        if (!p.tree_d_resumed) fs::remove(p.tree_d, ec);
        throw sdk::failed_precondition(
            "pc1: unsealed file " + s.unsealed_path + " has CommD " +
            proofs::cid::piece_cid_v1(p.comm_d) + ", not the expected unsealed_cid " +
            *s.unsealed_cid + " (the file does not hold the sector's pieces; redo addpiece)");
      }
    }
    p.replica_id =
        sdr::replica_id(p.prover_id, s.sector.number, s.ticket, p.comm_d, sdr::porep_id(proof));
  }

  // 4. Labels, one pass for the whole batch.
  const sdr::ParentCache& cache = parent_cache(proof);
  sdr::Pc1Request req;
  req.proof = &proof;
  req.parent_cache = &cache;
  for (const auto& p : prep) {
    req.replica_ids.push_back(p.replica_id);
    req.cache_dirs.push_back(p.cache_dir);
  }
  req.threads = opts_.threads;
  req.write_mode = opts_.layer_io == "direct"     ? sdr::Pc1Request::WriteMode::direct
                   : opts_.layer_io == "buffered" ? sdr::Pc1Request::WriteMode::buffered
                                                  : sdr::Pc1Request::WriteMode::automatic;
  const uint64_t total = static_cast<uint64_t>(proof.layers) * proof.nodes;
  req.progress = [&](const sdr::Pc1Progress& pr) {
    job.progress(static_cast<uint64_t>(pr.layer - 1) * pr.nodes_total + pr.nodes_done, total,
                 "layer " + std::to_string(pr.layer) + "/" + std::to_string(pr.layers));
  };
  req.cancelled = [&] { return job.cancelled(); };
  req.buffer_pool = pool_.get();
  sdr::Pc1Stats stats;
  req.stats = &stats;
  std::vector<sdr::Pc1SectorResult> results;
  stop_reservation();  // what is reserved so far serves this run
  {
    const std::lock_guard lock(pool_mu_);
    ++active_runs_;
  }
  struct RunEnd {
    Pc1Stage* self;
    const sdr::Pc1Stats& stats;
    ~RunEnd() {
      {
        const std::lock_guard lock(self->pool_mu_);
        --self->active_runs_;
        self->last_run_end_ = std::chrono::steady_clock::now();
        self->last_stats_ = stats;
      }
      self->pool_cv_.notify_all();
    }
  } run_end{this, stats};
  try {
    results = sdr::run_pc1(req);
  } catch (const sdr::SdrCancelled& e) {
    throw sdk::cancelled(std::string("pc1: ") + e.what());
  } catch (const sdr::SdrError& e) {
    throw sdk::io_error(std::string("pc1: ") + e.what());
  }

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Pc1Output out;
  out.batch = in.batch;
  for (size_t i = 0; i < prep.size(); ++i) {
    const auto& s = in.sectors[i];
    Pc1SectorOutput o;
    o.sector = s.sector;
    o.proof = std::string(proof.name);
    o.comm_d = prep[i].comm_d;
    o.unsealed_cid = proofs::cid::piece_cid_v1(prep[i].comm_d);
    o.replica_id = prep[i].replica_id;
    o.prover_id = prep[i].prover_id;
    o.ticket = s.ticket;
    o.cache_dir = prep[i].cache_dir.string();
    o.tree_d = prep[i].tree_d.string();
    for (const auto& l : results[i].layer_files) o.layers.push_back(l.string());
    o.layers_resumed = results[i].layers_resumed;
    o.tree_d_resumed = prep[i].tree_d_resumed;
    o.parent_cache = cache.path().string();
    o.seconds = secs;
    out.sectors.push_back(std::move(o));
  }
  log_.info("pc1 " + std::string(proof.name) + ": " + std::to_string(prep.size()) +
            " sector(s) labelled in " + std::to_string(secs) +
            " s (layer buffers: " + std::to_string(stats.buffers_reused) +
            " kept from an earlier call, " + std::to_string(stats.buffers_mapped) + " new)");
  return out;
}

}  // namespace sealhost::stage_pc1
