// sealhost plugin SDK: the storage component kind in C++ terms, both directions:
//  - plugin side: storage_vtable<Impl>() adapts a C++ class to sealhost_storage_vtable;
//  - host side: the same value types and conversions, used by the host's storage client.
//
// Impl methods (all may throw sdk::Error):
//   PathInfo attach(const AttachRequest&);
//   void detach(std::string_view id_or_location);
//   std::vector<PathInfo> list();
//   PathInfo stat(std::string_view path_id);
//   Allocation allocate(const SectorRef&, uint32_t file_types, int32_t role);
//   void release(uint64_t reservation_id);
//   std::vector<Location> find(const SectorRef&, uint32_t file_types);   // empty => NOT_FOUND
//   void move(const SectorRef&, uint32_t file_types, std::string_view dest_path_id, const Job&);
//   void remove(const SectorRef&, uint32_t file_types);
//   void read_range(const SectorRef&, uint32_t file_type, std::string_view name, uint64_t offset,
//                   uint8_t* buf, size_t len);
#pragma once

#include <sealhost/abi.h>
#include <sealhost/sdk/error.hpp>
#include <sealhost/sdk/host.hpp>
#include <sealhost/sdk/plugin.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::sdk {

struct SectorRef {
  uint64_t miner = 0;
  uint64_t number = 0;
  uint64_t sector_size = 0;
};

struct PathInfo {
  std::string id;
  std::string location;
  bool can_seal = false;
  bool can_store = false;
  uint64_t weight = 0;
  uint64_t max_storage = 0;
  uint64_t capacity = 0;
  uint64_t available = 0;
  uint64_t reserved = 0;
  uint64_t used = 0;
};

struct AttachRequest {
  std::string location;
  bool init = false;
  bool can_seal = true;
  bool can_store = true;
  uint64_t weight = 10;
  uint64_t max_storage = 0;
};

struct Location {
  uint32_t file_type = 0;
  std::string path_id;
  std::string local_path;
  uint64_t size = 0;
};

struct Allocation {
  uint64_t reservation_id = 0;
  std::vector<Location> locations;
};

inline const char* file_type_name(uint32_t t) {
  switch (t) {
    case SEALHOST_FT_UNSEALED:
      return "unsealed";
    case SEALHOST_FT_SEALED:
      return "sealed";
    case SEALHOST_FT_CACHE:
      return "cache";
    case SEALHOST_FT_UPDATE:
      return "update";
    case SEALHOST_FT_UPDATE_CACHE:
      return "update-cache";
    default:
      return "unknown";
  }
}
inline constexpr uint32_t kAllFileTypes = SEALHOST_FT_UNSEALED | SEALHOST_FT_SEALED |
                                          SEALHOST_FT_CACHE | SEALHOST_FT_UPDATE |
                                          SEALHOST_FT_UPDATE_CACHE;

// ---- conversions (C <-> C++) shared by both sides

inline SectorRef from_c(const sealhost_sector_ref& s) {
  return {s.miner, s.number, s.sector_size};
}
inline sealhost_sector_ref to_c(const SectorRef& s) {
  return {sizeof(sealhost_sector_ref), 0, s.miner, s.number, s.sector_size};
}
inline PathInfo from_c(const sealhost_storage_path_info& p) {
  PathInfo o;
  o.id = std::string(to_view(p.id));
  o.location = std::string(to_view(p.location));
  o.can_seal = p.can_seal != 0;
  o.can_store = p.can_store != 0;
  o.weight = p.weight;
  o.max_storage = p.max_storage;
  o.capacity = p.capacity;
  o.available = p.available;
  o.reserved = p.reserved;
  o.used = p.used;
  return o;
}
// The returned struct borrows the strings of `p`.
inline sealhost_storage_path_info to_c(const PathInfo& p) {
  sealhost_storage_path_info o{};
  o.struct_size = sizeof o;
  o.can_seal = p.can_seal;
  o.can_store = p.can_store;
  o.id = to_str(p.id);
  o.location = to_str(p.location);
  o.weight = p.weight;
  o.max_storage = p.max_storage;
  o.capacity = p.capacity;
  o.available = p.available;
  o.reserved = p.reserved;
  o.used = p.used;
  return o;
}
inline Location from_c(const sealhost_sector_location& l) {
  return {l.file_type, std::string(to_view(l.path_id)), std::string(to_view(l.local_path)), l.size};
}
inline sealhost_sector_location to_c(const Location& l) {
  return {sizeof(sealhost_sector_location), l.file_type, to_str(l.path_id), to_str(l.local_path),
          l.size};
}
inline AttachRequest from_c(const sealhost_storage_attach_params& a) {
  return {std::string(to_view(a.location)),
          a.init != 0,
          a.can_seal != 0,
          a.can_store != 0,
          a.weight,
          a.max_storage};
}
inline sealhost_storage_attach_params to_c(const AttachRequest& a) {
  return {sizeof(sealhost_storage_attach_params),
          a.init,
          a.can_seal,
          a.can_store,
          to_str(a.location),
          a.weight,
          a.max_storage};
}

namespace detail {
inline void emit(sealhost_path_cb cb, void* ctx, const PathInfo& p) {
  if (!cb) return;
  auto c = to_c(p);
  cb(ctx, &c);
}
inline void emit(sealhost_location_cb cb, void* ctx, const Location& l) {
  if (!cb) return;
  auto c = to_c(l);
  cb(ctx, &c);
}
inline void check_sector(const sealhost_sector_ref* s) {
  if (!s || s->struct_size < sizeof(sealhost_sector_ref)) {
    throw invalid_argument("sector reference missing or from an incompatible host");
  }
}
}  // namespace detail

template <class Impl>
struct StorageThunks {
  static sealhost_status attach(void* self_, const sealhost_storage_attach_params* p,
                                sealhost_path_cb cb, void* ctx, sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      if (!p || p->struct_size < sizeof(*p)) throw invalid_argument("attach: missing parameters");
      detail::emit(cb, ctx, self<Impl>(self_).attach(from_c(*p)));
    });
  }
  static sealhost_status detach(void* self_, sealhost_str id, sealhost_error_sink* err) noexcept {
    return barrier(err, [&] { self<Impl>(self_).detach(to_view(id)); });
  }
  static sealhost_status list(void* self_, sealhost_path_cb cb, void* ctx,
                              sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      for (const auto& p : self<Impl>(self_).list()) detail::emit(cb, ctx, p);
    });
  }
  static sealhost_status stat(void* self_, sealhost_str id, sealhost_path_cb cb, void* ctx,
                              sealhost_error_sink* err) noexcept {
    return barrier(err, [&] { detail::emit(cb, ctx, self<Impl>(self_).stat(to_view(id))); });
  }
  static sealhost_status allocate(void* self_, const sealhost_sector_ref* s, uint32_t types,
                                  int32_t role, uint64_t* reservation, sealhost_location_cb cb,
                                  void* ctx, sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      detail::check_sector(s);
      Allocation a = self<Impl>(self_).allocate(from_c(*s), types, role);
      if (reservation) *reservation = a.reservation_id;
      for (const auto& l : a.locations) detail::emit(cb, ctx, l);
    });
  }
  static sealhost_status release(void* self_, uint64_t id, sealhost_error_sink* err) noexcept {
    return barrier(err, [&] { self<Impl>(self_).release(id); });
  }
  static sealhost_status find(void* self_, const sealhost_sector_ref* s, uint32_t types,
                              sealhost_location_cb cb, void* ctx,
                              sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      detail::check_sector(s);
      auto found = self<Impl>(self_).find(from_c(*s), types);
      if (found.empty()) {
        throw not_found("sector " + std::to_string(s->number) +
                        ": no files of the requested types");
      }
      for (const auto& l : found) detail::emit(cb, ctx, l);
    });
  }
  static sealhost_status move(void* self_, const sealhost_sector_ref* s, uint32_t types,
                              sealhost_str dest, sealhost_job* job,
                              sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      detail::check_sector(s);
      self<Impl>(self_).move(from_c(*s), types, to_view(dest), Job(job));
    });
  }
  static sealhost_status remove(void* self_, const sealhost_sector_ref* s, uint32_t types,
                                sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      detail::check_sector(s);
      self<Impl>(self_).remove(from_c(*s), types);
    });
  }
  static sealhost_status read_range(void* self_, const sealhost_sector_ref* s, uint32_t type,
                                    sealhost_str name, uint64_t offset, uint8_t* buf, size_t len,
                                    sealhost_error_sink* err) noexcept {
    return barrier(err, [&] {
      detail::check_sector(s);
      if (!buf && len) throw invalid_argument("read_range: null buffer");
      self<Impl>(self_).read_range(from_c(*s), type, to_view(name), offset, buf, len);
    });
  }
};

template <class Impl>
inline constexpr sealhost_storage_vtable storage_vtable = {
    sizeof(sealhost_storage_vtable), 0,
    &StorageThunks<Impl>::attach,    &StorageThunks<Impl>::detach,
    &StorageThunks<Impl>::list,      &StorageThunks<Impl>::stat,
    &StorageThunks<Impl>::allocate,  &StorageThunks<Impl>::release,
    &StorageThunks<Impl>::find,      &StorageThunks<Impl>::move,
    &StorageThunks<Impl>::remove,    &StorageThunks<Impl>::read_range};

}  // namespace sealhost::sdk
