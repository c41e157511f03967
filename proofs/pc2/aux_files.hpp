// The PC2 cache-directory metadata files `p_aux` and `t_aux`, byte-compatible with rust-fil-proofs
// (filecoin-proofs api/util.rs persist_p_aux / persist_t_aux; bincode 1.3 default options:
// little-endian fixed-width integers, u64 length prefixes, usize as u64, Option = 1 tag byte then
// the value, PathBuf as a UTF-8 string, PhantomData as nothing). See /work/shared/spec/sdr.md §12.
//
// p_aux (64 bytes):  comm_c (32, LE field element) || comm_r_last (32)
//
// t_aux:  Labels { Vec<StoreConfig> }         u64 L, then L StoreConfigs ("layer-1" .. "layer-L")
//         StoreConfig tree_d_config           id "tree-d"
//         StoreConfig tree_r_last_config      id "tree-r-last"
//         StoreConfig tree_c_config           id "tree-c"
// StoreConfig = path   (u64 byte length + UTF-8 bytes: the cache directory)
//               id     (u64 byte length + bytes)
//               size   (u8 0 = None | u8 1 then u64 node count)
//               rows_to_discard (u64)
//
// All functions throw AuxError (naming the file) on I/O failure or malformed content. Writers go
// through a temporary name and rename, so a reader never sees a half-written file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "proofs/merkle/merkle.hpp"

namespace sealhost::proofs::pc2 {

class AuxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kPAuxFileName = "p_aux";
inline constexpr const char* kTAuxFileName = "t_aux";

struct PersistentAux {
  merkle::Node comm_c{};
  merkle::Node comm_r_last{};
  friend bool operator==(const PersistentAux&, const PersistentAux&) = default;
};

// merkletree::store::StoreConfig.
struct StoreConfig {
  std::string path;
  std::string id;
  std::optional<uint64_t> size;
  uint64_t rows_to_discard = 0;
  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

struct TemporaryAux {
  std::vector<StoreConfig> labels;
  StoreConfig tree_d;
  StoreConfig tree_r_last;
  StoreConfig tree_c;
  friend bool operator==(const TemporaryAux&, const TemporaryAux&) = default;
};

std::vector<uint8_t> serialize_p_aux(const PersistentAux& aux);
// Throws AuxError unless `bytes` is exactly 64 bytes of two canonical field elements.
PersistentAux parse_p_aux(const std::vector<uint8_t>& bytes, const std::string& what = "p_aux");

std::vector<uint8_t> serialize_t_aux(const TemporaryAux& aux);
// Strict: rejects truncation, trailing bytes, option tags other than 0/1 and absurd lengths.
TemporaryAux parse_t_aux(const std::vector<uint8_t>& bytes, const std::string& what = "t_aux");

// The TemporaryAux rust-fil-proofs writes after PC2 of a sector of `sector_bytes` with `layers`
// layers in `cache_dir`: layer configs of `nodes` nodes, tree_d of 2*nodes-1, tree_c and
// tree_r_last of tree_len(base_leaves, 8) nodes, tree_r_last with the default rows_to_discard.
TemporaryAux default_t_aux(const std::filesystem::path& cache_dir, uint64_t sector_bytes,
                           size_t layers);

// File helpers: `write_*` writes `<dir>/<name>` through `<name>.tmp` + rename; `read_*` parses.
void write_p_aux(const std::filesystem::path& cache_dir, const PersistentAux& aux);
PersistentAux read_p_aux(const std::filesystem::path& cache_dir);
void write_t_aux(const std::filesystem::path& cache_dir, const TemporaryAux& aux);
TemporaryAux read_t_aux(const std::filesystem::path& cache_dir);

// Writes `bytes` to `path` (created or truncated) and fsyncs it. Throws AuxError.
void write_file_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, uint64_t max_bytes);

}  // namespace sealhost::proofs::pc2
