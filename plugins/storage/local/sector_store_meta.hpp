// sectorstore.json: the metadata file Lotus keeps at the top of every storage path. sealhost reads
// and writes the same format so a path can move between a Lotus miner and sealhost unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sealhost::storage_local {

inline constexpr std::string_view kMetaFileName = "sectorstore.json";

// The fields of Lotus's LocalStorageMeta that sealhost uses. Missing keys take Go's zero values,
// as Lotus's json.Unmarshal would; keys sealhost does not know (AllowTypes, DenyMiners, ...) are
// ignored on read and never rewritten, because an existing file is never modified.
struct SectorStoreMeta {
  std::string id;                     // "ID": a UUID for paths sealhost creates
  uint64_t weight = 0;                // "Weight": 0 = read-only (never chosen for new files)
  bool can_seal = false;              // "CanSeal"
  bool can_store = false;             // "CanStore"
  uint64_t max_storage = 0;           // "MaxStorage": bytes of sector files allowed, 0 = unlimited
  std::vector<std::string> groups;    // "Groups"
  std::vector<std::string> allow_to;  // "AllowTo"
};

// Parses the JSON text of `file`. Throws sdk::Error(DATA_LOSS) naming the file when the text is not
// a JSON object, a field has the wrong type, or "ID" is missing or empty.
SectorStoreMeta parse_meta(std::string_view json, const std::filesystem::path& file);

// The file's JSON text, indented like Lotus writes it.
std::string to_json(const SectorStoreMeta& meta);

// Reads <dir>/sectorstore.json. Throws sdk::Error: NOT_FOUND when absent, PERMISSION/IO when it
// cannot be read, DATA_LOSS when malformed.
SectorStoreMeta read_meta(const std::filesystem::path& dir);

// Writes <dir>/sectorstore.json atomically (temp file, optional fsync, rename, optional directory
// fsync). Throws sdk::Error on failure; the directory is left without a partial file.
void write_meta(const std::filesystem::path& dir, const SectorStoreMeta& meta, bool fsync);

// A random (version 4) UUID in its canonical lower-case form, as Lotus's uuid.New() produces.
std::string new_uuid_v4();

}  // namespace sealhost::storage_local
