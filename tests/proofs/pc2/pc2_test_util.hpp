// Test helpers shared by the proofs/pc2 tests and the sealhost.stage.pc2 plugin tests: temporary
// directories, file I/O, hex/base64, synthetic PC1 outputs (layer files + unsealed data), and an
// independent in-memory PC2 reference built straight from proofs/poseidon.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "proofs/field/fr.hpp"
#include "proofs/merkle/merkle.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/poseidon/poseidon.hpp"

namespace sealhost::proofs::pc2::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sealhost-pc2-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const std::vector<uint8_t>& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << p;
}

inline std::vector<uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}
template <class C>
std::string hex(const C& c) {
  return hex(c.data(), c.size());
}

inline std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline merkle::Node node_from_hex(const std::string& s) {
  merkle::Node n{};
  const auto b = unhex(s);
  EXPECT_EQ(b.size(), 32U) << s;
  std::memcpy(n.data(), b.data(), std::min<size_t>(32, b.size()));
  return n;
}

inline std::vector<uint8_t> base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) continue;  // '=' padding and whitespace
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  return out;
}

// Random canonical nodes (top two bits clear, as labels and fr32 data have).
inline std::vector<uint8_t> random_nodes(uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> out(n * 32);
  for (size_t i = 0; i < out.size(); i += 8) {
    const uint64_t x = rng();
    std::memcpy(&out[i], &x, 8);
  }
  for (uint64_t i = 0; i < n; ++i) out[i * 32 + 31] &= 0x3f;
  return out;
}

inline std::string layer_name(size_t l) {
  return "sc-02-data-layer-" + std::to_string(l) + ".dat";
}

// Synthetic PC1 output in `dir`: `layers` random layer files and an unsealed file `unsealed`.
struct SyntheticSector {
  uint64_t sector_bytes = 0;
  size_t layers = 0;
  std::vector<std::vector<uint8_t>> labels;  // [layer-1][node*32]
  std::vector<uint8_t> unsealed;
};

inline SyntheticSector make_sector(const std::filesystem::path& cache_dir,
                                   const std::filesystem::path& unsealed_path,
                                   uint64_t sector_bytes, size_t layers, uint64_t seed) {
  SyntheticSector s{sector_bytes, layers, {}, {}};
  const uint64_t nodes = sector_bytes / 32;
  for (size_t l = 1; l <= layers; ++l) {
    s.labels.push_back(random_nodes(nodes, seed * 100 + l));
    write_file(cache_dir / layer_name(l), s.labels.back());
  }
  s.unsealed = random_nodes(nodes, seed * 100 + 99);
  write_file(unsealed_path, s.unsealed);
  return s;
}

// Independent reference: everything in memory, one hash at a time.
struct ReferencePc2 {
  merkle::Node comm_c{}, comm_r_last{}, comm_r{};
  std::vector<uint8_t> columns;
  std::vector<uint8_t> replica;
};

inline merkle::Node reference_root(const std::vector<uint8_t>& leaves, uint64_t first,
                                   uint64_t count) {
  std::vector<field::Fr> row;
  for (uint64_t i = 0; i < count; ++i) {
    row.push_back(*field::Fr::from_bytes(&leaves[(first + i) * 32]));
  }
  while (row.size() > 1) {
    std::vector<field::Fr> next;
    for (size_t i = 0; i < row.size(); i += 8) {
      next.push_back(poseidon::hash(std::span<const field::Fr>(&row[i], 8)));
    }
    row.swap(next);
  }
  return row[0].to_bytes();
}

inline merkle::Node reference_compound(const merkle::TreeShape& shape,
                                       const std::vector<uint8_t>& leaves) {
  std::vector<field::Fr> roots;
  for (size_t i = 0; i < shape.base_tree_count(); ++i) {
    const auto r = reference_root(leaves, i * shape.base_leaves, shape.base_leaves);
    roots.push_back(*field::Fr::from_bytes(r.data()));
  }
  if (shape.sub_arity == 0) return roots[0].to_bytes();
  std::vector<field::Fr> subs;
  for (size_t g = 0; g < roots.size(); g += shape.sub_arity) {
    subs.push_back(poseidon::hash(std::span<const field::Fr>(&roots[g], shape.sub_arity)));
  }
  if (shape.top_arity == 0) return subs[0].to_bytes();
  return poseidon::hash(std::span<const field::Fr>(subs)).to_bytes();
}

inline ReferencePc2 reference_pc2(const SyntheticSector& s) {
  ReferencePc2 r;
  const uint64_t nodes = s.sector_bytes / 32;
  const auto shape = merkle::TreeShape::for_sector(s.sector_bytes);
  r.columns.resize(nodes * 32);
  r.replica.resize(nodes * 32);
  for (uint64_t v = 0; v < nodes; ++v) {
    std::vector<field::Fr> col;
    for (size_t l = 0; l < s.layers; ++l)
      col.push_back(*field::Fr::from_bytes(&s.labels[l][v * 32]));
    poseidon::hash(col).to_bytes(&r.columns[v * 32]);
    const auto d = *field::Fr::from_bytes(&s.unsealed[v * 32]);
    const auto k = *field::Fr::from_bytes(&s.labels[s.layers - 1][v * 32]);
    (d + k).to_bytes(&r.replica[v * 32]);
  }
  r.comm_c = reference_compound(shape, r.columns);
  r.comm_r_last = reference_compound(shape, r.replica);
  const std::array<field::Fr, 2> cr{*field::Fr::from_bytes(r.comm_c.data()),
                                    *field::Fr::from_bytes(r.comm_r_last.data())};
  r.comm_r = poseidon::hash_merkle<2>(cr).to_bytes();
  return r;
}

// Sorted names of the entries of `dir` (to assert that nothing was left behind).
inline std::vector<std::string> list_dir(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sealhost::proofs::pc2::testing
