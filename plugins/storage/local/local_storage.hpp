// sealhost.storage.local: sector files on local (or network-mounted) filesystem paths, laid out as
// Lotus lays out its storage paths, so a path can move between a Lotus miner and sealhost as is:
//
//   <path>/sectorstore.json                {"ID": <uuid>, "Weight", "CanSeal", "CanStore", ...}
//   <path>/unsealed/s-t0<miner>-<number>   file
//   <path>/sealed/s-t0<miner>-<number>     file
//   <path>/cache/s-t0<miner>-<number>/     directory (trees, p_aux, t_aux)
//   <path>/update/s-t0<miner>-<number>     file (SnapDeals replica)
//   <path>/update-cache/s-t0<miner>-<number>/
//
// Space accounting. Each path's `used` is the on-disk size of everything in those five
// directories (walked on attach, stat, list, and after move/remove). allocate() reserves Lotus's
// estimate of the bytes the new files will reach; a reservation counts only the part not yet
// written, so a file being filled is never charged twice (once by the filesystem, once by the
// reservation). available = min(filesystem free - reserve_headroom, MaxStorage - used) - reserved.
//
// Threading: every method may be called from several threads at once. One mutex guards the path
// table and the reservations; directory walks and copies run outside it.
#pragma once

#include "plugins/storage/local/fs_ops.hpp"
#include "plugins/storage/local/options.hpp"
#include "plugins/storage/local/sector_store_meta.hpp"

#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>
#include <sealhost/sdk/storage.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sealhost::storage_local {

// Lotus's directory name for one SEALHOST_FT_* bit ("unsealed", ..., "update-cache").
std::string_view file_type_dir(uint32_t file_type);
// Lotus's sector file name: "s-t0<miner>-<number>".
std::string sector_name(const sdk::SectorRef& sector);
// True for the file types stored as directories (cache, update-cache).
bool is_dir_type(uint32_t file_type);

// Bytes a file of `file_type` is expected to reach, per Lotus's overhead tables
// (storiface.FSOverheadSeal / FsOverheadFinalized, in tenths of the sector size):
//   sealing: unsealed, sealed, update 1.0x; cache 14.1x (11 SDR layers + tree D (2x) + tree C +
//            tree R); update-cache 2.1x
//   storage: unsealed, sealed, update 1.0x; cache, update-cache 0.1x (tree R last + p_aux/t_aux)
uint64_t estimate_bytes(uint32_t file_type, int32_t role, uint64_t sector_size);

class LocalStorage {
 public:
  static constexpr const char* kId = "sealhost.storage.local";

  // Knobs that are not user options; tests use them to exercise the copy path of move() on one
  // filesystem and to make cancellation land inside a file.
  struct Tuning {
    bool rename_within_filesystem = true;  // move by rename(2) when source and dest share a device
    size_t copy_chunk = size_t{8} << 20;   // bytes copied between two cancel checks
  };

  explicit LocalStorage(const sdk::Context& ctx);
  LocalStorage(const sdk::Context& ctx, Tuning tuning);
  ~LocalStorage();
  LocalStorage(const LocalStorage&) = delete;
  LocalStorage& operator=(const LocalStorage&) = delete;

  // The storage component contract (see sealhost_storage_vtable in abi.h). All throw sdk::Error.
  sdk::PathInfo attach(const sdk::AttachRequest& req);
  void detach(std::string_view id_or_location);
  std::vector<sdk::PathInfo> list();
  sdk::PathInfo stat(std::string_view path_id);
  sdk::Allocation allocate(const sdk::SectorRef& sector, uint32_t file_types, int32_t role);
  void release(uint64_t reservation_id);
  std::vector<sdk::Location> find(const sdk::SectorRef& sector, uint32_t file_types);
  void move(const sdk::SectorRef& sector, uint32_t file_types, std::string_view dest_path_id,
            const sdk::Job& job);
  void remove(const sdk::SectorRef& sector, uint32_t file_types);
  void read_range(const sdk::SectorRef& sector, uint32_t file_type, std::string_view name,
                  uint64_t offset, uint8_t* buf, size_t len);

  const LocalOptions& options() const { return options_; }

 private:
  struct StoragePath;
  struct ReservedFile {
    uint32_t file_type;
    std::filesystem::path file;  // final name
    std::filesystem::path temp;  // name while a move copies into it, else empty
    uint64_t bytes;              // estimate (allocate) or exact size (move)
  };
  struct Reservation {
    std::shared_ptr<StoragePath> path;
    std::vector<ReservedFile> files;
  };
  struct Space;
  using SectorKey = std::pair<uint64_t, uint64_t>;  // miner, number

  Space space_locked(const StoragePath& p) const;
  sdk::PathInfo info_locked(const StoragePath& p) const;
  std::shared_ptr<StoragePath> by_id_locked(std::string_view id) const;
  std::vector<std::shared_ptr<StoragePath>> snapshot() const;
  void refresh_used(const std::vector<std::shared_ptr<StoragePath>>& paths);
  uint64_t reserve_locked(std::shared_ptr<StoragePath> path, std::vector<ReservedFile> files);
  void close_reservation_locked(std::map<uint64_t, Reservation>::iterator it);
  // The open reservation entry for `file` on `path`, or null.
  ReservedFile* covering_locked(const StoragePath& path, const std::filesystem::path& file);
  void refresh_used_after_change(const std::vector<std::shared_ptr<StoragePath>>& paths);
  // Moves one file; returns how ("renamed", "copied", "finished an earlier move").
  const char* move_one(const sdk::SectorRef& sector, uint32_t file_type,
                       const std::shared_ptr<StoragePath>& src,
                       const std::shared_ptr<StoragePath>& dest, fs::CopyState& copy,
                       bool by_rename);

  sdk::Logger log_;
  LocalOptions options_;
  Tuning tuning_;

  std::mutex attach_mu_;  // serialises attach() so two calls cannot initialise one directory
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<StoragePath>> paths_;  // attach order
  std::map<uint64_t, Reservation> reservations_;
  uint64_t next_reservation_ = 1;  // 0 is never a valid id
  std::set<SectorKey> moving_;     // sectors with a move in progress
};

}  // namespace sealhost::storage_local
