// Loads tests/vectors/commp.json and materialises the data generators described in the vector
// set's README ("repeat", "iota", "ascii", "hex", "concat", "mod", "sha512_chain").
#pragma once

#include <openssl/sha.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sealhost::testing {

inline nlohmann::json load_commp_vectors() {
  const std::string path = std::string(SEALHOST_TEST_VECTORS) + "/commp.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in)["vectors"];
}

inline std::vector<uint8_t> from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex length: " + hex);
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

template <typename Bytes>
std::string to_hex(const Bytes& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

// storacha/data-segment test/util.js deriveBuffer: each 64-byte block is SHA-512 of the previous
// 64 bytes, the first block SHA-512 of the empty string; the last block is truncated.
inline std::vector<uint8_t> sha512_chain(size_t len) {
  std::vector<uint8_t> out(len);
  std::array<uint8_t, 64> d;
  for (size_t off = 0; off < len; off += 64) {
    if (off == 0) {
      SHA512(nullptr, 0, d.data());
    } else {
      SHA512(out.data() + off - 64, 64, d.data());
    }
    std::copy_n(d.begin(), std::min<size_t>(64, len - off),
                out.begin() + static_cast<std::ptrdiff_t>(off));
  }
  return out;
}

// Total length of a generator without materialising it (for the 32/64 GiB zero pieces).
inline uint64_t generated_size(const nlohmann::json& g) {
  const std::string kind = g.at("kind");
  if (kind == "concat") {
    uint64_t n = 0;
    for (const auto& p : g.at("parts")) n += generated_size(p);
    return n;
  }
  if (kind == "ascii") return g.at("text").get<std::string>().size();
  if (kind == "hex") return g.at("hex").get<std::string>().size() / 2;
  return g.at("len").get<uint64_t>();
}

// True if the generator only produces zero bytes.
inline bool all_zero(const nlohmann::json& g) {
  const std::string kind = g.at("kind");
  if (kind == "repeat") return g.at("byte") == "00";
  if (kind == "concat") {
    for (const auto& p : g.at("parts")) {
      if (!all_zero(p)) return false;
    }
    return true;
  }
  return false;
}

inline void generate_into(const nlohmann::json& g, std::vector<uint8_t>& out) {
  const std::string kind = g.at("kind");
  if (kind == "repeat") {
    const auto b = from_hex(g.at("byte"));
    out.insert(out.end(), g.at("len").get<size_t>(), b.at(0));
  } else if (kind == "iota") {
    const size_t n = g.at("len");
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(i));
  } else if (kind == "mod") {
    const size_t n = g.at("len");
    const size_t m = g.at("modulus");
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(i % m));
  } else if (kind == "ascii") {
    const std::string t = g.at("text");
    out.insert(out.end(), t.begin(), t.end());
  } else if (kind == "hex") {
    const auto b = from_hex(g.at("hex"));
    out.insert(out.end(), b.begin(), b.end());
  } else if (kind == "concat") {
    for (const auto& p : g.at("parts")) generate_into(p, out);
  } else if (kind == "sha512_chain") {
    const auto b = sha512_chain(g.at("len"));
    out.insert(out.end(), b.begin(), b.end());
  } else {
    throw std::invalid_argument("unknown generator kind " + kind);
  }
}

inline std::vector<uint8_t> generate(const nlohmann::json& g) {
  std::vector<uint8_t> out;
  out.reserve(generated_size(g));
  generate_into(g, out);
  return out;
}

}  // namespace sealhost::testing
