#include "proofs/post/vanilla.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "proofs/pc2/aux_files.hpp"

namespace sealhost::proofs::post {
namespace {

using challenges::PoStApiVersion;
using challenges::PoStType;
using merkle::TreeShape;

std::string hex(const Node& n) {
  static constexpr char kD[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : n) {
    s.push_back(kD[b >> 4]);
    s.push_back(kD[b & 15]);
  }
  return s;
}

std::string sector_name(uint64_t id) {
  return "sector " + std::to_string(id);
}

// Runs body(i) for i < n on up to `threads` threads; rethrows the first exception.
template <typename Body>
void parallel_for(size_t n, unsigned threads, const Body& body) {
  const size_t workers = std::min<size_t>(std::max(1u, threads), n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        body(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::jthread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(run);
  run();
  pool.clear();
  if (error) std::rethrow_exception(error);
}

// The Merkle path of a TreeRLast leaf has log8(base_leaves) base levels of arity 8, then one
// level of sub arity and one of top arity when the shape has them.
std::optional<std::string> path_shape_error(const InclusionProof& p, const TreeShape& shape) {
  std::vector<size_t> arities(merkle::row_count(shape.base_leaves, shape.base_arity) - 1,
                              shape.base_arity);
  if (shape.sub_arity != 0) arities.push_back(shape.sub_arity);
  if (shape.top_arity != 0) arities.push_back(shape.top_arity);
  if (p.path.size() != arities.size()) {
    return "path has " + std::to_string(p.path.size()) + " levels, the sector size needs " +
           std::to_string(arities.size());
  }
  for (size_t i = 0; i < arities.size(); ++i) {
    if (p.path[i].arity() != arities[i]) {
      return "path level " + std::to_string(i) + " has arity " + std::to_string(p.path[i].arity()) +
             ", expected " + std::to_string(arities[i]);
    }
  }
  return std::nullopt;
}

// One sector of a partition: FallbackPoSt::verify's per-sector body.
Verdict verify_sector(const PoStConfig& config, const TreeShape& shape, const Bytes32& randomness,
                      const PublicSector& sector, const SectorProof& proof, uint64_t sector_index,
                      size_t challenge_count) {
  const std::string who = sector_name(sector.sector_id);
  if (proof.inclusion_proofs.empty()) return Verdict::fail(who + ": no inclusion proofs");
  const Node& comm_r_last = proof.inclusion_proofs[0].root;
  try {
    if (comm_r_of(proof.comm_c, comm_r_last) != sector.comm_r) {
      return Verdict::fail(who + ": Poseidon(comm_c, comm_r_last) != comm_r " + hex(sector.comm_r));
    }
  } catch (const merkle::MerkleError&) {
    return Verdict::fail(who + ": comm_c or comm_r_last is not a canonical field element");
  }
  if (proof.inclusion_proofs.size() != challenge_count) {
    return Verdict::fail(who + ": " + std::to_string(proof.inclusion_proofs.size()) +
                         " inclusion proofs, expected " + std::to_string(challenge_count));
  }
  for (size_t n = 0; n < challenge_count; ++n) {
    const auto& p = proof.inclusion_proofs[n];
    const uint64_t ci =
        challenges::post_challenge_index(config.api_version, sector_index, challenge_count, n);
    const uint64_t leaf =
        challenges::post_leaf_challenge(randomness, sector.sector_id, ci, config.nodes());
    const std::string what = who + " challenge " + std::to_string(n);
    if (p.root != comm_r_last) return Verdict::fail(what + ": root differs from comm_r_last");
    if (auto e = path_shape_error(p, shape)) return Verdict::fail(what + ": " + *e);
    if (p.path_index() != leaf) {
      return Verdict::fail(what + ": path opens leaf " + std::to_string(p.path_index()) +
                           ", the challenge is leaf " + std::to_string(leaf));
    }
    if (!merkle::verify(p, merkle::NodeHash::kPoseidon, comm_r_last, leaf)) {
      return Verdict::fail(what + ": path does not hash to comm_r_last");
    }
  }
  return Verdict::ok();
}

void check_type(const PoStConfig& config, PoStType type, const char* what) {
  config.validate();
  if (config.type != type) {
    throw PoStError(std::string(what) + ": needs a " +
                    (type == PoStType::kWindow ? "window" : "winning") + " post config");
  }
}

}  // namespace

bool operator==(const SectorProof& a, const SectorProof& b) {
  if (a.comm_c != b.comm_c || a.comm_r_last != b.comm_r_last ||
      a.inclusion_proofs.size() != b.inclusion_proofs.size()) {
    return false;
  }
  for (size_t i = 0; i < a.inclusion_proofs.size(); ++i) {
    const auto& x = a.inclusion_proofs[i];
    const auto& y = b.inclusion_proofs[i];
    if (x.leaf != y.leaf || x.root != y.root || x.path.size() != y.path.size()) return false;
    for (size_t l = 0; l < x.path.size(); ++l) {
      if (x.path[l].position != y.path[l].position || x.path[l].siblings != y.path[l].siblings) {
        return false;
      }
    }
  }
  return true;
}

Node comm_r_of(const Node& comm_c, const Node& comm_r_last) {
  return merkle::hash_children(merkle::NodeHash::kPoseidon, {comm_c, comm_r_last});
}

namespace {

// A sector whose commitments check out and whose TreeRLast store opened.
struct OpenSector {
  Node comm_c{};
  Node comm_r_last{};
  std::optional<merkle::CompoundTreeReader> tree;
};

// Reads the commitments (p_aux unless given), checks comm_r, opens the TreeRLast store over the
// replica and checks its root. Returns the fault reason (without the sector name) instead when
// the sector cannot be proven.
std::variant<OpenSector, std::string> open_sector(const TreeShape& shape,
                                                  const ReplicaInfo& replica) {
  try {
    OpenSector s;
    if (!replica.comm_c || !replica.comm_r_last) {
      const auto p_aux = pc2::read_p_aux(replica.cache_dir);
      s.comm_c = replica.comm_c.value_or(p_aux.comm_c);
      s.comm_r_last = replica.comm_r_last.value_or(p_aux.comm_r_last);
    } else {
      s.comm_c = *replica.comm_c;
      s.comm_r_last = *replica.comm_r_last;
    }
    if (comm_r_of(s.comm_c, s.comm_r_last) != replica.comm_r) {
      return "comm_r " + hex(replica.comm_r) +
             " != Poseidon(comm_c, comm_r_last); p_aux or the sector's comm_r is wrong";
    }
    size_t rows_to_discard = merkle::default_rows_to_discard(shape.base_leaves, shape.base_arity);
    if (replica.rows_to_discard) {
      rows_to_discard = *replica.rows_to_discard;
    } else if (std::filesystem::exists(replica.cache_dir / pc2::kTAuxFileName)) {
      rows_to_discard = pc2::read_t_aux(replica.cache_dir).tree_r_last.rows_to_discard;
    }
    auto leaves = merkle::file_leaf_reader(replica.replica_path, 0, shape.total_leaves());
    s.tree = merkle::CompoundTreeReader::open(replica.cache_dir, merkle::TreeId::kTreeRLast, shape,
                                              {rows_to_discard}, leaves);
    if (s.tree->root() != s.comm_r_last) {
      return "tree-r-last store in " + replica.cache_dir.string() + " has root " +
             hex(s.tree->root()) + ", expected comm_r_last " + hex(s.comm_r_last) +
             " (store of another sector, other rows_to_discard, or damaged)";
    }
    return s;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

struct SectorJob {
  const ReplicaInfo* replica = nullptr;
  std::vector<uint64_t> leaves;
};

// Proves every job. The sectors are opened in parallel, then the challenges of all sectors are
// spread over options.threads together (a partition's sectors have few challenges each, so
// per-sector parallelism would leave threads idle at every sector boundary). A sector with a
// failed challenge stops taking work and becomes a Fault naming its first failed challenge.
std::vector<std::variant<SectorVanillaProof, Fault>> prove_sectors(const PoStConfig& config,
                                                                   std::span<const SectorJob> jobs,
                                                                   const ProveOptions& options) {
  const TreeShape shape = TreeShape::for_sector(config.sector_bytes);
  for (const auto& job : jobs) {
    for (uint64_t leaf : job.leaves) {
      if (leaf >= shape.total_leaves()) {
        throw PoStError("post prove " + sector_name(job.replica->sector_id) + ": challenge leaf " +
                        std::to_string(leaf) + " out of range (the sector has " +
                        std::to_string(shape.total_leaves()) + " leaves)");
      }
    }
  }
  auto check_cancel = [&](uint64_t sector_id) {
    if (options.cancelled && options.cancelled()) {
      throw Cancelled("post prove " + sector_name(sector_id) + ": cancelled");
    }
  };
  std::vector<std::variant<OpenSector, std::string>> open(jobs.size());
  parallel_for(jobs.size(), options.threads, [&](size_t j) {
    check_cancel(jobs[j].replica->sector_id);
    open[j] = open_sector(shape, *jobs[j].replica);
  });

  struct Task {
    size_t job = 0;
    size_t challenge = 0;
  };
  std::vector<Task> tasks;
  std::vector<std::vector<InclusionProof>> paths(jobs.size());
  std::vector<std::vector<std::string>> errors(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (!std::holds_alternative<OpenSector>(open[j])) continue;
    paths[j].resize(jobs[j].leaves.size());
    errors[j].resize(jobs[j].leaves.size());
    for (size_t i = 0; i < jobs[j].leaves.size(); ++i) tasks.push_back({j, i});
  }
  auto failed = std::make_unique<std::atomic<bool>[]>(jobs.size());
  parallel_for(tasks.size(), options.threads, [&](size_t t) {
    const auto [j, i] = tasks[t];
    check_cancel(jobs[j].replica->sector_id);
    if (failed[j].load(std::memory_order_relaxed)) return;
    const auto& s = std::get<OpenSector>(open[j]);
    const uint64_t leaf = jobs[j].leaves[i];
    const ReplicaInfo& replica = *jobs[j].replica;
    try {
      auto p = s.tree->prove(leaf);
      if (!merkle::verify(p, merkle::NodeHash::kPoseidon, s.comm_r_last, leaf)) {
        errors[j][i] = "challenge leaf " + std::to_string(leaf) + " (replica " +
                       replica.replica_path.string() + " bytes " + std::to_string(leaf * 32) +
                       ".." + std::to_string(leaf * 32 + 32) +
                       "): its path does not hash to comm_r_last; the replica or the tree-r-last "
                       "store is damaged";
      }
      paths[j][i] = std::move(p);
    } catch (const std::exception& e) {
      errors[j][i] = e.what();
    }
    if (!errors[j][i].empty()) failed[j].store(true, std::memory_order_relaxed);
  });

  std::vector<std::variant<SectorVanillaProof, Fault>> out;
  out.reserve(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const ReplicaInfo& replica = *jobs[j].replica;
    const std::string who = sector_name(replica.sector_id);
    if (const auto* why = std::get_if<std::string>(&open[j])) {
      out.emplace_back(Fault{replica.sector_id, who + ": " + *why});
      continue;
    }
    const auto first_error =
        std::find_if(errors[j].begin(), errors[j].end(), [](const auto& e) { return !e.empty(); });
    if (first_error != errors[j].end()) {
      out.emplace_back(Fault{replica.sector_id, who + ": " + *first_error});
      continue;
    }
    auto& s = std::get<OpenSector>(open[j]);
    SectorProof proof;
    proof.comm_c = s.comm_c;
    proof.comm_r_last = s.comm_r_last;
    proof.inclusion_proofs = std::move(paths[j]);
    SectorVanillaProof v;
    v.sector_id = replica.sector_id;
    v.comm_r = replica.comm_r;
    v.vanilla_proof.sectors.push_back(std::move(proof));
    out.emplace_back(std::move(v));
  }
  return out;
}

}  // namespace

std::variant<SectorVanillaProof, Fault> prove_sector(const PoStConfig& config,
                                                     const ReplicaInfo& replica,
                                                     std::span<const uint64_t> leaf_challenges,
                                                     const ProveOptions& options) {
  config.validate();
  const SectorJob job{&replica, {leaf_challenges.begin(), leaf_challenges.end()}};
  return std::move(prove_sectors(config, std::span(&job, 1), options)[0]);
}

VanillaProofs prove_window(const PoStConfig& config, const Bytes32& randomness,
                           std::span<const ReplicaInfo> sectors, const ProveOptions& options) {
  check_type(config, PoStType::kWindow, "prove_window");
  challenges::check_post_randomness(randomness);
  std::set<uint64_t> seen;
  for (const auto& s : sectors) {
    if (!seen.insert(s.sector_id).second) {
      throw PoStError("prove_window: " + sector_name(s.sector_id) +
                      " listed twice (pass each sector once)");
    }
  }
  std::vector<const ReplicaInfo*> active;
  for (const auto& s : sectors) active.push_back(&s);
  VanillaProofs out;
  for (;;) {
    out.proofs.clear();
    std::vector<SectorJob> jobs;
    jobs.reserve(active.size());
    for (size_t i = 0; i < active.size(); ++i) {
      jobs.push_back({active[i], challenges::post_sector_challenges(config, randomness,
                                                                    active[i]->sector_id, i)});
    }
    auto results = prove_sectors(config, jobs, options);
    std::vector<const ReplicaInfo*> kept;
    bool faulted = false;
    for (size_t i = 0; i < results.size(); ++i) {
      if (auto* f = std::get_if<Fault>(&results[i])) {
        out.faults.push_back(std::move(*f));
        faulted = true;
      } else {
        out.proofs.push_back(std::move(std::get<SectorVanillaProof>(results[i])));
        kept.push_back(active[i]);
      }
    }
    // API 1.0.0 challenges depend on positions, which shift when a sector drops out.
    if (!faulted || config.api_version != PoStApiVersion::kV1_0_0) break;
    active = std::move(kept);
  }
  std::sort(out.faults.begin(), out.faults.end(),
            [](const Fault& a, const Fault& b) { return a.sector_id < b.sector_id; });
  return out;
}

VanillaProofs prove_winning(const PoStConfig& config, const Bytes32& randomness,
                            const ReplicaInfo& sector, const ProveOptions& options) {
  check_type(config, PoStType::kWinning, "prove_winning");
  const auto leaves = challenges::post_sector_challenges(config, randomness, sector.sector_id, 0);
  VanillaProofs out;
  auto r = prove_sector(config, sector, leaves, options);
  if (auto* f = std::get_if<Fault>(&r)) {
    out.faults.push_back(std::move(*f));
  } else {
    out.proofs.push_back(std::move(std::get<SectorVanillaProof>(r)));
  }
  return out;
}

std::vector<PartitionProof> partition_vanilla_proofs(const PoStConfig& config,
                                                     std::span<const SectorVanillaProof> proofs) {
  config.validate();
  if (proofs.empty()) throw PoStError("partition_vanilla_proofs: no sector proofs");
  for (const auto& p : proofs) {
    if (p.vanilla_proof.sectors.size() != 1 ||
        p.vanilla_proof.sectors[0].inclusion_proofs.size() != config.challenge_count) {
      throw PoStError("partition_vanilla_proofs: " + sector_name(p.sector_id) +
                      " is not a single-sector proof with " +
                      std::to_string(config.challenge_count) + " challenges");
    }
  }
  std::vector<PartitionProof> out;
  if (config.type == PoStType::kWinning) {
    if (proofs.size() != config.sector_count) {
      throw PoStError("partition_vanilla_proofs: winning post takes exactly " +
                      std::to_string(config.sector_count) + " sector proof(s), got " +
                      std::to_string(proofs.size()));
    }
    // 66 challenges of one sector become 66 one-challenge sector proofs.
    const auto& sp = proofs[0].vanilla_proof.sectors[0];
    PartitionProof part;
    const size_t per = config.circuit_challenge_count();
    for (size_t i = 0; i < sp.inclusion_proofs.size(); i += per) {
      SectorProof s;
      s.comm_c = sp.comm_c;
      s.comm_r_last = sp.comm_r_last;
      s.inclusion_proofs.assign(sp.inclusion_proofs.begin() + static_cast<ptrdiff_t>(i),
                                sp.inclusion_proofs.begin() + static_cast<ptrdiff_t>(i + per));
      part.sectors.push_back(std::move(s));
    }
    out.push_back(std::move(part));
    return out;
  }
  for (size_t first = 0; first < proofs.size(); first += config.sector_count) {
    PartitionProof part;
    const size_t end = std::min(proofs.size(), first + config.sector_count);
    for (size_t i = first; i < end; ++i) part.sectors.push_back(proofs[i].vanilla_proof.sectors[0]);
    while (part.sectors.size() < config.sector_count) part.sectors.push_back(part.sectors.back());
    out.push_back(std::move(part));
  }
  return out;
}

std::vector<PublicSector> partition_public_sectors(const PoStConfig& config,
                                                   std::span<const PublicSector> sectors,
                                                   size_t partition) {
  config.validate();
  if (config.type == PoStType::kWinning) {
    if (sectors.size() != config.sector_count || partition != 0) {
      throw PoStError("partition_public_sectors: winning post has one partition of " +
                      std::to_string(config.sector_count) + " sector(s)");
    }
    return std::vector<PublicSector>(config.circuit_sector_count(), sectors[0]);
  }
  const size_t first = partition * config.sector_count;
  if (first >= sectors.size()) {
    throw PoStError("partition_public_sectors: partition " + std::to_string(partition) +
                    " out of range for " + std::to_string(sectors.size()) + " sectors");
  }
  const size_t end = std::min(sectors.size(), first + config.sector_count);
  return {sectors.begin() + static_cast<ptrdiff_t>(first),
          sectors.begin() + static_cast<ptrdiff_t>(end)};
}

Verdict verify_partition(const PoStConfig& config, const Bytes32& randomness,
                         std::span<const PublicSector> sectors, size_t partition,
                         const PartitionProof& proof) {
  try {
    config.validate();
  } catch (const std::exception& e) {
    return Verdict::fail(e.what());
  }
  if (!challenges::is_canonical_fr(randomness)) {
    return Verdict::fail("randomness is not a canonical field element");
  }
  const TreeShape shape = TreeShape::for_sector(config.sector_bytes);
  const size_t per_partition = config.circuit_sector_count();
  const size_t challenge_count = config.circuit_challenge_count();
  if (sectors.size() > per_partition) {
    return Verdict::fail("partition " + std::to_string(partition) + ": " +
                         std::to_string(sectors.size()) + " public sectors, at most " +
                         std::to_string(per_partition));
  }
  if (proof.sectors.size() != per_partition) {
    return Verdict::fail("partition " + std::to_string(partition) + ": proof holds " +
                         std::to_string(proof.sectors.size()) + " sector proofs, expected " +
                         std::to_string(per_partition));
  }
  for (size_t i = 0; i < sectors.size(); ++i) {
    const uint64_t sector_index = uint64_t{partition} * per_partition + i;
    auto v = verify_sector(config, shape, randomness, sectors[i], proof.sectors[i], sector_index,
                           challenge_count);
    if (!v) return Verdict::fail("partition " + std::to_string(partition) + ": " + v.reason);
  }
  return Verdict::ok();
}

Verdict verify_all_partitions(const PoStConfig& config, const Bytes32& randomness,
                              std::span<const PublicSector> sectors,
                              std::span<const PartitionProof> proofs) {
  if (sectors.empty()) return Verdict::fail("no public sectors");
  try {
    if (config.type == PoStType::kWinning) {
      if (proofs.size() != 1) return Verdict::fail("winning post: expected exactly one partition");
      return verify_partition(config, randomness, partition_public_sectors(config, sectors, 0), 0,
                              proofs[0]);
    }
    const size_t partitions = challenges::window_post_partitions(config, sectors.size());
    if (proofs.size() != partitions) {
      return Verdict::fail(std::to_string(sectors.size()) + " sectors need " +
                           std::to_string(partitions) + " partition proofs, got " +
                           std::to_string(proofs.size()));
    }
    for (size_t k = 0; k < partitions; ++k) {
      auto v = verify_partition(config, randomness, partition_public_sectors(config, sectors, k), k,
                                proofs[k]);
      if (!v) return v;
    }
  } catch (const std::exception& e) {
    return Verdict::fail(e.what());
  }
  return Verdict::ok();
}

Verdict verify_sector_vanilla_proof(const PoStConfig& config, const Bytes32& randomness,
                                    const PublicSector& sector, uint64_t sector_index,
                                    const SectorVanillaProof& proof) {
  try {
    config.validate();
  } catch (const std::exception& e) {
    return Verdict::fail(e.what());
  }
  if (!challenges::is_canonical_fr(randomness)) {
    return Verdict::fail("randomness is not a canonical field element");
  }
  if (proof.sector_id != sector.sector_id) {
    return Verdict::fail("proof is for " + sector_name(proof.sector_id) + ", expected " +
                         sector_name(sector.sector_id));
  }
  if (proof.comm_r != sector.comm_r) {
    return Verdict::fail(sector_name(sector.sector_id) + ": proof carries another comm_r");
  }
  if (proof.vanilla_proof.sectors.size() != 1) {
    return Verdict::fail(sector_name(sector.sector_id) + ": expected one sector proof, got " +
                         std::to_string(proof.vanilla_proof.sectors.size()));
  }
  return verify_sector(config, TreeShape::for_sector(config.sector_bytes), randomness, sector,
                       proof.vanilla_proof.sectors[0], sector_index, config.challenge_count);
}

}  // namespace sealhost::proofs::post
