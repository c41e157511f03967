// Test helper: the files a sector has after PC2, with rust-fil-proofs names and exact sizes
// (spec sdr.md §12). Small files get distinct content so a test can check what survived; files
// larger than 1 MiB are sparse (ftruncate), so a 32GiB sector's set costs no disk.
#pragma once

#include "proofs/merkle/merkle.hpp"
#include "proofs/merkle/tree_store.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sealhost::stage_finalize::testing {

namespace fs = std::filesystem;

inline std::string content(uint64_t size, uint32_t seed) {
  std::string s(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

inline void make_file(const fs::path& p, uint64_t size, uint32_t seed = 1) {
  fs::create_directories(p.parent_path());
  if (size <= (1u << 20)) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content(size, seed);
  } else {
    std::ofstream(p, std::ios::binary | std::ios::trunc).close();
    if (::truncate(p.c_str(), static_cast<off_t>(size)) != 0) {
      throw std::runtime_error("truncate " + p.string());
    }
  }
}

inline std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct CacheSet {
  std::vector<fs::path> post;     // tree-r-last files, p_aux, t_aux
  std::vector<fs::path> sealing;  // layers, tree-c, tree-d (what finalize deletes)
  uint64_t sealing_bytes = 0;
};

// Fills `cache` with the post-PC2 file set of a `sector_size` sector with `layers` layers and
// writes the sealed replica at `sealed` (exact sector size).
inline CacheSet make_sector(const fs::path& cache, const fs::path& sealed, uint64_t sector_size,
                            uint32_t layers) {
  namespace m = proofs::merkle;
  CacheSet set;
  const auto shape = m::TreeShape::for_sector(sector_size);
  const size_t count = shape.base_tree_count();
  const uint64_t nodes = sector_size / 32;
  auto sealing = [&](const std::string& name, uint64_t size) {
    make_file(cache / name, size, static_cast<uint32_t>(set.sealing.size() + 100));
    set.sealing.push_back(cache / name);
    set.sealing_bytes += size;
  };
  for (uint32_t l = 1; l <= layers; ++l) {
    sealing("sc-02-data-layer-" + std::to_string(l) + ".dat", sector_size);
  }
  sealing(m::store_file_name(m::TreeId::kTreeD), (2 * nodes - 1) * 32);
  const uint64_t tree_c = m::tree_len(shape.base_leaves, 8) * 32;
  const size_t r = m::default_rows_to_discard(shape.base_leaves, 8);
  const uint64_t tree_r = m::level_cache_len(shape.base_leaves, 8, r) * 32;
  for (size_t i = 0; i < count; ++i) {
    const auto idx = count == 1 ? std::nullopt : std::optional<size_t>(i);
    sealing(m::store_file_name(m::TreeId::kTreeC, idx), tree_c);
    const fs::path p = cache / m::store_file_name(m::TreeId::kTreeRLast, idx);
    make_file(p, tree_r, static_cast<uint32_t>(i + 10));
    set.post.push_back(p);
  }
  make_file(cache / "p_aux", 64, 3);
  make_file(cache / "t_aux", 1234, 4);
  set.post.push_back(cache / "p_aux");
  set.post.push_back(cache / "t_aux");
  make_file(sealed, sector_size, 5);
  return set;
}

}  // namespace sealhost::stage_finalize::testing
