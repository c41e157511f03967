#include "plugins/stage/finalize/finalize_stage.hpp"

#include "proofs/merkle/merkle.hpp"
#include "proofs/merkle/tree_store.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

namespace sealhost::stage_finalize {
namespace fs = std::filesystem;
namespace merkle = proofs::merkle;

namespace {

using stage::Json;

constexpr uint64_t kNode = 32;
constexpr uint64_t kPAuxBytes = 64;
constexpr const char* kPAux = "p_aux";
constexpr const char* kTAux = "t_aux";
constexpr const char* kSyntheticProofs = "syn-porep-vanilla-proofs.dat";

const stage::RecordReader kIn("finalize input");
const stage::RecordReader kOut("finalize output");

std::string sector_name(const stage::SectorId& s) {
  return "s-t0" + std::to_string(s.miner) + "-" + std::to_string(s.number);
}

merkle::TreeShape shape_of(uint64_t sector_size, const char* where) {
  try {
    return merkle::TreeShape::for_sector(sector_size);
  } catch (const merkle::MerkleError& e) {
    throw sdk::invalid_argument(std::string(where) + ": " + e.what());
  }
}

std::vector<std::string> string_list(const stage::RecordReader& r, const Json& j, const char* key) {
  const Json& v = r.member(j, key, "record");
  if (!v.is_array()) r.bad(std::string("record.") + key, "expected an array of paths");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) r.bad(std::string("record.") + key, "expected an array of paths");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// Apparent size of a file, or of every regular file under a directory.
uint64_t tree_bytes(const fs::path& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return fs::file_size(p, ec);
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) total += it->file_size(e2);
  }
  return total;
}

const sdk::Location* location_of(const std::vector<sdk::Location>& locs, uint32_t type,
                                 std::optional<std::string_view> on_path = std::nullopt) {
  for (const auto& l : locs) {
    if (l.file_type == type && !l.local_path.empty() && (!on_path || l.path_id == *on_path)) {
      return &l;
    }
  }
  return nullptr;
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

}  // namespace

// ---------------------------------------------------------------------------------- geometry

std::vector<std::string> tree_r_last_names(uint64_t sector_size) {
  const auto shape = shape_of(sector_size, "sector.size");
  const size_t count = shape.base_tree_count();
  std::vector<std::string> names;
  if (count == 1) {
    names.push_back(merkle::store_file_name(merkle::TreeId::kTreeRLast));
  } else {
    for (size_t i = 0; i < count; ++i) {
      names.push_back(merkle::store_file_name(merkle::TreeId::kTreeRLast, i));
    }
  }
  return names;
}

std::vector<uint64_t> tree_r_last_sizes(uint64_t sector_size) {
  const auto shape = shape_of(sector_size, "sector.size");
  const size_t rows = merkle::row_count(shape.base_leaves, shape.base_arity);
  std::vector<uint64_t> sizes;
  // A level-cache store keeps rows rows_to_discard+1 .. root; rust-fil-proofs allows
  // rows_to_discard from 0 up to rows - 2 (FIL_PROOFS_ROWS_TO_DISCARD, capped).
  for (size_t r = 0; r + 2 <= rows; ++r) {
    sizes.push_back(merkle::level_cache_len(shape.base_leaves, shape.base_arity, r) * kNode);
  }
  return sizes;
}

bool is_sealing_only_file(std::string_view name) {
  return name.starts_with("sc-02-data-layer-") || name.starts_with("sc-02-data-tree-c") ||
         name.starts_with("sc-02-data-tree-d") || name == kSyntheticProofs;
}

// ---------------------------------------------------------------------------------- records

FinalizeInput parse_input(std::string_view json) {
  const Json j = kIn.parse(json);
  kIn.only_keys(
      j, {"v", "sector", "cache_dir", "sealed_path", "unsealed_path", "keep_unsealed", "move_to"},
      "record");
  FinalizeInput in;
  in.sector = kIn.sector(j);
  in.cache_dir = kIn.text(j, "cache_dir", "record");
  in.sealed_path = kIn.text(j, "sealed_path", "record");
  if (kIn.optional(j, "unsealed_path")) in.unsealed_path = kIn.text(j, "unsealed_path", "record");
  if (kIn.optional(j, "keep_unsealed"))
    in.keep_unsealed = kIn.boolean(j, "keep_unsealed", "record");
  if (kIn.optional(j, "move_to")) in.move_to = kIn.text(j, "move_to", "record");
  (void)shape_of(in.sector.size, "finalize input: record.sector.size");
  return in;
}

std::string format_input(const FinalizeInput& in) {
  Json j = Json::object();
  j["v"] = stage::kRecordVersion;
  j["sector"] = stage::sector_json(in.sector);
  j["cache_dir"] = in.cache_dir;
  j["sealed_path"] = in.sealed_path;
  if (in.unsealed_path) j["unsealed_path"] = *in.unsealed_path;
  j["keep_unsealed"] = in.keep_unsealed;
  if (in.move_to) j["move_to"] = *in.move_to;
  return j.dump();
}

std::string format_output(const FinalizeOutput& out) {
  Json j = Json::object();
  j["v"] = stage::kRecordVersion;
  j["sector"] = stage::sector_json(out.sector);
  j["sealed_path"] = out.sealed_path;
  j["cache_dir"] = out.cache_dir;
  if (out.unsealed_path) j["unsealed_path"] = *out.unsealed_path;
  if (out.path_id) j["path_id"] = *out.path_id;
  j["moved"] = out.moved;
  j["kept"] = out.kept;
  j["removed"] = out.removed;
  j["bytes_freed"] = out.bytes_freed;
  j["bytes_moved"] = out.bytes_moved;
  j["seconds"] = out.seconds;
  return j.dump();
}

FinalizeOutput parse_output(std::string_view json) {
  const Json j = kOut.parse(json);
  kOut.only_keys(j,
                 {"v", "sector", "sealed_path", "cache_dir", "unsealed_path", "path_id", "moved",
                  "kept", "removed", "bytes_freed", "bytes_moved", "seconds"},
                 "record");
  FinalizeOutput o;
  o.sector = kOut.sector(j);
  o.sealed_path = kOut.text(j, "sealed_path", "record");
  o.cache_dir = kOut.text(j, "cache_dir", "record");
  if (kOut.optional(j, "unsealed_path")) o.unsealed_path = kOut.text(j, "unsealed_path", "record");
  if (kOut.optional(j, "path_id")) o.path_id = kOut.text(j, "path_id", "record");
  o.moved = kOut.boolean(j, "moved", "record");
  o.kept = string_list(kOut, j, "kept");
  o.removed = string_list(kOut, j, "removed");
  o.bytes_freed = kOut.u64(j, "bytes_freed", "record");
  o.bytes_moved = kOut.u64(j, "bytes_moved", "record");
  const Json& secs = kOut.member(j, "seconds", "record");
  if (!secs.is_number()) kOut.bad("record.seconds", "expected a number");
  o.seconds = secs.get<double>();
  return o;
}

// ---------------------------------------------------------------------------------- stage

FinalizeStage::FinalizeStage(const sdk::Context& ctx)
    : FinalizeStage(
          FinalizeOptions::parse(ctx.options), ctx.log,
          [host = ctx.host](const std::string& id) { return sdk::find_storage(host, id); }) {}

FinalizeStage::FinalizeStage(const FinalizeOptions& options, sdk::Logger log,
                             StorageResolver storage)
    : opts_(options), log_(std::move(log)), resolve_(std::move(storage)) {
  if (opts_.storage.empty()) {
    throw sdk::invalid_argument(
        "option storage: empty (name a storage component, e.g. \"sealhost.storage.local\")");
  }
}

sdk::StorageRef FinalizeStage::storage() {
  std::lock_guard lock(mu_);
  if (!storage_) {
    if (!resolve_) {
      throw sdk::failed_precondition("finalize: no storage component available to move files to " +
                                     opts_.storage + " (omit move_to)");
    }
    try {
      storage_ = resolve_(opts_.storage);
    } catch (const sdk::Error& e) {
      throw sdk::Error(e.code(), std::string("finalize: option storage: ") + e.what() +
                                     " (load the storage plugin or fix [stages.finalize] storage)");
    }
  }
  return *storage_;
}

std::string FinalizeStage::run(std::string_view input_json, const sdk::Job& job) {
  return format_output(finalize(parse_input(input_json), job));
}

FinalizeOutput FinalizeStage::finalize(const FinalizeInput& in, const sdk::Job& job) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string name = sector_name(in.sector);
  const std::string what = "finalize " + name;
  const auto names = tree_r_last_names(in.sector.size);
  const auto sizes = tree_r_last_sizes(in.sector.size);
  const sdk::SectorRef ref{in.sector.miner, in.sector.number, in.sector.size};
  job.progress(0, 3, "verify");

  // 1. Where the files are: the input's paths, or (after an earlier, interrupted or complete run
  //    with move_to) wherever the storage component holds them.
  std::optional<sdk::StorageRef> st;
  std::vector<sdk::Location> locs;
  uint32_t types = SEALHOST_FT_SEALED | SEALHOST_FT_CACHE;
  const bool want_unsealed = in.keep_unsealed && in.unsealed_path.has_value();
  if (want_unsealed) types |= SEALHOST_FT_UNSEALED;
  if (in.move_to) {
    st = storage();
    sdk::PathInfo dest;
    try {
      dest = st->stat(*in.move_to);
    } catch (const sdk::Error& e) {
      throw sdk::Error(e.code(), what + ": move_to " + *in.move_to + ": " + e.what() +
                                     " (name the id of an attached storage path)");
    }
    if (!dest.can_store) {
      throw sdk::failed_precondition(what + ": move_to " + *in.move_to + " (" + dest.location +
                                     ") is not a storage path (CanStore is false; pick a path "
                                     "for long-term storage)");
    }
    locs = st->find(ref, types);
  }
  auto locate = [&](uint32_t type, const std::string& given) -> std::optional<fs::path> {
    std::error_code ec;
    if (fs::exists(given, ec)) return fs::path(given);
    if (const auto* l = location_of(locs, type); l && fs::exists(l->local_path, ec)) {
      return fs::path(l->local_path);
    }
    return std::nullopt;
  };
  const auto sealed = locate(SEALHOST_FT_SEALED, in.sealed_path);
  if (!sealed) {
    throw sdk::not_found(what + ": sealed file " + in.sealed_path + " does not exist" +
                         (st ? " and " + st->id() + " holds none" : "") +
                         " (run pc2 first; finalize never recreates a replica)");
  }
  const auto cache = locate(SEALHOST_FT_CACHE, in.cache_dir);
  if (!cache) {
    throw sdk::not_found(what + ": cache dir " + in.cache_dir + " does not exist" +
                         (st ? " and " + st->id() + " holds none" : "") + " (run pc1/pc2 first)");
  }
  if (in.unsealed_path) {
    // A caller mixing up paths must never make finalize delete the replica or PoSt files.
    const fs::path u = fs::absolute(*in.unsealed_path).lexically_normal();
    const fs::path c = fs::absolute(*cache).lexically_normal();
    const auto rel = u.lexically_relative(c);
    if (same_file(u, *sealed) || (!rel.empty() && *rel.begin() != "..")) {
      throw sdk::invalid_argument(what + ": unsealed_path " + *in.unsealed_path +
                                  " is the sealed file or lies in the cache dir (pass the "
                                  "sector's unsealed copy, or omit unsealed_path)");
    }
  }
  std::optional<fs::path> unsealed;
  if (want_unsealed) {
    unsealed = locate(SEALHOST_FT_UNSEALED, *in.unsealed_path);
    if (!unsealed) {
      throw sdk::failed_precondition(what + ": keep_unsealed is true but the unsealed file " +
                                     *in.unsealed_path +
                                     " does not exist (unseal the sector or set keep_unsealed "
                                     "to false)");
    }
  }
  if (st) {
    // The move works on what the storage component holds: it must be these very files.
    auto held = [&](uint32_t type, const fs::path& p) {
      for (const auto& l : locs) {
        if (l.file_type == type && same_file(l.local_path, p)) return;
      }
      throw sdk::failed_precondition(what + ": " + st->id() + " does not hold " + p.string() +
                                     " as the " + sdk::file_type_name(type) +
                                     " file of the sector (it must lie on an attached storage " +
                                     "path, as <path>/" + sdk::file_type_name(type) + "/" + name +
                                     ", to be moved; attach that path or omit move_to)");
    };
    held(SEALHOST_FT_SEALED, *sealed);
    held(SEALHOST_FT_CACHE, *cache);
    if (unsealed) held(SEALHOST_FT_UNSEALED, *unsealed);
  }

  // 2. Everything PoSt needs must be there before anything is deleted.
  std::vector<std::string> problems;
  std::error_code ec;
  if (!fs::is_regular_file(*sealed, ec)) {
    problems.push_back("sealed file " + sealed->string() + " is not a regular file");
  } else if (const auto sz = fs::file_size(*sealed, ec); ec || sz != in.sector.size) {
    problems.push_back("sealed file " + sealed->string() + " has " + std::to_string(sz) +
                       " bytes, not the sector size " + std::to_string(in.sector.size));
  }
  if (!fs::is_directory(*cache, ec)) {
    throw sdk::failed_precondition(what + ": cache dir " + cache->string() +
                                   " is not a directory (pass the sector's cache directory)");
  }
  for (const auto& n : names) {
    const fs::path p = *cache / n;
    if (!fs::is_regular_file(p, ec)) {
      problems.push_back(n + " is missing");
      continue;
    }
    const uint64_t sz = fs::file_size(p, ec);
    if (ec || std::find(sizes.begin(), sizes.end(), sz) == sizes.end()) {
      std::string allowed;
      for (auto s : sizes) allowed += (allowed.empty() ? "" : ", ") + std::to_string(s);
      problems.push_back(n + " has " + std::to_string(sz) + " bytes, not a tree-r-last size of " +
                         "this sector size (" + allowed + ")");
    }
  }
  if (!fs::is_regular_file(*cache / kPAux, ec)) {
    problems.push_back(std::string(kPAux) + " is missing");
  } else if (const auto sz = fs::file_size(*cache / kPAux, ec); sz != kPAuxBytes) {
    problems.push_back(std::string(kPAux) + " has " + std::to_string(sz) + " bytes, not 64");
  }
  const bool has_t_aux =
      fs::is_regular_file(*cache / kTAux, ec) && fs::file_size(*cache / kTAux, ec) > 0;
  if (opts_.require_t_aux && !has_t_aux) {
    problems.push_back(std::string(kTAux) + " is missing or empty");
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    throw sdk::failed_precondition(what + ": not finalizable, nothing was deleted: " + msg +
                                   " (in " + cache->string() +
                                   "; rerun pc2 for this sector, or restore the files)");
  }

  // 3. Delete what only sealing needed. Cancel is honoured up to here, not halfway.
  job.check_cancel(what);
  job.progress(1, 3, "remove");
  FinalizeOutput out;
  out.sector = in.sector;
  auto remove_file = [&](const fs::path& p) {
    std::error_code e;
    const uint64_t sz = fs::file_size(p, e);
    if (!fs::remove(p, e) && e) {
      throw sdk::io_error(what + ": cannot delete " + p.string() + ": " + e.message() +
                          " (check permissions; nothing PoSt needs was touched)");
    }
    out.removed.push_back(p.string());
    out.bytes_freed += sz;
  };
  std::vector<fs::path> doomed;
  for (auto it = fs::directory_iterator(*cache, ec); !ec && it != fs::end(it); it.increment(ec)) {
    const std::string n = it->path().filename().string();
    std::error_code e;
    if (is_sealing_only_file(n) && !it->is_directory(e)) doomed.push_back(it->path());
  }
  if (ec) throw sdk::io_error(what + ": cannot list " + cache->string() + ": " + ec.message());
  std::sort(doomed.begin(), doomed.end());
  for (const auto& p : doomed) remove_file(p);
  if (in.unsealed_path && !in.keep_unsealed && fs::exists(*in.unsealed_path, ec)) {
    remove_file(*in.unsealed_path);
  }
  out.sealed_path = sealed->string();
  out.cache_dir = cache->string();
  if (unsealed) out.unsealed_path = unsealed->string();

  // 4. Move to long-term storage.
  if (st) {
    uint32_t to_move = 0;
    for (uint32_t t : {uint32_t{SEALHOST_FT_SEALED}, uint32_t{SEALHOST_FT_CACHE},
                       uint32_t{SEALHOST_FT_UNSEALED}}) {
      if (!(types & t)) continue;
      const fs::path here = t == SEALHOST_FT_SEALED  ? *sealed
                            : t == SEALHOST_FT_CACHE ? *cache
                                                     : *unsealed;
      const auto* on_dest = location_of(locs, t, *in.move_to);
      if (!on_dest || !same_file(on_dest->local_path, here)) {
        to_move |= t;
        out.bytes_moved += tree_bytes(here);
      }
    }
    if (to_move) {
      job.check_cancel(what);
      sdk::JobRelay relay(job, "move to " + *in.move_to);
      st->move(ref, to_move, *in.move_to, relay.c());
      out.moved = true;
    }
    const auto after = st->find(ref, types);
    auto moved_to = [&](uint32_t t) -> std::string {
      const auto* l = location_of(after, t, *in.move_to);
      if (!l) {
        throw sdk::io_error(what + ": " + st->id() + " reported the move done but holds no " +
                            sdk::file_type_name(t) + " file on " + *in.move_to +
                            " (check the storage path and rerun finalize)");
      }
      return l->local_path;
    };
    out.sealed_path = moved_to(SEALHOST_FT_SEALED);
    out.cache_dir = moved_to(SEALHOST_FT_CACHE);
    if (unsealed) out.unsealed_path = moved_to(SEALHOST_FT_UNSEALED);
    out.path_id = *in.move_to;
  }

  out.kept.push_back(out.sealed_path);
  for (const auto& n : names) out.kept.push_back((fs::path(out.cache_dir) / n).string());
  out.kept.push_back((fs::path(out.cache_dir) / kPAux).string());
  if (has_t_aux) out.kept.push_back((fs::path(out.cache_dir) / kTAux).string());
  if (out.unsealed_path) out.kept.push_back(*out.unsealed_path);
  job.progress(3, 3, "done");
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_.info(what + ": removed " + std::to_string(out.removed.size()) + " file(s), " +
            std::to_string(out.bytes_freed) + " bytes freed" +
            (out.moved ? ", moved " + std::to_string(out.bytes_moved) + " bytes to " + *in.move_to
                       : std::string()) +
            "; sector at " + out.sealed_path);
  return out;
}

}  // namespace sealhost::stage_finalize
