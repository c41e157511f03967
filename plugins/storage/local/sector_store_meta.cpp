#include "plugins/storage/local/sector_store_meta.hpp"

#include "plugins/storage/local/fs_ops.hpp"

#include <nlohmann/json.hpp>
#include <sealhost/sdk/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <random>

namespace sealhost::storage_local {
namespace {

using nlohmann::json;

sdk::Error malformed(const std::filesystem::path& file, const std::string& why) {
  return sdk::data_loss("storage metadata " + file.string() + ": " + why +
                        " (restore it from a backup, or fix it by hand; it is Lotus's "
                        "sectorstore.json format)");
}

template <class T>
void read_field(const json& j, const char* key, T& out, const std::filesystem::path& file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;  // Go zero value: keep the default
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    throw malformed(
        file, std::string("field \"") + key + "\" has the wrong type (" + it->type_name() + ")");
  }
}

}  // namespace

SectorStoreMeta parse_meta(std::string_view text, const std::filesystem::path& file) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw malformed(file, "not valid JSON");
  if (!j.is_object()) throw malformed(file, "not a JSON object");
  SectorStoreMeta m;
  read_field(j, "ID", m.id, file);
  read_field(j, "Weight", m.weight, file);
  read_field(j, "CanSeal", m.can_seal, file);
  read_field(j, "CanStore", m.can_store, file);
  read_field(j, "MaxStorage", m.max_storage, file);
  read_field(j, "Groups", m.groups, file);
  read_field(j, "AllowTo", m.allow_to, file);
  if (m.id.empty()) throw malformed(file, "field \"ID\" is missing or empty");
  return m;
}

std::string to_json(const SectorStoreMeta& m) {
  // ordered_json keeps Lotus's field order, so files diff cleanly against ones Lotus wrote.
  nlohmann::ordered_json j;
  j["ID"] = m.id;
  j["Weight"] = m.weight;
  j["CanSeal"] = m.can_seal;
  j["CanStore"] = m.can_store;
  j["MaxStorage"] = m.max_storage;
  j["Groups"] = m.groups;
  j["AllowTo"] = m.allow_to;
  return j.dump(2) + "\n";
}

SectorStoreMeta read_meta(const std::filesystem::path& dir) {
  const auto file = dir / kMetaFileName;
  fs::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    throw fs::os_error(
        errno, "storage metadata " + file.string() + ": cannot be opened",
        errno == ENOENT ? "attach the path with init to create it" : "check its permissions");
  }
  std::string text;
  std::array<char, 4096> buf{};
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw fs::os_error(errno, "storage metadata " + file.string() + ": read failed");
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<size_t>(n));
    if (text.size() > (1u << 20)) throw malformed(file, "larger than 1 MiB");
  }
  return parse_meta(text, file);
}

void write_meta(const std::filesystem::path& dir, const SectorStoreMeta& meta, bool fsync) {
  fs::write_file_atomic(dir / kMetaFileName, to_json(meta), fsync);
}

std::string new_uuid_v4() {
  std::random_device rd;
  std::array<uint8_t, 16> b{};
  for (size_t i = 0; i < b.size(); i += 4) {
    uint32_t r = rd();
    for (size_t k = 0; k < 4; ++k) b[i + k] = static_cast<uint8_t>(r >> (8 * k));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace sealhost::storage_local
