#include "host/cli/bench_commands.hpp"

#include "host/config/config.hpp"
#include "host/node/daemon.hpp"
#include "host/plugin/component.hpp"
#include "host/plugin/directory.hpp"
#include "proofs/c1/c1.hpp"
#include "proofs/c1/c1_json.hpp"
#include "proofs/c1/synth_proofs.hpp"
#include "proofs/challenges/challenges.hpp"
#include "proofs/cid/cid.hpp"
#include "proofs/commp/commp.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/post/vanilla.hpp"
#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/seal_proof.hpp"

#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <sealhost/sdk/units.hpp>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace sealhost::cli {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace sdr = proofs::sdr;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string hex(std::span<const uint8_t> b) {
  return sdr::to_hex(b);
}

// One progress line per stage: redrawn in place on a terminal, otherwise a line every 25%.
class StageLine {
 public:
  explicit StageLine(std::string stage, bool quiet)
      : stage_(std::move(stage)), quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

  void update(uint64_t done, uint64_t total, std::string_view phase) {
    if (quiet_) return;
    std::lock_guard lock(mu_);
    const int pct =
        total ? static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total))
              : 100;
    const auto now = Clock::now();
    if (tty_) {
      if (now - last_ < std::chrono::milliseconds(100) && pct < 100) return;
      last_ = now;
      std::fprintf(stderr, "\r  %-12s %-14.*s %3d%%  %6.1f s   ", stage_.c_str(),
                   static_cast<int>(phase.size()), phase.data(), pct, since(start_));
      drawn_ = true;
    } else if (pct >= next_pct_) {
      std::fprintf(stderr, "  %-12s %-14.*s %3d%%  %6.1f s\n", stage_.c_str(),
                   static_cast<int>(phase.size()), phase.data(), pct, since(start_));
      next_pct_ = (pct / 25 + 1) * 25;
    }
    std::fflush(stderr);
  }
  void done(double seconds, const std::string& note = {}) {
    if (quiet_) return;
    std::fprintf(stderr, "%s  %-12s done in %.3f s%s%s\n", tty_ && drawn_ ? "\r" : "",
                 stage_.c_str(), seconds, note.empty() ? "" : "  ", note.c_str());
  }

 private:
  std::string stage_;
  bool quiet_, tty_, drawn_ = false;
  int next_pct_ = 25;
  std::mutex mu_;
  Clock::time_point start_ = Clock::now(), last_{};
};

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string unbase64(const std::string& in, const std::string& what) {
  std::string out(3 * (in.size() / 4) + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0 || in.size() % 4 != 0) throw std::runtime_error(what + ": not valid base64");
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// lotus-bench's Commit2In: what `bench prove` and external C2 provers read.
std::string commit2_input(uint64_t sector, const std::string& phase1_json, uint64_t sector_size) {
  return Json{
      {"SectorNum", sector}, {"Phase1Out", base64(phase1_json)}, {"SectorSize", sector_size}}
      .dump();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f.flush()) throw std::runtime_error("cannot write " + p.string());
}

struct BenchArgs {
  uint64_t sector_size = 0;
  std::string proof;
  uint64_t miner = 1000;
  uint64_t sector = 1;
  sdr::Bytes32 ticket{};
  sdr::Bytes32 seed{};
  std::string data;
  std::string compute = "builtin";
  std::string c2;
  std::string save_commit2_input;
  std::string keep;
  std::string parent_cache;
  std::vector<std::string> plugin_dirs;
  unsigned threads = 0;  // 0 = hardware concurrency
  bool json = false;
};

// Runs one stage component through the host's StageClient.
Json run_stage(const std::string& id, const Json& input, StageLine& line) {
  auto inst = host::ComponentDirectory::global().get(SEALHOST_KIND_STAGE, id);
  host::StageClient stage(inst);
  host::JobState job([&](uint64_t done, uint64_t total, std::string_view phase) {
    line.update(done, total, phase);
  });
  return Json::parse(stage.run(input.dump(), &job));
}

Json sector_json(const BenchArgs& a) {
  return {{"miner", a.miner}, {"number", a.sector}, {"size", a.sector_size}};
}

// The work directory: --keep DIR (kept) or a temporary one removed at exit.
class WorkDir {
 public:
  explicit WorkDir(const std::string& keep) {
    if (!keep.empty()) {
      path_ = keep;
      std::error_code ec;
      if (fs::exists(path_) && !fs::is_empty(path_, ec)) {
        throw std::runtime_error("--keep " + keep +
                                 ": directory is not empty (name a new or empty directory)");
      }
      fs::create_directories(path_);
      keep_ = true;
      return;
    }
    std::string tmpl = (fs::temp_directory_path() / "sealhost-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    path_ = tmpl;
  }
  ~WorkDir() {
    std::error_code ec;
    if (!keep_) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool keep_ = false;
};

}  // namespace

int cmd_bench_seal(const std::vector<std::string>& args, const std::optional<std::string>&) {
  po::options_description desc(
      "sealhost bench seal: seal and prove one sector end to end on this machine, through the "
      "plugin loader, and print where the time goes");
  BenchArgs a;
  std::string size_text, ticket_hex, seed_hex;
  desc.add_options()("sector-size", po::value(&size_text)->required(), "2KiB, 8MiB or 512MiB")(
      "proof", po::value(&a.proof), "registered seal proof (default: V1_1 of the sector size)")(
      "miner", po::value(&a.miner), "miner actor id (default 1000)")("sector", po::value(&a.sector),
                                                                     "sector number (default 1)")(
      "ticket", po::value(&ticket_hex), "32-byte hex (default 32 x 0x01)")(
      "seed", po::value(&seed_hex), "32-byte hex interactive seed (default 32 x 0x02)")(
      "data", po::value(&a.data), "payload file for the sector's one deal (default: CC, zeros)")(
      "compute", po::value(&a.compute),
      "PC2 engine: \"builtin\" (default, in-process CPU, every core) or a compute component "
      "(sealhost.compute.cpu|opencl|vulkan)")(
      "c2", po::value(&a.c2),
      "C2 stage component (default sealhost.stage.c2-vanilla: verified vanilla proofs, devnet "
      "only; sealhost.stage.c2-external runs a Groth16 prover)")(
      "save-commit2-input", po::value(&a.save_commit2_input),
      "write the commit2 input (lotus-bench format) to FILE")(
      "parent-cache", po::value(&a.parent_cache),
      "parent cache dir (default $FIL_PROOFS_PARENT_CACHE or /var/tmp/filecoin-parents)")(
      "plugin-dir", po::value(&a.plugin_dirs), "plugin directory (default: the built-in one)")(
      "keep", po::value(&a.keep), "keep the sector files in this (new or empty) directory")(
      "threads", po::value(&a.threads), "threads for C1 and PoSt proving (default: every core)")(
      "json", po::bool_switch(&a.json), "print a JSON summary on stdout");
  desc.add_options()("help,h", "show this help");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: sealhost bench seal --sector-size 2KiB|8MiB|512MiB [options]\n\n"
              << desc << "\n";
    return 0;
  }
  po::notify(vm);

  const auto size = sdk::units::parse_size(size_text);
  if (!size || (*size != 2048 && *size != (8u << 20) && *size != (512u << 20))) {
    throw std::runtime_error("--sector-size " + size_text +
                             ": use 2KiB, 8MiB or 512MiB (bench seal runs on this machine)");
  }
  a.sector_size = *size;
  a.ticket.fill(1);
  a.seed.fill(2);
  if (!ticket_hex.empty()) a.ticket = sdr::bytes32_from_hex(ticket_hex, "--ticket");
  if (!seed_hex.empty()) a.seed = sdr::bytes32_from_hex(seed_hex, "--seed");
  const sdr::SealProof* proof = nullptr;
  if (a.proof.empty()) {
    for (const auto& p : sdr::all_seal_proofs()) {
      if (p.sector_size == a.sector_size && p.api_version != sdr::ApiVersion::V1_0_0 &&
          !p.synthetic) {
        proof = &p;
      }
    }
  } else {
    proof = &sdr::lookup_seal_proof(a.proof);
  }
  if (proof->sector_size != a.sector_size) {
    throw std::runtime_error("--proof " + std::string(proof->name) + " seals " +
                             sdk::units::format_size(proof->sector_size) +
                             " sectors, not --sector-size " + size_text);
  }
  if (proof->api_version == sdr::ApiVersion::V1_0_0) {
    throw std::runtime_error("--proof " + std::string(proof->name) +
                             ": legacy V1 proofs cannot be committed any more (use V1_1 or a "
                             "synthetic proof)");
  }
  if (a.parent_cache.empty()) {
    const char* env = std::getenv("FIL_PROOFS_PARENT_CACHE");
    a.parent_cache = env && *env ? env : "/var/tmp/filecoin-parents";
  }
  const bool quiet = false;

  // Plugins: the loader, and the stage options this run needs.
  host::Config host_part;
  for (const auto& d : a.plugin_dirs) host_part.plugin_search_path.emplace_back(d);
  if (host_part.plugin_search_path.empty()) {
    host_part.plugin_search_path.push_back(host::default_plugin_dir());
  }
  std::vector<std::string> load_errors;
  auto registry = node::load_plugins(host_part, load_errors);
  for (const auto& e : load_errors) std::cerr << "warning: " << e << "\n";
  auto options_for = [&](const char* id, std::map<std::string, std::string> overrides) {
    auto ref = registry->find(id);
    if (!ref) {
      throw std::runtime_error("component " + std::string(id) +
                               " is not loaded (build the plugins or pass --plugin-dir)");
    }
    sdk::OptionSet o(ref->desc->options, ref->desc->options_len);
    o.apply_defaults();
    for (const auto& [k, v] : overrides) o.set_text(k, v);
    return o;
  };
  std::map<std::string, sdk::OptionSet, std::less<>> configured;
  configured.emplace("sealhost.stage.addpiece", options_for("sealhost.stage.addpiece", {}));
  configured.emplace("sealhost.stage.pc1",
                     options_for("sealhost.stage.pc1", {{"parent_cache_dir", a.parent_cache}}));
  configured.emplace("sealhost.stage.pc2",
                     options_for("sealhost.stage.pc2", {{"compute", a.compute}}));
  if (a.c2.empty() && !registry->find("sealhost.stage.c2-vanilla")) {
    throw std::runtime_error(
        "component sealhost.stage.c2-vanilla is not loaded (build the plugins, pass --plugin-dir, "
        "or name a C2 stage with --c2)");
  }
  host::ComponentDirectory::global().bind(registry.get(), std::move(configured));
  struct Unbind {
    ~Unbind() { host::ComponentDirectory::global().clear(); }
  } unbind;

  WorkDir work(a.keep);
  const fs::path unsealed = work.path() / "unsealed";
  const fs::path sealed = work.path() / "sealed";
  const fs::path cache = work.path() / "cache";
  std::map<std::string, double> secs;
  if (!a.json) {
    std::cerr << "sealing a " << sdk::units::format_size(a.sector_size) << " sector ("
              << proof->name << ", miner f0" << a.miner << ", sector " << a.sector << ") in "
              << work.path().string() << "\n";
  }

  // Init: what this process does once whatever the number of sectors: the SDR graph of the
  // proof and the Poseidon constants of the arities C1, verification and PoSt hash with (column
  // arity 2 for 2-layer sectors, tree arity 8). Counted in the total, not in the first stage
  // that happens to touch them. (The stage plugins keep their own copies.)
  const unsigned threads =
      a.threads != 0 ? a.threads : std::max(1u, std::thread::hardware_concurrency());
  std::optional<sdr::Graph> graph_slot;
  {
    StageLine line("init", quiet);
    const auto t0 = Clock::now();
    graph_slot.emplace(*proof);
    const std::vector<uint8_t> zeros(32 * std::max<size_t>(8, proof->layers), 0);
    uint8_t out[32];
    for (size_t arity : {size_t{2}, size_t{8}, size_t{proof->layers}}) {
      proofs::poseidon::hash_batch_bytes(arity, zeros.data(), out, 1);
    }
    secs["init"] = since(t0);
    line.done(secs["init"],
              "graph, Poseidon constants; " + std::to_string(threads) + " proving thread(s)");
  }
  const sdr::Graph& graph = *graph_slot;

  // AddPiece: the deal's payload (then zero pieces to fill the sector), or one CC zero piece.
  Json existing = Json::array();
  std::vector<proofs::commp::PieceInfo> deals;
  {
    StageLine line("addpiece", quiet);
    const auto t0 = Clock::now();
    uint64_t used = 0;
    auto add = [&](const Json& piece) {
      Json in = {{"v", 1},
                 {"sector", sector_json(a)},
                 {"unsealed_path", unsealed.string()},
                 {"existing_pieces", existing},
                 {"piece", piece}};
      const Json out = run_stage("sealhost.stage.addpiece", in, line);
      for (const auto& p : out.at("pieces")) {
        existing.push_back({{"size", p.at("size")}, {"cid", p.at("cid")}});
        if (!p.at("padding").get<bool>()) {
          deals.push_back({proofs::cid::parse_piece_cid_v1(p.at("cid").get<std::string>()),
                           p.at("size").get<uint64_t>()});
        }
      }
      used = out.at("unsealed_size").get<uint64_t>();
    };
    if (!a.data.empty()) {
      add({{"path", a.data}});
      while (used < a.sector_size) {
        const uint64_t rest = a.sector_size - used;
        add({{"zero", true}, {"size", std::min(std::bit_floor(rest), used & (~used + 1))}});
      }
    } else {
      add({{"zero", true}, {"size", a.sector_size}});
    }
    secs["addpiece"] = since(t0);
    line.done(secs["addpiece"]);
  }
  const auto comm_d_pieces = proofs::commp::comm_d(a.sector_size, deals);

  // PC1.
  Json pc1;
  {
    StageLine line("pc1", quiet);
    const auto t0 = Clock::now();
    pc1 = run_stage("sealhost.stage.pc1",
                    {{"v", 1},
                     {"sector", sector_json(a)},
                     {"proof", std::string(proof->name)},
                     {"ticket", hex(a.ticket)},
                     {"unsealed_path", unsealed.string()},
                     {"cache_dir", cache.string()},
                     {"unsealed_cid", proofs::cid::piece_cid_v1(comm_d_pieces)}},
                    line);
    secs["pc1"] = since(t0);
    line.done(secs["pc1"]);
  }
  const auto replica_id = sdr::bytes32_from_hex(pc1.at("replica_id").get<std::string>(), "pc1");

  // PC2.
  Json pc2;
  {
    StageLine line("pc2", quiet);
    const auto t0 = Clock::now();
    pc2 = run_stage("sealhost.stage.pc2",
                    {{"v", 1},
                     {"sector", sector_json(a)},
                     {"proof", std::string(proof->name)},
                     {"cache_dir", cache.string()},
                     {"unsealed_path", unsealed.string()},
                     {"sealed_path", sealed.string()},
                     {"comm_d", hex(comm_d_pieces)},
                     {"replica_id", hex(replica_id)}},
                    line);
    secs["pc2"] = since(t0);
    line.done(secs["pc2"], "compute " + pc2.value("compute", a.compute));
  }
  const auto comm_r = sdr::bytes32_from_hex(pc2.at("comm_r").get<std::string>(), "pc2");

  // Synthetic PoRep: every synthetic challenge is proven right after PC2 (the file PC1/PC2 data
  // can be dropped after); C1 then reads the selected records.
  const auto params = proofs::c1::PoRepParams::for_seal_proof(*proof);
  proofs::c1::PublicInputs pub;
  pub.replica_id = replica_id;
  pub.comm_d = comm_d_pieces;
  pub.comm_r = comm_r;
  pub.seed = a.seed;
  const fs::path synth_file = cache / "syn-porep-vanilla-proofs.dat";
  if (proof->synthetic) {
    StageLine line("synth", quiet);
    const auto t0 = Clock::now();
    proofs::c1::SynthWriteOptions so;
    so.progress = [&](uint64_t d, uint64_t t) { line.update(d, t, "synthetic"); };
    proofs::c1::write_synthetic_proofs(params, graph, pub, {cache, sealed}, synth_file, so);
    const double t = since(t0);
    secs["pc2"] += t;
    line.done(t, "synthetic proofs file (counted in pc2)");
  }

  // C1: the vanilla PoRep proofs for the seed's challenges, as SealCommitPhase1Output JSON.
  std::string phase1;
  {
    StageLine line("c1", quiet);
    const auto t0 = Clock::now();
    const auto c1 =
        proof->synthetic
            ? proofs::c1::read_synthetic_proofs(params, graph, pub, synth_file)
            : proofs::c1::prove_commit1(params, graph, pub, {cache, sealed}, {threads, nullptr});
    phase1 = proofs::c1::c1_output_to_json(params, std::string(proof->name), a.ticket, c1);
    secs["c1"] = since(t0);
    size_t n = 0;
    for (const auto& p : c1.partitions) n += p.size();
    line.done(secs["c1"], std::to_string(n) + " challenges in " +
                              std::to_string(c1.partitions.size()) + " partition(s), " +
                              sdk::units::format_size_human(phase1.size()) + " of JSON");
  }
  const fs::path phase1_path = work.path() / "c1-output.json";
  write_text(phase1_path, phase1);
  if (!a.save_commit2_input.empty()) {
    write_text(a.save_commit2_input, commit2_input(a.sector, phase1, a.sector_size));
    if (!a.json) std::cerr << "  commit2 input saved to " << a.save_commit2_input << "\n";
  }

  // C2: a SNARK needs Groth16 parameters and a prover, which a C2 stage such as
  // sealhost.stage.c2-external brings. By default sealhost.stage.c2-vanilla checks and bundles
  // the vanilla proofs (accepted by the embedded devnet only, never by mainnet).
  const std::string c2_id = a.c2.empty() ? "sealhost.stage.c2-vanilla" : a.c2;
  std::string snark_hex, c2_note;
  {
    StageLine line("c2", quiet);
    const auto t0 = Clock::now();
    const Json out = run_stage(
        c2_id, {{"v", 1}, {"sector", sector_json(a)}, {"phase1_output_path", phase1_path.string()}},
        line);
    secs["c2"] = since(t0);
    if (out.contains("proof")) {
      snark_hex = out.at("proof").get<std::string>();
      c2_note = std::to_string(snark_hex.size() / 2) + " proof bytes from " + c2_id;
    } else {
      c2_note = "vanilla bundle (devnet only, not a SNARK): " +
                out.value("bundle_path", std::string("?"));
    }
    line.done(secs["c2"], c2_note);
  }

  // Verify: parse the C1 JSON back, re-derive the challenges and check every proof against
  // comm_d / comm_r.
  {
    StageLine line("verify", quiet);
    const auto t0 = Clock::now();
    const auto parsed = proofs::c1::c1_output_from_json(params, phase1);
    const auto verdict = proofs::c1::verify_commit1(params, graph, parsed.output);
    secs["verify"] = since(t0);
    if (!verdict) throw std::runtime_error("commit proof does not verify: " + verdict.reason);
    line.done(secs["verify"], "vanilla proofs valid");
  }

  // PoSt: window and winning vanilla proofs of the sealed sector, then their verification.
  proofs::post::ReplicaInfo replica;
  replica.sector_id = a.sector;
  replica.comm_r = comm_r;
  replica.cache_dir = cache;
  replica.replica_path = sealed;
  const std::vector<proofs::post::PublicSector> pub_sectors = {{a.sector, comm_r}};
  proofs::post::ProveOptions post_options;
  post_options.threads = threads;
  auto prove_post = [&](const char* name, const proofs::challenges::PoStConfig& config,
                        auto&& prove) {
    StageLine line(name, quiet);
    const auto t0 = Clock::now();
    const proofs::post::VanillaProofs proofs_ = prove(config);
    if (!proofs_.faults.empty()) {
      throw std::runtime_error(std::string(name) + ": sector " + std::to_string(a.sector) +
                               " is faulty: " + proofs_.faults.front().reason);
    }
    const auto partitions = proofs::post::partition_vanilla_proofs(config, proofs_.proofs);
    const auto verdict =
        proofs::post::verify_all_partitions(config, a.seed, pub_sectors, partitions);
    if (!verdict)
      throw std::runtime_error(std::string(name) + " does not verify: " + verdict.reason);
    secs[name] = since(t0);
    line.done(secs[name], "valid");
  };
  prove_post("window_post", proofs::challenges::PoStConfig::window(a.sector_size),
             [&](const auto& cfg) {
               return proofs::post::prove_window(cfg, a.seed, std::span(&replica, 1), post_options);
             });
  prove_post("winning_post", proofs::challenges::PoStConfig::winning(a.sector_size),
             [&](const auto& cfg) {
               return proofs::post::prove_winning(cfg, a.seed, replica, post_options);
             });

  const std::string unsealed_cid = proofs::cid::piece_cid_v1(comm_d_pieces);
  const std::string sealed_cid = proofs::cid::sealed_cid(comm_r);
  if (a.json) {
    Json s = Json::object();
    for (const char* k :
         {"init", "addpiece", "pc1", "pc2", "c1", "c2", "verify", "window_post", "winning_post"}) {
      s[k] = secs[k];
    }
    Json out{{"proof", std::string(proof->name)}, {"sector_size", a.sector_size},
             {"comm_d", hex(comm_d_pieces)},      {"comm_r", hex(comm_r)},
             {"unsealed_cid", unsealed_cid},      {"sealed_cid", sealed_cid},
             {"replica_id", hex(replica_id)},     {"seconds", s}};
    if (!snark_hex.empty()) out["c2_proof"] = snark_hex;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  double total = 0;
  std::cout << "\n"
            << proof->name << "  " << sdk::units::format_size(a.sector_size) << "\n"
            << "CommD:        " << hex(comm_d_pieces) << "\n"
            << "CommR:        " << hex(comm_r) << "\n"
            << "unsealed CID: " << unsealed_cid << "\n"
            << "sealed CID:   " << sealed_cid << "\n"
            << "replica id:   " << hex(replica_id) << "\n\n";
  std::printf("%-14s %10s\n", "stage", "seconds");
  for (const char* k :
       {"init", "addpiece", "pc1", "pc2", "c1", "c2", "verify", "window_post", "winning_post"}) {
    std::printf("%-14s %10.3f%s\n", k, secs[k],
                std::string(k) == "c2" && snark_hex.empty() ? "  (vanilla, no SNARK)" : "");
    total += secs[k];
  }
  std::printf("%-14s %10.3f\n", "total", total);
  return 0;
}

int cmd_bench_prove(const std::vector<std::string>& args, const std::optional<std::string>&) {
  po::options_description desc(
      "sealhost bench prove: C2 of a saved commit2 input (bench seal --save-commit2-input, or "
      "lotus-bench's format)");
  std::string file, c2;
  std::vector<std::string> plugin_dirs;
  bool json = false;
  desc.add_options()("file", po::value(&file)->required(), "the commit2 input JSON")(
      "c2", po::value(&c2), "C2 stage component (default: verify the vanilla proofs only)")(
      "plugin-dir", po::value(&plugin_dirs), "plugin directory (default: the built-in one)")(
      "json", po::bool_switch(&json), "print a JSON summary on stdout");
  desc.add_options()("help,h", "show this help");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: sealhost bench prove [--c2 COMPONENT] [--json] FILE\n\n" << desc << "\n";
    return 0;
  }
  po::notify(vm);

  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file + ": cannot open");
  const Json doc = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("Phase1Out") ||
      !doc["Phase1Out"].is_string() || !doc.contains("SectorNum") ||
      !doc["SectorNum"].is_number_unsigned() || !doc.contains("SectorSize") ||
      !doc["SectorSize"].is_number_unsigned()) {
    throw std::runtime_error(file +
                             ": not a commit2 input (expected {\"SectorNum\", \"Phase1Out\" "
                             "(base64), \"SectorSize\"} as bench seal --save-commit2-input "
                             "writes)");
  }
  const uint64_t sector = doc["SectorNum"].get<uint64_t>();
  const uint64_t sector_size = doc["SectorSize"].get<uint64_t>();
  const std::string phase1 = unbase64(doc["Phase1Out"].get<std::string>(), file + ": Phase1Out");
  const Json p1 = Json::parse(phase1, nullptr, false);
  if (p1.is_discarded() || !p1.contains("registered_proof") ||
      !p1["registered_proof"].is_string()) {
    throw std::runtime_error(file + ": Phase1Out is not a SealCommitPhase1Output JSON");
  }
  const auto& proof = sdr::lookup_seal_proof(p1["registered_proof"].get<std::string>());
  if (proof.sector_size != sector_size) {
    throw std::runtime_error(file + ": SectorSize " + std::to_string(sector_size) +
                             " does not match the proof " + std::string(proof.name));
  }
  const auto params = proofs::c1::PoRepParams::for_seal_proof(proof);
  const sdr::Graph graph(proof);
  Json out = {{"proof", std::string(proof.name)}, {"sector", sector}};

  auto t0 = Clock::now();
  const auto parsed = proofs::c1::c1_output_from_json(params, phase1);
  const auto verdict = proofs::c1::verify_commit1(params, graph, parsed.output);
  out["verify_seconds"] = since(t0);
  out["vanilla_valid"] = static_cast<bool>(verdict);
  if (!verdict) {
    throw std::runtime_error(file + ": the vanilla proofs do not verify: " + verdict.reason);
  }
  if (!c2.empty()) {
    host::Config host_part;
    for (const auto& d : plugin_dirs) host_part.plugin_search_path.emplace_back(d);
    if (host_part.plugin_search_path.empty()) {
      host_part.plugin_search_path.push_back(host::default_plugin_dir());
    }
    std::vector<std::string> load_errors;
    auto registry = node::load_plugins(host_part, load_errors);
    for (const auto& e : load_errors) std::cerr << "warning: " << e << "\n";
    host::ComponentDirectory::global().bind(registry.get());
    struct Unbind {
      ~Unbind() { host::ComponentDirectory::global().clear(); }
    } unbind;
    WorkDir work("");
    const fs::path phase1_path = work.path() / "c1-output.json";
    write_text(phase1_path, phase1);
    StageLine line("c2", json);
    t0 = Clock::now();
    const Json r = run_stage(c2,
                             {{"v", 1},
                              {"sector", {{"miner", 0}, {"number", sector}, {"size", sector_size}}},
                              {"phase1_output_path", phase1_path.string()}},
                             line);
    out["c2_seconds"] = since(t0);
    out["c2_proof"] = r.at("proof");
    line.done(out["c2_seconds"].get<double>());
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << proof.name << " sector " << sector << ": vanilla proofs valid (verified in "
              << out["verify_seconds"].get<double>() << " s)\n";
    if (out.contains("c2_proof")) {
      std::cout << "C2 proof (" << out["c2_proof"].get<std::string>().size() / 2 << " bytes) from "
                << c2 << " in " << out["c2_seconds"].get<double>() << " s\n";
    } else {
      std::cout << "no C2 stage given: vanilla proofs only (no SNARK; devnet only)\n";
    }
  }
  return 0;
}

}  // namespace sealhost::cli
