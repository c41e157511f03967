#include "plugins/storage/local/local_storage.hpp"

#include <sealhost/sdk/units.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <system_error>
#include <unordered_map>

namespace sealhost::storage_local {
namespace {

namespace stdfs = std::filesystem;
using sdk::units::format_size;
using sdk::units::format_size_human;

constexpr std::array<uint32_t, 5> kFileTypes = {SEALHOST_FT_UNSEALED, SEALHOST_FT_SEALED,
                                                SEALHOST_FT_CACHE, SEALHOST_FT_UPDATE,
                                                SEALHOST_FT_UPDATE_CACHE};
// Lotus's overhead tables count in tenths of the sector size.
constexpr uint64_t kOverheadDen = 10;

uint64_t sat_sub(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}
uint64_t sat_add(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

std::vector<uint32_t> type_bits(uint32_t types) {
  std::vector<uint32_t> out;
  for (uint32_t t : kFileTypes) {
    if (types & t) out.push_back(t);
  }
  return out;
}

void check_types(uint32_t types, const char* call) {
  if (types == 0 || (types & ~sdk::kAllFileTypes) != 0) {
    throw sdk::invalid_argument(std::string(call) + ": file type set " + std::to_string(types) +
                                " is empty or has unknown bits (use SEALHOST_FT_* values)");
  }
}

std::string type_list(uint32_t types) {
  std::string out;
  for (uint32_t t : type_bits(types)) {
    if (!out.empty()) out += ',';
    out += file_type_dir(t);
  }
  return out;
}

fs::Kind expected_kind(uint32_t file_type) {
  return is_dir_type(file_type) ? fs::Kind::kDirectory : fs::Kind::kFile;
}

// A path as the user gave it, made absolute and without a trailing separator.
stdfs::path normalised(std::string_view location) {
  stdfs::path p = stdfs::absolute(stdfs::path(location)).lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p;
}

void make_dir(const stdfs::path& p) {
  if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
    throw fs::os_error(errno, "directory " + p.string() + ": cannot be created",
                       "check the storage path's permissions");
  }
}

// Entries of a directory that sealhost did not create and that do not make it "in use".
bool ignorable_in_empty_dir(const stdfs::path& name) {
  return name == "lost+found";  // every freshly made ext2/3/4 filesystem has one
}

}  // namespace

std::string_view file_type_dir(uint32_t file_type) {
  // Lotus names each type's directory after the type.
  std::string_view name = sdk::file_type_name(file_type);
  if (name == "unknown") {
    throw sdk::invalid_argument("file type " + std::to_string(file_type) +
                                " is not one SEALHOST_FT_* value");
  }
  return name;
}

std::string sector_name(const sdk::SectorRef& s) {
  return "s-t0" + std::to_string(s.miner) + "-" + std::to_string(s.number);
}

bool is_dir_type(uint32_t file_type) {
  return file_type == SEALHOST_FT_CACHE || file_type == SEALHOST_FT_UPDATE_CACHE;
}

uint64_t estimate_bytes(uint32_t file_type, int32_t role, uint64_t sector_size) {
  uint64_t tenths = kOverheadDen;
  if (file_type == SEALHOST_FT_CACHE) {
    tenths = role == SEALHOST_PATH_SEALING ? 141 : 1;
  } else if (file_type == SEALHOST_FT_UPDATE_CACHE) {
    tenths = role == SEALHOST_PATH_SEALING ? 2 * kOverheadDen + 1 : 1;
  }
  // Divide first where exact: sector sizes are powers of two far above 10, so no precision is lost
  // to speak of and 64 GiB * 141 cannot overflow either way.
  return sector_size / kOverheadDen * tenths + (sector_size % kOverheadDen) * tenths / kOverheadDen;
}

// ---------------------------------------------------------------- internal types

struct LocalStorage::StoragePath {
  SectorStoreMeta meta;
  stdfs::path root;  // canonical
  std::string location;
  dev_t device = 0;
  // Guarded by LocalStorage::mu_:
  uint64_t used_unreserved = 0;  // on-disk bytes of sector files not under an open reservation
  int busy = 0;                  // moves currently reading from this path

  [[nodiscard]] stdfs::path file(uint32_t file_type, const std::string& name) const {
    return root / file_type_dir(file_type) / name;
  }
};

struct LocalStorage::Space {
  uint64_t capacity = 0;
  uint64_t used = 0;
  uint64_t reserved = 0;     // reservations not yet written
  uint64_t avail_fs = 0;     // filesystem free - headroom - reserved
  uint64_t avail_limit = 0;  // MaxStorage - used - reserved (max when unlimited)
  [[nodiscard]] uint64_t available() const { return std::min(avail_fs, avail_limit); }
};

// ---------------------------------------------------------------- construction

LocalStorage::LocalStorage(const sdk::Context& ctx) : LocalStorage(ctx, Tuning{}) {}

LocalStorage::LocalStorage(const sdk::Context& ctx, Tuning tuning)
    : log_(ctx.log), options_(LocalOptions::parse(ctx.options)), tuning_(tuning) {
  if (tuning_.copy_chunk == 0) throw sdk::invalid_argument("copy chunk must not be zero");
}

LocalStorage::~LocalStorage() = default;

// ---------------------------------------------------------------- accounting (mu_ held)

LocalStorage::Space LocalStorage::space_locked(const StoragePath& p) const {
  struct statvfs sv {};
  if (::statvfs(p.root.c_str(), &sv) != 0) {
    throw fs::os_error(errno, "storage path " + p.location + ": cannot read free space",
                       "check that it is still mounted");
  }
  Space s;
  s.capacity = static_cast<uint64_t>(sv.f_blocks) * sv.f_frsize;
  const uint64_t fs_free = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;

  uint64_t written = 0;
  for (const auto& [id, r] : reservations_) {
    if (r.path.get() != &p) continue;
    for (const auto& f : r.files) {
      uint64_t w = fs::disk_usage(f.file);
      if (!f.temp.empty()) w += fs::disk_usage(f.temp);
      written += w;
      s.reserved += sat_sub(f.bytes, w);
    }
  }
  s.used = p.used_unreserved + written;
  s.avail_fs = sat_sub(fs_free, sat_add(options_.reserve_headroom, s.reserved));
  s.avail_limit = p.meta.max_storage == 0
                      ? std::numeric_limits<uint64_t>::max()
                      : sat_sub(p.meta.max_storage, sat_add(s.used, s.reserved));
  return s;
}

sdk::PathInfo LocalStorage::info_locked(const StoragePath& p) const {
  Space s = space_locked(p);
  sdk::PathInfo i;
  i.id = p.meta.id;
  i.location = p.location;
  i.can_seal = p.meta.can_seal;
  i.can_store = p.meta.can_store;
  i.weight = p.meta.weight;
  i.max_storage = p.meta.max_storage;
  i.capacity = s.capacity;
  i.available = s.available();
  i.reserved = s.reserved;
  i.used = s.used;
  return i;
}

std::shared_ptr<LocalStorage::StoragePath> LocalStorage::by_id_locked(std::string_view id) const {
  for (const auto& p : paths_) {
    if (p->meta.id == id) return p;
  }
  return nullptr;
}

std::vector<std::shared_ptr<LocalStorage::StoragePath>> LocalStorage::snapshot() const {
  std::lock_guard lock(mu_);
  return paths_;
}

uint64_t LocalStorage::reserve_locked(std::shared_ptr<StoragePath> path,
                                      std::vector<ReservedFile> files) {
  uint64_t id = next_reservation_++;
  reservations_.emplace(id, Reservation{std::move(path), std::move(files)});
  return id;
}

LocalStorage::ReservedFile* LocalStorage::covering_locked(const StoragePath& path,
                                                          const stdfs::path& file) {
  for (auto& [id, r] : reservations_) {
    if (r.path.get() != &path) continue;
    for (auto& f : r.files) {
      if (f.file == file) return &f;
    }
  }
  return nullptr;
}

void LocalStorage::close_reservation_locked(std::map<uint64_t, Reservation>::iterator it) {
  // What was written under the reservation now counts as ordinary use of the path. A failed stat
  // only delays that until the next walk of the path.
  auto& path = *it->second.path;
  for (const auto& f : it->second.files) {
    try {
      path.used_unreserved += fs::disk_usage(f.file);
    } catch (const sdk::Error&) {
    }
  }
  reservations_.erase(it);
}

// ---------------------------------------------------------------- used-space walk

void LocalStorage::refresh_used(const std::vector<std::shared_ptr<StoragePath>>& paths) {
  // Files under open reservations are counted separately (see space_locked), so the walk notes
  // which reservation each top-level entry belongs to and leaves those out of used_unreserved.
  std::unordered_map<std::string, uint64_t> owner;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, r] : reservations_) {
      for (const auto& f : r.files) {
        owner.emplace(f.file.string(), id);
        if (!f.temp.empty()) owner.emplace(f.temp.string(), id);
      }
    }
  }
  for (const auto& p : paths) {
    uint64_t total = 0;
    std::unordered_map<uint64_t, uint64_t> by_reservation;
    for (uint32_t t : kFileTypes) {
      const stdfs::path dir = p->root / file_type_dir(t);
      std::error_code ec;
      stdfs::directory_iterator it(dir, ec);
      if (ec) {
        if (ec == std::errc::no_such_file_or_directory) continue;
        throw fs::os_error(ec.value(),
                           "storage path " + p->location + ": cannot list " + dir.string(),
                           "check its permissions and the mount");
      }
      for (; it != stdfs::directory_iterator(); it.increment(ec)) {
        const uint64_t bytes = fs::disk_usage(it->path());
        total += bytes;
        if (auto o = owner.find(it->path().string()); o != owner.end()) {
          by_reservation[o->second] += bytes;
        }
      }
      if (ec) {
        throw fs::os_error(ec.value(),
                           "storage path " + p->location + ": cannot list " + dir.string());
      }
    }
    std::lock_guard lock(mu_);
    uint64_t still_reserved = 0;
    for (const auto& [id, bytes] : by_reservation) {
      // A reservation closed during the walk already moved its bytes into used_unreserved; this
      // total counts them too, so only still-open ones are left out.
      if (reservations_.count(id)) still_reserved += bytes;
    }
    p->used_unreserved = sat_sub(total, still_reserved);
  }
}

// ---------------------------------------------------------------- attach / detach / stat

sdk::PathInfo LocalStorage::attach(const sdk::AttachRequest& req) {
  std::lock_guard attach_lock(attach_mu_);
  if (req.location.empty()) {
    throw sdk::invalid_argument("attach: empty location (give the storage path's directory)");
  }
  const stdfs::path given = normalised(req.location);
  const std::string where = "storage path " + given.string();

  std::error_code ec;
  auto st = stdfs::status(given, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw fs::os_error(ec.value(), where + ": cannot be examined",
                       "check its parent's permissions");
  }
  const bool exists = stdfs::exists(st);
  if (!exists && !req.init) {
    throw sdk::not_found(where +
                         ": does not exist (create or mount it, or attach with init to create it)");
  }
  if (exists && !stdfs::is_directory(st)) {
    throw sdk::failed_precondition(where + ": not a directory (point the location at a directory)");
  }
  const bool has_meta = exists && fs::kind_of(given / kMetaFileName) != fs::Kind::kMissing;
  if (!has_meta && !req.init) {
    throw sdk::failed_precondition(where + ": has no " + std::string(kMetaFileName) +
                                   " (attach with init to initialise it, or check the location)");
  }
  if (!has_meta && !req.can_seal && !req.can_store) {
    throw sdk::invalid_argument(where +
                                ": init needs can_seal or can_store (a path allowed to do "
                                "neither can never hold a sector)");
  }
  if (!exists) {
    stdfs::create_directories(given, ec);
    if (ec) throw fs::os_error(ec.value(), where + ": cannot be created", "check its parent");
  }

  const stdfs::path root = stdfs::canonical(given, ec);
  if (ec) throw fs::os_error(ec.value(), where + ": cannot be resolved");
  if (::access(root.c_str(), W_OK) != 0) {
    throw fs::os_error(errno, where + ": not writable",
                       "fix its permissions or mount it read-write");
  }

  SectorStoreMeta meta;
  bool created = false;
  if (has_meta) {
    meta = read_meta(root);
  } else {
    for (const auto& e : stdfs::directory_iterator(root, ec)) {
      if (ignorable_in_empty_dir(e.path().filename())) continue;
      throw sdk::failed_precondition(
          where + ": not empty and has no " + std::string(kMetaFileName) +
          " (initialise an empty directory, or attach the existing storage path that holds its " +
          std::string(kMetaFileName) + ")");
    }
    if (ec) throw fs::os_error(ec.value(), where + ": cannot be listed");
    meta.id = new_uuid_v4();
    meta.weight = req.weight;
    meta.can_seal = req.can_seal;
    meta.can_store = req.can_store;
    meta.max_storage = req.max_storage;
    created = true;
  }

  auto path = std::make_shared<StoragePath>();
  path->meta = std::move(meta);
  path->root = root;
  path->location = root.string();
  struct stat rs {};
  if (::stat(root.c_str(), &rs) != 0) throw fs::os_error(errno, where + ": cannot be examined");
  path->device = rs.st_dev;
  {
    std::lock_guard lock(mu_);
    for (const auto& q : paths_) {
      if (q->root == root) {
        throw sdk::already_exists(where + ": already attached (id " + q->meta.id + ")");
      }
      if (q->meta.id == path->meta.id) {
        throw sdk::already_exists(where + ": has id " + q->meta.id + ", which attached path " +
                                  q->location +
                                  " already uses (a copied sectorstore.json? give one of them a "
                                  "new ID)");
      }
    }
  }
  // The metadata goes first: type directories without it would make the directory look busy to
  // the next init. Lotus creates the type directories lazily; creating them now surfaces
  // permission problems at attach time rather than in the middle of sealing.
  if (created) write_meta(root, path->meta, options_.fsync);
  for (uint32_t t : kFileTypes) make_dir(root / file_type_dir(t));
  {
    std::lock_guard lock(mu_);
    space_locked(*path);  // fails now, not on first use, when free space cannot be read
    paths_.push_back(path);
  }
  try {
    refresh_used({path});
  } catch (...) {
    std::lock_guard lock(mu_);
    paths_.erase(std::find(paths_.begin(), paths_.end(), path));
    throw;
  }
  log_.info(
      std::string(created ? "initialised and attached" : "attached") + " storage path " +
      path->location + " (id " + path->meta.id + ", weight " + std::to_string(path->meta.weight) +
      (path->meta.can_seal ? ", seal" : "") + (path->meta.can_store ? ", store" : "") +
      (path->meta.max_storage ? ", max " + format_size_human(path->meta.max_storage) : "") + ")");
  std::lock_guard lock(mu_);
  return info_locked(*path);
}

void LocalStorage::detach(std::string_view id_or_location) {
  std::unique_lock lock(mu_);
  std::error_code ec;
  stdfs::path as_path;
  if (!id_or_location.empty()) {
    as_path = normalised(id_or_location);
    if (auto c = stdfs::canonical(as_path, ec); !ec) as_path = c;
  }
  auto it = std::find_if(paths_.begin(), paths_.end(), [&](const auto& p) {
    return p->meta.id == id_or_location || p->root == as_path;
  });
  if (it == paths_.end()) {
    throw sdk::not_found("storage path " + std::string(id_or_location) +
                         ": not attached (list shows the attached ids and locations)");
  }
  const auto& p = *it;
  size_t open = 0;
  for (const auto& [id, r] : reservations_) open += r.path == p;
  if (open) {
    throw sdk::failed_precondition("storage path " + p->location + ": " + std::to_string(open) +
                                   " open reservation(s) (release them, then detach)");
  }
  if (p->busy) {
    throw sdk::failed_precondition("storage path " + p->location +
                                   ": a move is reading from it (wait for it to finish)");
  }
  const std::string msg = "detached storage path " + p->location + " (id " + p->meta.id + ")";
  paths_.erase(it);
  lock.unlock();  // the host's logger is not ours to call under our lock
  log_.info(msg);
}

std::vector<sdk::PathInfo> LocalStorage::list() {
  refresh_used(snapshot());
  std::lock_guard lock(mu_);
  std::vector<sdk::PathInfo> out;
  out.reserve(paths_.size());
  for (const auto& p : paths_) out.push_back(info_locked(*p));
  return out;
}

sdk::PathInfo LocalStorage::stat(std::string_view path_id) {
  std::shared_ptr<StoragePath> p;
  {
    std::lock_guard lock(mu_);
    p = by_id_locked(path_id);
  }
  if (!p) {
    throw sdk::not_found("storage path " + std::string(path_id) +
                         ": not attached (list shows the attached ids)");
  }
  refresh_used({p});
  std::lock_guard lock(mu_);
  return info_locked(*p);
}

// ---------------------------------------------------------------- allocate / release

sdk::Allocation LocalStorage::allocate(const sdk::SectorRef& sector, uint32_t file_types,
                                       int32_t role) {
  check_types(file_types, "allocate");
  const std::string name = sector_name(sector);
  if (sector.sector_size == 0 || (sector.sector_size & (sector.sector_size - 1)) != 0) {
    throw sdk::invalid_argument("allocate: sector " + name + " has size " +
                                std::to_string(sector.sector_size) +
                                ", not a power of two (pass the proof's sector size)");
  }
  if (role != SEALHOST_PATH_SEALING && role != SEALHOST_PATH_STORAGE) {
    throw sdk::invalid_argument("allocate: role " + std::to_string(role) +
                                " is neither SEALHOST_PATH_SEALING nor SEALHOST_PATH_STORAGE");
  }
  const auto types = type_bits(file_types);
  uint64_t need = 0;
  for (uint32_t t : types) need += estimate_bytes(t, role, sector.sector_size);

  std::unique_lock lock(mu_);
  for (const auto& [id, r] : reservations_) {
    for (const auto& f : r.files) {
      if ((f.file_type & file_types) && f.file.filename() == name) {
        throw sdk::already_exists("allocate: sector " + name + " " +
                                  std::string(file_type_dir(f.file_type)) +
                                  " is already allocated on " + r.path->location +
                                  " (reservation " + std::to_string(id) + "; release it first)");
      }
    }
  }

  // Files of the sector may already exist (finalize allocates storage for sealed files, as Lotus
  // does); on the path that holds them only the part still to be written is needed.
  const bool sealing = role == SEALHOST_PATH_SEALING;
  std::shared_ptr<StoragePath> best, roomiest;
  uint64_t best_avail = 0, roomiest_avail = 0;
  for (const auto& p : paths_) {
    if (!(sealing ? p->meta.can_seal : p->meta.can_store) || p->meta.weight == 0) continue;
    uint64_t need_here = 0;
    for (uint32_t t : types) {
      need_here +=
          sat_sub(estimate_bytes(t, role, sector.sector_size), fs::disk_usage(p->file(t, name)));
    }
    const uint64_t avail = space_locked(*p).available();
    if (!roomiest || avail > roomiest_avail) {
      roomiest = p;
      roomiest_avail = avail;
    }
    if (avail < need_here) continue;
    if (!best || p->meta.weight > best->meta.weight ||
        (p->meta.weight == best->meta.weight && avail > best_avail)) {
      best = p;
      best_avail = avail;
    }
  }
  if (!roomiest) {
    throw sdk::failed_precondition(
        std::string("allocate: no attached storage path can ") + (sealing ? "seal" : "store") +
        " (attach one with " + (sealing ? "can_seal" : "can_store") + " and a non-zero weight)");
  }
  if (!best) {
    throw sdk::exhausted("no storage path can hold " + std::to_string(types.size()) + " more " +
                         (types.size() == 1 ? "file" : "files") + " of " +
                         format_size(sector.sector_size) + " sector " + name + " (need " +
                         format_size_human(need) + ", best path " + roomiest->location + " has " +
                         format_size_human(roomiest_avail) + " free): attach more storage");
  }

  sdk::Allocation a;
  std::vector<ReservedFile> files;
  for (uint32_t t : types) {
    make_dir(best->root / file_type_dir(t));
    auto f = best->file(t, name);
    const uint64_t size = fs::kind_of(f) == expected_kind(t) ? fs::logical_size(f) : 0;
    a.locations.push_back({t, best->meta.id, f.string(), size});
    files.push_back({t, std::move(f), {}, estimate_bytes(t, role, sector.sector_size)});
  }
  a.reservation_id = reserve_locked(best, std::move(files));
  lock.unlock();
  log_.debug("allocated " + type_list(file_types) + " of sector " + name + " on " + best->location +
             " (reservation " + std::to_string(a.reservation_id) + ", " + format_size_human(need) +
             ")");
  return a;
}

void LocalStorage::release(uint64_t reservation_id) {
  std::lock_guard lock(mu_);
  auto it = reservations_.find(reservation_id);
  if (it == reservations_.end()) {
    throw sdk::not_found("reservation " + std::to_string(reservation_id) +
                         ": not open (already released, or never allocated here)");
  }
  close_reservation_locked(it);
}

// ---------------------------------------------------------------- find / read_range / remove

std::vector<sdk::Location> LocalStorage::find(const sdk::SectorRef& sector, uint32_t file_types) {
  check_types(file_types, "find");
  const std::string name = sector_name(sector);
  std::vector<sdk::Location> out;
  const auto paths = snapshot();
  for (uint32_t t : type_bits(file_types)) {
    for (const auto& p : paths) {
      const auto f = p->file(t, name);
      if (fs::kind_of(f) != expected_kind(t)) continue;
      out.push_back({t, p->meta.id, f.string(), fs::logical_size(f)});
    }
  }
  return out;
}

void LocalStorage::read_range(const sdk::SectorRef& sector, uint32_t file_type,
                              std::string_view name, uint64_t offset, uint8_t* buf, size_t len) {
  if (file_type == 0 || (file_type & (file_type - 1)) != 0 ||
      (file_type & ~sdk::kAllFileTypes) != 0) {
    throw sdk::invalid_argument("read_range: file type " + std::to_string(file_type) +
                                " is not exactly one SEALHOST_FT_* value");
  }
  const std::string sname = sector_name(sector);
  const std::string what = "sector " + sname + " " + std::string(file_type_dir(file_type));
  if (is_dir_type(file_type)) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos) {
      throw sdk::invalid_argument("read_range: " + what + ": \"" + std::string(name) +
                                  "\" is not a file name (name a file directly inside the "
                                  "directory, e.g. \"p_aux\")");
    }
  } else if (!name.empty()) {
    throw sdk::invalid_argument("read_range: " + what + ": a name (\"" + std::string(name) +
                                "\") is only meaningful for cache directories; pass none");
  }

  stdfs::path file;
  for (const auto& p : snapshot()) {
    auto f = p->file(file_type, sname);
    if (is_dir_type(file_type)) f /= stdfs::path(name);
    if (fs::kind_of(f) == fs::Kind::kFile) {
      file = std::move(f);
      break;
    }
  }
  if (file.empty()) {
    throw sdk::not_found(what + (name.empty() ? "" : " " + std::string(name)) +
                         ": not on any attached storage path");
  }
  fs::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw fs::os_error(errno, what + ": " + file.string() + " cannot be opened");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw fs::os_error(errno, what + ": cannot examine " + file.string());
  const auto size = static_cast<uint64_t>(st.st_size);
  if (offset > size || len > size - offset) {
    throw sdk::out_of_range(what + ": range [" + std::to_string(offset) + ", " +
                            std::to_string(offset) + "+" + std::to_string(len) +
                            ") passes the end of " + file.string() + " (" + std::to_string(size) +
                            " bytes)");
  }
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd.get(), buf + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw fs::os_error(errno, what + ": read of " + file.string() + " failed",
                         "check the device");
    }
    if (n == 0) {
      throw sdk::io_error(what + ": " + file.string() + " shrank while being read (is a stage " +
                          "still writing it?)");
    }
    done += static_cast<size_t>(n);
  }
}

void LocalStorage::remove(const sdk::SectorRef& sector, uint32_t file_types) {
  check_types(file_types, "remove");
  const std::string name = sector_name(sector);
  {
    std::lock_guard lock(mu_);
    if (moving_.count({sector.miner, sector.number})) {
      throw sdk::failed_precondition("remove: sector " + name +
                                     " is being moved (wait for the move to finish)");
    }
  }
  std::vector<std::shared_ptr<StoragePath>> touched;
  for (const auto& p : snapshot()) {
    bool any = false;
    for (uint32_t t : type_bits(file_types)) {
      const auto f = p->file(t, name);
      if (fs::kind_of(f) == fs::Kind::kMissing) continue;
      fs::remove_tree(f);
      log_.info("removed " + f.string());
      any = true;
    }
    if (any) touched.push_back(p);
  }
  if (!touched.empty()) refresh_used_after_change(touched);
}

// ---------------------------------------------------------------- move

void LocalStorage::move(const sdk::SectorRef& sector, uint32_t file_types,
                        std::string_view dest_path_id, const sdk::Job& job) {
  check_types(file_types, "move");
  const std::string name = sector_name(sector);
  const SectorKey key{sector.miner, sector.number};

  struct Step {
    uint32_t file_type;
    std::shared_ptr<StoragePath> src;
    bool by_rename;
    uint64_t bytes;  // logical, for progress
  };
  std::vector<Step> steps;
  std::vector<stdfs::path> borrowed;  // destination files covered by the caller's allocation
  std::shared_ptr<StoragePath> dest;
  uint64_t reservation = 0;
  uint64_t copy_bytes = 0;
  {
    std::lock_guard lock(mu_);
    dest = by_id_locked(dest_path_id);
    if (!dest) {
      throw sdk::not_found("move: storage path " + std::string(dest_path_id) +
                           ": not attached (pass the id of an attached destination path)");
    }
    if (moving_.count(key)) {
      throw sdk::failed_precondition("move: sector " + name +
                                     " is already being moved (wait for that move to finish)");
    }
    uint64_t need_fs = 0, need_limit = 0;
    std::vector<ReservedFile> reserved;
    struct Cover {
      ReservedFile* file;
      uint64_t bytes;
      stdfs::path temp;
    };
    std::vector<Cover> covers;  // applied only once the move is sure to start
    for (uint32_t t : type_bits(file_types)) {
      std::vector<std::shared_ptr<StoragePath>> sources;
      for (const auto& p : paths_) {
        if (p != dest && fs::kind_of(p->file(t, name)) == expected_kind(t)) sources.push_back(p);
      }
      const bool at_dest = fs::kind_of(dest->file(t, name)) == expected_kind(t);
      if (sources.empty()) {
        if (at_dest) continue;  // already where it should be
        throw sdk::not_found("move: sector " + name + " has no " + std::string(file_type_dir(t)) +
                             " on any attached storage path (nothing to move)");
      }
      if (sources.size() > 1) {
        throw sdk::failed_precondition(
            "move: sector " + name + " has " + std::string(file_type_dir(t)) + " on " +
            std::to_string(sources.size()) + " paths (" + sources[0]->location + ", " +
            sources[1]->location + "); remove the stale copies, then move");
      }
      const auto& src = sources.front();
      const auto from = src->file(t, name);
      const bool by_rename =
          !at_dest && tuning_.rename_within_filesystem && src->device == dest->device;
      const uint64_t disk = at_dest ? 0 : fs::disk_usage(from);
      const uint64_t bytes = fs::logical_size(from);
      if (!at_dest) {
        if (!by_rename) copy_bytes += bytes;
        auto to = dest->file(t, name);
        auto temp = to.parent_path() / ("." + name + ".moving");
        // The caller may hold an allocation for this very file (Lotus's finalize: allocate on a
        // storage path, then move there). Its reservation already holds the space, so the move
        // borrows it, growing it if the file is larger than estimated, instead of holding the
        // space a second time.
        uint64_t extra = disk;
        if (auto* cover = covering_locked(*dest, to)) {
          extra = sat_sub(disk, cover->bytes);
          covers.push_back({cover, disk, temp});
          borrowed.push_back(to);
        } else {
          reserved.push_back({t, std::move(to), std::move(temp), disk});
        }
        need_limit += extra;
        if (!by_rename) need_fs += extra;
      }
      steps.push_back({t, src, by_rename, bytes});
    }
    if (steps.empty()) return;
    const Space s = space_locked(*dest);
    if (s.avail_fs < need_fs || s.avail_limit < need_limit) {
      throw sdk::exhausted("move: storage path " + dest->location + " cannot take sector " + name +
                           " (needs " + format_size_human(std::max(need_fs, need_limit)) +
                           ", has " + format_size_human(s.available()) +
                           " free): free space there or choose another path");
    }
    for (const auto& c : covers) {
      c.file->bytes = std::max(c.file->bytes, c.bytes);
      c.file->temp = c.temp;
    }
    reservation = reserve_locked(dest, std::move(reserved));
    moving_.insert(key);
    for (const auto& st : steps) ++st.src->busy;
  }

  // Undone on every exit: the destination reservation, the in-progress mark, the busy counts, the
  // temporaries noted on borrowed reservations.
  struct Cleanup {
    LocalStorage& self;
    uint64_t reservation;
    SectorKey key;
    const std::vector<Step>& steps;
    const std::vector<stdfs::path>& borrowed;
    const StoragePath& dest;
    ~Cleanup() {
      std::lock_guard lock(self.mu_);
      if (auto it = self.reservations_.find(reservation); it != self.reservations_.end()) {
        self.close_reservation_locked(it);
      }
      for (const auto& f : borrowed) {
        if (auto* cover = self.covering_locked(dest, f)) cover->temp.clear();
      }
      self.moving_.erase(key);
      for (const auto& st : steps) --st.src->busy;
    }
  } cleanup{*this, reservation, key, steps, borrowed, *dest};

  fs::CopyState copy{job, {}, copy_bytes, 0, tuning_.copy_chunk, options_.fsync};
  std::vector<std::shared_ptr<StoragePath>> touched{dest};
  for (const auto& st : steps) {
    const char* how = move_one(sector, st.file_type, st.src, dest, copy, st.by_rename);
    touched.push_back(st.src);
    log_.info("moved " + std::string(file_type_dir(st.file_type)) + " of sector " + name +
              " from " + st.src->location + " to " + dest->location + " (" +
              format_size_human(st.bytes) + ", " + how + ")");
  }
  job.progress(copy.total, copy.total, "done");
  refresh_used_after_change(touched);
}

void LocalStorage::refresh_used_after_change(
    const std::vector<std::shared_ptr<StoragePath>>& paths) {
  // The change itself succeeded; failing the call now would make the caller retry work that is
  // done. The next stat or list walks again and reports the problem.
  try {
    refresh_used(paths);
  } catch (const sdk::Error& e) {
    log_.warn(std::string("cannot recount used space: ") + e.what());
  }
}

const char* LocalStorage::move_one(const sdk::SectorRef& sector, uint32_t file_type,
                                   const std::shared_ptr<StoragePath>& src,
                                   const std::shared_ptr<StoragePath>& dest, fs::CopyState& copy,
                                   bool by_rename) {
  const std::string name = sector_name(sector);
  const std::string type(file_type_dir(file_type));
  const stdfs::path from = src->file(file_type, name);
  const stdfs::path to = dest->file(file_type, name);
  const stdfs::path temp = to.parent_path() / ("." + name + ".moving");
  const stdfs::path src_dir = from.parent_path();
  const stdfs::path dest_dir = to.parent_path();

  if (fs::kind_of(to) == expected_kind(file_type)) {
    // Only complete copies ever get the final name, so this is an earlier move that stopped after
    // its rename and before removing the source. Finish it when the sizes agree.
    const uint64_t have = fs::logical_size(to), want = fs::logical_size(from);
    if (have != want) {
      throw sdk::already_exists("move: sector " + name + " " + type + " exists on both " +
                                src->location + " (" + std::to_string(want) + " bytes) and " +
                                dest->location + " (" + std::to_string(have) +
                                " bytes); remove the wrong copy, then move");
    }
    log_.warn("move: sector " + name + " " + type + " already complete on " + dest->location +
              "; removing the leftover copy on " + src->location);
    fs::remove_tree(from);
    if (copy.fsync) fs::fsync_path(src_dir);
    return "finished an earlier move";
  }
  make_dir(dest_dir);
  copy.phase = type;

  if (by_rename) {
    if (::rename(from.c_str(), to.c_str()) == 0) {
      if (copy.fsync) {
        fs::fsync_path(dest_dir);
        fs::fsync_path(src_dir);
      }
      return "renamed";
    }
    if (errno != EXDEV) {
      throw fs::os_error(errno, "move: rename " + from.string() + " -> " + to.string() + " failed");
    }
    copy.total += fs::logical_size(from);  // two mounts of one device: copy after all
  }

  fs::remove_tree(temp);  // a leftover of a move interrupted by a crash
  try {
    if (is_dir_type(file_type)) {
      fs::copy_tree(from, temp, copy);
    } else {
      fs::copy_file(from, temp, copy);
    }
    if (::rename(temp.c_str(), to.c_str()) != 0) {
      throw fs::os_error(errno, "move: rename " + temp.string() + " -> " + to.string() + " failed");
    }
  } catch (...) {
    try {
      fs::remove_tree(temp);
    } catch (const sdk::Error& e) {
      log_.error("move: cannot remove partial copy " + temp.string() + ": " + e.what());
    }
    throw;
  }
  if (copy.fsync) fs::fsync_path(dest_dir);
  fs::remove_tree(from);
  if (copy.fsync) fs::fsync_path(src_dir);
  return "copied";
}

}  // namespace sealhost::storage_local
