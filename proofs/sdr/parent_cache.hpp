// The on-disk parent cache, byte-identical to rust-fil-proofs' (spec sdr.md §7): for every node
// its 14 parents as u32 little-endian (56 bytes per node), no header, named
// `v28-sdr-parent-<Graph::cache_digest_hex()>.cache` inside a caller-given directory (Lotus and
// the Rust prover use $FIL_PROOFS_PARENT_CACHE, default /var/tmp/filecoin-parents).
//
// Creation is multi-threaded and crash-safe: the file is written under a unique temporary name in
// the same directory, fsynced and renamed, so concurrent creators and crashes never leave a
// partial file under the final name. A file of the wrong size is always regenerated; with
// `verify` its SHA-256 is checked against the upstream manifest (when the name is listed) and a
// mismatching file is regenerated with a warning.
//
// A ParentCache is a read-only memory mapping: parents() is safe from any number of threads and
// the pointers stay valid for the lifetime of the object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "proofs/sdr/graph.hpp"

namespace sealhost::proofs::sdr {

inline constexpr uint64_t kParentCacheNodeBytes = kDegree * sizeof(uint32_t);  // 56

// One entry of rust-fil-proofs' storage-proofs-porep/parent_cache.json.
struct KnownParentCacheDigest {
  std::string_view file_id;  // "v28-sdr-parent-<hex>" (without ".cache")
  std::string_view proof;    // e.g. "StackedDrg32GiBV1_1"
  std::string_view sha256_hex;
};

// The upstream manifest (production V1 and V1_1 graphs; synthetic graphs are not listed).
std::span<const KnownParentCacheDigest> known_parent_cache_digests();
// The digest for a file id or file name ("...cache" suffix allowed), if listed.
std::optional<std::string_view> known_parent_cache_digest(std::string_view file_id_or_name);

// "v28-sdr-parent-<hex>.cache" for the graph.
std::string parent_cache_file_name(const Graph& graph);

struct ParentCacheOptions {
  // Check the SHA-256 of an existing file (or of a fresh one) against the manifest. Reading the
  // whole file costs ~1 s per GiB.
  bool verify = false;
  // Threads for generation; 0 = std::thread::hardware_concurrency().
  unsigned threads = 0;
  // Receives warnings (regeneration of a corrupt or wrong-size file). Default: stderr.
  std::function<void(std::string_view)> warn;
};

class ParentCache {
 public:
  // Opens `dir/parent_cache_file_name(graph)`, creating `dir` and the file when needed.
  // Throws SdrError on I/O failure, or when a freshly generated file fails verification.
  static ParentCache open_or_create(const Graph& graph, const std::filesystem::path& dir,
                                    const ParentCacheOptions& options = {});

  // Writes the cache content of `graph` to `path` (truncating it); no rename, no mapping. Used by
  // open_or_create and by tools.
  static void generate(const Graph& graph, const std::filesystem::path& path, unsigned threads);

  ParentCache(ParentCache&& other) noexcept;
  ParentCache& operator=(ParentCache&& other) noexcept;
  ParentCache(const ParentCache&) = delete;
  ParentCache& operator=(const ParentCache&) = delete;
  ~ParentCache();

  // The 14 parents of `node` (< nodes()), as in Graph::parents (little-endian u32 in the file,
  // native on the x86-64/aarch64 little-endian hosts we build for).
  const uint32_t* parents(uint64_t node) const { return data_ + node * kDegree; }
  uint64_t nodes() const { return nodes_; }
  ApiVersion api_version() const { return api_; }
  const PorepId& porep_id() const { return porep_id_; }
  const std::filesystem::path& path() const { return path_; }
  // True when this open generated (or regenerated) the file.
  bool generated() const { return generated_; }
  // SHA-256 of the whole file (computed on first call, then remembered; not thread-safe on the
  // first call).
  std::string sha256_hex() const;

 private:
  ParentCache() = default;
  void unmap() noexcept;

  const uint32_t* data_ = nullptr;
  size_t map_bytes_ = 0;
  uint64_t nodes_ = 0;
  ApiVersion api_ = ApiVersion::V1_1_0;
  PorepId porep_id_{};
  std::filesystem::path path_;
  bool generated_ = false;
  mutable std::string sha256_hex_;
};

}  // namespace sealhost::proofs::sdr
